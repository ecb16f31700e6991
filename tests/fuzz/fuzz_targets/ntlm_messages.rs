//! MS-NLMP NTLMSSP messages as an SMB or LDAP server and client receive them: NEGOTIATE,
//! CHALLENGE and AUTHENTICATE decoders (what decodes must re-encode and decode back equal),
//! AV_PAIR lists, the NTLMv2 client challenge, response and MIC checks, unsealing, and a
//! member server's exchange (`NtlmServer`) fed the input as NEGOTIATE and as AUTHENTICATE.
#![no_main]

use adjoin_auth::ntlm::{
    AuthenticateMessage, AvPairs, ChallengeMessage, NegotiateFlags, NegotiateMessage, NtlmClient,
    NtlmServer, NtlmSession, Ntlmv2ClientChallenge, Role, ServerIdentity, ServerNonces, SessionKey,
    nt_hash, ntowf_v2, verify_mic, verify_ntlmv2_response,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = NegotiateMessage::decode(data) {
        let bytes = msg
            .encode()
            .expect("a decoded NEGOTIATE_MESSAGE re-encodes");
        assert_eq!(NegotiateMessage::decode(&bytes).as_ref(), Ok(&msg));
    }
    if let Ok(msg) = ChallengeMessage::decode(data) {
        let bytes = msg
            .encode()
            .expect("a decoded CHALLENGE_MESSAGE re-encodes");
        assert_eq!(ChallengeMessage::decode(&bytes).as_ref(), Ok(&msg));
    }
    if let Ok(msg) = AuthenticateMessage::decode(data) {
        let bytes = msg
            .encode()
            .expect("a decoded AUTHENTICATE_MESSAGE re-encodes");
        assert_eq!(AuthenticateMessage::decode(&bytes).as_ref(), Ok(&msg));
        let key = ntowf_v2(&nt_hash("Password"), &msg.user_name, &msg.domain_name);
        let _ = verify_ntlmv2_response(&key, &[0x11; 8], &msg.nt_challenge_response);
    }
    if let Ok(pairs) = AvPairs::decode(data) {
        for pair in pairs.iter() {
            let _ = (pair.as_string(), pair.as_flags(), pair.as_timestamp());
        }
        assert_eq!(AvPairs::decode(&pairs.encode()).as_ref(), Ok(&pairs));
    }
    let _ = Ntlmv2ClientChallenge::decode(data);
    let key = SessionKey::from_bytes([0x55; 16]);
    let _ = verify_mic(&key, b"negotiate", b"challenge", data);

    let flags = NegotiateFlags::from_bits_retain(0xe28a_8233);
    let mut session = NtlmSession::new(&key, flags, Role::Server).expect("ESS flags");
    let (signature, message) = data.split_at(data.len().min(16));
    let _ = session.unseal(&mut message.to_vec(), signature);

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
    let _ = NtlmServer::challenge(data, &identity, nonces);
    let (_, negotiate) = NtlmClient::new("alice", "EXAMPLE", "pw", "WS").expect("a client");
    let (server, _) = NtlmServer::challenge(&negotiate, &identity, nonces).expect("a challenge");
    if let Ok(pending) = server.authenticate(data) {
        let _ = pending.complete(&[0x42; 16]);
    }
});
