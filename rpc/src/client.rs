//! The client side of a connection-oriented binding, sans-IO: builds the
//! bind, checks the bind_ack, turns a call into protected request
//! fragments and protected response fragments back into a stub.
//!
//! A transport (see [`crate::tcp`]) moves the bytes; nothing here blocks.

use std::time::SystemTime;

use crate::error::{DecodeError, EncodeError, ReassemblyError};
use crate::fragment::{Reassembler, fragment_request};
use crate::pdu::{
    Auth3, AuthLevel, AuthType, AuthVerifier, Bind, Body, ContextElement, FaultStatus, HEADER_LEN,
    Header, PacketType, Pdu, Request, SEC_TRAILER_LEN,
};
use adjoin_auth::gss::GssError;
use adjoin_auth::krb::Credentials;
use adjoin_auth::ntlm::{self, ClientNonces, NtlmClient, NtlmSession};

use crate::krb5::KerberosProvider;
use crate::schannel::{self, Schannel, SchannelError};
use crate::uuid::SyntaxId;

/// The fragment size Adjoin offers (what Windows offers on TCP).
pub const MAX_FRAG: u16 = 5840;

/// Largest reassembled response accepted (NETLOGON, LSA and SAMR replies
/// are far smaller).
const MAX_RESPONSE: usize = 16 << 20;

/// Why a call or binding failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// Bytes from the server that are not a well-formed PDU or stub.
    #[error("malformed reply from the server: {0}")]
    Decode(DecodeError),
    /// A PDU that cannot be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(EncodeError),
    /// Response fragments that do not make up one call.
    #[error("malformed fragmented reply: {0}")]
    Reassembly(ReassemblyError),
    /// The server refused the bind.
    #[error("the server refused to bind {interface}: {reason}")]
    BindRefused {
        /// The interface.
        interface: &'static str,
        /// The bind_nak or context result reason.
        reason: String,
    },
    /// The call failed with a fault PDU.
    #[error("the server rejected the call with fault {0}")]
    Fault(FaultStatus),
    /// A protected PDU failed verification.
    #[error("packet security: {0}")]
    Security(SchannelError),
    /// A PDU that breaks the protocol at this point.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    /// The system random source failed.
    #[error("the system random source failed: {0}")]
    Random(getrandom::Error),
    /// The NTLMSSP exchange failed (a malformed CHALLENGE, or one without the
    /// security Adjoin requires).
    #[error("NTLM: {0}")]
    Ntlm(String),
    /// The Kerberos exchange failed (the DC refused the ticket, or its AP-REP does not
    /// prove it holds the key), or a Kerberos-protected PDU failed its checks.
    #[error("Kerberos: {0}")]
    Kerberos(GssError),
    /// The transport failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// The error (not a `source`: the message carries it).
        error: std::io::Error,
    },
    /// The server did not answer in time.
    #[error("{0}: no answer within the timeout")]
    Timeout(String),
}

macro_rules! from_error {
    ($($ty:ty => $variant:ident),*) => {$(
        impl From<$ty> for RpcError {
            fn from(e: $ty) -> Self {
                Self::$variant(e)
            }
        }
    )*};
}

// Not `#[from]`: the messages already carry the inner error's text, and a
// source would print it twice in a chain.
from_error!(
    DecodeError => Decode,
    EncodeError => Encode,
    ReassemblyError => Reassembly,
    SchannelError => Security,
    GssError => Kerberos
);

