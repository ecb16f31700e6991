//! Association PDUs: bind / alter_context, bind_ack / alter_context_resp,
//! and bind_nak (C706 12.6.4.1–12.6.4.5, MS-RPCE 2.2.2.4–2.2.2.9).

use crate::codec::{Codec, LengthPrefix, Reader, pad_to};
use crate::error::{DecodeError, EncodeError};
use crate::uuid::{BindTimeFeatures, SyntaxId};

open_enum! {
    /// C706 12.6.3.1 `p_cont_def_result_t` (MS-RPCE 2.2.2.4 adds
    /// negotiate_ack).
    pub struct ResultKind(u16) {
        /// The context is usable.
        ACCEPTANCE = 0 => "acceptance",
        /// The server application refused it.
        USER_REJECTION = 1 => "user_rejection",
        /// The runtime refused it (see the reason).
        PROVIDER_REJECTION = 2 => "provider_rejection",
        /// MS-RPCE 3.3.1.5.3: answer to a bind-time feature negotiation
        /// context; the reason field carries the accepted features.
        NEGOTIATE_ACK = 3 => "negotiate_ack",
    }
}

open_enum! {
    /// C706 12.6.3.1 `p_provider_reason_t`.
    pub struct ProviderReason(u16) {
        /// No reason given.
        NOT_SPECIFIED = 0 => "reason_not_specified",
        /// The server does not offer the interface (or that version).
        ABSTRACT_SYNTAX_NOT_SUPPORTED = 1 => "abstract_syntax_not_supported",
        /// None of the transfer syntaxes is supported (e.g. NDR64 at Samba).
        PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED = 2 => "proposed_transfer_syntaxes_not_supported",
        /// Out of resources.
        LOCAL_LIMIT_EXCEEDED = 3 => "local_limit_exceeded",
    }
}

open_enum! {
    /// C706 12.6.3.1 `p_reject_reason_t` (MS-RPCE 2.2.2.5 adds 8 and 9).
    pub struct RejectReason(u16) {
        /// No reason given.
        NOT_SPECIFIED = 0 => "reason_not_specified",
        /// Temporary congestion.
        TEMPORARY_CONGESTION = 1 => "temporary_congestion",
        /// Out of resources.
        LOCAL_LIMIT_EXCEEDED = 2 => "local_limit_exceeded",
        /// Unknown called address.
        CALLED_PADDR_UNKNOWN = 3 => "called_paddr_unknown",
        /// The protocol version is not supported.
        PROTOCOL_VERSION_NOT_SUPPORTED = 4 => "protocol_version_not_supported",
        /// Default context not supported.
        DEFAULT_CONTEXT_NOT_SUPPORTED = 5 => "default_context_not_supported",
        /// User data not readable.
        USER_DATA_NOT_READABLE = 6 => "user_data_not_readable",
        /// No presentation service access point.
        NO_PSAP_AVAILABLE = 7 => "no_psap_available",
        /// The auth type is not recognized.
        AUTHENTICATION_TYPE_NOT_RECOGNIZED = 8 => "authentication_type_not_recognized",
        /// The auth verifier's checksum is wrong.
        INVALID_CHECKSUM = 9 => "invalid_checksum",
    }
}

/// C706 12.6.3.1 `p_cont_elem_t`: one presentation context offered in a bind.
///
/// ```text
/// p_cont_id u16 | n_transfer_syn u8 | reserved u8
/// abstract_syntax p_syntax_id_t (20)
/// transfer_syntaxes [n_transfer_syn] p_syntax_id_t
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ContextElement {
    /// `p_cont_id`, chosen by the client.
    pub context_id: u16,
    /// The interface.
    pub abstract_syntax: SyntaxId,
    /// Transfer syntaxes offered, in order of preference.
    pub transfer_syntaxes: Vec<SyntaxId>,
}

impl Codec for ContextElement {
    fn encode(&self, out: &mut Vec<u8>) {
        self.context_id.encode(out);
        out.extend_from_slice(&[count8(self.transfer_syntaxes.len()), 0]);
        self.abstract_syntax.encode(out);
        for syntax in &self.transfer_syntaxes {
            syntax.encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let context_id = r.u16()?;
        let [n_transfer, _reserved] = r.array()?;
        let abstract_syntax = SyntaxId::read(r)?;
        let transfer_syntaxes = (0..n_transfer)
            .map(|_| SyntaxId::read(r))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            context_id,
            abstract_syntax,
            transfer_syntaxes,
        })
    }
}

