//! SDK example: a Kerberos-protected TCP service, and its client.
//!
//! The server accepts GSS-API Kerberos (RFC 4121) with Adjoin's acceptor over a keytab
//! (a joined member's, or a service account's), answers with an AP-REP (mutual
//! authentication), then reads one message sealed with the context's key and answers,
//! sealed, with who the client is: the principal, and the user's SID and group count
//! from the ticket's PAC. The client takes its service ticket from the user's credential
//! cache (as `kinit` left it), or asks the KDC for one with the cache's TGT.
//!
//! ```text
//! krb5_service serve --keytab /etc/krb5.keytab --listen 0.0.0.0:7000
//! kinit alice@EXAMPLE.TEST
//! krb5_service call 192.0.2.20:7000 --spn host/foo.example.test --kdc 192.0.2.10 'hello'
//! ```
//!
//! On the wire each token goes with a 4-byte big-endian length, at most 64 KiB. The server
//! serves 32 connections at once, each for at most 10 s. See docs/sdk.md.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use adjoin_auth::ccache::{self, CredentialCache};
use adjoin_auth::gss::krb5::{self as gss, GssFlags, InitStep, Initiator};
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{Acceptor, Credentials};
use adjoin_auth::principal::PrincipalName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest token either side takes.
const MAX_TOKEN: usize = 64 * 1024;
/// How long one connection may take, start to end.
const DEADLINE: Duration = Duration::from_secs(10);
/// Connections served at once.
const MAX_CONNECTIONS: usize = 32;

async fn send(stream: &mut TcpStream, token: &[u8]) -> Result<(), String> {
    let len = u32::try_from(token.len()).map_err(|_| "token too long")?;
    stream
        .write_all(&len.to_be_bytes())
        .await
        .and(stream.write_all(token).await)
        .map_err(|e| format!("sending: {e}"))
}

async fn receive(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut len = [0u8; 4];
    stream
        .read_exact(&mut len)
        .await
        .map_err(|e| format!("receiving: {e}"))?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_TOKEN {
        return Err(format!("a token of {len} bytes (at most {MAX_TOKEN})"));
    }
    let mut token = vec![0u8; len];
    stream
        .read_exact(&mut token)
        .await
        .map_err(|e| format!("receiving: {e}"))?;
    Ok(token)
}

/// One client: the context, then one sealed message each way. Returns the client's name.
async fn serve_one(stream: &mut TcpStream, acceptor: &Mutex<Acceptor>) -> Result<String, String> {
    let token = receive(stream).await?;
    let accepted = {
        let mut acceptor = acceptor.lock().unwrap_or_else(|e| e.into_inner());
        gss::accept(&mut acceptor, &token, SystemTime::now())
    };
    let (mut ctx, reply, accepted) = match accepted {
        Ok(a) => a,
        Err(e) => {
            // The client hears nothing more than that it was refused.
            let _ = send(stream, b"").await;
            return Err(format!("refused: {e}"));
        }
    };
    send(stream, reply.as_deref().unwrap_or_default()).await?;
    let sealed = receive(stream).await?;
    let (message, confidential) = ctx.unwrap(&sealed).map_err(|e| format!("unwrap: {e}"))?;
    if !confidential {
        return Err("the message was not sealed".into());
    }
    let who = accepted.client.to_string();
    let pac = match accepted.pac.as_ref() {
        Some(pac) => match (pac.user_sid(), pac.group_sids()) {
            (Ok(sid), Ok(groups)) => format!("sid {sid}, {} groups", groups.len()),
            _ => "a PAC without logon information".into(),
        },
        None => "no PAC".into(),
    };
    let answer = format!(
        "hello {who} ({pac}); you said: {}",
        String::from_utf8_lossy(&message)
    );
    let sealed = ctx
        .wrap(answer.as_bytes(), true)
        .map_err(|e| format!("wrap: {e}"))?;
    send(stream, &sealed).await?;
    Ok(who)
}

async fn serve(keytab: PathBuf, listen: SocketAddr) -> Result<(), String> {
    let bytes = std::fs::read(&keytab).map_err(|e| format!("{}: {e}", keytab.display()))?;
    let keytab = Keytab::parse(&bytes).map_err(|e| format!("{}: {e}", keytab.display()))?;
    // One acceptor for every connection: its replay cache sees every authenticator.
    let acceptor = Arc::new(Mutex::new(Acceptor::new(keytab)));
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    eprintln!("krb5_service: serving on {listen}");
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let slot = Arc::clone(&slots)
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let Ok((mut stream, peer)) = listener.accept().await else {
            // Out of descriptors: those connected go on; try again soon.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let acceptor = Arc::clone(&acceptor);
        tokio::spawn(async move {
            match tokio::time::timeout(DEADLINE, serve_one(&mut stream, &acceptor)).await {
                Ok(Ok(who)) => eprintln!("krb5_service: {peer}: {who}"),
                Ok(Err(e)) => eprintln!("krb5_service: {peer}: {e}"),
                Err(_) => eprintln!("krb5_service: {peer}: no answer within {DEADLINE:?}"),
            }
            drop(slot);
        });
    }
}

