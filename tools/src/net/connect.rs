//! Reaching a server: whose credentials (`--user`, else the machine account), the
//! server's address (an IP, the system resolver, or the DNS servers given or recorded by
//! the join), and a DCE/RPC binding on one of its named pipes.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use adjoin_auth::ntlm::NtlmClient;
use adjoin_registry::Registry;
use adjoin_rpc::client::{BindAuth, RpcError};
use adjoin_rpc::ndr::NdrParams;
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::pdu::{AuthLevel, FaultStatus};
use adjoin_rpc::tcp::{TcpTransport, map_tcp_port};
use adjoin_rpc::transport::{Connection, Transport};
use adjoin_rpc::uuid::SyntaxId;
use adjoin_smb::SmbError;
use adjoin_smb::client::pipe::NamedPipe;
use adjoin_smb::client::{SessionAuth, SmbClient};
use zeroize::Zeroizing;

use super::NetError;
use super::args::{Remote, RpcTransport};
use crate::cli::split_user;

/// Who to log on as (NTLM).
pub(crate) struct Logon {
    user: String,
    domain: String,
    password: Zeroizing<String>,
}

impl core::fmt::Debug for Logon {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Logon({}, <redacted>)", self.who())
    }
}

impl Logon {
    /// `DOMAIN\name`, for messages.
    pub(crate) fn who(&self) -> String {
        if self.domain.is_empty() {
            self.user.clone()
        } else {
            format!(r"{}\{}", self.domain, self.user)
        }
    }

    /// The account, as `net use` saves it: `DOMAIN\name` and the password.
    pub(crate) fn saved_form(&self) -> (String, Zeroizing<String>) {
        (self.who(), self.password.clone())
    }

    pub(crate) fn session_auth(&self) -> SessionAuth {
        SessionAuth::Ntlm {
            user: self.user.clone(),
            domain: self.domain.clone(),
            password: self.password.clone(),
            workstation: workstation(),
        }
    }
}

/// The credentials `remote` asks for: `--user` with a password from the terminal or
/// stdin; else, as root on a joined host, the machine account; else an error.
pub(crate) fn credentials(remote: &Remote) -> Result<Logon, NetError> {
    if let Some(arg) = &remote.user {
        let (user, mut domain) = split_user(arg);
        if user.is_empty() {
            return Err(NetError::Usage(format!("--user {arg}: no account name")));
        }
        if domain.is_empty() {
            domain = joined_value(remote, "NetbiosDomain").unwrap_or_default();
        }
        let prompt = format!(
            "Password for {}: ",
            if domain.is_empty() {
                user.clone()
            } else {
                format!(r"{domain}\{user}")
            }
        );
        let password = crate::cli::read_secret(&prompt, remote.password_stdin)
            .map_err(|e| NetError::Usage(format!("cannot read the password: {e:#}")))?;
        return Ok(Logon {
            user,
            domain,
            password,
        });
    }
    if !rustix::process::geteuid().is_root() {
        return Err(NetError::NoCredentials);
    }
    let registry = open_registry(remote).ok_or(NetError::NoCredentials)?;
    let membership =
        adjoin_join::member::membership(&registry).map_err(|_| NetError::NoCredentials)?;
    let account = membership.account;
    Ok(Logon {
        user: format!("{}$", account.netbios_name),
        domain: account.netbios_domain.clone(),
        password: account.password.clone(),
    })
}

/// The registry, when it exists and opens.
pub(crate) fn open_registry(remote: &Remote) -> Option<Registry> {
    let path = remote.registry_path();
    if !path.exists() {
        return None;
    }
    Registry::open(&path)
        .inspect_err(
            |e| tracing::debug!(path = %path.display(), error = %e, "cannot open the registry"),
        )
        .ok()
}

/// A value the join recorded under `Join` (`DomainControllerAddress`, ...).
pub(crate) fn joined_value(remote: &Remote, name: &str) -> Option<String> {
    let registry = open_registry(remote)?;
    let state = adjoin_join::join::query(&registry).ok()??;
    state.get(name).map(str::to_owned)
}

/// The DC the account verbs ask: `--server`, else the join's
/// `DomainControllerAddress` (with `DomainController` as its name).
pub(crate) fn domain_controller(
    server: Option<&str>,
    remote: &Remote,
) -> Result<(String, Option<IpAddr>), NetError> {
    if let Some(server) = server {
        return Ok((super::args::server_name(server), None));
    }
    let address = joined_value(remote, "DomainControllerAddress")
        .and_then(|a| a.parse::<IpAddr>().ok())
        .ok_or(NetError::NotJoined)?;
    let name = joined_value(remote, "DomainController").unwrap_or_else(|| address.to_string());
    Ok((name, Some(address)))
}

/// This host's name as NTLM reports it (the first label, upper case, at most 15).
fn workstation() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let label = host.trim().split('.').next().unwrap_or_default();
    let name: String = label.to_ascii_uppercase().chars().take(15).collect();
    if name.is_empty() {
        "ADJOIN".into()
    } else {
        name
    }
}

