//! The SQLite layer: the two database files, their tables, and row-level operations.
//!
//! Callers in this crate manage transactions; every method here runs inside whatever
//! transaction is open on the connection (or in autocommit mode for single reads).

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};

use crate::error::{Error, Result};
use crate::path::{HIVE, KeyPath, fold};
use crate::value::{Value, ValueType};

/// Mode of the public database: world-readable configuration.
const PUBLIC_MODE: u32 = 0o644;
/// Mode of the secret database: root only.
const SECRET_MODE: u32 = 0o600;
/// Mode of a store directory we create.
const DIR_MODE: u32 = 0o755;
/// The on-disk format version, in `PRAGMA user_version`.
const FORMAT_VERSION: i64 = 1;
/// How long to wait for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const CREATE_PUBLIC: &str = r"
CREATE TABLE IF NOT EXISTS main.keys (
    id      INTEGER PRIMARY KEY,
    parent  INTEGER REFERENCES keys(id),
    name    TEXT NOT NULL,
    path    TEXT NOT NULL,
    path_lc TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS main.keys_parent ON keys(parent, path_lc);
CREATE TABLE IF NOT EXISTS main.reg_values (
    key_id  INTEGER NOT NULL,
    name_lc TEXT NOT NULL,
    name    TEXT NOT NULL,
    type    INTEGER NOT NULL,
    data    BLOB,  -- BLOB affinity: values are stored exactly as bound (no numeric conversion)
    PRIMARY KEY (key_id, name_lc)
) WITHOUT ROWID;
PRAGMA main.user_version = 1;
";

const CREATE_SECRET: &str = r"
CREATE TABLE IF NOT EXISTS secret.reg_values (
    key_id  INTEGER NOT NULL,
    name_lc TEXT NOT NULL,
    name    TEXT NOT NULL,
    type    INTEGER NOT NULL,
    data    BLOB,  -- BLOB affinity: values are stored exactly as bound (no numeric conversion)
    PRIMARY KEY (key_id, name_lc)
) WITHOUT ROWID;
PRAGMA secret.user_version = 1;
";

/// Whether the secret database could be attached.
#[derive(Debug)]
enum Secrets {
    /// Attached as schema `secret`.
    Attached,
    /// Not readable by this process; the reason, for the error message.
    Denied(String),
}

/// An open store: the public database with the secret one attached when permitted.
#[derive(Debug)]
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
    secret_path: PathBuf,
    secrets: Secrets,
    read_only: bool,
}

/// The secret database's file name next to the public one: `registry.db` gives
/// `registry-secret.db`, any other name gets `-secret` appended.
pub(crate) fn secret_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let secret = match name.strip_suffix(".db") {
        Some(stem) => format!("{stem}-secret.db"),
        None => format!("{name}-secret"),
    };
    path.with_file_name(secret)
}

