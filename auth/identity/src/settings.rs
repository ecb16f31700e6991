//! The identity service's settings, read from the registry (`HKEY_THIS_MACHINE\Identity`,
//! documented with their defaults in the registry schema and docs/identity.md), and the
//! joined domain it serves.

use std::path::PathBuf;
use std::time::Duration;

use adjoin_ndr::Sid;
use adjoin_registry::{Registry, Value};
use zeroize::Zeroizing;

use crate::error::IdentityError;
use crate::idmap::{DomainRange, IdMap, IdMode};
use crate::names::DomainNames;

/// The registry key of the identity settings.
pub const IDENTITY_KEY: &str = r"HKEY_THIS_MACHINE\Identity";
/// Trusted domains: one subkey per NetBIOS name with `Sid`, `RangeBase`, `RangeSize` and
/// `DnsDomain` (which makes its users resolvable; adjoind records what it discovers).
pub const DOMAINS_KEY: &str = r"HKEY_THIS_MACHINE\Identity\Domains";

/// The joined domain and this member's account, as the join recorded them.
#[derive(Clone)]
pub struct Member {
    /// DNS domain (example.test).
    pub dns_domain: String,
    /// Kerberos realm (EXAMPLE.TEST).
    pub realm: String,
    /// NetBIOS domain (EXAMPLE).
    pub netbios_domain: String,
    /// This machine's NetBIOS name (the account is `NAME$`).
    pub netbios_name: String,
    /// This machine's FQDN as joined (its `host/` principal).
    pub fqdn: String,
    /// The domain's SID.
    pub domain_sid: Sid,
    /// The machine password (for the machine's own TGT).
    pub password: Zeroizing<String>,
    /// The keytab that holds `host/FQDN`, which proves the KDC genuine at each logon.
    pub keytab: Option<PathBuf>,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("dns_domain", &self.dns_domain)
            .field("realm", &self.realm)
            .field("netbios_domain", &self.netbios_domain)
            .field("netbios_name", &self.netbios_name)
            .field("fqdn", &self.fqdn)
            .field("domain_sid", &self.domain_sid)
            .field("password", &"<redacted>")
            .field("keytab", &self.keytab)
            .finish()
    }
}

impl Member {
    /// The domain's names, for parsing what people type.
    pub fn names(&self) -> DomainNames {
        DomainNames {
            netbios: self.netbios_domain.clone(),
            dns: self.dns_domain.clone(),
        }
    }
}

/// What the registry says about ids, caching and logons.
#[derive(Debug, Clone)]
pub struct Settings {
    /// RID or RFC 2307 ids.
    pub mode: IdMode,
    /// The joined domain's range base and size (RID mode).
    pub range_base: u32,
    /// The joined domain's range size.
    pub range_size: u32,
    /// Home directory template (`%u`, `%U`, `%d`).
    pub home_template: String,
    /// Login shell when the directory names none.
    pub shell: String,
    /// How long a cached entry stays fresh.
    pub cache_ttl: Duration,
    /// Offline logon with a cached verifier when no DC answers.
    pub offline_logon: bool,
    /// How long after the last online logon a verifier is still accepted (0: forever).
    pub offline_days: u32,
    /// Groups whose members may log on (empty: every domain user).
    pub allow_groups: Vec<String>,
    /// How long to wait for the DC before answering from the cache.
    pub dc_timeout: Duration,
    /// How long the service stays offline after the DC failed to answer.
    pub offline_retry: Duration,
    /// The SQLite cache.
    pub cache_path: PathBuf,
    /// The NSS fast cache file.
    pub nss_cache_path: PathBuf,
    /// How long the NSS module waits for the daemon.
    pub nss_timeout_ms: u32,
    /// Create a missing home directory at session open.
    pub create_home: bool,
    /// Trusted domains (`Identity\Domains\NAME`).
    pub trusted: Vec<TrustedDomain>,
}

/// A trusted domain as `Identity\Domains\NAME` configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedDomain {
    /// Its SID, NetBIOS name and id range.
    pub range: DomainRange,
    /// Its DNS name: without it, only its ids map (its users are not looked up).
    pub dns_domain: Option<String>,
}

