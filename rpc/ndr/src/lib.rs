//! adjoin-ndr: the NDR 2.0 transfer syntax (C706 chapter 14, MS-RPCE 2.2.5)
//! and the little-endian codec under it, shared by adjoin-auth (the PAC,
//! MS-RPCE 2.2.6 type serialization) and adjoin-rpc (DCE/RPC stubs and PDUs).
//!
//! - [`codec`]: [`Reader`](codec::Reader), [`Codec`](codec::Codec) and
//!   [`LengthPrefix`](codec::LengthPrefix), after rustls' `msgs/codec.rs`;
//! - [`ndr`]: the [`Ndr`](ndr::Ndr) trait (scalars, then deferred
//!   referents), arrays, strings, handles, type serialization, and the
//!   [`ndr_struct!`], [`ndr_params!`] macros;
//! - [`validation`]: the structure NETLOGON's SAM_INFO validation and the
//!   PAC's KERB_VALIDATION_INFO share;
//! - [`Sid`] (MS-DTYP 2.4.2) and [`Uuid`](uuid::Uuid) (C706 Appendix A);
//! - [`open_enum!`] and [`ndr_enum!`] for open wire enums;
//! - [`DecodeError`], the one error of all these decoders.
//!
//! No I/O and no async runtime: bytes in, values out.

#[macro_use]
mod macros;

pub mod codec;
pub mod error;
pub mod ndr;
pub mod sid;
pub mod uuid;
pub mod validation;

pub use error::DecodeError;
pub use sid::Sid;
