//! The join as the registry records it: written in one transaction at the end of a join,
//! read back by query, leave, testjoin, rotate and setname.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use adjoin_auth::principal::PrincipalName;
use adjoin_registry::{Registry, Value};
use serde::Serialize;
use zeroize::Zeroizing;

use super::{JOIN_KEY, JoinRequest, JoinResult, SECRET_KEY};
use crate::discover::DomainController;
use crate::error::MemberError;
use crate::names::MachineNames;

pub(super) fn save(
    registry: &mut Registry,
    req: &JoinRequest,
    dc: &DomainController,
    r: &JoinResult,
    password: &str,
) -> Result<(), adjoin_registry::Error> {
    let now = now();
    let sz = |s: &str| Value::Sz(s.to_owned());
    let names = &req.names;
    let tx = registry.transaction()?;
    let values = [
        ("MachineName", sz(&names.host)),
        ("Fqdn", sz(&names.fqdn)),
        ("NetbiosName", sz(&names.netbios)),
        ("DnsDomain", sz(&dc.dns_domain)),
        ("NetbiosDomain", sz(&dc.netbios_domain)),
        ("Realm", sz(&r.realm)),
        ("DomainSid", sz(&r.domain_sid)),
        ("DomainController", sz(&r.dc)),
        ("DomainControllerAddress", sz(&dc.dc_address.to_string())),
        ("Site", sz(&r.site)),
        ("AccountDn", sz(&r.account_dn)),
        ("KeyVersionNumber", Value::Dword(r.kvno)),
        ("JoinTime", Value::Qword(now)),
        ("PasswordLastSet", Value::Qword(now)),
        (
            "Keytab",
            sz(&r
                .keytab
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()),
        ),
    ];
    for (name, value) in &values {
        tx.set_value(JOIN_KEY, name, value)?;
    }
    // The DNS servers the join reached the domain through, when named (--dns-server):
    // leave, testjoin, rotate and adjoind find the domain the same way without being told
    // again. Configuration, as if the admin had set it: `leave` keeps it.
    tx.set_value(
        JOIN_KEY,
        "DnsRegistration",
        &Value::Dword(u32::from(req.dns_update)),
    )?;
    if !req.addresses.is_empty() {
        let list = req.addresses.iter().map(ToString::to_string).collect();
        tx.set_value(JOIN_KEY, "Addresses", &Value::MultiSz(list))?;
    }
    if !req.discover.dns_servers.is_empty() {
        let servers = req
            .discover
            .dns_servers
            .iter()
            .map(ToString::to_string)
            .collect();
        tx.set_value(JOIN_KEY, "DnsServers", &Value::MultiSz(servers))?;
    }
    tx.set_value(SECRET_KEY, "Password", &Value::Sz(password.to_owned()))?;
    tx.commit()
}

