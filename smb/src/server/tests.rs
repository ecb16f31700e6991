//! The connection core driven by the crate's own client core, message by message.

use adjoin_auth::gss::spnego;
use adjoin_auth::ntlm::ServerIdentity;
use adjoin_rpc::netlogon::UserFlags;
use adjoin_rpc::netlogon::channel::LogonOutcome;

use super::*;
use crate::client::ClientCore;
use crate::proto::{
    EchoRequest, HashAlgorithm, NegotiateContext, NegotiateRequest, NegotiateResponse,
    SessionSetupRequest, SessionSetupResponse, TreeConnectRequest,
};

fn config() -> Arc<ServerConfig> {
    Arc::new(ServerConfig {
        identity: ServerIdentity {
            netbios_domain: "EXAMPLE".into(),
            netbios_computer: "FILES".into(),
            dns_domain: "example.test".into(),
            dns_computer: "files.example.test".into(),
        },
        server_guid: [1; 16],
        comment: String::new(),
        shares: Default::default(),
        tokens: None,
        kerberos: None,
    })
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
    let tree = TreeConnectRequest {
        flags: 0,
        path: r"\\files\IPC$".into(),
    };
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
    let (ntlm, negotiate) =
        adjoin_auth::ntlm::NtlmClient::new("alice", "EXAMPLE", "pw", "WS").unwrap();
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
    let (_, resp) = SessionSetupResponse::from_message(&out).unwrap();
    let nonces = adjoin_auth::ntlm::ClientNonces::fresh().unwrap();
    let (_, token) = initiator.step(&resp.security_buffer, &nonces).unwrap();
    client.session_id = header.session_id;
    let second = SessionSetupRequest {
        security_buffer: token,
        ..SessionSetupRequest::default()
    };
    let (_, msg) = client.request(0, &second).unwrap();
    assert!(matches!(server.handle(&msg).unwrap(), Step::Logon(_)));
    server
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
