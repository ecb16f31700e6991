//! Changing the machine password: over NETLOGON or kpasswd, the new keys verified, then
//! written beside the previous kvno's.

use std::time::Duration;

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kpasswd;
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::SecureChannel;

use super::dc::{find_dc, kdcs};
use super::keys::verify;
use super::state::{joined, stored_password};
use super::{JOIN_KEY, SECRET_KEY};
use crate::discover::DiscoverOptions;
use crate::error::MemberError;
use crate::machine;

/// How long `rotate` waits for each NETLOGON answer.
const NETLOGON_TIMEOUT: Duration = Duration::from_secs(10);

/// How `rotate` tells the domain the new machine password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateMethod {
    /// NetrServerPasswordSet2 over the NETLOGON secure channel (what Windows members do).
    Netlogon,
    /// A Kerberos kpasswd change with the machine's own credentials.
    Kpasswd,
}

/// Changes the machine password (over NETLOGON or kpasswd, as `method` says), adds the
/// new keys to the keytab beside the previous kvno's (older ones are dropped), verifies
/// them, and records the new password and kvno. Returns the new kvno.
pub async fn rotate(
    registry: &mut Registry,
    opts: &DiscoverOptions,
    enctypes: &[EncryptionType],
    method: RotateMethod,
) -> Result<u32, MemberError> {
    let j = joined(registry)?;
    let dc = find_dc(&j.domain, opts).await?;
    let kdcs = kdcs(&dc);
    let account = j.account.to_string();
    let new = machine::generate_password()?;
    match method {
        RotateMethod::Netlogon => {
            let m = crate::member::membership(registry)?;
            let mut channel =
                SecureChannel::new(dc.dc_address, &dc.dc_name, m.account, NETLOGON_TIMEOUT);
            channel
                .set_password(&new)
                .await
                .map_err(|e| MemberError::Netlogon {
                    account: account.clone(),
                    source: Box::new(e),
                })?;
        }
        RotateMethod::Kpasswd => {
            let old = stored_password(registry)?;
            let servers = kpasswd::kpasswd_servers(&kdcs);
            kpasswd::change_password(j.account.clone(), old, &new, &kdcs, &servers)
                .await
                .map_err(|e| MemberError::Kpasswd {
                    account: account.clone(),
                    source: Box::new(e),
                })?;
        }
    }
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
    tx.set_value(SECRET_KEY, "Password", &Value::Sz(new.to_string()))?;
    tx.commit()?;
    Ok(kvno)
}
