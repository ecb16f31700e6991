//! `adjoin`: the admin's tool for Kerberos and (later) lookups, logons and statistics.
//! See docs/adjoin.md.

use crate::cli;

mod configure;
mod identity;
mod logon;

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adjoin_auth::ccache::{self, CredentialCache};
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::kpasswd;
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::principal::PrincipalName;
use adjoin_join::discover::{self, DiscoverOptions, KdcFinder};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use zeroize::Zeroizing;

#[derive(Debug, Parser)]
#[command(
    name = "adjoin",
    version,
    about = "Kerberos and domain tools of Adjoin"
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
    /// Get a ticket-granting ticket with a password and store it in a credential cache.
    Kinit(KinitArgs),
    /// List the tickets in a credential cache, or the keys in a keytab (-k).
    Klist(KlistArgs),
    /// Get a service ticket with the cached TGT, store it and print its key version.
    Kvno(KvnoArgs),
    /// Change your password (kpasswd), or with --set, set another principal's as an admin.
    Kpasswd(KpasswdArgs),
    /// Have the DC verify a domain user's password over the NETLOGON secure channel and
    /// print the user's SID and groups (the path the SMB server's logons take).
    AuthenticateUser(AuthenticateUserArgs),
    /// Load generator: NTLM logons per second through one NETLOGON secure channel, with
    /// concurrent callers (each on its own sealed binding of the channel).
    LogonBench(LogonBenchArgs),
    /// Translate names to SIDs and SIDs to names through the DC (LSA over the secure
    /// channel).
    Lookup(LookupArgs),
    /// Ask a DC of the joined domain for a DC of DOMAIN (DsrGetDcNameEx2 over the secure
    /// channel): the DC locator as Windows members use it.
    Dcname(DcnameArgs),
    /// Look a domain user up by name (any form) or uid, through adjoind.
    FindUser(identity::NameArgs),
    /// Look a domain group up by name or gid, with its members.
    FindGroup(identity::NameArgs),
    /// Every group of a user's token (nested groups and the primary group), with gids.
    ListGroupsForUser(identity::NameArgs),
    /// Every user of the domain (paged from the DC; from the cache when offline).
    EnumUsers(identity::SocketArgs),
    /// Every group of the domain.
    EnumGroups(identity::SocketArgs),
    /// Show or flush the identity cache.
    #[command(subcommand)]
    Cache(identity::CacheCommand),
    /// The identity service: joined domain, DC in use, online or offline, cache size.
    Status(identity::SocketArgs),
    /// The SMB server's statistics: connections, sessions, tree connects and open files
    /// (now and at most), requests and bytes per command (root only).
    Stats(identity::StatsArgs),
    /// Put adjoin into nsswitch.conf (nss) or pam_adjoin.so into Debian's
    /// pam.d/common-* (pam), or take them out (see docs/install.md).
    Configure(configure::ConfigureArgs),
}

#[derive(Debug, Args)]
struct DcnameArgs {
    /// The domain (DNS or NetBIOS name); default: the joined domain.
    domain: Option<String>,
    /// Require a DC that runs the directory service (DS_DIRECTORY_SERVICE_REQUIRED).
    #[arg(long)]
    ds_required: bool,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    dc: DcArgs,
}

#[derive(Debug, Args)]
struct LookupArgs {
    /// Names (DOMAIN\name or name) and SIDs (S-1-...), in any mix.
    #[arg(required = true)]
    items: Vec<String>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    dc: DcArgs,
}

/// How to find the joined domain's DC.
#[derive(Debug, Args)]
struct DcArgs {
    /// DNS server for finding the DC, as IP or IP:PORT (repeatable); default: the
    /// registry's Join\DnsServers, else /etc/resolv.conf.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Seconds to wait for each answer from the DC.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    timeout: u64,
}

/// How to reach the DC for a logon (shared by authenticate-user and logon-bench).
#[derive(Debug, Args)]
struct ChannelArgs {
    /// The user, as DOMAIN\user (or user, in the joined domain).
    user: String,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    dc: DcArgs,
}

