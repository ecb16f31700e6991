//! The schema: every setting Adjoin knows, with its type, default, range and documentation.
//!
//! To add a setting, add one entry to [`SETTINGS`]. A `get` of a known setting that is not
//! stored returns its default; a `set` is checked against its type and constraint. Values
//! the schema does not list are stored without checks.

use crate::error::{Error, Result};
use crate::value::{Value, ValueType};

/// One known setting.
#[derive(Debug)]
pub struct Setting {
    /// Full key path, for example `HKEY_THIS_MACHINE\Kerberos`.
    pub key: &'static str,
    /// Value name.
    pub name: &'static str,
    /// The only type the value may have.
    pub value_type: ValueType,
    /// What `get` returns when the value is not stored.
    pub default: SettingDefault,
    /// The values allowed.
    pub constraint: Constraint,
    /// One or two sentences for `regshell schema` and docs/registry.md.
    pub doc: &'static str,
}

/// A setting's default.
#[derive(Debug, Clone, Copy)]
pub enum SettingDefault {
    /// No default: an unset value is reported as not found.
    None,
    /// A string default (`REG_SZ` or `REG_EXPAND_SZ`).
    Str(&'static str),
    /// A number default (`REG_DWORD` or `REG_QWORD`).
    Number(u64),
    /// A `REG_MULTI_SZ` default.
    Multi(&'static [&'static str]),
}

/// What values a setting accepts beyond its type.
#[derive(Debug, Clone, Copy)]
pub enum Constraint {
    /// Anything of the right type.
    Any,
    /// A number in `min..=max`.
    Range {
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// One of these strings (compared case-insensitively).
    OneOf(&'static [&'static str]),
}

const JOIN: &str = r"HKEY_THIS_MACHINE\Join";
const KERBEROS: &str = r"HKEY_THIS_MACHINE\Kerberos";
const ADJOIND: &str = r"HKEY_THIS_MACHINE\Services\adjoind";
const IDENTITY: &str = r"HKEY_THIS_MACHINE\Identity";
const SMB: &str = r"HKEY_THIS_MACHINE\Smb";
const MACHINE_SECRETS: &str = r"HKEY_THIS_MACHINE\Secrets\MachineAccount";

/// Shorthand for a table row.
const fn setting(
    key: &'static str,
    name: &'static str,
    value_type: ValueType,
    default: SettingDefault,
    constraint: Constraint,
    doc: &'static str,
) -> Setting {
    Setting {
        key,
        name,
        value_type,
        default,
        constraint,
        doc,
    }
}

/// A DWORD flag: 0 or 1.
const FLAG: Constraint = Constraint::Range { min: 0, max: 1 };
/// Any string, no default: identity written by `domain-join`.
const fn join_str(name: &'static str, doc: &'static str) -> Setting {
    setting(
        JOIN,
        name,
        ValueType::Sz,
        SettingDefault::None,
        Constraint::Any,
        doc,
    )
}

