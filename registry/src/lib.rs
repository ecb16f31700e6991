//! adjoin-registry: the machine's configuration and secrets store.
//!
//! Keys form a tree under one hive, `HKEY_THIS_MACHINE`; key and value names are
//! case-insensitive and case-preserving. Values are typed like the Windows registry's
//! (`REG_SZ`, `REG_EXPAND_SZ`, `REG_DWORD`, `REG_QWORD`, `REG_MULTI_SZ`, `REG_BINARY`).
//!
//! The store is two SQLite files side by side: `registry.db` (mode 0644) holds every key and
//! the values of public keys; `registry-secret.db` (mode 0600) holds the values of keys at or
//! below `HKEY_THIS_MACHINE\Secrets`. A process that cannot open the secret file still reads
//! public values and gets [`Error::PermissionDenied`] for secret ones. Both files use
//! SQLite's rollback journal, so a transaction that writes both commits atomically through
//! SQLite's super-journal (WAL cannot do that); see docs/registry.md.
//!
//! ```no_run
//! use adjoin_registry::{Registry, Value};
//!
//! # fn main() -> Result<(), adjoin_registry::Error> {
//! let mut reg = Registry::open("/var/lib/adjoin/registry.db")?;
//! let skew = reg.get_value(r"HKEY_THIS_MACHINE\Kerberos", "ClockSkewSeconds")?; // 300 by default
//! let tx = reg.transaction()?;
//! tx.set_value(r"HKEY_THIS_MACHINE\Join", "MachineName", &Value::Sz("HOST1".into()))?;
//! tx.set_value(r"HKEY_THIS_MACHINE\Secrets\MachineAccount", "Password", &Value::Sz("...".into()))?;
//! tx.commit()?;
//! # let _ = skew;
//! # Ok(()) }
//! ```

mod error;
mod path;
mod regfile;
mod registry;
pub mod schema;
mod store;
mod value;

pub use error::{Error, Result};
pub use path::{HIVE, SECRETS_KEY};
pub use regfile::decode_bytes as decode_reg_file;

/// Parses `.reg` text without applying it (what [`Registry::import`] checks before it
/// writes anything); returns how many key sections it holds.
pub fn check_reg_file(text: &str) -> Result<usize> {
    regfile::parse(text).map(|sections| sections.len())
}
pub use registry::{DEFAULT_PATH, ImportSummary, PATH_ENV, Registry, Transaction};
pub use value::{UnknownValueType, Value, ValueType};
