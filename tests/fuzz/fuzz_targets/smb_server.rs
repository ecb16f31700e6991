//! The SMB2 server core (`smb::server::ServerConnection`) as a client's bytes reach it:
//! the input as a request on a fresh connection, on a negotiated one, and as the second
//! SESSION_SETUP after a genuine first (the NTLMSSP AUTHENTICATE path), with the DC's
//! verdict a refusal or an error. Nothing may panic.
#![no_main]

use std::sync::Arc;

use adjoin_auth::gss::spnego::SpnegoNtlmInitiator;
use adjoin_auth::ntlm::NtlmClient;
use adjoin_rpc::netlogon::channel::LogonOutcome;
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_smb::client::ClientCore;
use adjoin_smb::proto::{
    Body, Dialect, HashAlgorithm, Header, NegotiateContext, NegotiateRequest, SessionSetupRequest,
};
use adjoin_smb::server::testing::test_config;
use adjoin_smb::server::{ServerConfig, ServerConnection, Step};
use libfuzzer_sys::fuzz_target;

fn config() -> Arc<ServerConfig> {
    test_config(Default::default())
}

fn negotiated() -> (ServerConnection, ClientCore) {
    let mut server = ServerConnection::new(config());
    let mut client = ClientCore::new();
    let request = NegotiateRequest {
        dialects: vec![Dialect::SMB311],
        contexts: vec![NegotiateContext::PreauthIntegrity {
            hash_algorithms: vec![HashAlgorithm::SHA512],
            salt: vec![0; 32],
        }],
        ..NegotiateRequest::default()
    };
    let (id, msg) = client.request(0, &request).expect("a request");
    let Ok(Step::Reply(Some(reply))) = server.handle(&msg) else {
        unreachable!("a genuine NEGOTIATE is answered")
    };
    client.response(reply, id).expect("the server's NEGOTIATE response");
    client.set_dialect(Dialect::SMB311);
    (server, client)
}

fn drive(server: &mut ServerConnection, msg: &[u8]) {
    if let Ok(Step::Logon(_)) = server.handle(msg) {
        let _ = server.resume_logon(Ok(LogonOutcome::Refused(NtStatus::WRONG_PASSWORD)));
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = ServerConnection::new(config()).handle(data);
    let (mut server, mut client) = negotiated();
    drive(&mut server, data);

    // A genuine first leg, then the input as the second leg's token and as a message.
    let (mut server, mut client2) = negotiated();
    let (ntlm, negotiate) = NtlmClient::new("alice", "EXAMPLE", "pw", "WS").expect("a client");
    let (_, init) = SpnegoNtlmInitiator::start(ntlm, negotiate);
    let first = SessionSetupRequest {
        security_buffer: init,
        ..SessionSetupRequest::default()
    };
    let (_, msg) = client2.request(0, &first).expect("a request");
    let Ok(Step::Reply(Some(reply))) = server.handle(&msg) else {
        return;
    };
    let session_id = Header::from_message(&reply).map_or(0, |h| h.session_id);
    let second = SessionSetupRequest {
        security_buffer: data.to_vec(),
        ..SessionSetupRequest::default()
    };
    let header = Header {
        session_id,
        message_id: 2,
        ..Header::default()
    };
    if let Ok(Step::Logon(_)) = server.handle(&second.to_message(&header)) {
        let _ = server.resume_logon(Err("no DC".into()));
    }
    drive(&mut server, data);
    let _ = client.request(0, &first);
});
