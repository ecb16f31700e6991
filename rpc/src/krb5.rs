//! Kerberos packet security for a binding (MS-RPCE 3.3.1.5.2 with auth_type 16,
//! RPC_C_AUTHN_GSS_KERBEROS; MS-KILE 3.4.5 DCE style), sans-IO. The GSS work is
//! `adjoin_auth::gss::krb5`; this module maps it onto the PDUs.
//!
//! ```text
//! bind         auth_value = KRB_AP_REQ, raw (checksum flags DCE_STYLE | MUTUAL | REPLAY |
//!                           SEQUENCE | INTEG, and CONF at privacy)
//! bind_ack     auth_value = KRB_AP_REP, raw (the DC's subkey and sequence number)
//! rpc_auth_3   auth_value = KRB_AP_REP, raw (echoes the DC's sequence number)
//! request, response
//!   PKT_INTEGRITY  auth_value = MIC token over stub and auth padding (28 bytes with AES)
//!   PKT_PRIVACY    stub and auth padding sealed in place, auth_value = the DCE-style
//!                  wrap token (76 bytes with AES-SHA1: EC 16, RRC 28)
//! ```
//! The header is not signed: the bind does not offer PFC_SUPPORT_HEADER_SIGN
//! (docs/decisions.md says why).

use std::time::SystemTime;

use adjoin_auth::gss::krb5::{DceInitiator, GssFlags, SecurityContext};
use adjoin_auth::krb::Credentials;

use crate::client::RpcError;
use crate::pdu::AuthLevel;

/// A binding's Kerberos provider, by stage.
#[derive(Debug)]
pub(crate) enum KerberosProvider {
    /// The service ticket, before the bind.
    Start(Box<Credentials>),
    /// The bind's AP-REQ is out; waiting for the bind_ack's AP-REP.
    Pending(Box<DceInitiator>),
    /// Established.
    Ready(Box<SecurityContext>),
    /// The exchange failed part-way: the binding cannot protect anything.
    Failed,
}

impl KerberosProvider {
    /// The AP-REQ for the bind at `level` (integrity or privacy).
    pub(crate) fn bind_token(
        &mut self,
        level: AuthLevel,
        now: SystemTime,
    ) -> Result<Vec<u8>, RpcError> {
        let mut flags = GssFlags::MUTUAL | GssFlags::REPLAY | GssFlags::SEQUENCE | GssFlags::INTEG;
        match level {
            AuthLevel::PKT_INTEGRITY => {}
            AuthLevel::PKT_PRIVACY => flags |= GssFlags::CONF,
            _ => {
                return Err(RpcError::Protocol(
                    "Kerberos bindings are at packet integrity or privacy",
                ));
            }
        }
        let Self::Start(creds) = core::mem::replace(self, Self::Failed) else {
            return Err(RpcError::Protocol("a second bind on a Kerberos binding"));
        };
        let (initiator, token) = DceInitiator::start(*creds, flags, now)?;
        *self = Self::Pending(Box::new(initiator));
        Ok(token)
    }

    /// Reads the bind_ack's AP-REP; returns the AP-REP for rpc_auth_3.
    pub(crate) fn bind_reply(&mut self, token: &[u8]) -> Result<Vec<u8>, RpcError> {
        let Self::Pending(initiator) = core::mem::replace(self, Self::Failed) else {
            return Err(RpcError::Protocol("a bind_ack before the Kerberos bind"));
        };
        let (ctx, reply) = initiator.step(token)?;
        *self = Self::Ready(Box::new(ctx));
        Ok(reply)
    }

    /// Length of the auth value of a protected PDU.
    pub(crate) fn signature_len(&self, seal: bool) -> Result<usize, RpcError> {
        let ctx = self.context()?;
        Ok(if seal {
            ctx.dce_wrap_len()?
        } else {
            ctx.mic_len()?
        })
    }

    /// Signs, or seals in place, `data` (stub and auth padding); returns the auth value.
    pub(crate) fn protect(&mut self, data: &mut [u8], seal: bool) -> Result<Vec<u8>, RpcError> {
        let ctx = self.context_mut()?;
        Ok(if seal {
            ctx.wrap_dce(data)?
        } else {
            ctx.get_mic(data)?
        })
    }