/// How a binding is authenticated.
#[derive(Debug)]
pub enum BindAuth {
    /// No packet security (endpoint mapper, NETLOGON's challenge calls).
    None,
    /// The Netlogon SSP with a secure channel's session key.
    Schannel {
        /// The secure channel's context.
        context: Schannel,
        /// The NetBIOS domain name.
        domain: String,
        /// This computer's NetBIOS name (as in NetrServerAuthenticate3).
        computer: String,
        /// Integrity or privacy.
        level: AuthLevel,
    },
    /// NTLMSSP (MS-RPCE 3.3.1.5.2.1: bind with NEGOTIATE, bind_ack with CHALLENGE,
    /// rpc_auth_3 with AUTHENTICATE), as a domain user.
    Ntlm {
        /// The exchange, after its NEGOTIATE_MESSAGE.
        client: NtlmClient,
        /// The NEGOTIATE_MESSAGE for the bind.
        negotiate: Vec<u8>,
        /// Integrity or privacy.
        level: AuthLevel,
    },
    /// Kerberos, DCE style (MS-RPCE 3.3.1.5.2, MS-KILE 3.4.5: bind with an AP-REQ,
    /// bind_ack with the server's AP-REP, rpc_auth_3 with the client's AP-REP).
    Kerberos {
        /// A service ticket for the server (e.g. `host/dc1.example.test` or the DC's
        /// account) and its session key.
        credentials: Box<Credentials>,
        /// Integrity or privacy.
        level: AuthLevel,
    },
}

/// The auth context id Adjoin uses for its one auth context per binding.
const AUTH_CONTEXT_ID: u32 = 1;

/// A binding's security provider, by stage.
enum Provider {
    Schannel(Schannel),
    /// NTLMSSP before the CHALLENGE arrived.
    NtlmPending(NtlmClient),
    Ntlm(Box<NtlmSession>),
    Kerberos(KerberosProvider),
    /// The exchange failed part-way: the binding cannot protect anything.
    Failed,
}

impl Provider {
    fn auth_type(&self) -> AuthType {
        match self {
            Self::Schannel(_) => AuthType::NETLOGON,
            Self::Kerberos(_) => AuthType::GSS_KERBEROS,
            Self::NtlmPending(_) | Self::Ntlm(_) | Self::Failed => AuthType::WINNT,
        }
    }

    fn signature_len(&self, seal: bool) -> Result<usize, RpcError> {
        match self {
            Self::Schannel(_) => Ok(schannel::SIGNATURE_LEN),
            Self::Kerberos(k) => k.signature_len(seal),
            Self::NtlmPending(_) | Self::Ntlm(_) | Self::Failed => Ok(ntlm::SIGNATURE_LEN),
        }
    }
}

struct Security {
    provider: Provider,
    level: AuthLevel,
    /// The first token for the bind, until it is sent.
    bind_token: Option<Vec<u8>>,
}

impl Security {
    /// Whether PDUs are sealed as well as signed (privacy level).
    fn sealed(&self) -> bool {
        self.level == AuthLevel::PKT_PRIVACY
    }

    fn signature_len(&self) -> Result<usize, RpcError> {
        self.provider.signature_len(self.sealed())
    }

    /// Signs (and at privacy level seals) the PDU in `raw`: its stub and padding are
    /// `data`, its signature goes at `sig_at` (the end).
    fn protect(
        &mut self,
        raw: &mut [u8],
        data: core::ops::Range<usize>,
        sig_at: usize,
    ) -> Result<(), RpcError> {
        let seal = self.sealed();
        let (pdu, sig) = raw.split_at_mut(sig_at);
        match &mut self.provider {
            // The Netlogon SSP signs the stub only (no header signing is negotiated).
            Provider::Schannel(s) => {
                let signature = s.protect(&mut pdu[data]).map_err(RpcError::Random)?;
                sig.copy_from_slice(&signature);
            }
            // NTLMSSP signs the whole PDU up to the signature, sealing only the stub.
            Provider::Ntlm(n) if seal => {
                let (before, stub, after) = split_around(pdu, data);
                sig.copy_from_slice(&n.seal_parts(before, stub, after));
            }
            Provider::Ntlm(n) => sig.copy_from_slice(&n.sign(pdu)),
            // Kerberos protects the stub and auth padding only (no header signing).
            Provider::Kerberos(k) => {
                let token = k.protect(&mut pdu[data], seal)?;
                if token.len() != sig.len() {
                    return Err(RpcError::Protocol(
                        "the Kerberos signature is not the length reserved for it",
                    ));
                }
                sig.copy_from_slice(&token);
            }
            Provider::NtlmPending(_) | Provider::Failed => {
                return Err(RpcError::Protocol(
                    "a call before the NTLM exchange finished",
                ));
            }
        }
        Ok(())
    }

