//! Users and groups of trusted domains: each trusted domain with a DNS name in
//! `Identity\Domains\NAME` gets a [`Directory`] of its own, read as the member with tickets
//! the joined realm's KDC refers across the trust, and its accounts are shown qualified
//! (`partner\erin`) so that they never shadow the joined domain's.

use std::sync::Arc;
use std::time::Duration;

use adjoin_auth::krb::kdc::KdcConfig;
use adjoin_ndr::Sid;
use adjoin_registry::{Registry, Value};

use crate::directory::{Directory, Locator, TrustEntry};
use crate::error::IdentityError;
use crate::idmap::DomainRange;
use crate::service::Identity;
use crate::settings::{DOMAINS_KEY, Settings, TrustedDomain};

/// Finds the DCs of a trusted domain, given its DNS name (DNS SRV and CLDAP in adjoind).
pub type DomainLocator = Arc<dyn Fn(&str) -> Locator + Send + Sync>;

/// A trusted domain whose users this host resolves.
pub(crate) struct Trusted {
    /// NetBIOS name (PARTNER).
    pub(crate) netbios: String,
    /// DNS name (other.test).
    pub(crate) dns: String,
    /// Its SID.
    pub(crate) sid: Sid,
    /// Its directory.
    pub(crate) directory: tokio::sync::Mutex<Directory>,
}

impl std::fmt::Debug for Trusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trusted")
            .field("netbios", &self.netbios)
            .field("dns", &self.dns)
            .field("sid", &self.sid)
            .finish_non_exhaustive()
    }
}

impl Trusted {
    /// Whether `domain` (as typed: NetBIOS or DNS name, any case) names this domain.
    fn named(&self, domain: &str) -> bool {
        domain.eq_ignore_ascii_case(&self.netbios) || domain.eq_ignore_ascii_case(&self.dns)
    }

    /// The name NSS shows for its account `sam`: `partner\erin`.
    pub(crate) fn display(&self, sam: &str) -> String {
        format!("{}\\{}", self.netbios, sam).to_lowercase()
    }
}

impl Identity {
    /// Resolves the users and groups of the trusted domains the settings name with a DNS
    /// name: `find` gives a locator for each, `home` finds the joined domain's DCs (whose
    /// KDC issues the machine's tickets).
    #[must_use]
    pub fn with_trusted(mut self, find: &DomainLocator, home: &Locator) -> Self {
        let timeout = self.settings.dc_timeout;
        self.trusted = self
            .settings
            .trusted
            .iter()
            .filter_map(|t| {
                let dns = t.dns_domain.clone()?;
                let directory = Directory::trusted(
                    self.member.clone(),
                    &dns,
                    t.range.sid.clone(),
                    find(&dns),
                    home.clone(),
                    timeout,
                );
                Some(Trusted {
                    netbios: t.range.name.clone(),
                    dns,
                    sid: t.range.sid.clone(),
                    directory: tokio::sync::Mutex::new(directory),
                })
            })
            .collect();
        self
    }

    /// The trusted domain `domain` (NetBIOS or DNS name) names, if its users are resolved.
    pub(crate) fn trusted_named(&self, domain: &str) -> Option<&Trusted> {
        self.trusted.iter().find(|t| t.named(domain))
    }

    /// The trusted domain `sid` belongs to, if its users are resolved.
    pub(crate) fn trusted_of(&self, sid: &Sid) -> Option<&Trusted> {
        self.trusted.iter().find(|t| sid.is_in_domain(&t.sid))
    }

    /// The joined domain's trusts, read from its directory (trustedDomain objects).
    pub async fn discover_trusts(&self) -> Result<Vec<TrustEntry>, IdentityError> {
        self.online(async |d| d.trusts().await).await
    }

    /// The trusted domains resolved, as (NetBIOS name, DNS name).
    pub fn trusted_domains(&self) -> Vec<(String, String)> {
        self.trusted
            .iter()
            .map(|t| (t.netbios.clone(), t.dns.clone()))
            .collect()
    }

    /// Runs `op` against `t`'s directory under `deadline` (plus the DC deadline to connect).
    /// A trusted DC that does not answer fails this lookup only: the joined domain's
    /// service stays online.
    pub(crate) async fn trusted_within<T, F>(
        &self,
        t: &Trusted,
        deadline: Duration,
        op: F,
    ) -> Result<T, IdentityError>
    where
        F: AsyncFnOnce(&mut Directory) -> Result<T, IdentityError>,
    {
        let mut dir = t.directory.lock().await;
        let deadline = if dir.connected() {
            deadline
        } else {
            deadline + self.settings.dc_timeout
        };
        match tokio::time::timeout(deadline, op(&mut *dir)).await {
            Ok(r) => r,
            Err(_) => {
                dir.reset();
                Err(IdentityError::Offline {
                    reason: format!("{}'s DC gave no answer within {deadline:?}", t.netbios),
                })
            }
        }
    }

