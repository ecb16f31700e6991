//! Checking the join against AD: do the machine's password and keys still log on, and do
//! the keytab and the registry agree with the computer object (msDS-KeyVersionNumber,
//! dNSHostName, SPNs, encryption types, where the object lives)? Each difference is a
//! [`Drift`] that names its fix; [`super::repair`] makes the fixes the machine's own
//! credentials allow.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use adjoin_auth::crypto::Key;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::{ClientSecret, Credentials, KerberosError};
use adjoin_registry::{Registry, Value};
use rasn_ldap::SearchRequestScope;
use serde::Serialize;
use zeroize::Zeroizing;

use super::JOIN_KEY;
use super::dc::{connect, find_dc, kdcs, logon};
use super::dns::{addresses_to_register, list, records_differ};
use super::rotate::PENDING;
use super::state::{Joined, joined, stored_password, stored_secret};
use crate::discover::{DiscoverOptions, DomainController};
use crate::error::MemberError;
use crate::ldap::{self, Connection, Entry};
use crate::machine;

/// The computer object's attributes a check reads.
const ATTRIBUTES: &[&str] = &[
    "msDS-KeyVersionNumber",
    "dNSHostName",
    "servicePrincipalName",
    "msDS-SupportedEncryptionTypes",
];

/// How the machine's account in AD compares with what this machine holds.
#[derive(Debug, Clone, Serialize)]
pub struct JoinCheck {
    /// The machine account (`NAME$@REALM`).
    pub account: String,
    /// The DC asked.
    pub dc: String,
    /// AD's msDS-KeyVersionNumber, when the account could be read.
    pub ad_kvno: Option<u32>,
    /// The kvno the registry records.
    pub registry_kvno: u32,
    /// The newest kvno of the account's keys in the keytab (none: no keytab, or no keys).
    pub keytab_kvno: Option<u32>,
    /// What differs; empty when the join is sound.
    pub drift: Vec<Drift>,
}

impl JoinCheck {
    /// Whether nothing differs.
    pub fn is_sound(&self) -> bool {
        self.drift.is_empty()
    }
}

impl fmt::Display for JoinCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_sound() {
            return write!(
                f,
                "the machine account {} authenticates with its keys (kvno {}) and matches AD",
                self.account, self.registry_kvno
            );
        }
        write!(f, "the join of {} has drifted from AD:", self.account)?;
        for d in &self.drift {
            write!(f, "\n  - {d}; fix: {}", d.fix())?;
        }
        Ok(())
    }
}

/// One way the machine and its account in AD disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Drift {
    /// The KDC no longer takes the stored machine password: AD's password was changed or
    /// reset without this machine.
    PasswordRejected {
        /// The KDC's answer.
        detail: String,
    },
    /// A password change reached AD but was not recorded (an interrupted rotation): the
    /// password kept aside opens the account, the recorded one no longer does.
    UnrecordedPassword,
    /// The account is disabled, locked or gone.
    AccountUnusable {
        /// The KDC's answer.
        detail: String,
    },
    /// The keytab's newest keys do not log on, though the stored password does.
    KeytabKeysRejected {
        /// The KDC's answer.
        detail: String,
    },
    /// The keytab's newest kvno is not AD's: service tickets AD issues name a key version
    /// the keytab lacks.
    KeytabKvno {
        /// The keytab's newest kvno of the account (none: no keys).
        keytab: Option<u32>,
        /// AD's.
        ad: u32,
    },
    /// The registry's kvno is not AD's.
    RegistryKvno {
        /// The registry's.
        registry: u32,
        /// AD's.
        ad: u32,
    },
    /// The computer object is not where the registry says (moved to another OU).
    AccountMoved {
        /// The registry's `AccountDn`.
        registry: String,
        /// Where it is.
        ad: String,
    },
    /// dNSHostName is not the FQDN the registry records.
    DnsHostName {
        /// AD's value.
        ad: Option<String>,
        /// The registry's FQDN.
        expected: String,
    },
    /// SPNs this machine needs are missing from the account.
    MissingSpns {
        /// The missing SPNs.
        missing: Vec<String>,
    },
    /// The name's A/AAAA records in the domain's DNS are not the addresses to register.
    DnsRecords {
        /// What the DC's DNS holds.
        have: Vec<IpAddr>,
        /// What `domain-join dns-update` would register.
        want: Vec<IpAddr>,
    },
    /// The keytab holds keys of types the account does not list in
    /// msDS-SupportedEncryptionTypes, so the KDC will not use them.
    Enctypes {
        /// AD's msDS-SupportedEncryptionTypes.
        ad: u32,
        /// The bits the keytab's key types need.
        keytab: u32,
    },
}

