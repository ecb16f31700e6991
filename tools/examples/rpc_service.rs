//! SDK example: a DCE/RPC service of your own, served over TCP (ncacn_ip_tcp) and over a
//! named pipe on adjoind's IPC$ (ncacn_np), and a client calling it both ways.
//!
//! The interface, in IDL:
//!
//! ```text
//! [uuid(7c3f5b9e-2d41-4a8e-9b6f-0e1d2c3b4a59), version(1.0)]
//! interface greeter {
//!     long Hello([in, string, unique] wchar_t *name, [out, string] wchar_t **greeting);
//! }
//! ```
//!
//! Serving: the command line is adjoind's (`--help`), and the program adds `\PIPE\greeter`
//! to its IPC$, whose callers SMB has authenticated (the greeting names them); with
//! `ADJOIN_EXAMPLE_RPC_LISTEN=ADDR:PORT` it also serves the interface on TCP, without
//! packet security (callers are anonymous there).
//!
//! ```text
//! ADJOIN_EXAMPLE_RPC_LISTEN=0.0.0.0:5150 rpc_service --listen 0.0.0.0:445
//! rpc_service call --tcp 127.0.0.1:5150 Zoë
//! rpc_service call --pipe 127.0.0.1:445 --user 'EXAMPLE\alice' Zoë   # password on stdin
//! ```
//!
//! See docs/sdk.md.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use adjoin_rpc::client::BindAuth;
use adjoin_rpc::ndr::{NdrParams, WideString};
use adjoin_rpc::ndr_params;
use adjoin_rpc::pdu::FaultStatus;
use adjoin_rpc::server::{ServerBinding, Service};
use adjoin_rpc::transport::Connection;
use adjoin_rpc::uuid::{SyntaxId, Uuid};
use adjoin_smb::client::pipe::NamedPipe;
use adjoin_smb::client::{SessionAuth, SmbClient};
use adjoin_smb::server::tables::ExtraPipes;
use adjoin_tools::cmd::adjoind::{Extensions, main_with};
use zeroize::Zeroizing;

/// The interface's abstract syntax.
const GREETER: SyntaxId = SyntaxId::new(
    Uuid::from_fields(
        0x7c3f_5b9e,
        0x2d41,
        0x4a8e,
        [0x9b, 0x6f, 0x0e, 0x1d, 0x2c, 0x3b, 0x4a, 0x59],
    ),
    1,
    0,
);
/// `Hello`'s operation number.
const HELLO: u16 = 0;
/// How long either side waits for the other.
const TIMEOUT: Duration = Duration::from_secs(10);

ndr_params! {
    /// `Hello`, `[in]`.
    pub struct HelloRequest {
        /// `[in, string, unique] wchar_t *name`.
        pub name: Option<WideString>,
    }
}

ndr_params! {
    /// `Hello`, `[out]`.
    pub struct HelloResponse {
        /// `[out, string] wchar_t **greeting`.
        pub greeting: Option<WideString>,
        /// The return value (0: success).
        pub status: u32,
    }
}

/// The service: one per binding (each pipe open, each TCP connection).
struct Greeter {
    /// Who called: the SMB session's user, or "anonymous" on TCP.
    caller: String,
    /// The transport, for the greeting.
    transport: &'static str,
}

impl Service for Greeter {
    fn syntax(&self) -> SyntaxId {
        GREETER
    }

    fn name(&self) -> &'static str {
        "greeter"
    }

    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus> {
        if opnum != HELLO {
            return Err(FaultStatus::OP_RNG_ERROR);
        }
        let request = HelloRequest::from_stub(stub).map_err(|_| FaultStatus::NDR)?;
        let name = request.name.map_or_else(|| "stranger".to_owned(), |n| n.0);
        let greeting = format!(
            "Hello, {name}, over {} (caller: {})",
            self.transport, self.caller
        );
        Ok(HelloResponse {
            greeting: Some(WideString::new(greeting)),
            status: 0,
        }
        .to_stub())
    }
}

