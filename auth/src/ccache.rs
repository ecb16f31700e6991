//! MIT `FILE:` credential caches (versions 4 and 3), readable and writable.
//!
//! Format: MIT krb5 `doc/formats/ccache_file_format.rst`,
//! `src/lib/krb5/ccache/cc_file.c` and `ccmarshal.c`; Simon Josefsson's
//! `ccache.txt` (2006). See also `docs/kerberos-files.md`.
//!
//! ```text
//! ccache     ::= 05 04 header principal credential*    (05 03: no header)
//! header     ::= length (16) { tag (16) length (16) value }*
//!                tag 1: KDC time offset, seconds (32) and microseconds (32)
//! principal  ::= name_type (32) count (32) realm component[count]
//! data       ::= length (32) bytes
//! credential ::= client (principal) server (principal)
//!                keyblock: enctype (16) [enctype again in v3] key (data)
//!                authtime starttime endtime renew_till (32 each)
//!                is_skey (8) ticket_flags (32)
//!                addresses: count (32) { addrtype (16) data }*
//!                authdata:  count (32) { ad_type (16) data }*
//!                ticket (data) second_ticket (data)
//! ```
//!
//! All integers are big-endian; credentials run to the end of the file.
//! Configuration entries (server realm `X-CACHECONF:`) are kept as ordinary
//! credentials; unknown header tags are kept as they are. A cache is written
//! in the version it was read in, so MIT's files round-trip byte for byte.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::crypto::EncryptionType;
use crate::keytab::{ByteOrder, KeyBlock, Reader, Short, put_u16, put_u32, write_private_file};
use crate::principal::PrincipalName;

/// What went wrong reading, writing or locating a credential cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CcacheError {
    /// The file could not be read or written.
    #[error("credential cache {path}: {source}")]
    Io {
        /// The cache's path.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The first two bytes are not 05 04 or 05 03.
    #[error("not a credential cache: version {found:#06x}, expected 0x0504 or 0x0503")]
    UnknownVersion {
        /// The version found.
        found: u16,
    },
    /// The file ends inside a field.
    #[error("credential cache truncated at byte {offset}: {needed} bytes needed, {available} left")]
    Truncated {
        /// Where the missing bytes start.
        offset: usize,
        /// How many bytes the field needs.
        needed: usize,
        /// How many bytes are left.
        available: usize,
    },
    /// A header field runs past the header, or the time offset field is not
    /// 8 bytes long (MIT `KRB5_CC_FORMAT`).
    #[error("credential cache header field at byte {offset} is malformed")]
    BadHeader {
        /// Where the field starts.
        offset: usize,
    },
    /// A realm or name component that is not UTF-8.
    #[error("credential cache principal at byte {offset} is not UTF-8")]
    NotUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// A value that does not fit its field on write.
    #[error("cannot write a credential cache: {what} is {value}, outside what the format holds")]
    OutOfRange {
        /// Which field.
        what: &'static str,
        /// Its value or length.
        value: i64,
    },
    /// `KRB5CCNAME` names a cache type other than `FILE:`.
    #[error("credential cache type {cache_type:?} is not supported (only FILE: caches are)")]
    UnsupportedCacheType {
        /// The type prefix, as `KEYRING` in `KEYRING:persistent:0`.
        cache_type: String,
    },
}

impl From<Short> for CcacheError {
    fn from(s: Short) -> Self {
        Self::Truncated {
            offset: s.offset,
            needed: s.needed,
            available: s.available,
        }
    }
}

/// The file format version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CcacheVersion {
    /// 05 03: big-endian, no header, the key's enctype stored twice.
    V3,
    /// 05 04: big-endian with tagged header fields (MIT's default).
    #[default]
    V4,
}

impl CcacheVersion {
    /// The two bytes that start the file.
    pub const fn value(self) -> u16 {
        match self {
            Self::V3 => 0x0503,
            Self::V4 => 0x0504,
        }
    }
}

/// A tagged header field (version 4 only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderField {
    /// The tag ([`HeaderField::KDC_TIME_OFFSET`], or one this code does not know).
    pub tag: u16,
    /// The field's bytes.
    pub value: Vec<u8>,
}

impl HeaderField {
    /// Tag 1 (`FCC_TAG_DELTATIME`): the KDC's clock minus the client's.
    pub const KDC_TIME_OFFSET: u16 = 1;
}

/// The KDC time offset of header tag 1: adding it to the client's clock
/// gives the KDC's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KdcTimeOffset {
    /// Whole seconds.
    pub seconds: i32,
    /// Microseconds.
    pub microseconds: i32,
}

