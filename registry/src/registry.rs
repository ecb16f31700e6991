//! The public API: [`Registry`] and [`Transaction`].

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::path::{KeyPath, validate_value_name};
use crate::regfile;
use crate::schema;
use crate::store::Store;
use crate::value::Value;

/// Where the store lives when neither `--db` nor `ADJOIN_REGISTRY` says otherwise.
pub const DEFAULT_PATH: &str = "/var/lib/adjoin/registry.db";

/// The environment variable naming the store's path.
pub const PATH_ENV: &str = "ADJOIN_REGISTRY";

/// An open registry: the public database `registry.db` (0644) with the secret database
/// `registry-secret.db` (0600) attached when this process may read it.
///
/// Every write method outside a [`Transaction`] is its own atomic transaction.
#[derive(Debug)]
pub struct Registry {
    store: Store,
}

/// Several writes that become visible together or not at all, across both files.
///
/// Dropping a transaction without [`Transaction::commit`] rolls it back.
#[derive(Debug)]
pub struct Transaction<'r> {
    store: &'r Store,
    open: bool,
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// `[KEY]` sections applied.
    pub keys: usize,
    /// `[-KEY]` sections that deleted an existing key.
    pub keys_deleted: usize,
    /// Values set.
    pub values_set: usize,
    /// `"name"=-` lines applied.
    pub values_deleted: usize,
}

/// Read methods shared by [`Registry`] and [`Transaction`].
macro_rules! read_methods {
    () => {
        /// True when the key exists.
        pub fn key_exists(&self, key: &str) -> Result<bool> {
            Ok(self.store().key_id(&KeyPath::parse(key)?)?.is_some())
        }

        /// Opens a key: its path as stored (original case), or [`Error::KeyNotFound`].
        pub fn open_key(&self, key: &str) -> Result<String> {
            self.store().stored_path(&KeyPath::parse(key)?)
        }

        /// The names of a key's subkeys, sorted case-insensitively.
        pub fn subkeys(&self, key: &str) -> Result<Vec<String>> {
            self.store().subkeys(&KeyPath::parse(key)?)
        }

        /// A key's stored values (name, value), sorted case-insensitively by name.
        /// Schema defaults are not included.
        pub fn values(&self, key: &str) -> Result<Vec<(String, Value)>> {
            self.store().values(&KeyPath::parse(key)?)
        }

        /// A value, or the schema's default when it is not stored; [`Error::ValueNotFound`]
        /// when neither exists. Secret values need read access to the secret database.
        pub fn get_value(&self, key: &str, name: &str) -> Result<Value> {
            get_value(self.store(), key, name)
        }

        /// A stored value, without falling back to the schema's default.
        pub fn stored_value(&self, key: &str, name: &str) -> Result<Option<Value>> {
            self.store().stored_value(&KeyPath::parse(key)?, name)
        }
    };
}

impl Registry {
    /// Opens the store at `path`, creating the files (and their directory) when missing.
    ///
    /// A process that cannot write the files gets a read-only registry; one that cannot
    /// read the secret database gets [`Error::PermissionDenied`] for secret values only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self {
            store: Store::open(path.as_ref())?,
        })
    }

    /// Opens the store at [`Registry::default_path`].
    pub fn open_default() -> Result<Self> {
        Self::open(Self::default_path())
    }

    /// `$ADJOIN_REGISTRY` if set and not empty, else [`DEFAULT_PATH`].
    pub fn default_path() -> PathBuf {
        std::env::var_os(PATH_ENV)
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from)
    }

    /// The public database's path.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The secret database's path.
    pub fn secret_path(&self) -> &Path {
        self.store.secret_path()
    }

    /// True when this process can read secret values.
    pub fn secrets_readable(&self) -> bool {
        self.store.secrets_readable()
    }

    /// True when this process cannot change the store.
    pub fn read_only(&self) -> bool {
        self.store.read_only()
    }

    /// The store (for the shared read methods).
    fn store(&self) -> &Store {
        &self.store
    }

    read_methods!();

    /// Starts a transaction; it holds the write lock until committed or dropped.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.store.begin()?;
        Ok(Transaction {
            store: &self.store,
            open: true,
        })
    }

    /// Runs `f` in its own transaction.
    fn write<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        self.store.begin()?;
        self.store.finish(f(&self.store))
    }

    /// Creates a key and any missing parents (no error if it exists).
    pub fn create_key(&self, key: &str) -> Result<()> {
        let path = KeyPath::parse(key)?;
        self.write(|s| s.create_key(&path).map(drop))
    }

    /// Deletes a key that has no subkeys, with its values.
    pub fn delete_key(&self, key: &str) -> Result<()> {
        self.write(|s| delete_key(s, key))
    }

    /// Deletes a key with all its subkeys and values.
    pub fn delete_tree(&self, key: &str) -> Result<()> {
        self.write(|s| delete_tree(s, key))
    }

    /// Sets a value, creating the key if needed. Known settings are checked against the
    /// schema's type and range.
    pub fn set_value(&self, key: &str, name: &str, value: &Value) -> Result<()> {
        self.write(|s| set_value(s, key, name, value))
    }

    /// Deletes a value; [`Error::ValueNotFound`] if it is not stored.
    pub fn delete_value(&self, key: &str, name: &str) -> Result<()> {
        self.write(|s| delete_value(s, key, name))
    }

    /// Exports `key` (the whole hive when `None`) with its subtree as `.reg` text.
    pub fn export(&self, key: Option<&str>) -> Result<String> {
        let path = key.map_or_else(|| Ok(KeyPath::root()), KeyPath::parse)?;
        self.store.begin_read()?;
        let text = export(&self.store, &path);
        self.store.end_read();
        text
    }

    /// Imports `.reg` text: parses all of it first, then applies it in one transaction, so a
    /// malformed or refused file changes nothing.
    pub fn import(&self, text: &str) -> Result<ImportSummary> {
        let sections = regfile::parse(text)?;
        self.write(|s| apply(s, &sections))
    }

    /// SQLite's integrity check of every readable file; empty when all is well.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        self.store.integrity_check()
    }
}

