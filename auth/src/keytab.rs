//! MIT keytab files (`FILE:` keytabs), readable and writable.
//!
//! Format: MIT krb5 `doc/formats/keytab_file_format.rst` and
//! `src/lib/krb5/keytab/kt_file.c`; Michael B Allen's `keytab.txt` (2006),
//! reproduced in Heimdal's `krb5_fileformats(3)`. See also
//! `docs/kerberos-files.md`.
//!
//! ```text
//! keytab ::= 05 02 record*          (05 01: version 1, native byte order)
//! record ::= length (int32) ( entry | zero fill )
//!            length > 0: an entry of at most `length` bytes
//!            length < 0: a hole (deleted entry) of -length bytes
//!            length = 0: end of the file
//! entry  ::= count (16) realm component[count] name_type (32, not in v1)
//!            timestamp (32) kvno8 (8) enctype (16) keylen (16) key
//!            [kvno32 (32), used if at least 4 bytes remain and it is non-zero]
//!            [rest of the record: Heimdal's 32-bit flags, zero fill]
//! data   ::= length (16) bytes          (realm and components)
//! ```
//!
//! Version 2 is big-endian; version 1 (DCE compatible, read only) uses the
//! writer's native byte order, counts the realm in `count` and has no name
//! type. Files are always written as version 2, entries as MIT writes them
//! (with the 32-bit kvno); a record's bytes after the 32-bit kvno are kept,
//! so files from MIT `ktutil` and Heimdal/Samba round-trip byte for byte.
//! Holes are skipped on read and not written back.
//!
//! The file primitives here ([`KeyBlock`], the bounds-checked reader and the
//! atomic 0600 writer) are shared with [`crate::ccache`].

use core::fmt;
use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::{CryptoError, EncryptionType, Key, string_to_key};
use crate::principal::PrincipalName;

/// What went wrong reading or writing a keytab.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeytabError {
    /// The file could not be read or written.
    #[error("keytab {path}: {source}")]
    Io {
        /// The keytab's path.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The first two bytes are not 05 02 or 05 01.
    #[error("not a keytab: version {found:#06x}, expected 0x0502 (or 0x0501)")]
    UnknownVersion {
        /// The version found.
        found: u16,
    },
    /// The file ends inside a record length or a record.
    #[error("keytab truncated at byte {offset}: {needed} bytes needed, {available} left")]
    Truncated {
        /// Where the missing bytes start.
        offset: usize,
        /// How many bytes the field needs.
        needed: usize,
        /// How many bytes are left.
        available: usize,
    },
    /// An entry's fields run past its record length.
    #[error("keytab record at byte {offset} is {length} bytes, shorter than its entry")]
    EntryPastRecord {
        /// Where the record (its length field) starts.
        offset: usize,
        /// The record length.
        length: usize,
    },
    /// A hole length of -2^31, which MIT rejects (it negates to itself).
    #[error("keytab record at byte {offset} has the invalid length -2147483648")]
    BadHole {
        /// Where the record starts.
        offset: usize,
    },
    /// An entry whose principal has no components, or a negative count
    /// (MIT reads the count as a signed 16-bit integer and stops there).
    #[error("keytab entry at byte {offset} has {count} name components")]
    BadComponentCount {
        /// Where the record starts.
        offset: usize,
        /// The count read (after subtracting the realm in version 1).
        count: u16,
    },
    /// A realm or name component that is not UTF-8.
    #[error("keytab principal at byte {offset} is not UTF-8")]
    NotUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// A value that does not fit its field on write (for example a component
    /// longer than 65,535 bytes, or a principal with no components).
    #[error("cannot write a keytab: {what} is {value}, outside what the format holds")]
    OutOfRange {
        /// Which field.
        what: &'static str,
        /// Its value or length.
        value: i64,
    },
}

/// A key as a keytab or ccache stores it: an encryption type and bytes,
/// which need not be an etype [`crate::crypto`] implements (old keytabs hold
/// DES keys; ccache configuration entries hold an empty key of type 0).
///
/// The bytes are zeroized on drop and never printed; equality is constant-time.
#[derive(Clone)]
pub struct KeyBlock {
    etype: EncryptionType,
    bytes: Zeroizing<Vec<u8>>,
}

