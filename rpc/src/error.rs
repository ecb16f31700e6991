//! The errors of the sans-IO layer: decoding network bytes, encoding PDUs,
//! and putting fragments back together.
//!
//! Each of these breaks the binding (the peer sent something no conforming
//! implementation sends, or a call outgrew what we accept); a fault from the
//! server is not an error here but a [`Fault`](crate::pdu::Fault) PDU.

/// Bytes off the wire that are not a well-formed DCE/RPC structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A field runs past the end of its enclosing buffer.
    #[error("{what}: truncated (needed {needed} bytes, {available} left)")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A structure was read completely but bytes follow it.
    #[error("{what}: {extra} trailing bytes")]
    TrailingBytes {
        /// The structure that should have ended.
        what: &'static str,
        /// How many bytes were left over.
        extra: usize,
    },
    /// The common header names a protocol version other than 5.0/5.1.
    #[error("unsupported RPC protocol version {major}.{minor} (expected 5.0 or 5.1)")]
    UnsupportedVersion {
        /// `rpc_vers`.
        major: u8,
        /// `rpc_vers_minor`.
        minor: u8,
    },
    /// The data representation is not little-endian integers, ASCII
    /// characters and IEEE floating point.
    #[error(
        "unsupported data representation {drep:02x?} (only little-endian, ASCII, IEEE is accepted)"
    )]
    UnsupportedDataRepresentation {
        /// The four `packed_drep` bytes.
        drep: [u8; 4],
    },
    /// A packet type that is not a connection-oriented PDU we handle.
    #[error("unsupported packet type {ptype}")]
    UnsupportedPacketType {
        /// The `ptype` byte.
        ptype: u8,
    },
    /// `frag_length` is smaller than the common header or than what was read.
    #[error("frag_length {frag_length} is invalid (minimum {minimum})")]
    FragLength {
        /// The `frag_length` field.
        frag_length: u16,
        /// The smallest length this PDU can have.
        minimum: usize,
    },
    /// `auth_length` (plus the 8-byte sec_trailer) does not fit in the fragment.
    #[error("auth_length {auth_length} does not fit in a body of {body} bytes")]
    AuthLength {
        /// The `auth_length` field.
        auth_length: u16,
        /// Bytes after the common header.
        body: usize,
    },
    /// `auth_pad_length` is larger than the body before the sec_trailer.
    #[error("auth_pad_length {pad} is larger than the {available} bytes before the sec_trailer")]
    AuthPadding {
        /// The `auth_pad_length` field.
        pad: u8,
        /// Bytes it could cover.
        available: usize,
    },
    /// A text field (bind_ack `sec_addr.port_spec`) is not NUL-terminated ASCII.
    #[error("{what}: not a NUL-terminated ASCII string")]
    BadString {
        /// The field.
        what: &'static str,
    },
    /// A varying array whose offset is not 0 or whose actual count exceeds
    /// its maximum count (MS-RPCE 2.2.5.3.4.2).
    #[error("{what}: varying array with offset {offset} and {actual} of at most {max} elements")]
    Variance {
        /// The array.
        what: &'static str,
        /// The offset read (must be 0).
        offset: usize,
        /// The actual count read.
        actual: usize,
        /// The conformance read before it.
        max: usize,
    },
    /// An RPC_SID with a revision other than 1, or a sub-authority count that
    /// differs from its conformance or exceeds 15.
    #[error("malformed SID: revision {revision}, {count} sub-authorities, conformance {max}")]
    BadSid {
        /// The revision byte.
        revision: u8,
        /// The SubAuthorityCount byte.
        count: usize,
        /// The conformance before it.
        max: usize,
    },
    /// An array whose count on the wire disagrees with the `size_is` (or
    /// `length_is`) value that describes it. C706 14.3.3.2 and MS-RPCE
    /// 2.2.5.3.4: the conformance is the value of the `size_is` expression
    /// (the actual count, of the `length_is` one); Samba's pidl code
    /// rejects a mismatch with NDR_ERR_ARRAY_SIZE. A null pointer carries 0
    /// elements.
    #[error("{what}: {field} is {count} but {array} carries {wire} elements")]
    SizeIs {
        /// The structure (or argument list) holding both.
        what: &'static str,
        /// The array.
        array: &'static str,
        /// The count field, or the constant expression, that sizes it.
        field: &'static str,
        /// The value of that field or expression.
        count: u32,
        /// The array's count on the wire (0 for a null pointer).
        wire: usize,
    },
    /// A union discriminant (switch value) that names no arm this crate knows.
    #[error("{what}: unknown union arm {level}")]
    UnknownArm {
        /// The union.
        what: &'static str,
        /// The discriminant read.
        level: u32,
    },
    /// A value that decodes but breaks a rule of its specification.
    #[error("{what}: {why}")]
    Invalid {
        /// The structure.
        what: &'static str,
        /// The rule it breaks.
        why: &'static str,
    },
    /// A UUID string that is not `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex.
    #[error("not a UUID: {0:?}")]
    BadUuid(String),
}

