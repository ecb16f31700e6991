//! The registry's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key path is not well formed (wrong hive, empty component, ...).
    #[error("invalid key path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A value name is not acceptable.
    #[error("invalid value name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A value's data cannot be stored (for example a NUL inside a string).
    #[error("invalid data for {name:?}: {reason}")]
    InvalidData {
        /// The value name.
        name: String,
        /// What is wrong with the data.
        reason: String,
    },
    /// The key does not exist.
    #[error("key not found: {path}")]
    KeyNotFound {
        /// The key path as given.
        path: String,
    },
    /// The value does not exist (and the schema has no default for it).
    #[error("value {name:?} not found under {path}")]
    ValueNotFound {
        /// The key path.
        path: String,
        /// The value name.
        name: String,
    },
    /// `delete_key` on a key that still has subkeys.
    #[error("key {path} has subkeys; use delete_tree to delete it with its subkeys")]
    KeyHasSubkeys {
        /// The key path.
        path: String,
    },
    /// The hive's root key cannot be deleted.
    #[error("the root key {path} cannot be deleted")]
    RootKey {
        /// The root key's path.
        path: String,
    },
    /// The schema says the setting has another type.
    #[error("{path}\\{name} must be of type {expected}, not {given}")]
    TypeMismatch {
        /// The key path.
        path: String,
        /// The value name.
        name: String,
        /// The type the schema requires.
        expected: crate::ValueType,
        /// The type that was given.
        given: crate::ValueType,
    },
    /// The schema's range or list of choices refuses the value.
    #[error("{path}\\{name} = {value} is out of range: allowed {allowed}")]
    OutOfRange {
        /// The key path.
        path: String,
        /// The value name.
        name: String,
        /// The refused value, as text.
        value: String,
        /// The allowed range or choices, as text.
        allowed: String,
    },
    /// The caller may not read or write this part of the store.
    #[error("permission denied: {what} ({reason})")]
    PermissionDenied {
        /// What was refused.
        what: String,
        /// Why (usually the operating system's error).
        reason: String,
    },
    /// A `.reg` file is malformed; nothing was changed.
    #[error("line {line}, column {column}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What was expected or found.
        message: String,
    },
    /// Applying a `.reg` file failed at a given line; nothing was changed.
    #[error("line {line}: {source}")]
    Import {
        /// 1-based line number of the entry that failed.
        line: usize,
        /// Why it failed.
        source: Box<Self>,
    },
    /// The store's files could not be created or opened.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The store's database is not one this version understands.
    #[error("{path}: unsupported registry format version {version}")]
    UnsupportedVersion {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        version: i64,
    },
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The registry's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// True when the error means "not allowed" (secret values as non-root, a read-only store).
    pub fn is_permission_denied(&self) -> bool {
        match self {
            Self::PermissionDenied { .. } => true,
            Self::Import { source, .. } => source.is_permission_denied(),
            _ => false,
        }
    }

    /// Turns SQLite's "read-only database" into [`Error::PermissionDenied`].
    pub(crate) fn from_write(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ReadOnly) => Self::PermissionDenied {
                what: "writing to the registry".into(),
                reason: "the store is read-only for this user (only root may change it)".into(),
            },
            _ => Self::Sqlite(err),
        }
    }
}
