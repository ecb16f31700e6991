//! Kerberos (DCE style, MS-KILE 3.4.5) on a DCE/RPC binding, as the client receives it: the
//! DC's AP-REP in a bind_ack, sealed and signed tokens, and whole response fragments
//! through a bound binding at privacy or integrity, either as given or as a genuine
//! reply with the input's edits applied (so checks past the header are reached).
#![no_main]

use std::time::{Duration, SystemTime};

use adjoin_auth::crypto::{EncryptionType, Key};
use adjoin_auth::gss::krb5::{DceInitiator, GssFlags, SecurityContext, accept_dce};
use adjoin_auth::krb::Acceptor;
use adjoin_auth::krb::mint::{self, TicketSpec};
use adjoin_auth::principal::PrincipalName;
use adjoin_rpc::client::{BindAuth, ClientBinding};
use adjoin_rpc::pdu::{
    AuthLevel, AuthType, AuthVerifier, BindAck, Body, ContextResult, HEADER_LEN, Pdu,
    ProviderReason, Response, ResultKind,
};
use adjoin_rpc::uuid::SyntaxId;
use libfuzzer_sys::fuzz_target;

fn spec() -> TicketSpec {
    let aes = EncryptionType::AES256_CTS_HMAC_SHA1_96;
    TicketSpec {
        service: PrincipalName::new(
            PrincipalName::NT_SRV_HST,
            ["host", "dc1.example.test"],
            "EXAMPLE.TEST",
        ),
        service_key: Key::new(aes, &[7; 32]).expect("an AES key"),
        kvno: 2,
        client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST"),
        auth_time: SystemTime::now(),
        lifetime: Duration::from_secs(3600),
        pac: None,
        session_key: Key::new(aes, &[9; 32]).expect("an AES key"),
    }
}

/// A binding bound through an in-memory DCE-style acceptor, and the server's context.
fn bound(level: AuthLevel) -> (ClientBinding, SecurityContext) {
    let spec = spec();
    let credentials = Box::new(mint::issue(&spec).expect("a ticket"));
    let mut binding = ClientBinding::new("fuzz", BindAuth::Kerberos { credentials, level });
    let bind = Pdu::decode(&binding.bind_pdu(SyntaxId::SAMR).expect("bind")).expect("bind");
    let ap_req = bind.auth.expect("AP-REQ").value;
    let mut acceptor = Acceptor::new(mint::keytab_for(&spec));
    let (pending, ap_rep, _) =
        accept_dce(&mut acceptor, &ap_req, SystemTime::now()).expect("AP-REQ");
    let mut ack = Pdu::new(
        bind.call_id,
        Body::BindAck(BindAck {
            max_xmit_frag: 5840,
            max_recv_frag: 5840,
            assoc_group_id: 1,
            secondary_address: String::new(),
            results: vec![ContextResult {
                result: ResultKind::ACCEPTANCE,
                reason: ProviderReason::NOT_SPECIFIED,
                transfer_syntax: SyntaxId::NDR20,
            }],
        }),
    );
    ack.auth = Some(AuthVerifier::new(AuthType::GSS_KERBEROS, level, 1, ap_rep));
    let auth3 = binding
        .handle_bind_reply(&ack.to_bytes().expect("bind_ack"))
        .expect("AP-REP")
        .expect("third leg");
    let auth3 = Pdu::decode(&auth3)
        .expect("rpc_auth_3")
        .auth
        .expect("AP-REP")
        .value;
    (binding, pending.finish(&auth3).expect("third leg"))
}

/// The server's protected response to `call_id`.
fn reply(server: &mut SecurityContext, call_id: u32, level: AuthLevel) -> Vec<u8> {
    let seal = level == AuthLevel::PKT_PRIVACY;
    let sig_len = if seal {
        server.dce_wrap_len()
    } else {
        server.mic_len()
    }
    .expect("AES");
    let stub = b"\x00\x00\x02\x00response stub".to_vec();
    let verifier = AuthVerifier::new(AuthType::GSS_KERBEROS, level, 1, vec![0; sig_len])
        .pad_for(8 + stub.len());
    let data_end = HEADER_LEN + 8 + stub.len() + usize::from(verifier.pad_length);
    let response = Response {
        alloc_hint: 0,
        context_id: 0,
        cancel_count: 0,
        reserved: 0,
        stub,
    };
    let mut pdu = Pdu::new(call_id, Body::Response(response));
    pdu.auth = Some(verifier);
    let mut raw = pdu.to_bytes().expect("response");
    let sig_at = raw.len() - sig_len;
    let (head, sig) = raw.split_at_mut(sig_at);
    let data = &mut head[HEADER_LEN + 8..data_end];
    let token = if seal {
        server.wrap_dce(data)
    } else {
        server.get_mic(data)
    };
    sig.copy_from_slice(&token.expect("token"));
    raw
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let level = if mode & 1 == 0 {
        AuthLevel::PKT_PRIVACY
    } else {
        AuthLevel::PKT_INTEGRITY
    };
    match mode >> 1 & 3 {
        // The bind_ack's token.
        0 => {
            let (initiator, _) = DceInitiator::start(
                mint::issue(&spec()).expect("ticket"),
                GssFlags::INTEG,
                SystemTime::now(),
            )
            .expect("AP-REQ");
            let _ = initiator.step(data);
        }
        // A token and the data it protects.
        1 => {
            let (_, mut server) = bound(level);
            let (mut client, _) = bound(level);
            let split = data.len().min(76);
            let (token, stub) = data.split_at(split);
            let _ = client.request(1, Vec::new());
            let _ = server.unwrap_dce(&mut stub.to_vec(), token);
            let _ = server.verify_mic(stub, token);
        }
        // A whole response fragment.
        2 => {
            let (mut binding, _) = bound(level);
            let (_, mut reassembler) = binding.request(1, vec![0; 8]).expect("request");
            let _ = binding.response_fragment(&mut reassembler, data.to_vec());
        }
        // A genuine response with the input's (position, xor) edits.
        _ => {
            let (mut binding, mut server) = bound(level);
            let (fragments, mut reassembler) = binding.request(1, vec![0; 8]).expect("request");
            let call_id = Pdu::decode(&fragments[0]).expect("request").call_id;
            let mut raw = reply(&mut server, call_id, level);
            for edit in data.chunks_exact(2) {
                let at = usize::from(edit[0]) % raw.len();
                raw[at] ^= edit[1];
            }
            let changed = data.chunks_exact(2).any(|e| e[1] != 0);
            let got = binding.response_fragment(&mut reassembler, raw);
            if !changed {
                assert!(got.is_ok(), "an untouched reply verifies: {got:?}");
            }
        }
    }
});
