//! Talking to KDCs (RFC 4120 7.2.1, 7.2.2): UDP for small requests, TCP (4-byte length
//! prefix) for large ones and when a KDC answers KRB_ERR_RESPONSE_TOO_BIG, each KDC with
//! its own timeout, the next one when it fails.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tracing::debug;

use super::error::{self, KerberosError, KrbErrorCode};
use super::{KdcRequest, wire};

/// Requests larger than this go over TCP first (MIT's `udp_preference_limit` default).
pub const UDP_LIMIT: usize = 1465;
/// The largest TCP reply accepted; AD tickets with big PACs stay far below.
const MAX_TCP_REPLY: usize = 1 << 20;

/// How to reach the KDCs of a realm.
#[derive(Debug, Clone)]
pub struct KdcConfig {
    /// KDC addresses, tried in order.
    pub kdcs: Vec<SocketAddr>,
    /// How long to wait for each KDC.
    pub timeout: Duration,
    /// Requests up to this size go over UDP first; larger ones over TCP.
    pub udp_limit: usize,
}

impl KdcConfig {
    /// The given KDCs, 3 s each, MIT's UDP limit.
    pub fn new(kdcs: Vec<SocketAddr>) -> Self {
        Self {
            kdcs,
            timeout: Duration::from_secs(3),
            udp_limit: UDP_LIMIT,
        }
    }
}

/// Sends `req` to the realm's KDCs until one answers; returns the raw reply.
pub async fn send(config: &KdcConfig, req: &KdcRequest) -> Result<Vec<u8>, KerberosError> {
    let mut tried = Vec::new();
    for &kdc in &config.kdcs {
        match send_one(kdc, &req.bytes, config).await {
            Ok(reply) => return Ok(reply),
            Err(e) => {
                debug!(%kdc, error = %e, "KDC failed");
                tried.push((kdc, e));
            }
        }
    }
    if tried.is_empty() {
        tried.push((([0, 0, 0, 0], 88).into(), "no KDC configured".to_owned()));
    }
    Err(KerberosError::KdcUnreachable {
        realm: req.realm.clone(),
        tried: error::tried(&tried),
    })
}

async fn send_one(kdc: SocketAddr, bytes: &[u8], config: &KdcConfig) -> Result<Vec<u8>, String> {
    let timeout = config.timeout;
    if bytes.len() <= config.udp_limit {
        let reply = bounded(timeout, udp(kdc, bytes)).await?;
        if !too_big(&reply) {
            return Ok(reply);
        }
        debug!(%kdc, "KRB_ERR_RESPONSE_TOO_BIG: retrying over TCP");
    }
    bounded(timeout, tcp(kdc, bytes)).await
}