bitflags::bitflags! {
    /// RFC 4120 section 5.3 `TicketFlags`, as MIT stores them: flag bit `n`
    /// of the ASN.1 BIT STRING is `0x8000_0000 >> n` (MIT `TKT_FLG_*`).
    /// Unknown bits are kept.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub struct TicketFlags: u32 {
        /// Bit 1, `forwardable`.
        const FORWARDABLE = 0x4000_0000;
        /// Bit 2, `forwarded`.
        const FORWARDED = 0x2000_0000;
        /// Bit 3, `proxiable`.
        const PROXIABLE = 0x1000_0000;
        /// Bit 4, `proxy`.
        const PROXY = 0x0800_0000;
        /// Bit 5, `may-postdate`.
        const MAY_POSTDATE = 0x0400_0000;
        /// Bit 6, `postdated`.
        const POSTDATED = 0x0200_0000;
        /// Bit 7, `invalid`.
        const INVALID = 0x0100_0000;
        /// Bit 8, `renewable`.
        const RENEWABLE = 0x0080_0000;
        /// Bit 9, `initial`.
        const INITIAL = 0x0040_0000;
        /// Bit 10, `pre-authent`.
        const PRE_AUTHENT = 0x0020_0000;
        /// Bit 11, `hw-authent`.
        const HW_AUTHENT = 0x0010_0000;
        /// Bit 12, `transited-policy-checked`.
        const TRANSITED_POLICY_CHECKED = 0x0008_0000;
        /// Bit 13, `ok-as-delegate`.
        const OK_AS_DELEGATE = 0x0004_0000;
        /// Bit 15, `enc-pa-rep` (RFC 6806 section 11).
        const ENC_PA_REP = 0x0001_0000;
        /// Bit 16, `anonymous` (RFC 8062).
        const ANONYMOUS = 0x0000_8000;
        const _ = !0;
    }
}

/// RFC 4120 section 5.2.5 `HostAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    /// The address type (2 = IPv4, 24 = IPv6, 20 = NetBIOS).
    pub addr_type: i32,
    /// The address bytes.
    pub data: Vec<u8>,
}

/// RFC 4120 section 5.2.6 `AuthorizationData` element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthData {
    /// The ad-type (1 = AD-IF-RELEVANT, 128 = AD-WIN2K-PAC).
    pub ad_type: i32,
    /// The ad-data bytes.
    pub data: Vec<u8>,
}

/// One credential: a ticket with its session key and what the KDC said
/// about it, or a configuration entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The client the ticket was issued to.
    pub client: PrincipalName,
    /// The service the ticket is for.
    pub server: PrincipalName,
    /// The session key (etype 0, empty in configuration entries).
    pub key: KeyBlock,
    /// When the initial authentication happened (seconds since the epoch).
    pub authtime: u32,
    /// When the ticket becomes valid (0: same as authtime).
    pub starttime: u32,
    /// When the ticket expires.
    pub endtime: u32,
    /// Until when it can be renewed (0: not renewable).
    pub renew_till: u32,
    /// Whether the ticket is encrypted in another ticket's session key
    /// (user-to-user).
    pub is_skey: bool,
    /// The ticket flags.
    pub flags: TicketFlags,
    /// The client addresses the ticket is bound to (usually none).
    pub addresses: Vec<Address>,
    /// Authorization data from the KDC reply.
    pub authdata: Vec<AuthData>,
    /// The DER-encoded `Ticket`, or a configuration value.
    pub ticket: Vec<u8>,
    /// The DER-encoded second ticket (user-to-user), usually empty.
    pub second_ticket: Vec<u8>,
}

impl Credential {
    /// The realm of configuration entries' server principals.
    pub const CONFIG_REALM: &'static str = "X-CACHECONF:";
    /// The first component of configuration entries' server principals.
    pub const CONFIG_COMPONENT: &'static str = "krb5_ccache_conf_data";

    /// A configuration entry (MIT `krb5_cc_set_config`): `key`, optionally
    /// about `principal`, holding `value`; every other field zero.
    pub fn config(
        client: PrincipalName,
        key: &str,
        principal: Option<&PrincipalName>,
        value: &[u8],
    ) -> Self {
        let mut components = vec![Self::CONFIG_COMPONENT.to_owned(), key.to_owned()];
        components.extend(principal.map(ToString::to_string));
        let mut server =
            PrincipalName::new(PrincipalName::NT_UNKNOWN, components, Self::CONFIG_REALM);
        // MIT builds the name with krb5_build_principal, which infers the type.
        server.name_type = server.infer_name_type();
        Self {
            client,
            server,
            key: KeyBlock::new(EncryptionType::new(0), &[]),
            authtime: 0,
            starttime: 0,
            endtime: 0,
            renew_till: 0,
            is_skey: false,
            flags: TicketFlags::empty(),
            addresses: Vec::new(),
            authdata: Vec::new(),
            ticket: value.to_vec(),
            second_ticket: Vec::new(),
        }
    }