#[derive(Debug, Args)]
struct LogonBenchArgs {
    #[command(flatten)]
    channel: ChannelArgs,
    /// Logons to time (after one that must succeed and one with a wrong password that
    /// must be refused).
    #[arg(long, default_value_t = 2000)]
    count: u64,
    /// Concurrent callers, each on its own sealed binding of the one secure channel.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct AuthenticateUserArgs {
    #[command(flatten)]
    channel: ChannelArgs,
    /// Verify with an NTLMv2 challenge/response through NETLOGON (the only method so far).
    #[arg(long, required = true)]
    ntlm: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct KpasswdArgs {
    /// Whose password changes, as user@REALM; with --set, the administrator who sets it.
    principal: String,
    /// Read from standard input, one per line, the current password (with --set: the
    /// administrator's), then the new password; nothing is prompted or retyped.
    #[arg(long)]
    password_stdin: bool,
    /// Set the password of TARGET (user@REALM, or user in PRINCIPAL's realm) instead.
    #[arg(long, value_name = "TARGET")]
    set: Option<String>,
    /// kpasswd server, as HOST or HOST:PORT (repeatable); default: the KDCs' hosts, port 464.
    #[arg(long = "kpasswd-server", value_name = "HOST")]
    kpasswd_servers: Vec<String>,
    #[command(flatten)]
    kdc: KdcArgs,
}

#[derive(Debug, Args)]
struct KvnoArgs {
    /// The service principal, e.g. cifs/dc1.example.com (realm: the TGT's).
    spn: Vec<String>,
    /// Credential cache to use and update; default: KRB5CCNAME, else /tmp/krb5cc_UID.
    #[arg(short = 'c', long = "cache", value_name = "FILE")]
    cache: Option<PathBuf>,
    #[command(flatten)]
    kdc: KdcArgs,
}

#[derive(Debug, Args)]
struct KdcArgs {
    /// KDC to use, as HOST or HOST:PORT (repeatable); default: DNS SRV _kerberos._tcp.REALM.
    #[arg(long = "kdc", value_name = "HOST")]
    kdcs: Vec<String>,
    /// DNS server for the KDC lookup, as IP or IP:PORT (repeatable).
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Seconds to wait for each KDC.
    #[arg(long, value_name = "SECONDS", default_value_t = 3)]
    kdc_timeout: u64,
}

#[derive(Debug, Args)]
struct KinitArgs {
    /// The client, as user@REALM (the realm is required).
    principal: String,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    password_stdin: bool,
    /// Use the principal's keys from this keytab instead of a password.
    #[arg(
        short = 'k',
        long = "keytab",
        value_name = "FILE",
        conflicts_with = "password_stdin"
    )]
    keytab: Option<PathBuf>,
    /// Credential cache to write; default: KRB5CCNAME, else /tmp/krb5cc_UID.
    #[arg(short = 'c', long = "cache", value_name = "FILE")]
    cache: Option<PathBuf>,
    /// Ticket lifetime in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 10)]
    lifetime: u64,
    #[command(flatten)]
    kdc: KdcArgs,
}

