//! Renaming the machine account (issue 12 item 4): a new NetBIOS name is a new
//! sAMAccountName, new short SPNs and new keytab principals — and new keys, because the
//! Kerberos salt of a computer account is made from its sAMAccountName (MS-KILE 3.1.1.2),
//! so the password is set again under the new name. All or nothing: a failure in AD puts
//! the old names and the old password back; nothing local changes until AD is done.

use adjoin_auth::keytab::{Keytab, KeytabEntry};
use adjoin_auth::krb::kdc::KdcConfig;
use adjoin_auth::krb::{ClientSecret, Credentials, kpasswd};
use adjoin_auth::principal::PrincipalName;
use adjoin_registry::{Registry, Value};
use rasn_ldap::SearchRequestScope;
use zeroize::Zeroizing;

use super::dc::{connect, find_dc, kdcs, logon, naming_context};
use super::dns::clear_before_registering;
use super::keys::{account_etypes, verify};
use super::rotate::{PENDING, keep_pending};
use super::state::{Joined, now};
use super::{JOIN_KEY, SECRET_KEY};
use crate::discover::DiscoverOptions;
use crate::error::MemberError;
use crate::ldap::{self, Connection};
use crate::machine;
use crate::names::MachineNames;

/// The AD side of a rename, for putting it back.
struct Names<'a> {
    sam: &'a str,
    fqdn: &'a str,
    spns: Vec<String>,
}

/// Renames the joined account to `new` (its NetBIOS name and FQDN) as `admin`; returns
/// what was done.
pub(super) async fn rename_account(
    registry: &mut Registry,
    j: &Joined,
    new: &MachineNames,
    admin: (&str, Zeroizing<String>),
    old_password: &Zeroizing<String>,
    opts: &DiscoverOptions,
) -> Result<Vec<String>, MemberError> {
    let dc = find_dc(j, opts).await?;
    let kdcs = kdcs(&dc);
    let admin_name = PrincipalName::parse_with_default_realm(admin.0, &j.realm)?;
    let tgt = logon(admin_name, ClientSecret::Password(admin.1), &kdcs).await?;
    let mut conn = connect(&dc, &tgt, &kdcs).await?;
    refuse_taken(&mut conn, &new.sam_account_name).await?;
    let old = Names {
        sam: &j.names.sam_account_name,
        fqdn: &j.names.fqdn,
        spns: machine::spns(&j.names),
    };
    let renamed = Names {
        sam: &new.sam_account_name,
        fqdn: &new.fqdn,
        spns: machine::spns(new),
    };
    let dn = &j.account_dn;
    set_names(&mut conn, dn, &renamed).await?;
    let target = PrincipalName::new(
        PrincipalName::NT_PRINCIPAL,
        [new.sam_account_name.as_str()],
        j.realm.as_str(),
    );
    let password = machine::generate_password()?;
    keep_pending(registry, &password)?;
    let keyed = rekey(&mut conn, &tgt, &kdcs, &target, &password, new, j).await;
    let (kvno, entries) = match keyed {
        Ok(k) => k,
        Err((e, password_changed)) => {
            put_back(
                &mut conn,
                dn,
                &old,
                &tgt,
                &kdcs,
                j,
                old_password,
                password_changed,
            )
            .await;
            return Err(e);
        }
    };
    let mut done = vec![format!(
        "{dn}: sAMAccountName {} -> {}, dNSHostName and SPNs renamed, new keys (kvno {kvno})",
        old.sam, renamed.sam
    )];
    clear_before_registering(&mut conn, registry, &dc, &new.fqdn).await;
    let new_dn = match conn.rename(dn, &format!("CN={}", new.netbios)).await {
        Ok(new_dn) => {
            done.push(format!("the object is now {new_dn}"));
            new_dn
        }
        Err(e) => {
            done.push(format!("the object keeps its name {dn} ({e})"));
            dn.clone()
        }
    };
    if let Some(path) = &j.keytab {
        write_keytab(path, j, entries)?;
        done.push(format!("keytab {} now holds {}", path.display(), target));
    }
    let tx = registry.transaction()?;
    for (name, value) in [
        ("NetbiosName", Value::Sz(new.netbios.clone())),
        ("MachineName", Value::Sz(new.host.clone())),
        ("Fqdn", Value::Sz(new.fqdn.clone())),
        ("AccountDn", Value::Sz(new_dn)),
        ("KeyVersionNumber", Value::Dword(kvno)),
        ("PasswordLastSet", Value::Qword(now())),
    ] {
        tx.set_value(JOIN_KEY, name, &value)?;
    }
    tx.set_value(SECRET_KEY, "Password", &Value::Sz(password.to_string()))?;
    tx.set_value(
        SECRET_KEY,
        "PreviousPassword",
        &Value::Sz(old_password.to_string()),
    )?;
    let _ = tx.delete_value(SECRET_KEY, PENDING);
    tx.commit()?;
    done.push("registry updated".to_owned());
    Ok(done)
}