async fn bounded(
    timeout: Duration,
    f: impl Future<Output = std::io::Result<Vec<u8>>>,
) -> Result<Vec<u8>, String> {
    match tokio::time::timeout(timeout, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err("connection refused".into())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

async fn udp(kdc: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = if kdc.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(kdc).await?;
    socket.send(bytes).await?;
    let mut buf = vec![0; 65536];
    let n = socket.recv(&mut buf).await?;
    buf.truncate(n);
    Ok(buf)
}

async fn tcp(kdc: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(kdc).await?;
    let len = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await?;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await?;
    let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
    // RFC 4120 7.2.2: the high bit is reserved; a KDC never sends a reply this large.
    if len > MAX_TCP_REPLY {
        return Err(std::io::Error::other(format!(
            "KDC announced a {len}-byte reply"
        )));
    }
    let mut reply = vec![0; len];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}

fn too_big(reply: &[u8]) -> bool {
    reply.first() == Some(&wire::KRB_ERROR_TAG)
        && wire::decode::<rasn_kerberos::KrbError>(reply, "KRB-ERROR")
            .is_ok_and(|e| KrbErrorCode(e.error_code) == KrbErrorCode::KRB_ERR_RESPONSE_TOO_BIG)
}

/// Runs an AS exchange to the end against the realm's KDCs. `clock` gives the current time
/// (the system clock in production; tests shift it to provoke clock skew).
pub async fn initial_credentials(
    mut exchange: super::AsExchange,
    config: &KdcConfig,
    clock: &(dyn Fn() -> std::time::SystemTime + Sync),
) -> Result<super::Credentials, KerberosError> {
    let mut req = exchange.start(clock());
    // Pre-authentication takes one round trip more; a third would be a KDC loop.
    for _ in 0..3 {
        let reply = send(config, &req).await?;
        match exchange.step(&reply, clock())? {
            super::AsStep::Done(creds) => return Ok(*creds),
            super::AsStep::Send(next) => req = next,
        }
    }
    Err(KerberosError::Malformed {
        reason: "the KDC asked for pre-authentication again after it was sent".into(),
    })
}

/// Gets a ticket for `server` with `tgt` from the TGT realm's KDCs (one TGS exchange).
pub async fn service_ticket(
    tgt: super::Credentials,
    server: crate::principal::PrincipalName,
    config: &KdcConfig,
    clock: &(dyn Fn() -> std::time::SystemTime + Sync),
) -> Result<super::Credentials, KerberosError> {
    let exchange = super::TgsExchange::new(tgt, server);
    let req = exchange.request(clock())?;
    let reply = send(config, &req).await?;
    exchange.reply(&reply, clock())
}

/// Realms a ticket request may cross, at most: each referral is one. A forest trust takes
/// one; a path through a forest's child domains a few more.
pub const MAX_REFERRALS: usize = 8;

/// Finds the KDCs of the realms a request is referred to (DNS SRV records, a fixed list).
pub trait KdcLocator: Sync {
    /// How to reach the KDCs of `realm`.
    fn locate(&self, realm: &str) -> impl Future<Output = Result<KdcConfig, KerberosError>> + Send;
}

/// Gets a ticket for `server` with `tgt`, following referrals from realm to realm
/// (RFC 6806; MS-KILE 3.3.5.7.5): the TGT realm's KDC either issues the ticket or refers the
/// request to a trusted realm with a cross-realm TGT, whose KDC is asked in turn. When
/// `server` names a realm other than the TGT's, a TGT for that realm is asked for first
/// (`krbtgt/REALM`), which a KDC may answer with a TGT for a realm on the way. At most
/// [`MAX_REFERRALS`] hops; a realm met twice is a loop. Each realm's KDCs come from `locator`.
pub async fn service_ticket_via_referrals<L: KdcLocator>(
    mut tgt: super::Credentials,
    server: crate::principal::PrincipalName,
    locator: &L,
    clock: &(dyn Fn() -> std::time::SystemTime + Sync),
) -> Result<super::Credentials, KerberosError> {
    use super::TgsAnswer;
    use crate::principal::PrincipalName;

    let mut target = if server.realm.is_empty() {
        tgt.client.realm.clone()
    } else {
        server.realm.clone()
    };
    let mut path: Vec<String> = Vec::new();
    let failed = |path: &[String], reason: String| KerberosError::Referrals {
        service: server.to_string(),
        path: path.join(" -> "),
        reason,
    };
    loop {
        let here = super::tgs_exchange::tgt_realm(&tgt).to_owned();
        if path.iter().any(|r| r.eq_ignore_ascii_case(&here)) {
            path.push(here);
            return Err(failed(&path, "the referrals loop".into()));
        }
        path.push(here.clone());
        if path.len() > MAX_REFERRALS + 1 {
            return Err(failed(
                &path,
                format!("more than {MAX_REFERRALS} referrals"),
            ));
        }
        let config = locator.locate(&here).await?;
        let direct = here.eq_ignore_ascii_case(&target);
        let ask = if direct {
            PrincipalName {
                realm: here.clone(),
                ..server.clone()
            }
        } else {
            PrincipalName::new(
                PrincipalName::NT_SRV_INST,
                [PrincipalName::KRBTGT, target.as_str()],
                here.as_str(),
            )
        };
        let exchange = super::TgsExchange::new(tgt.clone(), ask);
        let reply = send(&config, &exchange.request(clock())?).await?;
        match exchange.answer(&reply, clock())? {
            TgsAnswer::Ticket(creds) if direct => return Ok(creds),
            TgsAnswer::Ticket(creds) if creds.server.is_krbtgt() => {
                debug!(from = %here, to = super::tgs_exchange::tgt_realm(&creds), "cross-realm TGT");
                tgt = creds;
            }
            TgsAnswer::Ticket(creds) => {
                return Err(failed(
                    &path,
                    format!("asked for a TGT, the KDC of {here} issued {}", creds.server),
                ));
            }
            TgsAnswer::Referral { realm, tgt: next } => {
                debug!(from = %here, to = %realm, "referral");
                target = realm;
                tgt = next;
            }
        }
    }
}

/// The KDCs of realms known in advance, for [`service_ticket_via_referrals`]; a referral to
/// any other realm is [`KerberosError::KdcNotFound`].
#[derive(Debug, Clone)]
pub struct KnownKdcs(pub Vec<(String, KdcConfig)>);

impl KdcLocator for KnownKdcs {
    async fn locate(&self, realm: &str) -> Result<KdcConfig, KerberosError> {
        self.0
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(realm))
            .map(|(_, c)| c.clone())
            .ok_or_else(|| KerberosError::KdcNotFound {
                realm: realm.to_owned(),
                reason: "not a realm this request was expected to cross".into(),
            })
    }
}
