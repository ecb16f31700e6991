//! Saved SMB connections: what `net use \\server\share` remembers and `smbshell` uses
//! when it is given no account. One JSON file per Unix user: `$ADJOIN_CONNECTIONS`, else
//! `$XDG_CONFIG_HOME/adjoin/connections.json`, else `~/.config/adjoin/connections.json`.
//!
//! The file holds NTLM passwords, so it belongs to its user and nobody else may read it:
//! it is written 0600 in a 0700 directory, whole, synced and renamed into place (a crash
//! leaves the old file or the new one, never half of one). A file another user owns, or
//! that its group or others may read or write, is refused with the command that fixes it.
//! A connection saved without an account (Kerberos) stores no secret.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// The variable that names the file (tests, or a second set of connections).
pub(crate) const ENV: &str = "ADJOIN_CONNECTIONS";
/// The most connections kept (a bound on what a command reads).
pub(crate) const MAX_SAVED: usize = 1024;
/// The largest file read.
const MAX_FILE: u64 = 1 << 20;

/// Why the saved connections cannot be read or written: each names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectionsError {
    /// No home directory to keep the file in.
    #[error("no place for the saved connections: set HOME, XDG_CONFIG_HOME or {ENV}")]
    NoHome,
    /// Reading or writing failed.
    #[error("the saved connections {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        error: std::io::Error,
    },
    /// The file is not what `net use` writes.
    #[error(
        "the saved connections {path} are damaged ({detail}); remove the file and save them again with net use"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// Someone else could read the passwords in it.
    #[error("the saved connections {path} {why}: it holds passwords; fix it with: {fix}")]
    Unsafe {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
        /// The command that fixes it.
        fix: String,
    },
}

/// One saved connection.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Saved {
    /// The server, as given (`dc1.example.com`).
    pub(crate) server: String,
    /// The share.
    pub(crate) share: String,
    /// `DOMAIN\name` for NTLM; `None`: Kerberos from the user's credential cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    /// The NTLM password (with `user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) password: Option<String>,
}

impl Drop for Saved {
    fn drop(&mut self) {
        if let Some(p) = &mut self.password {
            p.zeroize();
        }
    }
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("server", &self.server)
            .field("share", &self.share)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Saved {
    /// `\\server\share`.
    pub(crate) fn unc(&self) -> String {
        format!(r"\\{}\{}", self.server, self.share)
    }

    /// The password, for a logon.
    pub(crate) fn secret(&self) -> Option<Zeroizing<String>> {
        self.password.clone().map(Zeroizing::new)
    }

    fn is(&self, server: &str, share: &str) -> bool {
        self.server.eq_ignore_ascii_case(server) && self.share.eq_ignore_ascii_case(share)
    }
}

/// The file's format.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    connections: Vec<Saved>,
}

/// The file's path.
pub(crate) fn path() -> Result<PathBuf, ConnectionsError> {
    if let Some(p) = std::env::var_os(ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|p| !p.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })
        .ok_or(ConnectionsError::NoHome)?;
    Ok(config.join("adjoin").join("connections.json"))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ConnectionsError + '_ {
    move |error| ConnectionsError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// The saved connections (none when the file does not exist).
pub(crate) fn load() -> Result<Vec<Saved>, ConnectionsError> {
    load_from(&path()?)
}

fn load_from(path: &Path) -> Result<Vec<Saved>, ConnectionsError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    let meta = file.metadata().map_err(io(path))?;
    check_private(path, &meta)?;
    let corrupt = |detail: String| ConnectionsError::Corrupt {
        path: path.display().to_string(),
        detail,
    };
    if meta.len() > MAX_FILE {
        return Err(corrupt(format!("larger than {MAX_FILE} bytes")));
    }
    let stored: Stored = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| corrupt(e.to_string()))?;
    if stored.version != 1 {
        return Err(corrupt(format!("version {}, not 1", stored.version)));
    }
    if stored.connections.len() > MAX_SAVED {
        return Err(corrupt(format!("more than {MAX_SAVED} connections")));
    }
    Ok(stored.connections)
}

