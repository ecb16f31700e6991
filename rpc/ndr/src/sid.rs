//! MS-DTYP 2.4.2 SID: its binary form (2.4.2.2), its NDR form RPC_SID
//! (2.4.2.3) and its string form (2.4.2.1).

use core::fmt;
use core::str::FromStr;

use crate::codec::Reader;
use crate::error::DecodeError;
use crate::ndr::{Ndr, NdrReader, NdrWriter};

/// A security identifier (MS-DTYP 2.4.2).
///
/// ```text
/// 0               1               2               3
/// +---------------+---------------+-------------------------------+
/// | Revision (1)  | SubAuthority- | IdentifierAuthority (6 bytes, |
/// |               | Count (<= 15) | big-endian)                   |
/// +---------------+---------------+-------------------------------+
/// |              ...              | SubAuthority[count] (LE u32)  |
/// +-------------------------------+-------------------------------+
/// ```
///
/// Text form (2.4.2.1): `S-1-<authority>-<sub>-<sub>...`, e.g.
/// `S-1-5-21-1363206593-443088522-3710222682-1103`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    authority: u64,
    sub_authorities: Vec<u32>,
}

impl Sid {
    /// The only SID revision (MS-DTYP 2.4.2: "MUST be set to 0x01").
    pub const REVISION: u8 = 1;
    /// MS-DTYP 2.4.2: "The maximum number of elements allowed is 15."
    pub const MAX_SUB_AUTHORITIES: usize = 15;
    /// `S-1-0` with no sub-authorities: a value to overwrite while decoding.
    const PLACEHOLDER: Self = Self {
        authority: 0,
        sub_authorities: Vec::new(),
    };
    /// The identifier authority is 48 bits.
    const MAX_AUTHORITY: u64 = (1 << 48) - 1;

    /// A SID from its identifier authority (at most 48 bits) and up to 15
    /// sub-authorities.
    pub fn new(authority: u64, sub_authorities: &[u32]) -> Result<Self, DecodeError> {
        if authority > Self::MAX_AUTHORITY {
            return Err(DecodeError::InvalidSid {
                reason: "identifier authority above 48 bits",
            });
        }
        if sub_authorities.len() > Self::MAX_SUB_AUTHORITIES {
            return Err(DecodeError::InvalidSid {
                reason: "more than 15 sub-authorities",
            });
        }
        Ok(Self {
            authority,
            sub_authorities: sub_authorities.to_vec(),
        })
    }

    /// The 48-bit identifier authority (5 for NT AUTHORITY).
    pub fn identifier_authority(&self) -> u64 {
        self.authority
    }

    /// The sub-authorities, the domain's first and the RID last.
    pub fn sub_authorities(&self) -> &[u32] {
        &self.sub_authorities
    }

    /// The last sub-authority: the relative identifier of an account SID.
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities.last().copied()
    }

    /// This (domain) SID with `rid` appended.
    pub fn with_rid(&self, rid: u32) -> Result<Self, DecodeError> {
        let mut subs = self.sub_authorities.clone();
        subs.push(rid);
        Self::new(self.authority, &subs)
    }

    /// Whether `self` is `domain` plus one RID.
    pub fn is_in_domain(&self, domain: &Self) -> bool {
        self.authority == domain.authority
            && self.sub_authorities.len() == domain.sub_authorities.len() + 1
            && self.sub_authorities.starts_with(&domain.sub_authorities)
    }

    /// Reads the binary form (MS-DTYP 2.4.2.2); `bytes` must hold exactly one SID.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("SID", bytes);
        let sid = Self::read(&mut r)?;
        r.expect_empty()?;
        Ok(sid)
    }

    /// Reads one binary SID from `r`.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (revision, count) = (r.u8()?, r.u8()?);
        let authority = r.take(6)?;
        Self::read_body(r, revision, count, authority)
    }

    /// The rest of a SID after Revision, SubAuthorityCount and IdentifierAuthority.
    fn read_body(
        r: &mut Reader<'_>,
        revision: u8,
        count: u8,
        authority: &[u8],
    ) -> Result<Self, DecodeError> {
        // MS-DTYP 2.4.2: Revision MUST be 0x01.
        if revision != Self::REVISION {
            return Err(DecodeError::InvalidSid {
                reason: "revision is not 1",
            });
        }
        if usize::from(count) > Self::MAX_SUB_AUTHORITIES {
            return Err(DecodeError::InvalidSid {
                reason: "more than 15 sub-authorities",
            });
        }
        let authority = authority
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let subs = (0..count).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
        Self::new(authority, &subs)
    }

    /// The binary form (MS-DTYP 2.4.2.2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 * self.sub_authorities.len());
        out.push(Self::REVISION);
        // At most 15 by construction.
        out.push(self.sub_authorities.len() as u8);
        out.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for sub in &self.sub_authorities {
            out.extend_from_slice(&sub.to_le_bytes());
        }
        out
    }
}

impl Default for Sid {
    /// `S-1-0` with no sub-authorities (a value to overwrite while decoding).
    fn default() -> Self {
        Self::PLACEHOLDER
    }
}

impl fmt::Display for Sid {
    /// MS-DTYP 2.4.2.1: the authority in decimal below 2^32, else in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.authority {
            a if a < 1 << 32 => write!(f, "S-1-{a}")?,
            a => write!(f, "S-1-0x{a:012X}")?,
        }
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({self})")
    }
}

impl FromStr for Sid {
    type Err = DecodeError;

