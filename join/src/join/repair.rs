//! Repairing drift with the machine's own credentials: the computer object's names and key
//! types (validated writes AD lets an account make on itself), the keytab at AD's key
//! version (keys from the stored password, which the KDC has just accepted), and the
//! registry's kvno and account DN. What needs an administrator is left and said.

use adjoin_registry::{Registry, Value};
use serde::Serialize;

use super::dc::find_dc;
use super::dns::register;
use super::keys::account_etypes;
use super::rotate::PENDING;
use super::state::{Joined, now, stored_password};
use super::testjoin::{Drift, Inspection, JoinCheck, inspect, load};
use super::{JOIN_KEY, SECRET_KEY};
use crate::discover::DiscoverOptions;
use crate::error::MemberError;
use crate::ldap::Entry;
use crate::machine;

/// What [`repair`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Repair {
    /// The check before.
    pub before: JoinCheck,
    /// Each fix made.
    pub fixed: Vec<String>,
    /// Each fix AD refused, and why.
    pub refused: Vec<String>,
    /// The check after.
    pub after: JoinCheck,
}

/// Checks the join ([`super::testjoin`]) and fixes what the machine's own credentials can:
/// dNSHostName, missing SPNs and msDS-SupportedEncryptionTypes on the computer object; the
/// keytab's keys at AD's kvno; the registry's kvno and account DN. Then checks again.
pub async fn repair(
    registry: &mut Registry,
    opts: &DiscoverOptions,
) -> Result<Repair, MemberError> {
    let Inspection {
        check,
        joined: j,
        password,
        conn,
        entry,
    } = inspect(registry, opts).await?;
    let mut fixed = Vec::new();
    let mut refused = Vec::new();
    if let (Some(mut conn), Some(entry)) = (conn, entry) {
        for (attribute, values) in object_fixes(&check.drift, &entry, &j) {
            match conn.replace(&entry.dn, &[(attribute, values)]).await {
                Ok(()) => fixed.push(format!("{}: {attribute} set", entry.dn)),
                Err(e) => refused.push(format!(
                    "{}: AD refused to let the machine set {attribute} ({e}); an administrator \
                     can (`domain-join setname` with --user)",
                    entry.dn
                )),
            }
        }
        drop(conn);
        if let Some(ad_kvno) = check.ad_kvno {
            fix_keytab(&check.drift, &j, &password, ad_kvno, &mut fixed)?;
        }
        fix_registry(registry, &check.drift, &password, &mut fixed)?;
        for d in &check.drift {
            if let Drift::DnsRecords { want, .. } = d {
                let dc = find_dc(&j, opts).await?;
                match register(&j.domain, &j.names.fqdn, &j.account, &password, &dc, want).await {
                    Ok(r) => fixed.push(format!("DNS: {} registered ({})", r.fqdn, r.server)),
                    Err(e) => refused.push(format!("DNS: {e}")),
                }
            }
        }
    }
    let after = inspect(registry, opts).await?.check;
    Ok(Repair {
        before: check,
        fixed,
        refused,
        after,
    })
}

/// The attribute values that mend the object's drift.
fn object_fixes(drift: &[Drift], entry: &Entry, j: &Joined) -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let mut fixes = Vec::new();
    for d in drift {
        match d {
            Drift::DnsHostName { .. } => {
                fixes.push(("dNSHostName", vec![j.names.fqdn.as_bytes().to_vec()]));
            }
            Drift::MissingSpns { missing } => {
                // Replace with what is there plus what is missing: SPNs others added
                // (HTTP/, nfs/) stay.
                let mut all = entry.values("servicePrincipalName").to_vec();
                all.extend(missing.iter().map(|s| s.as_bytes().to_vec()));
                fixes.push(("servicePrincipalName", all));
            }
            Drift::Enctypes { ad, keytab } => {
                let bits = (ad | keytab).to_string().into_bytes();
                fixes.push(("msDS-SupportedEncryptionTypes", vec![bits]));
            }
            _ => {}
        }
    }
    fixes
}

/// Writes the account's keys at AD's kvno (from the stored password the KDC accepted) when
/// the keytab is behind or its keys are wrong; other kvnos and principals stay.
fn fix_keytab(
    drift: &[Drift],
    j: &Joined,
    password: &str,
    ad_kvno: u32,
    fixed: &mut Vec<String>,
) -> Result<(), MemberError> {
    let stale = drift.iter().any(|d| {
        matches!(
            d,
            Drift::KeytabKvno { .. } | Drift::KeytabKeysRejected { .. }
        )
    });
    let Some(path) = j.keytab.as_ref().filter(|_| stale) else {
        return Ok(());
    };
    let mut kt = load(path)?;
    let etypes = account_etypes(&kt, &j.account);
    for e in machine::keytab_entries(&j.names, &j.realm, password, ad_kvno, &etypes)? {
        kt.add(e);
    }
    kt.save(path).map_err(|source| MemberError::Keytab {
        path: path.clone(),
        source,
    })?;
    fixed.push(format!(
        "keytab {}: the account's keys at kvno {ad_kvno} written",
        path.display()
    ));
    Ok(())
}

/// Records AD's kvno, the account's DN and an unrecorded password (the one in force
/// becomes `Password`, the recorded one `PreviousPassword`), in one transaction.
fn fix_registry(
    registry: &mut Registry,
    drift: &[Drift],
    in_force: &str,
    fixed: &mut Vec<String>,
) -> Result<(), MemberError> {
    let mut values = Vec::new();
    for d in drift {
        match d {
            Drift::RegistryKvno { ad, .. } => {
                values.push((JOIN_KEY, "KeyVersionNumber", Value::Dword(*ad)))
            }
            Drift::AccountMoved { ad, .. } => {
                values.push((JOIN_KEY, "AccountDn", Value::Sz(ad.clone())))
            }
            Drift::UnrecordedPassword => {
                let recorded = stored_password(registry)?;
                values.push((SECRET_KEY, "Password", Value::Sz(in_force.to_owned())));
                values.push((
                    SECRET_KEY,
                    "PreviousPassword",
                    Value::Sz(recorded.to_string()),
                ));
                values.push((JOIN_KEY, "PasswordLastSet", Value::Qword(now())));
            }
            _ => {}
        }
    }
    if values.is_empty() {
        return Ok(());
    }
    let tx = registry.transaction()?;
    for (key, name, value) in &values {
        tx.set_value(key, name, value)?;
    }
    if drift.contains(&Drift::UnrecordedPassword) {
        tx.delete_value(SECRET_KEY, PENDING)?;
    }
    tx.commit()?;
    fixed.extend(
        values
            .iter()
            .filter(|(key, ..)| *key == JOIN_KEY)
            .map(|(_, name, _)| format!("registry: Join\\{name} set from AD")),
    );
    if drift.contains(&Drift::UnrecordedPassword) {
        fixed.push("registry: the password in force recorded as the machine password".to_owned());
    }
    Ok(())
}