/// Every known setting.
pub static SETTINGS: &[Setting] = &[
    join_str(
        "MachineName",
        "Computer name chosen at join (sAMAccountName without the $); independent of the OS hostname.",
    ),
    join_str(
        "Fqdn",
        "Fully qualified DNS name of this machine, for example host1.corp.example.com.",
    ),
    join_str(
        "NetbiosName",
        "NetBIOS name of this machine (at most 15 characters, upper case).",
    ),
    join_str(
        "Domain",
        "DNS name of the joined domain, for example corp.example.com.",
    ),
    join_str(
        "DomainNetbiosName",
        "NetBIOS name of the joined domain, for example CORP.",
    ),
    join_str(
        "Realm",
        "Kerberos realm of the joined domain (upper case DNS domain name).",
    ),
    join_str(
        "DomainSid",
        "SID of the joined domain, for example S-1-5-21-1-2-3.",
    ),
    join_str(
        "ComputerDn",
        "Distinguished name of the computer account in the directory.",
    ),
    join_str(
        "DomainController",
        "DNS name of the domain controller last used.",
    ),
    join_str(
        "DomainControllerAddress",
        "Address of the domain controller last used; member operations try it first.",
    ),
    join_str(
        "Site",
        "Active Directory site of this machine, from the CLDAP netlogon ping.",
    ),
    setting(
        JOIN,
        "DnsServers",
        ValueType::MultiSz,
        SettingDefault::Multi(&[]),
        Constraint::Any,
        "DNS servers (address or address:port) used to find domain controllers; empty means the system resolver.",
    ),
    setting(
        JOIN,
        "DnsRegistration",
        ValueType::Dword,
        SettingDefault::Number(1),
        Constraint::Range { min: 0, max: 1 },
        "1: adjoind keeps this machine's FQDN registered in the domain's DNS (join --no-dns-update sets 0).",
    ),
    setting(
        JOIN,
        "DnsRefreshSeconds",
        ValueType::Dword,
        SettingDefault::Number(3600),
        Constraint::Range {
            min: 0,
            max: 604800,
        },
        "How often adjoind checks the FQDN's DNS records and registers them again when they differ; 0 never.",
    ),
    setting(
        JOIN,
        "Addresses",
        ValueType::MultiSz,
        SettingDefault::Multi(&[]),
        Constraint::Any,
        "Addresses registered in DNS for this machine's FQDN (join --address); empty means the host's own address towards the DC.",
    ),
    setting(
        JOIN,
        "KeyVersionNumber",
        ValueType::Dword,
        SettingDefault::None,
        Constraint::Any,
        "Kerberos key version number (kvno) of the machine account's current keys.",
    ),
    setting(
        JOIN,
        "PasswordLastSet",
        ValueType::Qword,
        SettingDefault::None,
        Constraint::Any,
        "When the machine password was last set, in seconds since 1970-01-01 UTC.",
    ),
    setting(
        JOIN,
        "PasswordRotationDays",
        ValueType::Dword,
        SettingDefault::Number(30),
        Constraint::Range { min: 0, max: 999 },
        "Days between automatic machine password changes; 0 disables rotation.",
    ),
    setting(
        JOIN,
        "PasswordRotationSeconds",
        ValueType::Dword,
        SettingDefault::Number(0),
        Constraint::Any,
        "Seconds between automatic machine password changes; when not 0, overrides PasswordRotationDays (short-lived hosts, tests).",
    ),
    setting(
        KERBEROS,
        "ClockSkewSeconds",
        ValueType::Dword,
        SettingDefault::Number(300),
        Constraint::Range { min: 0, max: 3600 },
        "Largest clock difference with the KDC or a client accepted, in seconds.",
    ),
    setting(
        KERBEROS,
        "KeytabPath",
        ValueType::Sz,
        SettingDefault::Str("/etc/krb5.keytab"),
        Constraint::Any,
        "Keytab file written at join and read by the daemon.",
    ),
    setting(
        KERBEROS,
        "Enctypes",
        ValueType::MultiSz,
        SettingDefault::Multi(&["aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"]),
        Constraint::Any,
        "Encryption types requested and accepted, strongest first.",
    ),
    setting(
        ADJOIND,
        "LogLevel",
        ValueType::Sz,
        SettingDefault::Str("info"),
        Constraint::OneOf(&["error", "warn", "info", "debug", "trace"]),
        "Verbosity of the adjoind daemon's log.",
    ),
    setting(
        ADJOIND,
        "SocketPath",
        ValueType::Sz,
        SettingDefault::Str("/run/adjoin/adjoind.sock"),
        Constraint::Any,
        "Unix socket on which adjoind serves the NSS and PAM modules and the CLI.",
    ),
    setting(
        ADJOIND,
        "MaxConnections",
        ValueType::Dword,
        SettingDefault::Number(10_000),
        Constraint::Range {
            min: 1,
            max: 1_000_000,
        },
        "Most simultaneous client connections the daemon accepts.",
    ),
    setting(
        ADJOIND,
        "MaxConnectionsPerAddress",
        ValueType::Dword,
        SettingDefault::Number(2_500),
        Constraint::Range {
            min: 1,
            max: 1_000_000,
        },
        "Most simultaneous SMB connections from one client address (so one host cannot take every slot).",
    ),
    setting(
        ADJOIND,
        "AdminGroups",
        ValueType::MultiSz,
        SettingDefault::Multi(&[]),
        Constraint::Any,
        "Domain groups (names or SIDs) whose members administer this server over srvsvc and lsarpc, besides Domain Admins; re-read every 5 s.",
    ),
    setting(
        ADJOIND,
        "MachineSid",
        ValueType::Sz,
        SettingDefault::None,
        Constraint::Any,
        "This server's own account-domain SID (LSA's PolicyAccountDomainInformation); made at adjoind's first start.",
    ),
    setting(
        IDENTITY,
        "CacheTimeoutSeconds",
        ValueType::Dword,
        SettingDefault::Number(14_400),
        Constraint::Range {
            min: 0,
            max: 2_592_000,
        },
        "How long a cached user or group lookup stays fresh, in seconds (at most 30 days).",
    ),
    setting(
        IDENTITY,
        "OfflineLogon",
        ValueType::Dword,
        SettingDefault::Number(1),
        FLAG,
        "1 lets users with a cached verifier log on when no domain controller answers.",
    ),
    setting(
        IDENTITY,
        "HomeDirTemplate",
        ValueType::ExpandSz,
        SettingDefault::Str("/home/%d/%u"),
        Constraint::Any,
        "Home directory of domain users: %u is the user name, %U the uid, %d the NetBIOS domain (%USER% and %DOMAIN% work too).",
    ),
    setting(
        IDENTITY,
        "IdMapping",
        ValueType::Sz,
        SettingDefault::Str("rid"),
        Constraint::OneOf(&["rid", "rfc2307"]),
        "Where uids and gids come from: rid (range base + RID, the same on every member, no state) or rfc2307 (the directory's uidNumber/gidNumber; accounts without them are not Unix users).",
    ),
    setting(
        IDENTITY,
        "RangeBase",
        ValueType::Dword,
        SettingDefault::Number(1_000_000),
        Constraint::Range {
            min: 1_000,
            max: 4_000_000_000,
        },
        "First id of the joined domain's range in RID mapping (uid = RangeBase + RID).",
    ),
    setting(
        IDENTITY,
        "RangeSize",
        ValueType::Dword,
        SettingDefault::Number(1_000_000),
        Constraint::Range {
            min: 1_000,
            max: 2_000_000_000,
        },
        "Ids in the joined domain's range; accounts with a larger RID are not mapped. Trusted domains get their own ranges under Identity\\Domains\\NAME (Sid, RangeBase, RangeSize, DnsDomain), which adjoind fills in from the domain's trusts.",
    ),
    setting(
        IDENTITY,
        "AllowGroups",
        ValueType::MultiSz,
        SettingDefault::Multi(&[]),
        Constraint::Any,
        "Groups whose members may log on through PAM (names as NSS shows them); empty lets every domain user log on.",
    ),
    setting(
        IDENTITY,
        "OfflineLogonDays",
        ValueType::Dword,
        SettingDefault::Number(7),
        Constraint::Range { min: 0, max: 3_650 },
        "How many days after her last online logon a user may still log on offline; 0 means no limit.",
    ),
    setting(
        IDENTITY,
        "DcTimeoutSeconds",
        ValueType::Dword,
        SettingDefault::Number(5),
        Constraint::Range { min: 1, max: 120 },
        "How long a lookup or logon waits for the domain controller before it answers from the cache (and stays offline for OfflineRetrySeconds).",
    ),
    setting(
        IDENTITY,
        "OfflineRetrySeconds",
        ValueType::Dword,
        SettingDefault::Number(30),
        Constraint::Range { min: 1, max: 3600 },
        "After the domain controller failed to answer, how long lookups and logons are answered from the cache alone before it is asked again.",
    ),
    setting(
        IDENTITY,
        "CachePath",
        ValueType::Sz,
        SettingDefault::Str("/var/lib/adjoin/identity.db"),
        Constraint::Any,
        "The identity cache (SQLite, root only).",
    ),
    setting(
        IDENTITY,
        "NssCachePath",
        ValueType::Sz,
        SettingDefault::Str("/var/lib/adjoin/nss.cache"),
        Constraint::Any,
        "The read-only fast cache file libnss_adjoin maps (0644; names and ids only).",
    ),
    setting(
        IDENTITY,
        "NssTimeoutMilliseconds",
        ValueType::Dword,
        SettingDefault::Number(10_000),
        Constraint::Range {
            min: 50,
            max: 60_000,
        },
        "Longest a process waits in libnss_adjoin for the daemon before the lookup fails as unavailable (keep it above DcTimeoutSeconds: a cold lookup waits for the DC).",
    ),
    setting(
        IDENTITY,
        "CreateHomeDirectory",
        ValueType::Dword,
        SettingDefault::Number(1),
        FLAG,
        "1 creates a missing home directory (0700, owned by the user) when a PAM session opens.",
    ),
    setting(
        IDENTITY,
        "LoginShell",
        ValueType::Sz,
        SettingDefault::Str("/bin/bash"),
        Constraint::Any,
        "Login shell of domain users.",
    ),
    setting(
        SMB,
        "Port",
        ValueType::Dword,
        SettingDefault::Number(445),
        Constraint::Range {
            min: 1,
            max: 65_535,
        },
        "TCP port of the SMB server when adjoind is started without --listen (on every IPv4 address); read at start.",
    ),
    setting(
        SMB,
        "SigningRequired",
        ValueType::Dword,
        SettingDefault::Number(1),
        FLAG,
        "1 (the default) requires SMB signing on every session; the server always does, and warns at start when this is 0.",
    ),
    setting(
        SMB,
        "EncryptData",
        ValueType::Dword,
        SettingDefault::Number(0),
        FLAG,
        "1 requires SMB 3 encryption on every session (SMB 2.x clients are refused at session setup); read at start.",
    ),
    setting(
        MACHINE_SECRETS,
        "Password",
        ValueType::Sz,
        SettingDefault::None,
        Constraint::Any,
        "Current machine account password (secret: root only).",
    ),
    setting(
        MACHINE_SECRETS,
        "PreviousPassword",
        ValueType::Sz,
        SettingDefault::None,
        Constraint::Any,
        "Machine password before the last change, accepted during rotation (secret: root only).",
    ),
    setting(
        MACHINE_SECRETS,
        "PendingPassword",
        ValueType::Sz,
        SettingDefault::None,
        Constraint::Any,
        "A new machine password while a rotation is under way; left only by an interrupted one, which `domain-join repair` completes (secret: root only).",
    ),
];

