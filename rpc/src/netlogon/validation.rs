//! MS-NRPC 2.2.1.4.12 NETLOGON_VALIDATION_SAM_INFO2: what the DC says
//! about a user it has just authenticated.
//!
//! The structure is adjoin-ndr's: its layout is also the first part of the
//! PAC's KERB_VALIDATION_INFO (MS-PAC 2.5), which adjoin-auth decodes with
//! the same definition (see `docs/decisions.md`).

pub use adjoin_ndr::validation::{
    GroupAttributes, GroupMembership, SidAndAttributes, UserFlags, ValidationSamInfo2,
};
