//! SID <-> Unix id mapping: one implementation for NSS, PAM and the SMB file server.
//!
//! The default is deterministic RID mapping: a domain owns the range `base..base+size`, and
//! an account's id is `base + RID`, the same on every host joined to the domain, with no
//! state to lose. In RFC 2307 mode the directory's `uidNumber`/`gidNumber` are used
//! instead (and an account without them has no Unix identity). Well-known SIDs (BUILTIN,
//! NT AUTHORITY, ...) are refused: they never take an id inside a domain's range.

use adjoin_ndr::Sid;

/// Where an account's Unix ids come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdMode {
    /// `base + RID` in the domain's range.
    Rid,
    /// The directory's RFC 2307 attributes.
    Rfc2307,
}

impl IdMode {
    /// Parses the registry's `Identity\IdMapping` ("rid" or "rfc2307").
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "rid" => Some(Self::Rid),
            "rfc2307" => Some(Self::Rfc2307),
            _ => None,
        }
    }
}

/// One domain's range of ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRange {
    /// The domain's SID.
    pub sid: Sid,
    /// Its NetBIOS name (for messages).
    pub name: String,
    /// The first id of the range (RID 0).
    pub base: u32,
    /// How many ids the range holds.
    pub size: u32,
}

impl DomainRange {
    fn contains(&self, id: u32) -> bool {
        id >= self.base && id - self.base < self.size
    }
}

/// Why a SID or id cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// A well-known or foreign SID no configured domain owns.
    #[error("{0} belongs to no domain with an id range (well-known SIDs are not mapped)")]
    NoDomain(Sid),
    /// The RID does not fit the domain's range.
    #[error(
        "RID {rid} of {sid} is outside the {size}-id range of domain {domain}: enlarge Identity\\RangeSize"
    )]
    OutOfRange {
        /// The SID.
        sid: Sid,
        /// Its RID.
        rid: u32,
        /// The domain.
        domain: String,
        /// The range size.
        size: u32,
    },
    /// Two domains' ranges overlap: a configuration error found at load time.
    #[error("the id ranges of {0} and {1} overlap: give each domain its own Identity range")]
    Overlap(String, String),
}

/// The ranges of every domain this host maps.
#[derive(Debug, Clone)]
pub struct IdMap {
    ranges: Vec<DomainRange>,
}

impl IdMap {
    /// A map over `ranges`; refuses overlapping ranges or ranges that wrap past `u32::MAX`.
    pub fn new(ranges: Vec<DomainRange>) -> Result<Self, MapError> {
        for (i, a) in ranges.iter().enumerate() {
            if a.base.checked_add(a.size).is_none() {
                return Err(MapError::Overlap(
                    a.name.clone(),
                    "the end of the id space".into(),
                ));
            }
            for b in &ranges[i + 1..] {
                if a.base < b.base + b.size && b.base < a.base + a.size {
                    return Err(MapError::Overlap(a.name.clone(), b.name.clone()));
                }
            }
        }
        Ok(Self { ranges })
    }

    /// The primary (joined) domain's range: the first.
    pub fn primary(&self) -> Option<&DomainRange> {
        self.ranges.first()
    }

    /// The RID-mapped id of `sid` (a user's uid or a group's gid).
    pub fn id_for_sid(&self, sid: &Sid) -> Result<u32, MapError> {
        let range = self
            .ranges
            .iter()
            .find(|r| {
                sid.is_in_domain(&r.sid)
                    && sid.sub_authorities().len() == r.sid.sub_authorities().len() + 1
            })
            .ok_or_else(|| MapError::NoDomain(sid.clone()))?;
        let rid = sid.rid().ok_or_else(|| MapError::NoDomain(sid.clone()))?;
        if rid >= range.size {
            return Err(MapError::OutOfRange {
                sid: sid.clone(),
                rid,
                domain: range.name.clone(),
                size: range.size,
            });
        }
        Ok(range.base + rid)
    }

    /// The SID a RID-mapped id stands for; `None` when no domain's range holds it.
    pub fn sid_for_id(&self, id: u32) -> Option<Sid> {
        let range = self.ranges.iter().find(|r| r.contains(id))?;
        range.sid.with_rid(id - range.base).ok()
    }
}