/// Refuses a file another user owns or others may read or write.
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), ConnectionsError> {
    let me = rustix::process::geteuid().as_raw();
    let shown = path.display().to_string();
    if meta.uid() != me {
        return Err(ConnectionsError::Unsafe {
            why: format!("belongs to uid {}, not to you (uid {me})", meta.uid()),
            fix: format!("chown {me} {shown}"),
            path: shown,
        });
    }
    if meta.mode() & 0o077 != 0 {
        return Err(ConnectionsError::Unsafe {
            why: format!(
                "may be read or written by others (mode {:o})",
                meta.mode() & 0o777
            ),
            fix: format!("chmod 600 {shown}"),
            path: shown,
        });
    }
    Ok(())
}

/// Replaces the saved connections with `all`.
pub(crate) fn store(all: &[Saved]) -> Result<(), ConnectionsError> {
    store_to(&path()?, all)
}

fn store_to(path: &Path, all: &[Saved]) -> Result<(), ConnectionsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let stored = Stored {
        version: 1,
        connections: all.to_vec(),
    };
    let mut text = Zeroizing::new(serde_json::to_vec_pretty(&stored).map_err(|e| {
        ConnectionsError::Corrupt {
            path: path.display().to_string(),
            detail: e.to_string(),
        }
    })?);
    text.push(b'\n');
    let name = path.file_name().map_or_else(
        || "connections".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(io(path))
}

/// The saved connection for `share` on `server`, else one to another share of the same
/// server (the same account serves them), compared without regard to case.
pub(crate) fn find<'a>(all: &'a [Saved], server: &str, share: &str) -> Option<&'a Saved> {
    all.iter()
        .find(|s| s.is(server, share))
        .or_else(|| all.iter().find(|s| s.server.eq_ignore_ascii_case(server)))
}

/// Adds `saved`, replacing a connection to the same share.
pub(crate) fn upsert(all: &mut Vec<Saved>, saved: Saved) {
    all.retain(|s| !s.is(&saved.server, &saved.share));
    all.push(saved);
}

/// Removes the connection to `share` on `server`; whether there was one.
pub(crate) fn remove(all: &mut Vec<Saved>, server: &str, share: &str) -> bool {
    let before = all.len();
    all.retain(|s| !s.is(server, share));
    all.len() != before
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn saved(server: &str, share: &str, user: Option<&str>) -> Saved {
        Saved {
            server: server.into(),
            share: share.into(),
            user: user.map(Into::into),
            password: user.map(|_| "pw".into()),
        }
    }

    #[test]
    fn connections_round_trip_private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("connections.json");
        assert!(load_from(&path).unwrap().is_empty(), "no file: none saved");
        let all = vec![
            saved("dc1", "sysvol", Some(r"EXAMPLE\alice")),
            saved("fs1", "data", None),
        ];
        store_to(&path, &all).unwrap();
        assert_eq!(load_from(&path).unwrap(), all);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        // Only the file is left: no temporary beside it.
        let names = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(names, 1);
    }

    #[test]
    fn a_file_others_may_read_or_that_is_damaged_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connections.json");
        store_to(&path, &[saved("dc1", "sysvol", Some("alice"))]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_from(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "{not json").unwrap();
        let e = load_from(&path).unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("net use"), "{e}");
    }

    #[test]
    fn the_share_wins_over_another_share_of_the_server() {
        let all = vec![
            saved("DC1", "netlogon", Some("bob")),
            saved("dc1", "sysvol", Some("alice")),
        ];
        let found = find(&all, "dc1", "SYSVOL").unwrap();
        assert_eq!(found.user.as_deref(), Some("alice"));
        let found = find(&all, "dc1", "other").unwrap();
        assert_eq!(found.user.as_deref(), Some("bob"));
        assert!(find(&all, "dc2", "sysvol").is_none());
        let mut all = all;
        upsert(&mut all, saved("dc1", "sysvol", Some("carol")));
        assert_eq!(all.len(), 2);
        assert!(remove(&mut all, "DC1", "Sysvol"));
        assert!(!remove(&mut all, "dc1", "sysvol"));
        assert!(
            !format!("{:?}", all[0]).contains("pw"),
            "Debug shows no password"
        );
    }
}
