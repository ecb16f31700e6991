//! DNS for the DC locator (MS-ADTS 6.3.6.1 names, RFC 2782 SRV ordering), through
//! hickory-resolver with the DNS servers the admin chose, so no /etc/resolv.conf change is
//! needed to reach a domain's own DNS.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;
use serde::Serialize;

use super::{DiscoverError, DiscoverOptions};

/// One SRV target, with the addresses it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SrvTarget {
    /// The target host name, without the trailing dot.
    pub host: String,
    /// The service port.
    pub port: u16,
    /// RFC 2782 priority (lower first).
    pub priority: u16,
    /// RFC 2782 weight (higher preferred among equal priorities).
    pub weight: u16,
    /// The host's addresses (from the additional section or an A/AAAA lookup).
    pub addresses: Vec<IpAddr>,
}

/// A resolver bound to the configured servers, with errors that name them.
pub(crate) struct Dns {
    resolver: TokioResolver,
    /// "127.0.0.2:53" or "the system resolvers (/etc/resolv.conf)", for messages.
    described: String,
    budget: Duration,
}

impl Dns {
    /// A resolver asking the configured servers (UDP, then TCP on truncation), or the
    /// system's resolvers when none are configured.
    pub(crate) fn new(opts: &DiscoverOptions) -> Result<Self, DiscoverError> {
        let servers = &opts.dns_servers;
        let provider = TokioRuntimeProvider::default();
        let mut builder = if servers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| DiscoverError::SystemDnsConfig {
                detail: e.to_string(),
            })?
        } else {
            let ns = servers.iter().map(|s| name_server(*s)).collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(ns), provider)
        };
        let o = builder.options_mut();
        o.timeout = opts.dns_timeout;
        o.attempts = opts.dns_attempts.max(1);
        o.cache_size = 64;
        let resolver = builder
            .build()
            .map_err(|e| DiscoverError::SystemDnsConfig {
                detail: e.to_string(),
            })?;
        let described = if servers.is_empty() {
            "the system resolvers (/etc/resolv.conf)".to_owned()
        } else {
            servers
                .iter()
                .map(SocketAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        Ok(Self {
            resolver,
            described,
            budget: opts.dns_budget(),
        })
    }

    /// The servers asked, for messages.
    pub(crate) fn servers(&self) -> &str {
        &self.described
    }

    /// SRV records for `name`, ordered by priority then weight, each with its addresses.
    /// `Ok(empty)` means the name exists in no form the server knows (NXDOMAIN/no data).
    pub(crate) async fn srv(&self, name: &str) -> Result<Vec<SrvTarget>, DiscoverError> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = match self.bounded(self.resolver.srv_lookup(fqdn.as_str())).await {
            Ok(l) => l,
            Err(e) if e.is_no_records_found() => return Ok(Vec::new()),
            Err(e) => return Err(self.error(name, &e)),
        };
        let mut targets: Vec<SrvTarget> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some(SrvTarget {
                    host: srv.target.to_utf8().trim_end_matches('.').to_owned(),
                    port: srv.port,
                    priority: srv.priority,
                    weight: srv.weight,
                    addresses: Vec::new(),
                }),
                _ => None,
            })
            .collect();
        // RFC 2782 picks among equal priorities at random by weight; the locator pings
        // every candidate anyway, so a stable order (heavier first) loses nothing.
        targets.sort_by_key(|t| (t.priority, std::cmp::Reverse(t.weight)));
        for t in &mut targets {
            t.addresses = glue(&lookup, &t.host);
        }
        for t in targets.iter_mut().filter(|t| t.addresses.is_empty()) {
            t.addresses = self.addresses(&t.host).await?;
        }
        Ok(targets)
    }

    /// A and AAAA addresses of `host` (an IP literal resolves to itself).
    pub(crate) async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DiscoverError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        match self.bounded(self.resolver.lookup_ip(fqdn.as_str())).await {
            Ok(ips) => Ok(ips.iter().collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(self.error(host, &e)),
        }
    }

    /// The A and AAAA records of `host` as the server holds them now (both looked up).
    pub(crate) async fn all_addresses(&self, host: &str) -> Result<Vec<IpAddr>, DiscoverError> {
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        let mut found = Vec::new();
        match self.bounded(self.resolver.ipv4_lookup(fqdn.as_str())).await {
            Ok(v4) => found.extend(v4.answers().iter().filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                _ => None,
            })),
            Err(e) if e.is_no_records_found() => {}
            Err(e) => return Err(self.error(host, &e)),
        }
        match self.bounded(self.resolver.ipv6_lookup(fqdn.as_str())).await {
            Ok(v6) => found.extend(v6.answers().iter().filter_map(|r| match &r.data {
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })),
            Err(e) if e.is_no_records_found() => {}
            Err(e) => return Err(self.error(host, &e)),
        }
        Ok(found)
    }

    /// Whether `name` is a zone's apex here (it has an SOA record).
    pub(crate) async fn has_soa(&self, name: &str) -> Result<bool, DiscoverError> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.bounded(self.resolver.soa_lookup(fqdn.as_str())).await {
            Ok(found) => Ok(found
                .answers()
                .iter()
                .any(|r| matches!(r.data, RData::SOA(_)))),
            Err(e) if e.is_no_records_found() => Ok(false),
            Err(e) => Err(self.error(name, &e)),
        }
    }

    async fn bounded<T>(
        &self,
        f: impl Future<Output = Result<T, NetError>>,
    ) -> Result<T, NetError> {
        tokio::time::timeout(self.budget, f)
            .await
            .unwrap_or(Err(NetError::Timeout))
    }

    fn error(&self, name: &str, e: &NetError) -> DiscoverError {
        match e {
            NetError::Dns(DnsError::ResponseCode(code)) if *code != ResponseCode::NXDomain => {
                DiscoverError::DnsServerFailure {
                    name: name.to_owned(),
                    servers: self.described.clone(),
                    rcode: code.to_string(),
                }
            }
            _ => DiscoverError::DnsUnreachable {
                servers: self.described.clone(),
                waited: self.budget,
                detail: e.to_string(),
            },
        }
    }
}