/// C706 12.6.4.3 bind (and 12.6.4.1 alter_context, the same layout).
///
/// ```text
/// max_xmit_frag u16 | max_recv_frag u16 | assoc_group_id u32
/// p_context_elem p_cont_list_t:
///     n_context_elem u8 | reserved u8 | reserved2 u16
///     p_cont_elem [n_context_elem] p_cont_elem_t
/// [auth_verifier]
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Bind {
    /// Largest fragment the client will send.
    pub max_xmit_frag: u16,
    /// Largest fragment the client will accept.
    pub max_recv_frag: u16,
    /// Association group to join (0: a new one).
    pub assoc_group_id: u32,
    /// Presentation contexts offered.
    pub contexts: Vec<ContextElement>,
}

impl Bind {
    pub(super) fn check(&self) -> Result<(), EncodeError> {
        check_count("p_cont_list_t", self.contexts.len())?;
        for context in &self.contexts {
            check_count("transfer_syntaxes", context.transfer_syntaxes.len())?;
        }
        Ok(())
    }
}

impl Codec for Bind {
    fn encode(&self, out: &mut Vec<u8>) {
        self.max_xmit_frag.encode(out);
        self.max_recv_frag.encode(out);
        self.assoc_group_id.encode(out);
        out.extend_from_slice(&[count8(self.contexts.len()), 0, 0, 0]);
        for context in &self.contexts {
            context.encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let max_xmit_frag = r.u16()?;
        let max_recv_frag = r.u16()?;
        let assoc_group_id = r.u32()?;
        let [n_context, _reserved, _, _] = r.array()?;
        let contexts = (0..n_context)
            .map(|_| ContextElement::read(r))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            contexts,
        })
    }
}

/// C706 12.6.3.1 `p_result_t`: the server's answer for one offered context.
///
/// ```text
/// result u16 | reason u16 | transfer_syntax p_syntax_id_t (20)
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ContextResult {
    /// `result`.
    pub result: ResultKind,
    /// `reason` (for negotiate_ack: the accepted feature bits).
    pub reason: ProviderReason,
    /// The transfer syntax chosen (zero when rejected).
    pub transfer_syntax: SyntaxId,
}

impl ContextResult {
    /// Whether the context was accepted.
    pub fn is_accepted(&self) -> bool {
        self.result == ResultKind::ACCEPTANCE
    }

    /// MS-RPCE 3.3.1.5.3: the features the server accepts, for a
    /// negotiate_ack result.
    pub fn features(&self) -> Option<BindTimeFeatures> {
        (self.result == ResultKind::NEGOTIATE_ACK)
            .then(|| BindTimeFeatures::from_bits_retain(self.reason.value().to_le_bytes()[0]))
    }
}

impl Codec for ContextResult {
    fn encode(&self, out: &mut Vec<u8>) {
        self.result.value().encode(out);
        self.reason.value().encode(out);
        self.transfer_syntax.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            result: ResultKind::new(r.u16()?),
            reason: ProviderReason::new(r.u16()?),
            transfer_syntax: SyntaxId::read(r)?,
        })
    }
}

/// C706 12.6.4.4 bind_ack (and 12.6.4.2 alter_context_resp, the same layout).
///
/// ```text
/// max_xmit_frag u16 | max_recv_frag u16 | assoc_group_id u32
/// sec_addr port_any_t: length u16 | port_spec [length] (NUL-terminated)
/// pad to 4 (from the start of the PDU)
/// p_result_list p_result_list_t:
///     n_results u8 | reserved u8 | reserved2 u16
///     p_results [n_results] p_result_t
/// [auth_verifier]
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BindAck {
    /// Largest fragment the server will send.
    pub max_xmit_frag: u16,
    /// Largest fragment the server will accept.
    pub max_recv_frag: u16,
    /// The association group the connection belongs to.
    pub assoc_group_id: u32,
    /// Secondary address: the port (ncacn_ip_tcp) or pipe name the server
    /// listens on, without the terminating NUL; empty in alter_context_resp.
    pub secondary_address: String,
    /// One result per offered context, in order.
    pub results: Vec<ContextResult>,
}

