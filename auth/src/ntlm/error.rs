//! Errors of the NTLM layer.

use super::av_pair::AvId;

/// What went wrong decoding an NTLM message or checking NTLM cryptography.
///
/// Messages never include key material, responses or checksum values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NtlmError {
    /// The input ends before a fixed-size field.
    #[error("{what} truncated at offset {offset}: {needed} bytes needed, {available} left")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Where the short read started.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The message does not start with `"NTLMSSP\0"`.
    #[error("not an NTLMSSP message (bad signature)")]
    NotNtlmssp,
    /// The MessageType field is not the one expected.
    #[error("NTLMSSP message type {got}, expected {expected}")]
    WrongMessageType {
        /// The type the decoder reads.
        expected: u32,
        /// The type on the wire.
        got: u32,
    },
    /// A payload field's offset and length point outside the message.
    #[error(
        "{field} at offset {offset} with length {len} lies outside the {message_len}-byte message"
    )]
    PayloadOutOfBounds {
        /// The field.
        field: &'static str,
        /// Its BufferOffset.
        offset: u32,
        /// Its Len.
        len: u16,
        /// The whole message's length.
        message_len: usize,
    },
    /// A payload field's offset points into the fixed header.
    #[error("{field} at offset {offset} overlaps the {header_len}-byte fixed header")]
    PayloadOverlapsHeader {
        /// The field.
        field: &'static str,
        /// Its BufferOffset.
        offset: u32,
        /// Length of the fixed part of the message.
        header_len: usize,
    },
    /// A string field is not valid UTF-16LE.
    #[error("{field} is not valid UTF-16LE")]
    BadString {
        /// The field.
        field: &'static str,
    },
    /// A value too long for its 16-bit length field, on encoding.
    #[error("{field} of {len} bytes does not fit a 16-bit length")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// An AV_PAIR list without the MsvAvEOL terminator.
    #[error("AV_PAIR list is not terminated by MsvAvEOL")]
    MissingAvEol,
    /// An AV_PAIR whose value has the wrong size for its AvId.
    #[error("{id} value of {len} bytes, expected {expected}")]
    BadAvPairLength {
        /// The pair's AvId.
        id: AvId,
        /// Length received.
        len: usize,
        /// Length the AvId uses.
        expected: usize,
    },
    /// EncryptedRandomSessionKey of a length other than 0 or 16.
    #[error("encrypted session key of {len} bytes, expected 16")]
    BadSessionKeyLength {
        /// Length received.
        len: usize,
    },
    /// NEGOTIATE_KEY_EXCH is set but the AUTHENTICATE_MESSAGE carries no session key.
    #[error("key exchange negotiated but no encrypted session key was sent")]
    MissingSessionKey,
    /// An NtChallengeResponse too short to be NTLMv2.
    #[error("NTLMv2 response of {len} bytes, shorter than the minimum of {min}")]
    ResponseTooShort {
        /// Length received.
        len: usize,
        /// Shortest NTLMv2 response.
        min: usize,
    },
    /// The NTLMv2 response's client challenge (NTLMv2_CLIENT_CHALLENGE) does not parse:
    /// a malformed message (as Windows and Samba answer it: STATUS_INVALID_PARAMETER)
    /// rather than wrong credentials.
    #[error("malformed NTLMv2 client challenge: {0}")]
    MalformedClientChallenge(Box<Self>),
    /// The NTLMv2_CLIENT_CHALLENGE's RespType or HiRespType is not 1.
    #[error("NTLMv2 client challenge of version {resp_type}.{hi_resp_type}, expected 1.1")]
    BadResponseVersion {
        /// RespType.
        resp_type: u8,
        /// HiRespType.
        hi_resp_type: u8,
    },
    /// The NTProofStr does not verify: wrong password, user, domain or challenge.
    #[error("NTLMv2 response does not verify: wrong credentials or challenge")]
    NtProofMismatch,
    /// The AUTHENTICATE_MESSAGE MIC does not verify.
    #[error("AUTHENTICATE_MESSAGE MIC does not verify")]
    MicMismatch,
    /// A message signature does not verify.
    #[error("NTLM message signature does not verify")]
    SignatureMismatch,
    /// A message signature carries another sequence number than expected.
    #[error("NTLM message signature out of sequence: expected {expected}, got {got}")]
    SequenceMismatch {
        /// The receive sequence number.
        expected: u32,
        /// The one in the signature.
        got: u32,
    },
    /// A message signature of the wrong length or version.
    #[error("malformed NTLM message signature ({len} bytes, version {version})")]
    BadSignature {
        /// Length received.
        len: usize,
        /// Its Version field (0 when too short to hold one).
        version: u32,
    },
    /// Signing and sealing here need NEGOTIATE_EXTENDED_SESSIONSECURITY.
    #[error("NTLM signing without extended session security is not supported")]
    ExtendedSessionSecurityRequired,
    /// Connectionless (datagram) NTLM is not supported.
    #[error("connectionless (NEGOTIATE_DATAGRAM) NTLM is not supported")]
    DatagramNotSupported,
}
