//! The server side of a connection-oriented binding (C706 12.6, MS-RPCE 3.1.1.5),
//! sans-IO: fragments in, fragments out. A [`ServerBinding`] answers bind and
//! alter_context against the [`Service`]s it offers, reassembles requests, runs the
//! operation, and fragments the response (or answers with a fault).
//!
//! Packet security is not offered: the bindings this serves sit behind SMB2 named pipes
//! (srvsvc, wkssvc, lsarpc on IPC$), whose callers the SMB session has authenticated. A
//! bind that asks for an auth verifier is refused with a bind_nak.

use crate::pdu::FaultStatus;
use crate::uuid::SyntaxId;

/// One RPC interface a server offers.
pub trait Service: Send {
    /// The abstract syntax clients bind to (interface UUID and version).
    fn syntax(&self) -> SyntaxId;

    /// The interface's name, for logs and errors.
    fn name(&self) -> &'static str;

    /// Runs operation `opnum` on a request stub (NDR 2.0, little-endian); returns the
    /// response stub, or the fault to answer with (`PROCNUM_OUT_OF_RANGE` for an unknown
    /// opnum, `NDR` for arguments that do not decode).
    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus>;
}