#[derive(Debug, Args)]
struct KlistArgs {
    /// Credential cache to read; default: KRB5CCNAME, else /tmp/krb5cc_UID.
    #[arg(
        short = 'c',
        long = "cache",
        value_name = "FILE",
        conflicts_with = "keytab"
    )]
    cache: Option<PathBuf>,
    /// List this keytab's entries instead.
    #[arg(short = 'k', long = "keytab", value_name = "FILE")]
    keytab: Option<PathBuf>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// The tool's entry point: its `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.verbose);
    let result = cli::runtime()
        .context("cannot start the async runtime")
        .and_then(|rt| rt.block_on(run(cli.command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("adjoin: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Kinit(args) => kinit(args).await,
        Command::Klist(args) => klist(&args),
        Command::Kvno(args) => kvno(args).await,
        Command::Kpasswd(args) => kpasswd_cmd(args).await,
        Command::AuthenticateUser(args) => logon::authenticate_user(args).await,
        Command::LogonBench(args) => logon::logon_bench(args).await,
        Command::Lookup(args) => logon::lookup(args).await,
        Command::Dcname(args) => logon::dcname(args).await,
        Command::FindUser(args) => identity::find_user(&args),
        Command::FindGroup(args) => identity::find_group(&args),
        Command::ListGroupsForUser(args) => identity::list_groups_for_user(&args),
        Command::EnumUsers(args) => identity::enum_users(&args),
        Command::EnumGroups(args) => identity::enum_groups(&args),
        Command::Cache(command) => identity::cache(&command),
        Command::Status(args) => identity::status(&args),
        Command::Stats(args) => identity::stats(&args),
        Command::Configure(args) => configure::configure(&args),
    }
}

async fn kinit(args: KinitArgs) -> anyhow::Result<()> {
    let client = PrincipalName::parse(&args.principal)?;
    if client.realm.is_empty() {
        bail!("{}: give the realm too, as user@REALM", args.principal);
    }
    let secret = match &args.keytab {
        Some(path) => keytab_secret(path, &client)?,
        None => ClientSecret::Password(read_password(&client, args.password_stdin)?),
    };
    let config = kdc_config(&client.realm, &args.kdc).await?;
    let options = AsOptions {
        lifetime: Duration::from_secs(args.lifetime.clamp(1, 24 * 7) * 3600),
        ..AsOptions::default()
    };
    let exchange = AsExchange::new(client, secret, options);
    let creds = kdc::initial_credentials(exchange, &config, &SystemTime::now).await?;
    let path = match args.cache {
        Some(p) => p,
        None => ccache::default_path()?,
    };
    let mut cache = CredentialCache::new(creds.client.clone());
    cache.store(creds.to_ccache());
    cache
        .save(&path)
        .with_context(|| format!("cannot write the credential cache {}", path.display()))?;
    eprintln!(
        "adjoin: ticket for {} stored in {} (expires {})",
        creds.client,
        path.display(),
        timestamp(creds.end_time)
    );
    Ok(())
}

async fn kvno(args: KvnoArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.spn.is_empty(), "name at least one service principal");
    let path = match args.cache {
        Some(p) => p,
        None => ccache::default_path()?,
    };
    let mut cache = CredentialCache::load(&path)
        .with_context(|| format!("cannot read the credential cache {}", path.display()))?;
    let tgt = cache.tgt().with_context(|| {
        format!(
            "{} holds no ticket-granting ticket: run adjoin kinit",
            path.display()
        )
    })?;
    let tgt = Credentials::from_ccache(tgt)?;
    anyhow::ensure!(
        tgt.end_time > SystemTime::now(),
        "the ticket-granting ticket in {} has expired: run adjoin kinit",
        path.display()
    );
    // Services in trusted realms: each KDC on the referral path is found through DNS.
    let finder = KdcFinder {
        home_realm: tgt.client.realm.clone(),
        home: kdc_config(&tgt.client.realm, &args.kdc).await?,
        options: DiscoverOptions {
            dns_servers: args.kdc.dns_servers.clone(),
            ..DiscoverOptions::default()
        },
    };
    for spn in &args.spn {
        let server = PrincipalName::parse_with_default_realm(spn, &tgt.client.realm)?;
        let server = PrincipalName {
            name_type: PrincipalName::NT_SRV_INST,
            ..server
        };
        let creds =
            kdc::service_ticket_via_referrals(tgt.clone(), server, &finder, &SystemTime::now)
                .await?;
        match creds.ticket_kvno() {
            Some(v) => println!("{}: kvno = {v}", creds.server),
            None => println!("{}: kvno unknown", creds.server),
        }
        cache.store(creds.to_ccache());
    }
    cache
        .save(&path)
        .with_context(|| format!("cannot write the credential cache {}", path.display()))?;
    Ok(())
}

async fn kpasswd_cmd(args: KpasswdArgs) -> anyhow::Result<()> {
    let client = PrincipalName::parse(&args.principal)?;
    if client.realm.is_empty() {
        bail!("{}: give the realm too, as user@REALM", args.principal);
    }
    let target = match &args.set {
        Some(t) => PrincipalName::parse_with_default_realm(t, &client.realm)?,
        None => client.clone(),
    };
    let (old, new) = kpasswd_passwords(&client, &target, args.password_stdin)?;
    let kdcs = kdc_config(&client.realm, &args.kdc).await?;
    let servers = if args.kpasswd_servers.is_empty() {
        kpasswd::kpasswd_servers(&kdcs)
    } else {
        let mut v = Vec::new();
        for host in &args.kpasswd_servers {
            v.extend(resolve_host(host, kpasswd::KPASSWD_PORT)?);
        }
        KdcConfig {
            kdcs: v,
            ..kdcs.clone()
        }
    };
    if args.set.is_some() {
        let creds =
            kpasswd::changepw_credentials(client, ClientSecret::Password(old), &kdcs).await?;
        kpasswd::set_password(&creds, &target, &new, &kdcs, &servers).await?;
        eprintln!("adjoin: password of {target} set");
    } else {
        kpasswd::change_password(client, old, &new, &kdcs, &servers).await?;
        eprintln!("adjoin: password of {target} changed");
    }
    Ok(())
}

/// The current (or administrator's) password and the new one: two lines of stdin, or
/// prompts with the new one typed twice.
fn kpasswd_passwords(
    client: &PrincipalName,
    target: &PrincipalName,
    from_stdin: bool,
) -> anyhow::Result<(Zeroizing<String>, Zeroizing<String>)> {
    let stdin = std::io::stdin();
    let (old, new) = if !from_stdin && stdin.is_terminal() {
        let old = cli::prompt_secret(&format!("Password for {client}: "))?;
        let new = cli::prompt_secret(&format!("New password for {target}: "))?;
        let again = cli::prompt_secret(&format!("Retype new password for {target}: "))?;
        anyhow::ensure!(
            *new == *again,
            "the two new passwords differ; nothing changed"
        );
        (old, new)
    } else {
        let old = cli::stdin_line("the current password")?;
        let new = cli::stdin_line("the new password")?;
        (old, new)
    };
    anyhow::ensure!(
        !new.is_empty(),
        "the new password is empty; nothing changed"
    );
    Ok((old, new))
}

fn keytab_secret(path: &PathBuf, client: &PrincipalName) -> anyhow::Result<ClientSecret> {
    let keytab = Keytab::load(path).with_context(|| format!("cannot read {}", path.display()))?;
    let newest = keytab
        .entries
        .iter()
        .filter(|e| e.principal.matches(client))
        .map(|e| e.kvno)
        .max()
        .with_context(|| format!("{} has no keys for {client}", path.display()))?;
    let keys = keytab
        .entries
        .iter()
        .filter(|e| e.principal.matches(client) && e.kvno == newest)
        .map(|e| e.key.to_key())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ClientSecret::Keys(keys))
}

