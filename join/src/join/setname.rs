//! Renaming the machine: the FQDN in AD, the keytab and the registry.

use std::net::SocketAddr;
use std::time::SystemTime;

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret};
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::{Registry, Value};
use zeroize::Zeroizing;

use super::JOIN_KEY;
use super::account::bind;
use super::state::{joined, stored_password};
use crate::discover::{self, DiscoverOptions};
use crate::machine;
use crate::names::MachineNames;

/// Changes the machine's FQDN. Not joined: only the registry changes. Joined: the computer
/// object's dNSHostName and FQDN SPNs change in AD (as `admin` if given, else as the
/// machine itself, which AD allows only within its validated-write rules), the keytab gets
/// the new FQDN principals (same keys: the salt depends on the account name, not the FQDN)
/// and loses the old ones, and the registry records the new name. The NetBIOS name, and so
/// the account, stays.
pub async fn setname(
    registry: &mut Registry,
    fqdn: &str,
    admin: Option<(&str, Zeroizing<String>)>,
    opts: &DiscoverOptions,
) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    let Ok(j) = joined(registry) else {
        let names = MachineNames::new(fqdn, None).map_err(|e| e.to_string())?;
        let tx = registry.transaction().map_err(|e| e.to_string())?;
        tx.set_value(JOIN_KEY, "Fqdn", &Value::Sz(names.fqdn.clone()))
            .map_err(|e| e.to_string())?;
        tx.set_value(JOIN_KEY, "MachineName", &Value::Sz(names.host.clone()))
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        done.push(format!("not joined: the stored name is now {}", names.fqdn));
        return Ok(done);
    };
    let new = MachineNames::new(fqdn, Some(&j.names.netbios)).map_err(|e| e.to_string())?;
    let dc = discover::discover(&j.domain, opts)
        .await
        .map_err(|e| e.to_string())?;
    let kdcs = KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]);
    let password = stored_password(registry)?;
    let secret = match &admin {
        Some((_, pw)) => ClientSecret::Password(pw.clone()),
        None => ClientSecret::Password(password.clone()),
    };
    let client = match &admin {
        Some((user, _)) => {
            PrincipalName::parse_with_default_realm(user, &j.realm).map_err(|e| e.to_string())?
        }
        None => j.account.clone(),
    };
    let x = AsExchange::new(client, secret, AsOptions::default());
    let tgt = kdc::initial_credentials(x, &kdcs, &SystemTime::now)
        .await
        .map_err(|e| e.to_string())?;
    let mut conn = bind(&dc, &tgt, &kdcs).await.map_err(|(_, e)| e)?;
    let spns: Vec<Vec<u8>> = machine::spns(&new)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    conn.replace(
        &j.account_dn,
        &[
            ("dNSHostName", vec![new.fqdn.clone().into_bytes()]),
            ("servicePrincipalName", spns),
        ],
    )
    .await
    .map_err(|e| {
        format!("AD refused the new name ({e}); give --user with an administrator to change it")
    })?;
    done.push(format!(
        "{}: dNSHostName and SPNs now name {}",
        j.account_dn, new.fqdn
    ));
    if let Some(path) = &j.keytab {
        let etypes = Keytab::load(path)
            .map(|kt| {
                let mut v: Vec<EncryptionType> = kt
                    .entries
                    .iter()
                    .filter(|e| e.principal.matches(&j.account))
                    .map(|e| e.key.etype())
                    .collect();
                v.dedup();
                v
            })
            .unwrap_or_default();
        let mut kt = Keytab::load(path).unwrap_or_default();
        for p in machine::principals(&j.names, &j.realm) {
            if !p.matches(&j.account) {
                kt.remove_principal(&p);
            }
        }
        let entries = machine::keytab_entries(&new, &j.realm, &password, j.kvno, &etypes)
            .map_err(|e| e.to_string())?;
        for e in entries {
            kt.add(e);
        }
        kt.save(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        done.push(format!(
            "keytab {} now holds the {} principals",
            path.display(),
            new.fqdn
        ));
    }
    let tx = registry.transaction().map_err(|e| e.to_string())?;
    tx.set_value(JOIN_KEY, "Fqdn", &Value::Sz(new.fqdn.clone()))
        .map_err(|e| e.to_string())?;
    tx.set_value(JOIN_KEY, "MachineName", &Value::Sz(new.host.clone()))
        .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    done.push("registry updated".to_owned());
    Ok(done)
}