impl Drift {
    /// Whether fixing it needs an administrator (the machine's own credentials cannot).
    pub fn needs_admin(&self) -> bool {
        matches!(
            self,
            Self::PasswordRejected { .. } | Self::AccountUnusable { .. }
        )
    }

    /// The command that fixes it.
    pub fn fix(&self) -> &'static str {
        match self {
            Self::PasswordRejected { .. } => {
                "an administrator resets the account: `domain-join join DOMAIN ADMIN --name FQDN \
                 --reuse-account`"
            }
            Self::AccountUnusable { .. } => {
                "an administrator enables the account (or joins again with --reuse-account)"
            }
            _ => "`domain-join repair` (with the machine's own credentials)",
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PasswordRejected { detail } => {
                write!(f, "the KDC refuses the stored machine password ({detail})")
            }
            Self::AccountUnusable { detail } => write!(f, "the account cannot log on ({detail})"),
            Self::UnrecordedPassword => write!(
                f,
                "an interrupted rotation set a new password in AD that the registry does not \
                 record (it is kept as PendingPassword and opens the account)"
            ),
            Self::KeytabKeysRejected { detail } => {
                write!(f, "the keytab's newest keys do not log on ({detail})")
            }
            Self::KeytabKvno {
                keytab: Some(k),
                ad,
            } => {
                write!(f, "the keytab's newest key version is {k}, AD's is {ad}")
            }
            Self::KeytabKvno { keytab: None, ad } => {
                write!(
                    f,
                    "the keytab has no keys of the account (AD's kvno is {ad})"
                )
            }
            Self::RegistryKvno { registry, ad } => {
                write!(f, "the registry records kvno {registry}, AD's is {ad}")
            }
            Self::AccountMoved { registry, ad } => {
                write!(f, "the account is {ad}, the registry says {registry}")
            }
            Self::DnsHostName { ad, expected } => write!(
                f,
                "dNSHostName is {}, this machine is {expected}",
                ad.as_deref().unwrap_or("unset")
            ),
            Self::MissingSpns { missing } => {
                write!(f, "the account lacks the SPNs {}", missing.join(", "))
            }
            Self::DnsRecords { have, want } => write!(
                f,
                "the name's DNS records are [{}], the addresses to register [{}]",
                list(have),
                list(want)
            ),
            Self::Enctypes { ad, keytab } => write!(
                f,
                "the keytab holds key types (0x{keytab:x}) the account does not list in \
                 msDS-SupportedEncryptionTypes (0x{ad:x})"
            ),
        }
    }
}

/// What a check learnt, kept for [`super::repair`].
pub(super) struct Inspection {
    pub(super) check: JoinCheck,
    pub(super) joined: Joined,
    pub(super) password: Zeroizing<String>,
    /// A sealed LDAP connection as the machine, when it could log on.
    pub(super) conn: Option<Connection>,
    /// The computer object as read, when it could.
    pub(super) entry: Option<Entry>,
}

/// Checks the join against AD (see [`JoinCheck`]): logs on as `NAME$` with the stored
/// password and with the keytab's newest keys, then reads the computer object as the
/// machine and compares it with the keytab and the registry.
pub async fn testjoin(
    registry: &Registry,
    opts: &DiscoverOptions,
) -> Result<JoinCheck, MemberError> {
    Ok(inspect(registry, opts).await?.check)
}

