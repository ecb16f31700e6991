//! Saved SMB connections: what `net use \\server\share` remembers and `smbshell` uses
//! when it is given no account. One JSON file per Unix user: `$ADJOIN_CONNECTIONS`, else
//! `$XDG_CONFIG_HOME/adjoin/connections.json`, else `~/.config/adjoin/connections.json`.
//!
//! The file holds NTLM passwords, so it belongs to its user and nobody else may read it:
//! it is written 0600 in a 0700 directory, whole, synced and renamed into place (a crash
//! leaves the old file or the new one, never half of one). A change is made under a lock
//! file beside it (`connections.json.lock`) held from the read to the rename, so two
//! `net use` at once both land. A file another user owns, or
//! that its group or others may read or write, is refused with the command that fixes it.
//! A connection saved without an account (Kerberos) stores no secret.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The variable that names the file (tests, or a second set of connections).
pub(crate) const ENV: &str = "ADJOIN_CONNECTIONS";
/// The most connections kept (a bound on what a command reads).
pub(crate) const MAX_SAVED: usize = 1024;
/// The largest file read.
const MAX_FILE: u64 = 1 << 20;
/// How long a change waits for another command's (a change holds the lock for a read and
/// a write, milliseconds; only a stopped process holds it longer).
const LOCK_WAIT: Duration = Duration::from_secs(10);

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
    /// Another command holds the lock file longer than [`LOCK_WAIT`].
    #[error(
        "the saved connections are being changed by another command (it holds {path}); try again, or end that command"
    )]
    Busy {
        /// The lock file.
        path: String,
    },
    /// Saving one more would pass [`MAX_SAVED`].
    #[error(
        "{MAX_SAVED} connections are saved already: delete some with net use \\\\server\\share /delete"
    )]
    Full,
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
    /// The SMB port, when not 445 (`net use --port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    /// `DOMAIN\name` for NTLM; `None`: Kerberos from the user's credential cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    /// The NTLM password (with `user`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "secret")]
    pub(crate) password: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("server", &self.server)
            .field("share", &self.share)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The password's serde form: a JSON string, read straight into zeroized memory.
mod secret {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub(super) fn serialize<S: Serializer>(
        password: &Option<Zeroizing<String>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match password {
            Some(p) => s.serialize_some(p.as_str()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Zeroizing<String>>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Zeroizing::new))
    }
}

impl Saved {
    /// `\\server\share`.
    pub(crate) fn unc(&self) -> String {
        format!(r"\\{}\{}", self.server, self.share)
    }

    /// The SMB port to reach the server on.
    pub(crate) fn port(&self) -> u16 {
        self.port.unwrap_or(445)
    }

    /// The password, for a logon.
    pub(crate) fn secret(&self) -> Option<Zeroizing<String>> {
        self.password.clone()
    }

    fn is(&self, server: &str, share: &str) -> bool {
        self.server.eq_ignore_ascii_case(server) && self.share.eq_ignore_ascii_case(share)
    }
}

/// The file's format: `connections` is a `Vec<Saved>` read, a `&[Saved]` written.
#[derive(Serialize, Deserialize)]
struct Stored<C> {
    version: u32,
    connections: C,
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
    // Read whole into memory that is zeroed when dropped: it holds the passwords.
    let mut text = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    file.take(MAX_FILE)
        .read_to_end(&mut text)
        .map_err(io(path))?;
    let stored: Stored<Vec<Saved>> =
        serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
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

/// The saved connections held for a change: [`Locked::load`], edit, [`Locked::store`];
/// no other command changes them until this is dropped.
pub(crate) struct Locked {
    path: PathBuf,
    _lock: File,
}

/// Takes the lock file beside the saved connections, waiting at most [`LOCK_WAIT`] (the
/// thread sleeps meanwhile: this is for a command's one task, not for a server).
pub(crate) fn lock() -> Result<Locked, ConnectionsError> {
    lock_at(&path()?, LOCK_WAIT)
}

fn lock_at(path: &Path, wait: Duration) -> Result<Locked, ConnectionsError> {
    private_dir(path)?;
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(ConnectionsError::Busy {
                    path: lock_path.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
    }
    Ok(Locked {
        path: path.to_owned(),
        _lock: file,
    })
}

impl Locked {
    /// The saved connections as they are now.
    pub(crate) fn load(&self) -> Result<Vec<Saved>, ConnectionsError> {
        load_from(&self.path)
    }

    /// Replaces the saved connections with `all`.
    pub(crate) fn store(&self, all: &[Saved]) -> Result<(), ConnectionsError> {
        store_to(&self.path, all)
    }
}

/// Creates the file's directory, 0700, if it is missing.
fn private_dir(path: &Path) -> Result<(), ConnectionsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))
}

