//! Connection-oriented DCE/RPC PDUs (C706 chapter 12.6, MS-RPCE 2.2.2):
//! the common header, each PDU body, and the auth verifier trailer.
//!
//! Sans-IO: [`Header::peek`] says how long the next fragment is once 16
//! bytes have arrived, [`Pdu::decode`] parses exactly one fragment, and
//! [`Pdu::encode`] appends one. Fragmentation and reassembly are in
//! [`crate::fragment`].

mod auth;
mod bind;
mod call;

use crate::codec::{Codec, LengthPrefix, Reader};
use crate::error::{DecodeError, EncodeError};

pub use auth::{AuthLevel, AuthType, AuthVerifier, SEC_TRAILER_LEN};
pub use bind::{
    Bind, BindAck, BindNak, ContextElement, ContextResult, ProtocolVersion, ProviderReason,
    RejectReason, ResultKind,
};
pub use call::{Auth3, Fault, FaultStatus, Request, Response};

/// Length of the common header.
pub const HEADER_LEN: usize = 16;

/// C706 12.6.3.1: `rpc_vers`, the only major version of the CO protocol.
pub const RPC_VERS: u8 = 5;

/// C706 14.1 (NDR format label) `packed_drep` for little-endian integers,
/// ASCII characters and IEEE floating point; the only one accepted.
pub const DREP_LITTLE_ENDIAN: [u8; 4] = [0x10, 0, 0, 0];

/// C706 `MustRecvFragSize`: every connection-oriented implementation must
/// accept fragments of this size, so it is the floor for `max_xmit_frag`.
pub const MUST_RECV_FRAG_SIZE: u16 = 1432;

open_enum! {
    /// C706 12.6.3.1 `PTYPE`: the packet type (connection-oriented types,
    /// plus the connectionless ones so they print by name).
    pub struct PacketType(u8) {
        /// Client to server: a call (or one fragment of it).
        REQUEST = 0 => "request",
        /// Connectionless only.
        PING = 1 => "ping",
        /// Server to client: a call's result (or one fragment of it).
        RESPONSE = 2 => "response",
        /// Server to client: a call failed.
        FAULT = 3 => "fault",
        /// Connectionless only.
        WORKING = 4 => "working",
        /// Connectionless only.
        NOCALL = 5 => "nocall",
        /// Connectionless only.
        REJECT = 6 => "reject",
        /// Connectionless only.
        ACK = 7 => "ack",
        /// Connectionless only.
        CL_CANCEL = 8 => "cl_cancel",
        /// Connectionless only.
        FACK = 9 => "fack",
        /// Connectionless only.
        CANCEL_ACK = 10 => "cancel_ack",
        /// Client to server: open an association with presentation contexts.
        BIND = 11 => "bind",
        /// Server to client: the association's contexts, accepted or not.
        BIND_ACK = 12 => "bind_ack",
        /// Server to client: the association was refused.
        BIND_NAK = 13 => "bind_nak",
        /// Client to server: add contexts or continue authentication.
        ALTER_CONTEXT = 14 => "alter_context",
        /// Server to client: answer to alter_context.
        ALTER_CONTEXT_RESP = 15 => "alter_context_resp",
        /// MS-RPCE 2.2.2.10: client to server, third leg of a three-leg
        /// authentication (NTLM).
        AUTH3 = 16 => "auth3",
        /// Server to client: close the connection.
        SHUTDOWN = 17 => "shutdown",
        /// Client to server: cancel the call in progress.
        CO_CANCEL = 18 => "co_cancel",
        /// Client to server: the call is abandoned.
        ORPHANED = 19 => "orphaned",
    }
}

