//! MS-LSAT name and SID translation for a member: the joined domain's accounts through a
//! [`SidResolver`]; the domains themselves, the machine's own (empty) account domain and
//! a few well-known SIDs here; and the referenced domain list a lookup returns.

use std::fmt;
use std::sync::Arc;

use super::{ReferencedDomainList, SidEnumBuffer, SidNameUse, TranslatedNameEx, TrustInformation};
use crate::ndr::{ConformantArray, Sid, UnicodeString, Uuid};
use crate::ntstatus::NtStatus;

/// MS-LSAT 2.2.12 `MaxEntries` as Windows and Samba send it (clients ignore it).
const MAX_ENTRIES: u32 = 32;

/// The domains a member's LSA speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDomains {
    /// The joined domain's NetBIOS name (`EXAMPLE`).
    pub netbios_domain: String,
    /// Its DNS name (`example.test`).
    pub dns_domain: String,
    /// Its forest's DNS name (the domain's own when the join did not record one).
    pub dns_forest: String,
    /// Its GUID (nil when the join did not record one).
    pub domain_guid: Uuid,
    /// Its SID.
    pub domain_sid: Sid,
    /// This machine's NetBIOS name: the name of its own account domain.
    pub computer: String,
    /// This machine's account domain SID (its local accounts', none of which exist here).
    pub machine_sid: Sid,
}

/// An account as the directory names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its SID.
    pub sid: Sid,
    /// The NetBIOS name of its domain (empty for `Everyone`).
    pub domain: String,
    /// Its name as the directory spells it (sAMAccountName).
    pub name: String,
    /// What it is.
    pub sid_use: SidNameUse,
}

impl Account {
    fn domain(sid: &Sid, name: &str) -> Self {
        Self {
            sid: sid.clone(),
            domain: name.to_owned(),
            name: name.to_owned(),
            sid_use: SidNameUse::DOMAIN,
        }
    }

    /// The SID of its domain: a domain's own, else its own without the RID.
    fn domain_sid(&self) -> Option<Sid> {
        if self.sid_use == SidNameUse::DOMAIN {
            return Some(self.sid.clone());
        }
        let subs = self.sid.sub_authorities();
        let parent = subs.get(..subs.len().checked_sub(1)?)?;
        Sid::new(self.sid.identifier_authority(), parent).ok()
    }
}

/// Translates the joined domain's accounts (adjoind: through the identity service, which
/// may ask the DC). Called on the pipe's thread, which may block.
pub trait SidResolver: Send + Sync + fmt::Debug {
    /// The user or group with SID `sid`; `None` when the domain has none.
    fn account_by_sid(&self, sid: &Sid) -> Option<Account>;

    /// The user or group the joined domain calls `name` (an unqualified account name).
    fn account_by_name(&self, name: &str) -> Option<Account>;
}

/// The well-known SIDs (MS-DTYP 2.4.2.4) a member translates itself: SID, domain, name.
const WELL_KNOWN: &[(&str, &str, &str, SidNameUse)] = &[
    ("S-1-1-0", "", "Everyone", SidNameUse::WELL_KNOWN_GROUP),
    (
        "S-1-5-2",
        "NT AUTHORITY",
        "NETWORK",
        SidNameUse::WELL_KNOWN_GROUP,
    ),
    (
        "S-1-5-7",
        "NT AUTHORITY",
        "ANONYMOUS LOGON",
        SidNameUse::WELL_KNOWN_GROUP,
    ),
    (
        "S-1-5-11",
        "NT AUTHORITY",
        "Authenticated Users",
        SidNameUse::WELL_KNOWN_GROUP,
    ),
    (
        "S-1-5-18",
        "NT AUTHORITY",
        "SYSTEM",
        SidNameUse::WELL_KNOWN_GROUP,
    ),
    ("S-1-5-32", "BUILTIN", "BUILTIN", SidNameUse::DOMAIN),
    (
        "S-1-5-32-544",
        "BUILTIN",
        "Administrators",
        SidNameUse::ALIAS,
    ),
    ("S-1-5-32-545", "BUILTIN", "Users", SidNameUse::ALIAS),
    ("S-1-5-32-546", "BUILTIN", "Guests", SidNameUse::ALIAS),
];

