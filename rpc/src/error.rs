//! The errors of the sans-IO layer: decoding network bytes, encoding PDUs,
//! and putting fragments back together.
//!
//! Each of these breaks the binding (the peer sent something no conforming
//! implementation sends, or a call outgrew what we accept); a fault from the
//! server is not an error here but a [`Fault`](crate::pdu::Fault) PDU.
//! [`DecodeError`] is adjoin-ndr's, shared by the codec, NDR and the PDUs.

pub use adjoin_ndr::error::DecodeError;

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