    /// Whether this is a configuration entry rather than a ticket.
    pub fn is_config(&self) -> bool {
        self.server.realm == Self::CONFIG_REALM
            && self.server.components.first().map(String::as_str) == Some(Self::CONFIG_COMPONENT)
    }

    fn is_config_for(&self, key: &str, principal: Option<&str>) -> bool {
        self.is_config()
            && self.server.components.get(1).map(String::as_str) == Some(key)
            && self.server.components.get(2).map(String::as_str) == principal
    }
}

/// A credential cache: the default principal, its credentials and the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialCache {
    /// The version the file is written in.
    pub version: CcacheVersion,
    /// The header fields, in file order (version 4; not written in version 3).
    pub header: Vec<HeaderField>,
    /// The default principal (the client the cache belongs to).
    pub principal: PrincipalName,
    /// The credentials and configuration entries, in file order.
    pub credentials: Vec<Credential>,
}

impl CredentialCache {
    /// An empty version 4 cache for `principal`, with no header fields.
    pub fn new(principal: PrincipalName) -> Self {
        Self {
            version: CcacheVersion::V4,
            header: Vec::new(),
            principal,
            credentials: Vec::new(),
        }
    }

    /// Parses a credential cache file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, CcacheError> {
        let mut r = Reader::new(bytes, ByteOrder::Big);
        let version = match r.u16()? {
            0x0504 => CcacheVersion::V4,
            0x0503 => CcacheVersion::V3,
            found => return Err(CcacheError::UnknownVersion { found }),
        };
        let header = match version {
            CcacheVersion::V4 => read_header(&mut r)?,
            CcacheVersion::V3 => Vec::new(),
        };
        let principal = read_principal(&mut r)?;
        let mut credentials = Vec::new();
        while !r.is_empty() {
            credentials.push(read_credential(&mut r, version)?);
        }
        Ok(Self {
            version,
            header,
            principal,
            credentials,
        })
    }

    /// The file's bytes, in [`Self::version`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, CcacheError> {
        let mut out = self.version.value().to_be_bytes().to_vec();
        if self.version == CcacheVersion::V4 {
            write_header(&mut out, &self.header)?;
        }
        write_principal(&mut out, &self.principal)?;
        for credential in &self.credentials {
            write_credential(&mut out, credential, self.version)?;
        }
        Ok(out)
    }

    /// Reads and parses a credential cache file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CcacheError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| io_error(path, e))?);
        Self::parse(&bytes)
    }

    /// Writes the cache atomically, readable by its owner only (mode 0600):
    /// a temporary file in the same directory, fsync, rename over `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CcacheError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(self.to_bytes()?);
        write_private_file(path, &bytes).map_err(|e| io_error(path, e))
    }

    /// The first ticket (not configuration entry) for `server` (realm and
    /// components; the name type is ignored).
    pub fn find(&self, server: &PrincipalName) -> Option<&Credential> {
        self.credentials
            .iter()
            .find(|c| !c.is_config() && c.server.matches(server))
    }

    /// The ticket-granting ticket of the default principal's realm.
    pub fn tgt(&self) -> Option<&Credential> {
        self.find(&PrincipalName::krbtgt(&self.principal.realm))
    }

    /// Stores a credential, replacing a ticket for the same client and server
    /// or a configuration entry with the same server name.
    pub fn store(&mut self, credential: Credential) {
        let same = |c: &&mut Credential| {
            c.client.matches(&credential.client) && c.server.matches(&credential.server)
        };
        match self.credentials.iter_mut().find(same) {
            Some(slot) => *slot = credential,
            None => self.credentials.push(credential),
        }
    }

    /// The value of configuration entry `key`, optionally about `principal`
    /// (MIT `krb5_cc_get_config`).
    pub fn config(&self, key: &str, principal: Option<&PrincipalName>) -> Option<&[u8]> {
        let principal = principal.map(ToString::to_string);
        self.credentials
            .iter()
            .find(|c| c.is_config_for(key, principal.as_deref()))
            .map(|c| c.ticket.as_slice())
    }

    /// The KDC time offset from header tag 1, if present and well formed.
    pub fn kdc_time_offset(&self) -> Option<KdcTimeOffset> {
        let field = self
            .header
            .iter()
            .find(|f| f.tag == HeaderField::KDC_TIME_OFFSET)?;
        let value: &[u8; 8] = field.value.as_slice().try_into().ok()?;
        let [s0, s1, s2, s3, u0, u1, u2, u3] = *value;
        Some(KdcTimeOffset {
            seconds: i32::from_be_bytes([s0, s1, s2, s3]),
            microseconds: i32::from_be_bytes([u0, u1, u2, u3]),
        })
    }

    /// Sets (or with `None` removes) header tag 1, keeping other fields.
    pub fn set_kdc_time_offset(&mut self, offset: Option<KdcTimeOffset>) {
        self.header
            .retain(|f| f.tag != HeaderField::KDC_TIME_OFFSET);
        if let Some(offset) = offset {
            let mut value = offset.seconds.to_be_bytes().to_vec();
            value.extend_from_slice(&offset.microseconds.to_be_bytes());
            let field = HeaderField {
                tag: HeaderField::KDC_TIME_OFFSET,
                value,
            };
            self.header.insert(0, field);
        }
    }
}