impl KeyBlock {
    /// Wraps key bytes of any length.
    pub fn new(etype: EncryptionType, bytes: &[u8]) -> Self {
        Self {
            etype,
            bytes: Zeroizing::new(bytes.to_vec()),
        }
    }

    /// The encryption type.
    pub fn etype(&self) -> EncryptionType {
        self.etype
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The key as a [`Key`] for encryption, checking etype and length.
    pub fn to_key(&self) -> Result<Key, CryptoError> {
        Key::new(self.etype, &self.bytes)
    }

    /// MIT stores the enctype in 16 bits and sign-extends it on read
    /// (`ccmarshal.c` "enctypes can be negative").
    pub(crate) fn etype_u16(&self) -> Option<u16> {
        i16::try_from(self.etype.value()).ok().map(|v| v as u16)
    }
}

impl From<&Key> for KeyBlock {
    fn from(key: &Key) -> Self {
        Self::new(key.etype(), key.as_bytes())
    }
}

impl fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyBlock")
            .field("etype", &self.etype)
            .field("bytes", &"<redacted>")
            .finish()
    }
}

impl PartialEq for KeyBlock {
    fn eq(&self, other: &Self) -> bool {
        self.etype == other.etype && bool::from(self.bytes.as_slice().ct_eq(&other.bytes))
    }
}

impl Eq for KeyBlock {}

/// One key of one principal.
///
/// Equality compares principal, timestamp, kvno and key, not how the record
/// was laid out on disk.
#[derive(Debug, Clone)]
pub struct KeytabEntry {
    /// The principal the key belongs to.
    pub principal: PrincipalName,
    /// When the entry was written (seconds since the epoch; 0 from ktpass).
    pub timestamp: u32,
    /// The key version number (the 32-bit kvno when present, else the 8-bit one).
    pub kvno: u32,
    /// The key.
    pub key: KeyBlock,
    layout: Layout,
}

/// How a record read from a file ended, kept so that it is written back
/// the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    /// Whether the record carries a (non-zero) 32-bit kvno.
    kvno32: bool,
    /// The record's bytes after the keys and 32-bit kvno.
    rest: Vec<u8>,
}

impl Default for Layout {
    /// MIT 1.14 and later always write the 32-bit kvno.
    fn default() -> Self {
        Self {
            kvno32: true,
            rest: Vec::new(),
        }
    }
}

impl KeytabEntry {
    /// A new entry, written as MIT writes them.
    pub fn new(principal: PrincipalName, kvno: u32, key: KeyBlock, timestamp: u32) -> Self {
        Self {
            principal,
            timestamp,
            kvno,
            key,
            layout: Layout::default(),
        }
    }

    fn same_slot(&self, other: &Self) -> bool {
        self.principal.matches(&other.principal)
            && self.kvno == other.kvno
            && self.key.etype() == other.key.etype()
    }
}

impl PartialEq for KeytabEntry {
    fn eq(&self, other: &Self) -> bool {
        self.principal == other.principal
            && self.timestamp == other.timestamp
            && self.kvno == other.kvno
            && self.key == other.key
    }
}

impl Eq for KeytabEntry {}

/// A keytab: the entries in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keytab {
    /// The entries, in file order.
    pub entries: Vec<KeytabEntry>,
}

impl Keytab {
    /// The version written: 05 02, big-endian.
    pub const VERSION: u16 = 0x0502;
    /// The old, native-byte-order version, read only.
    pub const VERSION_1: u16 = 0x0501;

    /// An empty keytab.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a keytab file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeytabError> {
        let mut r = Reader::new(bytes, ByteOrder::Big);
        let version = match r.u16()? {
            Self::VERSION => Version::Two,
            Self::VERSION_1 => Version::One,
            found => return Err(KeytabError::UnknownVersion { found }),
        };
        if version == Version::One {
            r.order = ByteOrder::Native;
        }
        let mut entries = Vec::new();
        while let Some(entry) = read_record(&mut r, version)? {
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    /// The file's bytes (version 0x502).
    pub fn to_bytes(&self) -> Result<Vec<u8>, KeytabError> {
        let mut out = Self::VERSION.to_be_bytes().to_vec();
        for entry in &self.entries {
            let record = encode_entry(entry)?;
            put_u32(&mut out, len_i32("keytab record", record.len())? as u32);
            out.extend_from_slice(&record);
        }
        Ok(out)
    }

    /// Reads and parses a keytab file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeytabError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| io_error(path, e))?);
        Self::parse(&bytes)
    }

