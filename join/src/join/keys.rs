//! The machine's keys: checking them with the KDC, and writing them to the keytab.

use std::path::PathBuf;
use std::time::SystemTime;

use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret};
use adjoin_auth::principal::PrincipalName;

use super::{Step, StepResult, Undo, at};
use crate::machine;
use crate::names::MachineNames;

pub(super) async fn verify(
    target: &PrincipalName,
    entries: &[adjoin_auth::keytab::KeytabEntry],
    kdcs: &KdcConfig,
) -> StepResult<()> {
    let keys = entries
        .iter()
        .filter(|e| e.principal.matches(target))
        .map(|e| e.key.to_key())
        .collect::<Result<Vec<_>, _>>();
    let keys = at(Step::Verify, keys)?;
    let x = AsExchange::new(
        target.clone(),
        ClientSecret::Keys(keys),
        AsOptions::default(),
    );
    at(
        Step::Verify,
        kdc::initial_credentials(x, kdcs, &SystemTime::now).await,
    )?;
    Ok(())
}

/// Replaces this machine's entries in the keytab (other principals stay), atomically,
/// remembering the old file for the undo.
pub(super) fn write_keytab(
    path: &PathBuf,
    names: &MachineNames,
    realm: &str,
    entries: Vec<adjoin_auth::keytab::KeytabEntry>,
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
