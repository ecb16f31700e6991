//! MS-DTYP 2.3.5 LARGE_INTEGER as the older interfaces send it: two 32-bit
//! halves (the FILETIMEs of NETLOGON, SAMR and the PAC).

use super::{Ndr, NdrReader, NdrWriter};
use crate::error::DecodeError;

/// MS-SAMR 6 (Appendix A) OLD_LARGE_INTEGER, and MS-DTYP 2.3.3 FILETIME
/// (`dwLowDateTime`, `dwHighDateTime`), which has the same wire form: a
/// 64-bit value, such as a count of 100 ns since 1601-01-01, sent as two
/// 32-bit halves, so 4-byte aligned.
///
/// ```text
/// LowPart u32 | HighPart i32
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct OldLargeInteger(pub u64);

impl OldLargeInteger {
    /// "Never" (an account that does not expire, a password that need not
    /// change).
    pub const NEVER: Self = Self(0x7fff_ffff_ffff_ffff);
}

impl Ndr for OldLargeInteger {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.u32(self.0 as u32);
        w.u32((self.0 >> 32) as u32);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let low = u64::from(r.u32()?);
        let high = u64::from(r.u32()?);
        Ok(Self(high << 32 | low))
    }
}