/// Expands a home directory template: `%u` the user's name as NSS shows it, `%U` her uid,
/// `%d` the NetBIOS domain, `%%` a percent sign (`%USER%` and `%DOMAIN%` are accepted too).
pub fn expand_template(template: &str, user: &str, uid: u32, domain: &str) -> String {
    let template = template.replace("%USER%", "%u").replace("%DOMAIN%", "%d");
    let mut out = String::with_capacity(template.len() + user.len());
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => out.push_str(user),
            Some('U') => out.push_str(&uid.to_string()),
            Some('d') => out.push_str(domain),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(s: &str) -> Sid {
        s.parse().unwrap()
    }

    fn map() -> IdMap {
        IdMap::new(vec![
            DomainRange {
                sid: sid("S-1-5-21-1-2-3"),
                name: "EXAMPLE".into(),
                base: 1_000_000,
                size: 1_000_000,
            },
            DomainRange {
                sid: sid("S-1-5-21-7-8-9"),
                name: "TRUSTED".into(),
                base: 2_000_000,
                size: 500_000,
            },
        ])
        .unwrap()
    }

    #[test]
    fn rid_mapping_round_trips_in_each_domain() {
        let m = map();
        assert_eq!(
            m.id_for_sid(&sid("S-1-5-21-1-2-3-1103")).unwrap(),
            1_001_103
        );
        assert_eq!(m.id_for_sid(&sid("S-1-5-21-1-2-3-513")).unwrap(), 1_000_513);
        assert_eq!(
            m.id_for_sid(&sid("S-1-5-21-7-8-9-1103")).unwrap(),
            2_001_103
        );
        assert_eq!(m.sid_for_id(1_001_103), Some(sid("S-1-5-21-1-2-3-1103")));
        assert_eq!(m.sid_for_id(2_001_103), Some(sid("S-1-5-21-7-8-9-1103")));
        assert_eq!(m.sid_for_id(999), None);
        assert_eq!(m.sid_for_id(2_500_000), None);
    }

    #[test]
    fn well_known_and_foreign_sids_are_refused() {
        let m = map();
        for s in ["S-1-5-32-545", "S-1-5-11", "S-1-1-0", "S-1-5-21-4-5-6-1000"] {
            assert!(
                matches!(m.id_for_sid(&sid(s)), Err(MapError::NoDomain(_))),
                "{s}"
            );
        }
        // The domain SID itself and a SID one level deeper are not accounts of the domain.
        assert!(m.id_for_sid(&sid("S-1-5-21-1-2-3")).is_err());
        assert!(m.id_for_sid(&sid("S-1-5-21-1-2-3-4-5")).is_err());
    }

    #[test]
    fn rids_past_the_range_are_refused_not_wrapped() {
        let e = map().id_for_sid(&sid("S-1-5-21-7-8-9-500000")).unwrap_err();
        assert!(
            matches!(e, MapError::OutOfRange { rid: 500_000, .. }),
            "{e}"
        );
    }

    #[test]
    fn overlapping_or_wrapping_ranges_are_refused() {
        let r = |name: &str, base, size| DomainRange {
            sid: sid("S-1-5-21-1-2-3"),
            name: name.into(),
            base,
            size,
        };
        assert!(IdMap::new(vec![r("A", 1000, 100), r("B", 1099, 10)]).is_err());
        assert!(IdMap::new(vec![r("A", 1000, 100), r("B", 1100, 10)]).is_ok());
        assert!(IdMap::new(vec![r("A", u32::MAX - 5, 10)]).is_err());
    }

    #[test]
    fn templates_expand() {
        assert_eq!(
            expand_template("/home/%d/%u", "zoë", 7, "EXAMPLE"),
            "/home/EXAMPLE/zoë"
        );
        assert_eq!(
            expand_template("/home/%DOMAIN%/%USER%", "a", 7, "D"),
            "/home/D/a"
        );
        assert_eq!(expand_template("/h/%U/%%/%x%", "a", 7, "D"), "/h/7/%/%x%");
    }
}
