//! The identity cache: users, groups and memberships in SQLite (root only), each with the
//! time it was fetched, so that answers keep coming when no DC does.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use adjoin_idproto::{Group, Passwd};
use adjoin_ndr::Sid;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::IdentityError;

/// A cached user: what NSS shows and what logons need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The passwd entry.
    pub passwd: Passwd,
    /// Her SID.
    pub sid: Sid,
    /// Her entry's DN.
    pub dn: String,
    /// sAMAccountName as stored (for Kerberos).
    pub sam: String,
    /// userAccountControl when fetched.
    pub uac: u32,
    /// pwdLastSet when fetched (FILETIME).
    pub pwd_last_set: u64,
}

/// A cached group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// The group entry (members as NSS shows them).
    pub group: Group,
    /// Its SID.
    pub sid: Sid,
    /// Its entry's DN.
    pub dn: String,
}

/// A cached answer and when it was fetched (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached<T> {
    /// The answer.
    pub value: T,
    /// When it came from the DC.
    pub fetched: u64,
}

/// What `adjoin cache show` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheStats {
    /// The file.
    pub path: String,
    /// Users cached.
    pub users: u64,
    /// Groups cached.
    pub groups: u64,
    /// Users whose group lists are cached.
    pub memberships: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// The cache database.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    db: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
  sid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, uid INTEGER NOT NULL UNIQUE,
  gid INTEGER NOT NULL, gecos TEXT NOT NULL, home TEXT NOT NULL, shell TEXT NOT NULL,
  dn TEXT NOT NULL, sam TEXT NOT NULL, uac INTEGER NOT NULL, pwd_last_set INTEGER NOT NULL,
  fetched INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
  sid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, gid INTEGER NOT NULL UNIQUE,
  dn TEXT NOT NULL, members TEXT NOT NULL, fetched INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (
  user_sid TEXT PRIMARY KEY, gids TEXT NOT NULL, fetched INTEGER NOT NULL);
";

