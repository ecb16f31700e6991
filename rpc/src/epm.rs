//! The endpoint mapper's `ept_map` (C706 Appendix O, MS-RPCE 2.2.1.2)
//! and protocol towers (C706 Appendix L).

use crate::codec::Codec;
use crate::error::DecodeError;
use crate::ndr::{Ndr, NdrReader, NdrWriter};
use crate::ndr_params;
use crate::uuid::{SyntaxId, Uuid};

/// ept_map's operation number.
pub const EPT_MAP: u16 = 3;

/// Protocol identifiers of tower floors (C706 Appendix I).
const PROTO_UUID: u8 = 0x0d;
const PROTO_NCACN: u8 = 0x0b;
const PROTO_TCP: u8 = 0x07;
const PROTO_IP: u8 = 0x09;

/// C706 Appendix L `twr_t`: a conformant structure holding the tower's
/// octets (floor count u16, then per floor: lhs length u16, lhs, rhs
/// length u16, rhs; all little-endian except ports and addresses).
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Tower(pub Vec<u8>);

impl Ndr for Tower {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.count(self.0.len());
        w.count(self.0.len());
        w.bytes(&self.0);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let max = r.count()?;
        let len = r.count()?;
        if len != max {
            return Err(DecodeError::Invalid {
                what: "twr_t",
                why: "tower_length differs from its conformance",
            });
        }
        Ok(Self(r.bytes(len)?.to_vec()))
    }
}

impl Tower {
    /// The floors as `(lhs, rhs)` pairs; `None` if the octets are malformed.
    pub fn floors(&self) -> Option<Vec<(&[u8], &[u8])>> {
        let mut rest = self.0.as_slice();
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(head)
        };
        let count = u16::from_le_bytes(take(2)?.try_into().ok()?);
        let mut floors = Vec::with_capacity(usize::from(count).min(16));
        for _ in 0..count {
            let lhs_len = u16::from_le_bytes(take(2)?.try_into().ok()?);
            let lhs = take(usize::from(lhs_len))?;
            let rhs_len = u16::from_le_bytes(take(2)?.try_into().ok()?);
            let rhs = take(usize::from(rhs_len))?;
            floors.push((lhs, rhs));
        }
        Some(floors)
    }
}

fn floor(out: &mut Vec<u8>, lhs: &[u8], rhs: &[u8]) {
    out.extend_from_slice(&(lhs.len() as u16).to_le_bytes());
    out.extend_from_slice(lhs);
    out.extend_from_slice(&(rhs.len() as u16).to_le_bytes());
    out.extend_from_slice(rhs);
}

fn syntax_floor(out: &mut Vec<u8>, syntax: SyntaxId) {
    let mut lhs = vec![PROTO_UUID];
    lhs.extend_from_slice(&syntax.uuid.to_bytes());
    lhs.extend_from_slice(&syntax.major.to_le_bytes());
    floor(out, &lhs, &syntax.minor.to_le_bytes());
}

/// The five-floor ncacn_ip_tcp tower for `syntax` over NDR 2.0 that
/// ept_map is asked about (port and address zero).
pub fn tcp_tower(syntax: SyntaxId) -> Tower {
    let mut out = 5u16.to_le_bytes().to_vec();
    syntax_floor(&mut out, syntax);
    syntax_floor(&mut out, SyntaxId::NDR20);
    floor(&mut out, &[PROTO_NCACN], &[0, 0]);
    floor(&mut out, &[PROTO_TCP], &[0, 0]);
    floor(&mut out, &[PROTO_IP], &[0, 0, 0, 0]);
    Tower(out)
}

ndr_params! {
    /// C706 O.2.5 ept_map, `[in]`.
    pub struct EptMapRequest {
        /// `[in, ptr] uuid_p_t object`.
        pub object: Option<Uuid>,
        /// `[in, ptr] twr_p_t map_tower`.
        pub map_tower: Option<Tower>,
        /// `[in, out] ept_lookup_handle_t entry_handle` (a context handle).
        pub entry_handle: [u8; 20],
        /// `[in] unsigned32 max_towers`.
        pub max_towers: u32,
    }
}

impl EptMapRequest {
    /// A first lookup of `tower`, asking for up to four answers.
    pub fn new(tower: Tower) -> Self {
        Self {
            object: Some(Uuid::NIL),
            map_tower: Some(tower),
            entry_handle: [0; 20],
            max_towers: 4,
        }
    }
}

/// ept_map's `[out, ptr, size_is(max_towers), length_is(*num_towers)]
/// twr_p_t towers[]`: a conformant varying array of full pointers.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct TowerArray(pub Vec<Option<Tower>>);

impl Ndr for TowerArray {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.count(self.0.len());
        w.u32(0);
        w.count(self.0.len());
        for t in &self.0 {
            t.encode_scalars(w);
        }
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        for t in &self.0 {
            t.encode_buffers(w);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let max = r.count()?;
        let actual = r.variance("ept_map towers", max)?;
        let mut out = Vec::with_capacity(actual.min(r.remaining() / 4));
        for _ in 0..actual {
            out.push(Option::<Tower>::decode_scalars(r)?);
        }
        Ok(Self(out))
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        for t in &mut self.0 {
            t.decode_buffers(r)?;
        }
        Ok(())
    }
}

ndr_params! {
    /// C706 O.2.5 ept_map, `[out]`.
    pub struct EptMapResponse {
        /// `entry_handle`.
        pub entry_handle: [u8; 20],
        /// `[out] unsigned32 *num_towers`.
        pub num_towers: u32,
        /// `towers`.
        pub towers: TowerArray,
        /// `[out] error_status_t *status`.
        pub status: u32,
    }
}

impl EptMapResponse {
    /// The TCP port of the first tower with a TCP floor.
    pub fn tcp_port(&self) -> Option<u16> {
        if self.status != 0 {
            return None;
        }
        self.towers.0.iter().flatten().find_map(|t| {
            t.floors()?
                .into_iter()
                .find_map(|(lhs, rhs)| match (lhs, rhs) {
                    ([PROTO_TCP], [hi, lo]) => Some(u16::from_be_bytes([*hi, *lo])),
                    _ => None,
                })
        })
    }
}
