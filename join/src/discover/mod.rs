//! The DC locator: find a domain controller for a DNS domain the way Windows does
//! (MS-ADTS 6.3.6 "Locating a DC"): DNS SRV records name the candidates, an LDAP ping over
//! UDP (CLDAP, MS-ADTS 6.3.3) to each in parallel with staggered starts asks each DC about
//! itself and the client's site, the first good answer wins, and a DC in the client's own
//! site is preferred when the first answer came from elsewhere.
//!
//! Time is bounded: every DNS lookup by [`DiscoverOptions::dns_budget`], the pings by
//! [`DiscoverOptions::ping_budget`]; with the defaults a discovery ends, found or failed,
//! within 12 s (DNS 4.5 s for the DC records, 4.5 s for a site's records, 2.5 s of pings).

pub mod cldap;
pub mod dns;
pub mod netlogon;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tracing::{Instrument, debug, debug_span};

use dns::Dns;
pub use dns::{SrvTarget, parse_dns_server};

/// The first of `candidates` that is a zone `server` serves (has an SOA), if any.
pub async fn served_zone(
    server: SocketAddr,
    candidates: &[String],
) -> Result<Option<String>, DiscoverError> {
    let opts = DiscoverOptions {
        dns_servers: vec![server],
        ..DiscoverOptions::default()
    };
    let dns = Dns::new(&opts)?;
    for zone in candidates {
        if dns.has_soa(zone).await? {
            return Ok(Some(zone.clone()));
        }
    }
    Ok(None)
}

/// The A and AAAA records `server` holds for `host` now (no cache).
pub async fn host_addresses(server: SocketAddr, host: &str) -> Result<Vec<IpAddr>, DiscoverError> {
    let opts = DiscoverOptions {
        dns_servers: vec![server],
        ..DiscoverOptions::default()
    };
    Dns::new(&opts)?.all_addresses(host).await
}
use netlogon::{DsFlags, Guid, NtVersion, SamLogonResponseEx};

/// How to look for a DC.
#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    /// DNS servers to ask; empty means the system's (/etc/resolv.conf).
    pub dns_servers: Vec<SocketAddr>,
    /// Ping only these DCs (names or addresses) instead of asking DNS for candidates.
    pub servers: Vec<String>,
    /// Look in this site first (`_ldap._tcp.SITE._sites.dc._msdcs.DOMAIN`).
    pub site: Option<String>,
    /// Per-attempt DNS timeout.
    pub dns_timeout: Duration,
    /// DNS attempts per server.
    pub dns_attempts: usize,
    /// How long to wait for one ping's answer before resending once.
    pub ping_timeout: Duration,
    /// Delay between starting pings to successive candidates.
    pub ping_stagger: Duration,
    /// The UDP port of the LDAP ping (389).
    pub cldap_port: u16,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        Self {
            dns_servers: Vec::new(),
            servers: Vec::new(),
            site: None,
            dns_timeout: Duration::from_secs(2),
            dns_attempts: 2,
            ping_timeout: Duration::from_millis(1000),
            ping_stagger: Duration::from_millis(100),
            cldap_port: 389,
        }
    }
}

impl DiscoverOptions {
    /// The longest the whole ping phase may take: two rounds of `ping_timeout`, plus the
    /// stagger, capped so a long candidate list cannot stretch it.
    pub fn ping_budget(&self) -> Duration {
        self.ping_timeout * 2 + self.ping_stagger * 5
    }

    /// The longest one DNS lookup may take.
    pub fn dns_budget(&self) -> Duration {
        let per = self.dns_timeout * u32::try_from(self.dns_attempts.max(1)).unwrap_or(1);
        per * u32::try_from(self.dns_servers.len().max(1)).unwrap_or(1) + Duration::from_millis(500)
    }
}

/// What discovery found: the chosen DC and what it said about itself and the domain.
#[derive(Debug, Clone, Serialize)]
pub struct DomainController {
    /// The domain that was asked for.
    pub domain: String,
    /// The DC's DNS host name.
    pub dc_name: String,
    /// The address that answered the ping.
    pub dc_address: IpAddr,
    /// The DC's NetBIOS name.
    pub dc_netbios_name: String,
    /// The domain's DNS name, as the DC spells it.
    pub dns_domain: String,
    /// The domain's NetBIOS name.
    pub netbios_domain: String,
    /// The forest's DNS name.
    pub forest: String,
    /// The domain GUID.
    pub domain_guid: Guid,
    /// The DC's site.
    pub dc_site: String,
    /// The site the DC maps the client's address to (empty when none).
    pub client_site: String,
    /// The DS_FLAG bits, raw.
    pub flags: u32,
    /// The DS_FLAG bits, named.
    pub flag_names: Vec<String>,
    /// Whether the DC is in the client's site.
    pub closest: bool,
    /// The candidates DNS named (`_ldap._tcp.dc._msdcs`), in the order they were pinged.
    pub ldap_servers: Vec<SrvTarget>,
    /// The KDCs DNS names (`_kerberos._tcp`).
    pub kdcs: Vec<SrvTarget>,
    /// How long discovery took.
    pub elapsed_ms: u64,
}

