//! UUIDs in their DCE wire form (adjoin-ndr's [`Uuid`]) and the
//! presentation syntax ids built on them.

pub use adjoin_ndr::uuid::Uuid;

use crate::codec::{Codec, Reader};
use crate::error::DecodeError;

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

    /// MS-SRVS 1.9: srvsvc, 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0.
    pub const SRVSVC: Self = Self::new(
        Uuid::from_fields(
            0x4b32_4fc8,
            0x1670,
            0x01d3,
            [0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88],
        ),
        3,
        0,
    );

    /// MS-WKST 1.9: wkssvc, 6bffd098-a112-3610-9833-46c3f87e345a v1.0.
    pub const WKSSVC: Self = Self::new(
        Uuid::from_fields(
            0x6bff_d098,
            0xa112,
            0x3610,
            [0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a],
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
            (SyntaxId::SRVSVC, "4b324fc8-1670-01d3-1278-5a47bf6ee188"),
            (SyntaxId::WKSSVC, "6bffd098-a112-3610-9833-46c3f87e345a"),
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