/// The password from a prompt without echo, or the first line of stdin.
fn read_password(client: &PrincipalName, from_stdin: bool) -> anyhow::Result<Zeroizing<String>> {
    cli::read_secret(&format!("Password for {client}: "), from_stdin)
}

async fn kdc_config(realm: &str, args: &KdcArgs) -> anyhow::Result<KdcConfig> {
    let kdcs = if args.kdcs.is_empty() {
        let opts = DiscoverOptions {
            dns_servers: args.dns_servers.clone(),
            ..DiscoverOptions::default()
        };
        discover::kdcs(realm, &opts).await?
    } else {
        let mut v = Vec::new();
        for k in &args.kdcs {
            v.extend(resolve_kdc(k)?);
        }
        v
    };
    Ok(KdcConfig {
        timeout: Duration::from_secs(args.kdc_timeout.max(1)),
        ..KdcConfig::new(kdcs)
    })
}

fn resolve_kdc(host: &str) -> anyhow::Result<Vec<SocketAddr>> {
    resolve_host(host, 88)
}

/// HOST, IP, HOST:PORT or IP:PORT as socket addresses, `port` when none is given.
fn resolve_host(host: &str, port: u16) -> anyhow::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Ok(addr) = host.parse::<SocketAddr>() {
        return Ok(vec![addr]);
    }
    let with_port = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    };
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&with_port)
        .with_context(|| format!("cannot resolve {host}"))?
        .collect();
    Ok(addrs)
}

fn klist(args: &KlistArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.keytab {
        return klist_keytab(path, args.json);
    }
    let path = match &args.cache {
        Some(p) => p.clone(),
        None => ccache::default_path()?,
    };
    let cache = CredentialCache::load(&path)
        .with_context(|| format!("cannot read the credential cache {}", path.display()))?;
    let creds: Vec<_> = cache
        .credentials
        .iter()
        .filter(|c| !c.is_config())
        .collect();
    if args.json {
        let list: Vec<serde_json::Value> = creds
            .iter()
            .map(|c| {
                serde_json::json!({
                    "server": c.server.to_string(),
                    "client": c.client.to_string(),
                    "etype": format!("{:?}", c.key.etype()),
                    "starttime": c.starttime,
                    "endtime": c.endtime,
                    "renew_till": c.renew_till,
                    "flags": c.flags.bits(),
                })
            })
            .collect();
        let v = serde_json::json!({
            "cache": path.display().to_string(),
            "principal": cache.principal.to_string(),
            "credentials": list,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("Ticket cache: FILE:{}", path.display());
    println!("Default principal: {}\n", cache.principal);
    println!(
        "{:<20} {:<20} Service principal",
        "Valid starting", "Expires"
    );
    for c in creds {
        let start = if c.starttime != 0 {
            c.starttime
        } else {
            c.authtime
        };
        println!(
            "{:<20} {:<20} {}",
            timestamp(secs(start)),
            timestamp(secs(c.endtime)),
            c.server
        );
        if c.renew_till != 0 {
            println!("\trenew until {}", timestamp(secs(c.renew_till)));
        }
        println!("\tEtype (skey): {:?}", c.key.etype());
    }
    Ok(())
}

fn klist_keytab(path: &PathBuf, json: bool) -> anyhow::Result<()> {
    let keytab = Keytab::load(path).with_context(|| format!("cannot read {}", path.display()))?;
    if json {
        let list: Vec<serde_json::Value> = keytab
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "principal": e.principal.to_string(),
                    "kvno": e.kvno,
                    "etype": format!("{:?}", e.key.etype()),
                    "timestamp": e.timestamp,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    println!("Keytab name: FILE:{}", path.display());
    println!("KVNO Timestamp            Principal");
    println!("---- -------------------- ------------------------------------------------------");
    for e in &keytab.entries {
        println!(
            "{:>4} {:<20} {} ({:?})",
            e.kvno,
            timestamp(secs(e.timestamp)),
            e.principal,
            e.key.etype()
        );
    }
    Ok(())
}

fn secs(t: u32) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::from(t))
}

/// UTC time, `YYYY-MM-DD HH:MM:SS`.
fn timestamp(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}