/// The schema entry for `name` under the folded key path `folded_key`, if any.
pub(crate) fn lookup_folded(folded_key: &str, folded_name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| {
        folded_key.eq_ignore_ascii_case(s.key) && folded_name.eq_ignore_ascii_case(s.name)
    })
}

/// The schema entry for a key path and value name, compared case-insensitively.
pub fn lookup(key: &str, name: &str) -> Option<&'static Setting> {
    let key = key.trim_end_matches('\\');
    lookup_folded(&crate::path::fold(key), &crate::path::fold(name))
}

impl Setting {
    /// The default as a value, or `None` for settings without one.
    pub fn default_value(&self) -> Option<Value> {
        let value = match (self.default, self.value_type) {
            (SettingDefault::None, _) => return None,
            (SettingDefault::Str(s), ValueType::ExpandSz) => Value::ExpandSz(s.to_owned()),
            (SettingDefault::Str(s), _) => Value::Sz(s.to_owned()),
            (SettingDefault::Number(n), ValueType::Qword) => Value::Qword(n),
            (SettingDefault::Number(n), _) => Value::Dword(u32::try_from(n).unwrap_or(u32::MAX)),
            (SettingDefault::Multi(v), _) => {
                Value::MultiSz(v.iter().map(|s| (*s).to_owned()).collect())
            }
        };
        Some(value)
    }

