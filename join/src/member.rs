//! What a joined member needs from its join to talk to the DC as itself:
//! the NETLOGON secure channel opened with the machine password kept in
//! the registry, to a DC found by discovery.

use std::net::SocketAddr;
use std::time::Duration;

use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::{MachineAccount, SecureChannel};

use crate::discover::{self, DiscoverOptions, DomainController};
use crate::join::{query, stored_password};

/// The joined state a secure channel needs, read from the registry.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The domain's DNS name.
    pub dns_domain: String,
    /// The machine account (NetBIOS names and password).
    pub account: MachineAccount,
}

/// Reads the membership from the registry (root: the password is a secret).
pub fn membership(registry: &Registry) -> Result<Membership, String> {
    let state = query(registry)
        .map_err(|e| e.to_string())?
        .ok_or("this machine is not joined (run `domain-join join` first)")?;
    let field = |n: &str| {
        state.get(n).map(str::to_owned).ok_or(format!(
            "the registry lacks Join\\{n}; rejoin with `domain-join join`"
        ))
    };
    Ok(Membership {
        dns_domain: field("DnsDomain")?,
        account: MachineAccount {
            netbios_domain: field("NetbiosDomain")?,
            netbios_name: field("NetbiosName")?,
            password: stored_password(registry)?,
        },
    })
}

/// `HKEY_THIS_MACHINE\Join` `DnsServers`: the DNS servers an admin configured once for
/// every domain-join and adjoind lookup (empty when unset).
pub fn registry_dns_servers(registry: &Registry) -> Result<Vec<SocketAddr>, String> {
    match registry
        .get_value(crate::join::JOIN_KEY, "DnsServers")
        .map_err(|e| e.to_string())?
    {
        Value::MultiSz(list) => list
            .iter()
            .map(|s| {
                discover::parse_dns_server(s)
                    .map_err(|e| format!("{}\\DnsServers: {e}", crate::join::JOIN_KEY))
            })
            .collect(),
        _ => Err(format!(
            "{}\\DnsServers is not a REG_MULTI_SZ",
            crate::join::JOIN_KEY
        )),
    }
}

/// Finds a DC of the joined domain and prepares a secure channel to it
/// (established on first use).
pub async fn secure_channel(
    membership: &Membership,
    opts: &DiscoverOptions,
    timeout: Duration,
) -> Result<(SecureChannel, DomainController), String> {
    let dc = discover::discover(&membership.dns_domain, opts)
        .await
        .map_err(|e| e.to_string())?;
    let channel = SecureChannel::new(
        dc.dc_address,
        &dc.dc_name,
        membership.account.clone(),
        timeout,
    );
    Ok((channel, dc))
}
