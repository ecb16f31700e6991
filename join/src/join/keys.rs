//! The machine's keys: checking them with the KDC, and writing them to the keytab.

use std::path::PathBuf;

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::{Keytab, KeytabEntry};
use adjoin_auth::krb::ClientSecret;
use adjoin_auth::krb::kdc::KdcConfig;
use adjoin_auth::principal::PrincipalName;

use super::dc::logon;
use super::{Step, StepResult, Undo, at};
use crate::error::MemberError;
use crate::machine;
use crate::names::MachineNames;

/// An AS exchange as `target` with its keys among `entries`: do they log on?
pub(super) async fn verify(
    target: &PrincipalName,
    entries: &[KeytabEntry],
    kdcs: &KdcConfig,
) -> Result<(), MemberError> {
    let keys = entries
        .iter()
        .filter(|e| e.principal.matches(target))
        .map(|e| e.key.to_key())
        .collect::<Result<Vec<_>, _>>()?;
    logon(target.clone(), ClientSecret::Keys(keys), kdcs).await?;
    Ok(())
}

/// The key types `keytab` holds for `account`, strongest first as found; AES256 and
/// AES128 (the join's default) when it holds none.
pub(super) fn account_etypes(kt: &Keytab, account: &PrincipalName) -> Vec<EncryptionType> {
    let mut etypes = Vec::new();
    for e in kt.entries_for(account) {
        if !etypes.contains(&e.key.etype()) {
            etypes.push(e.key.etype());
        }
    }
    if etypes.is_empty() {
        etypes = vec![
            EncryptionType::AES256_CTS_HMAC_SHA1_96,
            EncryptionType::AES128_CTS_HMAC_SHA1_96,
        ];
    }
    etypes
}

/// Replaces this machine's entries in the keytab (other principals stay), atomically,
/// remembering the old file for the undo.
pub(super) fn write_keytab(
    path: &PathBuf,
    names: &MachineNames,
    realm: &str,
    entries: Vec<KeytabEntry>,
    undo: &mut Undo,
) -> StepResult<()> {
    let old = std::fs::read(path).ok();
    let mut keytab = match &old {
        Some(bytes) => at(Step::WriteKeytab, Keytab::parse(bytes))?,
        None => Keytab::new(),
    };
    for p in machine::principals(names, realm) {
        keytab.remove_principal(&p);
    }
    for e in entries {
        keytab.add(e);
    }
    at(Step::WriteKeytab, keytab.save(path))?;
    undo.keytab = Some((path.clone(), old));
    Ok(())
}