impl Cache {
    /// Opens (creating) the cache at `path`, mode 0600; a missing directory is created
    /// 0755, since the NSS fast cache file beside it must be readable by every process.
    pub fn open(path: &Path) -> Result<Self, IdentityError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(dir, 0o755)?;
        }
        let db = Connection::open(path).map_err(|e| sql(path, e))?;
        set_mode(path, 0o600)?;
        db.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; {SCHEMA}"
        ))
        .map_err(|e| sql(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            db: Mutex::new(db),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, IdentityError> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        f(&db).map_err(|e| sql(&self.path, e))
    }

    /// Stores a user (replacing any entry with the same SID, name or uid).
    pub fn put_user(&self, u: &UserRecord, fetched: u64) -> Result<(), IdentityError> {
        self.with(|db| {
            db.execute(
                "DELETE FROM users WHERE sid = ?1 OR name = ?2 OR uid = ?3",
                params![u.sid.to_string(), u.passwd.name, u.passwd.uid],
            )?;
            db.execute(
                "INSERT INTO users VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    u.sid.to_string(),
                    u.passwd.name,
                    u.passwd.uid,
                    u.passwd.gid,
                    u.passwd.gecos,
                    u.passwd.dir,
                    u.passwd.shell,
                    u.dn,
                    u.sam,
                    u.uac,
                    u.pwd_last_set as i64,
                    fetched as i64
                ],
            )
            .map(drop)
        })
    }

    fn user_where(
        &self,
        clause: &str,
        arg: &dyn rusqlite::ToSql,
    ) -> Result<Option<Cached<UserRecord>>, IdentityError> {
        let query = format!(
            "SELECT sid, name, uid, gid, gecos, home, shell, dn, sam, uac, pwd_last_set, fetched FROM users WHERE {clause}"
        );
        self.with(|db| db.query_row(&query, [arg], user_row).optional())
            .map(Option::flatten)
    }

    /// The user called `name` (as NSS shows her).
    pub fn user_by_name(&self, name: &str) -> Result<Option<Cached<UserRecord>>, IdentityError> {
        self.user_where("name = ?1", &name)
    }

    /// The user with uid `uid`.
    pub fn user_by_uid(&self, uid: u32) -> Result<Option<Cached<UserRecord>>, IdentityError> {
        self.user_where("uid = ?1", &uid)
    }

    /// The user with SID `sid`.
    pub fn user_by_sid(&self, sid: &Sid) -> Result<Option<Cached<UserRecord>>, IdentityError> {
        self.user_where("sid = ?1", &sid.to_string())
    }

    /// Stores a group.
    pub fn put_group(&self, g: &GroupRecord, fetched: u64) -> Result<(), IdentityError> {
        let members = serde_json::to_string(&g.group.members).unwrap_or_else(|_| "[]".into());
        self.with(|db| {
            db.execute(
                "DELETE FROM groups WHERE sid = ?1 OR name = ?2 OR gid = ?3",
                params![g.sid.to_string(), g.group.name, g.group.gid],
            )?;
            db.execute(
                "INSERT INTO groups VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    g.sid.to_string(),
                    g.group.name,
                    g.group.gid,
                    g.dn,
                    members,
                    fetched as i64
                ],
            )
            .map(drop)
        })
    }

    fn group_where(
        &self,
        clause: &str,
        arg: &dyn rusqlite::ToSql,
    ) -> Result<Option<Cached<GroupRecord>>, IdentityError> {
        let query =
            format!("SELECT sid, name, gid, dn, members, fetched FROM groups WHERE {clause}");
        self.with(|db| db.query_row(&query, [arg], group_row).optional())
            .map(Option::flatten)
    }

    /// The group called `name`.
    pub fn group_by_name(&self, name: &str) -> Result<Option<Cached<GroupRecord>>, IdentityError> {
        self.group_where("name = ?1", &name)
    }

    /// The group with gid `gid`.
    pub fn group_by_gid(&self, gid: u32) -> Result<Option<Cached<GroupRecord>>, IdentityError> {
        self.group_where("gid = ?1", &gid)
    }

    /// Stores a user's gids (every group of her token that maps, the primary one first).
    pub fn put_memberships(
        &self,
        user: &Sid,
        gids: &[u32],
        fetched: u64,
    ) -> Result<(), IdentityError> {
        let text = serde_json::to_string(gids).unwrap_or_else(|_| "[]".into());
        self.with(|db| {
            db.execute(
                "INSERT OR REPLACE INTO memberships VALUES (?1, ?2, ?3)",
                params![user.to_string(), text, fetched as i64],
            )
            .map(drop)
        })
    }

    /// A user's cached gids.
    pub fn memberships(&self, user: &Sid) -> Result<Option<Cached<Vec<u32>>>, IdentityError> {
        self.with(|db| {
            db.query_row(
                "SELECT gids, fetched FROM memberships WHERE user_sid = ?1",
                [user.to_string()],
                |r| {
                    let gids: String = r.get(0)?;
                    let fetched: i64 = r.get(1)?;
                    Ok(Cached {
                        value: serde_json::from_str(&gids).unwrap_or_default(),
                        fetched: fetched.max(0) as u64,
                    })
                },
            )
            .optional()
        })
    }

    /// Every cached user.
    pub fn all_users(&self) -> Result<Vec<Cached<UserRecord>>, IdentityError> {
        self.with(|db| {
            let mut st = db.prepare(
                "SELECT sid, name, uid, gid, gecos, home, shell, dn, sam, uac, pwd_last_set, fetched FROM users ORDER BY name",
            )?;
            let rows = st.query_map([], user_row)?;
            Ok(rows.filter_map(|r| r.ok().flatten()).collect())
        })
    }

    /// Every cached group.
    pub fn all_groups(&self) -> Result<Vec<Cached<GroupRecord>>, IdentityError> {
        self.with(|db| {
            let mut st = db
                .prepare("SELECT sid, name, gid, dn, members, fetched FROM groups ORDER BY name")?;
            let rows = st.query_map([], group_row)?;
            Ok(rows.filter_map(|r| r.ok().flatten()).collect())
        })
    }

    /// Forgets everything.
    pub fn flush(&self) -> Result<(), IdentityError> {
        self.with(|db| {
            db.execute_batch("DELETE FROM users; DELETE FROM groups; DELETE FROM memberships;")
        })
    }

    /// Counts, for `adjoin cache show` and `status`.
    pub fn stats(&self) -> Result<CacheStats, IdentityError> {
        let count = |table: &str| {
            self.with(|db| {
                db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .map(|n| n.max(0) as u64)
        };
        Ok(CacheStats {
            path: self.path.display().to_string(),
            users: count("users")?,
            groups: count("groups")?,
            memberships: count("memberships")?,
            bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
        })
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Cached<UserRecord>>> {
    let sid: String = r.get(0)?;
    let Ok(sid) = sid.parse::<Sid>() else {
        return Ok(None);
    };
    let pwd: i64 = r.get(10)?;
    let fetched: i64 = r.get(11)?;
    Ok(Some(Cached {
        value: UserRecord {
            passwd: Passwd {
                name: r.get(1)?,
                uid: r.get(2)?,
                gid: r.get(3)?,
                gecos: r.get(4)?,
                dir: r.get(5)?,
                shell: r.get(6)?,
            },
            sid,
            dn: r.get(7)?,
            sam: r.get(8)?,
            uac: r.get(9)?,
            pwd_last_set: pwd.max(0) as u64,
        },
        fetched: fetched.max(0) as u64,
    }))
}

fn group_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Cached<GroupRecord>>> {
    let sid: String = r.get(0)?;
    let Ok(sid) = sid.parse::<Sid>() else {
        return Ok(None);
    };
    let members: String = r.get(4)?;
    let fetched: i64 = r.get(5)?;
    Ok(Some(Cached {
        value: GroupRecord {
            group: Group {
                name: r.get(1)?,
                gid: r.get(2)?,
                members: serde_json::from_str(&members).unwrap_or_default(),
            },
            sid,
            dn: r.get(3)?,
        },
        fetched: fetched.max(0) as u64,
    }))
}

fn sql(path: &Path, source: rusqlite::Error) -> IdentityError {
    IdentityError::Cache {
        path: path.display().to_string(),
        source,
    }
}

/// Creates `dir` (and its parents) with mode 0700 if it is missing.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), IdentityError> {
    create_dir(dir, 0o700)
}

/// Creates `dir` (and its parents) with `mode` if it is missing.
pub(crate) fn create_dir(dir: &Path, mode: u32) -> Result<(), IdentityError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|source| IdentityError::File {
            what: "cannot create the directory",
            path: dir.display().to_string(),
            source,
        })
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), IdentityError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        IdentityError::File {
            what: "cannot set the mode of",
            path: path.display().to_string(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> UserRecord {
        UserRecord {
            passwd: Passwd {
                name: "alice".into(),
                uid: 1_001_103,
                gid: 1_000_513,
                gecos: "Alice Liddell".into(),
                dir: "/home/EXAMPLE/alice".into(),
                shell: "/bin/bash".into(),
            },
            sid: "S-1-5-21-1-2-3-1103".parse().unwrap(),
            dn: "CN=alice,CN=Users,DC=example,DC=test".into(),
            sam: "alice".into(),
            uac: 512,
            pwd_last_set: 1,
        }
    }

    #[test]
    fn users_groups_and_memberships_round_trip_and_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/identity.db");
        let cache = Cache::open(&path).unwrap();
        let a = alice();
        cache.put_user(&a, 100).unwrap();
        assert_eq!(cache.user_by_name("alice").unwrap().unwrap().value, a);
        assert_eq!(cache.user_by_uid(1_001_103).unwrap().unwrap().fetched, 100);
        assert_eq!(cache.user_by_sid(&a.sid).unwrap().unwrap().value, a);
        // A renamed account replaces the old row instead of colliding on the SID.
        let mut renamed = a.clone();
        renamed.passwd.name = "alice2".into();
        cache.put_user(&renamed, 200).unwrap();
        assert!(cache.user_by_name("alice").unwrap().is_none());
        assert_eq!(cache.all_users().unwrap().len(), 1);

        let g = GroupRecord {
            group: Group {
                name: "engineers".into(),
                gid: 1_001_104,
                members: vec!["alice".into(), "zoë".into()],
            },
            sid: "S-1-5-21-1-2-3-1104".parse().unwrap(),
            dn: "CN=engineers,CN=Users,DC=example,DC=test".into(),
        };
        cache.put_group(&g, 100).unwrap();
        assert_eq!(cache.group_by_name("engineers").unwrap().unwrap().value, g);
        assert_eq!(cache.group_by_gid(1_001_104).unwrap().unwrap().value, g);
        cache
            .put_memberships(&a.sid, &[1_000_513, 1_001_104], 100)
            .unwrap();
        assert_eq!(
            cache.memberships(&a.sid).unwrap().unwrap().value,
            vec![1_000_513, 1_001_104]
        );
        let stats = cache.stats().unwrap();
        assert_eq!((stats.users, stats.groups, stats.memberships), (1, 1, 1));

        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        cache.flush().unwrap();
        assert!(cache.user_by_sid(&a.sid).unwrap().is_none());
        assert!(cache.memberships(&a.sid).unwrap().is_none());
    }
}
