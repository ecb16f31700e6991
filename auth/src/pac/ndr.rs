//! The little NDR (MS-RPCE 2.2.6 type serialization version 1, over C706
//! chapter 14 NDR 1.0, little-endian) that the PAC's KERB_VALIDATION_INFO
//! needs: aligned primitives, unique pointers, conformant arrays,
//! RPC_UNICODE_STRING bodies and RPC_SID. The general NDR engine belongs to
//! the rpc crate; this one only reads.
//!
//! ```text
//! common header (MS-RPCE 2.2.6.1), 8 bytes
//!   Version = 1 | Endianness = 0x10 | CommonHeaderLength = 8 (u16) | Filler (u32)
//! private header (2.2.6.2), 8 bytes
//!   ObjectBufferLength (u32, multiple of 8) | Filler (u32)
//! object buffer: the top-level pointer's referent id, then the structure,
//!   then the referents of its embedded pointers in the order the pointers
//!   appear (each referent followed by the referents it points to).
//! ```
//!
//! Alignment is relative to the object buffer's start (the headers are 16
//! bytes, so it is the same as relative to the serialization's start).

use super::error::PacError;
use super::reader::{Reader, utf16le};
use super::sid::Sid;

/// MS-RPCE 2.2.6.1: the common header's version.
const VERSION: u8 = 1;
/// MS-RPCE 2.2.6.1: 0x10 is little-endian (NDR's drep).
const LITTLE_ENDIAN: u8 = 0x10;
/// MS-RPCE 2.2.6.1: the common header is 8 bytes.
const COMMON_HEADER_LENGTH: u16 = 8;

/// Reads NDR from an object buffer.
#[derive(Debug)]
pub(crate) struct NdrReader<'a> {
    r: Reader<'a>,
}

/// An RPC_UNICODE_STRING's inline part (MS-DTYP 2.3.10): the lengths in
/// bytes and whether its buffer pointer is non-null; the characters follow
/// later, as a deferred referent.
///
/// ```text
/// Length (u16) | MaximumLength (u16) | Buffer (unique pointer, u32)
/// deferred: max_count (u32) | offset (u32) | actual_count (u32) | WCHAR[actual_count]
/// ```
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnicodeStringHeader {
    what: &'static str,
    length: u16,
    maximum_length: u16,
    present: bool,
}

impl<'a> NdrReader<'a> {
    /// Checks the type serialization version 1 headers of `bytes` and
    /// returns a reader over the object buffer they announce.
    pub(crate) fn type_serialization_v1(bytes: &'a [u8]) -> Result<Self, PacError> {
        let mut r = Reader::new("NDR type serialization header", bytes);
        let version = r.u8()?;
        expect_header("Version", version.into(), VERSION.into())?;
        let endianness = r.u8()?;
        expect_header("Endianness", endianness.into(), LITTLE_ENDIAN.into())?;
        let header_length = r.u16()?;
        expect_header(
            "CommonHeaderLength",
            header_length.into(),
            COMMON_HEADER_LENGTH.into(),
        )?;
        r.skip(4)?; // Filler (0xcccccccc)
        let object_length = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
        r.skip(4)?; // Filler (0)
        let object = r.take(object_length)?;
        Ok(Self {
            r: Reader::new("NDR object buffer", object),
        })
    }

    /// Skips the padding up to the next multiple of `n` (1, 2, 4 or 8).
    pub(crate) fn align(&mut self, n: usize) -> Result<(), PacError> {
        let pad = (n - self.r.position() % n) % n;
        self.r.skip(pad)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, PacError> {
        self.align(2)?;
        self.r.u16()
    }

    pub(crate) fn u32(&mut self) -> Result<u32, PacError> {
        self.align(4)?;
        self.r.u32()
    }

    /// `count` bytes with no alignment (an array of CHAR or UCHAR).
    pub(crate) fn bytes(&mut self, count: usize) -> Result<&'a [u8], PacError> {
        self.r.take(count)
    }