    /// Runs `op` against `trusted`'s directory, or the joined domain's for `None`.
    pub(crate) async fn directory_for<T, F>(
        &self,
        trusted: Option<&Trusted>,
        deadline: Duration,
        op: F,
    ) -> Result<T, IdentityError>
    where
        F: AsyncFnOnce(&mut Directory) -> Result<T, IdentityError>,
    {
        match trusted {
            Some(t) => self.trusted_within(t, deadline, op).await,
            None => self.online_within(deadline, op).await,
        }
    }

    /// Runs `op` against the directory of the domain `sid` belongs to: a trusted domain's,
    /// else the joined domain's.
    pub(crate) async fn directory_of<T, F>(
        &self,
        sid: &Sid,
        deadline: Duration,
        op: F,
    ) -> Result<T, IdentityError>
    where
        F: AsyncFnOnce(&mut Directory) -> Result<T, IdentityError>,
    {
        self.directory_for(self.trusted_of(sid), deadline, op).await
    }

    /// The Kerberos realm of the domain `sid` belongs to.
    pub fn realm_of(&self, sid: &Sid) -> String {
        match self.trusted_of(sid) {
            Some(t) => t.dns.to_ascii_uppercase(),
            None => self.member.realm.clone(),
        }
    }

    /// The KDCs of the domain `sid` belongs to (its DC in use, found first if needed).
    pub async fn kdcs_of(&self, sid: &Sid) -> Result<KdcConfig, IdentityError> {
        let deadline = self.settings.dc_timeout;
        self.directory_of(sid, deadline, async |d| d.kdcs().await)
            .await
    }

    /// How NSS shows account `sam` whose SID is `sid`, and the NetBIOS name of its domain.
    pub(crate) fn display_of(&self, sid: &Sid, sam: &str) -> (String, String) {
        match self.trusted_of(sid) {
            Some(t) => (t.display(sam), t.netbios.clone()),
            None => (
                self.names().display(sam),
                self.member.netbios_domain.clone(),
            ),
        }
    }
}

/// Automatic ranges end below this id.
const ID_LIMIT: u64 = 1 << 31;

/// What the settings lack for `trusts` (those whose users can log on here: outbound or
/// two-way trusts to AD domains): a range for each domain that has none, and the DNS name
/// of each that has a range configured without one. A new range is RangeSize ids, like the
/// joined domain's, in slot `1 + hash(domain SID) mod slots` after the joined domain's
/// range (the next free slot when that one is taken), so that every member with the same
/// RangeBase and RangeSize gives a domain the same range, with no shared state.
pub fn missing_trusted(settings: &Settings, trusts: &[TrustEntry]) -> Vec<TrustedDomain> {
    let size = u64::from(settings.range_size.max(1));
    let base = u64::from(settings.range_base);
    // Slots k = 1.. whose range base + k * size .. + size stays below 2^31: larger ids
    // trouble programs that keep uids in signed 32-bit integers (as SSSD's default does).
    let slots = ID_LIMIT
        .saturating_sub(base)
        .checked_div(size)
        .unwrap_or(0)
        .saturating_sub(1);
    let mut taken: Vec<(u64, u64)> = std::iter::once((base, size))
        .chain(
            settings
                .trusted
                .iter()
                .map(|t| (u64::from(t.range.base), u64::from(t.range.size))),
        )
        .collect();
    let mut sorted: Vec<&TrustEntry> = trusts.iter().filter(|t| t.serves_users()).collect();
    sorted.sort_by_key(|t| t.sid.to_string());
    let mut out = Vec::new();
    for trust in sorted {
        if let Some(known) = settings.trusted.iter().find(|t| t.range.sid == trust.sid) {
            if known.dns_domain.is_none() {
                out.push(TrustedDomain {
                    dns_domain: Some(trust.dns_domain.clone()),
                    ..known.clone()
                });
            }
            continue;
        }
        // A key of that name configured by hand for another SID: left alone (logged by
        // the caller as not recorded), never overwritten.
        if settings
            .trusted
            .iter()
            .any(|t| t.range.name.eq_ignore_ascii_case(&trust.netbios))
            || slots == 0
        {
            continue;
        }
        let first = 1 + fnv1a(trust.sid.to_string().as_bytes()) % slots;
        let free = (0..slots)
            .map(|i| 1 + (first - 1 + i) % slots)
            .map(|k| base + k * size)
            .find(|start| {
                taken
                    .iter()
                    .all(|&(b, s)| start + size <= b || b + s <= *start)
            });
        let Some(start) = free else { continue };
        taken.push((start, size));
        out.push(TrustedDomain {
            range: DomainRange {
                sid: trust.sid.clone(),
                name: trust.netbios.to_ascii_uppercase(),
                base: u32::try_from(start).unwrap_or(u32::MAX),
                size: u32::try_from(size).unwrap_or(u32::MAX),
            },
            dns_domain: Some(trust.dns_domain.clone()),
        });
    }
    out
}