    /// Checks, and at privacy unseals in place, `data` against the auth value `sig`.
    pub(crate) fn unprotect(
        &mut self,
        data: &mut [u8],
        sig: &[u8],
        seal: bool,
    ) -> Result<(), RpcError> {
        let ctx = self.context_mut()?;
        if seal {
            ctx.unwrap_dce(data, sig)?;
        } else {
            ctx.verify_mic(data, sig)?;
        }
        Ok(())
    }

    fn context(&self) -> Result<&SecurityContext, RpcError> {
        match self {
            Self::Ready(ctx) => Ok(ctx),
            _ => Err(NOT_READY),
        }
    }

    fn context_mut(&mut self) -> Result<&mut SecurityContext, RpcError> {
        match self {
            Self::Ready(ctx) => Ok(ctx),
            _ => Err(NOT_READY),
        }
    }
}

const NOT_READY: RpcError = RpcError::Protocol("a call before the Kerberos exchange finished");

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use adjoin_auth::crypto::{EncryptionType, Key};
    use adjoin_auth::gss::GssError;
    use adjoin_auth::gss::krb5::accept_dce;
    use adjoin_auth::krb::Acceptor;
    use adjoin_auth::krb::mint::{self, TicketSpec};
    use adjoin_auth::principal::PrincipalName;

    use super::*;
    use crate::client::{BindAuth, ClientBinding};
    use crate::fragment::Reassembler;
    use crate::pdu::{
        AuthType, AuthVerifier, BindAck, Body, ContextResult, HEADER_LEN, Pdu, ProviderReason,
        Response, ResultKind, SEC_TRAILER_LEN,
    };
    use crate::uuid::SyntaxId;

    /// alloc_hint, p_cont_id, opnum / cancel_count, reserved: both 8 bytes.
    const CALL_HEADER_LEN: usize = 8;

    fn spec() -> TicketSpec {
        TicketSpec {
            service: PrincipalName::new(
                PrincipalName::NT_SRV_HST,
                ["host", "dc1.example.test"],
                "EXAMPLE.TEST",
            ),
            service_key: Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[7; 32]).unwrap(),
            kvno: 2,
            client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST"),
            auth_time: SystemTime::now(),
            lifetime: Duration::from_secs(3600),
            pac: None,
            session_key: Key::generate(EncryptionType::AES256_CTS_HMAC_SHA1_96).unwrap(),
        }
    }

    /// A binding at `level` bound through an in-memory DCE-style acceptor (what the DC
    /// does: AP-REP in the bind_ack, the client's AP-REP in rpc_auth_3); the server's
    /// context.
    fn bound(level: AuthLevel) -> (ClientBinding, SecurityContext) {
        let spec = spec();
        let credentials = Box::new(mint::issue(&spec).unwrap());
        let mut binding = ClientBinding::new("SAMR", BindAuth::Kerberos { credentials, level });
        let bind = Pdu::decode(&binding.bind_pdu(SyntaxId::SAMR).unwrap()).unwrap();
        let ap_req = bind.auth.unwrap();
        assert_eq!(ap_req.auth_type, AuthType::GSS_KERBEROS);
        let mut acceptor = Acceptor::new(mint::keytab_for(&spec));
        let (pending, ap_rep, _) =
            accept_dce(&mut acceptor, &ap_req.value, SystemTime::now()).unwrap();
        let auth3 = binding
            .handle_bind_reply(&bind_ack(bind.call_id, level, ap_rep))
            .unwrap()
            .expect("a third leg");
        let auth3 = Pdu::decode(&auth3).unwrap().auth.unwrap();
        let server = pending.finish(&auth3.value).unwrap();
        (binding, server)
    }

    /// The DC's bind_ack accepting NDR20, with `token` as its Kerberos auth value.
    fn bind_ack(call_id: u32, level: AuthLevel, token: Vec<u8>) -> Vec<u8> {
        let mut ack = Pdu::new(
            call_id,
            Body::BindAck(BindAck {
                max_xmit_frag: 5840,
                max_recv_frag: 5840,
                assoc_group_id: 0x1234,
                secondary_address: "49152".into(),
                results: vec![ContextResult {
                    result: ResultKind::ACCEPTANCE,
                    reason: ProviderReason::NOT_SPECIFIED,
                    transfer_syntax: SyntaxId::NDR20,
                }],
            }),
        );
        ack.auth = Some(AuthVerifier::new(AuthType::GSS_KERBEROS, level, 1, token));
        ack.to_bytes().unwrap()
    }

    /// The server's side of a request fragment: checks (and unseals) it, returns the stub.
    fn server_reads(server: &mut SecurityContext, raw: &mut [u8], seal: bool) -> Vec<u8> {
        let auth_len = usize::from(u16::from_le_bytes([raw[10], raw[11]]));
        let trailer_at = raw.len() - auth_len - SEC_TRAILER_LEN;
        let pad = usize::from(raw[trailer_at + 2]);
        let (pdu, sig) = raw.split_at_mut(trailer_at + SEC_TRAILER_LEN);
        let data = &mut pdu[HEADER_LEN + CALL_HEADER_LEN..trailer_at];
        if seal {
            server.unwrap_dce(data, sig).unwrap();
        } else {
            server.verify_mic(data, sig).unwrap();
        }
        data[..data.len() - pad].to_vec()
    }

    /// The server's response fragment carrying `stub`, protected as the DC would.
    fn server_writes(
        server: &mut SecurityContext,
        call_id: u32,
        stub: &[u8],
        level: AuthLevel,
    ) -> Vec<u8> {
        let seal = level == AuthLevel::PKT_PRIVACY;
        let sig_len = if seal {
            server.dce_wrap_len().unwrap()
        } else {
            server.mic_len().unwrap()
        };
        let body_len = CALL_HEADER_LEN + stub.len();
        let verifier =
            AuthVerifier::new(AuthType::GSS_KERBEROS, level, 1, vec![0; sig_len]).pad_for(body_len);
        let data_end = HEADER_LEN + body_len + usize::from(verifier.pad_length);
        let mut pdu = Pdu::new(
            call_id,
            Body::Response(Response {
                alloc_hint: stub.len() as u32,
                context_id: 0,
                cancel_count: 0,
                reserved: 0,
                stub: stub.to_vec(),
            }),
        );
        pdu.auth = Some(verifier);
        let mut raw = pdu.to_bytes().unwrap();
        let sig_at = raw.len() - sig_len;
        let (head, sig) = raw.split_at_mut(sig_at);
        let data = &mut head[HEADER_LEN + CALL_HEADER_LEN..data_end];
        let token = if seal {
            server.wrap_dce(data).unwrap()
        } else {
            server.get_mic(data).unwrap()
        };
        sig.copy_from_slice(&token);
        raw
    }

    /// One call: the client's request through the server and a response back.
    fn call(
        binding: &mut ClientBinding,
        server: &mut SecurityContext,
        level: AuthLevel,
        tamper: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Option<Vec<u8>>, RpcError> {
        let seal = level == AuthLevel::PKT_PRIVACY;
        let (mut fragments, mut reassembler): (_, Reassembler) = binding
            .request(7, b"request stub, sealed?".to_vec())
            .unwrap();
        let call_id = Pdu::decode(&fragments[0]).unwrap().call_id;
        let stub = server_reads(server, &mut fragments[0], seal);
        assert!(stub.starts_with(b"request stub, sealed?"));
        let mut reply = server_writes(server, call_id, b"response stub......", level);
        tamper(&mut reply);
        binding.response_fragment(&mut reassembler, reply)
    }

    #[test]
    fn ms_rpce_kerberos_calls_round_trip_at_both_levels() {
        for (level, sig_len) in [(AuthLevel::PKT_INTEGRITY, 28), (AuthLevel::PKT_PRIVACY, 76)] {
            let (mut binding, mut server) = bound(level);
            for _ in 0..3 {
                let stub = call(&mut binding, &mut server, level, |_| {}).unwrap();
                assert_eq!(stub.unwrap(), b"response stub......");
            }
            let (fragments, _) = binding.request(1, vec![0x55; 40]).unwrap();
            let auth_len = u16::from_le_bytes([fragments[0][10], fragments[0][11]]);
            assert_eq!(usize::from(auth_len), sig_len);
            let sealed = !fragments[0].windows(8).any(|w| w == [0x55; 8]);
            assert_eq!(sealed, level == AuthLevel::PKT_PRIVACY);
        }
    }

    #[test]
    fn tampered_replies_fail_with_a_typed_error() {
        for level in [AuthLevel::PKT_INTEGRITY, AuthLevel::PKT_PRIVACY] {
            let (mut binding, mut server) = bound(level);
            let got = call(&mut binding, &mut server, level, |r| r[HEADER_LEN + 9] ^= 1);
            assert!(
                matches!(got, Err(RpcError::Kerberos(GssError::BadSignature))),
                "{got:?}"
            );
            let (mut binding, mut server) = bound(level);
            let got = call(&mut binding, &mut server, level, |r| {
                let last = r.len() - 1;
                r[last] ^= 1;
            });
            assert!(matches!(got, Err(RpcError::Kerberos(_))), "{got:?}");
            let (mut binding, mut server) = bound(level);
            let got = call(&mut binding, &mut server, level, |r| {
                r.truncate(r.len() - 4)
            });
            assert!(got.is_err(), "{got:?}");
        }
    }

    #[test]
    fn replies_under_another_key_are_refused() {
        let level = AuthLevel::PKT_PRIVACY;
        let (mut binding, _) = bound(level);
        let (_, mut stranger) = bound(level);
        let (_, reassembler) = binding.request(7, b"x".to_vec()).unwrap();
        let mut reassembler = reassembler;
        let reply = server_writes(&mut stranger, 2, b"forged", level);
        let got = binding.response_fragment(&mut reassembler, reply);
        assert!(
            matches!(got, Err(RpcError::Kerberos(GssError::BadSignature))),
            "{got:?}"
        );
    }

    #[test]
    fn a_bind_ack_that_is_not_the_servers_ap_rep_fails_the_binding() {
        let level = AuthLevel::PKT_INTEGRITY;
        let spec = spec();
        let credentials = Box::new(mint::issue(&spec).unwrap());
        let mut binding = ClientBinding::new("SAMR", BindAuth::Kerberos { credentials, level });
        let bind = Pdu::decode(&binding.bind_pdu(SyntaxId::SAMR).unwrap()).unwrap();
        let ack = bind_ack(bind.call_id, level, vec![0x6f, 0x03, 0x02, 0x01, 0x05]);
        let got = binding.handle_bind_reply(&ack);
        assert!(matches!(got, Err(RpcError::Kerberos(_))), "{got:?}");
        assert!(binding.request(1, vec![1, 2, 3]).is_err());
    }

    #[test]
    fn kerberos_binds_only_at_integrity_or_privacy() {
        let credentials = Box::new(mint::issue(&spec()).unwrap());
        let level = AuthLevel::CONNECT;
        let mut binding = ClientBinding::new("SAMR", BindAuth::Kerberos { credentials, level });
        assert!(matches!(
            binding.bind_pdu(SyntaxId::SAMR),
            Err(RpcError::Protocol(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_or_mutated_replies_never_panic(
            data: Vec<u8>,
            at: usize,
            bit in 0u8..8,
            privacy: bool,
        ) {
            let level = if privacy { AuthLevel::PKT_PRIVACY } else { AuthLevel::PKT_INTEGRITY };
            let (mut binding, mut server) = bound(level);
            let _ = call(&mut binding, &mut server, level, |r| {
                let i = at % r.len();
                r[i] ^= 1 << bit;
            });
            let (_, mut reassembler) = binding.request(7, b"x".to_vec()).unwrap();
            let _ = binding.response_fragment(&mut reassembler, data);
        }
    }
}