/// Refuses a sAMAccountName another account holds.
async fn refuse_taken(conn: &mut Connection, sam: &str) -> Result<(), MemberError> {
    let base = naming_context(conn).await.unwrap_or_default();
    let found = conn
        .search(
            &base,
            SearchRequestScope::WholeSubtree,
            ldap::eq("sAMAccountName", sam),
            &["distinguishedName"],
        )
        .await
        .map_err(|e| MemberError::ldap("search", &base, e))?;
    match found.first() {
        Some(other) => Err(MemberError::NameTaken {
            name: sam.to_owned(),
            dn: other.dn.clone(),
        }),
        None => Ok(()),
    }
}

async fn set_names(conn: &mut Connection, dn: &str, n: &Names<'_>) -> Result<(), MemberError> {
    let spns = n.spns.iter().map(|s| s.as_bytes().to_vec()).collect();
    conn.replace(
        dn,
        &[
            ("sAMAccountName", vec![n.sam.as_bytes().to_vec()]),
            ("dNSHostName", vec![n.fqdn.as_bytes().to_vec()]),
            ("servicePrincipalName", spns),
        ],
    )
    .await
    .map_err(|e| MemberError::ldap("rename", dn, e))
}

/// Sets `password` on the renamed account (as the admin), reads the kvno, and checks the
/// keys with the KDC. The error says whether the password had changed.
async fn rekey(
    conn: &mut Connection,
    tgt: &Credentials,
    kdcs: &KdcConfig,
    target: &PrincipalName,
    password: &str,
    new: &MachineNames,
    j: &Joined,
) -> Result<(u32, Vec<KeytabEntry>), (MemberError, bool)> {
    let servers = kpasswd::kpasswd_servers(kdcs);
    kpasswd::set_password(tgt, target, password, kdcs, &servers)
        .await
        .map_err(|e| {
            let e = MemberError::Kpasswd {
                account: target.to_string(),
                source: Box::new(e),
            };
            (e, false)
        })?;
    let changed = |e: MemberError| (e, true);
    let entry = conn
        .read_entry(&j.account_dn, &["msDS-KeyVersionNumber"])
        .await
        .map_err(|e| changed(MemberError::ldap("read", &j.account_dn, e)))?;
    let kvno = entry
        .and_then(|e| e.text("msDS-KeyVersionNumber"))
        .and_then(|t| t.parse::<u32>().ok())
        .ok_or_else(|| {
            changed(MemberError::DamagedState {
                value: "AccountDn",
                problem: format!("names {} whose kvno cannot be read", j.account_dn),
            })
        })?;
    let held = j
        .keytab
        .as_ref()
        .and_then(|p| Keytab::load(p).ok())
        .unwrap_or_default();
    let etypes = account_etypes(&held, &j.account);
    let entries = machine::keytab_entries(new, &j.realm, password, kvno, &etypes)
        .map_err(|e| changed(e.into()))?;
    verify(target, &entries, kdcs).await.map_err(changed)?;
    Ok((kvno, entries))
}

/// Puts the old names back and, when it had been changed, the old password (so the old
/// keys, salted with the old name, work again). Best effort: what fails is logged.
#[allow(clippy::too_many_arguments)]
async fn put_back(
    conn: &mut Connection,
    dn: &str,
    old: &Names<'_>,
    tgt: &Credentials,
    kdcs: &KdcConfig,
    j: &Joined,
    old_password: &str,
    password_changed: bool,
) {
    if let Err(e) = set_names(conn, dn, old).await {
        tracing::error!(error = %e, "the rename failed and its names could not be put back: fix {dn} by hand");
    }
    if password_changed {
        let servers = kpasswd::kpasswd_servers(kdcs);
        if let Err(e) = kpasswd::set_password(tgt, &j.account, old_password, kdcs, &servers).await {
            tracing::error!(error = %e, "the old password could not be set again: join with --reuse-account");
        }
    }
}

/// Replaces the old names' principals with the new ones (other principals stay).
fn write_keytab(
    path: &std::path::Path,
    j: &Joined,
    entries: Vec<KeytabEntry>,
) -> Result<(), MemberError> {
    let mut kt = Keytab::load(path).unwrap_or_default();
    for p in machine::principals(&j.names, &j.realm) {
        kt.remove_principal(&p);
    }
    for e in entries {
        kt.add(e);
    }
    kt.save(path).map_err(|source| MemberError::Keytab {
        path: path.to_owned(),
        source,
    })
}