/// The cache `KRB5CCNAME` names, or the default `/tmp/krb5cc_<uid>` for the
/// process's real user id (MIT's built-in `FILE:/tmp/krb5cc_%{uid}`; a
/// `default_ccache_name` in krb5.conf is not consulted).
pub fn default_path() -> Result<PathBuf, CcacheError> {
    let name = std::env::var_os("KRB5CCNAME");
    resolve_path(name.as_deref(), rustix::process::getuid().as_raw())
}

/// Resolves a cache name as MIT's `krb5_cc_resolve` does for FILE caches:
/// `FILE:PATH` or a name without a type prefix is a path; other types
/// (`DIR:`, `KEYRING:`, `KCM:`, `MEMORY:`, ...) are not supported. No name,
/// or an empty one, gives `/tmp/krb5cc_<uid>`.
pub fn resolve_path(name: Option<&OsStr>, uid: u32) -> Result<PathBuf, CcacheError> {
    let name = match name.map(OsStr::as_bytes) {
        Some(name) if !name.is_empty() => name,
        _ => return Ok(PathBuf::from(format!("/tmp/krb5cc_{uid}"))),
    };
    let path = |bytes: &[u8]| PathBuf::from(OsStr::from_bytes(bytes));
    match name.iter().position(|&b| b == b':') {
        None => Ok(path(name)),
        Some(colon) if &name[..colon] == b"FILE" => Ok(path(&name[colon + 1..])),
        Some(colon) => Err(CcacheError::UnsupportedCacheType {
            cache_type: String::from_utf8_lossy(&name[..colon]).into_owned(),
        }),
    }
}

fn read_header(r: &mut Reader<'_>) -> Result<Vec<HeaderField>, CcacheError> {
    let length = usize::from(r.u16()?);
    let mut fields_reader = r.sub(length)?;
    let mut fields = Vec::new();
    while !fields_reader.is_empty() {
        let offset = fields_reader.offset();
        let field =
            read_header_field(&mut fields_reader).map_err(|_| CcacheError::BadHeader { offset })?;
        // cc_file.c read_header: the time offset field MUST be 8 bytes.
        if field.tag == HeaderField::KDC_TIME_OFFSET && field.value.len() != 8 {
            return Err(CcacheError::BadHeader { offset });
        }
        fields.push(field);
    }
    Ok(fields)
}

fn read_header_field(r: &mut Reader<'_>) -> Result<HeaderField, Short> {
    let tag = r.u16()?;
    let length = usize::from(r.u16()?);
    let value = r.take(length)?.to_vec();
    Ok(HeaderField { tag, value })
}

fn read_principal(r: &mut Reader<'_>) -> Result<PrincipalName, CcacheError> {
    let name_type = r.u32()? as i32;
    let count = r.u32()?;
    let realm = read_string(r)?;
    // Each component takes at least its 4-byte length, so a bogus count
    // fails on the bytes, never on memory.
    let mut components = Vec::new();
    for _ in 0..count {
        components.push(read_string(r)?);
    }
    Ok(PrincipalName {
        name_type,
        components,
        realm,
    })
}

fn read_string(r: &mut Reader<'_>) -> Result<String, CcacheError> {
    let offset = r.offset();
    let bytes = read_data(r)?;
    String::from_utf8(bytes).map_err(|_| CcacheError::NotUtf8 { offset })
}

fn read_data(r: &mut Reader<'_>) -> Result<Vec<u8>, Short> {
    let length = r.u32()? as usize;
    Ok(r.take(length)?.to_vec())
}

fn read_credential(r: &mut Reader<'_>, version: CcacheVersion) -> Result<Credential, CcacheError> {
    let client = read_principal(r)?;
    let server = read_principal(r)?;
    let key = read_keyblock(r, version)?;
    Ok(Credential {
        client,
        server,
        key,
        authtime: r.u32()?,
        starttime: r.u32()?,
        endtime: r.u32()?,
        renew_till: r.u32()?,
        is_skey: r.u8()? != 0,
        flags: TicketFlags::from_bits_retain(r.u32()?),
        // ccmarshal.c: address types are read unsigned, ad-types sign-extended.
        addresses: read_list(r, |r| {
            let addr_type = i32::from(r.u16()?);
            Ok(Address {
                addr_type,
                data: read_data(r)?,
            })
        })?,
        authdata: read_list(r, |r| {
            let ad_type = i32::from(r.u16()? as i16);
            Ok(AuthData {
                ad_type,
                data: read_data(r)?,
            })
        })?,
        ticket: read_data(r)?,
        second_ticket: read_data(r)?,
    })
}

