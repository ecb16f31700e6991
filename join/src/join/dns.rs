//! Registering the member's name in the domain's DNS (issue 12 item 1): the A/AAAA records
//! of the FQDN the admin chose, by a GSS-TSIG signed UPDATE with the machine's own
//! Kerberos credentials ([`crate::dns_update`]); the addresses from the caller, else the
//! registry's `Join\Addresses`, else the host's own address towards the DC.

use std::net::{IpAddr, SocketAddr, UdpSocket};

use adjoin_auth::krb::ClientSecret;
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::{Registry, Value};
use rasn_ldap::ResultCode;
use zeroize::Zeroizing;

use super::JOIN_KEY;
use super::dc::{find_dc, kdcs, logon};
use super::state::{Joined, joined, stored_password};
use crate::discover::{self, DiscoverOptions, DomainController};
use crate::dns_update::{self, DnsUpdateRequest, PtrUpdate};
use crate::error::MemberError;
use crate::ldap::{Connection, LdapError};

/// The records' TTL: 20 minutes, as Windows registers them.
const TTL: u32 = 1200;

/// What [`dns_update()`] registered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DnsRegistration {
    /// The name.
    pub fqdn: String,
    /// The addresses it now has (empty: removed).
    pub addresses: Vec<IpAddr>,
    /// The DNS server (DC) that took the update.
    pub server: String,
    /// How each PTR change went (addresses in a reverse zone the DC serves).
    pub ptr: Vec<String>,
}

/// Makes `addresses` (empty: the registry's `Join\Addresses`, else the host's own address
/// towards the DC) the A/AAAA records of the joined FQDN; with `remove`, deletes them.
pub async fn dns_update(
    registry: &Registry,
    opts: &DiscoverOptions,
    addresses: &[IpAddr],
    remove: bool,
) -> Result<DnsRegistration, MemberError> {
    let j = joined(registry)?;
    let dc = find_dc(&j, opts).await?;
    let addresses = if remove {
        Vec::new()
    } else {
        addresses_to_register(registry, addresses, &dc)?
    };
    let password = stored_password(registry)?;
    register(
        &j.domain,
        &j.names.fqdn,
        &j.account,
        &password,
        &dc,
        &addresses,
    )
    .await
}

/// The update itself, as the machine account (also used by join and leave).
pub(super) async fn register(
    zone: &str,
    fqdn: &str,
    account: &PrincipalName,
    password: &Zeroizing<String>,
    dc: &DomainController,
    addresses: &[IpAddr],
) -> Result<DnsRegistration, MemberError> {
    let kdcs = kdcs(dc);
    let tgt = logon(
        account.clone(),
        ClientSecret::Password(password.clone()),
        &kdcs,
    )
    .await?;
    let server = SocketAddr::new(dc.dc_address, 53);
    let ptrs = ptr_updates(server, fqdn, addresses).await;
    let req = DnsUpdateRequest {
        server,
        dc_name: &dc.dc_name,
        zone,
        fqdn,
        addresses,
        ttl: TTL,
        ptrs: &ptrs,
        tgt: &tgt,
        kdcs: &kdcs,
    };
    let ptr = dns_update::register(&req).await?;
    Ok(DnsRegistration {
        fqdn: fqdn.to_owned(),
        addresses: addresses.to_vec(),
        server: dc.dc_name.clone(),
        ptr,
    })
}

/// The PTR changes that go with making `addresses` the name's: a PTR to `fqdn` for each new
/// address, and its removal for each address the name has now and loses — where the
/// DC serves a reverse zone for it (none: no PTR, as Windows). Best effort: a lookup that
/// fails means no PTR change.
async fn ptr_updates(server: SocketAddr, fqdn: &str, addresses: &[IpAddr]) -> Vec<PtrUpdate> {
    let now = discover::host_addresses(server, fqdn)
        .await
        .unwrap_or_default();
    let gone: Vec<IpAddr> = now
        .into_iter()
        .filter(|ip| !addresses.contains(ip))
        .collect();
    let added = reverse_nodes(server, addresses).await.into_iter();
    let removed = reverse_nodes(server, &gone).await.into_iter();
    added
        .map(|(zone, name)| (zone, name, Some(fqdn.to_owned())))
        .chain(removed.map(|(zone, name)| (zone, name, None)))
        .map(|(zone, name, target)| PtrUpdate { zone, name, target })
        .collect()
}