fn well_known() -> impl Iterator<Item = Account> {
    WELL_KNOWN
        .iter()
        .filter_map(|(sid, domain, name, sid_use)| {
            Some(Account {
                sid: sid.parse().ok()?,
                domain: (*domain).to_owned(),
                name: (*name).to_owned(),
                sid_use: *sid_use,
            })
        })
}

/// The outcome of translating a batch: the referenced domains, one entry per input, the
/// MappedCount and the status.
#[derive(Debug)]
pub(super) struct Translated<T> {
    pub(super) domains: ReferencedDomainList,
    pub(super) entries: Vec<T>,
    pub(super) mapped_count: u32,
    pub(super) status: NtStatus,
}

/// Translates for one member: its domains and the resolver of the joined domain's
/// accounts.
#[derive(Debug, Clone)]
pub(super) struct Translator {
    pub(super) domains: Arc<MemberDomains>,
    pub(super) resolver: Option<Arc<dyn SidResolver>>,
}

impl Translator {
    /// The account `sid` names: the domains and well-known SIDs here, the rest through
    /// the resolver.
    pub(super) fn account_by_sid(&self, sid: &Sid) -> Option<Account> {
        let d = &self.domains;
        if *sid == d.domain_sid {
            return Some(Account::domain(sid, &d.netbios_domain));
        }
        if *sid == d.machine_sid {
            return Some(Account::domain(sid, &d.computer));
        }
        if let Some(known) = well_known().find(|a| a.sid == *sid) {
            return Some(known);
        }
        // The machine's own domain has no accounts; only the joined one asks the DC.
        if sid.is_in_domain(&d.machine_sid) {
            return None;
        }
        self.resolver.as_ref()?.account_by_sid(sid)
    }

    /// The domain called `name`: the joined one (NetBIOS or DNS name), the machine's own,
    /// or BUILTIN.
    fn domain_named(&self, name: &str) -> Option<Account> {
        let d = &self.domains;
        if self.is_ours(name) {
            Some(Account::domain(&d.domain_sid, &d.netbios_domain))
        } else if name.eq_ignore_ascii_case(&d.computer) {
            Some(Account::domain(&d.machine_sid, &d.computer))
        } else {
            well_known()
                .find(|a| a.sid_use == SidNameUse::DOMAIN && a.name.eq_ignore_ascii_case(name))
        }
    }

    fn is_ours(&self, domain: &str) -> bool {
        let d = &self.domains;
        domain.eq_ignore_ascii_case(&d.netbios_domain) || domain.eq_ignore_ascii_case(&d.dns_domain)
    }

    /// An account of the joined domain, through the resolver.
    fn resolve(&self, name: &str) -> Option<Account> {
        self.resolver
            .as_ref()?
            .account_by_name(name)
            .filter(|a| a.sid.is_in_domain(&self.domains.domain_sid))
    }

    /// The account `typed` names (`name`, `DOMAIN\name`, `name@dns.domain`), isolated
    /// names looked up in MS-LSAT 3.1.4.5's order: well-known names, BUILTIN, the
    /// account domain, then the primary domain.
    pub(super) fn account_by_name(&self, typed: &str) -> Option<Account> {
        let (qualifier, name) = if let Some((q, n)) = typed.split_once('\\') {
            (Some(q), n)
        } else if let Some((n, q)) = typed.rsplit_once('@') {
            (Some(q), n)
        } else {
            (None, typed)
        };
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        match qualifier {
            Some(q) if name.is_empty() => self.domain_named(q),
            Some(q) if self.is_ours(q) => self.resolve(name),
            Some(q) if is(q, &self.domains.computer) => None,
            Some(q) => well_known().find(|a| is(&a.domain, q) && is(&a.name, name)),
            None => well_known()
                .find(|a| a.sid_use != SidNameUse::DOMAIN && is(&a.name, name))
                .or_else(|| self.domain_named(name))
                .or_else(|| self.resolve(name)),
        }
    }

