//! Call PDUs: request, response, fault (C706 12.6.4.7, 12.6.4.9, 12.6.4.10)
//! and rpc_auth_3 (MS-RPCE 2.2.2.10).

use crate::codec::{Codec, Reader};
use crate::error::DecodeError;
use crate::uuid::Uuid;

/// C706 12.6.4.9 request.
///
/// ```text
/// alloc_hint u32 | p_cont_id u16 | opnum u16
/// [object uuid_t (16), present iff PFC_OBJECT_UUID]
/// stub data (8-aligned: starts at PDU offset 24 or 40)
/// [auth_verifier]
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Request {
    /// Total stub length of the call from this fragment on (a hint).
    pub alloc_hint: u32,
    /// Presentation context negotiated at bind.
    pub context_id: u16,
    /// Operation number within the interface.
    pub opnum: u16,
    /// Object UUID (sets PFC_OBJECT_UUID).
    pub object: Option<Uuid>,
    /// NDR-encoded arguments (of this fragment).
    pub stub: Vec<u8>,
}

impl Request {
    /// Length of the fixed part before the stub.
    pub fn header_len(&self) -> usize {
        8 + if self.object.is_some() { 16 } else { 0 }
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        self.alloc_hint.encode(out);
        self.context_id.encode(out);
        self.opnum.encode(out);
        if let Some(object) = &self.object {
            object.encode(out);
        }
        out.extend_from_slice(&self.stub);
    }

    pub(super) fn read(r: &mut Reader<'_>, has_object: bool) -> Result<Self, DecodeError> {
        Ok(Self {
            alloc_hint: r.u32()?,
            context_id: r.u16()?,
            opnum: r.u16()?,
            object: has_object.then(|| Uuid::read(r)).transpose()?,
            stub: r.rest().to_vec(),
        })
    }
}

/// C706 12.6.4.10 response.
///
/// ```text
/// alloc_hint u32 | p_cont_id u16 | cancel_count u8 | reserved u8
/// stub data (8-aligned: starts at PDU offset 24)
/// [auth_verifier]
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Response {
    /// Total stub length of the result from this fragment on (a hint).
    pub alloc_hint: u32,
    /// Presentation context of the call.
    pub context_id: u16,
    /// Cancels the server received for the call.
    pub cancel_count: u8,
    /// `reserved`.
    pub reserved: u8,
    /// NDR-encoded results (of this fragment).
    pub stub: Vec<u8>,
}

impl Codec for Response {
    fn encode(&self, out: &mut Vec<u8>) {
        self.alloc_hint.encode(out);
        self.context_id.encode(out);
        out.extend_from_slice(&[self.cancel_count, self.reserved]);
        out.extend_from_slice(&self.stub);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let alloc_hint = r.u32()?;
        let context_id = r.u16()?;
        let [cancel_count, reserved] = r.array()?;
        Ok(Self {
            alloc_hint,
            context_id,
            cancel_count,
            reserved,
            stub: r.rest().to_vec(),
        })
    }
}

/// C706 12.6.4.7 fault.
///
/// ```text
/// alloc_hint u32 | p_cont_id u16 | cancel_count u8 | reserved u8
/// status u32 | reserved2 u32
/// stub data (extended error information, MS-EERR; usually empty)
/// [auth_verifier]
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fault {
    /// Length of the stub data (a hint).
    pub alloc_hint: u32,
    /// Presentation context of the failed call.
    pub context_id: u16,
    /// Cancels the server received for the call.
    pub cancel_count: u8,
    /// `reserved`.
    pub reserved: u8,
    /// Why the call failed.
    pub status: FaultStatus,
    /// `reserved2`.
    pub reserved2: u32,
    /// Stub data (extended error information), usually empty.
    pub stub: Vec<u8>,
}

impl Fault {
    /// A fault with `status` for a call on `context_id`, no stub.
    pub fn new(context_id: u16, status: FaultStatus) -> Self {
        Self {
            alloc_hint: 0,
            context_id,
            cancel_count: 0,
            reserved: 0,
            status,
            reserved2: 0,
            stub: Vec::new(),
        }
    }
}

impl Codec for Fault {
    fn encode(&self, out: &mut Vec<u8>) {
        self.alloc_hint.encode(out);
        self.context_id.encode(out);
        out.extend_from_slice(&[self.cancel_count, self.reserved]);
        self.status.value().encode(out);
        self.reserved2.encode(out);
        out.extend_from_slice(&self.stub);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let alloc_hint = r.u32()?;
        let context_id = r.u16()?;
        let [cancel_count, reserved] = r.array()?;
        Ok(Self {
            alloc_hint,
            context_id,
            cancel_count,
            reserved,
            status: FaultStatus::new(r.u32()?),
            reserved2: r.u32()?,
            stub: r.rest().to_vec(),
        })
    }
}