/// The (reverse zone, PTR name) of each of `addresses` whose reverse zone the DC serves.
pub(super) async fn reverse_nodes(
    server: SocketAddr,
    addresses: &[IpAddr],
) -> Vec<(String, String)> {
    let mut nodes = Vec::new();
    for ip in addresses {
        let zones = dns_update::reverse_zones(*ip);
        if let Ok(Some(zone)) = discover::served_zone(server, &zones).await {
            nodes.push((zone, dns_update::reverse_name(*ip)));
        }
    }
    nodes
}

/// Before a name is registered under a connection that may manage DNS nodes (an admin's):
/// its tombstoned nodes (the name's and its addresses' PTRs) cleared. Best effort.
pub(super) async fn clear_before_registering(
    conn: &mut Connection,
    registry: &Registry,
    dc: &DomainController,
    fqdn: &str,
) {
    let Some(base) = super::dc::naming_context(conn).await else {
        return;
    };
    let addresses = addresses_to_register(registry, &[], dc).unwrap_or_default();
    let reverse = reverse_nodes(SocketAddr::new(dc.dc_address, 53), &addresses).await;
    clear_tombstoned_nodes(conn, &base, &dc.dns_domain, fqdn, &reverse).await;
}

/// The name's node and its PTR nodes, each deleted when a tombstone (see
/// [`clear_tombstoned_node`]); best effort.
pub(super) async fn clear_tombstoned_nodes(
    admin: &mut Connection,
    base: &str,
    zone: &str,
    fqdn: &str,
    reverse: &[(String, String)],
) {
    let all =
        std::iter::once((zone, fqdn)).chain(reverse.iter().map(|(z, n)| (z.as_str(), n.as_str())));
    for (zone, name) in all {
        if let Err(e) = clear_tombstoned_node(admin, base, zone, name).await {
            tracing::warn!(error = %e, "could not clear an old DNS node of {name}");
        }
    }
}

/// adjoind's check: when the name's records at the DC are not the addresses
/// [`dns_update()`] would register (changed, or removed by someone), registers them. Returns
/// what was registered, `None` when the records were right.
/// (`registry` is only read; taken `&mut` so the future may move between threads.)
pub async fn refresh_dns(
    registry: &mut Registry,
    opts: &DiscoverOptions,
) -> Result<Option<DnsRegistration>, MemberError> {
    let j = joined(registry)?;
    let dc = find_dc(&j, opts).await?;
    let want = addresses_to_register(registry, &[], &dc)?;
    let Some((_, want)) = records_differ(&j, &dc, want).await? else {
        return Ok(None);
    };
    let password = stored_password(registry)?;
    let r = register(&j.domain, &j.names.fqdn, &j.account, &password, &dc, &want).await?;
    Ok(Some(r))
}

/// The name's A/AAAA records at the DC and `want` (the addresses to register), both
/// sorted, when they differ.
pub(super) async fn records_differ(
    j: &Joined,
    dc: &DomainController,
    mut want: Vec<IpAddr>,
) -> Result<Option<(Vec<IpAddr>, Vec<IpAddr>)>, MemberError> {
    let server = SocketAddr::new(dc.dc_address, 53);
    let mut have = discover::host_addresses(server, &j.names.fqdn)
        .await
        .map_err(|source| MemberError::Discover {
            domain: j.domain.clone(),
            source,
        })?;
    want.sort();
    have.sort();
    Ok((have != want).then_some((have, want)))
}

/// Addresses, comma-separated.
pub(super) fn list(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// After a rename: the new name registered (the addresses as [`dns_update`] finds them),
/// the old one's records removed; as the machine. Best effort: says what happened.
pub(super) async fn follow_rename(
    registry: &Registry,
    opts: &DiscoverOptions,
    old_fqdn: &str,
) -> String {
    let moved = async {
        let j = joined(registry)?;
        let dc = find_dc(&j, opts).await?;
        let addresses = addresses_to_register(registry, &[], &dc)?;
        let password = stored_password(registry)?;
        let r = register(
            &j.domain,
            &j.names.fqdn,
            &j.account,
            &password,
            &dc,
            &addresses,
        )
        .await?;
        register(&j.domain, old_fqdn, &j.account, &password, &dc, &[]).await?;
        Ok::<_, MemberError>(r)
    };
    match moved.await {
        Ok(r) => format!(
            "DNS: {} -> {}; the records of {old_fqdn} removed",
            r.fqdn,
            list(&r.addresses)
        ),
        Err(e) => {
            format!("warning: DNS not updated for the new name ({e}): run `domain-join dns-update`")
        }
    }
}

/// Where a join stands when it registers the name.
pub(super) struct JoinedAt<'a> {
    pub(super) dc: &'a DomainController,
    pub(super) account: &'a PrincipalName,
    pub(super) password: &'a Zeroizing<String>,
}

