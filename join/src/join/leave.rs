//! Leaving the domain: the computer object deleted or disabled, the keytab entries and the
//! join state removed.

use std::net::SocketAddr;
use std::time::SystemTime;

use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret};
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::Registry;
use rasn_ldap::ResultCode;
use zeroize::Zeroizing;

use super::account::{UF_ACCOUNTDISABLE, UF_WORKSTATION_TRUST_ACCOUNT, bind};
use super::state::{Joined, STATE_VALUES, joined};
use super::{JOIN_KEY, SECRET_KEY};
use crate::discover::{self, DiscoverOptions};
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
}

/// Leaves the domain: deletes (or disables) the computer object, removes this machine's
/// keytab entries and clears the join state from the registry. Returns what was done.
pub async fn leave(req: &LeaveRequest, registry: &mut Registry) -> Result<Vec<String>, String> {
    let j = joined(registry)?;
    let mut done = Vec::new();
    let dc = discover::discover(&j.domain, &req.discover)
        .await
        .map_err(|e| e.to_string())?;
    let kdcs = KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]);
    let admin =
        PrincipalName::parse_with_default_realm(&req.admin, &j.realm).map_err(|e| e.to_string())?;
    let secret = ClientSecret::Password(req.admin_password.clone());
    let x = AsExchange::new(admin, secret, AsOptions::default());
    let tgt = kdc::initial_credentials(x, &kdcs, &SystemTime::now)
        .await
        .map_err(|e| e.to_string())?;
    let mut conn = bind(&dc, &tgt, &kdcs).await.map_err(|(_, e)| e)?;
    let dn = &j.account_dn;
    if req.delete {
        match conn.delete(dn).await {
            Ok(()) => done.push(format!("deleted {dn}")),
            Err(e) if e.code() == Some(ResultCode::NoSuchObject) => {
                done.push(format!("{dn} was already gone"));
            }
            Err(e) => return Err(e.to_string()),
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
        .map_err(|e| e.to_string())?;
        done.push(format!("disabled {dn}"));
    }
    if let Some(path) = &j.keytab {
        done.push(remove_keytab_entries(path, &j));
    }
    let tx = registry.transaction().map_err(|e| e.to_string())?;
    for name in STATE_VALUES {
        let _ = tx.delete_value(JOIN_KEY, name);
    }
    let _ = tx.delete_value(SECRET_KEY, "Password");
    tx.commit().map_err(|e| e.to_string())?;
    done.push("cleared the join state from the registry".to_owned());
    Ok(done)
}

fn remove_keytab_entries(path: &std::path::Path, j: &Joined) -> String {
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
