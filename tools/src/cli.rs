//! What the command-line tools share: logging set-up, reading a secret from a terminal or
//! stdin, and how an SMB client tool logs on.

use std::io::{BufRead, IsTerminal, Write};

use adjoin_auth::krb::Credentials;
use adjoin_smb::client::SessionAuth;
use anyhow::Context;
use zeroize::Zeroizing;

/// Logs to stderr: warnings by default, the Adjoin crates' debug output with `-v`,
/// everything with `-vv`; `ADJOIN_LOG` (a tracing filter) overrides.
pub(crate) fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info,adjoin_auth=debug,adjoin_join=debug",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ADJOIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .init();
}

/// One line of secret: prompted for without echo on a terminal, else (or with
/// `from_stdin`) the next line of stdin. Never from the command line.
pub(crate) fn read_secret(prompt: &str, from_stdin: bool) -> anyhow::Result<Zeroizing<String>> {
    if !from_stdin && std::io::stdin().is_terminal() {
        prompt_secret(prompt)
    } else {
        stdin_line("the password")
    }
}

/// One secret typed at the terminal without echo.
pub(crate) fn prompt_secret(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let _echo = EchoOff::new();
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    eprintln!();
    Ok(Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// One line of stdin, `what` naming it when it is missing.
pub(crate) fn stdin_line(what: &str) -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read {what} from stdin"))?;
    anyhow::ensure!(n > 0, "standard input ended before {what}");
    Ok(Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// Turns terminal echo off while it lives (through `stty`, so no unsafe code is needed).
struct EchoOff;

impl EchoOff {
    fn new() -> Self {
        let _ = std::process::Command::new("stty").arg("-echo").status();
        Self
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = std::process::Command::new("stty").arg("echo").status();
    }
}

/// The single-threaded runtime the command-line tools run their network work on.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// How an SMB client tool (`smbshell`, `adjoin-smbload`) logs on, at the start and again
/// after a dropped connection.
#[derive(Clone)]
pub(crate) enum Logon {
    /// NTLM as `domain\user` with a password.
    Ntlm {
        /// The account name.
        user: String,
        /// Its domain (empty: the server's).
        domain: String,
        /// The password.
        password: Zeroizing<String>,
    },
    /// Kerberos, with a service ticket for `cifs/SERVER` (a new authenticator for every
    /// session).
    Kerberos(Box<Credentials>),
}

impl core::fmt::Debug for Logon {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Ntlm { user, domain, .. } => write!(f, "Ntlm({domain}\\{user})"),
            Self::Kerberos(c) => write!(f, "Kerberos({})", c.server),
        }
    }
}

impl Logon {
    /// The session setup's credentials; `workstation` is what NTLM reports.
    pub(crate) fn session_auth(&self, workstation: &str) -> SessionAuth {
        match self {
            Self::Ntlm {
                user,
                domain,
                password,
            } => SessionAuth::Ntlm {
                user: user.clone(),
                domain: domain.clone(),
                password: password.clone(),
                workstation: workstation.into(),
            },
            Self::Kerberos(creds) => SessionAuth::Kerberos(creds.clone()),
        }
    }

    /// `ntlm` or `kerberos`, as reports name the mechanism.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Ntlm { .. } => "ntlm",
            Self::Kerberos(_) => "kerberos",
        }
    }
}

/// `DOMAIN\name`, `name@domain` or `name` as (name, domain).
pub(crate) fn split_user(arg: &str) -> (String, String) {
    if let Some((domain, name)) = arg.split_once('\\') {
        (name.to_owned(), domain.to_owned())
    } else if let Some((name, domain)) = arg.split_once('@') {
        (name.to_owned(), domain.to_owned())
    } else {
        (arg.to_owned(), String::new())
    }
}
