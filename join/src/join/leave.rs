//! Leaving the domain: the computer object deleted or disabled, the keytab entries and the
//! join state removed.

use std::net::SocketAddr;
use std::path::Path;

use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::ClientSecret;
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::Registry;
use rasn_ldap::ResultCode;
use zeroize::Zeroizing;

use super::account::{UF_ACCOUNTDISABLE, UF_WORKSTATION_TRUST_ACCOUNT};
use super::dc::{connect, find_dc, kdcs, logon, naming_context};
use super::dns::{clear_tombstoned_nodes, register, reverse_nodes};
use super::state::{Joined, STATE_VALUES, joined, stored_password};
use super::{JOIN_KEY, SECRET_KEY};
use crate::discover;
use crate::discover::DiscoverOptions;
use crate::error::MemberError;
use crate::machine;

/// How to leave.
#[derive(Debug)]
pub struct LeaveRequest {
    /// The admin's user name.
    pub admin: String,
    /// The admin's password.
    pub admin_password: Zeroizing<String>,
    /// Delete the computer object (else disable it).
    pub delete: bool,
    /// How to find the DC.
    pub discover: DiscoverOptions,
    /// Remove the FQDN's A/AAAA records from the domain's DNS first (as the machine).
    pub dns_update: bool,
}

/// Leaves the domain: deletes (or disables) the computer object, removes this machine's
/// keytab entries and clears the join state from the registry. Returns what was done.
pub async fn leave(
    req: &LeaveRequest,
    registry: &mut Registry,
) -> Result<Vec<String>, MemberError> {
    let j = joined(registry)?;
    let mut done = Vec::new();
    let dc = find_dc(&j, &req.discover).await?;
    let kdcs = kdcs(&dc);
    let admin = PrincipalName::parse_with_default_realm(&req.admin, &j.realm)?;
    let secret = ClientSecret::Password(req.admin_password.clone());
    let tgt = logon(admin, secret, &kdcs).await?;
    let mut conn = connect(&dc, &tgt, &kdcs).await?;
    if req.dns_update {
        let server = SocketAddr::new(dc.dc_address, 53);
        let had = discover::host_addresses(server, &j.names.fqdn)
            .await
            .unwrap_or_default();
        let reverse = reverse_nodes(server, &had).await;
        // As the machine, while its account still exists; a failure does not stop the leave.
        let removed = match stored_password(registry) {
            Ok(pw) => register(&j.domain, &j.names.fqdn, &j.account, &pw, &dc, &[]).await,
            Err(e) => Err(e),
        };
        done.push(match removed {
            Ok(r) => format!("removed the DNS records of {} ({})", r.fqdn, r.server),
            Err(e) => format!("DNS records of {} NOT removed ({e})", j.names.fqdn),
        });
        // The emptied nodes still name this account as owner: gone, a later machine of
        // the same name (or address) can register them.
        if let Some(base) = naming_context(&mut conn).await {
            clear_tombstoned_nodes(&mut conn, &base, &j.domain, &j.names.fqdn, &reverse).await;
        }
    }
    let dn = &j.account_dn;
    if req.delete {
        match conn.delete(dn).await {
            Ok(()) => done.push(format!("deleted {dn}")),
            Err(e) if e.code() == Some(ResultCode::NoSuchObject) => {
                done.push(format!("{dn} was already gone"));
            }
            Err(e) => return Err(MemberError::ldap("delete", dn, e)),
        }
    } else {
        let disabled = UF_WORKSTATION_TRUST_ACCOUNT | UF_ACCOUNTDISABLE;
        conn.replace(
            dn,
            &[(
                "userAccountControl",
                vec![disabled.to_string().into_bytes()],
            )],
        )
        .await
        .map_err(|e| MemberError::ldap("disable", dn, e))?;
        done.push(format!("disabled {dn}"));
    }
    if let Some(path) = &j.keytab {
        done.push(remove_keytab_entries(path, &j));
    }
    let tx = registry.transaction()?;
    for name in STATE_VALUES {
        let _ = tx.delete_value(JOIN_KEY, name);
    }
    for secret in ["Password", "PreviousPassword", super::rotate::PENDING] {
        let _ = tx.delete_value(SECRET_KEY, secret);
    }
    tx.commit()?;
    done.push("cleared the join state from the registry".to_owned());
    Ok(done)
}

fn remove_keytab_entries(path: &Path, j: &Joined) -> String {
    let Ok(mut keytab) = Keytab::load(path) else {
        return format!("keytab {} not found", path.display());
    };
    let removed: usize = machine::principals(&j.names, &j.realm)
        .iter()
        .map(|p| keytab.remove_principal(p))
        .sum();
    match keytab.save(path) {
        Ok(()) => format!("removed {removed} keytab entries from {}", path.display()),
        Err(e) => format!("could not rewrite {}: {e}", path.display()),
    }
}