    /// Writes the keytab atomically, readable by its owner only (mode 0600):
    /// a temporary file in the same directory, fsync, rename over `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), KeytabError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(self.to_bytes()?);
        write_private_file(path, &bytes).map_err(|e| io_error(path, e))
    }

    /// The entry for `principal` (realm and components; the name type is
    /// ignored) with `etype`, of version `kvno`, or of the highest version
    /// when `kvno` is `None`.
    pub fn find(
        &self,
        principal: &PrincipalName,
        kvno: Option<u32>,
        etype: EncryptionType,
    ) -> Option<&KeytabEntry> {
        let mut candidates = self
            .entries
            .iter()
            .filter(|e| e.principal.matches(principal) && e.key.etype() == etype);
        match kvno {
            Some(kvno) => candidates.find(|e| e.kvno == kvno),
            None => candidates.max_by_key(|e| e.kvno),
        }
    }

    /// The entries of `principal` (realm and components).
    pub fn entries_for<'a>(
        &'a self,
        principal: &'a PrincipalName,
    ) -> impl Iterator<Item = &'a KeytabEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.principal.matches(principal))
    }

    /// Adds an entry, replacing one of the same principal, kvno and etype.
    pub fn add(&mut self, entry: KeytabEntry) {
        match self.entries.iter_mut().find(|e| e.same_slot(&entry)) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
    }

    /// Adds one entry per etype with the key string-to-key derives from
    /// `password` and `salt` (RFC 3961 section 3; the etypes' default
    /// parameters).
    pub fn add_password(
        &mut self,
        principal: &PrincipalName,
        kvno: u32,
        password: &str,
        salt: &[u8],
        etypes: &[EncryptionType],
        timestamp: u32,
    ) -> Result<(), CryptoError> {
        for &etype in etypes {
            let key = string_to_key(etype, password, salt, None)?;
            let entry = KeytabEntry::new(principal.clone(), kvno, (&key).into(), timestamp);
            self.add(entry);
        }
        Ok(())
    }

    /// Removes every entry of `principal`; returns how many.
    pub fn remove_principal(&mut self, principal: &PrincipalName) -> usize {
        self.remove_where(|e| e.principal.matches(principal))
    }

    /// Removes the entries of `principal` whose kvno is lower than `kvno`
    /// (old keys after a password change); returns how many.
    pub fn remove_kvnos_older_than(&mut self, principal: &PrincipalName, kvno: u32) -> usize {
        self.remove_where(|e| e.principal.matches(principal) && e.kvno < kvno)
    }

    fn remove_where(&mut self, doomed: impl Fn(&KeytabEntry) -> bool) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !doomed(e));
        before - self.entries.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    One,
    Two,
}

/// Reads one record; `None` at the end of the file or at a zero length.
fn read_record(r: &mut Reader<'_>, version: Version) -> Result<Option<KeytabEntry>, KeytabError> {
    loop {
        if r.is_empty() {
            return Ok(None);
        }
        let offset = r.offset();
        let length = r.u32()? as i32;
        if length == i32::MIN {
            return Err(KeytabError::BadHole { offset });
        }
        if length == 0 {
            return Ok(None);
        }
        let mut record = r.sub(length.unsigned_abs() as usize)?;
        if length > 0 {
            // The record is all there, so a short read inside it means the
            // entry's fields claim more bytes than the record length.
            return match read_entry(&mut record, version, offset) {
                Err(KeytabError::Truncated { .. }) => Err(KeytabError::EntryPastRecord {
                    offset,
                    length: length as usize,
                }),
                other => other.map(Some),
            };
        }
    }
}

fn read_entry(
    r: &mut Reader<'_>,
    version: Version,
    offset: usize,
) -> Result<KeytabEntry, KeytabError> {
    let principal = read_principal(r, version, offset)?;
    let timestamp = r.u32()?;
    let kvno8 = r.u8()?;
    let etype = EncryptionType::new(i32::from(r.u16()? as i16));
    let key_len = usize::from(r.u16()?);
    let key = KeyBlock::new(etype, r.take(key_len)?);
    let (kvno, kvno32) = match r.peek_u32() {
        Some(kvno) if kvno != 0 => {
            r.take(4)?;
            (kvno, true)
        }
        _ => (u32::from(kvno8), false),
    };
    let rest = r.take(r.remaining())?.to_vec();
    Ok(KeytabEntry {
        principal,
        timestamp,
        kvno,
        key,
        layout: Layout { kvno32, rest },
    })
}