/// The address of `server` on `port`: an IP as is; a name through --dns-server when
/// given, else the system resolver, else the join's DNS servers.
pub(crate) async fn resolve(
    server: &str,
    known: Option<IpAddr>,
    remote: &Remote,
) -> Result<SocketAddr, NetError> {
    if let Some(ip) = known.or_else(|| server.parse().ok()) {
        return Ok(SocketAddr::new(ip, remote.port));
    }
    let unresolved = |detail: String| NetError::Unresolved {
        server: server.to_owned(),
        detail,
    };
    let mut dns = remote.dns_servers()?;
    if dns.is_empty() {
        match tokio::net::lookup_host((server, remote.port)).await {
            Ok(mut addrs) => {
                if let Some(addr) = addrs.next() {
                    return Ok(addr);
                }
            }
            Err(e) => tracing::debug!(%server, error = %e, "the system resolver failed"),
        }
        dns = open_registry(remote)
            .and_then(|r| adjoin_join::member::registry_dns_servers(&r).ok())
            .unwrap_or_default();
        if dns.is_empty() {
            return Err(unresolved("the system resolver does not know it".into()));
        }
    }
    let mut last = String::new();
    for server_addr in dns {
        match adjoin_join::discover::host_addresses(server_addr, server).await {
            Ok(ips) if !ips.is_empty() => return Ok(SocketAddr::new(ips[0], remote.port)),
            Ok(_) => last = format!("{server_addr} has no address for it"),
            Err(e) => last = format!("{server_addr}: {e}"),
        }
    }
    Err(unresolved(last))
}

/// What carries the RPC calls: a named pipe on IPC$ (ncacn_np, the default) or TCP
/// found through the endpoint mapper (ncacn_ip_tcp, `--transport tcp`).
#[derive(Debug)]
pub(crate) enum Carrier {
    /// ncacn_np (boxed: the SMB client is large).
    Pipe(Box<NamedPipe>),
    /// ncacn_ip_tcp.
    Tcp(TcpTransport),
}

impl Transport for Carrier {
    async fn send(&mut self, fragment: &[u8]) -> Result<(), RpcError> {
        match self {
            Self::Pipe(p) => p.send(fragment).await,
            Self::Tcp(t) => t.send(fragment).await,
        }
    }

    async fn receive(&mut self) -> Result<Vec<u8>, RpcError> {
        match self {
            Self::Pipe(p) => p.receive().await,
            Self::Tcp(t) => t.receive().await,
        }
    }
}

/// A DCE/RPC binding on `\PIPE\<pipe>` of a server (or on TCP), with the name used in
/// messages.
#[derive(Debug)]
pub(crate) struct Pipe {
    conn: Connection<Carrier>,
    /// The server, as named on the command line.
    pub(crate) server: String,
}

/// The credentials `remote` gives, `server`'s address (`known` when the join recorded
/// it), and `syntax` bound on `\PIPE\<pipe>` there: what the srvsvc verbs start with.
pub(crate) async fn connect_pipe(
    server: &str,
    known: Option<IpAddr>,
    remote: &Remote,
    pipe: &str,
    interface: &'static str,
    syntax: SyntaxId,
) -> Result<Pipe, NetError> {
    let logon = credentials(remote)?;
    let addr = resolve(server, known, remote).await?;
    open_pipe(server, addr, &logon, remote, pipe, interface, syntax).await
}

/// Logs on to `server` at `addr` as `logon` and binds `syntax` on `\PIPE\<pipe>`.
pub(crate) async fn open_pipe(
    server: &str,
    addr: SocketAddr,
    logon: &Logon,
    remote: &Remote,
    pipe: &str,
    interface: &'static str,
    syntax: SyntaxId,
) -> Result<Pipe, NetError> {
    let timeout = Duration::from_secs(remote.timeout.max(1));
    if remote.transport == RpcTransport::Tcp {
        return open_tcp(server, addr, logon, interface, syntax, timeout).await;
    }
    let unreachable = |e: SmbError| NetError::Unreachable {
        server: server.to_owned(),
        detail: e.to_string(),
    };
    let mut client = SmbClient::connect(addr, server, timeout)
        .await
        .map_err(unreachable)?;
    log_on(&mut client, logon.session_auth(), server, &logon.who()).await?;
    let named = NamedPipe::open(client, pipe)
        .await
        .map_err(|e| smb_failed(&format!("opening \\PIPE\\{pipe}"), server, e))?;
    let conn = Connection::bind(
        Carrier::Pipe(Box::new(named)),
        interface,
        syntax,
        BindAuth::None,
    )
    .await
    .map_err(|e| rpc_failed(&format!("binding {interface}"), server, e))?;
    Ok(Pipe {
        conn,
        server: server.to_owned(),
    })
}

