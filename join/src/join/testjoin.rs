//! Checking the join: do the machine's keys still log on?

use std::time::SystemTime;

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc;
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret};
use adjoin_registry::Registry;

use super::state::{joined, kdcs_for, stored_password};
use crate::discover::DiscoverOptions;
use crate::machine;

/// Checks that the machine's keys still work: an AS exchange as `NAME$` with the keytab's
/// newest keys (or, without a keytab, with keys from the stored password). Returns the kvno.
pub async fn testjoin(registry: &Registry, opts: &DiscoverOptions) -> Result<String, String> {
    let j = joined(registry)?;
    let kdcs = kdcs_for(&j.domain, opts).await?;
    let keys = match &j.keytab {
        Some(path) => {
            let kt = Keytab::load(path)
                .map_err(|e| format!("cannot read the keytab {}: {e}", path.display()))?;
            let newest = kt
                .entries
                .iter()
                .filter(|e| e.principal.matches(&j.account))
                .map(|e| e.kvno)
                .max();
            let newest =
                newest.ok_or(format!("{} has no keys for {}", path.display(), j.account))?;
            kt.entries
                .iter()
                .filter(|e| e.principal.matches(&j.account) && e.kvno == newest)
                .map(|e| e.key.to_key())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?
        }
        None => {
            let pw = stored_password(registry)?;
            let entries = machine::keytab_entries(
                &j.names,
                &j.realm,
                &pw,
                j.kvno,
                &[EncryptionType::AES256_CTS_HMAC_SHA1_96],
            )
            .map_err(|e| e.to_string())?;
            entries
                .iter()
                .take(1)
                .map(|e| e.key.to_key())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?
        }
    };
    let x = AsExchange::new(
        j.account.clone(),
        ClientSecret::Keys(keys),
        AsOptions::default(),
    );
    kdc::initial_credentials(x, &kdcs, &SystemTime::now)
        .await
        .map_err(|e| format!("the machine keys of {} do not work: {e}", j.account))?;
    Ok(format!(
        "the machine account {} authenticates with its keys (kvno {})",
        j.account, j.kvno
    ))
}
