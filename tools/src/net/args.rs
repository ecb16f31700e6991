//! The command line: clap's parser after Windows' `/switch` spellings are rewritten to
//! long options (`/delete` is `--delete`, `/user:EXAMPLE\alice` is
//! `--user=EXAMPLE\alice`), so both `net share data /delete` and `net share data
//! --delete` work.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const CREDENTIALS: &str = "\
Credentials (view, time, user, group, localgroup, session, file):
  --user DOMAIN\\name (or /user:DOMAIN\\name): NTLM as that account; the password is
      prompted for on the terminal, or read from the first line of stdin with
      --password-stdin (or when stdin is not a terminal). Never from the command line.
  otherwise, as root on a joined host: the machine account (NAME$) and its password
      from the registry's Secrets\\MachineAccount.
  otherwise: an error saying what to give.
The DC for user, group and localgroup: --server, else the one the join recorded
(Join\\DomainControllerAddress). `net share` needs no credentials: it edits the local
adjoind's shares in the registry. Exit status: 0 success, 1 failure, 2 usage.";

const USE_HELP: &str = "\
With /user:DOMAIN\\name (--user), `net use \\\\SERVER\\SHARE` logs on with NTLM and connects
the share, and only then saves the connection, password included. Without it: Kerberos
with a cifs/SERVER ticket from the credential cache ($KRB5CCNAME), and no secret is saved.
`smbshell //SERVER/SHARE` given no -U logs on with the saved account.
The file: $ADJOIN_CONNECTIONS, else $XDG_CONFIG_HOME/adjoin/connections.json, else
~/.config/adjoin/connections.json; written 0600 in a 0700 directory, and refused when
its group or others may read it (fix: chmod 600 FILE).
Examples:
  net use '\\\\dc1.example.test\\sysvol' '/user:EXAMPLE\\alice'
  net use --json
  net use '\\\\dc1.example.test\\sysvol' /delete
  net use '*' /delete
Exit status: 0 success, 1 failure, 2 usage.";

/// `net`: the Windows `net` verbs for a Linux domain member.
#[derive(Debug, Parser)]
#[command(
    name = "net",
    version,
    about = "Windows' net verbs: shares, time, domain users and groups, local shares",
    after_help = CREDENTIALS
)]
pub(crate) struct Cli {
    /// Log each step to stderr (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    pub(crate) verb: Verb,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Verb {
    /// List a server's shares (srvsvc NetShareEnumAll): `net view \\server`.
    View(ViewArgs),
    /// Show a server's clock (NetRemoteTOD) and its skew from this host's.
    Time(TimeArgs),
    /// List the domain's users, or show one account (SAMR on a DC).
    User(AccountArgs),
    /// List the domain's groups, or one group's members (SAMR on a DC).
    Group(AccountArgs),
    /// List the DC's builtin aliases (Administrators, ...), or one alias's members.
    Localgroup(AccountArgs),
    /// List, add (NAME=PATH) or remove (NAME /delete) the local adjoind's shares.
    Share(ShareArgs),
    /// A server's SMB sessions (srvsvc NetrSessionEnum; its administrators only).
    Session(ActivityArgs),
    /// A server's open files (srvsvc NetrFileEnum; its administrators only).
    File(ActivityArgs),
    /// Save a connection to a share (checked by logging on), list the saved ones, or
    /// forget one (/delete); smbshell uses them when given no account.
    #[command(after_help = USE_HELP)]
    Use(UseArgs),
}

/// How to reach and log on to a server.
#[derive(Debug, Clone, Args)]
pub(crate) struct Remote {
    /// Authenticate as DOMAIN\name (or name@domain) with NTLM [Windows: /user:DOMAIN\name].
    #[arg(long, short = 'U', value_name = "DOMAIN\\NAME")]
    pub(crate) user: Option<String>,
    /// Read the password from the first line of stdin instead of prompting.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// The server's SMB port.
    #[arg(long, default_value_t = 445)]
    pub(crate) port: u16,
    /// A DNS server that resolves the server's name (default: the system resolver, then
    /// the join's `Join\DnsServers`).
    #[arg(long, value_name = "IP[:PORT]")]
    pub(crate) dns_server: Vec<String>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 10)]
    pub(crate) timeout: u64,
    /// The registry [default: $ADJOIN_REGISTRY, else /var/lib/adjoin/registry.db].
    #[arg(long, value_name = "PATH")]
    pub(crate) registry: Option<PathBuf>,
    /// What carries the RPC calls: `np`, a named pipe on the server's IPC$ (as Windows),
    /// or `tcp`, the port its endpoint mapper names, with NTLM packet privacy.
    #[arg(long, value_enum, default_value_t = RpcTransport::Np)]
    pub(crate) transport: RpcTransport,
}

/// `--transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RpcTransport {
    /// ncacn_np: `\PIPE\<name>` on IPC$ over SMB.
    Np,
    /// ncacn_ip_tcp through the endpoint mapper (port 135).
    Tcp,
}