    /// MS-DTYP 2.3.3 FILETIME: `dwLowDateTime`, `dwHighDateTime` (two u32s,
    /// so 4-byte aligned), as one 64-bit count of 100 ns since 1601.
    pub(crate) fn filetime(&mut self) -> Result<u64, PacError> {
        let low = self.u32()?;
        let high = self.u32()?;
        Ok((u64::from(high) << 32) | u64::from(low))
    }

    /// A unique pointer's referent id: whether the pointer is non-null (its
    /// referent then comes later, in deferred order).
    pub(crate) fn pointer(&mut self) -> Result<bool, PacError> {
        Ok(self.u32()? != 0)
    }

    /// A conformant array's `max_count`, which MUST equal its `size_is`
    /// value `expected`.
    pub(crate) fn conformance(
        &mut self,
        what: &'static str,
        expected: u32,
    ) -> Result<(), PacError> {
        expect(what, self.u32()?, expected)
    }

    /// The inline part of an RPC_UNICODE_STRING.
    pub(crate) fn unicode_string_header(
        &mut self,
        what: &'static str,
    ) -> Result<UnicodeStringHeader, PacError> {
        let length = self.u16()?;
        let maximum_length = self.u16()?;
        let present = self.pointer()?;
        Ok(UnicodeStringHeader {
            what,
            length,
            maximum_length,
            present,
        })
    }

    /// The deferred characters of an RPC_UNICODE_STRING: a conformant
    /// varying array `[size_is(MaximumLength/2), length_is(Length/2)]`.
    /// A null buffer reads as the empty string.
    pub(crate) fn unicode_string_body(
        &mut self,
        h: UnicodeStringHeader,
    ) -> Result<String, PacError> {
        // MS-DTYP 2.3.10: Length MUST be even and at most MaximumLength.
        if !h.length.is_multiple_of(2) || h.length > h.maximum_length {
            return Err(PacError::BadString { what: h.what });
        }
        if !h.present {
            expect(h.what, h.length.into(), 0)?;
            return Ok(String::new());
        }
        self.conformance(h.what, u32::from(h.maximum_length / 2))?;
        expect(h.what, self.u32()?, 0)?; // offset
        let count = self.u32()?;
        expect(h.what, count, u32::from(h.length / 2))?;
        let chars = self.bytes(usize::from(h.length))?;
        utf16le(h.what, chars)
    }

    /// A deferred RPC_SID (MS-DTYP 2.4.2.3), a conformant structure:
    ///
    /// ```text
    /// max_count (u32) | Revision (u8) | SubAuthorityCount (u8)
    /// IdentifierAuthority (6 bytes) | SubAuthority[SubAuthorityCount] (u32)
    /// ```
    pub(crate) fn rpc_sid(&mut self) -> Result<Sid, PacError> {
        let max_count = self.u32()?;
        let revision = self.bytes(1)?[0];
        let count = self.bytes(1)?[0];
        expect("RPC_SID SubAuthority conformance", max_count, count.into())?;
        let authority = self.bytes(6)?;
        self.align(4)?;
        Sid::read_body(&mut self.r, revision, count, authority)
    }

    /// Ends the object buffer: only the padding to a multiple of 8 may remain.
    pub(crate) fn finish(&self) -> Result<(), PacError> {
        match self.r.remaining() {
            0..8 => Ok(()),
            count => Err(PacError::TrailingBytes {
                what: "NDR object buffer",
                count,
            }),
        }
    }
}

fn expect(what: &'static str, found: u32, expected: u32) -> Result<(), PacError> {
    match found == expected {
        true => Ok(()),
        false => Err(PacError::NdrMismatch {
            what,
            found,
            expected,
        }),
    }
}