    /// Checks (and at privacy level unseals) a received PDU, the inverse of
    /// [`Security::protect`].
    fn unprotect(
        &mut self,
        raw: &mut [u8],
        data: core::ops::Range<usize>,
        sig_at: usize,
    ) -> Result<(), RpcError> {
        let seal = self.sealed();
        let (pdu, sig) = raw.split_at_mut(sig_at);
        match &mut self.provider {
            Provider::Schannel(s) => s.unprotect(&mut pdu[data], sig)?,
            Provider::Ntlm(n) => {
                let checked = if seal {
                    let (before, stub, after) = split_around(pdu, data);
                    n.unseal_parts(before, stub, after, sig)
                } else {
                    n.verify(pdu, sig)
                };
                checked.map_err(|e| RpcError::Ntlm(format!("reply signature: {e}")))?;
            }
            Provider::Kerberos(k) => k.unprotect(&mut pdu[data], sig, seal)?,
            Provider::NtlmPending(_) | Provider::Failed => {
                return Err(RpcError::Protocol(
                    "a reply before the NTLM exchange finished",
                ));
            }
        }
        Ok(())
    }
}

/// The rpc_auth_3 PDU carrying a provider's third-leg `token`, for
/// [`ClientBinding::handle_bind_reply`].
fn auth3(
    call_id: u32,
    auth_type: AuthType,
    level: AuthLevel,
    token: Vec<u8>,
) -> Result<Option<Vec<u8>>, RpcError> {
    let mut pdu = Pdu::new(call_id, Body::Auth3(Auth3::default()));
    pdu.auth = Some(AuthVerifier::new(auth_type, level, AUTH_CONTEXT_ID, token));
    Ok(Some(pdu.to_bytes()?))
}

/// `pdu` as the bytes before `data`, the `data` range itself (to seal or unseal in
/// place) and the bytes after it, which NTLMSSP signs along with it.
fn split_around(pdu: &mut [u8], data: core::ops::Range<usize>) -> (&[u8], &mut [u8], &[u8]) {
    let (before, rest) = pdu.split_at_mut(data.start);
    let (stub, after) = rest.split_at_mut(data.len());
    (before, stub, after)
}

/// A binding's state between the bind and the calls.
pub struct ClientBinding {
    interface: &'static str,
    context_id: u16,
    next_call_id: u32,
    max_xmit: u16,
    security: Option<Security>,
}

impl core::fmt::Debug for ClientBinding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientBinding")
            .field("interface", &self.interface)
            .field("next_call_id", &self.next_call_id)
            .field("max_xmit", &self.max_xmit)
            .field("secured", &self.security.is_some())
            .finish_non_exhaustive()
    }
}

impl ClientBinding {
    /// A binding to `syntax` (named `interface` in errors) with `auth`.
    pub fn new(interface: &'static str, auth: BindAuth) -> Self {
        let security = match auth {
            BindAuth::None => None,
            BindAuth::Schannel {
                context,
                domain,
                computer,
                level,
            } => Some(Security {
                provider: Provider::Schannel(context),
                level,
                bind_token: Some(schannel::negotiate_message(&domain, &computer)),
            }),
            BindAuth::Ntlm {
                client,
                negotiate,
                level,
            } => Some(Security {
                provider: Provider::NtlmPending(client),
                level,
                bind_token: Some(negotiate),
            }),
            BindAuth::Kerberos { credentials, level } => Some(Security {
                provider: Provider::Kerberos(KerberosProvider::Start(credentials)),
                level,
                bind_token: None,
            }),
        };
        Self {
            interface,
            context_id: 0,
            next_call_id: 1,
            max_xmit: MAX_FRAG,
            security,
        }
    }

