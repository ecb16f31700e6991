//! What a joined member needs from its join to talk to the DC as itself:
//! the NETLOGON secure channel opened with the machine password kept in
//! the registry, to a DC found by discovery.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adjoin_auth::ntlm::{AvId, AvPair, AvPairs, Ntlmv2Response, nt_hash, ntowf_v2};
use adjoin_auth::pac::unix_to_filetime;
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::{MachineAccount, NetworkLogon, SecureChannel};

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
        Value::MultiSz(ref list) => list
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

fn filetime_now() -> u64 {
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    unix_to_filetime(i64::try_from(since_unix.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

fn random8() -> Result<[u8; 8], String> {
    let mut out = [0; 8];
    getrandom::fill(&mut out).map_err(|e| format!("the system random source failed: {e}"))?;
    Ok(out)
}

/// What the client side of an NTLM logon sends: an NTLMv2 response to a fresh challenge,
/// with the target information a Windows server would have offered.
pub fn network_logon(
    domain: &str,
    user: &str,
    password: &str,
    workstation: &str,
    dns_domain: &str,
) -> Result<NetworkLogon, String> {
    let challenge = random8()?;
    let client_challenge = random8()?;
    let timestamp = filetime_now();
    let mut target = AvPairs::new();
    target.push(AvPair::string(AvId::NB_DOMAIN_NAME, domain).map_err(|e| e.to_string())?);
    target.push(AvPair::string(AvId::NB_COMPUTER_NAME, workstation).map_err(|e| e.to_string())?);
    target.push(AvPair::string(AvId::DNS_DOMAIN_NAME, dns_domain).map_err(|e| e.to_string())?);
    target.push(AvPair::timestamp(timestamp));
    let owf = ntowf_v2(&nt_hash(password), user, domain);
    let response = Ntlmv2Response::compute(
        &owf,
        &challenge,
        &client_challenge,
        timestamp,
        &target.encode(),
    );
    Ok(NetworkLogon {
        domain: domain.to_owned(),
        user: user.to_owned(),
        workstation: workstation.to_owned(),
        challenge,
        nt_response: response.nt_challenge_response().to_vec(),
        lm_response: response.lm_challenge_response().to_vec(),
    })
}