impl DomainController {
    fn new(domain: &str, addr: IpAddr, r: SamLogonResponseEx) -> Self {
        Self {
            domain: domain.to_owned(),
            dc_name: r.dns_host_name,
            dc_address: addr,
            dc_netbios_name: r.netbios_computer_name,
            dns_domain: r.dns_domain_name,
            netbios_domain: r.netbios_domain_name,
            forest: r.dns_forest_name,
            domain_guid: r.domain_guid,
            dc_site: r.dc_site_name,
            client_site: r.client_site_name,
            flags: r.flags.bits(),
            flag_names: r.flags.names(),
            closest: r.flags.contains(DsFlags::CLOSEST),
            ldap_servers: Vec::new(),
            kdcs: Vec::new(),
            elapsed_ms: 0,
        }
    }
}

/// Why no DC was found. Each message names the cause and what to check.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    /// The domain name is not a DNS name.
    #[error("'{domain}' is not a DNS domain name (expected something like example.com)")]
    InvalidDomain {
        /// What was given.
        domain: String,
    },
    /// The system DNS configuration could not be read.
    #[error("cannot read the system DNS configuration ({detail}): pass --dns-server IP")]
    SystemDnsConfig {
        /// The resolver's message.
        detail: String,
    },
    /// No DNS server answered.
    #[error(
        "DNS server {servers} did not answer within {waited:.1?} ({detail}): check --dns-server \
         and that UDP/TCP port 53 on it is reachable"
    )]
    DnsUnreachable {
        /// The servers asked.
        servers: String,
        /// How long we waited.
        waited: Duration,
        /// The resolver's message.
        detail: String,
    },
    /// The DNS server answered with an error code such as SERVFAIL or REFUSED.
    #[error(
        "DNS server {servers} answered {rcode} for {name}: it does not serve this domain; \
         point --dns-server at the domain's DNS (usually a DC)"
    )]
    DnsServerFailure {
        /// The name asked for.
        name: String,
        /// The servers asked.
        servers: String,
        /// The response code.
        rcode: String,
    },
    /// DNS has no DC records for the domain.
    #[error(
        "no domain controllers for {domain} in DNS: {servers} has no SRV record {name}; check \
         the domain name and that --dns-server is the domain's DNS server"
    )]
    NoSrvRecords {
        /// The domain.
        domain: String,
        /// The SRV name asked for.
        name: String,
        /// The servers asked.
        servers: String,
    },
    /// SRV records exist but their hosts have no addresses.
    #[error(
        "the DCs DNS names for {domain} ({hosts}) have no A/AAAA records: fix the DCs' host records"
    )]
    NoAddresses {
        /// The domain.
        domain: String,
        /// The SRV targets.
        hosts: String,
    },
    /// No candidate answered the LDAP ping.
    #[error(
        "no domain controller answered the LDAP ping (CLDAP, UDP port {port}; gave up after \
         {waited:.1?}): {tried}; check that the DCs run and that UDP port {port} is open to them"
    )]
    NoCldapAnswer {
        /// The port pinged.
        port: u16,
        /// How long the pings took.
        waited: Duration,
        /// Each candidate and what happened.
        tried: String,
    },
}

/// One DC to ping.
#[derive(Debug, Clone)]
struct Candidate {
    host: String,
    addr: SocketAddr,
}

/// Finds a DC for `domain` (a DNS name such as `example.test`).
pub async fn discover(
    domain: &str,
    opts: &DiscoverOptions,
) -> Result<DomainController, DiscoverError> {
    let started = Instant::now();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if !is_dns_name(&domain) {
        return Err(DiscoverError::InvalidDomain { domain });
    }
    let dns = Dns::new(opts)?;
    let span = debug_span!("discover", %domain);
    async {
        let (ldap_servers, kdcs) = candidates(&dns, &domain, opts).await?;
        let list = addresses_of(&ldap_servers, opts.cldap_port);
        if list.is_empty() {
            let hosts = ldap_servers
                .iter()
                .map(|t| t.host.as_str())
                .collect::<Vec<_>>();
            return Err(DiscoverError::NoAddresses {
                domain,
                hosts: hosts.join(", "),
            });
        }
        let mut dc = ping_all(&domain, &list, opts).await?;
        let may_look_closer = opts.site.is_none() && opts.servers.is_empty();
        if !dc.closest
            && !dc.client_site.is_empty()
            && may_look_closer
            && let Some(better) = closer_dc(&dns, &domain, &dc, &list, opts).await
        {
            dc = better;
        }
        dc.ldap_servers = ldap_servers;
        dc.kdcs = kdcs;
        dc.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(dc)
    }
    .instrument(span)
    .await
}