impl Settings {
    /// Reads the settings (defaults from the registry schema for what is unset).
    pub fn from_registry(registry: &Registry) -> Result<Self, IdentityError> {
        let text = |name: &str| -> Result<String, IdentityError> {
            match registry.get_value(IDENTITY_KEY, name)? {
                Value::Sz(ref s) | Value::ExpandSz(ref s) => Ok(s.clone()),
                other => Err(bad(name, &other)),
            }
        };
        let number = |name: &str| -> Result<u32, IdentityError> {
            match registry.get_value(IDENTITY_KEY, name)? {
                Value::Dword(n) => Ok(n),
                other => Err(bad(name, &other)),
            }
        };
        let mode_text = text("IdMapping")?;
        let mode = IdMode::parse(&mode_text).ok_or_else(|| {
            IdentityError::Registry(format!(
                "{IDENTITY_KEY}\\IdMapping is {mode_text:?}: use rid or rfc2307"
            ))
        })?;
        let allow_groups = match registry.get_value(IDENTITY_KEY, "AllowGroups")? {
            Value::MultiSz(ref list) => list.clone(),
            other => return Err(bad("AllowGroups", &other)),
        };
        Ok(Self {
            mode,
            range_base: number("RangeBase")?,
            range_size: number("RangeSize")?,
            home_template: text("HomeDirTemplate")?,
            shell: text("LoginShell")?,
            cache_ttl: Duration::from_secs(number("CacheTimeoutSeconds")?.into()),
            offline_logon: number("OfflineLogon")? != 0,
            offline_days: number("OfflineLogonDays")?,
            allow_groups,
            dc_timeout: Duration::from_secs(number("DcTimeoutSeconds")?.into()),
            offline_retry: Duration::from_secs(number("OfflineRetrySeconds")?.into()),
            cache_path: PathBuf::from(text("CachePath")?),
            nss_cache_path: PathBuf::from(text("NssCachePath")?),
            nss_timeout_ms: number("NssTimeoutMilliseconds")?,
            create_home: number("CreateHomeDirectory")? != 0,
            trusted: trusted_ranges(registry)?,
        })
    }

    /// The id map: the joined domain's range first, then the trusted domains'.
    pub fn id_map(&self, member: &Member) -> Result<IdMap, IdentityError> {
        let mut ranges = vec![DomainRange {
            sid: member.domain_sid.clone(),
            name: member.netbios_domain.clone(),
            base: self.range_base,
            size: self.range_size,
        }];
        ranges.extend(self.trusted.iter().map(|t| t.range.clone()));
        IdMap::new(ranges).map_err(|e| IdentityError::Registry(e.to_string()))
    }
}

fn bad(name: &str, value: &Value) -> IdentityError {
    IdentityError::Registry(format!(
        "{IDENTITY_KEY}\\{name} has the wrong type ({:?})",
        value.value_type()
    ))
}

fn trusted_ranges(registry: &Registry) -> Result<Vec<TrustedDomain>, IdentityError> {
    if !registry.key_exists(DOMAINS_KEY)? {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for name in registry.subkeys(DOMAINS_KEY)? {
        let key = format!("{DOMAINS_KEY}\\{name}");
        let value = |v: &str| registry.stored_value(&key, v);
        let (Some(Value::Sz(ref sid)), Some(Value::Dword(base)), Some(Value::Dword(size))) =
            (value("Sid")?, value("RangeBase")?, value("RangeSize")?)
        else {
            return Err(IdentityError::Registry(format!(
                "{key} needs Sid (REG_SZ), RangeBase and RangeSize (REG_DWORD)"
            )));
        };
        let sid = sid
            .parse::<Sid>()
            .map_err(|e| IdentityError::Registry(format!("{key}\\Sid: {e}")))?;
        let dns_domain = match value("DnsDomain")? {
            Some(Value::Sz(ref d)) if !d.is_empty() => Some(d.to_ascii_lowercase()),
            None | Some(Value::Sz(_)) => None,
            Some(_) => {
                return Err(IdentityError::Registry(format!(
                    "{key}\\DnsDomain must be a REG_SZ"
                )));
            }
        };
        out.push(TrustedDomain {
            range: DomainRange {
                sid,
                name,
                base,
                size,
            },
            dns_domain,
        });
    }
    Ok(out)
}