/// MS-RPCE 2.2.2.10 rpc_auth_3: four ignored bytes, then the auth verifier
/// (the third NTLM leg).
///
/// ```text
/// pad [4] (MUST be ignored) | auth_verifier
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Auth3 {
    /// The four ignored bytes, kept so a capture re-encodes identically.
    pub pad: [u8; 4],
}

impl Codec for Auth3 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pad);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { pad: r.array()? })
    }
}

open_enum! {
    /// C706 Appendix E (`nca_s_*`) and MS-RPCE 3.1.1.5.5 (Windows error
    /// codes servers send): the fault PDU's `status`.
    pub struct FaultStatus(u32) {
        /// MS-RPCE: unspecified failure.
        OTHER = 0x0000_0001 => "nca_s_fault_other",
        /// MS-RPCE 3.2.3.5.1: the authorization policy denied the call.
        ACCESS_DENIED = 0x0000_0005 => "nca_s_fault_access_denied",
        /// RPC_S_SERVER_UNAVAILABLE.
        SERVER_UNAVAILABLE = 0x0000_06ba => "rpc_s_server_unavailable",
        /// RPC_S_CALL_FAILED.
        CALL_FAILED = 0x0000_06be => "rpc_s_call_failed",
        /// RPC_S_PROTOCOL_ERROR.
        PROTOCOL_ERROR = 0x0000_06c0 => "rpc_s_protocol_error",
        /// RPC_S_INVALID_TAG: a union discriminant the server does not know.
        INVALID_TAG = 0x0000_06c5 => "rpc_s_invalid_tag",
        /// RPC_S_INVALID_BOUND: an array bound is wrong.
        INVALID_BOUND = 0x0000_06c6 => "rpc_s_invalid_bound",
        /// RPC_S_PROCNUM_OUT_OF_RANGE: no such opnum.
        PROCNUM_OUT_OF_RANGE = 0x0000_06d1 => "rpc_s_procnum_out_of_range",
        /// RPC_S_CANNOT_SUPPORT.
        CANT_PERFORM = 0x0000_06d8 => "nca_s_fault_cant_perform",
        /// EPT_S_NOT_REGISTERED: the endpoint mapper knows no such interface.
        EPT_NOT_REGISTERED = 0x0000_06d9 => "ept_s_not_registered",
        /// RPC_X_BAD_STUB_DATA: the server could not unmarshal the arguments.
        NDR = 0x0000_06f7 => "nca_s_fault_ndr",
        /// RPC_S_CALL_CANCELLED.
        CALL_CANCELLED = 0x0000_071a => "rpc_s_call_cancelled",
        /// RPC_S_SEC_PKG_ERROR: the security provider failed.
        SEC_PKG_ERROR = 0x0000_0721 => "rpc_s_sec_pkg_error",
        /// Integer division by zero in the server.
        INT_DIV_BY_ZERO = 0x1c00_0001 => "nca_s_fault_int_div_by_zero",
        /// Address error in the server.
        ADDR_ERROR = 0x1c00_0002 => "nca_s_fault_addr_error",
        /// Floating-point division by zero.
        FP_DIV_ZERO = 0x1c00_0003 => "nca_s_fault_fp_div_zero",
        /// Floating-point underflow.
        FP_UNDERFLOW = 0x1c00_0004 => "nca_s_fault_fp_underflow",
        /// Floating-point overflow.
        FP_OVERFLOW = 0x1c00_0005 => "nca_s_fault_fp_overflow",
        /// Unknown union discriminant.
        FAULT_INVALID_TAG = 0x1c00_0006 => "nca_s_fault_invalid_tag",
        /// Array bound out of range.
        FAULT_INVALID_BOUND = 0x1c00_0007 => "nca_s_fault_invalid_bound",
        /// RPC protocol version mismatch.
        RPC_VERSION_MISMATCH = 0x1c00_0008 => "nca_rpc_version_mismatch",
        /// Unspecified rejection.
        UNSPEC_REJECT = 0x1c00_0009 => "nca_unspec_reject",
        /// Bad activity id.
        BAD_ACTID = 0x1c00_000a => "nca_s_bad_actid",
        /// Who-are-you callback failed.
        WHO_ARE_YOU_FAILED = 0x1c00_000b => "nca_who_are_you_failed",
        /// The manager routine was not entered.
        MANAGER_NOT_ENTERED = 0x1c00_000c => "nca_manager_not_entered",
        /// The call was cancelled.
        CANCEL = 0x1c00_000d => "nca_s_fault_cancel",
        /// Illegal instruction.
        ILL_INST = 0x1c00_000e => "nca_s_fault_ill_inst",
        /// Floating-point error.
        FP_ERROR = 0x1c00_000f => "nca_s_fault_fp_error",
        /// Integer overflow.
        INT_OVERFLOW = 0x1c00_0010 => "nca_s_fault_int_overflow",
        /// Unspecified fault.
        UNSPEC = 0x1c00_0012 => "nca_s_fault_unspec",
        /// Communication failure to a further server.
        REMOTE_COMM_FAILURE = 0x1c00_0013 => "nca_s_fault_remote_comm_failure",
        /// Pipe empty.
        PIPE_EMPTY = 0x1c00_0014 => "nca_s_fault_pipe_empty",
        /// Pipe closed.
        PIPE_CLOSED = 0x1c00_0015 => "nca_s_fault_pipe_closed",
        /// Pipe order.
        PIPE_ORDER = 0x1c00_0016 => "nca_s_fault_pipe_order",
        /// Pipe discipline.
        PIPE_DISCIPLINE = 0x1c00_0017 => "nca_s_fault_pipe_discipline",
        /// Pipe communication error.
        PIPE_COMM_ERROR = 0x1c00_0018 => "nca_s_fault_pipe_comm_error",
        /// Pipe memory.
        PIPE_MEMORY = 0x1c00_0019 => "nca_s_fault_pipe_memory",
        /// A context handle the server does not know.
        CONTEXT_MISMATCH = 0x1c00_001a => "nca_s_fault_context_mismatch",
        /// The server ran out of memory.
        REMOTE_NO_MEMORY = 0x1c00_001b => "nca_s_fault_remote_no_memory",
        /// No such presentation context.
        INVALID_PRES_CONTEXT_ID = 0x1c00_001c => "nca_invalid_pres_context_id",
        /// The authentication level is not supported.
        UNSUPPORTED_AUTHN_LEVEL = 0x1c00_001d => "nca_unsupported_authn_level",
        /// Bad checksum (signature).
        INVALID_CHECKSUM = 0x1c00_001f => "nca_invalid_checksum",
        /// Bad CRC.
        INVALID_CRC = 0x1c00_0020 => "nca_invalid_crc",
        /// User-defined fault.
        USER_DEFINED = 0x1c00_0021 => "nca_s_fault_user_defined",
        /// Transaction open failed.
        TX_OPEN_FAILED = 0x1c00_0022 => "nca_s_fault_tx_open_failed",
        /// Code set conversion error.
        CODESET_CONV_ERROR = 0x1c00_0023 => "nca_s_fault_codeset_conv_error",
        /// Object not found.
        OBJECT_NOT_FOUND = 0x1c00_0024 => "nca_s_fault_object_not_found",
        /// No client stub.
        NO_CLIENT_STUB = 0x1c00_0025 => "nca_s_fault_no_client_stub",
        /// Communication failure.
        COMM_FAILURE = 0x1c01_0001 => "nca_s_comm_failure",
        /// No such operation in the interface.
        OP_RNG_ERROR = 0x1c01_0002 => "nca_s_op_rng_error",
        /// Unknown interface.
        UNK_IF = 0x1c01_0003 => "nca_s_unk_if",
        /// Wrong server boot time.
        WRONG_BOOT_TIME = 0x1c01_0006 => "nca_s_wrong_boot_time",
        /// The server restarted during the call.
        YOU_CRASHED = 0x1c01_0009 => "nca_s_you_crashed",
        /// Protocol error.
        PROTO_ERROR = 0x1c01_000b => "nca_s_proto_error",
        /// Output arguments too big.
        OUT_ARGS_TOO_BIG = 0x1c01_0013 => "nca_s_out_args_too_big",
        /// The server is too busy.
        SERVER_TOO_BUSY = 0x1c01_0014 => "nca_s_server_too_busy",
        /// Fault string too long.
        FAULT_STRING_TOO_LONG = 0x1c01_0015 => "nca_s_fault_string_too_long",
        /// Unsupported type.
        UNSUPPORTED_TYPE = 0x1c01_0017 => "nca_s_unsupported_type",
    }
}
