//! Errors of the PAC layer: the container, its buffers, their NDR, SIDs and
//! the signature checks.

use adjoin_ndr::DecodeError;

use super::PacBufferType;
use crate::crypto::{ChecksumType, CryptoError};

/// What is wrong with a PAC, or why it does not verify.
///
/// Every kind of malformed input has its own variant; none carries secret
/// material (checksum values and keys are never printed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacError {
    /// A structure ends before one of its fields.
    #[error("{what} truncated at byte {offset}: {needed} bytes needed, {available} left")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Where the missing bytes start, from the structure's start.
        offset: usize,
        /// How many bytes the field needs.
        needed: usize,
        /// How many bytes are left.
        available: usize,
    },
    /// MS-PAC 2.3: `Version` MUST be 0.
    #[error("PACTYPE version {version}, expected 0")]
    UnknownVersion {
        /// The version found.
        version: u32,
    },
    /// MS-PAC 2.4: a PAC_INFO_BUFFER whose data is not inside the PAC.
    #[error(
        "PAC buffer {ty:?} at offset {offset} with {size} bytes is outside the {pac_len}-byte PAC"
    )]
    BufferOutOfBounds {
        /// The buffer's type.
        ty: PacBufferType,
        /// Its offset.
        offset: u64,
        /// Its size.
        size: u32,
        /// The PAC's length.
        pac_len: usize,
    },
    /// MS-PAC 2.4: `Offset` MUST be a multiple of 8.
    #[error("PAC buffer {ty:?} at offset {offset} is not 8-byte aligned")]
    MisalignedBuffer {
        /// The buffer's type.
        ty: PacBufferType,
        /// Its offset.
        offset: u64,
    },
    /// Two buffers share bytes (a real PAC never does).
    #[error("PAC buffers {first:?} and {second:?} overlap")]
    OverlappingBuffers {
        /// The buffer that starts first.
        first: PacBufferType,
        /// The buffer that starts inside it.
        second: PacBufferType,
    },
    /// A buffer that may appear once appears again.
    #[error("PAC buffer {ty:?} appears more than once")]
    DuplicateBuffer {
        /// The buffer's type.
        ty: PacBufferType,
    },
    /// A buffer every PAC must have is missing.
    #[error("PAC has no {ty:?} buffer")]
    MissingBuffer {
        /// The buffer's type.
        ty: PacBufferType,
    },
    /// The NDR of a buffer (KERB_VALIDATION_INFO) is malformed: a
    /// truncation, a bad header, a count that disagrees with its array.
    #[error("NDR: {0}")]
    Ndr(DecodeError),
    /// A pointer that must not be null is.
    #[error("NDR pointer {what} is null")]
    NullPointer {
        /// The field.
        what: &'static str,
    },
    /// Bytes left over after a structure that must fill its buffer.
    #[error("{count} bytes left over after {what}")]
    TrailingBytes {
        /// The structure.
        what: &'static str,
        /// How many bytes are left.
        count: usize,
    },
    /// A string that is not valid UTF-16 or has an odd byte length.
    #[error("{what} is not valid UTF-16")]
    BadString {
        /// The field.
        what: &'static str,
    },
    /// MS-DTYP 2.4.2: a malformed SID (binary or text).
    #[error("invalid SID: {reason}")]
    InvalidSid {
        /// What is wrong.
        reason: &'static str,
    },
    /// A signature whose checksum type this implementation cannot compute
    /// (or an unkeyed one, which MS-PAC 2.8 does not allow).
    #[error("PAC signature uses unsupported checksum type {cksumtype} ({cksumtype:?})")]
    UnsupportedChecksum {
        /// The checksum type in the PAC_SIGNATURE_DATA.
        cksumtype: ChecksumType,
    },
    /// MS-PAC 2.8: a PAC_SIGNATURE_DATA whose size does not fit its type.
    #[error("{ty:?} is {len} bytes, which does not fit checksum type {cksumtype}")]
    BadSignatureLength {
        /// The signature buffer.
        ty: PacBufferType,
        /// Its size.
        len: usize,
        /// Its checksum type.
        cksumtype: ChecksumType,
    },
    /// MS-PAC 2.8.1/2.8.2: the signature does not verify with the key given.
    #[error("PAC {ty:?} does not verify: wrong key or modified PAC")]
    SignatureMismatch {
        /// The signature buffer that failed.
        ty: PacBufferType,
    },
    /// The key given cannot compute the signature's checksum type.
    #[error("PAC {ty:?}: {source}")]
    Crypto {
        /// The signature buffer.
        ty: PacBufferType,
        /// What the crypto layer said.
        source: CryptoError,
    },
    /// MS-PAC 2.7: PAC_CLIENT_INFO names another client than the ticket.
    #[error("PAC client name {pac:?} does not match the ticket's client {ticket:?}")]
    ClientNameMismatch {
        /// The name in PAC_CLIENT_INFO.
        pac: String,
        /// The ticket's client name.
        ticket: String,
    },
    /// MS-PAC 2.7: PAC_CLIENT_INFO's ClientId is not the ticket's authtime.
    #[error("PAC client time {pac} does not match the ticket's authtime {ticket} (Unix seconds)")]
    ClientTimeMismatch {
        /// ClientId, as Unix seconds.
        pac: i64,
        /// The ticket's authtime, as Unix seconds.
        ticket: i64,
    },
    /// The ticket's authorization data holds something malformed around the PAC.
    #[error("authorization data: {reason}")]
    BadAuthorizationData {
        /// What is wrong.
        reason: String,
    },
}

/// NDR errors (adjoin-ndr's) of the logon information and of SIDs; a SID
/// that breaks MS-DTYP's rules stays [`PacError::InvalidSid`].
impl From<DecodeError> for PacError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::InvalidSid { reason } => Self::InvalidSid { reason },
            e => Self::Ndr(e),
        }
    }
}
