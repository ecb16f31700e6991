//! A bounds-checked little-endian reader over a borrowed buffer (after rustls'
//! `codec::Reader`): every read checks the length first, so no peer value can
//! index past the end.

use super::error::PacError;

/// Reads little-endian fields from the front of `bytes`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `what` names the structure in errors.
    pub(crate) fn new(what: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            what,
        }
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The next `len` bytes.
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], PacError> {
        if len > self.remaining() {
            return Err(PacError::Truncated {
                what: self.what,
                offset: self.pos,
                needed: len,
                available: self.remaining(),
            });
        }
        let out = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// Moves to absolute offset `pos` (at most the buffer's length).
    pub(crate) fn seek(&mut self, pos: usize) -> Result<(), PacError> {
        if pos > self.bytes.len() {
            return Err(PacError::Truncated {
                what: self.what,
                offset: self.bytes.len(),
                needed: pos - self.bytes.len(),
                available: 0,
            });
        }
        self.pos = pos;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PacError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, PacError> {
        self.array().map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, PacError> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn i32(&mut self) -> Result<i32, PacError> {
        self.array().map(i32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, PacError> {
        self.array().map(u64::from_le_bytes)
    }

    /// Fails with [`PacError::TrailingBytes`] unless everything was read.
    pub(crate) fn finish(&self) -> Result<(), PacError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(PacError::TrailingBytes {
                what: self.what,
                count,
            }),
        }
    }
}

/// Decodes UTF-16LE bytes (an even number of them) into a String.
pub(crate) fn utf16le(what: &'static str, bytes: &[u8]) -> Result<String, PacError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(PacError::BadString { what });
    }
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| PacError::BadString { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_fields_in_order() {
        let bytes = [1, 2, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0xff];
        let mut r = Reader::new("test", &bytes);
        assert_eq!(r.take(1).unwrap(), [1]);
        assert_eq!(r.u16().unwrap(), 2);
        assert_eq!(r.u32().unwrap(), 3);
        assert_eq!(r.u64().unwrap(), 4);
        assert_eq!(r.remaining(), 1);
        assert!(r.finish().is_err());
        assert_eq!(r.take(1).unwrap(), [0xff]);
        r.finish().unwrap();
    }

    #[test]
    fn short_reads_name_the_structure_and_offset() {
        let mut r = Reader::new("PACTYPE", &[0, 0, 0]);
        r.take(1).unwrap();
        assert_eq!(
            r.u32(),
            Err(PacError::Truncated {
                what: "PACTYPE",
                offset: 1,
                needed: 4,
                available: 2
            })
        );
        assert!(r.seek(4).is_err());
        r.seek(3).unwrap();
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn utf16_decoding_rejects_odd_lengths_and_lone_surrogates() {
        assert_eq!(utf16le("n", &[b'a', 0, b'b', 0]).unwrap(), "ab");
        assert!(utf16le("n", b"a").is_err());
        assert!(utf16le("n", &[0x00, 0xd8]).is_err());
    }
}
