//! The field encoding: little-endian integers, length-prefixed UTF-8 strings and counted
//! lists, read through a [`Reader`] that checks every length against what is left.

use crate::ProtoError;

/// Reads fields off a message body; never reads past its end.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if self.rest.len() < n {
            return Err(ProtoError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ProtoError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ProtoError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, ProtoError> {
        Ok(self.u32()? as i32)
    }

    pub(crate) fn string(&mut self) -> Result<String, ProtoError> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ProtoError::BadUtf8)
    }

    /// A count, refused when the items could not all fit in what is left (each at least
    /// `min_item` bytes): a peer cannot make the reader reserve more than it sent.
    pub(crate) fn count(&mut self, min_item: usize) -> Result<usize, ProtoError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item.max(1)) > self.rest.len() {
            return Err(ProtoError::Truncated);
        }
        Ok(n)
    }

    pub(crate) fn strings(&mut self) -> Result<Vec<String>, ProtoError> {
        let n = self.count(4)?;
        (0..n).map(|_| self.string()).collect()
    }

    pub(crate) fn u32s(&mut self) -> Result<Vec<u32>, ProtoError> {
        let n = self.count(4)?;
        (0..n).map(|_| self.u32()).collect()
    }

    /// Rejects trailing bytes.
    pub(crate) fn finish(self) -> Result<(), ProtoError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ProtoError::Trailing(self.rest.len()))
        }
    }
}

/// Appends fields to a message body.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) bytes: Vec<u8>,
}

impl Writer {
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn i32(&mut self, v: i32) {
        self.u32(v as u32);
    }

    pub(crate) fn string(&mut self, s: &str) {
        self.len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    pub(crate) fn strings(&mut self, list: &[String]) {
        self.len(list.len());
        for s in list {
            self.string(s);
        }
    }

    pub(crate) fn u32s(&mut self, list: &[u32]) {
        self.len(list.len());
        for v in list {
            self.u32(*v);
        }
    }

    /// The whole frame: the body's length, then the body.
    pub(crate) fn frame(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len() + 4);
        out.extend_from_slice(
            &u32::try_from(self.bytes.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        out.extend_from_slice(&self.bytes);
        out
    }
}
