//! The one decoding error of the codec, NDR and the DCE/RPC PDUs built on
//! them (adjoin-rpc re-exports it as `adjoin_rpc::DecodeError`): bytes off
//! the wire, or text such as a UUID or SID, that do not make a well-formed
//! value. Its PDU variants (versions, `frag_length`, auth trailers) live here
//! too so that one type crosses the layers without conversions.

/// Bytes off the wire that are not a well-formed DCE/RPC or NDR structure
/// (or text that is not a UUID or SID).
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
    /// MS-DTYP 2.4.2: a SID whose binary or text form breaks a rule (the
    /// revision, the 48-bit authority, at most 15 sub-authorities).
    #[error("invalid SID: {reason}")]
    InvalidSid {
        /// What is wrong.
        reason: &'static str,
    },
    /// MS-RPCE 2.2.6.1: a type serialization version 1 common header field
    /// with another value than the one required.
    #[error("NDR type serialization header: {field} is {value:#x}, expected {expected:#x}")]
    SerializationHeader {
        /// The header field.
        field: &'static str,
        /// The value found.
        value: u32,
        /// The value required.
        expected: u32,
    },
    /// A UUID string that is not `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex.
    #[error("not a UUID: {0:?}")]
    BadUuid(String),
}