bitflags::bitflags! {
    /// C706 12.6.3.1 `pfc_flags` (MS-RPCE 2.2.2.3).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
    pub struct PfcFlags: u8 {
        /// First fragment of a call.
        const FIRST_FRAG = 0x01;
        /// Last fragment of a call.
        const LAST_FRAG = 0x02;
        /// Cancel pending at the sender (in bind/alter_context, MS-RPCE
        /// reuses the bit as PFC_SUPPORT_HEADER_SIGN).
        const PENDING_CANCEL = 0x04;
        /// Reserved.
        const RESERVED_1 = 0x08;
        /// Concurrent multiplexing supported (bind).
        const CONC_MPX = 0x10;
        /// Fault or reject: the call did not execute.
        const DID_NOT_EXECUTE = 0x20;
        /// `maybe` call semantics.
        const MAYBE = 0x40;
        /// A request carries an object UUID after the opnum.
        const OBJECT_UUID = 0x80;
    }
}

impl PfcFlags {
    /// MS-RPCE 2.2.2.3: PFC_SUPPORT_HEADER_SIGN, the same bit as
    /// PFC_PENDING_CANCEL but in bind, bind_ack and alter_context.
    pub const SUPPORT_HEADER_SIGN: Self = Self::PENDING_CANCEL;

    /// A call that fits in one fragment.
    pub const SINGLE: Self = Self::FIRST_FRAG.union(Self::LAST_FRAG);
}

/// C706 12.6.3.1 the connection-oriented common header.
///
/// ```text
///  0 rpc_vers u8 (5)       1 rpc_vers_minor u8 (0|1)  2 PTYPE u8   3 pfc_flags u8
///  4 packed_drep [4]u8 (0x10 0 0 0: little-endian, ASCII, IEEE)
///  8 frag_length u16      10 auth_length u16
/// 12 call_id u32
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    /// `rpc_vers_minor` (0 or 1).
    pub minor_version: u8,
    /// `PTYPE`.
    pub ptype: PacketType,
    /// `pfc_flags`.
    pub flags: PfcFlags,
    /// Length of the whole fragment, header and auth verifier included.
    pub frag_length: u16,
    /// Length of the auth value (not counting the 8-byte sec_trailer).
    pub auth_length: u16,
    /// `call_id`.
    pub call_id: u32,
}

impl Header {
    /// The header at the front of `bytes` once 16 bytes have arrived
    /// (`None` before), so a transport knows to read `frag_length` bytes.
    pub fn peek(bytes: &[u8]) -> Result<Option<Self>, DecodeError> {
        let Some(head) = bytes.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let header = Self::read(&mut Reader::new("common header", head))?;
        if usize::from(header.frag_length) < HEADER_LEN {
            return Err(DecodeError::FragLength {
                frag_length: header.frag_length,
                minimum: HEADER_LEN,
            });
        }
        Ok(Some(header))
    }
}

impl Codec for Header {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[RPC_VERS, self.minor_version, self.ptype.value()]);
        out.push(self.flags.bits());
        out.extend_from_slice(&DREP_LITTLE_ENDIAN);
        self.frag_length.encode(out);
        self.auth_length.encode(out);
        self.call_id.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let [major, minor, ptype, flags] = r.array()?;
        // MS-RPCE 3.3.1.5.1 / C706 12.6.3.1: version 5, minor 0 (5.1 peers
        // send 1); anything else is another protocol.
        if major != RPC_VERS || minor > 1 {
            return Err(DecodeError::UnsupportedVersion { major, minor });
        }
        let drep: [u8; 4] = r.array()?;
        // C706 14.1: integer representation in the high nibble of byte 0
        // (1 = little-endian), characters in the low nibble (0 = ASCII),
        // floating point in byte 1 (0 = IEEE); bytes 2 and 3 are reserved.
        if drep[..2] != DREP_LITTLE_ENDIAN[..2] {
            return Err(DecodeError::UnsupportedDataRepresentation { drep });
        }
        Ok(Self {
            minor_version: minor,
            ptype: PacketType::new(ptype),
            flags: PfcFlags::from_bits_retain(flags),
            frag_length: r.u16()?,
            auth_length: r.u16()?,
            call_id: r.u32()?,
        })
    }
}

