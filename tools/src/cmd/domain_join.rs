//! `domain-join`: join this machine to an Active Directory domain, and inspect or change
//! that membership. See docs/domain-join.md.

use crate::cli;

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use std::path::PathBuf;

use adjoin_join::discover::{self, DiscoverOptions, DomainController};
use adjoin_join::join::{self, JoinRequest};
use adjoin_join::machine;
use adjoin_join::names::MachineNames;
use adjoin_registry::Registry;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use zeroize::Zeroizing;

#[derive(Debug, Parser)]
#[command(
    name = "domain-join",
    version,
    about = "Join this machine to an Active Directory domain",
    long_about = "Join this machine to an Active Directory domain, and inspect or change that \
membership.\n\nWith no command it joins: `domain-join --name foo.example.com` joins \
example.com as foo, as the domain's Administrator (the password is asked for); the \
options are those of `domain-join join`.",
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true
)]
struct Cli {
    /// Log each step to stderr (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a command: join (the options of `join`).
    #[command(flatten)]
    join: JoinArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find a domain controller for DOMAIN and show what it says about the domain,
    /// like `adcli info` or `realm discover`.
    Discover(DiscoverArgs),
    /// Join this machine to DOMAIN as USER (an account that may create computer objects);
    /// the default command.
    Join(JoinArgs),
    /// Show the joined state recorded in the registry.
    Query(QueryArgs),
    /// Leave the domain: disable (or --delete) the computer object, remove its keytab
    /// entries, clear the join state.
    Leave(LeaveArgs),
    /// Change this machine's FQDN (in the registry; when joined, also dNSHostName, SPNs and
    /// the keytab); with --netbios-name, rename the account too.
    Setname(SetnameArgs),
    /// Check the join against AD: the machine password and keytab keys log on, and the
    /// keytab and registry agree with the computer object (kvno, dNSHostName, SPNs, key
    /// types, its DN). Each difference is printed with its fix; exit status 1 if any.
    Testjoin(CheckArgs),
    /// Fix what testjoin reports with the machine's own credentials (no admin password):
    /// dNSHostName, missing SPNs and key types on the computer object, the keytab at AD's
    /// kvno, the registry's kvno and account DN; then check again. Exit status 1 if drift
    /// that needs an administrator remains.
    Repair(CheckArgs),
    /// Register this machine's FQDN in the domain's DNS (A/AAAA, a secure dynamic update
    /// signed with the machine's own Kerberos credentials, GSS-TSIG), or --remove it.
    DnsUpdate(DnsUpdateArgs),
    /// Change the machine password with the machine's own credentials; the keytab keeps the
    /// previous key version beside the new one.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
struct SetnameArgs {
    /// The new FQDN.
    fqdn: String,
    /// A new NetBIOS name: renames the account too (sAMAccountName, the short SPNs, the
    /// keytab's principals, new keys); needs --user.
    #[arg(long)]
    netbios_name: Option<String>,
    /// Make the change in AD as this administrator instead of as the machine.
    #[arg(long)]
    user: Option<String>,
    /// Read the administrator's password from stdin.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    machine: MachineArgs,
}

#[derive(Debug, Args)]
struct MachineArgs {
    /// DNS server for discovery (repeatable); default: registry, else /etc/resolv.conf.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    machine: MachineArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct RotateArgs {
    #[command(flatten)]
    machine: MachineArgs,
    /// Encryption types of the new keys (aes256, aes128, rc4), comma-separated.
    #[arg(long, default_value = "aes256,aes128")]
    enctypes: String,
    /// Change the password with a Kerberos kpasswd change instead of NETLOGON's
    /// NetrServerPasswordSet2 over the secure channel.
    #[arg(long)]
    kpasswd: bool,
}

#[derive(Debug, Args)]
struct JoinArgs {
    /// The DNS name of the domain; default: the domain of --name (foo.example.com joins
    /// example.com).
    domain: Option<String>,
    /// The administrator (user or user@REALM); default: Administrator. Not used with
    /// --one-time-password.
    user: Option<String>,
    /// Join a pre-created account with the one-time password an admin set on it (read
    /// like the admin password: ADJOIN_ADMIN_PASSWORD, stdin or a prompt).
    #[arg(long)]
    one_time_password: bool,
    /// This machine's FQDN in the domain; default: the host's FQDN.
    #[arg(long = "name", value_name = "FQDN")]
    name: Option<String>,
    /// NetBIOS name (sAMAccountName without $); default: the first label, upper-cased.
    #[arg(long)]
    netbios_name: Option<String>,
    /// Create the account in this OU (a DN); default: the Computers container.
    #[arg(long)]
    ou: Option<String>,
    /// Use this DC instead of discovering one.
    #[arg(long)]
    server: Option<String>,
    /// DNS server for discovery (repeatable); default: registry, else /etc/resolv.conf.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Keytab to write the machine's keys to.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/etc/krb5.keytab",
        conflicts_with = "no_keytab"
    )]
    keytab: PathBuf,
    /// Write no keytab.
    #[arg(long)]
    no_keytab: bool,
    /// operatingSystem attribute.
    #[arg(long, default_value = "Linux")]
    os_name: String,
    /// operatingSystemVersion attribute; default: the running kernel's release.
    #[arg(long)]
    os_version: Option<String>,
    /// userPrincipalName for the machine account.
    #[arg(long)]
    upn: Option<String>,
    /// Encryption types (aes256, aes128, rc4), comma-separated.
    #[arg(long, default_value = "aes256,aes128")]
    enctypes: String,
    /// Take over an existing account with the same name.
    #[arg(long)]
    reuse_account: bool,
    /// Address to register in DNS for --name (repeatable; kept in the registry for later
    /// updates); default: this host's address towards the DC.
    #[arg(long = "address", value_name = "IP")]
    addresses: Vec<IpAddr>,
    /// Do not register the name in the domain's DNS (secure dynamic update).
    #[arg(long)]
    no_dns_update: bool,
    /// Read the admin password from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// Print as JSON.
    #[arg(long)]
    json: bool,
    /// Also check against AD that the machine account and its keys still work.
    #[arg(long)]
    verify: bool,
    #[command(flatten)]
    machine: MachineArgs,
}

