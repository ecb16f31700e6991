//! The little-endian codec DCE/RPC PDUs and NDR share (after rustls'
//! `msgs/codec.rs`): a [`Reader`] that borrows the input and checks every
//! length before slicing, the [`Codec`] trait wire structs implement, and a
//! [`LengthPrefix`] guard that patches a 16-bit length once the bytes it
//! covers have been written.
//!
//! Only little-endian data is accepted: adjoin-rpc's common header rejects
//! any other `packed_drep` before a body is read, and a type serialization
//! header any other `Endianness`.

use std::ops::{Deref, DerefMut};

use crate::error::DecodeError;

/// Reads fields from the front of a borrowed buffer; never reads past it.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `what` names the structure in errors.
    pub fn new(what: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            what,
        }
    }

    /// Renames the structure errors will mention.
    pub fn set_what(&mut self, what: &'static str) {
        self.what = what;
    }

    /// Offset of the next byte from the start of this reader.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `len` bytes.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if len > available {
            return Err(DecodeError::Truncated {
                what: self.what,
                needed: len,
                available,
            });
        }
        let out = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// A reader over the next `len` bytes (consumed from this one).
    pub fn sub(&mut self, what: &'static str, len: usize) -> Result<Self, DecodeError> {
        self.take(len).map(|bytes| Self::new(what, bytes))
    }

    /// Everything not yet read.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        out
    }

    /// Fails if bytes are left: a structure must use its whole buffer.
    pub fn expect_empty(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes {
                what: self.what,
                extra,
            }),
        }
    }

    /// Skips padding up to the next multiple of `align` (a power of two),
    /// counted from the start of this reader. The padding's value is ignored.
    pub fn align(&mut self, align: usize) -> Result<(), DecodeError> {
        let pad = padding(self.pos, align);
        self.take(pad).map(drop)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        self.array::<1>().map(|[b]| b)
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_le_bytes)
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_le_bytes)
    }
}

/// Bytes needed after `len` to reach a multiple of `align` (a power of two).
pub fn padding(len: usize, align: usize) -> usize {
    debug_assert!(align.is_power_of_two());
    len.wrapping_neg() & (align - 1)
}

/// Appends zero bytes to `out` up to a multiple of `align`, counted from
/// `start` (the offset alignment is relative to).
pub fn pad_to(out: &mut Vec<u8>, start: usize, align: usize) {
    let pad = padding(out.len() - start, align);
    out.resize(out.len() + pad, 0);
}

/// A wire structure: encodes into a buffer, reads from a [`Reader`].
pub trait Codec: Sized {
    /// Appends the wire form to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value from the front of `r`.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The wire form as a new buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Reads a value that must fill `bytes` exactly.
    fn read_bytes(what: &'static str, bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(what, bytes);
        let value = Self::read(&mut r)?;
        r.expect_empty()?;
        Ok(value)
    }
}

impl Codec for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u8()
    }
}

impl Codec for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u16()
    }
}

impl Codec for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32()
    }
}

impl Codec for u64 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u64()
    }
}

/// Reserves a little-endian `u16` at `at` and, when dropped, writes into it
/// the number of bytes appended since `from` (saturating at `u16::MAX`; the
/// caller checks [`LengthPrefix::len`] first where more is possible).
///
/// Writes go through `Deref<Target = Vec<u8>>`. The usual case, a length
/// immediately before what it counts, is [`LengthPrefix::new`].
#[derive(Debug)]
pub struct LengthPrefix<'a> {
    out: &'a mut Vec<u8>,
    at: usize,
    from: usize,
}

impl<'a> LengthPrefix<'a> {
    /// Appends a placeholder `u16` that will count the bytes written after it.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        let at = out.len();
        out.extend_from_slice(&[0, 0]);
        let from = out.len();
        Self { out, at, from }
    }

    /// Patches the `u16` already at `at` with the length counted from `from`
    /// (for a length field that sits inside the bytes it counts, such as
    /// `frag_length`). Both offsets must lie within `out` (a `u16` that is not
    /// there yet is left unpatched).
    pub fn patch_at(out: &'a mut Vec<u8>, at: usize, from: usize) -> Self {
        Self {
            at,
            from: from.min(out.len()),
            out,
        }
    }

    /// Bytes counted so far.
    pub fn len(&self) -> usize {
        self.out.len() - self.from
    }

    /// Whether nothing has been counted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Deref for LengthPrefix<'_> {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        self.out
    }
}

impl DerefMut for LengthPrefix<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        self.out
    }
}

impl Drop for LengthPrefix<'_> {
    fn drop(&mut self) {
        let len = u16::try_from(self.len()).unwrap_or(u16::MAX);
        if let Some(field) = self.out.get_mut(self.at..self.at.saturating_add(2)) {
            field.copy_from_slice(&len.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reads_little_endian_and_rejects_overruns() {
        let mut r = Reader::new("t", &[1, 2, 3, 0, 0, 0, 0, 9]);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u8().unwrap(), 2);
        r.align(2).unwrap();
        assert_eq!(r.position(), 2);
        assert_eq!(r.u16().unwrap(), 3);
        assert_eq!(
            r.clone().u64(),
            Err(DecodeError::Truncated {
                what: "t",
                needed: 8,
                available: 4
            })
        );
        assert_eq!(r.u32().unwrap(), 0x0900_0000);
        assert!(r.is_empty());
        assert!(matches!(
            r.u8(),
            Err(DecodeError::Truncated {
                needed: 1,
                available: 0,
                ..
            })
        ));
    }

    #[test]
    fn sub_reader_and_trailing_bytes() {
        let mut r = Reader::new("outer", &[1, 2, 3, 4]);
        let mut inner = r.sub("inner", 3).unwrap();
        assert_eq!(inner.u8().unwrap(), 1);
        assert_eq!(
            inner.expect_empty(),
            Err(DecodeError::TrailingBytes {
                what: "inner",
                extra: 2
            })
        );
        assert_eq!(inner.rest(), &[2, 3]);
        inner.expect_empty().unwrap();
        assert!(matches!(r.sub("x", 2), Err(DecodeError::Truncated { .. })));
        assert_eq!(r.rest(), &[4]);
        assert_eq!(
            u16::read_bytes("u16", &[1, 0, 0]),
            Err(DecodeError::TrailingBytes {
                what: "u16",
                extra: 1
            })
        );
    }

    #[test]
    fn length_prefix_patches_on_drop() {
        let mut out = vec![0xaa];
        {
            let mut body = LengthPrefix::new(&mut out);
            body.extend_from_slice(b"135\0");
            assert_eq!(body.len(), 4);
        }
        assert_eq!(out, [0xaa, 4, 0, b'1', b'3', b'5', 0]);
        {
            let mut whole = LengthPrefix::patch_at(&mut out, 1, 0);
            whole.push(0xbb);
        }
        assert_eq!(out[1..3], [8, 0]);
    }

    #[test]
    fn padding_rounds_up() {
        assert_eq!(padding(0, 4), 0);
        assert_eq!(padding(26, 4), 2);
        assert_eq!(padding(9, 8), 7);
        let mut out = vec![0; 5];
        pad_to(&mut out, 1, 4);
        assert_eq!(out.len(), 5);
        pad_to(&mut out, 0, 8);
        assert_eq!(out.len(), 8);
    }
}