fn name_server(addr: SocketAddr) -> NameServerConfig {
    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
    for c in &mut ns.connections {
        c.port = addr.port();
    }
    ns
}

/// Addresses for `host` from the SRV reply's additional section, if the server sent them.
fn glue(lookup: &hickory_resolver::lookup::Lookup, host: &str) -> Vec<IpAddr> {
    lookup
        .additionals()
        .iter()
        .filter(|r| {
            r.name
                .to_utf8()
                .trim_end_matches('.')
                .eq_ignore_ascii_case(host)
        })
        .filter_map(|r| r.data.ip_addr())
        .collect()
}

/// Parses `--dns-server` values: `IP` or `IP:PORT` (IPv6 as `[::1]:53`).
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    s.parse::<SocketAddr>()
        .map_err(|_| format!("'{s}' is not an IP address or IP:PORT"))
}

/// The connection kinds the resolver may use; kept for tests of `name_server`.
#[cfg(test)]
fn ports(ns: &NameServerConfig) -> Vec<u16> {
    ns.connections.iter().map(|c| c.port).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_server_accepts_ip_and_ip_port() {
        assert_eq!(
            parse_dns_server("127.0.0.2").unwrap(),
            "127.0.0.2:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("127.0.0.2:5353").unwrap(),
            "127.0.0.2:5353".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("[::1]:53").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert!(parse_dns_server("dc1.example.test").is_err());
    }

    #[test]
    fn name_server_uses_the_given_port_for_udp_and_tcp() {
        let ns = name_server("127.0.0.2:5353".parse().unwrap());
        assert_eq!(ports(&ns), [5353, 5353]);
    }
}
