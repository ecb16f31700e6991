//! Errors of the Kerberos cryptosystem layer.

use super::types::{ChecksumType, EncryptionType};

/// What went wrong in a Kerberos cryptographic operation.
///
/// Messages never include key material, plaintext or checksum values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The encryption type is not one this module implements.
    #[error("unsupported encryption type {etype} ({etype:?})")]
    UnsupportedEtype {
        /// The encryption type asked for.
        etype: EncryptionType,
    },
    /// The checksum type is not one this module implements.
    #[error("unsupported checksum type {cksumtype} ({cksumtype:?})")]
    UnsupportedChecksumType {
        /// The checksum type asked for.
        cksumtype: ChecksumType,
    },
    /// The checksum type is keyed from another encryption type than the key's.
    #[error("checksum type {cksumtype} cannot be computed with a {etype} key")]
    ChecksumKeyMismatch {
        /// The checksum type asked for.
        cksumtype: ChecksumType,
        /// The key's encryption type.
        etype: EncryptionType,
    },
    /// The decrypted data's HMAC did not match: wrong key, wrong key usage
    /// or tampered ciphertext.
    #[error("integrity check failed: wrong key, wrong key usage or modified ciphertext")]
    IntegrityCheckFailed,
    /// A received checksum did not verify.
    #[error("checksum does not verify: wrong key, wrong key usage or modified data")]
    ChecksumMismatch,
    /// The ciphertext cannot even hold the confounder and checksum.
    #[error("ciphertext of {len} bytes is shorter than the minimum of {min}")]
    CiphertextTooShort {
        /// Length received.
        len: usize,
        /// Shortest valid ciphertext for the encryption type.
        min: usize,
    },
    /// Key bytes of the wrong length for the encryption type.
    #[error("{etype} key of {len} bytes, expected {expected}")]
    BadKeyLength {
        /// The key's encryption type.
        etype: EncryptionType,
        /// Length received.
        len: usize,
        /// Length the encryption type uses.
        expected: usize,
    },
    /// A caller-supplied confounder of the wrong length.
    #[error("confounder of {len} bytes, the encryption type uses {expected}")]
    BadConfounderLength {
        /// Length received.
        len: usize,
        /// Length the encryption type uses.
        expected: usize,
    },
    /// String-to-key parameters (s2kparams) that are not a 4-byte
    /// iteration count, or parameters given to an etype that takes none.
    #[error("string-to-key parameters of {len} bytes are invalid for {etype}")]
    BadS2kParams {
        /// The encryption type.
        etype: EncryptionType,
        /// Length of the parameters received.
        len: usize,
    },
    /// A PBKDF2 iteration count above the limit (a spoofed ETYPE-INFO2 could
    /// otherwise make the client spend minutes; RFC 3962 section 4).
    #[error("string-to-key iteration count {iterations} exceeds the limit of {max}")]
    IterationCountTooLarge {
        /// Iteration count asked for (0 on the wire means 2^32).
        iterations: u64,
        /// Largest count accepted.
        max: u64,
    },
    /// The operating system's random source failed.
    #[error("random source failed: {reason}")]
    RandomSourceFailed {
        /// The source's error message.
        reason: String,
    },
}