fn store_to(path: &Path, all: &[Saved]) -> Result<(), ConnectionsError> {
    private_dir(path)?;
    let stored = Stored {
        version: 1,
        connections: all,
    };
    // Room for all of it up front, so that growing leaves no copy of a password behind.
    let mut text = Zeroizing::new(Vec::with_capacity(4096 + 1024 * all.len()));
    serde_json::to_writer_pretty(&mut *text, &stored).map_err(|e| ConnectionsError::Corrupt {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    text.push(b'\n');
    adjoin_auth::keytab::write_private_file(path, &text).map_err(io(path))
}

/// The saved connection for `share` on `server`, else one to another share of the same
/// server (the same account serves them), compared without regard to case.
pub(crate) fn find<'a>(all: &'a [Saved], server: &str, share: &str) -> Option<&'a Saved> {
    all.iter()
        .find(|s| s.is(server, share))
        .or_else(|| all.iter().find(|s| s.server.eq_ignore_ascii_case(server)))
}

/// Adds `saved`, replacing a connection to the same share; refused past [`MAX_SAVED`].
pub(crate) fn upsert(all: &mut Vec<Saved>, saved: Saved) -> Result<(), ConnectionsError> {
    all.retain(|s| !s.is(&saved.server, &saved.share));
    if all.len() >= MAX_SAVED {
        return Err(ConnectionsError::Full);
    }
    all.push(saved);
    Ok(())
}

/// Removes the connection to `share` on `server` and returns it, if there was one.
pub(crate) fn remove(all: &mut Vec<Saved>, server: &str, share: &str) -> Option<Saved> {
    let at = all.iter().position(|s| s.is(server, share))?;
    Some(all.remove(at))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn saved(server: &str, share: &str, user: Option<&str>) -> Saved {
        Saved {
            server: server.into(),
            share: share.into(),
            port: None,
            user: user.map(Into::into),
            password: user.map(|_| Zeroizing::new("s3cret-pw".into())),
        }
    }

    #[test]
    fn changes_made_at_once_all_land_and_a_held_lock_is_waited_for_then_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connections.json");
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let locked = lock_at(&path, Duration::from_secs(60)).unwrap();
                        let mut all = locked.load().unwrap();
                        upsert(&mut all, saved(&format!("fs{t}"), &format!("s{i}"), None)).unwrap();
                        locked.store(&all).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(load_from(&path).unwrap().len(), 100, "a change was lost");

        let held = lock_at(&path, LOCK_WAIT).unwrap();
        let started = Instant::now();
        let e = lock_at(&path, Duration::from_millis(300))
            .err()
            .expect("the lock is held");
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(matches!(e, ConnectionsError::Busy { .. }), "{e}");
        assert!(e.to_string().contains("connections.json.lock"), "{e}");
        drop(held);
        lock_at(&path, Duration::from_millis(300)).expect("taken once it is free");
    }

    #[test]
    fn connections_round_trip_private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("connections.json");
        assert!(load_from(&path).unwrap().is_empty(), "no file: none saved");
        let mut all = vec![
            saved("dc1", "sysvol", Some(r"EXAMPLE\alice")),
            saved("fs1", "data", None),
        ];
        all[1].port = Some(4450);
        store_to(&path, &all).unwrap();
        assert_eq!(load_from(&path).unwrap(), all);
        // The format: version 1; a Kerberos connection holds no account and no secret.
        let text: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(text["version"], 1);
        assert_eq!(text["connections"][0]["password"], "s3cret-pw");
        assert_eq!(text["connections"][0]["user"], r"EXAMPLE\alice");
        let kerberos = text["connections"][1].as_object().unwrap();
        let mut keys: Vec<&str> = kerberos.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["port", "server", "share"], "{text}");
        assert_eq!((all[0].port(), all[1].port()), (445, 4450));
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
        for mode in [0o640, 0o604, 0o620, 0o602] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = load_from(&path).unwrap_err().to_string();
            let fix = format!("chmod 600 {}", path.display());
            assert!(e.contains(&fix) && e.lines().count() == 1, "{mode:o}: {e}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(load_from(&path).unwrap().len(), 1);
        std::fs::write(&path, "{not json").unwrap();
        let e = load_from(&path).unwrap_err();
        assert!(matches!(e, ConnectionsError::Corrupt { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("damaged") && e.contains(&*path.to_string_lossy()),
            "{e}"
        );
        std::fs::write(&path, r#"{"version": 2, "connections": []}"#).unwrap();
        assert!(matches!(
            load_from(&path),
            Err(ConnectionsError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_file_another_user_owns_is_refused() {
        // Giving a file away takes root; elsewhere there is nothing to check.
        if !rustix::process::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connections.json");
        store_to(&path, &[saved("dc1", "sysvol", Some("alice"))]).unwrap();
        std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
        let e = load_from(&path).unwrap_err().to_string();
        assert!(
            e.contains("belongs to uid 65534") && e.contains("chown 0"),
            "{e}"
        );
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
        upsert(&mut all, saved("dc1", "sysvol", Some("carol"))).unwrap();
        assert_eq!(all.len(), 2);
        let removed = remove(&mut all, "DC1", "Sysvol").unwrap();
        assert_eq!(removed.user.as_deref(), Some("carol"));
        assert!(remove(&mut all, "dc1", "sysvol").is_none());
        let shown = format!("{:?}", all[0]);
        assert!(
            !shown.contains("s3cret") && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}