    /// Parses `S-1-<authority>(-<sub>)*`: the authority in decimal or as
    /// `0x` and hex digits, sub-authorities in decimal.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| DecodeError::InvalidSid { reason };
        let mut parts = s.split('-');
        if !parts.next().is_some_and(|p| p.eq_ignore_ascii_case("S")) {
            return Err(bad("does not start with S-"));
        }
        if parts.next() != Some("1") {
            return Err(bad("revision is not 1"));
        }
        let authority = parts.next().ok_or(bad("no identifier authority"))?;
        let authority = match authority
            .strip_prefix("0x")
            .or(authority.strip_prefix("0X"))
        {
            Some(hex) => parse_digits(hex, 16),
            None => parse_digits(authority, 10),
        }
        .ok_or(bad("identifier authority is not a number"))?;
        let subs = parts
            .map(|p| parse_digits(p, 10).and_then(|v| u32::try_from(v).ok()))
            .collect::<Option<Vec<u32>>>()
            .ok_or(bad("sub-authority is not a 32-bit number"))?;
        Self::new(authority, &subs)
    }
}

/// Digits only (no sign, no spaces), at most 48 bits.
fn parse_digits(text: &str, radix: u32) -> Option<u64> {
    if text.is_empty() || !text.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(text, radix)
        .ok()
        .filter(|&v| v <= Sid::MAX_AUTHORITY)
}

/// MS-DTYP 2.4.2.3 RPC_SID: a conformant structure whose conformance (the
/// sub-authority count) is written before it.
///
/// ```text
/// max_count u32 (= SubAuthorityCount)
/// Revision u8 (1) | SubAuthorityCount u8 | IdentifierAuthority [6] (big-endian)
/// SubAuthority u32 [SubAuthorityCount]
/// ```
impl Ndr for Sid {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        // A Sid holds at most 15 sub-authorities by construction.
        let subs = self.sub_authorities();
        w.count(subs.len());
        w.bytes(&[Self::REVISION, subs.len() as u8]);
        w.bytes(&self.identifier_authority().to_be_bytes()[2..]);
        for s in subs {
            w.u32(*s);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let max = r.count()?;
        let [revision, count] = [r.bytes(1)?[0], r.bytes(1)?[0]];
        let count = usize::from(count);
        let bad = || DecodeError::BadSid {
            revision,
            count,
            max,
        };
        // MS-DTYP 2.4.2.3: the conformance is the count; Sid::new checks
        // the rest (revision 1 is checked here, at most 15 there).
        if revision != Self::REVISION || count != max || count > Self::MAX_SUB_AUTHORITIES {
            return Err(bad());
        }
        let mut authority = [0; 8];
        authority[2..].copy_from_slice(r.bytes(6)?);
        let mut subs = Vec::with_capacity(count);
        for _ in 0..count {
            subs.push(r.u32()?);
        }
        Self::new(u64::from_be_bytes(authority), &subs).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "S-1-5-21-1363206593-443088522-3710222682-1103";

    #[test]
    fn text_form_round_trips() {
        let sid: Sid = ALICE.parse().unwrap();
        assert_eq!(sid.identifier_authority(), 5);
        assert_eq!(
            sid.sub_authorities(),
            [21, 1363206593, 443088522, 3710222682, 1103]
        );
        assert_eq!(sid.rid(), Some(1103));
        assert_eq!(sid.to_string(), ALICE);
        assert_eq!(
            "S-1-5-32-544".parse::<Sid>().unwrap().to_string(),
            "S-1-5-32-544"
        );
        assert_eq!("s-1-1-0".parse::<Sid>().unwrap().to_string(), "S-1-1-0");
    }

    #[test]
    fn large_authorities_print_in_hex() {
        let sid = Sid::new(0x0000_1234_5678_9abc, &[1]).unwrap();
        assert_eq!(sid.to_string(), "S-1-0x123456789ABC-1");
        assert_eq!("S-1-0x123456789ABC-1".parse::<Sid>().unwrap(), sid);
    }

    #[test]
    fn bad_text_is_rejected() {
        for bad in [
            "",
            "S",
            "S-1",
            "S-2-5",
            "X-1-5",
            "S-1-5-",
            "S-1-5-x",
            "S-1--5",
            "S-1-5-4294967296",
            "S-1-281474976710656",
            "S-1-+5",
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        ] {
            assert!(bad.parse::<Sid>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn binary_form_round_trips() {
        let sid: Sid = ALICE.parse().unwrap();
        let bytes = sid.to_bytes();
        assert_eq!(&bytes[..8], [1, 5, 0, 0, 0, 0, 0, 5]);
        assert_eq!(&bytes[8..12], 21u32.to_le_bytes());
        assert_eq!(Sid::from_bytes(&bytes).unwrap(), sid);
        assert!(Sid::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Sid::from_bytes(&extra).is_err());
        let mut bad_revision = bytes;
        bad_revision[0] = 2;
        assert!(Sid::from_bytes(&bad_revision).is_err());
    }

    #[test]
    fn domain_and_rid_helpers() {
        let domain: Sid = "S-1-5-21-1-2-3".parse().unwrap();
        let user = domain.with_rid(1103).unwrap();
        assert_eq!(user.to_string(), "S-1-5-21-1-2-3-1103");
        assert!(user.is_in_domain(&domain));
        assert!(!domain.is_in_domain(&domain));
        let full = Sid::new(5, &[1; 15]).unwrap();
        assert!(full.with_rid(1).is_err());
        assert!(Sid::new(5, &[1; 16]).is_err());
    }
}
