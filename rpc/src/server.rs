//! The server side of a connection-oriented binding (C706 12.6, MS-RPCE 3.1.1.5),
//! sans-IO: fragments in, fragments out. A [`ServerBinding`] answers bind and
//! alter_context against the [`Service`]s it offers, reassembles requests, runs the
//! operation, and fragments the response (or answers with a fault).
//!
//! Packet security is not offered: the bindings this serves sit behind SMB2 named pipes
//! (srvsvc, wkssvc, lsarpc on IPC$), whose callers the SMB session has authenticated. A
//! bind that asks for an auth verifier is refused with a bind_nak.

use crate::error::{DecodeError, EncodeError, ReassemblyError};
use crate::fragment::{Reassembler, fragment_response};
use crate::pdu::{
    Bind, BindAck, BindNak, Body, ContextResult, Fault, FaultStatus, Pdu, PfcFlags,
    ProtocolVersion, ProviderReason, RejectReason, Request, Response, ResultKind,
};
use crate::uuid::{BindTimeFeatures, SyntaxId, Uuid};

/// One RPC interface a server offers.
pub trait Service: Send {
    /// The abstract syntax clients bind to (interface UUID and version).
    fn syntax(&self) -> SyntaxId;

    /// The interface's name, for logs and errors.
    fn name(&self) -> &'static str;

    /// Runs operation `opnum` on a request stub (NDR 2.0, little-endian); returns the
    /// response stub, or the fault to answer with (`OP_RNG_ERROR`, nca_s_op_rng_error,
    /// for an unknown opnum, as Windows and Samba answer; `NDR` for arguments that do not
    /// decode).
    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus>;
}

/// The largest request stub a server binding reassembles (MS-RPCE leaves the bound to
/// the implementation; srvsvc and lsarpc requests are small).
pub const MAX_REQUEST: usize = 4 << 20;

/// The fragment size this server offers and accepts (MS-RPCE 3.3.1.5.1: at least 1432).
const MAX_FRAG: u16 = 4280;

