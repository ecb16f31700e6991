//! Renaming the machine: the FQDN in AD, the keytab and the registry.

use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::ClientSecret;
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::{Registry, Value};
use zeroize::Zeroizing;

use super::JOIN_KEY;
use super::dc::{connect, find_dc, kdcs, logon};
use super::dns::{clear_before_registering, follow_rename};
use super::keys::account_etypes;
use super::rename::rename_account;
use super::state::{joined, stored_password};
use crate::discover::DiscoverOptions;
use crate::error::MemberError;
use crate::machine;
use crate::names::MachineNames;

/// Changes the machine's FQDN. Not joined: only the registry changes. Joined: the computer
/// object's dNSHostName and FQDN SPNs change in AD (as `admin` if given, else as the
/// machine itself, which AD allows only within its validated-write rules), the keytab gets
/// the new FQDN principals (same keys: the salt depends on the account name, not the FQDN)
/// and loses the old ones, and the registry records the new name. With a new `netbios`
/// name the account is renamed too (as `admin`, which it needs; see `rename.rs`).
pub async fn setname(
    registry: &mut Registry,
    fqdn: &str,
    netbios: Option<&str>,
    admin: Option<(&str, Zeroizing<String>)>,
    opts: &DiscoverOptions,
) -> Result<Vec<String>, MemberError> {
    let mut done = Vec::new();
    let j = match joined(registry) {
        Ok(j) => j,
        Err(MemberError::NotJoined) => {
            let names = MachineNames::new(fqdn, netbios)?;
            done.extend(names.warning().map(|w| format!("warning: {w}")));
            let tx = registry.transaction()?;
            tx.set_value(JOIN_KEY, "Fqdn", &Value::Sz(names.fqdn.clone()))?;
            tx.set_value(JOIN_KEY, "MachineName", &Value::Sz(names.host.clone()))?;
            if netbios.is_some() {
                tx.set_value(JOIN_KEY, "NetbiosName", &Value::Sz(names.netbios.clone()))?;
            }
            tx.commit()?;
            done.push(format!("not joined: the stored name is now {}", names.fqdn));
            return Ok(done);
        }
        Err(e) => return Err(e),
    };
    let password = stored_password(registry)?;
    if let Some(nb) = netbios.filter(|nb| !nb.eq_ignore_ascii_case(&j.names.netbios)) {
        let new = MachineNames::new(fqdn, Some(nb))?;
        done.extend(new.warning().map(|w| format!("warning: {w}")));
        let admin = admin.ok_or(MemberError::RenameNeedsAdmin)?;
        done.extend(rename_account(registry, &j, &new, admin, &password, opts).await?);
        if !new.fqdn.eq_ignore_ascii_case(&j.names.fqdn) {
            done.push(follow_rename(registry, opts, &j.names.fqdn).await);
        }
        return Ok(done);
    }
    let new = MachineNames::new(fqdn, Some(&j.names.netbios))?;
    let dc = find_dc(&j, opts).await?;
    let kdcs = kdcs(&dc);
    let (client, secret) = match &admin {
        Some((user, pw)) => (
            PrincipalName::parse_with_default_realm(user, &j.realm)?,
            ClientSecret::Password(pw.clone()),
        ),
        None => (j.account.clone(), ClientSecret::Password(password.clone())),
    };
    let tgt = logon(client, secret, &kdcs).await?;
    let mut conn = connect(&dc, &tgt, &kdcs).await?;
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
    .map_err(|e| MemberError::RenameRefused {
        dn: j.account_dn.clone(),
        source: Box::new(e),
    })?;
    done.push(format!(
        "{}: dNSHostName and SPNs now name {}",
        j.account_dn, new.fqdn
    ));
    clear_before_registering(&mut conn, registry, &dc, &new.fqdn).await;
    if let Some(path) = &j.keytab {
        let mut kt = Keytab::load(path).unwrap_or_default();
        let etypes = account_etypes(&kt, &j.account);
        for p in machine::principals(&j.names, &j.realm) {
            if !p.matches(&j.account) {
                kt.remove_principal(&p);
            }
        }
        for e in machine::keytab_entries(&new, &j.realm, &password, j.kvno, &etypes)? {
            kt.add(e);
        }
        kt.save(path).map_err(|source| MemberError::Keytab {
            path: path.clone(),
            source,
        })?;
        done.push(format!(
            "keytab {} now holds the {} principals",
            path.display(),
            new.fqdn
        ));
    }
    let tx = registry.transaction()?;
    tx.set_value(JOIN_KEY, "Fqdn", &Value::Sz(new.fqdn.clone()))?;
    tx.set_value(JOIN_KEY, "MachineName", &Value::Sz(new.host.clone()))?;
    tx.commit()?;
    done.push("registry updated".to_owned());
    if !new.fqdn.eq_ignore_ascii_case(&j.names.fqdn) {
        done.push(follow_rename(registry, opts, &j.names.fqdn).await);
    }
    Ok(done)
}
