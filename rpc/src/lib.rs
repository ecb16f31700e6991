//! adjoin-rpc: DCE/RPC for Adjoin (see DESIGN.md).
//!
//! This layer so far is the sans-IO core: the little-endian [`codec`], the
//! connection-oriented [`pdu`]s with their auth verifier trailer,
//! [`uuid`]s and syntax ids, and call [`fragment`]ation and reassembly. No
//! module here performs I/O; transports drive them with bytes.

#[macro_use]
mod macros;

pub mod client;
pub mod codec;
pub mod epm;
pub mod error;
pub mod fragment;
mod krb5;
pub mod lsa;
pub mod ndr;
pub mod netlogon;
pub mod ntstatus;
pub mod pdu;
pub mod samr;
pub mod schannel;
pub mod tcp;
pub mod transport;
#[cfg(test)]
mod testdata;
pub mod uuid;

pub use error::{DecodeError, EncodeError, ReassemblyError};
pub use uuid::{SyntaxId, Uuid};
