//! The TCP driver of a secure update: one connection to the DNS server, the TKEY exchange,
//! then the signed UPDATE (RFC 1035 4.2.2 framing: a two-byte length before each message).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adjoin_auth::gss::krb5::{GssFlags, InitStep, Initiator};
use adjoin_auth::krb::Credentials;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::principal::PrincipalName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{
    DnsUpdateError, PtrUpdate, read_tkey_reply, read_update_reply, sign, tkey_query, update,
    update_ptr,
};

/// How long each step (connect, each reply) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// What to register, where, and with whose credentials.
#[derive(Debug)]
pub struct DnsUpdateRequest<'a> {
    /// The DNS server (a DC, port 53).
    pub server: SocketAddr,
    /// The DC's DNS name: the ticket is for `DNS/<dc_name>`.
    pub dc_name: &'a str,
    /// The zone (the AD domain's DNS name).
    pub zone: &'a str,
    /// The host name to register.
    pub fqdn: &'a str,
    /// Its addresses (empty: its A and AAAA records are removed).
    pub addresses: &'a [IpAddr],
    /// The records' TTL.
    pub ttl: u32,
    /// PTR changes to send after the address records (a refusal is reported, not an error).
    pub ptrs: &'a [PtrUpdate],
    /// The machine's TGT.
    pub tgt: &'a Credentials,
    /// The KDC that issued it.
    pub kdcs: &'a KdcConfig,
}

/// Makes `req.addresses` the A/AAAA records of `req.fqdn` with a GSS-TSIG signed UPDATE,
/// then sends `req.ptrs` on the same context; returns how each PTR change went.
pub async fn register(req: &DnsUpdateRequest<'_>) -> Result<Vec<String>, DnsUpdateError> {
    let spn = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["DNS", req.dc_name],
        req.tgt.client.realm.as_str(),
    );
    let ticket = kdc::service_ticket(req.tgt.clone(), spn, req.kdcs, &SystemTime::now)
        .await
        .map_err(|e| DnsUpdateError::Gss(e.to_string()))?;
    let flags = GssFlags::MUTUAL | GssFlags::REPLAY | GssFlags::SEQUENCE | GssFlags::INTEG;
    let (initiator, step) = Initiator::start(ticket, flags, SystemTime::now())
        .map_err(|e| DnsUpdateError::Gss(e.to_string()))?;
    let (Some(initiator), InitStep::Continue(token)) = (initiator, step) else {
        return Err(DnsUpdateError::Gss(
            "mutual authentication was not set up".into(),
        ));
    };
    let key_name = format!("{:08x}.adjoin", random_u32());
    let mut conn = Connection::open(req.server).await?;
    let now = unix_now();
    let query = tkey_query(&key_name, &token, now as u32)?;
    let bytes = query
        .to_vec()
        .map_err(|e| DnsUpdateError::Malformed(e.to_string()))?;
    let reply = conn.exchange(&bytes).await?;
    let server_token = read_tkey_reply(&reply)?;
    let mut context = initiator
        .step(&server_token)
        .map_err(|e| DnsUpdateError::Gss(e.to_string()))?;
    let message = update(req.zone, req.fqdn, req.addresses, req.ttl)?;
    let signed = sign(message, &key_name, unix_now(), |tbs| {
        context.get_mic(tbs).map_err(|e| e.to_string())
    })?;
    let reply = conn.exchange(&signed).await?;
    read_update_reply(&reply, req.fqdn)?;
    let mut ptrs = Vec::new();
    for ptr in req.ptrs {
        let done = async {
            let message = update_ptr(ptr, req.ttl)?;
            let signed = sign(message, &key_name, unix_now(), |tbs| {
                context.get_mic(tbs).map_err(|e| e.to_string())
            })?;
            let reply = conn.exchange(&signed).await?;
            read_update_reply(&reply, &ptr.name)
        };
        let what = match &ptr.target {
            Some(t) => format!("PTR {} -> {t}", ptr.name),
            None => format!("PTR {} removed", ptr.name),
        };
        ptrs.push(match done.await {
            Ok(()) => what,
            Err(e) => format!("{what} NOT done: {e}"),
        });
    }
    Ok(ptrs)
}

/// One TCP connection to the DNS server, each step under [`STEP_TIMEOUT`].
struct Connection {
    stream: TcpStream,
    server: SocketAddr,
}

impl Connection {
    async fn open(server: SocketAddr) -> Result<Self, DnsUpdateError> {
        let stream = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(server))
            .await
            .map_err(|_| unreachable(server, "no TCP connection within 10 s"))?
            .map_err(|e| unreachable(server, &e.to_string()))?;
        Ok(Self { stream, server })
    }

    /// Sends `message` and reads the reply (at most 64 KiB, the framing's limit).
    async fn exchange(&mut self, message: &[u8]) -> Result<Vec<u8>, DnsUpdateError> {
        let len = u16::try_from(message.len())
            .map_err(|_| DnsUpdateError::Malformed("a message over 64 KiB".into()))?;
        let server = self.server;
        let io = |e: std::io::Error| unreachable(server, &e.to_string());
        let work = async {
            self.stream
                .write_all(&len.to_be_bytes())
                .await
                .map_err(io)?;
            self.stream.write_all(message).await.map_err(io)?;
            let mut prefix = [0u8; 2];
            self.stream.read_exact(&mut prefix).await.map_err(io)?;
            let mut reply = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
            self.stream.read_exact(&mut reply).await.map_err(io)?;
            Ok(reply)
        };
        tokio::time::timeout(STEP_TIMEOUT, work)
            .await
            .map_err(|_| unreachable(server, "no reply within 10 s"))?
    }
}

fn unreachable(server: SocketAddr, detail: &str) -> DnsUpdateError {
    DnsUpdateError::Unreachable {
        server: server.to_string(),
        detail: detail.to_owned(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    u32::from_le_bytes(b)
}
