//! The NSS fast cache file: every fresh cached user, group and group list, written whole
//! to a new file and renamed into place, after which the old file is marked stale so that
//! processes which still map it reopen (adjoin_idproto::cache has the format).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use adjoin_idproto::cache::{CacheBuilder, STALE_OFFSET};

use crate::error::IdentityError;
use crate::service::{Identity, unix_now};

/// Writes the fast cache file and remembers the last one written.
#[derive(Debug)]
pub struct FastCache {
    path: PathBuf,
    current: Option<File>,
}

impl FastCache {
    /// A writer for `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            current: None,
        }
    }

    /// Rebuilds the file from `identity`'s cache.
    pub fn write(&mut self, identity: &Identity) -> Result<(), IdentityError> {
        let bytes = build(identity)?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err("cannot create", dir, e))?;
        }
        let tmp = self.path.with_extension("tmp");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .read(true)
            .open(&tmp)
            .map_err(|e| err("cannot create", &tmp, e))?;
        file.write_all(&bytes)
            .map_err(|e| err("cannot write", &tmp, e))?;
        file.sync_all().map_err(|e| err("cannot sync", &tmp, e))?;
        crate::cache::set_mode(&tmp, 0o644)?;
        std::fs::rename(&tmp, &self.path)
            .map_err(|e| err("cannot rename into place", &self.path, e))?;
        if let Some(old) = self.current.replace(file) {
            // Readers that still map the old file see this and reopen the new one.
            let _ = old.write_at(&1u32.to_le_bytes(), STALE_OFFSET as u64);
        }
        Ok(())
    }

    /// Marks the current file stale and removes it (at shutdown or a flush).
    pub fn retire(&mut self) {
        if let Some(old) = self.current.take() {
            let _ = old.write_at(&1u32.to_le_bytes(), STALE_OFFSET as u64);
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn build(identity: &Identity) -> Result<Vec<u8>, IdentityError> {
    let ttl = identity.settings().cache_ttl.as_secs();
    let now = unix_now();
    let names = identity.names();
    let mut b = CacheBuilder::new(identity.settings().nss_timeout_ms);
    let cache = identity.cache();
    for u in cache.all_users()? {
        let expires = u.fetched.saturating_add(ttl);
        if expires <= now {
            continue;
        }
        let keys = names.keys(&u.value.passwd.name);
        b.add_user(&keys, &u.value.passwd, expires);
        if let Some(m) = cache.memberships(&u.value.sid)? {
            let expires = m.fetched.saturating_add(ttl);
            if expires > now {
                b.add_initgroups(&keys, &m.value, expires);
            }
        }
    }
    for g in cache.all_groups()? {
        let expires = g.fetched.saturating_add(ttl);
        if expires > now {
            b.add_group(&names.keys(&g.value.group.name), &g.value.group, expires);
        }
    }
    Ok(b.build())
}

fn err(what: &'static str, path: &Path, source: std::io::Error) -> IdentityError {
    IdentityError::File {
        what,
        path: path.display().to_string(),
        source,
    }
}