fn read_principal(
    r: &mut Reader<'_>,
    version: Version,
    offset: usize,
) -> Result<PrincipalName, KeytabError> {
    let mut count = r.u16()?;
    if version == Version::One {
        // keytab.txt: "sub 1 if version 0x501" (the count includes the realm).
        count = count.wrapping_sub(1);
    }
    if count == 0 || count > i16::MAX as u16 {
        return Err(KeytabError::BadComponentCount { offset, count });
    }
    let realm = read_string(r)?;
    let mut components = Vec::new();
    for _ in 0..count {
        components.push(read_string(r)?);
    }
    let name_type = match version {
        Version::Two => r.u32()? as i32,
        Version::One => PrincipalName::NT_UNKNOWN,
    };
    Ok(PrincipalName {
        name_type,
        components,
        realm,
    })
}

fn read_string(r: &mut Reader<'_>) -> Result<String, KeytabError> {
    let len = usize::from(r.u16()?);
    let offset = r.offset();
    let bytes = r.take(len)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| KeytabError::NotUtf8 { offset })
}

fn encode_entry(entry: &KeytabEntry) -> Result<Vec<u8>, KeytabError> {
    let mut out = Vec::new();
    let principal = &entry.principal;
    // kt_file.c reads the count as a krb5_int16 and stops at 0 or below.
    let count = principal.components.len();
    if count == 0 || count > i16::MAX as usize {
        return Err(out_of_range("principal component count", count));
    }
    put_u16(&mut out, count as u16);
    put_string(&mut out, &principal.realm)?;
    for component in &principal.components {
        put_string(&mut out, component)?;
    }
    put_u32(&mut out, principal.name_type as u32);
    put_u32(&mut out, entry.timestamp);
    out.push(entry.kvno as u8);
    let etype = entry.key.etype_u16().ok_or(KeytabError::OutOfRange {
        what: "enctype",
        value: i64::from(entry.key.etype().value()),
    })?;
    put_u16(&mut out, etype);
    put_u16(&mut out, len_u16("key length", entry.key.as_bytes().len())?);
    out.extend_from_slice(entry.key.as_bytes());
    if entry.layout.kvno32 || entry.kvno > 255 {
        put_u32(&mut out, entry.kvno);
    }
    out.extend_from_slice(&entry.layout.rest);
    Ok(out)
}

fn put_string(out: &mut Vec<u8>, text: &str) -> Result<(), KeytabError> {
    put_u16(out, len_u16("principal string length", text.len())?);
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn len_u16(what: &'static str, len: usize) -> Result<u16, KeytabError> {
    u16::try_from(len).map_err(|_| out_of_range(what, len))
}

fn len_i32(what: &'static str, len: usize) -> Result<i32, KeytabError> {
    i32::try_from(len).map_err(|_| out_of_range(what, len))
}

fn out_of_range(what: &'static str, len: usize) -> KeytabError {
    KeytabError::OutOfRange {
        what,
        value: i64::try_from(len).unwrap_or(i64::MAX),
    }
}

fn io_error(path: &Path, source: io::Error) -> KeytabError {
    KeytabError::Io {
        path: path.to_owned(),
        source,
    }
}

impl From<Short> for KeytabError {
    fn from(s: Short) -> Self {
        Self::Truncated {
            offset: s.offset,
            needed: s.needed,
            available: s.available,
        }
    }
}

/// Byte order of a file's integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    /// Network order: keytab version 2, ccache versions 3 and 4.
    Big,
    /// The writing machine's order: keytab version 1, ccache versions 1 and 2.
    Native,
}

/// A field needs more bytes than are left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Short {
    /// Where the field starts in the file.
    pub(crate) offset: usize,
    /// How many bytes it needs.
    pub(crate) needed: usize,
    /// How many are left.
    pub(crate) available: usize,
}