impl Store {
    /// Opens (creating if needed and permitted) the store at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let secret_path = secret_path_for(path);
        prepare_public_file(path)?;
        let secret_access = prepare_secret_file(&secret_path);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let read_only = conn.is_readonly("main")?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
            secret_path,
            secrets: Secrets::Denied(String::new()),
            read_only,
        };
        store.configure()?;
        store.secrets = match secret_access {
            Ok(()) => store.attach_secret()?,
            Err(reason) => Secrets::Denied(reason),
        };
        store.initialize()?;
        Ok(store)
    }

    /// Connection settings: rollback journal (see docs/registry.md for why not WAL),
    /// full fsync, busy timeout, no temporary files.
    fn configure(&self) -> Result<()> {
        // The PRAGMA rather than rusqlite's `busy_timeout`, which also clears a busy handler
        // through sqlite3_set_clientdata: SQLite 3.44's, and Debian 12's libsqlite3 is 3.40
        // (docs/decisions.md).
        self.conn.set_prepared_statement_cache_capacity(64);
        self.conn.execute_batch(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA temp_store = MEMORY; PRAGMA synchronous = FULL;",
            BUSY_TIMEOUT.as_millis()
        ))?;
        if !self.read_only {
            set_journal_mode(&self.conn, "main")?;
        }
        Ok(())
    }

    /// Attaches the secret database as schema `secret`.
    fn attach_secret(&self) -> Result<Secrets> {
        let Some(path) = self.secret_path.to_str() else {
            return Ok(Secrets::Denied("path is not UTF-8".into()));
        };
        self.conn.execute("ATTACH DATABASE ?1 AS secret", [path])?;
        self.conn
            .execute_batch("PRAGMA secret.secure_delete = ON;")?;
        if !self.conn.is_readonly("secret")? {
            set_journal_mode(&self.conn, "secret")?;
        }
        Ok(Secrets::Attached)
    }

    /// Creates the tables and the root key on first use.
    fn initialize(&self) -> Result<()> {
        let main_version = self.user_version("main")?;
        let secret_version = match self.secrets {
            Secrets::Attached => self.user_version("secret")?,
            Secrets::Denied(_) => FORMAT_VERSION,
        };
        for (version, path) in [
            (main_version, &self.path),
            (secret_version, &self.secret_path),
        ] {
            if version > FORMAT_VERSION {
                return Err(Error::UnsupportedVersion {
                    path: path.clone(),
                    version,
                });
            }
        }
        if main_version == FORMAT_VERSION && secret_version == FORMAT_VERSION {
            return Ok(());
        }
        self.begin()?;
        let created = self.create_tables();
        self.finish(created)
    }

    /// The body of [`Self::initialize`]'s transaction.
    fn create_tables(&self) -> Result<()> {
        self.conn.execute_batch(CREATE_PUBLIC)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO main.keys (id, parent, name, path, path_lc) VALUES (1, NULL, ?1, ?1, ?2)",
            (HIVE, fold(HIVE)),
        )?;
        if matches!(self.secrets, Secrets::Attached) {
            self.conn.execute_batch(CREATE_SECRET)?;
        }
        Ok(())
    }

    /// `PRAGMA <schema>.user_version`.
    fn user_version(&self, schema: &str) -> Result<i64> {
        let sql = format!("PRAGMA {schema}.user_version");
        Ok(self.conn.query_row(&sql, [], |r| r.get(0))?)
    }

    /// The public database's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The secret database's path.
    pub(crate) fn secret_path(&self) -> &Path {
        &self.secret_path
    }

    /// True when secret values can be read.
    pub(crate) fn secrets_readable(&self) -> bool {
        matches!(self.secrets, Secrets::Attached)
    }

    /// True when this process cannot write the store.
    pub(crate) fn read_only(&self) -> bool {
        self.read_only
    }

    /// Starts a write transaction, taking the write locks on both files at once.
    pub(crate) fn begin(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::PermissionDenied {
                what: "writing to the registry".into(),
                reason: format!("{} is read-only for this user", self.path.display()),
            });
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(Error::from_write)
    }

    /// Starts a read transaction, so several reads see one snapshot.
    pub(crate) fn begin_read(&self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN DEFERRED")?)
    }

    /// Ends a read transaction.
    pub(crate) fn end_read(&self) {
        self.rollback();
    }

    /// Commits on `Ok`, rolls back on `Err`, and passes the result on.
    pub(crate) fn finish<T>(&self, result: Result<T>) -> Result<T> {
        match result {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// Commits the open transaction (atomically across both files).
    pub(crate) fn commit(&self) -> Result<()> {
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.rollback();
            return Err(Error::from_write(e));
        }
        Ok(())
    }

    /// Rolls back the open transaction, if any.
    pub(crate) fn rollback(&self) {
        if !self.conn.is_autocommit() {
            // A failed rollback leaves SQLite's own automatic rollback in charge.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// Fails with a permission error when `path`'s values are secret and unreadable.
    fn require_secret_access(&self, path: &KeyPath) -> Result<bool> {
        let secret = path.is_secret();
        match &self.secrets {
            Secrets::Denied(reason) if secret => Err(Error::PermissionDenied {
                what: format!("values of secret key {}", path.display()),
                reason: format!("cannot open {}: {reason}", self.secret_path.display()),
            }),
            _ => Ok(secret),
        }
    }

    /// The id of a key, if it exists.
    pub(crate) fn key_id(&self, path: &KeyPath) -> Result<Option<i64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM main.keys WHERE path_lc = ?1")?;
        Ok(stmt.query_row([path.folded()], |r| r.get(0)).optional()?)
    }

    /// The id of a key, or [`Error::KeyNotFound`].
    pub(crate) fn existing_key_id(&self, path: &KeyPath) -> Result<i64> {
        self.key_id(path)?.ok_or_else(|| Error::KeyNotFound {
            path: path.display(),
        })
    }

    /// The stored (case-preserved) path of a key, or [`Error::KeyNotFound`].
    pub(crate) fn stored_path(&self, path: &KeyPath) -> Result<String> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path FROM main.keys WHERE path_lc = ?1")?;
        stmt.query_row([path.folded()], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::KeyNotFound {
                path: path.display(),
            })
    }

    /// Creates a key and any missing parents; returns its id.
    pub(crate) fn create_key(&self, path: &KeyPath) -> Result<i64> {
        if let Some(id) = self.key_id(path)? {
            return Ok(id);
        }
        let mut id = 1;
        let mut current = KeyPath::root();
        let mut stored = String::from(HIVE);
        for name in path.components() {
            current = current.child(name);
            match self.key_id(&current)? {
                Some(existing) => {
                    id = existing;
                    stored = self.stored_path(&current)?;
                }
                None => {
                    stored = format!("{stored}\\{name}");
                    id = self.insert_key(id, name, &stored, &current.folded())?;
                }
            }
        }
        Ok(id)
    }

    /// Inserts one key row.
    fn insert_key(&self, parent: i64, name: &str, path: &str, folded: &str) -> Result<i64> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO main.keys (parent, name, path, path_lc) VALUES (?1, ?2, ?3, ?4)",
        )?;
        stmt.execute((parent, name, path, folded))
            .map_err(Error::from_write)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The names of a key's subkeys, sorted case-insensitively.
    pub(crate) fn subkeys(&self, path: &KeyPath) -> Result<Vec<String>> {
        let id = self.existing_key_id(path)?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM main.keys WHERE parent = ?1 ORDER BY path_lc")?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every key at or below `path` as (id, stored path), parents before children and
    /// siblings' subtrees kept together.
    pub(crate) fn subtree(&self, path: &KeyPath) -> Result<Vec<(i64, String)>> {
        self.existing_key_id(path)?;
        let folded = path.folded();
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, path, path_lc FROM main.keys WHERE path_lc = ?1 \
             OR (path_lc > ?1 || '\\' AND path_lc < ?1 || ']')",
        )?;
        let rows = stmt.query_map([folded], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?))
        })?;
        let mut keys = rows.collect::<Result<Vec<(i64, String, String)>, _>>()?;
        // Sorting with the separator below every other character gives depth-first order.
        keys.sort_by_cached_key(|(_, _, lc)| lc.replace('\\', "\0"));
        Ok(keys.into_iter().map(|(id, p, _)| (id, p)).collect())
    }

    /// A key's values, sorted case-insensitively by name.
    pub(crate) fn values(&self, path: &KeyPath) -> Result<Vec<(String, Value)>> {
        let id = self.existing_key_id(path)?;
        self.values_of(id, path)
    }

    /// The values of the key with id `id` (whose path is `path`).
    pub(crate) fn values_of(&self, id: i64, path: &KeyPath) -> Result<Vec<(String, Value)>> {
        let sql = if self.require_secret_access(path)? {
            "SELECT name, type, data FROM secret.reg_values WHERE key_id = ?1 ORDER BY name_lc"
        } else {
            "SELECT name, type, data FROM main.reg_values WHERE key_id = ?1 ORDER BY name_lc"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, decode_row(r, 1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A stored value, without schema defaults.
    pub(crate) fn stored_value(&self, path: &KeyPath, name: &str) -> Result<Option<Value>> {
        // A subquery, not a join: SQLite marks this join's plan as depending on the bound
        // values, so every reuse from the statement cache would recompile it.
        let sql = if self.require_secret_access(path)? {
            "SELECT type, data FROM secret.reg_values \
             WHERE key_id = (SELECT id FROM main.keys WHERE path_lc = ?1) AND name_lc = ?2"
        } else {
            "SELECT type, data FROM main.reg_values \
             WHERE key_id = (SELECT id FROM main.keys WHERE path_lc = ?1) AND name_lc = ?2"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        Ok(stmt
            .query_row((path.folded(), fold(name)), |r| decode_row(r, 0))
            .optional()?)
    }

    /// Stores a value under the key with id `id`; an existing value keeps its name's case.
    pub(crate) fn put_value(
        &self,
        id: i64,
        path: &KeyPath,
        name: &str,
        value: &Value,
    ) -> Result<()> {
        let sql = if self.require_secret_access(path)? {
            "INSERT INTO secret.reg_values (key_id, name_lc, name, type, data) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (key_id, name_lc) DO UPDATE SET type = excluded.type, data = excluded.data"
        } else {
            "INSERT INTO main.reg_values (key_id, name_lc, name, type, data) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (key_id, name_lc) DO UPDATE SET type = excluded.type, data = excluded.data"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let ty = value.value_type().code();
        let result = match value {
            Value::Sz(s) | Value::ExpandSz(s) => stmt.execute((id, fold(name), name, ty, s)),
            Value::Dword(n) => stmt.execute((id, fold(name), name, ty, i64::from(*n))),
            Value::Qword(n) => stmt.execute((
                id,
                fold(name),
                name,
                ty,
                i64::from_ne_bytes(n.to_ne_bytes()),
            )),
            Value::MultiSz(v) => {
                stmt.execute((id, fold(name), name, ty, v.join("\0").into_bytes()))
            }
            Value::Binary(b) => stmt.execute((id, fold(name), name, ty, b)),
        };
        result.map_err(Error::from_write)?;
        Ok(())
    }

    /// Deletes a value; returns whether it existed.
    pub(crate) fn remove_value(&self, id: i64, path: &KeyPath, name: &str) -> Result<bool> {
        let sql = if self.require_secret_access(path)? {
            "DELETE FROM secret.reg_values WHERE key_id = ?1 AND name_lc = ?2"
        } else {
            "DELETE FROM main.reg_values WHERE key_id = ?1 AND name_lc = ?2"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let n = stmt.execute((id, fold(name))).map_err(Error::from_write)?;
        Ok(n > 0)
    }

    /// True when the key has at least one subkey.
    pub(crate) fn has_subkeys(&self, id: i64) -> Result<bool> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM main.keys WHERE parent = ?1)")?;
        Ok(stmt.query_row([id], |r| r.get(0))?)
    }

    /// Deletes a key with all its subkeys and values (both files).
    pub(crate) fn remove_tree(&self, path: &KeyPath) -> Result<()> {
        let folded = path.folded();
        // `Secrets` is a child of the root, so only those two subtrees hold secret values.
        let touches_secrets = path.is_secret() || path.is_root();
        if touches_secrets {
            self.require_secret_access(&KeyPath::parse(crate::path::SECRETS_KEY)?)?;
        }
        const SUBTREE: &str = "SELECT id FROM main.keys WHERE path_lc = ?1 \
             OR (path_lc > ?1 || '\\' AND path_lc < ?1 || ']')";
        let mut batch = vec![format!(
            "DELETE FROM main.reg_values WHERE key_id IN ({SUBTREE})"
        )];
        if touches_secrets {
            batch.push(format!(
                "DELETE FROM secret.reg_values WHERE key_id IN ({SUBTREE})"
            ));
        }
        batch.push(format!("DELETE FROM main.keys WHERE id IN ({SUBTREE})"));
        for sql in batch {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            stmt.execute([&folded]).map_err(Error::from_write)?;
        }
        Ok(())
    }

    /// `PRAGMA integrity_check` on every attached database: `Ok` when all say "ok".
    pub(crate) fn integrity_check(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let schemas: &[&str] = match self.secrets {
            Secrets::Attached => &["main", "secret"],
            Secrets::Denied(_) => &["main"],
        };
        for schema in schemas {
            let sql = format!("PRAGMA {schema}.integrity_check");
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for row in rows {
                let row = row?;
                if row != "ok" {
                    problems.push(format!("{schema}: {row}"));
                }
            }
        }
        Ok(problems)
    }
}

/// Sets rollback-journal mode DELETE on one schema.
fn set_journal_mode(conn: &Connection, schema: &str) -> Result<()> {
    let sql = format!("PRAGMA {schema}.journal_mode = DELETE");
    let _mode: String = conn.query_row(&sql, [], |r| r.get(0))?;
    Ok(())
}

/// Creates the public database file (0644) and its directory (0755) if missing.
fn prepare_public_file(path: &Path) -> Result<()> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
            .map_err(io_err)?;
    }
    create_with_mode(path, PUBLIC_MODE).map_err(io_err)
}

/// Creates the secret database file (0600) if missing, tightens its mode if too open,
/// and checks this process may read it. `Err` holds the reason it may not.
fn prepare_secret_file(path: &Path) -> Result<(), String> {
    if !path.exists() {
        create_with_mode(path, SECRET_MODE).map_err(|e| e.to_string())?;
    }
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        // Only the owner can fix it; others will be refused by the mode anyway.
        let _ = fs::set_permissions(path, Permissions::from_mode(SECRET_MODE));
    }
    File::open(path).map(drop).map_err(|e| e.to_string())
}

