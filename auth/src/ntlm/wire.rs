//! Bounds-checked reading and writing of NTLMSSP fields (after rustls'
//! `codec::Reader`): every read checks the length first and every payload
//! field's offset and length are checked against the message.

use super::error::NtlmError;

/// Reads little-endian fields from the front of a borrowed buffer.
#[derive(Debug, Clone)]
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `what` names the structure in errors.
    pub(super) fn new(what: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            what,
        }
    }

    /// How many bytes are left.
    pub(super) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The offset of the next byte.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// The next `len` bytes.
    pub(super) fn take(&mut self, len: usize) -> Result<&'a [u8], NtlmError> {
        let available = self.remaining();
        let out = self
            .bytes
            .get(self.pos..)
            .and_then(|rest| rest.get(..len))
            .ok_or(NtlmError::Truncated {
                what: self.what,
                offset: self.pos,
                needed: len,
                available,
            })?;
        self.pos += len;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], NtlmError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, NtlmError> {
        self.array::<1>().map(|[b]| b)
    }

    pub(super) fn u16(&mut self) -> Result<u16, NtlmError> {
        self.array().map(u16::from_le_bytes)
    }

    pub(super) fn u32(&mut self) -> Result<u32, NtlmError> {
        self.array().map(u32::from_le_bytes)
    }

    pub(super) fn u64(&mut self) -> Result<u64, NtlmError> {
        self.array().map(u64::from_le_bytes)
    }
}

/// MS-NLMP 2.2.1.1 `*Fields`: Len, MaxLen and BufferOffset of one payload item.
///
/// ```text
/// Len (2 bytes) | MaxLen (2 bytes) | BufferOffset (4 bytes)
/// ```
#[derive(Debug, Clone, Copy)]
pub(super) struct PayloadField {
    pub(super) name: &'static str,
    len: u16,
    offset: u32,
}

impl PayloadField {
    /// Reads the 8-byte descriptor; MaxLen is ignored, as the spec tells receivers to.
    pub(super) fn read(name: &'static str, r: &mut Reader<'_>) -> Result<Self, NtlmError> {
        let len = r.u16()?;
        let _max_len = r.u16()?;
        let offset = r.u32()?;
        Ok(Self { name, len, offset })
    }

    /// Where the payload may start at the latest, given this field: its offset
    /// when it is non-empty (an empty field's offset means nothing).
    pub(super) fn start(&self) -> Option<usize> {
        (self.len > 0).then(|| usize::try_from(self.offset).unwrap_or(usize::MAX))
    }

    /// The field's bytes in `message`, after checking that they lie inside it
    /// and after its `header_len`-byte fixed part.
    pub(super) fn slice<'a>(
        &self,
        message: &'a [u8],
        header_len: usize,
    ) -> Result<&'a [u8], NtlmError> {
        let Some(start) = self.start() else {
            return Ok(&[]);
        };
        if start < header_len {
            return Err(NtlmError::PayloadOverlapsHeader {
                field: self.name,
                offset: self.offset,
                header_len,
            });
        }
        start
            .checked_add(usize::from(self.len))
            .and_then(|end| message.get(start..end))
            .ok_or(NtlmError::PayloadOutOfBounds {
                field: self.name,
                offset: self.offset,
                len: self.len,
                message_len: message.len(),
            })
    }
}

/// The end of the fixed header: the smallest offset of the non-empty fields,
/// or the message's length when every field is empty.
pub(super) fn payload_start(fields: &[PayloadField], message_len: usize) -> usize {
    fields
        .iter()
        .filter_map(PayloadField::start)
        .min()
        .unwrap_or(message_len)
}

/// A message's payload under construction: items are appended in payload order
/// and each returns the descriptor to write into the fixed header.
#[derive(Debug)]
pub(super) struct Payload {
    base: usize,
    bytes: Vec<u8>,
}

/// Len and BufferOffset of one item appended to a [`Payload`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Descriptor {
    len: u16,
    offset: u32,
}