/// A bounds-checked reader over a file's bytes: every read checks the
/// length first and reports the file offset of what is missing.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// File offset of `buf[0]` (for sub-readers).
    base: usize,
    pub(crate) order: ByteOrder,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], order: ByteOrder) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
            order,
        }
    }

    /// The file offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Short> {
        let available = self.remaining();
        if n > available {
            return Err(Short {
                offset: self.offset(),
                needed: n,
                available,
            });
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    /// A reader over the next `n` bytes, which this one skips.
    pub(crate) fn sub(&mut self, n: usize) -> Result<Self, Short> {
        let base = self.offset();
        let buf = self.take(n)?;
        Ok(Self {
            buf,
            pos: 0,
            base,
            order: self.order,
        })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Short> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Short> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Short> {
        let bytes = self.array()?;
        Ok(match self.order {
            ByteOrder::Big => u16::from_be_bytes(bytes),
            ByteOrder::Native => u16::from_ne_bytes(bytes),
        })
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Short> {
        let bytes = self.array()?;
        Ok(match self.order {
            ByteOrder::Big => u32::from_be_bytes(bytes),
            ByteOrder::Native => u32::from_ne_bytes(bytes),
        })
    }

    /// The next 32-bit integer, if four bytes are left, without consuming it.
    fn peek_u32(&self) -> Option<u32> {
        self.clone().u32().ok()
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Writes `bytes` to `path` atomically with mode 0600: a temporary file in
/// the same directory, fsync, rename over `path`, fsync of the directory. What the keytab
/// and credential cache writers use, and any other file of secrets.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".adjoin-")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use proptest::prelude::*;

    use super::*;

    const KTUTIL: &[u8] = include_bytes!("../testdata/ktutil.keytab");
    const SAMBA: &[u8] = include_bytes!("../testdata/samba-exportkeytab.keytab");
    const PASSWORD: &str = "Test-Keytab-Pass1!";

    fn alice() -> PrincipalName {
        PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST")
    }

    fn http() -> PrincipalName {
        PrincipalName::parse("HTTP/web.example.test@EXAMPLE.TEST").expect("parse")
    }

    fn record_ends(bytes: &[u8]) -> Vec<usize> {
        let mut ends = vec![2];
        let mut at = 2;
        while at + 4 <= bytes.len() {
            let len = i32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            at += 4 + len.unsigned_abs() as usize;
            ends.push(at);
        }
        ends
    }

    #[test]
    fn ktutil_keytab_round_trips_byte_exact() {
        let keytab = Keytab::parse(KTUTIL).expect("parse");
        assert_eq!(keytab.to_bytes().expect("encode"), KTUTIL);
        let summary: Vec<_> = keytab
            .entries
            .iter()
            .map(|e| (e.principal.to_string(), e.kvno, e.key.etype()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "alice@EXAMPLE.TEST".into(),
                    1,
                    EncryptionType::AES256_CTS_HMAC_SHA1_96
                ),
                (
                    "alice@EXAMPLE.TEST".into(),
                    1,
                    EncryptionType::AES128_CTS_HMAC_SHA1_96
                ),
                ("alice@EXAMPLE.TEST".into(), 1, EncryptionType::RC4_HMAC),
                (
                    "HTTP/web.example.test@EXAMPLE.TEST".to_owned(),
                    300,
                    EncryptionType::AES256_CTS_HMAC_SHA1_96
                ),
            ]
        );
        assert!(keytab.entries.iter().all(|e| e.principal.name_type == 1));
        assert_eq!(keytab.entries[0].timestamp, 0x6b05_d381);
    }

    #[test]
    fn samba_keytab_with_heimdal_flags_round_trips_byte_exact() {
        let keytab = Keytab::parse(SAMBA).expect("parse");
        assert_eq!(keytab.to_bytes().expect("encode"), SAMBA);
        assert_eq!(keytab.entries.len(), 3);
        assert!(keytab.entries.iter().all(|e| e.kvno == 2));
        assert_eq!(keytab.entries[0].layout.rest, [0, 0, 0, 0]);
    }

    #[test]
    fn ktutil_keys_equal_string_to_key() {
        let keytab = Keytab::parse(KTUTIL).expect("parse");
        let cases = [
            (alice(), EncryptionType::AES256_CTS_HMAC_SHA1_96, 1),
            (alice(), EncryptionType::AES128_CTS_HMAC_SHA1_96, 1),
            (alice(), EncryptionType::RC4_HMAC, 1),
            (http(), EncryptionType::AES256_CTS_HMAC_SHA1_96, 300),
        ];
        for (principal, etype, kvno) in cases {
            let key = string_to_key(etype, PASSWORD, &principal.default_salt(), None)
                .expect("string_to_key");
            let entry = keytab.find(&principal, Some(kvno), etype).expect("entry");
            assert_eq!(entry.key, KeyBlock::from(&key), "{principal} {etype}");
            assert_eq!(entry.key.to_key().expect("key"), key);
        }
        assert_eq!(alice().default_salt(), b"EXAMPLE.TESTalice");
    }

    #[test]
    fn add_password_rebuilds_the_ktutil_file() {
        let parsed = Keytab::parse(KTUTIL).expect("parse");
        let mut built = Keytab::new();
        let etypes = [
            EncryptionType::AES256_CTS_HMAC_SHA1_96,
            EncryptionType::AES128_CTS_HMAC_SHA1_96,
            EncryptionType::RC4_HMAC,
        ];
        let ts = parsed.entries[0].timestamp;
        built
            .add_password(&alice(), 1, PASSWORD, &alice().default_salt(), &etypes, ts)
            .expect("alice");
        let aes = [EncryptionType::AES256_CTS_HMAC_SHA1_96];
        built
            .add_password(&http(), 300, PASSWORD, &http().default_salt(), &aes, ts)
            .expect("http");
        assert_eq!(built.to_bytes().expect("encode"), KTUTIL);
    }

    #[test]
    fn every_prefix_is_an_error_or_ends_at_a_record() {
        for file in [KTUTIL, SAMBA] {
            let full = Keytab::parse(file).expect("parse");
            let ends = record_ends(file);
            for len in 0..file.len() {
                match Keytab::parse(&file[..len]) {
                    Ok(k) => {
                        let n = ends.iter().position(|&e| e == len).expect("a record end");
                        assert_eq!(k.entries, full.entries[..n]);
                    }
                    Err(KeytabError::Truncated { .. } | KeytabError::UnknownVersion { .. }) => {}
                    Err(e) => panic!("prefix {len}: unexpected {e}"),
                }
            }
        }
    }

    #[test]
    fn holes_are_skipped_and_a_zero_length_ends_the_file() {
        let mut file = vec![5, 2];
        file.extend_from_slice(&(-6i32).to_be_bytes());
        file.extend_from_slice(&[0; 6]);
        file.extend_from_slice(&KTUTIL[2..]);
        file.extend_from_slice(&[0; 4]);
        file.extend_from_slice(b"ignored after the end marker");
        let keytab = Keytab::parse(&file).expect("parse");
        assert_eq!(keytab, Keytab::parse(KTUTIL).expect("parse"));
        let mut bad = vec![5, 2];
        bad.extend_from_slice(&i32::MIN.to_be_bytes());
        assert!(matches!(
            Keytab::parse(&bad),
            Err(KeytabError::BadHole { offset: 2 })
        ));
    }

    #[test]
    fn zero_kvno32_is_zero_fill_and_kept() {
        // A record longer than its entry (it replaced a bigger hole).
        let entry = &KTUTIL[2..2 + 4 + 0x48];
        let mut file = vec![5, 2];
        file.extend_from_slice(&(0x48i32 + 4).to_be_bytes());
        file.extend_from_slice(&entry[4..entry.len() - 4]);
        file.extend_from_slice(&[0; 8]);
        let keytab = Keytab::parse(&file).expect("parse");
        assert_eq!(keytab.entries[0].kvno, 1);
        assert_eq!(keytab.entries[0].layout.rest, [0; 8]);
        assert_eq!(keytab.to_bytes().expect("encode"), file);
    }

    #[test]
    fn version_1_is_native_endian_and_counts_the_realm() {
        let ne16 = |v: u16| v.to_ne_bytes();
        let mut entry = Vec::new();
        entry.extend_from_slice(&ne16(2)); // realm + 1 component
        entry.extend_from_slice(&ne16(1));
        entry.extend_from_slice(b"R");
        entry.extend_from_slice(&ne16(3));
        entry.extend_from_slice(b"bob");
        entry.extend_from_slice(&7u32.to_ne_bytes()); // timestamp
        entry.push(4); // kvno
        entry.extend_from_slice(&ne16(23));
        entry.extend_from_slice(&ne16(16));
        entry.extend_from_slice(&[9; 16]);
        let mut file = vec![5, 1];
        file.extend_from_slice(&(entry.len() as i32).to_ne_bytes());
        file.extend_from_slice(&entry);
        let keytab = Keytab::parse(&file).expect("parse");
        let e = &keytab.entries[0];
        assert_eq!(e.principal, PrincipalName::new(0, ["bob"], "R"));
        assert_eq!((e.timestamp, e.kvno), (7, 4));
        assert_eq!(e.key, KeyBlock::new(EncryptionType::RC4_HMAC, &[9; 16]));
        let v2 = Keytab::parse(&keytab.to_bytes().expect("encode")).expect("parse");
        assert_eq!(v2, keytab);
    }

    #[test]
    fn malformed_files_give_typed_errors() {
        assert!(matches!(
            Keytab::parse(&[5, 3]),
            Err(KeytabError::UnknownVersion { found: 0x0503 })
        ));
        let mut short_record = vec![5, 2, 0, 0, 0, 4];
        short_record.extend_from_slice(&[0, 1, 0, 1]);
        assert!(matches!(
            Keytab::parse(&short_record),
            Err(KeytabError::EntryPastRecord {
                offset: 2,
                length: 4
            })
        ));
        let empty = [5, 2, 0, 0, 0, 2, 0, 0];
        assert!(matches!(
            Keytab::parse(&empty),
            Err(KeytabError::BadComponentCount {
                offset: 2,
                count: 0
            })
        ));
        let mut latin1 = KTUTIL.to_vec();
        latin1[0x18] = 0xe9; // the "a" of "alice"
        assert!(matches!(
            Keytab::parse(&latin1),
            Err(KeytabError::NotUtf8 { offset: 0x18 })
        ));
    }

    #[test]
    fn find_add_and_remove() {
        let mut keytab = Keytab::parse(KTUTIL).expect("parse");
        let aes = EncryptionType::AES256_CTS_HMAC_SHA1_96;
        let typed = PrincipalName::new(PrincipalName::NT_UNKNOWN, ["alice"], "EXAMPLE.TEST");
        assert_eq!(keytab.find(&typed, None, aes).map(|e| e.kvno), Some(1));
        assert!(keytab.find(&alice(), Some(2), aes).is_none());
        assert!(
            keytab
                .find(&alice(), None, EncryptionType::new(1))
                .is_none()
        );

        let new_key = KeyBlock::new(aes, &[7; 32]);
        keytab.add(KeytabEntry::new(alice(), 2, new_key.clone(), 5));
        assert_eq!(
            keytab.find(&alice(), None, aes).map(|e| &e.key),
            Some(&new_key)
        );
        let replacement = KeyBlock::new(aes, &[8; 32]);
        keytab.add(KeytabEntry::new(alice(), 2, replacement.clone(), 6));
        assert_eq!(keytab.entries.len(), 5);
        assert_eq!(
            keytab.find(&alice(), Some(2), aes).map(|e| &e.key),
            Some(&replacement)
        );

        assert_eq!(keytab.remove_kvnos_older_than(&alice(), 2), 3);
        assert_eq!(keytab.entries_for(&alice()).count(), 1);
        assert_eq!(keytab.remove_principal(&http()), 1);
        assert_eq!(keytab.remove_principal(&alice()), 1);
        assert!(keytab.entries.is_empty());
    }

    #[test]
    fn large_kvno_uses_the_32_bit_field() {
        let mut keytab = Keytab::new();
        let key = KeyBlock::new(EncryptionType::RC4_HMAC, &[1; 16]);
        keytab.add(KeytabEntry::new(alice(), 0x0102_0304, key, 0));
        let bytes = keytab.to_bytes().expect("encode");
        assert_eq!(&bytes[bytes.len() - 4..], [1, 2, 3, 4]);
        assert_eq!(Keytab::parse(&bytes).expect("parse"), keytab);
    }

    #[test]
    fn unencodable_fields_are_refused_on_write() {
        let mut keytab = Keytab::new();
        let big = PrincipalName::new(1, ["x".repeat(70_000)], "R");
        let key = KeyBlock::new(EncryptionType::RC4_HMAC, &[1; 16]);
        keytab.add(KeytabEntry::new(big, 1, key, 0));
        assert!(matches!(
            keytab.to_bytes(),
            Err(KeytabError::OutOfRange { value: 70_000, .. })
        ));
        let odd = KeyBlock::new(EncryptionType::new(40_000), &[]);
        let keytab = Keytab {
            entries: vec![KeytabEntry::new(alice(), 1, odd, 0)],
        };
        assert!(matches!(
            keytab.to_bytes(),
            Err(KeytabError::OutOfRange {
                what: "enctype",
                ..
            })
        ));
        let nameless = PrincipalName::new(1, Vec::<String>::new(), "R");
        let key = KeyBlock::new(EncryptionType::RC4_HMAC, &[1; 16]);
        let keytab = Keytab {
            entries: vec![KeytabEntry::new(nameless, 1, key, 0)],
        };
        assert!(matches!(
            keytab.to_bytes(),
            Err(KeytabError::OutOfRange { value: 0, .. })
        ));
    }

    #[test]
    fn save_is_atomic_and_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("krb5.keytab");
        std::fs::write(&path, b"old").expect("write");
        let keytab = Keytab::parse(KTUTIL).expect("parse");
        keytab.save(&path).expect("save");
        assert_eq!(std::fs::read(&path).expect("read"), KTUTIL);
        assert_eq!(
            std::fs::metadata(&path).expect("stat").mode() & 0o777,
            0o600
        );
        assert_eq!(Keytab::load(&path).expect("load"), keytab);
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
        let missing = dir.path().join("nope");
        assert!(matches!(
            Keytab::load(&missing),
            Err(KeytabError::Io { .. })
        ));
    }

    #[test]
    fn debug_never_prints_key_bytes() {
        let keytab = Keytab::parse(KTUTIL).expect("parse");
        let shown = format!("{keytab:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains("46, 151"), "0x2e 0x97 start the aes256 key");
    }

    fn arb_entry() -> impl Strategy<Value = KeytabEntry> {
        let name = (
            any::<i32>(),
            proptest::collection::vec("[a-z/@\\\\]{0,8}", 1..4),
            "[A-Z.]{0,12}",
        );
        let key = (any::<i16>(), proptest::collection::vec(any::<u8>(), 0..40));
        (name, any::<u32>(), any::<u32>(), key).prop_map(|((nt, comps, realm), ts, kvno, key)| {
            let key = KeyBlock::new(EncryptionType::new(i32::from(key.0)), &key.1);
            KeytabEntry::new(PrincipalName::new(nt, comps, realm), kvno, key, ts)
        })
    }

    proptest! {
        #[test]
        fn built_keytabs_round_trip(entries in proptest::collection::vec(arb_entry(), 0..6)) {
            let keytab = Keytab { entries };
            let bytes = keytab.to_bytes().expect("encode");
            let parsed = Keytab::parse(&bytes).expect("parse");
            prop_assert_eq!(parsed.to_bytes().expect("encode"), bytes);
            prop_assert_eq!(parsed, keytab);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Keytab::parse(&bytes);
        }

        #[test]
        fn parsed_files_round_trip(mut tail in proptest::collection::vec(any::<u8>(), 0..300),
                                   version in prop_oneof![Just(0x0502u16), Just(0x0501)]) {
            let mut bytes = version.to_be_bytes().to_vec();
            bytes.append(&mut tail);
            if let Ok(keytab) = Keytab::parse(&bytes) {
                let again = Keytab::parse(&keytab.to_bytes().expect("encode")).expect("reparse");
                prop_assert_eq!(again, keytab);
            }
        }

        #[test]
        fn mutated_real_files_never_panic(at in 0..KTUTIL.len(), value in any::<u8>()) {
            let mut bytes = KTUTIL.to_vec();
            bytes[at] = value;
            if let Ok(keytab) = Keytab::parse(&bytes) {
                let again = Keytab::parse(&keytab.to_bytes().expect("encode")).expect("reparse");
                prop_assert_eq!(again, keytab);
            }
        }
    }
}
