//! smbshell: an interactive SMB client for one share (`smbshell //server/share`), with
//! completion of remote paths, progress lines, resumable gets and a batch mode (`-c`,
//! or commands on stdin). See docs/smbshell.md.

use crate::cli::{self, Logon, split_user};
use crate::connections::{self, Saved};
use crate::smbshell::{
    Remote, Shell, ShellError, Target, dfs_referral, run_batch, run_interactive, split_commands,
};
use crate::ticket;

use std::io::{BufRead, IsTerminal};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use adjoin_join::discover::{self, DiscoverOptions};
use anyhow::Context;
use clap::Parser;
use tokio::runtime::Runtime;

const EXAMPLES: &str = "\
Examples:
  smbshell //dc1.example.test/sysvol -U 'EXAMPLE\\administrator'
  smbshell //files.example.test/data -U 'EXAMPLE\\alice' -c 'cd reports; get q4.pdf'
  echo \"$PW\" | smbshell //127.0.0.1/data --port 4450 -U 'EXAMPLE\\alice' --password-stdin \\
      -c 'put big.iso; ls'
  printf 'mkdir out\\nput a.bin out\\n' | smbshell //srv/data -U 'EXAMPLE\\alice' --password-stdin
  # Once: `net use` checks the account and saves it; then smbshell needs no -U or password.
  net use '\\\\files.example.test\\data' '/user:EXAMPLE\\alice'
  smbshell //files.example.test/data -c ls

Without -U: the account `net use` saved for the share (or for another share of the
server), else Kerberos from the credential cache. See docs/smbshell.md for the commands.";