    fn call_id(&mut self) -> u32 {
        let id = self.next_call_id;
        self.next_call_id = self.next_call_id.wrapping_add(1).max(1);
        id
    }

    /// The bind PDU offering `syntax` over NDR 2.0.
    pub fn bind_pdu(&mut self, syntax: SyntaxId) -> Result<Vec<u8>, RpcError> {
        let call_id = self.call_id();
        let mut pdu = Pdu::new(
            call_id,
            Body::Bind(Bind {
                max_xmit_frag: MAX_FRAG,
                max_recv_frag: MAX_FRAG,
                assoc_group_id: 0,
                contexts: vec![ContextElement {
                    context_id: self.context_id,
                    abstract_syntax: syntax,
                    transfer_syntaxes: vec![SyntaxId::NDR20],
                }],
            }),
        );
        if let Some(sec) = &mut self.security {
            let token = match &mut sec.provider {
                Provider::Kerberos(k) => k.bind_token(sec.level, SystemTime::now())?,
                _ => sec.bind_token.take().unwrap_or_default(),
            };
            pdu.auth = Some(AuthVerifier::new(
                sec.provider.auth_type(),
                sec.level,
                AUTH_CONTEXT_ID,
                token,
            ));
        }
        Ok(pdu.to_bytes()?)
    }

    /// Checks the server's answer to the bind; returns the rpc_auth_3 PDU to send
    /// next when the provider has a third leg (NTLMSSP, Kerberos).
    pub fn handle_bind_reply(&mut self, raw: &[u8]) -> Result<Option<Vec<u8>>, RpcError> {
        let pdu = Pdu::decode(raw)?;
        match pdu.body {
            Body::BindAck(ack) => {
                let result = ack.results.first().ok_or(RpcError::Protocol(
                    "bind_ack without a result for the offered context",
                ))?;
                if !result.is_accepted() || result.transfer_syntax != SyntaxId::NDR20 {
                    return Err(RpcError::BindRefused {
                        interface: self.interface,
                        reason: format!("context rejected ({})", result.reason),
                    });
                }
                // C706 12.6.3.1: never send fragments larger than the peer
                // receives.
                self.max_xmit = ack.max_recv_frag.min(MAX_FRAG);
                let Some(sec) = &mut self.security else {
                    return Ok(None);
                };
                let auth = pdu.auth.ok_or(RpcError::Protocol(
                    "bind_ack without the auth verifier of the bind's provider",
                ))?;
                match core::mem::replace(&mut sec.provider, Provider::Failed) {
                    Provider::Schannel(s) => {
                        sec.provider = Provider::Schannel(s);
                        schannel::check_negotiate_reply(&auth.value)?;
                        Ok(None)
                    }
                    Provider::NtlmPending(client) => {
                        let (authenticate, session) = client
                            .authenticate(
                                &auth.value,
                                &ClientNonces::fresh().map_err(RpcError::Random)?,
                            )
                            .map_err(|e| RpcError::Ntlm(e.to_string()))?;
                        sec.provider = Provider::Ntlm(Box::new(session));
                        auth3(pdu.call_id, AuthType::WINNT, sec.level, authenticate)
                    }
                    Provider::Kerberos(mut k) => {
                        if auth.auth_type != AuthType::GSS_KERBEROS {
                            return Err(RpcError::Protocol(
                                "bind_ack with another security provider than the bind's",
                            ));
                        }
                        let reply = k.bind_reply(&auth.value)?;
                        sec.provider = Provider::Kerberos(k);
                        auth3(pdu.call_id, AuthType::GSS_KERBEROS, sec.level, reply)
                    }
                    Provider::Ntlm(_) | Provider::Failed => {
                        Err(RpcError::Protocol("a second bind_ack"))
                    }
                }
            }
            Body::BindNak(nak) => Err(RpcError::BindRefused {
                interface: self.interface,
                reason: nak.reason.to_string(),
            }),
            _ => Err(RpcError::Protocol("expected bind_ack or bind_nak")),
        }
    }