/// A PDU body, by packet type.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Body {
    /// C706 12.6.4.9 request.
    Request(Request),
    /// C706 12.6.4.10 response.
    Response(Response),
    /// C706 12.6.4.7 fault.
    Fault(Fault),
    /// C706 12.6.4.3 bind.
    Bind(Bind),
    /// C706 12.6.4.4 bind_ack.
    BindAck(BindAck),
    /// C706 12.6.4.5 bind_nak.
    BindNak(BindNak),
    /// C706 12.6.4.1 alter_context (the bind layout).
    AlterContext(Bind),
    /// C706 12.6.4.2 alter_context_resp (the bind_ack layout).
    AlterContextResponse(BindAck),
    /// MS-RPCE 2.2.2.10 rpc_auth_3.
    Auth3(Auth3),
    /// C706 12.6.4.11 shutdown (no body).
    Shutdown,
    /// C706 12.6.4.6 co_cancel (no body; may carry an auth verifier).
    CoCancel,
    /// C706 12.6.4.8 orphaned (no body; may carry an auth verifier).
    Orphaned,
}

impl Body {
    /// The packet type this body travels as.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Request(_) => PacketType::REQUEST,
            Self::Response(_) => PacketType::RESPONSE,
            Self::Fault(_) => PacketType::FAULT,
            Self::Bind(_) => PacketType::BIND,
            Self::BindAck(_) => PacketType::BIND_ACK,
            Self::BindNak(_) => PacketType::BIND_NAK,
            Self::AlterContext(_) => PacketType::ALTER_CONTEXT,
            Self::AlterContextResponse(_) => PacketType::ALTER_CONTEXT_RESP,
            Self::Auth3(_) => PacketType::AUTH3,
            Self::Shutdown => PacketType::SHUTDOWN,
            Self::CoCancel => PacketType::CO_CANCEL,
            Self::Orphaned => PacketType::ORPHANED,
        }
    }

    fn read(header: &Header, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let body = match header.ptype {
            PacketType::REQUEST => Self::Request(Request::read(
                r,
                header.flags.contains(PfcFlags::OBJECT_UUID),
            )?),
            PacketType::RESPONSE => Self::Response(Response::read(r)?),
            PacketType::FAULT => Self::Fault(Fault::read(r)?),
            PacketType::BIND => Self::Bind(Bind::read(r)?),
            PacketType::BIND_ACK => Self::BindAck(BindAck::read(r)?),
            PacketType::BIND_NAK => Self::BindNak(BindNak::read(r)?),
            PacketType::ALTER_CONTEXT => Self::AlterContext(Bind::read(r)?),
            PacketType::ALTER_CONTEXT_RESP => Self::AlterContextResponse(BindAck::read(r)?),
            PacketType::AUTH3 => Self::Auth3(Auth3::read(r)?),
            PacketType::SHUTDOWN => Self::Shutdown,
            PacketType::CO_CANCEL => Self::CoCancel,
            PacketType::ORPHANED => Self::Orphaned,
            other => {
                return Err(DecodeError::UnsupportedPacketType {
                    ptype: other.value(),
                });
            }
        };
        r.expect_empty()?;
        Ok(body)
    }

    fn check(&self) -> Result<(), EncodeError> {
        match self {
            Self::Bind(b) | Self::AlterContext(b) => b.check(),
            Self::BindAck(a) | Self::AlterContextResponse(a) => a.check(),
            Self::BindNak(n) => n.check(),
            _ => Ok(()),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Request(b) => b.encode(out),
            Self::Response(b) => b.encode(out),
            Self::Fault(b) => b.encode(out),
            Self::Bind(b) | Self::AlterContext(b) => b.encode(out),
            Self::BindAck(b) | Self::AlterContextResponse(b) => b.encode(out),
            Self::BindNak(b) => b.encode(out),
            Self::Auth3(b) => b.encode(out),
            Self::Shutdown | Self::CoCancel | Self::Orphaned => {}
        }
    }
}