/// What went wrong with a binding: the connection is dropped (a conforming client
/// never causes it; faults and bind_naks are answers, not errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A PDU that does not decode.
    #[error("malformed PDU from the client: {0}")]
    Decode(#[from] DecodeError),
    /// A reply that cannot be encoded.
    #[error("cannot encode the reply: {0}")]
    Encode(#[from] EncodeError),
    /// Request fragments that do not make up one call.
    #[error("malformed fragmented request: {0}")]
    Reassembly(#[from] ReassemblyError),
    /// A PDU the client may not send at this point.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    /// The transport failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        error: std::io::Error,
    },
}

/// The association's state: the services offered, the contexts bound, the call being
/// reassembled.
pub struct ServerBinding {
    services: Vec<Box<dyn Service>>,
    /// presentation context id -> index into `services`.
    contexts: Vec<(u16, usize)>,
    max_xmit: u16,
    assoc_group_id: u32,
    endpoint: String,
    max_request: usize,
    bound: bool,
    reassembling: Option<Reassembler>,
}

impl core::fmt::Debug for ServerBinding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names: Vec<_> = self.services.iter().map(|s| s.name()).collect();
        f.debug_struct("ServerBinding")
            .field("services", &names)
            .field("contexts", &self.contexts)
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl ServerBinding {
    /// A binding offering `services`. bind_ack announces `assoc_group_id` and, as its
    /// secondary address, `endpoint` (the pipe, `\PIPE\srvsvc`, or the TCP port).
    pub fn new(services: Vec<Box<dyn Service>>, assoc_group_id: u32, endpoint: &str) -> Self {
        Self {
            services,
            contexts: Vec::new(),
            max_xmit: MAX_FRAG,
            assoc_group_id,
            endpoint: endpoint.to_owned(),
            max_request: MAX_REQUEST,
            bound: false,
            reassembling: None,
        }
    }

    /// Caps a request's reassembled stub at `limit` bytes (default [`MAX_REQUEST`]): what
    /// one call may make the server hold.
    pub fn with_max_request(mut self, limit: usize) -> Self {
        self.max_request = limit;
        self
    }

    /// Handles one received fragment; returns the fragments to send back (none while
    /// a request is still arriving).
    pub fn handle_fragment(&mut self, raw: &[u8]) -> Result<Vec<Vec<u8>>, ServerError> {
        let pdu = Pdu::decode(raw)?;
        let call_id = pdu.call_id;
        let reply = match pdu.body {
            Body::Bind(bind) if !self.bound => {
                if pdu.auth.is_some() {
                    vec![nak(
                        call_id,
                        RejectReason::AUTHENTICATION_TYPE_NOT_RECOGNIZED,
                    )]
                } else {
                    self.bound = true;
                    vec![self.associate(call_id, &bind, false)]
                }
            }
            // C706 12.6.4.1: a second bind on an association is a protocol error.
            Body::Bind(_) => return Err(ServerError::Protocol("bind on a bound association")),
            Body::AlterContext(bind) if self.bound => vec![self.associate(call_id, &bind, true)],
            Body::Request(_) if self.bound => match self.request(pdu)? {
                Some(reply) => reply,
                None => return Ok(Vec::new()),
            },
            Body::Auth3(_) => {
                return Err(ServerError::Protocol("rpc_auth_3 without packet security"));
            }
            Body::CoCancel | Body::Orphaned => return Ok(Vec::new()),
            _ => {
                return Err(ServerError::Protocol(
                    "a PDU the server does not accept here",
                ));
            }
        };
        reply
            .into_iter()
            .map(|p| p.to_bytes().map_err(ServerError::from))
            .collect()
    }

    /// Answers bind or alter_context: one result per presentation context.
    fn associate(&mut self, call_id: u32, bind: &Bind, alter: bool) -> Pdu {
        if !alter {
            // MS-RPCE 3.3.1.5.1: each side sends at most what the other receives.
            self.max_xmit = bind.max_recv_frag.clamp(1432, MAX_FRAG);
        }
        let results = bind
            .contexts
            .iter()
            .map(|ctx| {
                self.context_result(ctx.context_id, ctx.abstract_syntax, &ctx.transfer_syntaxes)
            })
            .collect();
        let ack = BindAck {
            max_xmit_frag: self.max_xmit,
            max_recv_frag: MAX_FRAG,
            assoc_group_id: self.assoc_group_id,
            secondary_address: if alter {
                String::new()
            } else {
                self.endpoint.clone()
            },
            results,
        };
        let body = if alter {
            Body::AlterContextResponse(ack)
        } else {
            Body::BindAck(ack)
        };
        Pdu::new(call_id, body)
    }

    fn context_result(
        &mut self,
        id: u16,
        syntax: SyntaxId,
        transfers: &[SyntaxId],
    ) -> ContextResult {
        let reject = |reason| ContextResult {
            result: ResultKind::PROVIDER_REJECTION,
            reason,
            transfer_syntax: SyntaxId::new(Uuid::NIL, 0, 0),
        };
        // MS-RPCE 3.3.1.5.3: a bind-time feature negotiation context is acknowledged,
        // offering no features.
        if transfers
            .iter()
            .any(|t| t.as_bind_time_features().is_some())
        {
            return ContextResult {
                result: ResultKind::NEGOTIATE_ACK,
                reason: ProviderReason::new(u16::from(BindTimeFeatures::empty().bits())),
                transfer_syntax: SyntaxId::new(Uuid::NIL, 0, 0),
            };
        }
        let Some(index) = self.services.iter().position(|s| s.syntax() == syntax) else {
            return reject(ProviderReason::ABSTRACT_SYNTAX_NOT_SUPPORTED);
        };
        if !transfers.contains(&SyntaxId::NDR20) {
            return reject(ProviderReason::PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED);
        }
        self.contexts.retain(|(c, _)| *c != id);
        self.contexts.push((id, index));
        ContextResult {
            result: ResultKind::ACCEPTANCE,
            reason: ProviderReason::NOT_SPECIFIED,
            transfer_syntax: SyntaxId::NDR20,
        }
    }

    /// Collects a request's fragments; runs the call when the last one arrives.
    fn request(&mut self, pdu: Pdu) -> Result<Option<Vec<Pdu>>, ServerError> {
        let call_id = pdu.call_id;
        let reassembler = self
            .reassembling
            .get_or_insert_with(|| Reassembler::new(call_id, self.max_request));
        let Some(whole) = reassembler.push(pdu)? else {
            return Ok(None);
        };
        self.reassembling = None;
        let Body::Request(request) = whole.body else {
            return Err(ServerError::Protocol("reassembly yielded no request"));
        };
        Ok(Some(self.call(call_id, request)?))
    }

    fn call(&mut self, call_id: u32, request: Request) -> Result<Vec<Pdu>, ServerError> {
        let context_id = request.context_id;
        let Some(&(_, index)) = self.contexts.iter().find(|(c, _)| *c == context_id) else {
            return Ok(vec![fault(call_id, context_id, FaultStatus::UNK_IF)]);
        };
        let service = &mut self.services[index];
        let stub = match service.call(request.opnum, &request.stub) {
            Ok(stub) => stub,
            Err(status) => {
                tracing::debug!(service = service.name(), opnum = request.opnum, %status, "fault");
                return Ok(vec![fault(call_id, context_id, status)]);
            }
        };
        let response = Response {
            alloc_hint: u32::try_from(stub.len()).unwrap_or(u32::MAX),
            context_id,
            cancel_count: 0,
            reserved: 0,
            stub,
        };
        Ok(fragment_response(call_id, &response, self.max_xmit)?.collect())
    }
}

fn fault(call_id: u32, context_id: u16, status: FaultStatus) -> Pdu {
    let mut pdu = Pdu::new(call_id, Body::Fault(Fault::new(context_id, status)));
    // C706 12.6.4.7: a fault for a call the server did not run says so.
    pdu.flags |= PfcFlags::DID_NOT_EXECUTE;
    pdu
}

fn nak(call_id: u32, reason: RejectReason) -> Pdu {
    Pdu::new(
        call_id,
        Body::BindNak(BindNak {
            reason,
            versions: vec![ProtocolVersion { major: 5, minor: 0 }],
            extra: Vec::new(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{BindAuth, ClientBinding, RpcError};
    use crate::uuid::Uuid;

    /// An interface that echoes its stub (opnum 0), reverses it (opnum 1) and refuses
    /// everything else.
    struct Echo;

    const ECHO: SyntaxId = SyntaxId::new(
        Uuid::from_fields(0x1234_5678, 0x9abc, 0xdef0, [1, 2, 3, 4, 5, 6, 7, 8]),
        1,
        0,
    );

    impl Service for Echo {
        fn syntax(&self) -> SyntaxId {
            ECHO
        }

        fn name(&self) -> &'static str {
            "echo"
        }

        fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus> {
            match opnum {
                0 => Ok(stub.to_vec()),
                1 => Ok(stub.iter().rev().copied().collect()),
                _ => Err(FaultStatus::OP_RNG_ERROR),
            }
        }
    }

    fn echo_server() -> ServerBinding {
        ServerBinding::new(vec![Box::new(Echo)], 0x1234, r"\PIPE\echo")
    }

    /// Binds the crate's own client to `server` in memory.
    fn bound(server: &mut ServerBinding, syntax: SyntaxId) -> Result<ClientBinding, RpcError> {
        let mut client = ClientBinding::new("echo", BindAuth::None);
        let bind = client.bind_pdu(syntax)?;
        let replies = server.handle_fragment(&bind).unwrap();
        assert_eq!(replies.len(), 1);
        assert!(client.handle_bind_reply(&replies[0])?.is_none());
        Ok(client)
    }

    fn call(
        server: &mut ServerBinding,
        client: &mut ClientBinding,
        opnum: u16,
        stub: Vec<u8>,
    ) -> Result<Vec<u8>, RpcError> {
        let (fragments, mut reassembler) = client.request(opnum, stub)?;
        let mut replies = Vec::new();
        for fragment in fragments {
            replies.extend(server.handle_fragment(&fragment).unwrap());
        }
        let mut out = None;
        for reply in replies {
            out = client.response_fragment(&mut reassembler, reply)?;
        }
        Ok(out.expect("a whole response"))
    }

    #[test]
    fn client_and_server_bindings_carry_calls_of_many_fragments() {
        let mut server = echo_server();
        let mut client = bound(&mut server, ECHO).unwrap();
        assert_eq!(
            call(&mut server, &mut client, 0, b"hi".to_vec()).unwrap(),
            b"hi"
        );
        // 20,000 bytes each way: several fragments of at most 4280 bytes.
        let big: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        let back = call(&mut server, &mut client, 1, big.clone()).unwrap();
        assert_eq!(back, big.iter().rev().copied().collect::<Vec<_>>());
    }

    #[test]
    fn unknown_operations_and_interfaces_are_refused_in_protocol() {
        let mut server = echo_server();
        let mut client = bound(&mut server, ECHO).unwrap();
        assert!(matches!(
            call(&mut server, &mut client, 9, vec![]),
            Err(RpcError::Fault(FaultStatus::OP_RNG_ERROR))
        ));
        // The binding still works after a fault.
        assert_eq!(call(&mut server, &mut client, 0, vec![7]).unwrap(), [7]);

        let mut other = echo_server();
        assert!(matches!(
            bound(&mut other, SyntaxId::SAMR),
            Err(RpcError::BindRefused { .. })
        ));
    }

    #[test]
    fn a_bind_asking_for_packet_security_is_refused() {
        let mut server = echo_server();
        let (ntlm, negotiate) = adjoin_auth::ntlm::NtlmClient::new("a", "B", "c", "D").unwrap();
        let mut client = ClientBinding::new(
            "echo",
            BindAuth::Ntlm {
                client: ntlm,
                negotiate,
                level: crate::pdu::AuthLevel::PKT_PRIVACY,
            },
        );
        let bind = client.bind_pdu(ECHO).unwrap();
        let replies = server.handle_fragment(&bind).unwrap();
        assert!(matches!(
            Pdu::decode(&replies[0]).unwrap().body,
            Body::BindNak(BindNak {
                reason: RejectReason::AUTHENTICATION_TYPE_NOT_RECOGNIZED,
                ..
            })
        ));
    }

    #[test]
    fn out_of_place_pdus_end_the_binding() {
        let mut server = echo_server();
        let mut client = ClientBinding::new("echo", BindAuth::None);
        let bind = client.bind_pdu(ECHO).unwrap();
        // A request before any bind, then a second bind.
        let (request, _) = client.request(0, vec![1]).unwrap();
        assert!(server.handle_fragment(&request[0]).is_err());
        server.handle_fragment(&bind).unwrap();
        assert!(server.handle_fragment(&bind).is_err());
        assert!(server.handle_fragment(&[0xff; 40]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let mut server = echo_server();
            let _ = server.handle_fragment(&data);
            let mut bound_server = echo_server();
            let _ = bound(&mut bound_server, ECHO);
            let _ = bound_server.handle_fragment(&data);
        }
    }
}