    /// The fragments of a call to `opnum`, protected as negotiated, and
    /// the reassembler for its response.
    pub fn request(
        &mut self,
        opnum: u16,
        stub: Vec<u8>,
    ) -> Result<(Vec<Vec<u8>>, Reassembler), RpcError> {
        let call_id = self.call_id();
        let request = Request {
            alloc_hint: 0,
            context_id: self.context_id,
            opnum,
            object: None,
            stub,
        };
        let room = match &self.security {
            // sec_trailer, signature, and up to 8 bytes of auth padding.
            Some(sec) => (SEC_TRAILER_LEN + sec.signature_len()? + 8) as u16,
            None => 0,
        };
        let mut out = Vec::new();
        for mut pdu in fragment_request(call_id, &request, self.max_xmit.saturating_sub(room))? {
            let Some(sec) = &mut self.security else {
                out.push(pdu.to_bytes()?);
                continue;
            };
            let Body::Request(req) = &pdu.body else {
                unreachable!("fragment_request yields requests");
            };
            let data_start = HEADER_LEN + req.header_len();
            let body_len = req.header_len() + req.stub.len();
            let sig_len = sec.signature_len()?;
            let verifier = AuthVerifier::new(
                sec.provider.auth_type(),
                sec.level,
                AUTH_CONTEXT_ID,
                vec![0; sig_len],
            )
            .pad_for(body_len);
            let data_end = HEADER_LEN + body_len + usize::from(verifier.pad_length);
            pdu.auth = Some(verifier);
            let mut raw = pdu.to_bytes()?;
            let sig_at = raw.len() - sig_len;
            sec.protect(&mut raw, data_start..data_end, sig_at)?;
            out.push(raw);
        }
        Ok((out, Reassembler::new(call_id, MAX_RESPONSE)))
    }

    /// Feeds one response fragment (checked and unsealed in place); returns
    /// the whole stub after the last fragment.
    pub fn response_fragment(
        &mut self,
        reassembler: &mut Reassembler,
        mut raw: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, RpcError> {
        let header = Header::peek(&raw)?.ok_or(DecodeError::Truncated {
            what: "common header",
            needed: HEADER_LEN,
            available: raw.len(),
        })?;
        if header.ptype == PacketType::RESPONSE {
            self.unprotect(&header, &mut raw)?;
        }
        let mut pdu = Pdu::decode(&raw)?;
        if let Body::Fault(fault) = &pdu.body {
            return Err(RpcError::Fault(fault.status));
        }
        pdu.auth = None;
        Ok(reassembler.push(pdu)?.and_then(|whole| match whole.body {
            Body::Response(r) => Some(r.stub),
            _ => None,
        }))
    }

    fn unprotect(&mut self, header: &Header, raw: &mut [u8]) -> Result<(), RpcError> {
        let Some(sec) = &mut self.security else {
            return Ok(());
        };
        // MS-RPCE 3.3.1.5.2.2: a secured binding's responses are secured.
        let auth_len = usize::from(header.auth_length);
        let trailer_at = raw
            .len()
            .checked_sub(auth_len + SEC_TRAILER_LEN)
            .filter(|&at| auth_len > 0 && at >= HEADER_LEN + RESPONSE_HEADER_LEN)
            .ok_or(RpcError::Protocol("response without a signature"))?;
        if raw[trailer_at + 1] != sec.level.value() {
            return Err(RpcError::Protocol(
                "response at another auth level than the binding",
            ));
        }
        let sig_at = trailer_at + SEC_TRAILER_LEN;
        sec.unprotect(raw, HEADER_LEN + RESPONSE_HEADER_LEN..trailer_at, sig_at)
    }
}

/// alloc_hint, p_cont_id, cancel_count, reserved.
const RESPONSE_HEADER_LEN: usize = 8;