impl BindAck {
    pub(super) fn check(&self) -> Result<(), EncodeError> {
        check_count("p_result_list_t", self.results.len())
    }
}

impl Codec for BindAck {
    fn encode(&self, out: &mut Vec<u8>) {
        // The body starts at PDU offset 16, so aligning from the body's start
        // is aligning from the PDU's.
        let start = out.len();
        self.max_xmit_frag.encode(out);
        self.max_recv_frag.encode(out);
        self.assoc_group_id.encode(out);
        {
            let mut port = LengthPrefix::new(out);
            if !self.secondary_address.is_empty() {
                port.extend_from_slice(self.secondary_address.as_bytes());
                port.push(0);
            }
        }
        pad_to(out, start, 4);
        out.extend_from_slice(&[count8(self.results.len()), 0, 0, 0]);
        for result in &self.results {
            result.encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let max_xmit_frag = r.u16()?;
        let max_recv_frag = r.u16()?;
        let assoc_group_id = r.u32()?;
        let port_len = usize::from(r.u16()?);
        let secondary_address = port_spec(r.take(port_len)?)?;
        // The reader starts at PDU offset 16, a multiple of 4.
        r.align(4)?;
        let [n_results, _reserved, _, _] = r.array()?;
        let results = (0..n_results)
            .map(|_| ContextResult::read(r))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            secondary_address,
            results,
        })
    }
}

/// `port_spec`: empty, or ASCII without NUL followed by one NUL.
fn port_spec(bytes: &[u8]) -> Result<String, DecodeError> {
    let bad = DecodeError::BadString {
        what: "bind_ack sec_addr",
    };
    match bytes.split_last() {
        None => Ok(String::new()),
        Some((0, text)) if text.iter().all(|&b| b.is_ascii() && b != 0) => {
            String::from_utf8(text.to_vec()).map_err(|_| bad)
        }
        Some(_) => Err(bad),
    }
}

/// C706 12.6.3.1 `version_t` inside `p_rt_versions_supported_t`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProtocolVersion {
    /// `major`.
    pub major: u8,
    /// `minor`.
    pub minor: u8,
}

/// C706 12.6.4.5 bind_nak (MS-RPCE 2.2.2.9).
///
/// ```text
/// provider_reject_reason u16
/// versions p_rt_versions_supported_t: n_protocols u8 | p_protocols [n] (major u8, minor u8)
/// [MS-RPCE: pad, signature (16), extended error info]   (kept opaque)
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BindNak {
    /// Why the bind was refused.
    pub reason: RejectReason,
    /// Protocol versions the server supports.
    pub versions: Vec<ProtocolVersion>,
    /// Whatever follows the version list (MS-RPCE's optional signature and
    /// extended error information), unparsed.
    pub extra: Vec<u8>,
}

impl BindNak {
    pub(super) fn check(&self) -> Result<(), EncodeError> {
        check_count("p_rt_versions_supported_t", self.versions.len())
    }
}

impl Codec for BindNak {
    fn encode(&self, out: &mut Vec<u8>) {
        self.reason.value().encode(out);
        out.push(count8(self.versions.len()));
        for v in &self.versions {
            out.extend_from_slice(&[v.major, v.minor]);
        }
        out.extend_from_slice(&self.extra);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let reason = RejectReason::new(r.u16()?);
        let n = r.u8()?;
        let versions = (0..n)
            .map(|_| {
                let [major, minor] = r.array()?;
                Ok(ProtocolVersion { major, minor })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(Self {
            reason,
            versions,
            extra: r.rest().to_vec(),
        })
    }
}

/// An 8-bit count already checked by `check_count`.
fn count8(len: usize) -> u8 {
    u8::try_from(len).unwrap_or(u8::MAX)
}

fn check_count(what: &'static str, count: usize) -> Result<(), EncodeError> {
    match u8::try_from(count) {
        Ok(_) => Ok(()),
        Err(_) => Err(EncodeError::TooManyElements { what, count }),
    }
}
