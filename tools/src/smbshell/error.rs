//! What a command can fail with: one line each, naming the cause and, where there is
//! one, the fix.

use adjoin_rpc::ntstatus::NtStatus;
use adjoin_smb::SmbError;

/// A failed command (or a failed start).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ShellError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// No such remote file or directory.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path as shown.
        path: String,
    },
    /// The server refused the account.
    #[error("{path}: access denied (the account lacks the right on the share)")]
    AccessDenied {
        /// The path as shown.
        path: String,
    },
    /// The name is taken.
    #[error("{path}: already exists")]
    Exists {
        /// The path as shown.
        path: String,
    },
    /// rmdir of a directory with entries.
    #[error("{path}: the directory is not empty (remove what is in it first)")]
    NotEmpty {
        /// The path as shown.
        path: String,
    },
    /// A file where a directory was needed.
    #[error("{path}: not a directory")]
    NotADirectory {
        /// The path as shown.
        path: String,
    },
    /// A directory where a file was needed.
    #[error("{path}: is a directory (use rmdir, or get -r / put -r)")]
    IsADirectory {
        /// The path as shown.
        path: String,
    },
    /// Another open holds the file.
    #[error("{path}: in use by another program (sharing violation); try again later")]
    InUse {
        /// The path as shown.
        path: String,
    },
    /// The server's disk is full.
    #[error("{path}: the server's disk is full")]
    RemoteDiskFull {
        /// The path as shown.
        path: String,
    },
    /// The local disk is full.
    #[error("{path}: the local disk is full (free space and run the command again to resume)")]
    LocalDiskFull {
        /// The local path.
        path: String,
    },
    /// Another server answer.
    #[error("{path}: {status}")]
    Refused {
        /// The path as shown.
        path: String,
        /// The server's status.
        status: NtStatus,
    },
    /// A local file operation failed.
    #[error("{path}: {error}")]
    Local {
        /// The local path.
        path: String,
        /// The error.
        error: std::io::Error,
    },
    /// The connection broke; the next command connects again.
    #[error(
        "the connection to {server} dropped ({detail}); the next command reconnects \
         (a get resumes where it stopped)"
    )]
    Dropped {
        /// `\\server\share`.
        server: String,
        /// What failed.
        detail: String,
    },
    /// Connecting, logging on or connecting the share failed.
    #[error("{0}")]
    Connect(String),
}

impl ShellError {
    /// A server's answer to an operation on `path` (as shown), by its status.
    pub(crate) fn from_status(path: &str, status: NtStatus) -> Self {
        let path = path.to_owned();
        match status {
            NtStatus::OBJECT_NAME_NOT_FOUND
            | NtStatus::OBJECT_PATH_NOT_FOUND
            | NtStatus::NO_SUCH_FILE => Self::NotFound { path },
            NtStatus::ACCESS_DENIED | NtStatus::NETWORK_ACCESS_DENIED => {
                Self::AccessDenied { path }
            }
            NtStatus::OBJECT_NAME_COLLISION => Self::Exists { path },
            NtStatus::DIRECTORY_NOT_EMPTY => Self::NotEmpty { path },
            NtStatus::NOT_A_DIRECTORY => Self::NotADirectory { path },
            NtStatus::FILE_IS_A_DIRECTORY => Self::IsADirectory { path },
            NtStatus::SHARING_VIOLATION => Self::InUse { path },
            NtStatus::DISK_FULL => Self::RemoteDiskFull { path },
            status => Self::Refused { path, status },
        }
    }

    /// A local I/O error on `path`.
    pub(crate) fn local(path: &std::path::Path, error: std::io::Error) -> Self {
        let path = path.display().to_string();
        if error.kind() == std::io::ErrorKind::StorageFull {
            Self::LocalDiskFull { path }
        } else {
            Self::Local { path, error }
        }
    }
}

/// Whether `e` means the connection is unusable (the transport failed, the peer sent
/// garbage, or the server ended the session or the tree).
pub(crate) fn breaks_connection(e: &SmbError) -> bool {
    match e {
        SmbError::Status { status, .. } => matches!(
            *status,
            NtStatus::NETWORK_NAME_DELETED
                | NtStatus::USER_SESSION_DELETED
                | NtStatus::NETWORK_SESSION_EXPIRED
        ),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_one_line_with_the_cause() {
        let e = ShellError::from_status(r"\x", NtStatus::OBJECT_NAME_NOT_FOUND);
        assert_eq!(e.to_string(), r"\x: no such file or directory");
        let e = ShellError::from_status(r"\x", NtStatus::ACCESS_DENIED);
        assert!(e.to_string().starts_with(r"\x: access denied"));
        let e = ShellError::from_status(r"\d", NtStatus::DIRECTORY_NOT_EMPTY);
        assert!(e.to_string().contains("not empty"));
        let e = ShellError::from_status(r"\f", NtStatus::DISK_FULL);
        assert_eq!(e.to_string(), r"\f: the server's disk is full");
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = ShellError::local(std::path::Path::new("/x"), full);
        assert!(e.to_string().starts_with("/x: the local disk is full"));
    }

    #[test]
    fn transport_failures_break_the_connection_and_refusals_do_not() {
        let io = SmbError::Timeout("reading".into());
        assert!(breaks_connection(&io));
        let refused = SmbError::Status {
            command: adjoin_smb::proto::Command::CREATE,
            status: NtStatus::ACCESS_DENIED,
        };
        assert!(!breaks_connection(&refused));
        let gone = SmbError::Status {
            command: adjoin_smb::proto::Command::READ,
            status: NtStatus::USER_SESSION_DELETED,
        };
        assert!(breaks_connection(&gone));
    }
}
