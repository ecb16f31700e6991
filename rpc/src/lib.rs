//! adjoin-rpc: DCE/RPC for Adjoin (see DESIGN.md).
//!
//! This layer so far is the sans-IO core: the little-endian [`codec`] and
//! the [`ndr`] engine (both adjoin-ndr's, re-exported here), the
//! connection-oriented [`pdu`]s with their auth verifier trailer,
//! [`uuid`]s and syntax ids, and call [`fragment`]ation and reassembly. No
//! module here performs I/O; transports drive them with bytes.

// The wire-enum and NDR macros are adjoin-ndr's (`open_enum!`, `ndr_enum!`,
// `ndr_struct!`, `ndr_params!`), usable by name throughout the crate.
#[macro_use]
extern crate adjoin_ndr;

pub mod client;
pub mod epm;
pub mod error;
pub mod fragment;
mod krb5;
pub mod lsa;
pub mod netlogon;
pub mod ntstatus;
pub mod pdu;
pub mod samr;
pub mod schannel;
pub mod server;
pub mod srvsvc;
pub mod tcp;
#[cfg(test)]
mod testdata;
pub mod transport;
pub mod uuid;
pub mod wkssvc;

/// The little-endian codec (adjoin-ndr's): [`Reader`](codec::Reader),
/// [`Codec`](codec::Codec), [`LengthPrefix`](codec::LengthPrefix).
pub use adjoin_ndr::codec;
/// NDR 2.0 (adjoin-ndr's engine): the [`Ndr`](ndr::Ndr) trait, arrays,
/// strings, SIDs, handles.
pub use adjoin_ndr::ndr;
pub use adjoin_ndr::{ndr_enum, ndr_params, ndr_struct, open_enum};
pub use error::{DecodeError, EncodeError, ReassemblyError};
pub use uuid::{SyntaxId, Uuid};