/// Serves the interface on TCP at `listen`, each connection on a task of its own.
fn serve_tcp(listen: SocketAddr) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return eprintln!("rpc_service: no runtime for TCP: {e}"),
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => return eprintln!("rpc_service: cannot listen on {listen}: {e}"),
        };
        eprintln!("rpc_service: greeter on ncacn_ip_tcp {listen}");
        // At most 64 connections at once; each closes after TIMEOUT idle.
        let slots = Arc::new(tokio::sync::Semaphore::new(64));
        loop {
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                return;
            };
            let Ok((stream, _)) = listener.accept().await else {
                // Out of descriptors: those connected go on; try again soon.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let greeter = Greeter {
                caller: "anonymous".into(),
                transport: "ncacn_ip_tcp",
            };
            let binding =
                ServerBinding::new(vec![Box::new(greeter)], 0x4752, &listen.port().to_string());
            tokio::spawn(async move {
                let _ = adjoin_rpc::tcp::serve(stream, binding, TIMEOUT).await;
                drop(slot);
            });
        }
    });
}

/// `call --tcp ADDR NAME` or `call --pipe ADDR --user DOMAIN\user NAME` (password on
/// stdin): prints the greeting.
async fn call(args: &[String]) -> Result<String, String> {
    let usage =
        "usage: rpc_service call (--tcp ADDR:PORT | --pipe ADDR:PORT --user DOMAIN\\user) NAME";
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let name = args
        .last()
        .filter(|a| !a.starts_with("--"))
        .ok_or(usage)?
        .clone();
    let request = HelloRequest {
        name: Some(WideString::new(name)),
    };
    let response: HelloResponse = if let Some(addr) = value("--tcp") {
        let addr: SocketAddr = addr.parse().map_err(|e| format!("--tcp {addr}: {e}"))?;
        let mut conn = Connection::connect(addr, "greeter", GREETER, BindAuth::None, TIMEOUT)
            .await
            .map_err(|e| format!("binding greeter at {addr}: {e}"))?;
        conn.call(HELLO, &request)
            .await
            .map_err(|e| format!("Hello: {e}"))?
    } else if let Some(addr) = value("--pipe") {
        let addr: SocketAddr = addr.parse().map_err(|e| format!("--pipe {addr}: {e}"))?;
        let who = value("--user").ok_or(usage)?;
        let (domain, user) = who.split_once('\\').ok_or("--user: give DOMAIN\\user")?;
        let mut password = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut password)
            .map_err(|e| format!("reading the password: {e}"))?;
        let password = Zeroizing::new(password.trim_end_matches(['\r', '\n']).to_owned());
        let mut smb = SmbClient::connect(addr, &addr.ip().to_string(), TIMEOUT)
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        smb.session_setup(SessionAuth::Ntlm {
            user: user.to_owned(),
            domain: domain.to_owned(),
            password,
            workstation: "SDK-EXAMPLE".into(),
        })
        .await
        .map_err(|e| format!("the logon of {who}: {e}"))?;
        let pipe = NamedPipe::open(smb, "greeter")
            .await
            .map_err(|e| format!("opening \\PIPE\\greeter: {e}"))?;
        let mut conn = Connection::bind(pipe, "greeter", GREETER, BindAuth::None)
            .await
            .map_err(|e| format!("binding greeter: {e}"))?;
        let response = conn
            .call(HELLO, &request)
            .await
            .map_err(|e| format!("Hello: {e}"))?;
        let _ = conn.into_transport().close().await;
        response
    } else {
        return Err(usage.into());
    };
    if response.status != 0 {
        return Err(format!("Hello returned {:#x}", response.status));
    }
    Ok(response.greeting.map(|g| g.0).unwrap_or_default())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("call") {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("rpc_service: {e}");
                return ExitCode::FAILURE;
            }
        };
        return match runtime.block_on(call(&args[2..])) {
            Ok(greeting) => {
                println!("{greeting}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rpc_service: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Ok(listen) = std::env::var("ADJOIN_EXAMPLE_RPC_LISTEN") {
        match listen.parse::<SocketAddr>() {
            Ok(addr) => {
                std::thread::spawn(move || serve_tcp(addr));
            }
            Err(e) => {
                eprintln!("rpc_service: ADJOIN_EXAMPLE_RPC_LISTEN={listen}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let pipes = ExtraPipes::default().with(
        "greeter",
        Arc::new(|token| {
            Box::new(Greeter {
                caller: token.map_or_else(|| "anonymous".to_owned(), |t| t.name.clone()),
                transport: "ncacn_np",
            })
        }),
    );
    main_with(Extensions {
        pipes,
        ..Extensions::default()
    })
}