fn read_keyblock(r: &mut Reader<'_>, version: CcacheVersion) -> Result<KeyBlock, Short> {
    // ccmarshal.c: "enctypes can be negative, so sign-extend".
    let etype = EncryptionType::new(i32::from(r.u16()? as i16));
    if version == CcacheVersion::V3 {
        r.u16()?; // Version 3 stores the enctype twice.
    }
    let length = r.u32()? as usize;
    Ok(KeyBlock::new(etype, r.take(length)?))
}

fn read_list<'a, T>(
    r: &mut Reader<'a>,
    item: impl Fn(&mut Reader<'a>) -> Result<T, Short>,
) -> Result<Vec<T>, Short> {
    let count = r.u32()?;
    let mut items = Vec::new();
    for _ in 0..count {
        items.push(item(r)?);
    }
    Ok(items)
}

fn write_header(out: &mut Vec<u8>, header: &[HeaderField]) -> Result<(), CcacheError> {
    let length: usize = header.iter().map(|f| 4 + f.value.len()).sum();
    put_u16(out, to_u16("header length", length)?);
    for field in header {
        put_u16(out, field.tag);
        put_u16(out, to_u16("header field length", field.value.len())?);
        out.extend_from_slice(&field.value);
    }
    Ok(())
}

fn write_principal(out: &mut Vec<u8>, principal: &PrincipalName) -> Result<(), CcacheError> {
    put_u32(out, principal.name_type as u32);
    put_u32(out, to_u32("component count", principal.components.len())?);
    write_data(out, principal.realm.as_bytes())?;
    for component in &principal.components {
        write_data(out, component.as_bytes())?;
    }
    Ok(())
}

fn write_data(out: &mut Vec<u8>, data: &[u8]) -> Result<(), CcacheError> {
    put_u32(out, to_u32("data length", data.len())?);
    out.extend_from_slice(data);
    Ok(())
}

fn write_credential(
    out: &mut Vec<u8>,
    c: &Credential,
    version: CcacheVersion,
) -> Result<(), CcacheError> {
    write_principal(out, &c.client)?;
    write_principal(out, &c.server)?;
    let etype = c.key.etype_u16().ok_or(CcacheError::OutOfRange {
        what: "enctype",
        value: i64::from(c.key.etype().value()),
    })?;
    put_u16(out, etype);
    if version == CcacheVersion::V3 {
        put_u16(out, etype);
    }
    write_data(out, c.key.as_bytes())?;
    for time in [c.authtime, c.starttime, c.endtime, c.renew_till] {
        put_u32(out, time);
    }
    out.push(u8::from(c.is_skey));
    put_u32(out, c.flags.bits());
    put_u32(out, to_u32("address count", c.addresses.len())?);
    for a in &c.addresses {
        put_u16(out, type_u16("address type", a.addr_type)?);
        write_data(out, &a.data)?;
    }
    put_u32(out, to_u32("authdata count", c.authdata.len())?);
    for ad in &c.authdata {
        put_u16(out, type_u16("ad-type", ad.ad_type)?);
        write_data(out, &ad.data)?;
    }
    write_data(out, &c.ticket)?;
    write_data(out, &c.second_ticket)
}

fn to_u16(what: &'static str, len: usize) -> Result<u16, CcacheError> {
    u16::try_from(len).map_err(|_| out_of_range(what, len))
}

fn to_u32(what: &'static str, len: usize) -> Result<u32, CcacheError> {
    u32::try_from(len).map_err(|_| out_of_range(what, len))
}

/// A 16-bit type field: any value that reads back the same, signed or not.
fn type_u16(what: &'static str, value: i32) -> Result<u16, CcacheError> {
    match value {
        -0x8000..=0xffff => Ok(value as u16),
        _ => Err(CcacheError::OutOfRange {
            what,
            value: i64::from(value),
        }),
    }
}

