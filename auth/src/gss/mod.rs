//! GSS-API mechanisms as sans-IO step functions over byte tokens: the Kerberos V5
//! mechanism (RFC 4121) in [`krb5`]. SPNEGO (RFC 4178) is to follow.

pub mod krb5;

use crate::crypto::{CryptoError, EncryptionType};
use crate::krb::{AcceptError, KerberosError, KrbErrorCode};

/// A GSS context could not be established, or a per-message token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GssError {
    /// The token is not what the mechanism allows here.
    #[error("malformed GSS token: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The token is for another mechanism.
    #[error("the GSS token is not for the Kerberos mechanism")]
    WrongMechanism,
    /// The acceptor refused the AP-REQ.
    #[error("the acceptor refused the context: {code}")]
    Rejected {
        /// Its KRB-ERROR code.
        code: KrbErrorCode,
    },
    /// The AP-REP does not decrypt with the session key.
    #[error("mutual authentication failed: the acceptor's reply is not under the session key")]
    MutualAuthFailed,
    /// A MIC or wrap token does not verify.
    #[error("GSS message integrity check failed")]
    BadSignature,
    /// A per-message token arrived out of order or was replayed.
    #[error("GSS token out of sequence: expected {expected}, got {got}")]
    OutOfSequence {
        /// The sequence number expected.
        expected: u64,
        /// The one received.
        got: u64,
    },
    /// Per-message tokens for this enctype are not implemented (RC4: RFC 4757 tokens).
    #[error("GSS per-message tokens for {etype:?} are not supported (use AES)")]
    UnsupportedEtype {
        /// The context key's enctype.
        etype: EncryptionType,
    },
    /// Accepting the AP-REQ failed.
    #[error(transparent)]
    Accept(#[from] AcceptError),
    /// A Kerberos message was bad.
    #[error(transparent)]
    Kerberos(#[from] KerberosError),
    /// A crypto operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}
