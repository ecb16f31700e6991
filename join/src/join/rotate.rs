//! Changing the machine password: the new one kept aside in the registry first, then told
//! to the DC (over NETLOGON or kpasswd), its keys verified, written to the keytab beside the
//! previous kvno's, and recorded — so a failure at any step leaves a password that opens
//! the account: the old one (the DC did not take the new), or the kept one, which
//! `repair` adopts.

use std::time::Duration;

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kpasswd;
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::SecureChannel;
use adjoin_rpc::netlogon::pool::LogonPool;

use super::dc::{find_dc, kdcs};
use super::keys::verify;
use super::state::{joined, now, stored_password};
use super::{JOIN_KEY, SECRET_KEY};
use crate::discover::DiscoverOptions;
use crate::error::MemberError;
use crate::machine;

/// How long `rotate` waits for each NETLOGON answer.
const NETLOGON_TIMEOUT: Duration = Duration::from_secs(10);

/// The registry value a new password waits in until the rotation is recorded.
pub(super) const PENDING: &str = "PendingPassword";

/// How `rotate` tells the domain the new machine password.
#[derive(Debug, Clone, Copy)]
pub enum RotateMethod<'a> {
    /// NetrServerPasswordSet2 over a NETLOGON secure channel of its own (what Windows
    /// members do).
    Netlogon,
    /// NetrServerPasswordSet2 over this pool's secure channel (adjoind's), which then
    /// re-establishes with the new password.
    Pool(&'a LogonPool),
    /// A Kerberos kpasswd change with the machine's own credentials.
    Kpasswd,
}

/// Changes the machine password (over NETLOGON or kpasswd, as `method` says), adds the
/// new keys to the keytab beside the previous kvno's (older ones are dropped), verifies
/// them, and records the new password, the previous one, the kvno and the time. Returns
/// the new kvno.
pub async fn rotate(
    registry: &mut Registry,
    opts: &DiscoverOptions,
    enctypes: &[EncryptionType],
    method: RotateMethod<'_>,
) -> Result<u32, MemberError> {
    let j = joined(registry)?;
    let dc = find_dc(&j, opts).await?;
    let kdcs = kdcs(&dc);
    let account = j.account.to_string();
    let old = stored_password(registry)?;
    let new = machine::generate_password()?;
    // Kept before the DC hears of it: if the DC takes it and anything after fails (a lost
    // reply, a full disk, a crash), the machine still holds a password that opens the
    // account. A refused change leaves it unused; the next rotation replaces it.
    keep_pending(registry, &new)?;
    match method {
        RotateMethod::Netlogon => {
            let m = crate::member::membership(registry)?;
            let mut channel =
                SecureChannel::new(dc.dc_address, &dc.dc_name, m.account, NETLOGON_TIMEOUT);
            channel.set_password(&new).await
        }
        RotateMethod::Pool(pool) => pool.set_password(&new).await,
        RotateMethod::Kpasswd => {
            let servers = kpasswd::kpasswd_servers(&kdcs);
            kpasswd::change_password(j.account.clone(), old.clone(), &new, &kdcs, &servers)
                .await
                .map_err(|e| MemberError::Kpasswd {
                    account: account.clone(),
                    source: Box::new(e),
                })?;
            Ok(())
        }
    }
    .map_err(|e| MemberError::Netlogon {
        account: account.clone(),
        source: Box::new(e),
    })?;
    // AD raises the key version by one with every password change.
    let kvno = j.kvno + 1;
    let entries = machine::keytab_entries(&j.names, &j.realm, &new, kvno, enctypes)?;
    verify(&j.account, &entries, &kdcs)
        .await
        .map_err(|e| e.when_logon(|_, source| MemberError::NewKeysRejected { account, source }))?;
    if let Some(path) = &j.keytab {
        let mut kt = Keytab::load(path).unwrap_or_default();
        for p in machine::principals(&j.names, &j.realm) {
            kt.remove_kvnos_older_than(&p, j.kvno);
        }
        for e in entries {
            kt.add(e);
        }
        kt.save(path).map_err(|source| MemberError::Keytab {
            path: path.clone(),
            source,
        })?;
    }
    let tx = registry.transaction()?;
    tx.set_value(JOIN_KEY, "KeyVersionNumber", &Value::Dword(kvno))?;
    tx.set_value(JOIN_KEY, "PasswordLastSet", &Value::Qword(now()))?;
    tx.set_value(SECRET_KEY, "Password", &Value::Sz(new.to_string()))?;
    tx.set_value(SECRET_KEY, "PreviousPassword", &Value::Sz(old.to_string()))?;
    tx.delete_value(SECRET_KEY, PENDING)?;
    tx.commit()?;
    Ok(kvno)
}

/// Records `new` as the pending password, in a transaction of its own (committed before
/// the DC hears of it; no transaction is held across the calls that follow).
pub(super) fn keep_pending(registry: &mut Registry, new: &str) -> Result<(), MemberError> {
    let tx = registry.transaction()?;
    tx.set_value(SECRET_KEY, PENDING, &Value::Sz(new.to_owned()))?;
    tx.commit()?;
    Ok(())
}