fn out_of_range(what: &'static str, len: usize) -> CcacheError {
    CcacheError::OutOfRange {
        what,
        value: i64::try_from(len).unwrap_or(i64::MAX),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> CcacheError {
    CcacheError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use proptest::prelude::*;

    use super::*;

    const KINIT_V4: &[u8] = include_bytes!("../testdata/mit-kinit-v4.ccache");
    const KINIT_V3: &[u8] = include_bytes!("../testdata/mit-kinit-v3.ccache");
    const KVNO_V4: &[u8] = include_bytes!("../testdata/mit-kvno-v4.ccache");

    fn name(text: &str) -> PrincipalName {
        PrincipalName::parse(text).expect("parse")
    }

    /// Offsets at which a file may end: after the default principal and
    /// after each credential.
    fn credential_ends(cache: &CredentialCache) -> Vec<usize> {
        let mut empty = cache.clone();
        empty.credentials.clear();
        let mut end = empty.to_bytes().expect("encode").len();
        let mut ends = vec![end];
        for c in &cache.credentials {
            let mut one = Vec::new();
            write_credential(&mut one, c, cache.version).expect("encode");
            end += one.len();
            ends.push(end);
        }
        ends
    }

    #[test]
    fn mit_kinit_v4_round_trips_byte_exact() {
        let cache = CredentialCache::parse(KINIT_V4).expect("parse");
        assert_eq!(cache.to_bytes().expect("encode"), KINIT_V4);
        assert_eq!(cache.version, CcacheVersion::V4);
        assert_eq!(cache.principal, name("alice@EXAMPLE.TEST"));
        assert_eq!(cache.kdc_time_offset(), Some(KdcTimeOffset::default()));
        assert_eq!(cache.credentials.len(), 3);
        assert_eq!(
            cache.credentials.iter().filter(|c| c.is_config()).count(),
            2
        );
    }

    #[test]
    fn mit_kinit_tgt_is_found() {
        let cache = CredentialCache::parse(KINIT_V4).expect("parse");
        let tgt = cache.tgt().expect("tgt");
        assert_eq!(tgt.server, PrincipalName::krbtgt("EXAMPLE.TEST"));
        assert_eq!(tgt.client, cache.principal);
        assert_eq!(tgt.key.etype(), EncryptionType::AES256_CTS_HMAC_SHA1_96);
        assert_eq!(tgt.key.as_bytes().len(), 32);
        assert!(tgt.key.to_key().is_ok());
        let ria = TicketFlags::RENEWABLE | TicketFlags::INITIAL | TicketFlags::PRE_AUTHENT;
        assert!(tgt.flags.contains(ria), "{:?}", tgt.flags);
        assert_eq!(tgt.endtime - tgt.starttime, 10 * 3600);
        assert_eq!(tgt.renew_till - tgt.starttime, 24 * 3600);
        assert_eq!(tgt.ticket.first(), Some(&0x61), "[APPLICATION 1] Ticket");
        assert!(tgt.second_ticket.is_empty() && !tgt.is_skey);
        assert_eq!(
            cache.find(&name("krbtgt/EXAMPLE.TEST@EXAMPLE.TEST")),
            Some(tgt)
        );
    }

    #[test]
    fn mit_config_entries_are_kept_and_readable() {
        let cache = CredentialCache::parse(KINIT_V4).expect("parse");
        let krbtgt = PrincipalName::krbtgt("EXAMPLE.TEST");
        assert_eq!(cache.config("pa_type", Some(&krbtgt)), Some(&b"2"[..]));
        assert_eq!(cache.config("fast_avail", Some(&krbtgt)), Some(&b"yes"[..]));
        assert_eq!(cache.config("fast_avail", None), None);
        let built = Credential::config(cache.principal.clone(), "pa_type", Some(&krbtgt), b"2");
        assert!(cache.credentials.contains(&built));
        assert!(
            cache.find(&built.server).is_none(),
            "find skips config entries"
        );
    }

    #[test]
    fn mit_kinit_v3_round_trips_byte_exact() {
        let cache = CredentialCache::parse(KINIT_V3).expect("parse");
        assert_eq!(cache.to_bytes().expect("encode"), KINIT_V3);
        assert_eq!(cache.version, CcacheVersion::V3);
        assert!(cache.header.is_empty());
        assert!(cache.tgt().is_some());
    }

    #[test]
    fn mit_kvno_service_ticket_is_found() {
        let cache = CredentialCache::parse(KVNO_V4).expect("parse");
        assert_eq!(cache.to_bytes().expect("encode"), KVNO_V4);
        let cifs = cache
            .find(&name("cifs/dc1.example.test@EXAMPLE.TEST"))
            .expect("cifs");
        assert_eq!(cifs.client, name("alice@EXAMPLE.TEST"));
        assert!(!cifs.flags.contains(TicketFlags::INITIAL));
        assert!(cache.tgt().is_some());
    }

    #[test]
    fn version_4_to_3_and_back() {
        let mut cache = CredentialCache::parse(KINIT_V4).expect("parse");
        cache.version = CcacheVersion::V3;
        let v3 = CredentialCache::parse(&cache.to_bytes().expect("encode")).expect("parse");
        assert!(v3.header.is_empty());
        assert_eq!(v3.credentials, cache.credentials);
    }

    #[test]
    fn every_prefix_is_an_error_or_ends_at_a_credential() {
        for file in [KINIT_V4, KINIT_V3, KVNO_V4] {
            let full = CredentialCache::parse(file).expect("parse");
            let ends = credential_ends(&full);
            for len in 0..file.len() {
                match CredentialCache::parse(&file[..len]) {
                    Ok(c) => {
                        let n = ends.iter().position(|&e| e == len).expect("an entry end");
                        assert_eq!(c.credentials, full.credentials[..n]);
                    }
                    Err(
                        CcacheError::Truncated { .. }
                        | CcacheError::UnknownVersion { .. }
                        | CcacheError::BadHeader { .. },
                    ) => {}
                    Err(e) => panic!("prefix {len}: unexpected {e}"),
                }
            }
        }
    }

    #[test]
    fn unknown_header_tags_are_kept() {
        let mut cache = CredentialCache::parse(KINIT_V4).expect("parse");
        cache.header.push(HeaderField {
            tag: 0x7777,
            value: b"future".to_vec(),
        });
        let offset = KdcTimeOffset {
            seconds: -600,
            microseconds: 12,
        };
        cache.set_kdc_time_offset(Some(offset));
        let again = CredentialCache::parse(&cache.to_bytes().expect("encode")).expect("parse");
        assert_eq!(again, cache);
        assert_eq!(again.kdc_time_offset(), Some(offset));
        assert_eq!(again.header[1].value, b"future");
        cache.set_kdc_time_offset(None);
        assert_eq!(cache.kdc_time_offset(), None);
        assert_eq!(cache.header.len(), 1);
    }

    #[test]
    fn malformed_headers_are_errors() {
        // Field length 9 in a 12-byte header: runs past the header.
        let bad = [5, 4, 0, 12, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            CredentialCache::parse(&bad),
            Err(CcacheError::BadHeader { offset: 4 })
        ));
        // Time offset field of 4 bytes.
        let bad = [5, 4, 0, 8, 0, 1, 0, 4, 0, 0, 0, 0];
        assert!(matches!(
            CredentialCache::parse(&bad),
            Err(CcacheError::BadHeader { offset: 4 })
        ));
        assert!(matches!(
            CredentialCache::parse(&[5, 2]),
            Err(CcacheError::UnknownVersion { found: 0x0502 })
        ));
    }

    #[test]
    fn store_replaces_the_same_ticket() {
        let mut cache = CredentialCache::parse(KVNO_V4).expect("parse");
        let mut tgt = cache.tgt().expect("tgt").clone();
        tgt.endtime += 1;
        cache.store(tgt.clone());
        assert_eq!(cache.credentials.len(), 4);
        assert_eq!(cache.tgt(), Some(&tgt));
        let mut other = tgt.clone();
        other.server = name("host/x@EXAMPLE.TEST");
        cache.store(other);
        assert_eq!(cache.credentials.len(), 5);
    }

    #[test]
    fn new_cache_round_trips() {
        let alice = name("alice@EXAMPLE.TEST");
        let mut cache = CredentialCache::new(alice.clone());
        let mut cred = Credential::config(alice.clone(), "x", None, b"");
        cred.server = name("HTTP/web@EXAMPLE.TEST");
        cred.key = KeyBlock::new(EncryptionType::new(-128), &[1; 16]);
        cred.addresses.push(Address {
            addr_type: 0xfffe,
            data: vec![127, 0, 0, 1],
        });
        cred.authdata.push(AuthData {
            ad_type: -150,
            data: vec![1, 2],
        });
        cred.flags = TicketFlags::from_bits_retain(0x8000_0001) | TicketFlags::FORWARDABLE;
        cache.store(cred);
        let bytes = cache.to_bytes().expect("encode");
        assert_eq!(CredentialCache::parse(&bytes).expect("parse"), cache);
        cache.credentials[0].addresses[0].addr_type = 0x10000;
        assert!(matches!(
            cache.to_bytes(),
            Err(CcacheError::OutOfRange {
                what: "address type",
                ..
            })
        ));
    }

    #[test]
    fn resolve_path_follows_krb5ccname() {
        let resolve = |name: Option<&str>| resolve_path(name.map(OsStr::new), 1000);
        assert_eq!(
            resolve(None).expect("default"),
            Path::new("/tmp/krb5cc_1000")
        );
        assert_eq!(
            resolve(Some("")).expect("empty"),
            Path::new("/tmp/krb5cc_1000")
        );
        assert_eq!(
            resolve(Some("FILE:/tmp/x")).expect("file"),
            Path::new("/tmp/x")
        );
        assert_eq!(
            resolve(Some("/var/cc")).expect("plain"),
            Path::new("/var/cc")
        );
        assert!(matches!(
            resolve(Some("KEYRING:persistent:0")),
            Err(CcacheError::UnsupportedCacheType { cache_type }) if cache_type == "KEYRING"
        ));
        assert!(default_path().is_ok() || std::env::var_os("KRB5CCNAME").is_some());
    }

    #[test]
    fn save_is_atomic_and_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("krb5cc_test");
        let cache = CredentialCache::parse(KINIT_V4).expect("parse");
        cache.save(&path).expect("save");
        assert_eq!(std::fs::read(&path).expect("read"), KINIT_V4);
        assert_eq!(
            std::fs::metadata(&path).expect("stat").mode() & 0o777,
            0o600
        );
        assert_eq!(CredentialCache::load(&path).expect("load"), cache);
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn debug_never_prints_session_keys() {
        let cache = CredentialCache::parse(KINIT_V4).expect("parse");
        let tgt = cache.tgt().expect("tgt");
        let key_bytes = format!("{:?}", tgt.key.as_bytes());
        let shown = format!("{cache:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains(&key_bytes[1..key_bytes.len() - 1]));
    }

    fn arb_name() -> impl Strategy<Value = PrincipalName> {
        let comps = proptest::collection::vec("[a-z/@]{0,8}", 0..4);
        (any::<i32>(), comps, "[A-Z.:-]{0,12}")
            .prop_map(|(nt, comps, realm)| PrincipalName::new(nt, comps, realm))
    }

    fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..24)
    }

    fn arb_credential() -> impl Strategy<Value = Credential> {
        let names = (arb_name(), arb_name(), any::<i16>(), arb_bytes());
        let times = any::<[u32; 4]>();
        let rest = (any::<bool>(), any::<u32>(), arb_bytes(), arb_bytes());
        let lists = (
            proptest::collection::vec((any::<u16>(), arb_bytes()), 0..3),
            proptest::collection::vec((any::<i16>(), arb_bytes()), 0..3),
        );
        (names, times, rest, lists).prop_map(|(n, t, r, l)| Credential {
            client: n.0,
            server: n.1,
            key: KeyBlock::new(EncryptionType::new(i32::from(n.2)), &n.3),
            authtime: t[0],
            starttime: t[1],
            endtime: t[2],
            renew_till: t[3],
            is_skey: r.0,
            flags: TicketFlags::from_bits_retain(r.1),
            addresses: l
                .0
                .into_iter()
                .map(|(t, data)| Address {
                    addr_type: i32::from(t),
                    data,
                })
                .collect(),
            authdata: l
                .1
                .into_iter()
                .map(|(t, data)| AuthData {
                    ad_type: i32::from(t),
                    data,
                })
                .collect(),
            ticket: r.2,
            second_ticket: r.3,
        })
    }

    proptest! {
        #[test]
        fn built_caches_round_trip(
            principal in arb_name(),
            credentials in proptest::collection::vec(arb_credential(), 0..4),
            v3 in any::<bool>(),
            offset in proptest::option::of(any::<(i32, i32)>()),
        ) {
            let mut cache = CredentialCache::new(principal);
            cache.credentials = credentials;
            if v3 {
                cache.version = CcacheVersion::V3;
            } else {
                cache.set_kdc_time_offset(offset.map(|(s, u)| KdcTimeOffset { seconds: s, microseconds: u }));
            }
            let bytes = cache.to_bytes().expect("encode");
            let parsed = CredentialCache::parse(&bytes).expect("parse");
            prop_assert_eq!(parsed.to_bytes().expect("encode"), bytes);
            prop_assert_eq!(parsed, cache);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = CredentialCache::parse(&bytes);
        }

        #[test]
        fn parsed_files_round_trip(mut tail in proptest::collection::vec(any::<u8>(), 0..300),
                                   version in prop_oneof![Just(0x0504u16), Just(0x0503)]) {
            let mut bytes = version.to_be_bytes().to_vec();
            bytes.append(&mut tail);
            if let Ok(cache) = CredentialCache::parse(&bytes) {
                let again = CredentialCache::parse(&cache.to_bytes().expect("encode")).expect("reparse");
                prop_assert_eq!(again, cache);
            }
        }

        #[test]
        fn mutated_real_files_never_panic(at in 0..KINIT_V4.len(), value in any::<u8>()) {
            let mut bytes = KINIT_V4.to_vec();
            bytes[at] = value;
            if let Ok(cache) = CredentialCache::parse(&bytes) {
                let again = CredentialCache::parse(&cache.to_bytes().expect("encode")).expect("reparse");
                prop_assert_eq!(again, cache);
            }
        }
    }
}
