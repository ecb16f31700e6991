//! MS-DTYP 2.4.2.3 RPC_SID: the NDR form of [`Sid`] (the type the PAC
//! decoder already had), a conformant structure whose conformance (the
//! sub-authority count) is written before it.
//!
//! ```text
//! max_count u32 (= SubAuthorityCount)
//! Revision u8 (1) | SubAuthorityCount u8 | IdentifierAuthority [6] (big-endian)
//! SubAuthority u32 [SubAuthorityCount]
//! ```

pub use adjoin_auth::pac::Sid;

use super::{Ndr, NdrReader, NdrWriter};
use crate::error::DecodeError;

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