#[derive(Debug, Args)]
struct LeaveArgs {
    /// The administrator (user or user@REALM).
    user: String,
    /// Delete the computer object instead of disabling it.
    #[arg(long)]
    delete: bool,
    /// DNS server for discovery (repeatable); default: registry, else /etc/resolv.conf.
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Read the admin password from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
    /// Leave the name's records in DNS.
    #[arg(long)]
    no_dns_update: bool,
}

#[derive(Debug, Args)]
struct DnsUpdateArgs {
    /// Address to register (repeatable); default: the registry's Join\Addresses, else this
    /// host's address towards the DC.
    #[arg(long = "address", value_name = "IP")]
    addresses: Vec<IpAddr>,
    /// Remove the name's A and AAAA records instead.
    #[arg(long, conflicts_with = "addresses")]
    remove: bool,
    #[command(flatten)]
    machine: MachineArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
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

/// The tool's entry point: its `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.verbose);
    let result = cli::runtime()
        .context("cannot start the async runtime")
        .and_then(|rt| match cli.command {
            Some(command) => rt.block_on(run(command, cli.verbose)),
            None => rt.block_on(join_cmd(cli.join, cli.verbose)),
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Drifted>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("domain-join: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, verbose: u8) -> anyhow::Result<()> {
    match command {
        Command::Discover(args) => discover_cmd(args).await,
        Command::Join(args) => join_cmd(args, verbose).await,
        Command::Query(args) => query_cmd(args).await,
        Command::Leave(args) => leave_cmd(args).await,
        Command::Setname(args) => {
            let mut registry = open_registry()?;
            let admin = match &args.user {
                Some(u) => Some((u.as_str(), admin_password(u, args.password_stdin)?)),
                None => None,
            };
            let opts = machine_discover(args.machine)?;
            let netbios = args.netbios_name.as_deref();
            let done = join::setname(&mut registry, &args.fqdn, netbios, admin, &opts).await?;
            for d in done {
                println!("{d}");
            }
            Ok(())
        }
        Command::Testjoin(args) => {
            let registry = open_registry()?;
            let opts = machine_discover(args.machine)?;
            let check = join::testjoin(&registry, &opts).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&check)?);
            } else {
                println!("{check}");
            }
            drifted(check.is_sound())
        }
        Command::Repair(args) => {
            let mut registry = open_registry()?;
            let opts = machine_discover(args.machine)?;
            let r = join::repair(&mut registry, &opts).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                for f in &r.fixed {
                    println!("fixed: {f}");
                }
                for f in &r.refused {
                    println!("refused: {f}");
                }
                println!("{}", r.after);
            }
            drifted(r.after.is_sound())
        }
        Command::DnsUpdate(args) => {
            let registry = open_registry()?;
            let opts = machine_discover(args.machine)?;
            let r = join::dns_update(&registry, &opts, &args.addresses, args.remove).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else if r.addresses.is_empty() {
                println!("removed the A/AAAA records of {} ({})", r.fqdn, r.server);
            } else {
                println!("{} -> {} ({})", r.fqdn, list(&r.addresses), r.server);
            }
            if !args.json {
                for p in &r.ptr {
                    println!("{p}");
                }
            }
            Ok(())
        }
        Command::Rotate(args) => {
            let mut registry = open_registry()?;
            let enctypes = machine::parse_enctypes(&args.enctypes)?;
            let opts = machine_discover(args.machine)?;
            let method = if args.kpasswd {
                join::RotateMethod::Kpasswd
            } else {
                join::RotateMethod::Netlogon
            };
            let kvno = join::rotate(&mut registry, &opts, &enctypes, method).await?;
            println!("machine password changed; new key version {kvno}");
            Ok(())
        }
    }
}