/// The KDCs of `realm` from DNS (`_kerberos._tcp.REALM`, RFC 4120 7.2.3.2), as addresses
/// in SRV order.
pub async fn kdcs(realm: &str, opts: &DiscoverOptions) -> Result<Vec<SocketAddr>, DiscoverError> {
    let domain = realm.trim_end_matches('.').to_ascii_lowercase();
    if !is_dns_name(&domain) {
        return Err(DiscoverError::InvalidDomain { domain });
    }
    let dns = Dns::new(opts)?;
    let name = format!("_kerberos._tcp.{domain}");
    let targets = dns.srv(&name).await?;
    if targets.is_empty() {
        return Err(DiscoverError::NoSrvRecords {
            domain,
            name,
            servers: dns.servers().to_owned(),
        });
    }
    Ok(targets
        .iter()
        .flat_map(|t| t.addresses.iter().map(|ip| SocketAddr::new(*ip, t.port)))
        .collect())
}

/// Finds the KDCs of the realms a ticket request is referred to
/// ([`adjoin_auth::krb::kdc::service_ticket_via_referrals`]): `home` for the home realm (as
/// configured or already found), DNS SRV records ([`kdcs`]) for any other, with the home
/// realm's timeouts.
#[derive(Debug, Clone)]
pub struct KdcFinder {
    /// The realm `home` serves.
    pub home_realm: String,
    /// Its KDCs.
    pub home: adjoin_auth::krb::kdc::KdcConfig,
    /// How to ask DNS for the others.
    pub options: DiscoverOptions,
}

impl adjoin_auth::krb::kdc::KdcLocator for KdcFinder {
    async fn locate(
        &self,
        realm: &str,
    ) -> Result<adjoin_auth::krb::kdc::KdcConfig, adjoin_auth::krb::KerberosError> {
        if realm.eq_ignore_ascii_case(&self.home_realm) {
            return Ok(self.home.clone());
        }
        let found = kdcs(realm, &self.options).await.map_err(|e| {
            adjoin_auth::krb::KerberosError::KdcNotFound {
                realm: realm.to_owned(),
                reason: e.to_string(),
            }
        })?;
        Ok(adjoin_auth::krb::kdc::KdcConfig {
            kdcs: found,
            ..self.home.clone()
        })
    }
}

/// The DCs to ping (from `--server` or DNS) and the KDCs DNS lists.
async fn candidates(
    dns: &Dns,
    domain: &str,
    opts: &DiscoverOptions,
) -> Result<(Vec<SrvTarget>, Vec<SrvTarget>), DiscoverError> {
    if !opts.servers.is_empty() {
        let mut targets = Vec::new();
        for host in &opts.servers {
            targets.push(SrvTarget {
                host: host.clone(),
                port: 389,
                priority: 0,
                weight: 0,
                addresses: dns.addresses(host).await?,
            });
        }
        return Ok((targets, Vec::new()));
    }
    let generic = format!("_ldap._tcp.dc._msdcs.{domain}");
    let kerberos = format!("_kerberos._tcp.{domain}");
    let mut ldap = match &opts.site {
        Some(site) => {
            dns.srv(&format!("_ldap._tcp.{site}._sites.dc._msdcs.{domain}"))
                .await?
        }
        None => Vec::new(),
    };
    let (generic_targets, kdcs) = tokio::join!(dns.srv(&generic), dns.srv(&kerberos));
    for t in generic_targets? {
        if !ldap.iter().any(|x| x.host.eq_ignore_ascii_case(&t.host)) {
            ldap.push(t);
        }
    }
    if ldap.is_empty() {
        return Err(DiscoverError::NoSrvRecords {
            domain: domain.to_owned(),
            name: generic,
            servers: dns.servers().to_owned(),
        });
    }
    // A missing _kerberos record is worth reporting, not failing discovery for.
    Ok((ldap, kdcs.unwrap_or_default()))
}

fn addresses_of(targets: &[SrvTarget], port: u16) -> Vec<Candidate> {
    targets
        .iter()
        .flat_map(|t| {
            t.addresses.iter().map(|ip| Candidate {
                host: t.host.clone(),
                addr: SocketAddr::new(*ip, port),
            })
        })
        .collect()
}

