//! MS-RPCE 3.3.1 / C706 12.6 the server side of a connection-oriented binding, driven by
//! an independent client: impacket (`tests/peers/impacket_rpc_client.py`) binds Adjoin's
//! `ServerBinding` over ncacn_ip_tcp, makes a call of several fragments each way, gets a
//! fault for an unknown operation, and has a bind to an unknown interface refused; then
//! impacket's own srvsvc and wkssvc clients (MS-SRVS, MS-WKST) ask Adjoin's services what
//! `net view`, `smbclient -L` and Explorer ask a file server.

use std::process::Command;
use std::time::Duration;

use adjoin_rpc::pdu::FaultStatus;
use adjoin_rpc::server::{ServerBinding, Service};
use adjoin_rpc::srvsvc::{Share, SrvsvcService};
use adjoin_rpc::tcp::serve;
use adjoin_rpc::uuid::{SyntaxId, Uuid};
use adjoin_rpc::wkssvc::WkssvcService;
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

/// Runs `script PORT ARGS...` (an impacket client) against `connections` connections
/// served with a fresh binding of `services` each; returns its standard output.
async fn with_impacket(
    script: &str,
    args: &'static [&'static str],
    connections: usize,
    services: impl Fn() -> Vec<Box<dyn Service>> + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut results = Vec::new();
        for _ in 0..connections {
            let (stream, _) = listener.accept().await.unwrap();
            let binding = ServerBinding::new(services(), 0x5344, &port.to_string());
            results.push(serve(stream, binding, Duration::from_secs(10)).await);
        }
        results
    });
    let script = repo_root().join(script);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("/usr/bin/python3")
            .arg(script)
            .arg(port.to_string())
            .args(args)
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
    for result in server.await.unwrap() {
        result.unwrap();
    }
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ms_srvs_and_ms_wkst_answer_impacket() {
    let stdout = with_impacket("tests/peers/impacket_srvsvc.py", &[], 2, || {
        let shares = vec![
            Share::ipc("IPC Service"),
            Share::disk("data", "team files", "/srv/data"),
        ];
        vec![
            Box::new(SrvsvcService::new("FILES", "Adjoin file server", shares)),
            Box::new(WkssvcService::new("FILES", "EXAMPLE")),
        ]
    })
    .await;
    for line in [
        "share IPC$ type 0x80000003 remark IPC Service",
        "share data type 0x0 remark team files",
        "getinfo data remark team files",
        "unknown share: 0x906",
        "server FILES platform 500 version 10.0",
        "workstation FILES domain EXAMPLE version 10.0",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ms_rpce_server_binding_answers_impacket() {
    // impacket opens two connections: the calls, then the refused bind.
    let args = &["12345678-9abc-def0-0102-030405060708", "1.0"];
    let stdout = with_impacket("tests/peers/impacket_rpc_client.py", args, 2, || {
        vec![Box::new(Reverse)]
    })
    .await;
    assert!(stdout.contains("call of 20480 bytes reversed"), "{stdout}");
    assert!(stdout.contains("nca_s_op_rng_error"), "{stdout}");
    assert!(stdout.contains("unknown interface refused"), "{stdout}");
}
