//! Changing the machine password: over NETLOGON or kpasswd, the new keys verified, then
//! written beside the previous kvno's.

use std::net::SocketAddr;

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::KdcConfig;
use adjoin_auth::krb::kpasswd;
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::channel::SecureChannel;

use super::keys::verify;
use super::state::{joined, stored_password};
use super::{JOIN_KEY, SECRET_KEY};
use crate::discover::{self, DiscoverOptions};
use crate::machine;

/// How long `rotate` waits for each NETLOGON answer.
const NETLOGON_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

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
) -> Result<u32, String> {
    let j = joined(registry)?;
    let dc = discover::discover(&j.domain, opts)
        .await
        .map_err(|e| e.to_string())?;
    let kdcs = KdcConfig::new(vec![SocketAddr::new(dc.dc_address, 88)]);
    let new = machine::generate_password().map_err(|e| e.to_string())?;
    match method {
        RotateMethod::Netlogon => {
            let m = crate::member::membership(registry)?;
            let mut channel =
                SecureChannel::new(dc.dc_address, &dc.dc_name, m.account, NETLOGON_TIMEOUT);
            channel
                .set_password(&new)
                .await
                .map_err(|e| format!("NetrServerPasswordSet2 for {}: {e}", j.account))?;
        }
        RotateMethod::Kpasswd => {
            let old = stored_password(registry)?;
            let servers = kpasswd::kpasswd_servers(&kdcs);
            kpasswd::change_password(j.account.clone(), old, &new, &kdcs, &servers)
                .await
                .map_err(|e| format!("kpasswd change of {}: {e}", j.account))?;
        }
    }
    // AD raises the key version by one with every password change.
    let kvno = j.kvno + 1;
    let entries = machine::keytab_entries(&j.names, &j.realm, &new, kvno, enctypes)
        .map_err(|e| e.to_string())?;
    verify(&j.account, &entries, &kdcs).await.map_err(|(_, e)| {
        format!("the new password was set but its keys do not work ({e}); the registry still holds the old one: run rotate again")
    })?;
    if let Some(path) = &j.keytab {
        let mut kt = Keytab::load(path).unwrap_or_default();
        for p in machine::principals(&j.names, &j.realm) {
            kt.remove_kvnos_older_than(&p, j.kvno);
        }
        for e in entries {
            kt.add(e);
        }
        kt.save(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let tx = registry.transaction().map_err(|e| e.to_string())?;
    tx.set_value(JOIN_KEY, "KeyVersionNumber", &Value::Dword(kvno))
        .map_err(|e| e.to_string())?;
    tx.set_value(SECRET_KEY, "Password", &Value::Sz(new.to_string()))
        .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(kvno)
}