#[derive(Debug, Args)]
pub(crate) struct ViewArgs {
    /// The server (\\server, //server or server).
    pub(crate) server: String,
    /// Show the hidden shares too (IPC$, ADMIN$, names ending in $) [Windows: /all].
    #[arg(long)]
    pub(crate) all: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct TimeArgs {
    /// The server [default: the joined domain's DC].
    pub(crate) server: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct ActivityArgs {
    /// The server [default: this host's adjoind, localhost on --port].
    pub(crate) server: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct AccountArgs {
    /// The account [default: list them all].
    pub(crate) name: Option<String>,
    /// Ask the domain (the default and only choice: this host has no local SAM)
    /// [Windows: /domain].
    #[arg(long)]
    pub(crate) domain: bool,
    /// The DC to ask [default: the one the join recorded].
    #[arg(long, value_name = "DC")]
    pub(crate) server: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct ShareArgs {
    /// NAME (show it, or remove it with --delete) or NAME=PATH (add it); none: list.
    pub(crate) share: Option<String>,
    /// Remove the share [Windows: /delete].
    #[arg(long, short = 'd')]
    pub(crate) delete: bool,
    /// The share's comment when adding [Windows: /remark:"text"].
    #[arg(long)]
    pub(crate) remark: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// The registry [default: $ADJOIN_REGISTRY, else /var/lib/adjoin/registry.db].
    #[arg(long, value_name = "PATH")]
    pub(crate) registry: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct UseArgs {
    /// \\server\share to save (or, with --delete, to forget; `*` for all); none: list.
    #[arg(value_name = "\\\\SERVER\\SHARE")]
    pub(crate) remote: Option<String>,
    /// Forget the connection [Windows: /delete].
    #[arg(long, short = 'd')]
    pub(crate) delete: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) net: Remote,
}

/// Rewrites Windows' switches (case-insensitive) into the long options clap knows:
/// `/delete` and `/d`, `/domain`, `/all`, `/user:X`, `/remark:X`. Any other argument,
/// paths like `/srv/data` included, is left alone.
pub(crate) fn windows_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .map(|arg| {
            let lower = arg.to_ascii_lowercase();
            match lower.as_str() {
                "/delete" | "/d" => "--delete".to_owned(),
                "/domain" => "--domain".to_owned(),
                "/all" => "--all".to_owned(),
                _ => ["user", "remark"]
                    .iter()
                    .find(|s| lower.starts_with(&format!("/{s}:")))
                    .map_or(arg.clone(), |s| format!("--{s}={}", &arg[s.len() + 2..])),
            }
        })
        .collect()
}

/// A server as written on the command line (`\\server`, `//server`, or bare; the shell
/// turns an unquoted `\\server` into `\server`), without its slashes.
pub(crate) fn server_name(arg: &str) -> String {
    arg.trim_start_matches(['\\', '/']).to_owned()
}

impl Remote {
    /// The DNS servers given with --dns-server (port 53 unless named).
    pub(crate) fn dns_servers(&self) -> Result<Vec<SocketAddr>, super::NetError> {
        self.dns_server
            .iter()
            .map(|s| {
                adjoin_join::discover::parse_dns_server(s)
                    .map_err(|e| super::NetError::Usage(format!("--dns-server {s}: {e}")))
            })
            .collect()
    }

    /// The registry file.
    pub(crate) fn registry_path(&self) -> PathBuf {
        self.registry
            .clone()
            .unwrap_or_else(adjoin_registry::Registry::default_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let all = std::iter::once("net")
            .chain(args.iter().copied())
            .map(str::to_owned);
        Cli::try_parse_from(windows_args(all)).unwrap()
    }

    #[test]
    fn windows_switches_become_long_options() {
        let Verb::Share(s) = parse(&["share", "data", "/DELETE"]).verb else {
            panic!("not share")
        };
        assert_eq!((s.share.as_deref(), s.delete), (Some("data"), true));
        let Verb::Share(s) = parse(&["share", "data", "/d"]).verb else {
            panic!("not share")
        };
        assert!(s.delete);
        let Verb::User(u) = parse(&["user", "alice", "/domain", r"/user:EXAMPLE\bob"]).verb else {
            panic!("not user")
        };
        assert_eq!(u.name.as_deref(), Some("alice"));
        assert!(u.domain);
        assert_eq!(u.remote.user.as_deref(), Some(r"EXAMPLE\bob"));
        let Verb::Share(s) = parse(&["share", "x=/srv/x", "/remark:team files"]).verb else {
            panic!("not share")
        };
        assert_eq!(s.share.as_deref(), Some("x=/srv/x"));
        assert_eq!(s.remark.as_deref(), Some("team files"));
    }

    #[test]
    fn paths_and_names_are_left_alone() {
        let args = ["net", "share", "d=/d", "/srv", r"\\dc1"].map(str::to_owned);
        assert_eq!(
            windows_args(args),
            ["net", "share", "d=/d", "/srv", r"\\dc1"]
        );
    }

    #[test]
    fn servers_lose_their_slashes() {
        for arg in [
            r"\\dc1.example.test",
            r"\dc1.example.test",
            "//dc1.example.test",
        ] {
            assert_eq!(server_name(arg), "dc1.example.test");
        }
        let Verb::View(v) = parse(&["view", r"\\dc1", "--port", "4450", "/all"]).verb else {
            panic!("not view")
        };
        assert_eq!(
            (server_name(&v.server), v.remote.port, v.all),
            ("dc1".into(), 4450, true)
        );
    }

    #[test]
    fn a_view_needs_a_server() {
        let all = ["net", "view"].map(str::to_owned);
        let e = Cli::try_parse_from(windows_args(all)).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
