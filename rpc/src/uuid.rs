//! UUIDs in their DCE wire form and the presentation syntax ids built on them.

use std::fmt;
use std::str::FromStr;

use crate::codec::{Codec, Reader};
use crate::error::DecodeError;

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

/// C706 12.6.3.1 `p_syntax_id_t`: an interface or transfer syntax and its
/// version.
///
/// ```text
/// if_uuid uuid_t (16) | if_version u32 (major in the low 16 bits, minor in the high 16)
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SyntaxId {
    /// The interface or transfer syntax UUID.
    pub uuid: Uuid,
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

impl SyntaxId {
    /// C706 Appendix I (MS-RPCE 2.2.4.12): NDR 2.0,
    /// 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0.
    pub const NDR20: Self = Self::new(
        Uuid::from_fields(
            0x8a88_5d04,
            0x1ceb,
            0x11c9,
            [0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60],
        ),
        2,
        0,
    );

    /// MS-RPCE 2.2.4.13: NDR64, 71710533-beba-4937-8319-b5dbef9ccc36 v1.0.
    pub const NDR64: Self = Self::new(
        Uuid::from_fields(
            0x7171_0533,
            0xbeba,
            0x4937,
            [0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36],
        ),
        1,
        0,
    );

    /// MS-NRPC 1.9: NETLOGON, 12345678-1234-abcd-ef00-01234567cffb v1.0.
    pub const NETLOGON: Self = Self::new(
        Uuid::from_fields(
            0x1234_5678,
            0x1234,
            0xabcd,
            [0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0xcf, 0xfb],
        ),
        1,
        0,
    );

    /// MS-LSAD 1.9: lsarpc, 12345778-1234-abcd-ef00-0123456789ab v0.0.
    pub const LSA: Self = Self::new(
        Uuid::from_fields(
            0x1234_5778,
            0x1234,
            0xabcd,
            [0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab],
        ),
        0,
        0,
    );

    /// MS-SAMR 1.9: samr, 12345778-1234-abcd-ef00-0123456789ac v1.0.
    pub const SAMR: Self = Self::new(
        Uuid::from_fields(
            0x1234_5778,
            0x1234,
            0xabcd,
            [0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac],
        ),
        1,
        0,
    );

    /// C706 Appendix O: the endpoint mapper,
    /// e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0.
    pub const EPM: Self = Self::new(
        Uuid::from_fields(
            0xe1af_8308,
            0x5d1f,
            0x11c9,
            [0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa],
        ),
        3,
        0,
    );

    /// A syntax id from its parts.
    pub const fn new(uuid: Uuid, major: u16, minor: u16) -> Self {
        Self { uuid, major, minor }
    }

    /// MS-RPCE 3.3.1.5.3: the bind-time feature negotiation "transfer syntax",
    /// 6cb71c2c-9812-4540-xxxx-xxxxxxxxxxxx v1.0 whose last eight bytes are the
    /// BindTimeFeatureNegotiationBitmask (MS-RPCE 2.2.2.14).
    pub const fn bind_time_features(features: BindTimeFeatures) -> Self {
        let mut data4 = [0; 8];
        data4[0] = features.bits();
        Self::new(Uuid::from_fields(0x6cb7_1c2c, 0x9812, 0x4540, data4), 1, 0)
    }

    /// The feature bits if this is a bind-time feature negotiation syntax
    /// (only the first bitmask byte is defined).
    pub fn as_bind_time_features(&self) -> Option<BindTimeFeatures> {
        let u = &self.uuid;
        (u.data1 == 0x6cb7_1c2c && u.data2 == 0x9812 && u.data3 == 0x4540)
            .then(|| BindTimeFeatures::from_bits_retain(u.data4[0]))
    }
}

impl Codec for SyntaxId {
    fn encode(&self, out: &mut Vec<u8>) {
        self.uuid.encode(out);
        self.major.encode(out);
        self.minor.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            uuid: Uuid::read(r)?,
            major: r.u16()?,
            minor: r.u16()?,
        })
    }
}

bitflags::bitflags! {
    /// MS-RPCE 2.2.2.14 BindTimeFeatureNegotiationBitmask (first byte).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct BindTimeFeatures: u8 {
        /// Security context multiplexing (MS-RPCE 3.3.1.5.4).
        const SECURITY_CONTEXT_MULTIPLEXING = 0x01;
        /// Keep the connection after an orphaned PDU (MS-RPCE 3.3.1.5.10).
        const KEEP_CONNECTION_ON_ORPHAN = 0x02;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_mixed_endian() {
        let ndr = SyntaxId::NDR20.to_bytes();
        assert_eq!(
            ndr,
            [
                0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10,
                0x48, 0x60, 2, 0, 0, 0
            ]
        );
        assert_eq!(
            SyntaxId::read_bytes("syntax", &ndr).unwrap(),
            SyntaxId::NDR20
        );
        let u = SyntaxId::EPM.uuid;
        assert_eq!(Uuid::from_wire(u.to_wire()), u);
    }

    #[test]
    fn display_and_parse() {
        let cases = [
            (SyntaxId::NDR20, "8a885d04-1ceb-11c9-9fe8-08002b104860"),
            (SyntaxId::NDR64, "71710533-beba-4937-8319-b5dbef9ccc36"),
            (SyntaxId::NETLOGON, "12345678-1234-abcd-ef00-01234567cffb"),
            (SyntaxId::LSA, "12345778-1234-abcd-ef00-0123456789ab"),
            (SyntaxId::SAMR, "12345778-1234-abcd-ef00-0123456789ac"),
            (SyntaxId::EPM, "e1af8308-5d1f-11c9-91a4-08002b14a0fa"),
        ];
        for (syntax, text) in cases {
            assert_eq!(syntax.uuid.to_string(), text);
            assert_eq!(text.parse::<Uuid>().unwrap(), syntax.uuid);
            assert_eq!(text.to_uppercase().parse::<Uuid>().unwrap(), syntax.uuid);
        }
        for bad in [
            "",
            "8a885d04-1ceb-11c9-9fe8-08002b10486",
            "8a885d04-1ceb-11c9-9fe808002b104860",
            "+a885d04-1ceb-11c9-9fe8-08002b104860",
            "8a885d04-1ceb-11c9-9fe8-08002b10486g",
            "8a885d04-1ceb-11c9-9fe8-08002b104860-",
        ] {
            assert!(
                matches!(bad.parse::<Uuid>(), Err(DecodeError::BadUuid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn bind_time_feature_syntax() {
        let all = BindTimeFeatures::all();
        let s = SyntaxId::bind_time_features(all);
        assert_eq!(s.uuid.to_string(), "6cb71c2c-9812-4540-0300-000000000000");
        assert_eq!(s.as_bind_time_features(), Some(all));
        assert_eq!(SyntaxId::NDR20.as_bind_time_features(), None);
    }
}