    /// Translates `sids` (MS-LSAT 3.1.4.11): one name per SID, in order.
    pub(super) fn sids(&self, sids: &SidEnumBuffer) -> Translated<TranslatedNameEx> {
        let mut domains = Domains::default();
        let names: Vec<TranslatedNameEx> = sids
            .sid_info
            .as_ref()
            .map_or(&[][..], |s| &s.0)
            .iter()
            .map(|info| match &info.sid {
                Some(sid) => self.sid(sid, &mut domains),
                None => unknown_name(String::new(), -1),
            })
            .collect();
        let mapped = names
            .iter()
            .filter(|n| n.sid_use != SidNameUse::UNKNOWN)
            .count();
        domains.outcome(names, mapped)
    }

    fn sid(&self, sid: &Sid, domains: &mut Domains) -> TranslatedNameEx {
        if let Some(account) = self.account_by_sid(sid) {
            return TranslatedNameEx {
                sid_use: account.sid_use,
                domain_index: domains.index_of(&account),
                name: UnicodeString::new(account.name),
                flags: 0,
            };
        }
        // Unmapped: in a known domain, the RID in decimal; else the whole SID.
        let d = &self.domains;
        for (name, domain_sid) in [
            (&d.netbios_domain, &d.domain_sid),
            (&d.computer, &d.machine_sid),
        ] {
            if sid.is_in_domain(domain_sid) {
                let index = domains.index_of(&Account::domain(domain_sid, name));
                let rid = sid.rid().unwrap_or_default();
                return unknown_name(rid.to_string(), index);
            }
        }
        unknown_name(sid.to_string(), -1)
    }

    /// Translates `names` (MS-LSAT 3.1.4.8): one account and its domain's index per name
    /// (`None`: unmapped), in order.
    pub(super) fn names(&self, names: &[UnicodeString]) -> Translated<Option<(Account, i32)>> {
        let mut domains = Domains::default();
        let found: Vec<Option<(Account, i32)>> = names
            .iter()
            .map(|n| {
                let account = self.account_by_name(n.as_str())?;
                let index = domains.index_of(&account);
                Some((account, index))
            })
            .collect();
        let mapped = found.iter().flatten().count();
        domains.outcome(found, mapped)
    }
}

/// The referenced domain list a lookup builds (MS-LSAT 2.2.12), each domain once.
#[derive(Debug, Default)]
struct Domains(Vec<TrustInformation>);

impl Domains {
    /// The index of `account`'s domain, added if new; -1 when it has none.
    fn index_of(&mut self, account: &Account) -> i32 {
        let Some(sid) = account.domain_sid() else {
            return -1;
        };
        let at = match self.0.iter().position(|d| d.sid.as_ref() == Some(&sid)) {
            Some(at) => at,
            None => {
                self.0.push(TrustInformation {
                    name: UnicodeString::new(account.domain.as_str()),
                    sid: Some(sid),
                });
                self.0.len() - 1
            }
        };
        i32::try_from(at).unwrap_or(-1)
    }

    /// MS-LSAT 3.1.4.8: every entry mapped is SUCCESS, some SOME_NOT_MAPPED, none
    /// NONE_MAPPED.
    fn outcome<T>(self, entries: Vec<T>, mapped: usize) -> Translated<T> {
        let status = if mapped == entries.len() {
            NtStatus::SUCCESS
        } else if mapped == 0 {
            NtStatus::NONE_MAPPED
        } else {
            NtStatus::SOME_NOT_MAPPED
        };
        Translated {
            domains: ReferencedDomainList {
                entries: len(&self.0),
                domains: Some(ConformantArray(self.0)),
                max_entries: MAX_ENTRIES,
            },
            entries,
            mapped_count: u32::try_from(mapped).unwrap_or(u32::MAX),
            status,
        }
    }
}

fn unknown_name(name: String, domain_index: i32) -> TranslatedNameEx {
    TranslatedNameEx {
        sid_use: SidNameUse::UNKNOWN,
        name: UnicodeString::new(name),
        domain_index,
        flags: 0,
    }
}

/// A count on the wire.
pub(super) fn len<T>(items: &[T]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}