/// Records `domains` under `Identity\Domains\NAME` (Sid, RangeBase, RangeSize, DnsDomain), all
/// in one transaction.
pub fn record_trusted(
    registry: &mut Registry,
    domains: &[TrustedDomain],
) -> Result<(), IdentityError> {
    let tx = registry.transaction()?;
    for d in domains {
        let key = format!("{DOMAINS_KEY}\\{}", d.range.name);
        tx.create_key(&key)?;
        tx.set_value(&key, "Sid", &Value::Sz(d.range.sid.to_string()))?;
        tx.set_value(&key, "RangeBase", &Value::Dword(d.range.base))?;
        tx.set_value(&key, "RangeSize", &Value::Dword(d.range.size))?;
        if let Some(dns) = &d.dns_domain {
            tx.set_value(&key, "DnsDomain", &Value::Sz(dns.clone()))?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// FNV-1a (64-bit): a fixed hash, the same on every host and every release.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(trusted: Vec<TrustedDomain>) -> Settings {
        let registry = Registry::open(tempfile::tempdir().unwrap().keep().join("r.db")).unwrap();
        let mut s = Settings::from_registry(&registry).unwrap();
        s.trusted = trusted;
        s
    }

    fn trust(netbios: &str, sid: &str, direction: u32) -> TrustEntry {
        TrustEntry {
            netbios: netbios.into(),
            dns_domain: format!("{}.test", netbios.to_lowercase()),
            sid: sid.parse().unwrap(),
            direction,
            trust_type: 2,
        }
    }

    #[test]
    fn each_trusted_domain_gets_a_range_of_its_own_the_same_everywhere() {
        let s = settings(Vec::new());
        let trusts = [
            trust("PARTNER", "S-1-5-21-108369207-1446639562-2941692752", 3),
            trust("OUTSIDE", "S-1-5-21-1-2-3", 2),
            trust("INBOUND", "S-1-5-21-4-5-6", 1),
        ];
        let got = missing_trusted(&s, &trusts);
        assert_eq!(
            got.len(),
            2,
            "the inbound-only trust serves no users here: {got:?}"
        );
        for d in &got {
            assert!(d.range.base >= s.range_base + s.range_size, "{d:?}");
            assert_eq!(d.range.size, s.range_size);
            assert_eq!(
                u64::from(d.range.base - s.range_base) % u64::from(s.range_size),
                0
            );
            assert!(
                u64::from(d.range.base) + u64::from(d.range.size) <= ID_LIMIT,
                "{d:?}"
            );
        }
        assert_ne!(got[0].range.base, got[1].range.base);
        // Another member, the trusts listed in another order: the same ranges.
        let mut reversed = trusts.clone();
        reversed.reverse();
        assert_eq!(missing_trusted(&s, &reversed), got);
        // The ranges fit an id map with the joined domain's.
        let mut all = s.clone();
        all.trusted = got.clone();
        let member_sid: Sid = "S-1-5-21-9-9-9".parse().unwrap();
        let ranges: Vec<DomainRange> = std::iter::once(DomainRange {
            sid: member_sid,
            name: "EXAMPLE".into(),
            base: s.range_base,
            size: s.range_size,
        })
        .chain(got.iter().map(|d| d.range.clone()))
        .collect();
        assert!(crate::idmap::IdMap::new(ranges).is_ok());
        // Once recorded, nothing is missing.
        assert!(missing_trusted(&all, &trusts).is_empty());
    }

    #[test]
    fn a_taken_slot_moves_the_new_domain_to_the_next_free_one() {
        let s = settings(Vec::new());
        let partner = trust("PARTNER", "S-1-5-21-108369207-1446639562-2941692752", 3);
        let alone = missing_trusted(&s, std::slice::from_ref(&partner));
        // Someone configured that very range by hand for another domain.
        let occupied = TrustedDomain {
            range: DomainRange {
                sid: "S-1-5-21-7-7-7".parse().unwrap(),
                name: "HANDMADE".into(),
                ..alone[0].range.clone()
            },
            dns_domain: None,
        };
        let moved = missing_trusted(&settings(vec![occupied.clone()]), &[partner]);
        assert_eq!(moved.len(), 1);
        assert_ne!(moved[0].range.base, occupied.range.base);
    }

    #[test]
    fn a_name_taken_by_hand_for_another_sid_is_left_alone() {
        let partner = trust("PARTNER", "S-1-5-21-108369207-1446639562-2941692752", 3);
        let other_sid = TrustedDomain {
            range: DomainRange {
                sid: "S-1-5-21-7-7-7".parse().unwrap(),
                name: "partner".into(),
                base: 50_000_000,
                size: 100_000,
            },
            dns_domain: None,
        };
        assert!(missing_trusted(&settings(vec![other_sid]), &[partner]).is_empty());
    }

    #[test]
    fn a_range_configured_by_hand_gains_the_dns_name_only() {
        let partner = trust("PARTNER", "S-1-5-21-108369207-1446639562-2941692752", 3);
        let by_hand = TrustedDomain {
            range: DomainRange {
                sid: partner.sid.clone(),
                name: "PARTNER".into(),
                base: 50_000_000,
                size: 100_000,
            },
            dns_domain: None,
        };
        let got = missing_trusted(&settings(vec![by_hand.clone()]), &[partner]);
        assert_eq!(
            got,
            vec![TrustedDomain {
                dns_domain: Some("partner.test".into()),
                ..by_hand
            }]
        );
    }
}