/// One connection-oriented PDU (one fragment): the common header's
/// variable fields, a body, and an optional auth verifier.
///
/// `frag_length` and `auth_length` are computed when encoding; `PTYPE`
/// follows the body. For a request, PFC_OBJECT_UUID is carried by
/// [`Request::object`]: decoding clears it from `flags`, encoding sets it
/// when there is an object.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Pdu {
    /// `rpc_vers_minor` (0 unless echoing a 5.1 peer).
    pub minor_version: u8,
    /// `pfc_flags`.
    pub flags: PfcFlags,
    /// `call_id`.
    pub call_id: u32,
    /// The body.
    pub body: Body,
    /// The auth verifier (sec_trailer and auth value), if `auth_length` > 0.
    pub auth: Option<AuthVerifier>,
}

impl Pdu {
    /// A single-fragment PDU without auth verifier.
    pub fn new(call_id: u32, body: Body) -> Self {
        Self {
            minor_version: 0,
            flags: PfcFlags::SINGLE,
            call_id,
            body,
            auth: None,
        }
    }

    /// The packet type.
    pub fn packet_type(&self) -> PacketType {
        self.body.packet_type()
    }

    /// Parses exactly one fragment: `bytes` must be `frag_length` long.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::read_bytes("PDU", bytes)
    }

    /// Parses the fragment at the front of `r`, consuming `frag_length` bytes.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = Header::read(r)?;
        let body_len = usize::from(header.frag_length)
            .checked_sub(HEADER_LEN)
            .ok_or(DecodeError::FragLength {
                frag_length: header.frag_length,
                minimum: HEADER_LEN,
            })?;
        let mut body = r.sub("PDU body", body_len)?;
        let auth = if header.auth_length == 0 {
            None
        } else {
            let (stub_len, auth) = AuthVerifier::read_trailer(&mut body, header.auth_length)?;
            body = Reader::new("PDU body", body.take(stub_len)?);
            Some(auth)
        };
        body.set_what(header_what(header.ptype));
        let mut flags = header.flags;
        if header.ptype == PacketType::REQUEST {
            // Carried by Request::object instead.
            flags.remove(PfcFlags::OBJECT_UUID);
        }
        Ok(Self {
            minor_version: header.minor_version,
            flags,
            call_id: header.call_id,
            body: Body::read(&header, &mut body)?,
            auth,
        })
    }

    /// Reads a value that must fill `bytes` exactly.
    pub fn read_bytes(what: &'static str, bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(what, bytes);
        let pdu = Self::read(&mut r)?;
        r.expect_empty()?;
        Ok(pdu)
    }

    /// Appends the fragment to `out` (untouched on error).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.body.check()?;
        let auth_length = match &self.auth {
            None => 0,
            Some(a) => u16::try_from(a.value.len())
                .map_err(|_| EncodeError::AuthTooLong { len: a.value.len() })?,
        };
        let mut flags = self.flags;
        if let Body::Request(req) = &self.body {
            flags.set(PfcFlags::OBJECT_UUID, req.object.is_some());
        }
        let start = out.len();
        let header = Header {
            minor_version: self.minor_version,
            ptype: self.packet_type(),
            flags,
            frag_length: 0,
            auth_length,
            call_id: self.call_id,
        };
        header.encode(out);
        let mut pdu = LengthPrefix::patch_at(out, start + 8, start);
        self.body.encode(&mut pdu);
        if let Some(auth) = &self.auth {
            auth.encode_trailer(&mut pdu);
        }
        let len = pdu.len();
        if len > usize::from(u16::MAX) {
            drop(pdu);
            out.truncate(start);
            return Err(EncodeError::FragmentTooLong { len });
        }
        Ok(())
    }

    /// The fragment as a new buffer.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

fn header_what(ptype: PacketType) -> &'static str {
    ptype.name().unwrap_or("PDU body")
}

#[cfg(test)]
mod tests;
