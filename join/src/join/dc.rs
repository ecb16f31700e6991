//! Reaching the domain for the member operations: a DC found by discovery, a logon with
//! its KDC, and a sealed LDAP connection to it.

use std::net::SocketAddr;
use std::time::SystemTime;

use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::principal::PrincipalName;

use super::state::Joined;
use crate::discover::{self, DiscoverOptions, DomainController};
use crate::error::MemberError;
use crate::ldap::Connection;

/// A DC of the joined domain: the one the member last used (`Join\DomainControllerAddress`)
/// when it answers a ping — a DC keeps its members, as Windows' DC affinity does, and is
/// found even while DNS is down — else one found as `opts` says, the recorded site
/// (`Join\Site`) first. `opts.servers` given by the admin take precedence over both.
pub(super) async fn find_dc(
    j: &Joined,
    opts: &DiscoverOptions,
) -> Result<DomainController, MemberError> {
    if opts.servers.is_empty()
        && let Some(address) = j.dc_address
    {
        let recorded = DiscoverOptions {
            servers: vec![address.to_string()],
            ..opts.clone()
        };
        match discover::discover(&j.domain, &recorded).await {
            Ok(dc) => return Ok(dc),
            Err(e) => {
                tracing::info!(%address, error = %e, "the recorded DC does not answer; discovering another")
            }
        }
    }
    let mut opts = opts.clone();
    if opts.site.is_none() {
        opts.site.clone_from(&j.site);
    }
    discover::discover(&j.domain, &opts)
        .await
        .map_err(|source| MemberError::Discover {
            domain: j.domain.clone(),
            source,
        })
}

/// The KDC of `dc`.
pub(super) fn kdcs(dc: &DomainController) -> KdcConfig {
    KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)])
}

/// A TGT for `client` (an AS exchange with `secret`).
pub(super) async fn logon(
    client: PrincipalName,
    secret: ClientSecret,
    kdcs: &KdcConfig,
) -> Result<Credentials, MemberError> {
    let who = client.to_string();
    let x = AsExchange::new(client, secret, AsOptions::default());
    kdc::initial_credentials(x, kdcs, &SystemTime::now)
        .await
        .map_err(|e| MemberError::logon(who, e))
}

/// A sealed SASL GSSAPI LDAP connection to `dc`, with a ticket for `ldap/<dc>` got with
/// `tgt`.
pub(super) async fn connect(
    dc: &DomainController,
    tgt: &Credentials,
    kdcs: &KdcConfig,
) -> Result<Connection, MemberError> {
    let spn = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["ldap", dc.dc_name.as_str()],
        tgt.client.realm.as_str(),
    );
    let service = spn.to_string();
    let ticket = kdc::service_ticket(tgt.clone(), spn, kdcs, &SystemTime::now)
        .await
        .map_err(|e| MemberError::ServiceTicket {
            service,
            source: Box::new(e),
        })?;
    Connection::bind(SocketAddr::new(dc.dc_address, 389), ticket)
        .await
        .map_err(|e| MemberError::LdapBind {
            dc: dc.dc_name.clone(),
            source: Box::new(e),
        })
}

/// The domain's naming context (rootDSE defaultNamingContext).
pub(super) async fn naming_context(conn: &mut Connection) -> Option<String> {
    conn.read_entry("", &["defaultNamingContext"])
        .await
        .ok()
        .flatten()
        .and_then(|e| e.text("defaultNamingContext"))
}
