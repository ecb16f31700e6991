//! What a joined member needs from its join to talk to the DC as itself:
//! the NETLOGON secure channel opened with the machine password kept in
//! the registry, to a DC found by discovery.

use std::net::SocketAddr;
use std::time::Duration;

use adjoin_auth::gss::spnego::{
    SpnegoNtlmAcceptor, SpnegoNtlmFinish, SpnegoNtlmInitiator, SpnegoNtlmPending,
};
use adjoin_auth::ntlm::{ClientNonces, NtlmClient, ServerIdentity, ServerNonces};
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::{MachineAccount, NetworkLogon, SecureChannel};

use crate::discover::{self, DiscoverOptions, DomainController};
use crate::error::MemberError;
use crate::join::{JOIN_KEY, recorded, stored_password};

/// The joined state a secure channel needs, read from the registry.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The domain's DNS name.
    pub dns_domain: String,
    /// This member's FQDN (as joined; not the OS hostname).
    pub fqdn: String,
    /// The machine account (NetBIOS names and password).
    pub account: MachineAccount,
}

impl Membership {
    /// The names this member's servers announce (in an NTLM CHALLENGE_MESSAGE).
    pub fn server_identity(&self) -> ServerIdentity {
        ServerIdentity {
            netbios_domain: self.account.netbios_domain.clone(),
            netbios_computer: self.account.netbios_name.clone(),
            dns_domain: self.dns_domain.clone(),
            dns_computer: self.fqdn.clone(),
        }
    }
}

/// Reads the membership from the registry (root: the password is a secret).
pub fn membership(registry: &Registry) -> Result<Membership, MemberError> {
    let state = recorded(registry)?;
    let field = |value| state.required(value);
    Ok(Membership {
        dns_domain: field("DnsDomain")?,
        fqdn: field("Fqdn")?,
        account: MachineAccount {
            netbios_domain: field("NetbiosDomain")?,
            netbios_name: field("NetbiosName")?,
            password: stored_password(registry)?,
        },
    })
}

/// `HKEY_THIS_MACHINE\Join` `DnsServers`: the DNS servers an admin configured once for
/// every domain-join and adjoind lookup (empty when unset).
pub fn registry_dns_servers(registry: &Registry) -> Result<Vec<SocketAddr>, MemberError> {
    match registry.get_value(JOIN_KEY, "DnsServers")? {
        Value::MultiSz(ref list) => list
            .iter()
            .map(|s| {
                discover::parse_dns_server(s).map_err(|e| MemberError::DnsServers(e.to_string()))
            })
            .collect(),
        _ => Err(MemberError::DnsServers("is not a REG_MULTI_SZ".to_owned())),
    }
}

/// Finds a DC of the joined domain and prepares a secure channel to it
/// (established on first use).
pub async fn secure_channel(
    membership: &Membership,
    opts: &DiscoverOptions,
    timeout: Duration,
) -> Result<(SecureChannel, DomainController), MemberError> {
    let dc = discover::discover(&membership.dns_domain, opts)
        .await
        .map_err(|source| MemberError::Discover {
            domain: membership.dns_domain.clone(),
            source,
        })?;
    let channel = SecureChannel::new(
        dc.dc_address,
        &dc.dc_name,
        membership.account.clone(),
        timeout,
    );
    Ok((channel, dc))
}

/// The membership in `registry` and a secure channel to a DC of its domain (not yet
/// established: that happens on the first call), found with `dns_servers`, or the
/// registry's `Join\DnsServers` when none are given.
pub async fn open_channel(
    registry: &Registry,
    dns_servers: &[SocketAddr],
    timeout: Duration,
) -> Result<(Membership, SecureChannel, DomainController), MemberError> {
    let membership = membership(registry)?;
    let dns_servers = if dns_servers.is_empty() {
        registry_dns_servers(registry)?
    } else {
        dns_servers.to_vec()
    };
    let opts = DiscoverOptions {
        dns_servers,
        ..DiscoverOptions::default()
    };
    let (channel, dc) = secure_channel(&membership, &opts, timeout).await?;
    Ok((membership, channel, dc))
}

/// A user's NTLM logon as this member's SMB server sees one: the user's side (an NTLMSSP
/// client in SPNEGO) and the server's (the acceptor, with this member's names) run in
/// memory. The DC verifies [`NtlmLogon::network_logon`]; [`NtlmLogon::complete`] then
/// proves both sides reach the same session key from the key the DC returned.
#[derive(Debug)]
pub struct NtlmLogon {
    pending: SpnegoNtlmPending,
    finish: SpnegoNtlmFinish,
}

impl NtlmLogon {
    /// Runs the exchange up to the AUTHENTICATE_MESSAGE of `domain\user` with `password`.
    pub fn start(m: &Membership, domain: &str, user: &str, password: &str) -> Result<Self, String> {
        let random = |e: getrandom::Error| format!("the system random source failed: {e}");
        let (client, negotiate) = NtlmClient::new(user, domain, password, &m.account.netbios_name)
            .map_err(|e| e.to_string())?;
        let (initiator, init) = SpnegoNtlmInitiator::start(client, negotiate);
        let nonces = ServerNonces::fresh().map_err(random)?;
        let (acceptor, challenge) = SpnegoNtlmAcceptor::accept(&init, &m.server_identity(), nonces)
            .map_err(|e| e.to_string())?;
        let client_nonces = ClientNonces::fresh().map_err(random)?;
        let (finish, authenticate) = initiator
            .step(&challenge, &client_nonces)
            .map_err(|e| e.to_string())?;
        let pending = acceptor
            .authenticate(&authenticate)
            .map_err(|e| e.to_string())?;
        Ok(Self { pending, finish })
    }

    /// What the DC must verify (NetrLogonSamLogonEx's network logon).
    pub fn network_logon(&self) -> NetworkLogon {
        NetworkLogon::from_ntlm(self.pending.logon())
    }

    /// Finishes with the SessionBaseKey the DC returned: the client's MIC and both
    /// mechListMICs must verify, and a message signed by each side must verify on the other.
    pub fn complete(self, session_base_key: &[u8; 16]) -> Result<(), String> {
        let failed = |e: &dyn core::fmt::Display| {
            format!("the DC accepted the logon but the session key does not agree: {e}")
        };
        let (mut server, last) = self
            .pending
            .complete(session_base_key)
            .map_err(|e| failed(&e))?;
        let mut client = self.finish.finish(&last).map_err(|e| failed(&e))?;
        let probe = b"adjoin session key probe";
        server
            .verify(probe, &client.sign(probe))
            .and_then(|()| client.verify(probe, &server.sign(probe)))
            .map_err(|e| failed(&e))
    }
}
