//! `net`: the Windows `net` verbs on Adjoin's SMB and DCE/RPC clients. See docs/net.md.
//!
//! The parts: `args` (the command line, Windows' `/switch` spellings included),
//! `connect` (credentials, the server's address, a bound RPC pipe), `table` (output shaped
//! like Windows'), `sam` (the SAMR and LSA calls the account verbs share) and one module
//! per verb (`session` holds both `net session` and `net file`; `uses` is `net use`).

mod args;
mod connect;
mod group;
mod sam;
mod session;
mod share;
mod table;
mod time;
mod user;
mod uses;
mod view;

use std::process::ExitCode;

use adjoin_rpc::ntstatus::NtStatus;

use crate::connections::ConnectionsError;

pub(crate) use args::{Cli, Verb, windows_args};

/// Why a `net` command failed: each variant's message names the cause and the fix.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NetError {
    /// The command line does not make sense (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// No credentials to authenticate with.
    #[error(
        "no credentials: give --user DOMAIN\\name (the password is prompted for, or read \
         with --password-stdin), or run as root on a joined host to use the machine account"
    )]
    NoCredentials,
    /// The account verbs need a DC and none is known.
    #[error(
        "this machine is not joined to a domain, so no DC is known: give --server DC \
         (and --user DOMAIN\\name), or join with `domain-join`"
    )]
    NotJoined,
    /// The server's name does not resolve.
    #[error("cannot resolve {server}: {detail}; give its address, or --dns-server IP")]
    Unresolved {
        /// The name.
        server: String,
        /// Why.
        detail: String,
    },
    /// Nothing answered at the server's address.
    #[error(
        "cannot reach \\\\{server} ({detail}): check the name, that it is up and serves SMB on that port"
    )]
    Unreachable {
        /// The server.
        server: String,
        /// What failed.
        detail: String,
    },
    /// The server refused the logon.
    #[error("\\\\{server} refused the logon of {user} ({status}): check the name and password")]
    LogonFailure {
        /// The server.
        server: String,
        /// Who.
        user: String,
        /// The NTSTATUS.
        status: String,
    },
    /// The account may not do this.
    #[error("access denied: {what}; run as an account that may (--user DOMAIN\\name)")]
    AccessDenied {
        /// What was refused.
        what: String,
    },
    /// No such user, group, alias or share.
    #[error("{kind} {name} was not found{place}")]
    NotFound {
        /// "the user", "the group", ...
        kind: &'static str,
        /// Its name.
        name: String,
        /// Where it was looked for (" on \\dc1").
        place: String,
    },
    /// An SMB or RPC call failed for another reason.
    #[error("{call} on \\\\{server} failed: {detail}")]
    Call {
        /// The call.
        call: String,
        /// The server.
        server: String,
        /// Why.
        detail: String,
    },
    /// The saved connections cannot be read or written.
    #[error(transparent)]
    Connections(#[from] ConnectionsError),
    /// `net use ... /delete` of a connection that is not saved (Windows' message).
    #[error("The network connection could not be found. `net use` lists the saved ones.")]
    NoSuchConnection,
    /// `net use` without /user: no Kerberos ticket for the server.
    #[error("no Kerberos ticket for {spn} ({detail}); run kinit, or give /user:DOMAIN\\name")]
    NoTicket {
        /// The service (`cifs/SERVER`).
        spn: String,
        /// Why.
        detail: String,
    },
    /// The local registry cannot be read or written.
    #[error("the registry {path}: {detail}")]
    Registry {
        /// Its file.
        path: String,
        /// What failed.
        detail: String,
    },
}

impl NetError {
    /// The process exit status: 2 for usage, 1 for failures.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }

    /// A failed call's NTSTATUS as the right error: access denied, not found, or the
    /// status itself.
    pub(crate) fn status(call: &str, server: &str, status: NtStatus) -> Self {
        if status == NtStatus::ACCESS_DENIED {
            Self::AccessDenied {
                what: format!("\\\\{server} refused {call}"),
            }
        } else {
            Self::Call {
                call: call.to_owned(),
                server: server.to_owned(),
                detail: status.to_string(),
            }
        }
    }
}

/// Runs the verb the command line names.
pub(crate) async fn run(cli: Cli) -> Result<(), NetError> {
    match cli.verb {
        Verb::View(a) => view::run(a).await,
        Verb::Time(a) => time::run(a).await,
        Verb::User(a) => user::run(a).await,
        Verb::Group(a) => group::run_group(a).await,
        Verb::Localgroup(a) => group::run_localgroup(a).await,
        Verb::Share(a) => share::run(a),
        Verb::Session(a) => session::run_sessions(a).await,
        Verb::File(a) => session::run_files(a).await,
        Verb::Use(a) => uses::run(a).await,
    }
}