/// After a first answer from outside the client's site: ask DNS for the client site's DCs
/// and ping the ones not tried yet; a DC that says it is closest wins.
async fn closer_dc(
    dns: &Dns,
    domain: &str,
    first: &DomainController,
    tried: &[Candidate],
    opts: &DiscoverOptions,
) -> Option<DomainController> {
    let name = format!("_ldap._tcp.{}._sites.dc._msdcs.{domain}", first.client_site);
    let targets = dns.srv(&name).await.ok()?;
    let fresh: Vec<Candidate> = addresses_of(&targets, opts.cldap_port)
        .into_iter()
        .filter(|c| !tried.iter().any(|t| t.addr == c.addr))
        .collect();
    if fresh.is_empty() {
        return None;
    }
    let dc = ping_all(domain, &fresh, opts).await.ok()?;
    dc.closest.then_some(dc)
}

/// Pings every candidate, the i-th after `i * stagger`, and returns the first good answer,
/// or the first from the client's site if one comes within the same round.
async fn ping_all(
    domain: &str,
    list: &[Candidate],
    opts: &DiscoverOptions,
) -> Result<DomainController, DiscoverError> {
    let started = tokio::time::Instant::now();
    let mut set = JoinSet::new();
    for (i, c) in list.iter().enumerate() {
        let delay = opts.ping_stagger * u32::try_from(i).unwrap_or(u32::MAX).min(5);
        let (c, domain, timeout) = (c.clone(), domain.to_owned(), opts.ping_timeout);
        set.spawn(async move {
            tokio::time::sleep(delay).await;
            let r = ping(&domain, c.addr, timeout).await;
            (c, r)
        });
    }
    let mut deadline = started + opts.ping_budget();
    let mut failures = Vec::new();
    let mut best: Option<DomainController> = None;
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, set.join_next()).await {
        let Ok((c, result)) = joined else { continue };
        match result {
            Ok(r) => {
                debug!(host = %c.host, addr = %c.addr, flags = ?r.flags, "ping answered");
                let dc = DomainController::new(domain, c.addr.ip(), r);
                if dc.closest || dc.client_site.is_empty() {
                    set.abort_all();
                    return Ok(dc);
                }
                if best.is_none() {
                    // An answer from outside the client's site: give the others a moment.
                    deadline = deadline.min(tokio::time::Instant::now() + opts.ping_stagger * 2);
                    best = Some(dc);
                }
            }
            Err(reason) => {
                debug!(host = %c.host, addr = %c.addr, %reason, "ping failed");
                failures.push((c.addr, format!("{} ({}): {reason}", c.host, c.addr)));
            }
        }
    }
    set.abort_all();
    if let Some(dc) = best {
        return Ok(dc);
    }
    for c in list {
        if !failures.iter().any(|(addr, _)| *addr == c.addr) {
            failures.push((c.addr, format!("{} ({}): no answer", c.host, c.addr)));
        }
    }
    let tried: Vec<String> = failures.into_iter().map(|(_, f)| f).collect();
    Err(DiscoverError::NoCldapAnswer {
        port: opts.cldap_port,
        waited: started.elapsed(),
        tried: tried.join("; "),
    })
}

/// Message ids only need to tell our requests apart; they carry no security.
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// One LDAP ping: send, wait `timeout`, resend once, decode.
async fn ping(
    domain: &str,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<SamLogonResponseEx, String> {
    let local: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(|e| e.to_string())?;
    socket.connect(addr).await.map_err(|e| e.to_string())?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) & 0x7fff_ffff;
    let request = cldap::ping_request(id, domain, NtVersion::PING);
    let mut buf = vec![0u8; 4096];
    for _attempt in 0..2 {
        socket.send(&request).await.map_err(|e| e.to_string())?;
        match tokio::time::timeout(timeout, socket.recv(&mut buf)).await {
            Err(_) => continue,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err("connection refused (nothing listens on that UDP port)".into());
            }
            Ok(Err(e)) => return Err(e.to_string()),
            Ok(Ok(n)) => {
                let blob = cldap::ping_response(&buf[..n], id).map_err(|e| e.to_string())?;
                return SamLogonResponseEx::decode(&blob, NtVersion::PING)
                    .map_err(|e| e.to_string());
            }
        }
    }
    Err(format!("no answer after 2 tries of {timeout:?}"))
}

/// A DNS domain name: dot-separated labels of letters, digits and hyphens, 1..=63 each.
fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_checked() {
        assert!(is_dns_name("example.test"));
        assert!(is_dns_name("corp-1.example.com"));
        assert!(!is_dns_name(""));
        assert!(!is_dns_name("exa mple.test"));
        assert!(!is_dns_name("example..test"));
        assert!(!is_dns_name("-bad.test"));
    }

    #[test]
    fn default_bounds_are_as_documented() {
        let o = DiscoverOptions::default();
        assert_eq!(o.dns_budget(), Duration::from_millis(4500));
        assert_eq!(o.ping_budget(), Duration::from_millis(2500));
    }
}