/// Addresses, comma-separated.
fn list(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A check found drift: exit status 1, with nothing more on stderr (the report said it).
#[derive(Debug, thiserror::Error)]
#[error("the join has drifted")]
struct Drifted;

/// Ends a check: [`Drifted`] when the join is not sound.
fn drifted(sound: bool) -> anyhow::Result<()> {
    if sound { Ok(()) } else { Err(Drifted.into()) }
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

/// The admin password: `ADJOIN_ADMIN_PASSWORD`, else stdin (first line) with
/// `--password-stdin` or when there is no terminal, else a prompt without echo. Never argv.
fn admin_password(user: &str, from_stdin: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(pw) = std::env::var("ADJOIN_ADMIN_PASSWORD") {
        return Ok(Zeroizing::new(pw));
    }
    cli::read_secret(&format!("Password for {user}: "), from_stdin)
}

fn host_fqdn() -> anyhow::Result<String> {
    let out = std::process::Command::new("hostname").arg("-f").output()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    anyhow::ensure!(
        name.contains('.'),
        "the host's name '{name}' is not a FQDN: give --name FQDN"
    );
    Ok(name)
}

fn open_registry() -> anyhow::Result<Registry> {
    let path = Registry::default_path();
    Registry::open(&path).with_context(|| format!("cannot open the registry {}", path.display()))
}

/// The administrator a join runs as, as realm(8) and adcli take it: the one given, else
/// the domain's Administrator; none with a one-time password.
fn join_admin(user: Option<String>, one_time_password: bool) -> Option<String> {
    (!one_time_password).then(|| user.unwrap_or_else(|| "Administrator".to_owned()))
}

async fn join_cmd(args: JoinArgs, verbose: u8) -> anyhow::Result<()> {
    let fqdn = match args.name {
        Some(n) => n,
        None => host_fqdn()?,
    };
    let names = MachineNames::new(&fqdn, args.netbios_name.as_deref())?;
    if let Some(w) = names.warning() {
        eprintln!("domain-join: warning: {w}");
    }
    let enctypes = machine::parse_enctypes(&args.enctypes)?;
    let dns_servers = if args.dns_servers.is_empty() {
        registry_dns_servers()?
    } else {
        args.dns_servers
    };
    let domain = args.domain.unwrap_or_else(|| names.domain().to_owned());
    let admin = join_admin(args.user, args.one_time_password);
    let who = match &admin {
        None => format!("the one-time password of {}", names.sam_account_name),
        Some(u) => u.clone(),
    };
    let req = JoinRequest {
        domain,
        admin_password: admin_password(&who, args.password_stdin)?,
        admin: admin.unwrap_or_default(),
        one_time_password: args.one_time_password,
        names,
        ou: args.ou,
        discover: DiscoverOptions {
            dns_servers,
            servers: args.server.into_iter().collect(),
            ..DiscoverOptions::default()
        },
        keytab: (!args.no_keytab).then_some(args.keytab),
        os_name: args.os_name,
        os_version: args.os_version.unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        }),
        upn: args.upn,
        enctypes,
        reuse_account: args.reuse_account,
        dns_update: !args.no_dns_update,
        addresses: args.addresses,
    };
    let mut registry = open_registry()?;
    let show = verbose > 0 && !args.json;
    let mut progress = |step: join::Step, what: &str| {
        if show {
            eprintln!(" * {step}: {what}");
        }
    };
    let r = join::join(&req, &mut registry, &mut progress).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "Joined {} as {} ({})",
            r.realm, r.sam_account_name, r.account_dn
        );
        println!("  DC: {}  site: {}  kvno: {}", r.dc, r.site, r.kvno);
        if let Some(k) = &r.keytab {
            println!("  keytab: {}", k.display());
        }
        if let Some(d) = &r.dns {
            println!("  DNS: {} -> {}", d.fqdn, list(&d.addresses));
            for p in &d.ptr {
                println!("  DNS: {p}");
            }
        }
    }
    if let Some(w) = &r.dns_warning {
        eprintln!(
            "domain-join: warning: the join succeeded but the name was not registered in DNS: {w}"
        );
    }
    Ok(())
}

fn machine_discover(args: MachineArgs) -> anyhow::Result<DiscoverOptions> {
    let dns_servers = if args.dns_servers.is_empty() {
        registry_dns_servers()?
    } else {
        args.dns_servers
    };
    Ok(DiscoverOptions {
        dns_servers,
        ..DiscoverOptions::default()
    })
}