/// A ticket for `spn` from the cache, or from `kdc` with the cache's TGT.
async fn ticket(
    ccache: Option<PathBuf>,
    spn: &str,
    kdc: Option<IpAddr>,
) -> Result<Credentials, String> {
    let path = match ccache {
        Some(p) => p,
        None => ccache::default_path().map_err(|e| e.to_string())?,
    };
    let cache = CredentialCache::load(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let tgt = cache
        .tgt()
        .ok_or_else(|| format!("{} holds no TGT: run kinit", path.display()))?;
    let spn = PrincipalName {
        name_type: PrincipalName::NT_SRV_INST,
        ..PrincipalName::parse_with_default_realm(spn, &tgt.client.realm)
            .map_err(|e| format!("--spn {spn}: {e}"))?
    };
    let now = SystemTime::now();
    if let Some(cached) = cache.find(&spn) {
        let creds = Credentials::from_ccache(cached).map_err(|e| e.to_string())?;
        if creds.end_time > now {
            return Ok(creds);
        }
    }
    let kdc = kdc.ok_or("no ticket for the service in the cache: give --kdc")?;
    let tgt = Credentials::from_ccache(tgt).map_err(|e| e.to_string())?;
    let config = KdcConfig::new(vec![SocketAddr::new(kdc, 88)]);
    kdc::service_ticket(tgt, spn.clone(), &config, &SystemTime::now)
        .await
        .map_err(|e| format!("a ticket for {spn}: {e}"))
}

async fn call(server: SocketAddr, creds: Credentials, message: &str) -> Result<String, String> {
    let flags = GssFlags::MUTUAL | GssFlags::INTEG | GssFlags::CONF | GssFlags::SEQUENCE;
    let (initiator, step) =
        Initiator::start(creds, flags, SystemTime::now()).map_err(|e| e.to_string())?;
    let (InitStep::Continue(token), Some(initiator)) = (step, initiator) else {
        return Err("mutual authentication was not set up".into());
    };
    let mut stream = tokio::time::timeout(DEADLINE, TcpStream::connect(server))
        .await
        .map_err(|_| format!("{server}: no answer"))?
        .map_err(|e| format!("{server}: {e}"))?;
    let exchange = async {
        send(&mut stream, &token).await?;
        let reply = receive(&mut stream).await?;
        if reply.is_empty() {
            return Err("the service refused the ticket (see its log)".to_owned());
        }
        let mut ctx: gss::SecurityContext = initiator
            .step(&reply)
            .map_err(|e| format!("the service's AP-REP: {e}"))?;
        let sealed = ctx
            .wrap(message.as_bytes(), true)
            .map_err(|e| e.to_string())?;
        send(&mut stream, &sealed).await?;
        let answer = receive(&mut stream).await?;
        let (answer, _) = ctx
            .unwrap(&answer)
            .map_err(|e| format!("the answer: {e}"))?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .map_err(|_| format!("{server}: no answer within {DEADLINE:?}"))?
}

/// The value after `flag`.
fn value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).map(String::as_str)
}

async fn run(args: Vec<String>) -> Result<Option<String>, String> {
    let usage = "usage: krb5_service serve --keytab FILE --listen ADDR:PORT\n       \
                 krb5_service call ADDR:PORT --spn SERVICE/HOST [--ccache FILE] [--kdc IP] MESSAGE";
    match args.first().map(String::as_str) {
        Some("serve") => {
            let keytab = value(&args, "--keytab").ok_or(usage)?;
            let listen = value(&args, "--listen").ok_or(usage)?;
            let listen = listen
                .parse()
                .map_err(|e| format!("--listen {listen}: {e}"))?;
            serve(PathBuf::from(keytab), listen).await.map(|()| None)
        }
        Some("call") => {
            let server = args.get(1).ok_or(usage)?;
            let server = server.parse().map_err(|e| format!("{server}: {e}"))?;
            let spn = value(&args, "--spn").ok_or(usage)?;
            let kdc = match value(&args, "--kdc") {
                Some(k) => Some(k.parse().map_err(|e| format!("--kdc {k}: {e}"))?),
                None => None,
            };
            let message = args.last().filter(|_| args.len() > 2).ok_or(usage)?;
            let creds = ticket(value(&args, "--ccache").map(PathBuf::from), spn, kdc).await?;
            call(server, creds, message).await.map(Some)
        }
        _ => Err(usage.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("krb5_service: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(answer) => {
            if let Some(answer) = answer {
                println!("{answer}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("krb5_service: {e}");
            ExitCode::FAILURE
        }
    }
}