impl Transaction<'_> {
    /// The store (for the shared read methods).
    fn store(&self) -> &Store {
        self.store
    }

    read_methods!();

    /// Creates a key and any missing parents.
    pub fn create_key(&self, key: &str) -> Result<()> {
        self.store.create_key(&KeyPath::parse(key)?).map(drop)
    }

    /// Deletes a key that has no subkeys, with its values.
    pub fn delete_key(&self, key: &str) -> Result<()> {
        delete_key(self.store, key)
    }

    /// Deletes a key with all its subkeys and values.
    pub fn delete_tree(&self, key: &str) -> Result<()> {
        delete_tree(self.store, key)
    }

    /// Sets a value, creating the key if needed (checked against the schema).
    pub fn set_value(&self, key: &str, name: &str, value: &Value) -> Result<()> {
        set_value(self.store, key, name, value)
    }

    /// Deletes a value; [`Error::ValueNotFound`] if it is not stored.
    pub fn delete_value(&self, key: &str, name: &str) -> Result<()> {
        delete_value(self.store, key, name)
    }

    /// Imports `.reg` text as part of this transaction.
    pub fn import(&self, text: &str) -> Result<ImportSummary> {
        apply(self.store, &regfile::parse(text)?)
    }

    /// Makes every write of the transaction durable and visible, atomically.
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.store.commit()
    }

    /// Discards every write of the transaction.
    pub fn rollback(mut self) {
        self.open = false;
        self.store.rollback();
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            self.store.rollback();
        }
    }
}

/// Stored value or schema default.
fn get_value(store: &Store, key: &str, name: &str) -> Result<Value> {
    let path = KeyPath::parse(key)?;
    if let Some(v) = store.stored_value(&path, name)? {
        return Ok(v);
    }
    schema::lookup_folded(&path.folded(), &crate::path::fold(name))
        .and_then(schema::Setting::default_value)
        .ok_or_else(|| Error::ValueNotFound {
            path: path.display(),
            name: name.to_owned(),
        })
}

/// Validates and stores a value.
fn set_value(store: &Store, key: &str, name: &str, value: &Value) -> Result<()> {
    let path = KeyPath::parse(key)?;
    let id = store.create_key(&path)?;
    put_checked(store, id, &path, name, value)
}

/// Name, data and schema checks, then the write.
fn put_checked(store: &Store, id: i64, path: &KeyPath, name: &str, value: &Value) -> Result<()> {
    validate_value_name(name)?;
    value.validate(name)?;
    let folded = path.folded();
    if let Some(setting) = schema::lookup_folded(&folded, &crate::path::fold(name)) {
        setting.check(&path.display(), name, value)?;
    }
    store.put_value(id, path, name, value)
}

/// Deletes a stored value.
fn delete_value(store: &Store, key: &str, name: &str) -> Result<()> {
    let path = KeyPath::parse(key)?;
    let id = store.existing_key_id(&path)?;
    if store.remove_value(id, &path, name)? {
        return Ok(());
    }
    Err(Error::ValueNotFound {
        path: path.display(),
        name: name.to_owned(),
    })
}

/// Deletes a leaf key.
fn delete_key(store: &Store, key: &str) -> Result<()> {
    let path = KeyPath::parse(key)?;
    let id = store.existing_key_id(&path)?;
    if store.has_subkeys(id)? {
        return Err(Error::KeyHasSubkeys {
            path: path.display(),
        });
    }
    delete_tree_at(store, &path)
}

/// Deletes a key with its subtree.
fn delete_tree(store: &Store, key: &str) -> Result<()> {
    let path = KeyPath::parse(key)?;
    store.existing_key_id(&path)?;
    delete_tree_at(store, &path)
}

/// Refuses the root, then deletes.
fn delete_tree_at(store: &Store, path: &KeyPath) -> Result<()> {
    if path.is_root() {
        return Err(Error::RootKey {
            path: path.display(),
        });
    }
    store.remove_tree(path)
}

/// Writes the `.reg` text of a subtree.
fn export(store: &Store, path: &KeyPath) -> Result<String> {
    let mut out = String::from(regfile::HEADER);
    for (id, stored) in store.subtree(path)? {
        let key = KeyPath::parse(&stored)?;
        let values = store.values_of(id, &key)?;
        regfile::write_section(&mut out, &stored, &values);
    }
    Ok(out)
}

/// Applies parsed sections; errors carry the line that caused them.
fn apply(store: &Store, sections: &[regfile::Section]) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    for section in sections {
        let at_line = |line| {
            move |e| Error::Import {
                line,
                source: Box::new(e),
            }
        };
        if section.delete {
            if store.key_id(&section.path)?.is_some() {
                delete_tree_at(store, &section.path).map_err(at_line(section.line))?;
                summary.keys_deleted += 1;
            }
            continue;
        }
        let id = store
            .create_key(&section.path)
            .map_err(at_line(section.line))?;
        summary.keys += 1;
        for entry in &section.values {
            match &entry.value {
                Some(v) => {
                    put_checked(store, id, &section.path, &entry.name, v)
                        .map_err(at_line(entry.line))?;
                    summary.values_set += 1;
                }
                None => {
                    if store
                        .remove_value(id, &section.path, &entry.name)
                        .map_err(at_line(entry.line))?
                    {
                        summary.values_deleted += 1;
                    }
                }
            }
        }
    }
    Ok(summary)
}
