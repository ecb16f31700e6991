//! The identity service's errors: what went wrong, and how far it reaches.

use adjoin_auth::krb::KerberosError;
use adjoin_auth::ldap::LdapError;

/// A lookup, logon or cache operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// No domain controller answered in time: the caller may fall back to the cache.
    #[error("no domain controller answered ({reason}); answers come from the cache until one does")]
    Offline {
        /// What failed.
        reason: String,
    },
    /// The directory answered, but not as expected.
    #[error("the directory answered badly: {0}")]
    Directory(String),
    /// Kerberos failed for a reason other than the DC being unreachable.
    #[error(transparent)]
    Kerberos(#[from] KerberosError),
    /// The cache database failed.
    #[error("the identity cache {path} failed: {source}; `adjoin cache flush` starts a new one")]
    Cache {
        /// The cache file.
        path: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The registry failed or holds a bad setting.
    #[error("registry: {0}")]
    Registry(String),
    /// A file the service writes (ccache, home directory, fast cache) failed.
    #[error("{what} {path}: {source}")]
    File {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl IdentityError {
    /// True when the error means "no DC reachable" (fall back to the cache, offline logon).
    pub fn is_offline(&self) -> bool {
        match self {
            Self::Offline { .. } => true,
            Self::Kerberos(e) => kerberos_unreachable(e),
            _ => false,
        }
    }
}

/// A Kerberos error that says the KDC could not be reached (not that it refused).
pub(crate) fn kerberos_unreachable(e: &KerberosError) -> bool {
    matches!(e, KerberosError::KdcUnreachable { .. })
}

impl From<LdapError> for IdentityError {
    fn from(e: LdapError) -> Self {
        match e {
            LdapError::Io { .. } | LdapError::Timeout { .. } | LdapError::Broken { .. } => {
                Self::Offline {
                    reason: e.to_string(),
                }
            }
            other => Self::Directory(other.to_string()),
        }
    }
}

impl From<adjoin_registry::Error> for IdentityError {
    fn from(e: adjoin_registry::Error) -> Self {
        Self::Registry(e.to_string())
    }
}
