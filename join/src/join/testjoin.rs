//! Checking the join: do the machine's keys still log on?

use std::path::Path;

use adjoin_auth::crypto::{EncryptionType, Key};
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::ClientSecret;
use adjoin_registry::Registry;

use super::dc::{find_dc, kdcs, logon};
use super::state::{Joined, joined, stored_password};
use crate::discover::DiscoverOptions;
use crate::error::MemberError;
use crate::machine;

/// Checks that the machine's keys still work: an AS exchange as `NAME$` with the keytab's
/// newest keys (or, without a keytab, with keys from the stored password). Returns the kvno.
pub async fn testjoin(registry: &Registry, opts: &DiscoverOptions) -> Result<String, MemberError> {
    let j = joined(registry)?;
    let dc = find_dc(&j.domain, opts).await?;
    let keys = match &j.keytab {
        Some(path) => newest_keys(path, &j)?,
        None => {
            let pw = stored_password(registry)?;
            let entries = machine::keytab_entries(
                &j.names,
                &j.realm,
                &pw,
                j.kvno,
                &[EncryptionType::AES256_CTS_HMAC_SHA1_96],
            )?;
            entries
                .iter()
                .take(1)
                .map(|e| e.key.to_key())
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    logon(j.account.clone(), ClientSecret::Keys(keys), &kdcs(&dc))
        .await
        .map_err(|e| {
            e.when_logon(|account, source| MemberError::KeysRejected { account, source })
        })?;
    Ok(format!(
        "the machine account {} authenticates with its keys (kvno {})",
        j.account, j.kvno
    ))
}

/// The keytab's keys of the machine account at its newest kvno.
fn newest_keys(path: &Path, j: &Joined) -> Result<Vec<Key>, MemberError> {
    let kt = Keytab::load(path).map_err(|source| MemberError::Keytab {
        path: path.to_owned(),
        source,
    })?;
    let mine = || {
        kt.entries
            .iter()
            .filter(|e| e.principal.matches(&j.account))
    };
    let newest = mine()
        .map(|e| e.kvno)
        .max()
        .ok_or_else(|| MemberError::NoKeys {
            path: path.to_owned(),
            account: j.account.to_string(),
        })?;
    Ok(mine()
        .filter(|e| e.kvno == newest)
        .map(|e| e.key.to_key())
        .collect::<Result<Vec<_>, _>>()?)
}