/// A PDU that cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The encoded fragment would be longer than `frag_length` can say.
    #[error("PDU of {len} bytes exceeds the 65535-byte fragment limit")]
    FragmentTooLong {
        /// The encoded length.
        len: usize,
    },
    /// The auth value would be longer than `auth_length` can say.
    #[error("auth value of {len} bytes exceeds the 65535-byte auth_length limit")]
    AuthTooLong {
        /// The auth value's length.
        len: usize,
    },
    /// A count field (contexts, transfer syntaxes, results) overflows its byte.
    #[error("{what}: {count} elements do not fit in an 8-bit count")]
    TooManyElements {
        /// The list.
        what: &'static str,
        /// How many elements it has.
        count: usize,
    },
    /// `max_xmit_frag` leaves no room for stub data.
    #[error("max_xmit_frag {max_xmit_frag} leaves no room for stub data")]
    FragmentSizeTooSmall {
        /// The negotiated maximum fragment size.
        max_xmit_frag: u16,
    },
}

/// Response (or request) fragments that do not make up one call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReassemblyError {
    /// A PDU of another type arrived while a call was being reassembled.
    #[error("unexpected {ptype} PDU while reassembling call {call_id}")]
    UnexpectedPacket {
        /// Its packet type.
        ptype: crate::pdu::PacketType,
        /// The call being reassembled.
        call_id: u32,
    },
    /// A fragment of another call.
    #[error("fragment for call {got} while reassembling call {expected}")]
    CallIdMismatch {
        /// The call being reassembled.
        expected: u32,
        /// The fragment's `call_id`.
        got: u32,
    },
    /// The first fragment lacks PFC_FIRST_FRAG.
    #[error("call {call_id}: first fragment lacks PFC_FIRST_FRAG")]
    MissingFirstFragment {
        /// The call.
        call_id: u32,
    },
    /// A later fragment carries PFC_FIRST_FRAG again.
    #[error("call {call_id}: PFC_FIRST_FRAG in the middle of a call")]
    UnexpectedFirstFragment {
        /// The call.
        call_id: u32,
    },
    /// A fragment names another presentation context than the first.
    #[error("call {call_id}: context id changed from {expected} to {got}")]
    ContextMismatch {
        /// The call.
        call_id: u32,
        /// The first fragment's `p_cont_id`.
        expected: u16,
        /// This fragment's `p_cont_id`.
        got: u16,
    },
    /// A fragment names another operation than the first (requests only).
    #[error("call {call_id}: opnum changed from {expected} to {got}")]
    OpnumMismatch {
        /// The call.
        call_id: u32,
        /// The first fragment's opnum.
        expected: u16,
        /// This fragment's opnum.
        got: u16,
    },
    /// The stub grew past the configured bound.
    #[error("call {call_id}: stub data exceeds the {limit}-byte limit")]
    TooLarge {
        /// The call.
        call_id: u32,
        /// The bound.
        limit: usize,
    },
    /// A fragment arrived after PFC_LAST_FRAG.
    #[error("call {call_id}: fragment after PFC_LAST_FRAG")]
    AfterLastFragment {
        /// The call.
        call_id: u32,
    },
}