/// SESSION_SETUP on `client` as `who` (for messages): a refused account is
/// [`NetError::LogonFailure`], anything else the failure it is.
pub(crate) async fn log_on(
    client: &mut SmbClient,
    auth: SessionAuth,
    server: &str,
    who: &str,
) -> Result<(), NetError> {
    client
        .session_setup(auth)
        .await
        .map(|_| ())
        .map_err(|e| match e.status() {
            Some(status) if is_bad_credentials(status) => NetError::LogonFailure {
                server: server.to_owned(),
                user: who.to_owned(),
                status: status.to_string(),
            },
            _ => smb_failed(&format!("the logon of {who}"), server, e),
        })
}

/// Binds `syntax` over TCP at the port the server's endpoint mapper names, with NTLM
/// packet privacy (no SMB session protects this transport).
async fn open_tcp(
    server: &str,
    addr: SocketAddr,
    logon: &Logon,
    interface: &'static str,
    syntax: SyntaxId,
    timeout: Duration,
) -> Result<Pipe, NetError> {
    let port = map_tcp_port(addr.ip(), syntax, timeout)
        .await
        .map_err(|e| rpc_failed("the endpoint mapper", server, e))?;
    let tcp = TcpTransport::connect(SocketAddr::new(addr.ip(), port), interface, timeout)
        .await
        .map_err(|e| rpc_failed(&format!("connecting {interface}"), server, e))?;
    let (client, negotiate) =
        NtlmClient::new(&logon.user, &logon.domain, &logon.password, &workstation())
            .map_err(|e| NetError::Usage(format!("NTLM: {e}")))?;
    let auth = BindAuth::Ntlm {
        client,
        negotiate,
        level: AuthLevel::PKT_PRIVACY,
    };
    let conn = Connection::bind(Carrier::Tcp(tcp), interface, syntax, auth)
        .await
        .map_err(|e| rpc_failed(&format!("binding {interface}"), server, e))?;
    Ok(Pipe {
        conn,
        server: server.to_owned(),
    })
}

impl Pipe {
    /// Calls `opnum` (`name` in messages).
    pub(crate) async fn call<Req: NdrParams, Resp: NdrParams>(
        &mut self,
        name: &str,
        opnum: u16,
        request: &Req,
    ) -> Result<Resp, NetError> {
        self.conn
            .call(opnum, request)
            .await
            .map_err(|e| rpc_failed(name, &self.server, e))
    }

    /// Closes the pipe and logs off (a failure here changes nothing already done).
    pub(crate) async fn close(self) {
        if let Carrier::Pipe(pipe) = self.conn.into_transport()
            && let Err(e) = (*pipe).close().await
        {
            tracing::debug!(error = %e, "closing the pipe");
        }
    }
}

/// Statuses that say the name or password is wrong, or the account may not log on.
fn is_bad_credentials(status: NtStatus) -> bool {
    [
        NtStatus::LOGON_FAILURE,
        NtStatus::WRONG_PASSWORD,
        NtStatus::NO_SUCH_USER,
        NtStatus::ACCOUNT_DISABLED,
        NtStatus::ACCOUNT_LOCKED_OUT,
        NtStatus::PASSWORD_EXPIRED,
    ]
    .contains(&status)
}

pub(crate) fn smb_failed(call: &str, server: &str, e: SmbError) -> NetError {
    match e.status() {
        Some(NtStatus::ACCESS_DENIED) => NetError::AccessDenied {
            what: format!("\\\\{server} refused {call}"),
        },
        Some(NtStatus::BAD_NETWORK_NAME) => NetError::NotFound {
            kind: "the share",
            name: "IPC$".into(),
            place: format!(" on \\\\{server}"),
        },
        _ if matches!(e, SmbError::Io { .. } | SmbError::Timeout(_)) => NetError::Unreachable {
            server: server.to_owned(),
            detail: e.to_string(),
        },
        _ => NetError::Call {
            call: call.to_owned(),
            server: server.to_owned(),
            detail: e.to_string(),
        },
    }
}

fn rpc_failed(call: &str, server: &str, e: RpcError) -> NetError {
    match e {
        RpcError::Fault(FaultStatus::ACCESS_DENIED) => NetError::AccessDenied {
            what: format!("\\\\{server} refused {call}"),
        },
        RpcError::Io { .. } | RpcError::Timeout(_) => NetError::Unreachable {
            server: server.to_owned(),
            detail: e.to_string(),
        },
        _ => NetError::Call {
            call: call.to_owned(),
            server: server.to_owned(),
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_spellings() {
        assert_eq!(
            split_user(r"EXAMPLE\alice"),
            ("alice".into(), "EXAMPLE".into())
        );
        assert_eq!(
            split_user("alice@example.test"),
            ("alice".into(), "example.test".into())
        );
        assert_eq!(split_user("alice"), ("alice".into(), String::new()));
    }

    #[test]
    fn a_logon_never_shows_its_password() {
        let logon = Logon {
            user: "alice".into(),
            domain: "EXAMPLE".into(),
            password: Zeroizing::new("secret-pw".into()),
        };
        let shown = format!("{logon:?}");
        assert!(
            !shown.contains("secret-pw") && shown.contains(r"EXAMPLE\alice"),
            "{shown}"
        );
    }
}
