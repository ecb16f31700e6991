//! `adjoind`: the Adjoin daemon. So far it serves SMB2/3 as far as IPC$ — session setup
//! by domain users (Kerberos with the member's keytab, NTLM verified by the DC over the
//! NETLOGON secure channel) and the srvsvc/wkssvc pipes that list the server — the first
//! part of the file server. See docs/adjoind.md.

// Shared with the other binaries; adjoind reads no secret from a terminal.
#[allow(dead_code)]
#[path = "../cli.rs"]
mod cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::Acceptor;
use adjoin_join::discover;
use adjoin_join::member;
use adjoin_registry::Registry;
use adjoin_rpc::netlogon::pool::LogonPool;
use adjoin_smb::server::{ServerConfig, serve};
use anyhow::{Context, anyhow};
use clap::Parser;
use tokio::net::TcpListener;

/// Client connections served at once.
const MAX_CONNECTIONS: usize = 1024;

#[derive(Debug, Parser)]
#[command(
    name = "adjoind",
    version,
    about = "The Adjoin daemon: SMB2/3 for domain users (so far IPC$: logons and share listing)",
    after_help = "Examples:\n  adjoind                                  # SMB on 0.0.0.0:445, keytab /etc/krb5.keytab\n  adjoind --listen 127.0.0.1:4450 --keytab /var/lib/adjoin/krb5.keytab\n\nSee docs/adjoind.md."
)]
struct Args {
    /// Where to accept SMB connections.
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:445")]
    listen: SocketAddr,
    /// The member's keytab, for Kerberos session setups ("none" to offer NTLM only).
    #[arg(long, value_name = "FILE", default_value = "/etc/krb5.keytab")]
    keytab: String,
    /// DNS server for finding the DC, as IP or IP:PORT (repeatable); default: the
    /// registry's Join\DnsServers, else /etc/resolv.conf.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Seconds to wait for each answer from the DC, and for an idle client.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Concurrent logons through the secure channel.
    #[arg(long, value_name = "N", default_value_t = 8)]
    logon_bindings: usize,
    /// Log each step to stderr (repeat for more detail).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::init_logging(args.verbose.max(1));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("adjoind: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("adjoind: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let path = Registry::default_path();
    let registry = Registry::open(&path)
        .with_context(|| format!("cannot open the registry {}", path.display()))?;
    let timeout = Duration::from_secs(args.timeout.clamp(1, 600));
    let (m, channel, dc) = member::open_channel(&registry, &args.dns_servers, timeout)
        .await
        .map_err(|e| anyhow!(e))?;
    let kerberos = match args.keytab.as_str() {
        "none" => None,
        file => {
            let file = PathBuf::from(file);
            let bytes = std::fs::read(&file).with_context(|| {
                format!(
                    "cannot read the keytab {} (join with --keytab, or --keytab none for NTLM only)",
                    file.display()
                )
            })?;
            let keytab = Keytab::parse(&bytes)
                .with_context(|| format!("{} is not a keytab", file.display()))?;
            Some(Arc::new(Mutex::new(Acceptor::new(keytab))))
        }
    };
    let mut server_guid = [0u8; 16];
    getrandom::fill(&mut server_guid).map_err(|e| anyhow!("the random source failed: {e}"))?;
    let config = Arc::new(ServerConfig {
        identity: m.server_identity(),
        server_guid,
        comment: format!("Adjoin on {}", m.fqdn),
        shares: Vec::new(),
        kerberos: kerberos.clone(),
    });
    let pool = Arc::new(LogonPool::new(channel, args.logon_bindings));
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        listen = %args.listen,
        member = %m.fqdn,
        dc = %dc.dc_name,
        kerberos = kerberos.is_some(),
        "serving SMB"
    );
    // Connections served at once; more wait in the listen backlog.
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return Ok(());
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let (config, pool) = (Arc::clone(&config), Arc::clone(&pool));
        tokio::spawn(async move {
            if let Err(e) = serve(stream, config, pool, timeout).await {
                tracing::info!(%peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
}
