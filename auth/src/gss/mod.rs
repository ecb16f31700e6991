//! GSS-API mechanisms as sans-IO step functions over byte tokens: the Kerberos V5
//! mechanism (RFC 4121) in [`krb5`], and SPNEGO (RFC 4178) over it in [`spnego`].

pub mod krb5;
pub mod spnego;

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
    /// NTLMSSP refused a message of the exchange (the SPNEGO framing was sound).
    #[error("NTLM: {0}")]
    Ntlm(#[from] crate::ntlm::NtlmError),
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

/// RFC 2743 3.1 InitialContextToken: `[APPLICATION 0] { thisMech OID, innerContextToken }`.
pub(crate) fn frame_initial(mech_oid: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut body = vec![0x06];
    der_length(&mut body, mech_oid.len());
    body.extend_from_slice(mech_oid);
    body.extend_from_slice(inner);
    let mut out = vec![0x60];
    der_length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// The inner token of an InitialContextToken for `mech_oid`.
pub(crate) fn unframe_initial<'a>(mech_oid: &[u8], token: &'a [u8]) -> Result<&'a [u8], GssError> {
    let bad = |reason: &str| GssError::Malformed {
        reason: reason.to_owned(),
    };
    let rest = token
        .strip_prefix(&[0x60])
        .ok_or_else(|| bad("not an InitialContextToken ([APPLICATION 0])"))?;
    let (len, rest) = read_der_length(rest).ok_or_else(|| bad("bad length"))?;
    let body = rest
        .get(..len)
        .ok_or_else(|| bad("token shorter than its length"))?;
    let rest = body.strip_prefix(&[0x06]).ok_or(GssError::WrongMechanism)?;
    let (oid_len, rest) = read_der_length(rest).ok_or(GssError::WrongMechanism)?;
    match rest.split_at_checked(oid_len) {
        Some((oid, inner)) if oid == mech_oid => Ok(inner),
        _ => Err(GssError::WrongMechanism),
    }
}

fn der_length(out: &mut Vec<u8>, len: usize) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let count = u8::try_from(bytes.len() - skip).unwrap_or(8);
            out.push(0x80 | count);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
}

fn read_der_length(b: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = b.split_first()?;
    if first < 0x80 {
        return Some((usize::from(first), rest));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let (len, rest) = rest.split_at_checked(n)?;
    let len = len
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Some((len, rest))
}
