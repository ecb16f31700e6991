//! RFC 4178 SPNEGO tokens as an SMB or LDAP server receives them: the NegotiationToken
//! decoder, the acceptor that picks Kerberos out of it, and the NTLMSSP acceptor (the input
//! as its first token, and as the second after a genuine first; and NTLMSSP selected from a
//! list where it is not first).
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use adjoin_auth::gss::spnego::{self, SpnegoNtlmAcceptor, SpnegoNtlmInitiator, SpnegoNtlmSelected};
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::Acceptor;
use adjoin_auth::ntlm::{NtlmClient, ServerIdentity, ServerNonces};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = spnego::parse(data);
    let _ = spnego::mech_types_der(data);
    let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let _ = spnego::accept(&mut Acceptor::new(Keytab::new()), data, now);

    let identity = ServerIdentity {
        netbios_domain: "EXAMPLE".into(),
        netbios_computer: "FILES".into(),
        dns_domain: "example.test".into(),
        dns_computer: "files.example.test".into(),
    };
    let nonces = ServerNonces {
        server_challenge: [7; 8],
        timestamp: 1,
    };
    let _ = SpnegoNtlmAcceptor::accept(data, &identity, nonces);
    let (client, negotiate) = NtlmClient::new("alice", "EXAMPLE", "pw", "WS").expect("a client");
    let (_, init) = SpnegoNtlmInitiator::start(client, negotiate);
    let (acceptor, _) =
        SpnegoNtlmAcceptor::accept(&init, &identity, nonces).expect("a genuine NegTokenInit");
    if let Ok(pending) = acceptor.authenticate(data) {
        let _ = pending.complete(&[0x42; 16]);
    }

    // NTLMSSP selected from a list where it is not first: the input as the first token,
    // and as the NEGOTIATE leg after a genuine selection.
    let _ = SpnegoNtlmSelected::select(data);
    let (client, negotiate) = NtlmClient::new("alice", "EXAMPLE", "pw", "WS").expect("a client");
    let (_, ntlm_init) = SpnegoNtlmInitiator::start(client, negotiate);
    if let Ok((selected, _)) = SpnegoNtlmSelected::select(&ntlm_init)
        && let Ok((acceptor, _)) = selected.negotiate(data, &identity, nonces)
        && let Ok(pending) = acceptor.authenticate(data)
    {
        let _ = pending.complete(&[0x42; 16]);
    }
});