async fn query_cmd(args: QueryArgs) -> anyhow::Result<()> {
    let registry = open_registry()?;
    let Some(state) = join::query(&registry)? else {
        anyhow::bail!("this machine is not joined to a domain");
    };
    if args.json {
        let map: serde_json::Map<String, serde_json::Value> = state
            .values
            .iter()
            .map(|(k, v)| (k.clone(), json_value(k, v)))
            .collect();
        println!("{}", serde_json::to_string_pretty(&map)?);
    } else {
        for (k, v) in &state.values {
            println!("{k:<17}: {}", shown_value(k, v));
        }
    }
    if args.verify {
        let opts = machine_discover(args.machine)?;
        let check = join::testjoin(&registry, &opts).await?;
        eprintln!("verified: {check}");
        return drifted(check.is_sound());
    }
    Ok(())
}

/// The join state's numbers (REG_DWORD, REG_QWORD) as JSON numbers, the rest as strings.
fn json_value(name: &str, value: &str) -> serde_json::Value {
    match value.parse::<u64>() {
        Ok(n) if matches!(name, "KeyVersionNumber" | "JoinTime" | "PasswordLastSet") => n.into(),
        _ => value.into(),
    }
}

/// A join state value as `query` prints it: the join time as a UTC date and time (with
/// the seconds since the epoch the registry keeps), the rest as recorded.
fn shown_value(name: &str, value: &str) -> String {
    if matches!(name, "JoinTime" | "PasswordLastSet")
        && let Some(when) = value
            .parse::<i64>()
            .ok()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
    {
        return format!("{} ({value})", when.format("%Y-%m-%d %H:%M:%S UTC"));
    }
    value.to_owned()
}

async fn leave_cmd(args: LeaveArgs) -> anyhow::Result<()> {
    let dns_servers = if args.dns_servers.is_empty() {
        registry_dns_servers()?
    } else {
        args.dns_servers
    };
    let req = join::LeaveRequest {
        admin_password: admin_password(&args.user, args.password_stdin)?,
        admin: args.user,
        delete: args.delete,
        discover: DiscoverOptions {
            dns_servers,
            ..DiscoverOptions::default()
        },
        dns_update: !args.no_dns_update,
    };
    let mut registry = open_registry()?;
    let done = join::leave(&req, &mut registry).await?;
    for d in done {
        println!("{d}");
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
    adjoin_join::member::registry_dns_servers(&registry)
        .map_err(|e| anyhow::anyhow!("{e} (in {})", path.display()))
}

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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The domain a join of `fqdn` goes to when none is given (`join_cmd`).
    fn domain_of(fqdn: &str) -> anyhow::Result<String> {
        Ok(MachineNames::new(fqdn, None)?.domain().to_owned())
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("domain-join").chain(args.iter().copied()))
    }

    #[test]
    fn with_no_command_it_joins_under_the_name_given() {
        let cli = parse(&["--name", "foo.example.test"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.join.name.as_deref(), Some("foo.example.test"));
        assert_eq!((cli.join.domain, cli.join.user), (None, None));
        let cli = parse(&["example.test", "alice", "--name", "foo.example.test"]).unwrap();
        assert_eq!(cli.join.domain.as_deref(), Some("example.test"));
        assert_eq!(cli.join.user.as_deref(), Some("alice"));
        // The commands are still commands.
        let cli = parse(&["discover", "example.test"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Discover(_))));
        let cli = parse(&["join", "example.test", "--name", "foo.example.test"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Join(_))));
        // Nothing at all is help, not a join of the host's own name.
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn query_shows_the_join_time_as_a_date_and_numbers_as_numbers() {
        assert_eq!(
            shown_value("JoinTime", "1764845000"),
            "2025-12-04 10:43:20 UTC (1764845000)"
        );
        assert_eq!(shown_value("Realm", "EXAMPLE.TEST"), "EXAMPLE.TEST");
        assert_eq!(json_value("KeyVersionNumber", "3"), serde_json::json!(3));
        assert_eq!(
            json_value("JoinTime", "1764845000"),
            serde_json::json!(1_764_845_000)
        );
        assert_eq!(json_value("NetbiosName", "1234"), serde_json::json!("1234"));
    }

    #[test]
    fn the_domain_and_the_administrator_have_defaults() {
        assert_eq!(domain_of("foo.example.test").unwrap(), "example.test");
        assert_eq!(domain_of("foo.ad.example.com.").unwrap(), "ad.example.com");
        assert!(domain_of("foo").is_err());
        assert!(domain_of("foo.").is_err());
        assert_eq!(join_admin(None, false).as_deref(), Some("Administrator"));
        assert_eq!(
            join_admin(Some("alice".into()), false).as_deref(),
            Some("alice")
        );
        assert_eq!(join_admin(Some("alice".into()), true), None);
    }
}
