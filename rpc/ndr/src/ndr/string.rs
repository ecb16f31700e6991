//! The string types of the interfaces Adjoin speaks: `[string] wchar_t*`
//! (C706 14.3.4, MS-RPCE 2.2.5.3.4.1), `RPC_UNICODE_STRING` (MS-DTYP
//! 2.3.10) and NETLOGON's counted byte `STRING` (MS-NRPC 2.2.1.1.1).

use super::{Ndr, NdrReader, NdrWriter};
use crate::error::DecodeError;

fn encode_units(w: &mut NdrWriter, units: &[u16]) {
    for u in units {
        w.bytes(&u.to_le_bytes());
    }
}

fn decode_units(r: &mut NdrReader<'_>, n: usize) -> Result<Vec<u16>, DecodeError> {
    let raw = r.bytes(n.checked_mul(2).ok_or(DecodeError::BadString {
        what: "UTF-16 string",
    })?)?;
    Ok(raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

fn utf16_to_string(what: &'static str, units: &[u16]) -> Result<String, DecodeError> {
    String::from_utf16(units).map_err(|_| DecodeError::BadString { what })
}

/// A NUL-terminated UTF-16 string as the referent of a `[string] wchar_t*`:
/// a conformant varying array whose counts include the terminator.
///
/// ```text
/// max_count u32 | offset u32 (0) | actual_count u32 | actual_count UTF-16 units, last 0
/// ```
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct WideString(pub String);

impl WideString {
    /// Wraps a string.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
}

impl Ndr for WideString {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        let mut units: Vec<u16> = self.0.encode_utf16().collect();
        units.push(0);
        w.count(units.len());
        w.u32(0);
        w.count(units.len());
        encode_units(w, &units);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let max = r.count()?;
        let actual = r.variance("[string] wchar_t*", max)?;
        let units = decode_units(r, actual)?;
        // C706 14.3.4: the last element of a string is the terminator.
        let Some((0, text)) = units.split_last() else {
            return Err(DecodeError::BadString {
                what: "[string] wchar_t* without terminator",
            });
        };
        utf16_to_string("[string] wchar_t*", text).map(Self)
    }
}

/// MS-DTYP 2.3.10 RPC_UNICODE_STRING: byte lengths and a unique pointer to
/// the (unterminated) UTF-16 buffer; `None` (or [`UnicodeString::NULL`]) is
/// the null pointer.
///
/// ```text
/// Length u16 (bytes) | MaximumLength u16 (bytes) | Buffer referent u32
/// deferred: max_count u32 | offset u32 | actual_count u32 | units
/// ```
///
/// The buffer is `[size_is(MaximumLength/2), length_is(Length/2)]`, so
/// decoding checks both counts against the lengths (as Samba's pidl code
/// does), and that `Length` is even, at most `MaximumLength`, and 0 when
/// the pointer is null. Encoding writes `MaximumLength` equal to `Length`.
#[derive(Clone, Default)]
pub struct UnicodeString(pub Option<String>, Lengths);

/// `Length` and `MaximumLength` as the scalars carried them, kept only
/// until the deferred buffer is read and checked against them.
#[derive(Clone, Copy, Default, Debug)]
struct Lengths {
    length: u16,
    maximum_length: u16,
}

impl Lengths {
    const NONE: Self = Self {
        length: 0,
        maximum_length: 0,
    };
}

impl UnicodeString {
    /// The null pointer.
    pub const NULL: Self = Self(None, Lengths::NONE);

    /// A non-null string.
    pub fn new(s: impl Into<String>) -> Self {
        Self(Some(s.into()), Lengths::NONE)
    }

    /// The text, or `""` for a null pointer.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    fn byte_len(&self) -> u16 {
        let units = self.0.as_deref().map_or(0, |s| s.encode_utf16().count());
        u16::try_from(units * 2).unwrap_or(0xfffe)
    }
}