/// The join's registration: a tombstoned node of the name (left by an earlier account of
/// the same name, whose SID still owns it) deleted first with the admin's connection, then
/// the update as the new machine account.
pub(super) async fn register_at_join(
    registry: &Registry,
    given: &[IpAddr],
    fqdn: &str,
    at: &JoinedAt<'_>,
    admin: &mut Connection,
) -> Result<DnsRegistration, MemberError> {
    let addresses = addresses_to_register(registry, given, at.dc)?;
    // The join saved `given` as Join\Addresses: the same addresses.
    clear_before_registering(admin, registry, at.dc, fqdn).await;
    let zone = &at.dc.dns_domain;
    register(zone, fqdn, at.account, at.password, at.dc, &addresses).await
}

/// MS-DNSP 2.3.2.1: the dnsNode object of `fqdn` in the domain's AD-integrated zone.
fn node_dn(base: &str, zone: &str, fqdn: &str) -> Option<String> {
    let suffix = format!(".{zone}");
    let cut = fqdn.len().checked_sub(suffix.len())?;
    let (host, tail) = (fqdn.get(..cut)?, fqdn.get(cut..)?);
    (tail.eq_ignore_ascii_case(&suffix) && !host.is_empty())
        .then(|| format!("DC={host},DC={zone},CN=MicrosoftDNS,DC=DomainDnsZones,{base}"))
}

/// Deletes the name's dnsNode when it is a tombstone (no live records: MS-DNSP
/// dNSTombstoned), so the account registering next owns a fresh one. Returns whether one
/// was deleted.
pub(super) async fn clear_tombstoned_node(
    admin: &mut Connection,
    base: &str,
    zone: &str,
    fqdn: &str,
) -> Result<bool, LdapError> {
    let Some(dn) = node_dn(base, zone, fqdn) else {
        return Ok(false);
    };
    let node = match admin.read_entry(&dn, &["dNSTombstoned"]).await {
        Ok(node) => node,
        Err(e) if e.code() == Some(ResultCode::NoSuchObject) => return Ok(false),
        Err(e) => return Err(e),
    };
    let tombstoned = node
        .and_then(|n| n.text("dNSTombstoned"))
        .is_some_and(|t| t.eq_ignore_ascii_case("TRUE"));
    if !tombstoned {
        return Ok(false);
    }
    admin.delete(&dn).await?;
    Ok(true)
}

/// `given`, else `Join\Addresses`, else the host's address on the route to the DC.
pub(super) fn addresses_to_register(
    registry: &Registry,
    given: &[IpAddr],
    dc: &DomainController,
) -> Result<Vec<IpAddr>, MemberError> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    if let Some(Value::MultiSz(ref list)) = registry.stored_value(JOIN_KEY, "Addresses")?
        && !list.is_empty()
    {
        return list
            .iter()
            .map(|s| {
                s.parse().map_err(|_| MemberError::DamagedState {
                    value: "Addresses",
                    problem: format!("holds '{s}', which is not an IP address"),
                })
            })
            .collect();
    }
    Ok(route_address(dc.dc_address).into_iter().collect())
}

/// The local address the host would use to reach `to` (no packet is sent).
fn route_address(to: IpAddr) -> Option<IpAddr> {
    let any: IpAddr = if to.is_ipv4() {
        [0, 0, 0, 0].into()
    } else {
        [0u16; 8].into()
    };
    let socket = UdpSocket::bind((any, 0)).ok()?;
    socket.connect((to, 53)).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_of_a_name_in_the_zone_and_none_outside() {
        assert_eq!(
            node_dn("DC=example,DC=test", "example.test", "m1.EXAMPLE.test").as_deref(),
            Some("DC=m1,DC=example.test,CN=MicrosoftDNS,DC=DomainDnsZones,DC=example,DC=test")
        );
        assert_eq!(node_dn("DC=x", "example.test", "m1.other.test"), None);
        assert_eq!(node_dn("DC=x", "example.test", "example.test"), None);
    }
}