fn expect_header(field: &'static str, value: u32, expected: u32) -> Result<(), PacError> {
    match value == expected {
        true => Ok(()),
        false => Err(PacError::BadNdrHeader {
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
        NdrReader::type_serialization_v1(&good).unwrap();
        for (i, field) in [(0, "Version"), (1, "Endianness"), (2, "CommonHeaderLength")] {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            match NdrReader::type_serialization_v1(&bad).unwrap_err() {
                PacError::BadNdrHeader { field: f, .. } => assert_eq!(f, field),
                e => panic!("{e}"),
            }
        }
        let mut long = good.clone();
        long[8] = 9;
        assert!(matches!(
            NdrReader::type_serialization_v1(&long),
            Err(PacError::Truncated { .. })
        ));
    }

    #[test]
    fn primitives_are_aligned_to_their_size() {
        let body = [
            7, 0, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0, 2, 0, 0, 0,
        ];
        let bytes = serialized(&body);
        let mut r = NdrReader::type_serialization_v1(&bytes).unwrap();
        assert_eq!(r.bytes(1).unwrap(), [7]);
        assert_eq!(r.u16().unwrap(), 0x1234);
        assert_eq!(r.u32().unwrap(), 0x1234_5678);
        assert_eq!(r.filetime().unwrap(), (2 << 32) | 1);
        r.finish().unwrap();
    }

    #[test]
    fn unicode_string_with_deferred_characters() {
        let mut body = vec![4, 0, 6, 0, 0, 0, 2, 0]; // Length 4, Max 6, ptr
        body.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
        body.extend_from_slice(&[b'h', 0, b'i', 0]);
        let bytes = serialized(&body);
        let mut r = NdrReader::type_serialization_v1(&bytes).unwrap();
        let h = r.unicode_string_header("name").unwrap();
        assert_eq!(r.unicode_string_body(h).unwrap(), "hi");
        r.finish().unwrap();
    }

    #[test]
    fn unicode_string_counts_must_match_the_lengths() {
        let mut body = vec![4, 0, 6, 0, 0, 0, 2, 0];
        body.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]); // actual 3 != 2
        body.extend_from_slice(&[b'h', 0, b'i', 0, b'!', 0]);
        let bytes = serialized(&body);
        let mut r = NdrReader::type_serialization_v1(&bytes).unwrap();
        let h = r.unicode_string_header("name").unwrap();
        assert!(matches!(
            r.unicode_string_body(h),
            Err(PacError::NdrMismatch {
                found: 3,
                expected: 2,
                ..
            })
        ));
    }

    #[test]
    fn null_unicode_string_is_empty_only_with_zero_length() {
        let bytes = serialized(&[0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 0, 0]);
        let mut r = NdrReader::type_serialization_v1(&bytes).unwrap();
        let empty = r.unicode_string_header("a").unwrap();
        let bad = r.unicode_string_header("b").unwrap();
        assert_eq!(r.unicode_string_body(empty).unwrap(), "");
        assert!(r.unicode_string_body(bad).is_err());
    }

    #[test]
    fn rpc_sid_conformance_must_equal_the_count() {
        let mut body = vec![2, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 5];
        body.extend_from_slice(&32u32.to_le_bytes());
        body.extend_from_slice(&544u32.to_le_bytes());
        let bytes = serialized(&body);
        let mut r = NdrReader::type_serialization_v1(&bytes).unwrap();
        assert_eq!(r.rpc_sid().unwrap().to_string(), "S-1-5-32-544");
        body[0] = 3;
        let bytes = serialized(&body);
        let mut r = NdrReader::type_serialization_v1(&bytes).unwrap();
        assert!(r.rpc_sid().is_err());
    }

    #[test]
    fn leftover_bytes_beyond_padding_are_rejected() {
        let bytes = serialized(&[0; 12]);
        let mut r = NdrReader::type_serialization_v1(&bytes).unwrap();
        r.u32().unwrap();
        assert!(r.finish().is_err());
        r.u32().unwrap();
        r.finish().unwrap();
    }
}