/// Seconds since the epoch, as the registry records times.
pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The join state values [`join`](super::join()) writes under [`JOIN_KEY`] (configuration such as
/// `DnsServers` lives there too and is left alone by [`leave`](super::leave())).
pub const STATE_VALUES: &[&str] = &[
    "MachineName",
    "Fqdn",
    "NetbiosName",
    "DnsDomain",
    "NetbiosDomain",
    "Realm",
    "DomainSid",
    "DomainController",
    "DomainControllerAddress",
    "Site",
    "AccountDn",
    "KeyVersionNumber",
    "JoinTime",
    "PasswordLastSet",
    "Keytab",
];

/// The join as the registry records it.
#[derive(Debug, Clone, Serialize)]
pub struct JoinState {
    /// Each recorded value, as text.
    pub values: Vec<(String, String)>,
}

impl JoinState {
    /// The recorded value `value`; its absence is a damaged join record.
    pub(crate) fn required(&self, value: &'static str) -> Result<String, MemberError> {
        self.get(value)
            .map(str::to_owned)
            .ok_or(MemberError::DamagedState {
                value,
                problem: "is missing".into(),
            })
    }

    /// The recorded value `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the join state; `None` when this machine is not joined.
pub fn query(registry: &Registry) -> Result<Option<JoinState>, adjoin_registry::Error> {
    let mut values = Vec::new();
    for name in STATE_VALUES {
        match registry.stored_value(JOIN_KEY, name)? {
            Some(Value::Sz(ref s)) => values.push(((*name).to_owned(), s.clone())),
            Some(Value::Dword(d)) => values.push(((*name).to_owned(), d.to_string())),
            Some(Value::Qword(q)) => values.push(((*name).to_owned(), q.to_string())),
            Some(other) => values.push(((*name).to_owned(), format!("{other:?}"))),
            None => {}
        }
    }
    Ok((!values.is_empty()).then_some(JoinState { values }))
}

/// What leave, testjoin, rotate and setname need from the recorded join.
pub(super) struct Joined {
    pub(super) names: MachineNames,
    pub(super) realm: String,
    pub(super) domain: String,
    pub(super) kvno: u32,
    pub(super) keytab: Option<PathBuf>,
    pub(super) account: PrincipalName,
    pub(super) account_dn: String,
    /// The DC last used (`DomainControllerAddress`), tried first.
    pub(super) dc_address: Option<IpAddr>,
    /// The member's site (`Site`), looked in first.
    pub(super) site: Option<String>,
}

/// The join state, or [`MemberError::NotJoined`].
pub(crate) fn recorded(registry: &Registry) -> Result<JoinState, MemberError> {
    query(registry)?.ok_or(MemberError::NotJoined)
}

pub(super) fn joined(registry: &Registry) -> Result<Joined, MemberError> {
    let state = recorded(registry)?;
    let field = |value| state.required(value);
    let names = MachineNames::from_stored(
        &field("Fqdn")?,
        &field("MachineName")?,
        &field("NetbiosName")?,
    );
    let realm = field("Realm")?;
    let account = PrincipalName::new(
        PrincipalName::NT_PRINCIPAL,
        [names.sam_account_name.as_str()],
        realm.as_str(),
    );
    let kvno = field("KeyVersionNumber")?;
    Ok(Joined {
        kvno: kvno.parse().map_err(|_| MemberError::DamagedState {
            value: "KeyVersionNumber",
            problem: format!("is not a number ({kvno})"),
        })?,
        domain: field("DnsDomain")?,
        account_dn: field("AccountDn")?,
        keytab: state
            .get("Keytab")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        dc_address: state
            .get("DomainControllerAddress")
            .and_then(|a| a.parse().ok()),
        site: state
            .get("Site")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        names,
        realm,
        account,
    })
}

pub(crate) fn stored_password(registry: &Registry) -> Result<Zeroizing<String>, MemberError> {
    stored_secret(registry, "Password")?.ok_or(MemberError::NoMachinePassword)
}

/// A secret under `Secrets\MachineAccount`, if set.
pub(super) fn stored_secret(
    registry: &Registry,
    name: &str,
) -> Result<Option<Zeroizing<String>>, MemberError> {
    Ok(registry
        .stored_value(SECRET_KEY, name)?
        .filter(|v| matches!(v, Value::Sz(_)))
        .and_then(Value::into_string)
        .map(Zeroizing::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path().join("registry.db")).unwrap();
        (dir, reg)
    }

    #[test]
    fn an_empty_registry_is_not_joined_and_says_how_to_join() {
        let (_dir, reg) = registry();
        let e = joined(&reg).err().expect("not joined");
        assert!(matches!(e, MemberError::NotJoined), "{e:?}");
        assert!(e.to_string().contains("domain-join --name"), "{e}");
    }

    #[test]
    fn a_damaged_join_record_names_the_value() {
        let (_dir, mut reg) = registry();
        let tx = reg.transaction().unwrap();
        for (name, value) in [
            ("Fqdn", "m1.example.test"),
            ("MachineName", "m1"),
            ("NetbiosName", "M1"),
            ("DnsDomain", "example.test"),
            ("AccountDn", "CN=M1,CN=Computers,DC=example,DC=test"),
        ] {
            tx.set_value(JOIN_KEY, name, &Value::Sz(value.into()))
                .unwrap();
        }
        tx.set_value(JOIN_KEY, "KeyVersionNumber", &Value::Dword(2))
            .unwrap();
        tx.commit().unwrap();
        let e = joined(&reg).err().expect("damaged");
        assert!(
            matches!(e, MemberError::DamagedState { value: "Realm", .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("Join\\Realm is missing"), "{e}");
        assert!(matches!(
            stored_password(&reg),
            Err(MemberError::NoMachinePassword)
        ));
    }
}