impl From<Option<String>> for UnicodeString {
    fn from(s: Option<String>) -> Self {
        Self(s, Lengths::NONE)
    }
}

impl core::fmt::Debug for UnicodeString {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("UnicodeString").field(&self.0).finish()
    }
}

impl PartialEq for UnicodeString {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for UnicodeString {}

/// The text (a null pointer reads as `""`).
impl PartialEq<str> for UnicodeString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for UnicodeString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for UnicodeString {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

const RPC_UNICODE_STRING: &str = "RPC_UNICODE_STRING";

/// A count of the buffer that disagrees with the length that sizes it.
fn size_is(field: &'static str, count: u16, wire: usize) -> DecodeError {
    DecodeError::SizeIs {
        what: RPC_UNICODE_STRING,
        array: "Buffer",
        field,
        count: count.into(),
        wire,
    }
}

impl Ndr for UnicodeString {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        let len = self.byte_len();
        w.u16(len);
        w.u16(len);
        w.referent(self.0.is_some());
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        if let Some(s) = &self.0 {
            let units: Vec<u16> = s.encode_utf16().take(usize::from(u16::MAX / 2)).collect();
            w.count(units.len());
            w.u32(0);
            w.count(units.len());
            encode_units(w, &units);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        let lengths = Lengths {
            length: r.u16()?,
            maximum_length: r.u16()?,
        };
        let present = r.referent()?;
        // MS-DTYP 2.3.10: Length is a byte count of UTF-16 units, at most
        // MaximumLength.
        if !lengths.length.is_multiple_of(2) || lengths.length > lengths.maximum_length {
            return Err(DecodeError::Invalid {
                what: RPC_UNICODE_STRING,
                why: "Length is odd or above MaximumLength",
            });
        }
        if !present && lengths.length != 0 {
            return Err(size_is("Length / 2", lengths.length / 2, 0));
        }
        Ok(Self(present.then(String::new), lengths))
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        let Lengths {
            length,
            maximum_length,
        } = core::mem::take(&mut self.1);
        if self.0.is_some() {
            let max = r.count()?;
            if max != usize::from(maximum_length / 2) {
                return Err(size_is("MaximumLength / 2", maximum_length / 2, max));
            }
            let actual = r.variance(RPC_UNICODE_STRING, max)?;
            if actual != usize::from(length / 2) {
                return Err(size_is("Length / 2", length / 2, actual));
            }
            let units = decode_units(r, actual)?;
            self.0 = Some(utf16_to_string(RPC_UNICODE_STRING, &units)?);
        }
        Ok(())
    }
}

/// MS-NRPC 2.2.1.1.1 STRING: a counted byte buffer (NTLM responses travel
/// in these); `None` is the null pointer.
///
/// ```text
/// Length u16 | MaximumLength u16 | Buffer referent u32
/// deferred: max_count u32 | offset u32 | actual_count u32 | bytes
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NetlogonString(pub Option<Vec<u8>>);

impl core::fmt::Debug for NetlogonString {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // These carry challenge responses: show the size only.
        match &self.0 {
            None => f.write_str("NetlogonString(null)"),
            Some(b) => write!(f, "NetlogonString({} bytes)", b.len()),
        }
    }
}

impl Ndr for NetlogonString {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        let len = self.0.as_ref().map_or(0, Vec::len);
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        w.u16(len);
        w.u16(len);
        w.referent(self.0.is_some());
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        if let Some(b) = &self.0 {
            let b = &b[..b.len().min(usize::from(u16::MAX))];
            w.count(b.len());
            w.u32(0);
            w.count(b.len());
            w.bytes(b);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        let _length = r.u16()?;
        let _maximum = r.u16()?;
        Ok(Self(r.referent()?.then(Vec::new)))
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        if self.0.is_some() {
            let max = r.count()?;
            let actual = r.variance("STRING", max)?;
            self.0 = Some(r.bytes(actual)?.to_vec());
        }
        Ok(())
    }
}
