//! C706 Appendix A UUIDs (MS-DTYP 2.3.4 GUID) in their DCE wire form: as
//! octets in a PDU ([`Codec`]) and as an NDR structure ([`Ndr`]).

use std::fmt;
use std::str::FromStr;

use crate::codec::{Codec, Reader};
use crate::error::DecodeError;
use crate::ndr::{Ndr, NdrReader, NdrWriter};

/// C706 Appendix A `uuid_t` (MS-DTYP 2.3.4 GUID): the first three fields in
/// the data representation's byte order (little-endian here), the last eight
/// bytes as they are.
///
/// ```text
/// time_low u32 | time_mid u16 | time_hi_and_version u16 | clock_seq[2] node[6]
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid {
    /// `time_low`.
    pub data1: u32,
    /// `time_mid`.
    pub data2: u16,
    /// `time_hi_and_version`.
    pub data3: u16,
    /// `clock_seq_hi_and_reserved`, `clock_seq_low`, `node`.
    pub data4: [u8; 8],
}

impl Uuid {
    /// The all-zero UUID.
    pub const NIL: Self = Self::from_fields(0, 0, 0, [0; 8]);

    /// A UUID from its four fields, as written in
    /// `data1-data2-data3-data4[0..2]-data4[2..8]`.
    pub const fn from_fields(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Self {
        Self {
            data1,
            data2,
            data3,
            data4,
        }
    }

    /// The 16 bytes on the wire.
    pub fn to_wire(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..4].copy_from_slice(&self.data1.to_le_bytes());
        out[4..6].copy_from_slice(&self.data2.to_le_bytes());
        out[6..8].copy_from_slice(&self.data3.to_le_bytes());
        out[8..].copy_from_slice(&self.data4);
        out
    }

    /// The UUID whose wire form is `bytes`.
    pub fn from_wire(bytes: [u8; 16]) -> Self {
        let [a0, a1, a2, a3, b0, b1, c0, c1, d @ ..] = bytes;
        Self {
            data1: u32::from_le_bytes([a0, a1, a2, a3]),
            data2: u16::from_le_bytes([b0, b1]),
            data3: u16::from_le_bytes([c0, c1]),
            data4: d,
        }
    }
}

impl Codec for Uuid {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_wire());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array().map(Self::from_wire)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Uuid {
    type Err = DecodeError;

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case).
    fn from_str(s: &str) -> Result<Self, DecodeError> {
        let bad = || DecodeError::BadUuid(s.to_owned());
        let groups: Vec<&str> = s.split('-').collect();
        let lens = groups.iter().map(|g| g.len()).collect::<Vec<_>>();
        if lens != [8, 4, 4, 4, 12] || !s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let hex = |g: &str| u64::from_str_radix(g, 16).map_err(|_| bad());
        let tail = (hex(groups[3])? << 48) | hex(groups[4])?;
        Ok(Self {
            data1: u32::from_str_radix(groups[0], 16).map_err(|_| bad())?,
            data2: u16::from_str_radix(groups[1], 16).map_err(|_| bad())?,
            data3: u16::from_str_radix(groups[2], 16).map_err(|_| bad())?,
            data4: tail.to_be_bytes(),
        })
    }
}

/// A UUID in NDR: `{u32, u16, u16, u8[8]}`, 4-aligned.
impl Ndr for Uuid {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        w.bytes(&self.to_wire());
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        let mut raw = [0; 16];
        raw.copy_from_slice(r.bytes(16)?);
        Ok(Self::from_wire(raw))
    }
}
