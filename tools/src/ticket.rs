//! A service ticket from the user's credential cache, for the tools that log on to a
//! server with Kerberos (`smbshell`, `adjoin-smbload`): the cached ticket when it is still
//! valid, else one from a KDC with the cache's TGT.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::SystemTime;

use adjoin_auth::ccache::{self, CredentialCache};
use adjoin_auth::krb::Credentials;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::principal::PrincipalName;
use adjoin_join::discover::{self, DiscoverOptions, KdcFinder};
use anyhow::Context;

/// A ticket for `spn` (e.g. `cifs/fs1.example.com`) from the credential cache `ccache`
/// (default: `KRB5CCNAME`, else MIT's default path): the cache's own if still valid, else
/// from the KDCs `kdcs` (names or addresses) or, when none is given, those DNS names for the
/// TGT's realm (asking `dns_servers` when given).
pub(crate) async fn service_ticket(
    ccache: Option<&Path>,
    spn: &str,
    kdcs: &[String],
    dns_servers: &[SocketAddr],
) -> anyhow::Result<Credentials> {
    let path = match ccache {
        Some(p) => p.to_owned(),
        None => ccache::default_path()?,
    };
    let cache = CredentialCache::load(&path)
        .with_context(|| format!("cannot read the credential cache {}", path.display()))?;
    let tgt = cache
        .tgt()
        .with_context(|| format!("{} holds no TGT: run kinit", path.display()))?;
    let realm = tgt.client.realm.clone();
    let spn = PrincipalName {
        name_type: PrincipalName::NT_SRV_INST,
        ..PrincipalName::parse_with_default_realm(spn, &realm)?
    };
    let now = SystemTime::now();
    if let Some(c) = cache.find(&spn) {
        let creds = Credentials::from_ccache(c)?;
        if creds.end_time > now {
            return Ok(creds);
        }
    }
    let tgt = Credentials::from_ccache(tgt)?;
    anyhow::ensure!(
        tgt.end_time > now,
        "the TGT in {} has expired: run kinit",
        path.display()
    );
    // A server in a trusted realm: the KDCs on the referral path are found through DNS.
    let finder = KdcFinder {
        home: kdc_config(&realm, kdcs, dns_servers).await?,
        home_realm: realm,
        options: DiscoverOptions {
            dns_servers: dns_servers.to_vec(),
            ..DiscoverOptions::default()
        },
    };
    kdc::service_ticket_via_referrals(tgt, spn.clone(), &finder, &SystemTime::now)
        .await
        .with_context(|| format!("a ticket for {spn}"))
}

async fn kdc_config(
    realm: &str,
    given: &[String],
    dns_servers: &[SocketAddr],
) -> anyhow::Result<KdcConfig> {
    let mut kdcs = Vec::new();
    for k in given {
        if let Ok(ip) = k.parse::<IpAddr>() {
            kdcs.push(SocketAddr::new(ip, 88));
        } else if let Ok(a) = k.parse::<SocketAddr>() {
            kdcs.push(a);
        } else {
            kdcs.extend(
                tokio::net::lookup_host((k.as_str(), 88))
                    .await
                    .with_context(|| format!("cannot resolve the KDC {k}"))?,
            );
        }
    }
    if kdcs.is_empty() {
        let opts = DiscoverOptions {
            dns_servers: dns_servers.to_vec(),
            ..DiscoverOptions::default()
        };
        kdcs = discover::kdcs(realm, &opts).await?;
    }
    Ok(KdcConfig::new(kdcs))
}