/// An interactive SMB client for one share.
#[derive(Debug, Parser)]
#[command(name = "smbshell", version, after_help = EXAMPLES)]
struct Args {
    /// The share, as //SERVER/SHARE or \\SERVER\SHARE.
    #[arg(value_name = "//SERVER/SHARE")]
    unc: String,
    /// Log on (NTLM) as this account, DOMAIN\NAME (or NAME@DOMAIN, or NAME for the
    /// server's own domain); the password is prompted for. Without it: the account a
    /// `net use \\SERVER\SHARE /user:...` saved for the server, else Kerberos, with a
    /// ticket for cifs/SERVER from the credential cache.
    #[arg(short = 'U', long, value_name = "DOMAIN\\NAME")]
    user: Option<String>,
    /// Kerberos: the credential cache [default: $KRB5CCNAME, else MIT's default].
    #[arg(long, value_name = "PATH")]
    ccache: Option<PathBuf>,
    /// Kerberos: a KDC to ask for the ticket (name or address; repeatable) [default: the
    /// realm's KDCs from DNS].
    #[arg(long, value_name = "HOST")]
    kdc: Vec<String>,
    /// A DNS server that knows the server's name, the domain's DCs (for DFS referrals)
    /// and the realm's KDCs (IP[:PORT]; repeatable) [default: the system's resolver].
    #[arg(long = "dns-server", value_name = "IP", value_parser = discover::parse_dns_server)]
    dns_servers: Vec<SocketAddr>,
    /// Read the password from the first line of standard input (later lines are
    /// commands when -c is not given).
    #[arg(long)]
    password_stdin: bool,
    /// Run these commands (separated by `;`) and exit; the exit status is 1 if any
    /// failed.
    #[arg(short = 'c', long = "command", value_name = "COMMANDS")]
    commands: Option<String>,
    /// Connect to this address instead of resolving SERVER.
    #[arg(short = 'I', long, value_name = "IP")]
    address: Option<IpAddr>,
    /// The TCP port [default: the one `net use --port` saved for the server, else 445].
    #[arg(short, long)]
    port: Option<u16>,
    /// Do not ask a domain's DC where //DOMAIN/SHARE lives (MS-DFSC): connect to the
    /// name as given.
    #[arg(long)]
    no_dfs: bool,
    /// Encrypt every message after the logon (SMB 3), even when the share does not ask.
    #[arg(long)]
    encrypt: bool,
    /// Seconds to wait for each answer from the server.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Log each step to stderr (repeat for more detail).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// The tool's entry point: its `main`.
pub fn main() -> ExitCode {
    let args = Args::parse();
    cli::init_logging(args.verbose);
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("smbshell: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Connects and runs the commands; `Ok(false)` when one of them failed.
fn run(args: Args) -> anyhow::Result<bool> {
    let runtime = cli::runtime().context("cannot start the runtime")?;
    let target = target(&args, &runtime)?;
    let mut shell = Shell::new(Remote::connect(runtime, target)?);
    if let Some(text) = &args.commands {
        return Ok(!run_batch(&mut shell, split_commands(text)));
    }
    if !std::io::stdin().is_terminal() {
        let lines = std::io::stdin().lock().lines().map_while(Result::ok);
        return Ok(!run_batch(&mut shell, lines));
    }
    Ok(!run_interactive(shell)?)
}

/// The share, the address and the account from the arguments (the password read now),
/// after the domain's DFS referral when SERVER is a domain (`//example.com/sysvol`).
/// Without `--user`, the connections `net use` saved give the account and the port.
fn target(args: &Args, runtime: &Runtime) -> Result<Target, ShellError> {
    let (name, share) = parse_unc(&args.unc)?;
    let given = match args.user.as_deref() {
        None => None,
        Some(given) => {
            let (user, domain) = split_user(given);
            if user.is_empty() {
                return Err(ShellError::Usage(format!(
                    "--user {given}: no account name"
                )));
            }
            let prompt = format!("Password for {given}: ");
            let password = cli::read_secret(&prompt, args.password_stdin)
                .map_err(|e| ShellError::Usage(format!("cannot read the password: {e:#}")))?;
            Some(Logon::Ntlm {
                user,
                domain,
                password,
            })
        }
    };
    let saved = match given {
        None => saved_connections()?,
        Some(_) => Vec::new(),
    };
    let port = args
        .port
        .or_else(|| connections::find(&saved, &name, &share).and_then(|s| s.port))
        .unwrap_or(445);
    let logon_for = |server: &str| match &given {
        Some(logon) => Ok(logon.clone()),
        None => match saved_account(&saved, server, &share)
            .or_else(|| saved_account(&saved, &name, &share))
        {
            Some(logon) => Ok(logon),
            None => kerberos(args, server, runtime),
        },
    };
    let Place { server, share, dc } = follow_dfs(args, runtime, port, &name, &share, &logon_for)?;
    let (addr, logon) = match dc {
        Some((ip, logon)) => (SocketAddr::new(ip, port), logon),
        None => {
            let given = if server == name { args.address } else { None };
            let addr = resolve(&server, given, port, &args.dns_servers, runtime)?;
            (addr, logon_for(&server)?)
        }
    };
    Ok(Target {
        addr,
        logon,
        server,
        share,
        encrypt: args.encrypt,
        timeout: Duration::from_secs(args.timeout.max(1)),
    })
}

/// The connections `net use` saved (none without a home directory: a service).
fn saved_connections() -> Result<Vec<Saved>, ShellError> {
    match connections::load() {
        Ok(all) => Ok(all),
        Err(connections::ConnectionsError::NoHome) => Ok(Vec::new()),
        Err(e) => Err(ShellError::Usage(e.to_string())),
    }
}

/// The account saved for `share` on `server` (or for another share of it), when it was
/// saved with a password; `None`: Kerberos.
fn saved_account(saved: &[Saved], server: &str, share: &str) -> Option<Logon> {
    let found = connections::find(saved, server, share)?;
    let (user, password) = (found.user.as_deref()?, found.secret()?);
    tracing::info!(connection = %found.unc(), %user, "the account net use saved");
    let (user, domain) = split_user(user);
    Some(Logon::Ntlm {
        user,
        domain,
        password,
    })
}

/// Where the share is, after [`follow_dfs`].
struct Place {
    server: String,
    share: String,
    /// When the server is the DC the referral came from: its address and the logon made
    /// for it.
    dc: Option<(IpAddr, Logon)>,
}

/// MS-DFSC 3.1.4.1 for a domain name: when `name` is a DNS domain (its DC locator answers),
/// asks one of its DCs where `\\name\share` lives (sysvol and netlogon are on a DC; a
/// domain-based namespace's root anywhere) and returns that server and share, with the
/// address and the logon made for it when it is the DC asked (no second ticket). Any other name (or `-I`, or `--no-dfs`) is returned
/// as given.
fn follow_dfs(
    args: &Args,
    runtime: &Runtime,
    port: u16,
    name: &str,
    share: &str,
    logon_for: &dyn Fn(&str) -> Result<Logon, ShellError>,
) -> Result<Place, ShellError> {
    let as_given = || {
        Ok(Place {
            server: name.to_owned(),
            share: share.to_owned(),
            dc: None,
        })
    };
    if args.no_dfs
        || args.address.is_some()
        || name.parse::<IpAddr>().is_ok()
        || !name.contains('.')
    {
        return as_given();
    }
    let opts = DiscoverOptions {
        dns_servers: args.dns_servers.clone(),
        ..DiscoverOptions::default()
    };
    let dc = match runtime.block_on(discover::discover(name, &opts)) {
        Ok(dc) => dc,
        Err(e) => {
            tracing::debug!(%name, error = %e, "not a domain: no DFS referral asked");
            return as_given();
        }
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let dc_addr = SocketAddr::new(dc.dc_address, port);
    let logon = logon_for(&dc.dc_name)?;
    match runtime.block_on(dfs_referral(
        dc_addr,
        &dc.dc_name,
        &logon,
        timeout,
        name,
        share,
    ))? {
        None => as_given(),
        Some((server, to_share)) => {
            tracing::info!(
                from = %format!(r"\\{name}\{share}"),
                to = %format!(r"\\{server}\{to_share}"),
                "DFS referral"
            );
            // The DC asked is usually the target: its address and logon serve again.
            let known = server
                .eq_ignore_ascii_case(&dc.dc_name)
                .then_some((dc.dc_address, logon));
            Ok(Place {
                server,
                share: to_share,
                dc: known,
            })
        }
    }
}

/// A ticket for `cifs/SERVER` from the credential cache (the cache's own, or a new one from
/// the realm's KDC with its TGT).
fn kerberos(args: &Args, server: &str, runtime: &Runtime) -> Result<Logon, ShellError> {
    let spn = format!("cifs/{server}");
    let creds = runtime
        .block_on(ticket::service_ticket(
            args.ccache.as_deref(),
            &spn,
            &args.kdc,
            &args.dns_servers,
        ))
        .map_err(|e| {
            ShellError::Usage(format!(
                "no Kerberos ticket for {spn} ({e:#}); run kinit, or give --user DOMAIN\\NAME \
                 for NTLM"
            ))
        })?;
    Ok(Logon::Kerberos(Box::new(creds)))
}

/// `//server/share` or `\\server\share` as its two names.
fn parse_unc(unc: &str) -> Result<(String, String), ShellError> {
    let bad = || ShellError::Usage(format!("{unc}: give the share as //SERVER/SHARE"));
    let rest = unc
        .strip_prefix("//")
        .or_else(|| unc.strip_prefix(r"\\"))
        .ok_or_else(bad)?;
    let mut parts = rest.split(['/', '\\']).filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(server), Some(share), None) => Ok((server.to_owned(), share.to_owned())),
        _ => Err(bad()),
    }
}

/// `server`'s address: `-I`, an IP, the system resolver, else the `--dns-server`s.
fn resolve(
    server: &str,
    address: Option<IpAddr>,
    port: u16,
    dns_servers: &[SocketAddr],
    runtime: &Runtime,
) -> Result<SocketAddr, ShellError> {
    if let Some(ip) = address.or_else(|| server.parse().ok()) {
        return Ok(SocketAddr::new(ip, port));
    }
    let unknown = |why: String| {
        ShellError::Connect(format!(
            "cannot resolve {server}: {why} (give its address with -I, or a DNS server that \
             knows it with --dns-server)"
        ))
    };
    let system = (server, port).to_socket_addrs().map(|mut a| a.next());
    if let Ok(Some(addr)) = system {
        return Ok(addr);
    }
    let mut why = match system {
        Err(e) => e.to_string(),
        _ => "no address".to_owned(),
    };
    for dns in dns_servers {
        match runtime.block_on(discover::host_addresses(*dns, server)) {
            Ok(ips) if !ips.is_empty() => return Ok(SocketAddr::new(ips[0], port)),
            Ok(_) => why = format!("{dns} has no address for it"),
            Err(e) => why = format!("{dns}: {e}"),
        }
    }
    Err(unknown(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_given_with_either_slash() {
        assert_eq!(
            parse_unc("//srv/data").unwrap(),
            ("srv".to_owned(), "data".to_owned())
        );
        assert_eq!(
            parse_unc(r"\\srv\data\").unwrap(),
            ("srv".to_owned(), "data".to_owned())
        );
        assert!(parse_unc("srv/data").is_err());
        assert!(parse_unc("//srv").is_err());
        assert!(parse_unc("//srv/data/sub").is_err());
        assert_eq!(
            split_user(r"EXAMPLE\alice"),
            ("alice".to_owned(), "EXAMPLE".to_owned())
        );
        assert_eq!(split_user("bob"), ("bob".to_owned(), String::new()));
    }
}