/// Creates an empty file with exactly `mode`, whatever the umask.
fn create_with_mode(path: &Path, mode: u32) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        Ok(_) => fs::set_permissions(path, Permissions::from_mode(mode)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Decodes the (type, data) columns starting at `first`.
fn decode_row(row: &Row<'_>, first: usize) -> rusqlite::Result<Value> {
    let code: u32 = row.get(first)?;
    let data = row.get_ref(first + 1)?;
    decode(code, data).map_err(|reason| {
        rusqlite::Error::FromSqlConversionFailure(
            first + 1,
            data.data_type(),
            Box::new(io::Error::new(io::ErrorKind::InvalidData, reason)),
        )
    })
}

/// Turns a stored (type, data) pair back into a value.
fn decode(code: u32, data: ValueRef<'_>) -> Result<Value, String> {
    let ty = ValueType::from_code(code).ok_or_else(|| format!("unknown stored type {code}"))?;
    let bad = || format!("stored {ty} has the wrong SQL type");
    let value = match (ty, data) {
        (ValueType::Sz, ValueRef::Text(t)) => Value::Sz(utf8(t)?),
        (ValueType::ExpandSz, ValueRef::Text(t)) => Value::ExpandSz(utf8(t)?),
        (ValueType::Dword, ValueRef::Integer(n)) => {
            Value::Dword(u32::try_from(n).map_err(|_| "stored REG_DWORD out of range".to_owned())?)
        }
        (ValueType::Qword, ValueRef::Integer(n)) => {
            Value::Qword(u64::from_ne_bytes(n.to_ne_bytes()))
        }
        (ValueType::MultiSz, ValueRef::Blob(b)) => {
            let s = utf8(b)?;
            let items = if s.is_empty() {
                Vec::new()
            } else {
                s.split('\0').map(str::to_owned).collect()
            };
            Value::MultiSz(items)
        }
        (ValueType::Binary, ValueRef::Blob(b)) => Value::Binary(b.to_vec()),
        _ => return Err(bad()),
    };
    Ok(value)
}

/// Stored bytes as a string.
fn utf8(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "stored string is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_name() {
        assert_eq!(
            secret_path_for(Path::new("/x/registry.db")),
            Path::new("/x/registry-secret.db")
        );
        assert_eq!(
            secret_path_for(Path::new("/x/reg")),
            Path::new("/x/reg-secret")
        );
    }

    #[test]
    fn files_get_their_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/registry.db");
        let store = Store::open(&path).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o644);
        assert_eq!(mode(store.secret_path()), 0o600);
        assert!(store.secrets_readable());
        assert!(store.integrity_check().unwrap().is_empty());
    }
}
