//! MS-RPCE 3.3.1 / C706 12.6 the server side of a connection-oriented binding, driven by
//! an independent client: impacket (`tests/peers/impacket_rpc_client.py`) binds Adjoin's
//! `ServerBinding` over ncacn_ip_tcp, makes a call of several fragments each way, gets a
//! fault for an unknown operation, and has a bind to an unknown interface refused.

use std::process::Command;
use std::time::Duration;

use adjoin_rpc::pdu::FaultStatus;
use adjoin_rpc::server::{ServerBinding, Service};
use adjoin_rpc::tcp::serve;
use adjoin_rpc::uuid::{SyntaxId, Uuid};
use adjoin_tests::{repo_root, text};
use tokio::net::TcpListener;

/// Reverses its stub (opnum 1); nothing else.
struct Reverse;

const REVERSE: SyntaxId = SyntaxId::new(
    Uuid::from_fields(0x1234_5678, 0x9abc, 0xdef0, [1, 2, 3, 4, 5, 6, 7, 8]),
    1,
    0,
);

impl Service for Reverse {
    fn syntax(&self) -> SyntaxId {
        REVERSE
    }

    fn name(&self) -> &'static str {
        "reverse"
    }

    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus> {
        match opnum {
            1 => Ok(stub.iter().rev().copied().collect()),
            _ => Err(FaultStatus::OP_RNG_ERROR),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ms_rpce_server_binding_answers_impacket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut results = Vec::new();
        // impacket opens two connections: the calls, then the refused bind.
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            let binding = ServerBinding::new(vec![Box::new(Reverse)], 0x5344, &port.to_string());
            results.push(serve(stream, binding, Duration::from_secs(10)).await);
        }
        results
    });
    let script = repo_root().join("tests/peers/impacket_rpc_client.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("/usr/bin/python3")
            .arg(script)
            .args([
                &port.to_string(),
                "12345678-9abc-def0-0102-030405060708",
                "1.0",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "impacket: {stdout}{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("call of 20480 bytes reversed"), "{stdout}");
    assert!(stdout.contains("nca_s_op_rng_error"), "{stdout}");
    assert!(stdout.contains("unknown interface refused"), "{stdout}");
    for result in server.await.unwrap() {
        result.unwrap();
    }
}
