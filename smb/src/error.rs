//! The errors of the SMB2 layer.

use adjoin_rpc::DecodeError;
use adjoin_rpc::ntstatus::NtStatus;

use crate::proto::Command;

/// What went wrong on an SMB2 connection.
///
/// The decode variants mean the peer sent something no conforming implementation
/// sends: the connection is dropped. [`SmbError::Status`] is the server's answer to one
/// request; the connection stays usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmbError {
    /// A structure that does not decode.
    #[error("malformed SMB2 message: {0}")]
    Decode(#[from] DecodeError),
    /// A rule of MS-SMB2 broken by the peer.
    #[error("malformed SMB2 message: {what}: {why}")]
    Malformed {
        /// The structure.
        what: &'static str,
        /// The rule.
        why: &'static str,
    },
    /// An offset/length pair that points outside the message.
    #[error(
        "malformed SMB2 message: {what} at {offset}+{len} lies outside the {message}-byte message"
    )]
    BufferOutOfRange {
        /// The buffer.
        what: &'static str,
        /// Its offset from the header.
        offset: usize,
        /// Its length.
        len: usize,
        /// The message's length.
        message: usize,
    },
    /// A body whose `StructureSize` is not the one its command has.
    #[error("malformed SMB2 {command} message: StructureSize {got} (expected {expected})")]
    StructureSize {
        /// The command.
        command: Command,
        /// The size MS-SMB2 gives.
        expected: u16,
        /// The size received.
        got: u16,
    },
    /// A reply for another command than the request.
    #[error("SMB2 reply to {got} where {expected} was expected")]
    UnexpectedCommand {
        /// The request's command.
        expected: Command,
        /// The reply's command.
        got: Command,
    },
    /// A Direct TCP frame whose first byte is not zero.
    #[error("not an SMB2 Direct TCP frame (first byte {0:#04x})")]
    Framing(u8),
    /// A message too long for the transport.
    #[error("SMB2 message of {len} bytes is too long")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// The server refused a request.
    #[error("{command}: {status}")]
    Status {
        /// The request's command.
        command: Command,
        /// The server's status.
        status: NtStatus,
    },
    /// A signature that does not verify, or a message that must be signed and is not.
    #[error("SMB2 signing: {0}")]
    Signature(&'static str),
    /// The server offers nothing Adjoin accepts (dialect, signing, mechanism).
    #[error("SMB2 negotiation: {0}")]
    Negotiation(String),
    /// The authentication exchange failed locally (Kerberos or NTLM).
    #[error("SMB2 authentication: {0}")]
    Auth(String),
    /// The transport failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        error: std::io::Error,
    },
    /// The server did not answer in time.
    #[error("{0}: no answer within the timeout")]
    Timeout(String),
}

impl SmbError {
    /// The server's status, when the error is a refused request.
    pub fn status(&self) -> Option<NtStatus> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
