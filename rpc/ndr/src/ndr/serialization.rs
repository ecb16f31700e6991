//! MS-RPCE 2.2.6 type serialization version 1: an NDR value outside any
//! RPC call (the PAC's KERB_VALIDATION_INFO, MS-PAC 2.5), behind two small
//! headers and a top-level unique pointer.
//!
//! ```text
//! common header (MS-RPCE 2.2.6.1), 8 bytes
//!   Version = 1 | Endianness = 0x10 | CommonHeaderLength = 8 (u16) | Filler (u32, 0xcccccccc)
//! private header (2.2.6.2), 8 bytes
//!   ObjectBufferLength (u32, multiple of 8) | Filler (u32, 0)
//! object buffer: the top-level pointer's referent id, then the value
//!   (scalars, then the referents of its embedded pointers), padded to 8.
//! ```
//!
//! Alignment is relative to the object buffer's start (the headers are 16
//! bytes, so it is the same as relative to the serialization's start).

use super::{Ndr, NdrReader, NdrWriter};
use crate::codec::{Reader, padding};
use crate::error::DecodeError;

/// MS-RPCE 2.2.6.1: the common header's version.
const VERSION: u8 = 1;
/// MS-RPCE 2.2.6.1: 0x10 is little-endian (NDR's drep).
const LITTLE_ENDIAN: u8 = 0x10;
/// MS-RPCE 2.2.6.1: the common header is 8 bytes.
const COMMON_HEADER_LENGTH: u16 = 8;
/// MS-RPCE 2.2.6.1: the common header's `Filler`.
const COMMON_FILLER: u32 = 0xcccc_cccc;
/// MS-RPCE 2.2.6.2: the object buffer is padded to a multiple of 8.
const OBJECT_ALIGN: usize = 8;

/// Reads a type serialization version 1 of `T`: checks the headers, then
/// reads the top-level unique pointer and its referent from the object
/// buffer the private header announces. A null top-level pointer is
/// `None`. Only the padding to a multiple of 8 may follow the value; bytes
/// after the object buffer are not looked at.
pub fn decode_type_serialization_v1<T: Ndr + Default>(
    bytes: &[u8],
) -> Result<Option<T>, DecodeError> {
    let mut r = Reader::new("NDR type serialization header", bytes);
    expect_header("Version", r.u8()?.into(), VERSION.into())?;
    expect_header("Endianness", r.u8()?.into(), LITTLE_ENDIAN.into())?;
    expect_header(
        "CommonHeaderLength",
        r.u16()?.into(),
        COMMON_HEADER_LENGTH.into(),
    )?;
    r.u32()?; // Filler (0xcccccccc)
    let object_length = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
    r.u32()?; // Filler (0)
    let mut r = NdrReader::new(r.take(object_length)?);
    let value = Option::<T>::decode_ndr(&mut r)?;
    match r.remaining() {
        0..OBJECT_ALIGN => Ok(value),
        extra => Err(DecodeError::TrailingBytes {
            what: "NDR object buffer",
            extra,
        }),
    }
}

/// Writes `value` as a type serialization version 1: the headers, a
/// non-null top-level pointer and the value, padded to a multiple of 8.
pub fn encode_type_serialization_v1<T: Ndr + Default>(value: &T) -> Vec<u8> {
    let mut w = NdrWriter::new();
    w.referent(true);
    value.encode_ndr(&mut w);
    w.align(OBJECT_ALIGN);
    let object = w.into_bytes();
    let mut out = Vec::with_capacity(16 + object.len());
    out.extend_from_slice(&[VERSION, LITTLE_ENDIAN]);
    out.extend_from_slice(&COMMON_HEADER_LENGTH.to_le_bytes());
    out.extend_from_slice(&COMMON_FILLER.to_le_bytes());
    // A value this large cannot be carried anywhere a PAC goes.
    let length = u32::try_from(object.len()).unwrap_or(u32::MAX);
    debug_assert_eq!(padding(object.len(), OBJECT_ALIGN), 0);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&object);
    out
}

fn expect_header(field: &'static str, value: u32, expected: u32) -> Result<(), DecodeError> {
    match value == expected {
        true => Ok(()),
        false => Err(DecodeError::SerializationHeader {
            field,
            value,
            expected,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Type serialization v1 headers around `body`.
    fn serialized(body: &[u8]) -> Vec<u8> {
        let mut out = vec![1, 0x10, 8, 0, 0xcc, 0xcc, 0xcc, 0xcc];
        out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn header_fields_are_checked() {
        let good = serialized(&[0; 8]);
        assert_eq!(decode_type_serialization_v1::<u32>(&good), Ok(None));
        for (i, field) in [(0, "Version"), (1, "Endianness"), (2, "CommonHeaderLength")] {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            match decode_type_serialization_v1::<u32>(&bad).unwrap_err() {
                DecodeError::SerializationHeader { field: f, .. } => assert_eq!(f, field),
                e => panic!("{e}"),
            }
        }
        let mut long = good.clone();
        long[8] = 9;
        assert!(matches!(
            decode_type_serialization_v1::<u32>(&long),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn leftover_bytes_beyond_padding_are_rejected() {
        // A referent, a u32 and 4 bytes of padding: fine.
        let ok = serialized(&[0, 0, 2, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decode_type_serialization_v1::<u32>(&ok), Ok(Some(7)));
        let bad = serialized(&[0, 0, 2, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode_type_serialization_v1::<u32>(&bad),
            Err(DecodeError::TrailingBytes {
                what: "NDR object buffer",
                extra: 8
            })
        );
    }

    #[test]
    fn encoding_round_trips_with_padding() {
        let bytes = encode_type_serialization_v1(&7u32);
        assert_eq!(bytes, serialized(&[0, 0, 2, 0, 7, 0, 0, 0]));
        assert_eq!(decode_type_serialization_v1::<u32>(&bytes), Ok(Some(7)));
        let bytes = encode_type_serialization_v1(&[1u8; 5]);
        assert_eq!(bytes.len(), 16 + 16);
        assert_eq!(
            decode_type_serialization_v1::<[u8; 5]>(&bytes),
            Ok(Some([1; 5]))
        );
    }
}
