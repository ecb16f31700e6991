//! The connection core driven by the crate's own client core, message by message.

use adjoin_auth::gss::spnego;
use adjoin_rpc::netlogon::UserFlags;
use adjoin_rpc::netlogon::channel::{LogonOutcome, NetworkLogon};

use super::testing::test_config;
use super::*;
use crate::client::ClientCore;
use crate::proto::{
    EchoRequest, HashAlgorithm, NegotiateContext, NegotiateRequest, NegotiateResponse,
    SessionSetupRequest, SessionSetupResponse, TreeConnectRequest,
};

fn config() -> Arc<ServerConfig> {
    test_config(Default::default())
}

fn reply(step: Step) -> Vec<u8> {
    match step {
        Step::Reply(Some(bytes)) => bytes,
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn status(msg: &[u8]) -> NtStatus {
    Header::from_message(msg).unwrap().status
}

fn negotiated(dialects: &[Dialect]) -> (ServerConnection, ClientCore) {
    let mut server = ServerConnection::new(config());
    let mut client = ClientCore::new();
    let request = NegotiateRequest {
        security_mode: SecurityMode::SIGNING_ENABLED,
        dialects: dialects.to_vec(),
        contexts: vec![NegotiateContext::PreauthIntegrity {
            hash_algorithms: vec![HashAlgorithm::SHA512],
            salt: vec![0; 32],
        }],
        ..NegotiateRequest::default()
    };
    let (id, msg) = client.request(0, &request).unwrap();
    let out = reply(server.handle(&msg).unwrap());
    let (header, resp) = client.response(out, id).unwrap().unwrap();
    assert_eq!(header.status, NtStatus::SUCCESS);
    let (_, resp) = NegotiateResponse::from_message(&resp).unwrap();
    client.set_dialect(resp.dialect);
    (server, client)
}

/// A TREE_CONNECT to the test server's IPC$.
fn ipc_tree() -> TreeConnectRequest {
    TreeConnectRequest {
        flags: 0,
        path: r"\\files\IPC$".into(),
    }
}

#[test]
fn negotiate_picks_the_highest_common_dialect_and_requires_signing() {
    let (server, _) = negotiated(&[Dialect::SMB202, Dialect::SMB302]);
    assert_eq!(server.dialect, Some(Dialect::SMB302));
    let (server, _) = negotiated(&[Dialect::SMB210, Dialect::SMB311]);
    assert_eq!(server.dialect, Some(Dialect::SMB311));
}

#[test]
fn requests_without_a_session_or_before_negotiate_are_refused() {
    let mut fresh = ServerConnection::new(config());
    let (_, echo) = ClientCore::new().request(0, &EchoRequest).unwrap();
    assert!(fresh.handle(&echo).is_err(), "a request before NEGOTIATE");

    let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
    let tree = ipc_tree();
    let (_, msg) = client.request(0, &tree).unwrap();
    assert_eq!(
        status(&reply(server.handle(&msg).unwrap())),
        NtStatus::USER_SESSION_DELETED
    );
    // A session setup whose token is not SPNEGO/NTLMSSP is a logon failure.
    let setup = SessionSetupRequest {
        security_buffer: b"not a token".to_vec(),
        ..SessionSetupRequest::default()
    };
    let (_, msg) = client.request(0, &setup).unwrap();
    assert_eq!(
        status(&reply(server.handle(&msg).unwrap())),
        NtStatus::LOGON_FAILURE
    );
    // A second NEGOTIATE on the connection is refused.
    let (_, msg) = client
        .request(
            0,
            &NegotiateRequest {
                dialects: vec![Dialect::SMB311],
                ..NegotiateRequest::default()
            },
        )
        .unwrap();
    assert!(
        server.handle(&msg).is_err(),
        "a second NEGOTIATE drops the connection"
    );
}

#[test]
fn a_connection_holds_a_bounded_number_of_sessions() {
    let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
    let (ntlm, negotiate) =
        adjoin_auth::ntlm::NtlmClient::new("alice", "EXAMPLE", "pw", "WS").unwrap();
    let (_, init) = spnego::SpnegoNtlmInitiator::start(ntlm, negotiate);
    let setup = SessionSetupRequest {
        security_buffer: init,
        ..SessionSetupRequest::default()
    };
    let mut statuses = Vec::new();
    for _ in 0..MAX_SESSIONS + 1 {
        let (id, msg) = client.request(0, &setup).unwrap();
        let out = reply(server.handle(&msg).unwrap());
        statuses.push(status(&out));
        client.response(out, id).unwrap();
    }
    assert!(
        statuses[..MAX_SESSIONS]
            .iter()
            .all(|s| *s == NtStatus::MORE_PROCESSING_REQUIRED)
    );
    assert_eq!(statuses[MAX_SESSIONS], NtStatus::INSUFFICIENT_RESOURCES);
}

/// A session set up to the point where the DC must answer (NTLM, second leg).
fn awaiting_the_dc() -> ServerConnection {
    let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
    ntlm_legs(&mut server, &mut client, "pw");
    server
}

/// The NTLM legs of a SESSION_SETUP as alice with `password` on `client.session_id` (0: a
/// new session, which `client` then takes), up to where the DC must answer: what the DC
/// is asked.
fn ntlm_legs(
    server: &mut ServerConnection,
    client: &mut ClientCore,
    password: &str,
) -> NetworkLogon {
    let (ntlm, negotiate) =
        adjoin_auth::ntlm::NtlmClient::new("alice", "EXAMPLE", password, "WS").unwrap();
    let (initiator, init) = spnego::SpnegoNtlmInitiator::start(ntlm, negotiate);
    let first = SessionSetupRequest {
        security_buffer: init,
        ..SessionSetupRequest::default()
    };
    let (id, msg) = client.request(0, &first).unwrap();
    let (header, out) = client
        .response(reply(server.handle(&msg).unwrap()), id)
        .unwrap()
        .unwrap();
    assert_eq!(header.status, NtStatus::MORE_PROCESSING_REQUIRED);
    let (_, resp) = SessionSetupResponse::from_message(&out).unwrap();
    let nonces = adjoin_auth::ntlm::ClientNonces::fresh().unwrap();
    let (_, token) = initiator.step(&resp.security_buffer, &nonces).unwrap();
    client.session_id = header.session_id;
    let second = SessionSetupRequest {
        security_buffer: token,
        ..SessionSetupRequest::default()
    };
    let (_, msg) = client.request(0, &second).unwrap();
    match server.handle(&msg).unwrap() {
        Step::Logon(logon) => logon,
        other => panic!("expected the DC to be asked, got {other:?}"),
    }
}

/// The DC's part, played here: alice's password is `password`.
fn dc_answer(logon: &NetworkLogon, password: &str) -> LogonOutcome {
    use adjoin_auth::ntlm::{nt_hash, ntowf_v2, verify_ntlmv2_response};
    use adjoin_rpc::netlogon::ValidationSamInfo2;
    let key = ntowf_v2(&nt_hash(password), &logon.user, &logon.domain);
    match verify_ntlmv2_response(&key, &logon.challenge, &logon.nt_response) {
        Ok(base) => LogonOutcome::Success(Box::new(ValidationSamInfo2 {
            user_session_key: *base.as_bytes(),
            user_id: 1104,
            ..ValidationSamInfo2::default()
        })),
        Err(_) => LogonOutcome::Refused(NtStatus::WRONG_PASSWORD),
    }
}

#[test]
fn an_established_session_re_authenticates_and_a_failed_re_authentication_ends_it() {
    let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
    // This client does not sign; the server's answers are checked with its key.
    server.unsigned = true;
    let logon = ntlm_legs(&mut server, &mut client, "pw");
    let out = server.resume_logon(Ok(dc_answer(&logon, "pw"))).unwrap();
    assert_eq!(status(&out), NtStatus::SUCCESS);
    let id = client.session_id;
    let signer = server.signer(id).unwrap().clone();

    // MS-SMB2 3.3.5.5.3: the same session, its keys kept, every answer signed with them.
    let logon = ntlm_legs(&mut server, &mut client, "pw");
    let out = server.resume_logon(Ok(dc_answer(&logon, "pw"))).unwrap();
    let header = Header::from_message(&out).unwrap();
    assert_eq!((header.status, header.session_id), (NtStatus::SUCCESS, id));
    signer
        .verify(&out)
        .expect("signed with the session's own key");
    let tree = ipc_tree();
    let (_, msg) = client.request(0, &tree).unwrap();
    assert_eq!(
        status(&reply(server.handle(&msg).unwrap())),
        NtStatus::SUCCESS
    );

    // A wrong password: refused (signed), and the session is gone.
    let logon = ntlm_legs(&mut server, &mut client, "wrong");
    let out = server.resume_logon(Ok(dc_answer(&logon, "pw"))).unwrap();
    assert_eq!(status(&out), NtStatus::LOGON_FAILURE);
    signer.verify(&out).expect("the refusal is signed");
    let (_, msg) = client.request(0, &tree).unwrap();
    assert_eq!(
        status(&reply(server.handle(&msg).unwrap())),
        NtStatus::USER_SESSION_DELETED
    );
}

#[test]
fn guest_logons_and_logons_without_a_key_are_refused() {
    use adjoin_rpc::netlogon::ValidationSamInfo2;
    let guest = ValidationSamInfo2 {
        user_flags: UserFlags::GUEST,
        user_session_key: [7; 16],
        ..ValidationSamInfo2::default()
    };
    let keyless = ValidationSamInfo2::default();
    for info in [guest, keyless] {
        let mut server = awaiting_the_dc();
        let out = server
            .resume_logon(Ok(LogonOutcome::Success(Box::new(info))))
            .unwrap();
        assert_eq!(status(&out), NtStatus::LOGON_FAILURE);
    }
    // The DC's refusals: a wrong password is a logon failure, an unreachable DC says so.
    let mut server = awaiting_the_dc();
    let out = server
        .resume_logon(Ok(LogonOutcome::Refused(NtStatus::WRONG_PASSWORD)))
        .unwrap();
    assert_eq!(status(&out), NtStatus::LOGON_FAILURE);
    let mut server = awaiting_the_dc();
    let out = server.resume_logon(Err("no DC".into())).unwrap();
    assert_eq!(status(&out), NtStatus::NO_LOGON_SERVERS);
}

#[test]
fn message_ids_must_be_granted_and_fresh() {
    let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
    let (_, echo) = client.request(0, &EchoRequest).unwrap();
    // Unauthenticated ECHO is answered (it needs no session)...
    assert_eq!(
        status(&reply(server.handle(&echo).unwrap())),
        NtStatus::SUCCESS
    );
    // ...but the same message id again ends the connection, as does one never granted.
    assert!(server.handle(&echo).is_err());
    let far = Header {
        message_id: 10_000,
        ..Header::request(Command::ECHO)
    };
    assert!(server.handle(&EchoRequest.to_message(&far)).is_err());
}

proptest::proptest! {
    #[test]
    fn arbitrary_messages_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        let mut fresh = ServerConnection::new(config());
        let _ = fresh.handle(&data);
        let (mut server, _) = negotiated(&[Dialect::SMB311]);
        let _ = server.handle(&data);
        let _ = server.resume_logon(Err("no DC".into()));
    }
}

/// An SMB1 SMB_COM_NEGOTIATE offering `dialects`.
fn smb1_negotiate(dialects: &[&str]) -> Vec<u8> {
    let mut msg = vec![0xff, b'S', b'M', b'B', 0x72];
    msg.resize(32, 0);
    msg.push(0); // WordCount
    let mut bytes = Vec::new();
    for d in dialects {
        bytes.push(0x02);
        bytes.extend_from_slice(d.as_bytes());
        bytes.push(0);
    }
    msg.extend_from_slice(&u16::try_from(bytes.len()).unwrap().to_le_bytes());
    msg.extend_from_slice(&bytes);
    msg
}

#[test]
fn an_smb1_negotiate_listing_smb2_is_answered_in_smb2() {
    let mut server = ServerConnection::new(config());
    let out = reply(
        server
            .handle_smb1(&smb1_negotiate(&["NT LM 0.12", "SMB 2.002", "SMB 2.???"]))
            .unwrap(),
    );
    let (header, resp) = NegotiateResponse::from_message(&out).unwrap();
    assert_eq!((header.message_id, header.status), (0, NtStatus::SUCCESS));
    assert_eq!(resp.dialect, Dialect::WILDCARD);
    // The client now negotiates in SMB2, with message id 1.
    let request = NegotiateRequest {
        dialects: vec![Dialect::SMB302],
        ..NegotiateRequest::default()
    };
    let msg = request.to_message(&Header {
        message_id: 1,
        ..Header::request(Command::NEGOTIATE)
    });
    let out = reply(server.handle(&msg).unwrap());
    let (_, resp) = NegotiateResponse::from_message(&out).unwrap();
    assert_eq!(resp.dialect, Dialect::SMB302);
    // Only the first message may be SMB1.
    assert!(server.handle_smb1(&smb1_negotiate(&["SMB 2.002"])).is_err());

    // SMB 2.002 alone fixes the dialect; an SMB1-only client is not served.
    let mut server = ServerConnection::new(config());
    let out = reply(server.handle_smb1(&smb1_negotiate(&["SMB 2.002"])).unwrap());
    assert_eq!(
        NegotiateResponse::from_message(&out).unwrap().1.dialect,
        Dialect::SMB202
    );
    let mut server = ServerConnection::new(config());
    assert!(
        server
            .handle_smb1(&smb1_negotiate(&["NT LM 0.12"]))
            .is_err()
    );
    assert!(server.handle_smb1(&[0xff, b'S', b'M', b'B', 0x72]).is_err());
}