    /// The constraint as text, for example `0..=3600`.
    pub fn allowed(&self) -> Option<String> {
        match self.constraint {
            Constraint::Any => None,
            Constraint::Range { min, max } => Some(format!("{min}..={max}")),
            Constraint::OneOf(choices) => Some(format!("one of {}", choices.join(", "))),
        }
    }

    /// Checks a value against the type and constraint.
    pub fn check(&self, key: &str, name: &str, value: &Value) -> Result<()> {
        if value.value_type() != self.value_type {
            return Err(Error::TypeMismatch {
                path: key.to_owned(),
                name: name.to_owned(),
                expected: self.value_type,
                given: value.value_type(),
            });
        }
        let ok = match (self.constraint, value) {
            (Constraint::Any, _) => true,
            (Constraint::Range { min, max }, v) => {
                v.as_u64().is_some_and(|n| (min..=max).contains(&n))
            }
            (Constraint::OneOf(choices), v) => v
                .as_str()
                .is_some_and(|s| choices.iter().any(|c| c.eq_ignore_ascii_case(s))),
        };
        if ok {
            return Ok(());
        }
        Err(Error::OutOfRange {
            path: key.to_owned(),
            name: name.to_owned(),
            value: value.to_string(),
            allowed: self.allowed().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_the_declared_type() {
        for s in SETTINGS {
            if let Some(v) = s.default_value() {
                assert_eq!(v.value_type(), s.value_type, "{}\\{}", s.key, s.name);
                s.check(s.key, s.name, &v).unwrap();
            }
            crate::path::KeyPath::parse(s.key).unwrap();
        }
    }

    #[test]
    fn entries_are_unique() {
        for (i, a) in SETTINGS.iter().enumerate() {
            for b in &SETTINGS[i + 1..] {
                assert!(
                    !(a.key.eq_ignore_ascii_case(b.key) && a.name.eq_ignore_ascii_case(b.name))
                );
            }
        }
    }

    #[test]
    fn range_is_named_in_the_error() {
        let s = lookup(r"hkey_this_machine\KERBEROS", "clockskewseconds").unwrap();
        let err = s.check(s.key, s.name, &Value::Dword(3601)).unwrap_err();
        assert!(err.to_string().contains("0..=3600"), "{err}");
        assert!(s.check(s.key, s.name, &Value::Dword(3600)).is_ok());
        assert!(matches!(
            s.check(s.key, s.name, &Value::Sz("1".into())),
            Err(Error::TypeMismatch { .. })
        ));
    }
}