impl Descriptor {
    /// Writes Len, MaxLen (= Len) and BufferOffset.
    pub(super) fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.offset.to_le_bytes());
    }
}

impl Payload {
    /// A payload that starts right after a `header_len`-byte fixed header.
    pub(super) fn new(header_len: usize) -> Self {
        Self {
            base: header_len,
            bytes: Vec::new(),
        }
    }

    /// Appends `bytes`, failing when they do not fit the 16-bit Len.
    pub(super) fn push(
        &mut self,
        field: &'static str,
        bytes: &[u8],
    ) -> Result<Descriptor, NtlmError> {
        let too_long = || NtlmError::FieldTooLong {
            field,
            len: bytes.len(),
        };
        let len = u16::try_from(bytes.len()).map_err(|_| too_long())?;
        let offset = u32::try_from(self.base + self.bytes.len()).map_err(|_| too_long())?;
        self.bytes.extend_from_slice(bytes);
        Ok(Descriptor { len, offset })
    }

    /// Appends the payload to the finished `header`.
    pub(super) fn finish(self, mut header: Vec<u8>) -> Vec<u8> {
        debug_assert_eq!(header.len(), self.base, "fixed header size");
        header.extend_from_slice(&self.bytes);
        header
    }
}

/// A string as the negotiated character set has it: UTF-16LE with
/// NEGOTIATE_UNICODE, else the OEM code page, taken as Latin-1 (characters
/// beyond it are sent as `?`).
pub(super) fn encode_string(text: &str, unicode: bool) -> Vec<u8> {
    if unicode {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else {
        text.chars()
            .map(|c| u8::try_from(c).unwrap_or(b'?'))
            .collect()
    }
}

/// Reverse of [`encode_string`].
pub(super) fn decode_string(
    field: &'static str,
    bytes: &[u8],
    unicode: bool,
) -> Result<String, NtlmError> {
    if !unicode {
        return Ok(bytes.iter().copied().map(char::from).collect());
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(NtlmError::BadString { field });
    }
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| NtlmError::BadString { field })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_names_short_reads() {
        let mut r = Reader::new("T", &[1, 2, 0, 3, 0, 0, 0]);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 2);
        assert_eq!(
            r.u64(),
            Err(NtlmError::Truncated {
                what: "T",
                offset: 3,
                needed: 8,
                available: 4
            })
        );
        assert_eq!(r.u32().unwrap(), 3);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn payload_fields_are_checked_against_header_and_message() {
        let descriptor = |len: u16, offset: u32| {
            let mut b = len.to_le_bytes().repeat(2);
            b.extend_from_slice(&offset.to_le_bytes());
            PayloadField::read("F", &mut Reader::new("T", &b)).unwrap()
        };
        let msg = [7u8; 20];
        assert_eq!(descriptor(4, 16).slice(&msg, 8).unwrap(), [7; 4]);
        assert_eq!(descriptor(0, 9999).slice(&msg, 8).unwrap(), [0u8; 0]);
        assert!(matches!(
            descriptor(5, 16).slice(&msg, 8),
            Err(NtlmError::PayloadOutOfBounds { .. })
        ));
        assert!(matches!(
            descriptor(4, u32::MAX).slice(&msg, 8),
            Err(NtlmError::PayloadOutOfBounds { .. })
        ));
        assert!(matches!(
            descriptor(4, 4).slice(&msg, 8),
            Err(NtlmError::PayloadOverlapsHeader { .. })
        ));
    }

    #[test]
    fn strings_in_both_character_sets() {
        assert_eq!(encode_string("Us", true), b"U\0s\0");
        assert_eq!(encode_string("Us\u{e9}\u{263a}", false), b"Us\xe9?");
        assert_eq!(decode_string("F", b"U\0s\0", true).unwrap(), "Us");
        assert_eq!(decode_string("F", b"Us\xe9", false).unwrap(), "Us\u{e9}");
        assert!(decode_string("F", b"U\0s", true).is_err());
        assert!(decode_string("F", &[0x00, 0xd8], true).is_err());
    }
}