pub(super) async fn inspect(
    registry: &Registry,
    opts: &DiscoverOptions,
) -> Result<Inspection, MemberError> {
    let joined = joined(registry)?;
    let j = &joined;
    let dc = find_dc(j, opts).await?;
    let password = stored_password(registry)?;
    let keytab = match &j.keytab {
        Some(path) => Some(load(path)?),
        None => None,
    };
    let mut check = JoinCheck {
        account: j.account.to_string(),
        dc: dc.dc_name.clone(),
        ad_kvno: None,
        registry_kvno: j.kvno,
        keytab_kvno: keytab.as_ref().and_then(|kt| newest_kvno(kt, j)),
        drift: Vec::new(),
    };
    let (password, verdict) = password_in_force(registry, j, &dc, password).await?;
    if verdict.is_ok() && password.is_pending {
        check.drift.push(Drift::UnrecordedPassword);
    }
    let password = password.text;
    let (conn, entry) = match verdict {
        Err(drift) => {
            check.drift.push(drift);
            (None, None)
        }
        Ok(tgt) => {
            if let Some(kt) = &keytab {
                check_keytab_keys(kt, j, &dc, &mut check).await?;
            }
            let mut conn = connect(&dc, &tgt, &kdcs(&dc)).await?;
            let entry = own_entry(&mut conn, j).await?;
            compare(&entry, j, keytab.as_ref(), &mut check);
            check.drift.extend(dns_drift(registry, j, &dc).await?);
            (Some(conn), Some(entry))
        }
    };
    Ok(Inspection {
        check,
        joined,
        password,
        conn,
        entry,
    })
}

/// The password a check goes on with.
struct InForce {
    text: Zeroizing<String>,
    /// It is the one a rotation kept aside, not the recorded one.
    is_pending: bool,
}

/// Logs on with the stored password; when the KDC refuses it and a rotation kept a new
/// one aside (`PendingPassword`: the DC took it, the rest was not recorded), with that.
async fn password_in_force(
    registry: &Registry,
    j: &Joined,
    dc: &DomainController,
    stored: Zeroizing<String>,
) -> Result<(InForce, Result<Credentials, Drift>), MemberError> {
    let kdcs = kdcs(dc);
    let try_with = |password: &Zeroizing<String>| {
        logon(
            j.account.clone(),
            ClientSecret::Password(password.clone()),
            &kdcs,
        )
    };
    let verdict = refused(try_with(&stored).await)?;
    if let Err(Drift::PasswordRejected { .. }) = verdict
        && let Some(pending) = stored_secret(registry, PENDING)?
        && let Ok(tgt) = refused(try_with(&pending).await)?
    {
        let in_force = InForce {
            text: pending,
            is_pending: true,
        };
        return Ok((in_force, Ok(tgt)));
    }
    let in_force = InForce {
        text: stored,
        is_pending: false,
    };
    Ok((in_force, verdict))
}

/// A logon's verdict: the credentials, a refusal that is drift (wrong password, account
/// unusable), or an error that is not (no KDC, clock skew).
fn refused<T>(r: Result<T, MemberError>) -> Result<Result<T, Drift>, MemberError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(MemberError::Logon { principal, source }) => {
            let detail = source.to_string();
            match &*source {
                KerberosError::WrongPassword { .. } => Ok(Err(Drift::PasswordRejected { detail })),
                KerberosError::AccountUnusable { .. }
                | KerberosError::UnknownPrincipal { .. }
                | KerberosError::PasswordExpired { .. } => {
                    Ok(Err(Drift::AccountUnusable { detail }))
                }
                _ => Err(MemberError::Logon { principal, source }),
            }
        }
        Err(e) => Err(e),
    }
}

async fn check_keytab_keys(
    kt: &Keytab,
    j: &Joined,
    dc: &DomainController,
    check: &mut JoinCheck,
) -> Result<(), MemberError> {
    let keys = newest_keys(kt, j)?;
    if keys.is_empty() {
        return Ok(());
    }
    let verdict = logon(j.account.clone(), ClientSecret::Keys(keys), &kdcs(dc)).await;
    if let Err(drift) = refused(verdict)? {
        let detail = match drift {
            Drift::PasswordRejected { detail } | Drift::AccountUnusable { detail } => detail,
            other => other.to_string(),
        };
        check.drift.push(Drift::KeytabKeysRejected { detail });
    }
    Ok(())
}

/// The computer object, found by its sAMAccountName (it may have moved).
async fn own_entry(conn: &mut Connection, j: &Joined) -> Result<Entry, MemberError> {
    let root = conn
        .read_entry("", &["defaultNamingContext"])
        .await
        .map_err(|e| MemberError::ldap("read", "the rootDSE", e))?;
    let base = root
        .and_then(|e| e.text("defaultNamingContext"))
        .unwrap_or_default();
    let found = conn
        .search(
            &base,
            SearchRequestScope::WholeSubtree,
            ldap::eq("sAMAccountName", &j.names.sam_account_name),
            ATTRIBUTES,
        )
        .await
        .map_err(|e| MemberError::ldap("search", &base, e))?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| MemberError::DamagedState {
            value: "AccountDn",
            problem: format!(
                "names an account the machine cannot find in AD ({} under {base})",
                j.names.sam_account_name
            ),
        })
}

