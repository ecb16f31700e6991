//! What a DC's LDAP server sends a member over a sealed SASL GSSAPI session (RFC 4752): the
//! security-layer offer, the 4-byte buffer lengths, RFC 4121 wrap tokens, and the LDAP
//! messages (BER) their plaintext forms. The input is read three ways: as plaintext
//! straight into the message decoder; as a genuine wrap token's plaintext (sealed by the
//! server's side of an in-memory context, so the unwrap succeeds and the decoder sees the
//! input); and as length-prefixed buffers unwrapped as they are.
#![no_main]

use std::time::{Duration, SystemTime};

use adjoin_auth::crypto::{EncryptionType, Key};
use adjoin_auth::gss::krb5::{self, GssFlags, InitStep, Initiator, SecurityContext};
use adjoin_auth::krb::Acceptor;
use adjoin_auth::krb::mint::{self, TicketSpec};
use adjoin_auth::ldap::sasl::{self, Receiver};
use adjoin_auth::principal::PrincipalName;
use libfuzzer_sys::fuzz_target;

fn spec() -> TicketSpec {
    let aes = EncryptionType::AES256_CTS_HMAC_SHA1_96;
    TicketSpec {
        service: PrincipalName::new(
            PrincipalName::NT_SRV_INST,
            ["ldap", "dc1.example.test"],
            "EXAMPLE.TEST",
        ),
        service_key: Key::new(aes, &[7; 32]).expect("an AES key"),
        kvno: 2,
        client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["M1$"], "EXAMPLE.TEST"),
        auth_time: SystemTime::now(),
        lifetime: Duration::from_secs(3600),
        pac: None,
        session_key: Key::new(aes, &[9; 32]).expect("an AES key"),
    }
}

/// The member's and the server's sides of a sealed context, set up in memory.
fn contexts() -> (SecurityContext, SecurityContext) {
    let spec = spec();
    let ticket = mint::issue(&spec).expect("a ticket");
    let flags = GssFlags::MUTUAL | GssFlags::INTEG | GssFlags::CONF | GssFlags::SEQUENCE;
    let (init, step) = Initiator::start(ticket, flags, SystemTime::now()).expect("AP-REQ");
    let (Some(init), InitStep::Continue(token)) = (init, step) else {
        panic!("mutual authentication");
    };
    let mut acceptor = Acceptor::new(mint::keytab_for(&spec));
    let (server, reply, _) = krb5::accept(&mut acceptor, &token, SystemTime::now()).expect("accept");
    let client = init.step(&reply.expect("an AP-REP")).expect("AP-REP");
    (client, server)
}

fn drain(received: &mut Receiver) {
    for _ in 0..64 {
        match received.next_message() {
            Ok(Some(_)) => {}
            _ => break,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = sasl::ber_length(data);
    let mut plain = Receiver::default();
    plain.push_plain(data);
    drain(&mut plain);

    let (mut client, mut server) = contexts();
    let _ = sasl::read_layer_offer(&mut client, data);
    if let Ok(token) = server.wrap(data, true) {
        let mut sealed = Receiver::default();
        if sealed.push_buffer(&mut client, &token).is_ok() {
            drain(&mut sealed);
        }
    }

    let mut framed = Receiver::default();
    let mut rest = data;
    while let Some(prefix) = rest.get(..4) {
        let Some(len) = sasl::buffer_len(prefix.try_into().expect("4 bytes")) else {
            break;
        };
        let Some(token) = rest.get(4..4 + len) else {
            break;
        };
        let _ = framed.push_buffer(&mut client, token);
        rest = &rest[4 + len..];
    }
    drain(&mut framed);
});
