//! MS-DTYP 2.4.2.3 RPC_SID: a conformant structure whose conformance (the
//! sub-authority count) is written before it.

use core::fmt;
use core::str::FromStr;

use super::{Ndr, NdrReader, NdrWriter};
use crate::error::DecodeError;

/// MS-DTYP 2.4.2.2: at most 15 sub-authorities.
const MAX_SUB_AUTHORITIES: usize = 15;

/// A security identifier.
///
/// ```text
/// max_count u32 (= SubAuthorityCount)
/// Revision u8 (1) | SubAuthorityCount u8 | IdentifierAuthority [6] (big-endian)
/// SubAuthority u32 [SubAuthorityCount]
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    /// The 48-bit identifier authority (5 for NT AUTHORITY).
    pub authority: u64,
    /// The sub-authorities (domain identifier, then RID).
    pub sub_authorities: Vec<u32>,
}

impl Sid {
    /// A SID from its parts.
    pub fn new(authority: u64, sub_authorities: Vec<u32>) -> Self {
        Self {
            authority,
            sub_authorities,
        }
    }

    /// This (domain) SID with `rid` appended.
    pub fn with_rid(&self, rid: u32) -> Self {
        let mut sid = self.clone();
        sid.sub_authorities.push(rid);
        sid
    }

    /// The last sub-authority (the RID of an account SID).
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities.last().copied()
    }

    /// The binary form of MS-DTYP 2.4.2.2 (as LDAP's `objectSid` holds it).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![1, self.sub_authorities.len() as u8];
        out.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for s in &self.sub_authorities {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-1-{}", self.authority)?;
        for s in &self.sub_authorities {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({self})")
    }
}

/// A string that is not `S-1-<authority>-<sub>...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SID: {0:?} (expected S-1-<authority>-<sub-authority>..., at most 15 of them)")]
pub struct ParseSidError(pub String);

impl FromStr for Sid {
    type Err = ParseSidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseSidError(s.to_owned());
        let rest = s
            .strip_prefix("S-1-")
            .or_else(|| s.strip_prefix("s-1-"))
            .ok_or_else(bad)?;
        let mut parts = rest.split('-');
        let authority: u64 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if authority >= 1 << 48 {
            return Err(bad());
        }
        let sub_authorities = parts
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        if sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return Err(bad());
        }
        Ok(Self::new(authority, sub_authorities))
    }
}

impl Ndr for Sid {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        let subs = &self.sub_authorities[..self.sub_authorities.len().min(MAX_SUB_AUTHORITIES)];
        w.count(subs.len());
        w.bytes(&[1, subs.len() as u8]);
        w.bytes(&self.authority.to_be_bytes()[2..]);
        for s in subs {
            w.u32(*s);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let max = r.count()?;
        let [revision, count] = [r.bytes(1)?[0], r.bytes(1)?[0]];
        let count = usize::from(count);
        // MS-DTYP 2.4.2.3: Revision MUST be 1; the conformance is the count.
        if revision != 1 || count != max || count > MAX_SUB_AUTHORITIES {
            return Err(DecodeError::BadSid {
                revision,
                count,
                max,
            });
        }
        let mut authority = [0; 8];
        authority[2..].copy_from_slice(r.bytes(6)?);
        let mut sub_authorities = Vec::with_capacity(count);
        for _ in 0..count {
            sub_authorities.push(r.u32()?);
        }
        Ok(Self::new(u64::from_be_bytes(authority), sub_authorities))
    }
}