/// Compares the computer object with the keytab and the registry.
fn compare(entry: &Entry, j: &Joined, keytab: Option<&Keytab>, check: &mut JoinCheck) {
    let ad_kvno = entry
        .text("msDS-KeyVersionNumber")
        .and_then(|t| t.parse::<u32>().ok());
    check.ad_kvno = ad_kvno;
    if let Some(ad) = ad_kvno {
        if keytab.is_some() && check.keytab_kvno != Some(ad) {
            check.drift.push(Drift::KeytabKvno {
                keytab: check.keytab_kvno,
                ad,
            });
        }
        if j.kvno != ad {
            check.drift.push(Drift::RegistryKvno {
                registry: j.kvno,
                ad,
            });
        }
    }
    if !entry.dn.eq_ignore_ascii_case(&j.account_dn) {
        check.drift.push(Drift::AccountMoved {
            registry: j.account_dn.clone(),
            ad: entry.dn.clone(),
        });
    }
    let host = entry.text("dNSHostName");
    if !host
        .as_deref()
        .is_some_and(|h| h.eq_ignore_ascii_case(&j.names.fqdn))
    {
        check.drift.push(Drift::DnsHostName {
            ad: host,
            expected: j.names.fqdn.clone(),
        });
    }
    let missing = missing_spns(entry, j);
    if !missing.is_empty() {
        check.drift.push(Drift::MissingSpns { missing });
    }
    let ad_etypes = entry
        .text("msDS-SupportedEncryptionTypes")
        .and_then(|t| t.parse::<u32>().ok());
    if let (Some(ad), Some(kt)) = (ad_etypes, keytab) {
        let needed = keytab_enctype_bits(kt, j);
        if needed & !ad != 0 {
            check.drift.push(Drift::Enctypes { ad, keytab: needed });
        }
    }
}

/// How the name's records at the DC differ from what would be registered (nothing when
/// the member does not register its name: `Join\DnsRegistration` 0).
async fn dns_drift(
    registry: &Registry,
    j: &Joined,
    dc: &DomainController,
) -> Result<Option<Drift>, MemberError> {
    if let Some(Value::Dword(0)) = registry.stored_value(JOIN_KEY, "DnsRegistration")? {
        return Ok(None);
    }
    let want = addresses_to_register(registry, &[], dc)?;
    let differ = records_differ(j, dc, want).await?;
    Ok(differ.map(|(have, want)| Drift::DnsRecords { have, want }))
}

/// The SPNs this machine needs that the account lacks (SPNs compare case-insensitively).
pub(super) fn missing_spns(entry: &Entry, j: &Joined) -> Vec<String> {
    let have: Vec<String> = entry
        .values("servicePrincipalName")
        .iter()
        .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase())
        .collect();
    machine::spns(&j.names)
        .into_iter()
        .filter(|s| !have.contains(&s.to_ascii_lowercase()))
        .collect()
}

/// The msDS-SupportedEncryptionTypes bits of the key types the keytab holds for the
/// account.
fn keytab_enctype_bits(kt: &Keytab, j: &Joined) -> u32 {
    let etypes: Vec<_> = kt.entries_for(&j.account).map(|e| e.key.etype()).collect();
    machine::supported_enctypes(&etypes)
}

/// The keytab at `path`; none there yet is an empty one (a join that stopped before writing
/// it, or one removed by hand: `repair` writes it).
pub(super) fn load(path: &Path) -> Result<Keytab, MemberError> {
    if !path.exists() {
        return Ok(Keytab::new());
    }
    Keytab::load(path).map_err(|source| MemberError::Keytab {
        path: path.to_owned(),
        source,
    })
}

fn newest_kvno(kt: &Keytab, j: &Joined) -> Option<u32> {
    kt.entries_for(&j.account).map(|e| e.kvno).max()
}

/// The keytab's keys of the machine account at its newest kvno (none: no keys).
fn newest_keys(kt: &Keytab, j: &Joined) -> Result<Vec<Key>, MemberError> {
    let Some(newest) = newest_kvno(kt, j) else {
        return Ok(Vec::new());
    };
    Ok(kt
        .entries_for(&j.account)
        .filter(|e| e.kvno == newest)
        .map(|e| e.key.to_key())
        .collect::<Result<Vec<_>, _>>()?)
}
