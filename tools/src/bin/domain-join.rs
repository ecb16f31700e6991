//! `domain-join`: join this machine to an Active Directory domain, and inspect or change
//! that membership. See docs/domain-join.md.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use adjoin_join::discover::{self, DiscoverOptions, DomainController};
use adjoin_registry::{Registry, Value};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "domain-join",
    version,
    about = "Join this machine to an Active Directory domain"
)]
struct Cli {
    /// Log each step to stderr (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find a domain controller for DOMAIN and show what it says about the domain,
    /// like `adcli info` or `realm discover`.
    Discover(DiscoverArgs),
}

#[derive(Debug, Args)]
struct DiscoverArgs {
    /// The DNS name of the domain, e.g. example.com.
    domain: String,
    /// DNS server to ask, as IP or IP:PORT (repeatable); default: the registry's
    /// `HKEY_THIS_MACHINE\Join` `DnsServers`, else /etc/resolv.conf.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Ping this DC (name or address) instead of looking DCs up in DNS (repeatable).
    #[arg(long = "server", value_name = "DC")]
    servers: Vec<String>,
    /// Prefer DCs of this site.
    #[arg(long)]
    site: Option<String>,
    /// Seconds to wait for each DNS attempt (two attempts per server).
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    dns_timeout: f64,
    /// Seconds to wait for each LDAP ping before resending once.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    ping_timeout: f64,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|rt| rt.block_on(run(cli.command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("domain-join: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info,adjoin_join=debug",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ADJOIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .init();
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Discover(args) => discover_cmd(args).await,
    }
}

async fn discover_cmd(args: DiscoverArgs) -> anyhow::Result<()> {
    let dns_servers = if args.dns_servers.is_empty() {
        registry_dns_servers()?
    } else {
        args.dns_servers
    };
    let opts = DiscoverOptions {
        dns_servers,
        servers: args.servers,
        site: args.site,
        dns_timeout: seconds("--dns-timeout", args.dns_timeout)?,
        ping_timeout: seconds("--ping-timeout", args.ping_timeout)?,
        ..DiscoverOptions::default()
    };
    let dc = discover::discover(&args.domain, &opts).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&dc)?);
    } else {
        print!("{}", render(&dc));
    }
    Ok(())
}

/// `HKEY_THIS_MACHINE\Join` `DnsServers` from the registry, when there is one: the DNS
/// servers an admin configured once for every domain-join and adjoind lookup.
fn registry_dns_servers() -> anyhow::Result<Vec<SocketAddr>> {
    let path = Registry::default_path();
    if !path.exists() {
        return Ok(Vec::new());
    }
    let registry = Registry::open(&path)
        .with_context(|| format!("cannot open the registry {}", path.display()))?;
    let value = registry.get_value(JOIN_KEY, "DnsServers")?;
    let Value::MultiSz(list) = value else {
        anyhow::bail!(
            "{JOIN_KEY}\\DnsServers in {} is not a REG_MULTI_SZ",
            path.display()
        );
    };
    list.iter()
        .map(|s| {
            discover::parse_dns_server(s)
                .map_err(|e| anyhow::anyhow!("{JOIN_KEY}\\DnsServers in {}: {e}", path.display()))
        })
        .collect()
}

const JOIN_KEY: &str = r"HKEY_THIS_MACHINE\Join";

fn seconds(flag: &str, s: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        s.is_finite() && s > 0.0 && s <= 60.0,
        "{flag} must be between 0 and 60 seconds, not {s}"
    );
    Ok(Duration::from_secs_f64(s))
}

/// The text form: one `key: value` per line, names as `samba-tool domain info` uses them.
fn render(dc: &DomainController) -> String {
    let servers = |list: &[discover::SrvTarget]| {
        let v: Vec<String> = list
            .iter()
            .map(|t| format!("{}:{}", t.host, t.port))
            .collect();
        if v.is_empty() {
            "(none)".to_owned()
        } else {
            v.join(", ")
        }
    };
    let rows = [
        ("Domain", dc.dns_domain.clone()),
        ("Netbios domain", dc.netbios_domain.clone()),
        ("Forest", dc.forest.clone()),
        ("Domain GUID", dc.domain_guid.to_string()),
        ("DC name", dc.dc_name.clone()),
        ("DC netbios name", dc.dc_netbios_name.clone()),
        ("DC address", dc.dc_address.to_string()),
        ("Server site", dc.dc_site.clone()),
        ("Client site", dc.client_site.clone()),
        (
            "DC flags",
            format!("{:#010x} {}", dc.flags, dc.flag_names.join(" ")),
        ),
        ("LDAP servers", servers(&dc.ldap_servers)),
        ("KDCs", servers(&dc.kdcs)),
        ("Discovered in", format!("{} ms", dc.elapsed_ms)),
    ];
    rows.iter()
        .map(|(k, v)| format!("{k:<16}: {v}\n"))
        .collect()
}
