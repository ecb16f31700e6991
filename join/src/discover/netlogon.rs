//! MS-ADTS 6.3.1.9 NETLOGON_SAM_LOGON_RESPONSE_EX: what a DC says about itself in answer
//! to an LDAP ping (MS-ADTS 6.3.3), and the flag words around it.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-------------------------------+-------------------------------+
//! |            Opcode             |              Sbz              |
//! +-------------------------------+-------------------------------+
//! |                             Flags                             |
//! +---------------------------------------------------------------+
//! |                      DomainGuid (16 bytes)                    |
//! +---------------------------------------------------------------+
//! | DnsForestName, DnsDomainName, DnsHostName, NetbiosDomainName, |
//! | NetbiosComputerName, UserName, DcSiteName, ClientSiteName     |
//! | (each an RFC 1035 name, compressed, UTF-8 labels)             |
//! +---------------+-----------------------------------------------+
//! | DcSockAddrSize| DcSockAddr (16 bytes)  -- only if V5EP asked  |
//! +---------------+-----------------------------------------------+
//! | NextClosestSiteName   -- if VCS asked (Windows; Samba omits)  |
//! +---------------------------------------------------------------+
//! |                           NtVersion                           |
//! +-------------------------------+-------------------------------+
//! |           LmNtToken           |           Lm20Token           |
//! +-------------------------------+-------------------------------+
//! ```
//! All integers are little-endian.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use bitflags::{Flags, bitflags};
use serde::Serialize;

bitflags! {
    /// MS-ADTS 6.3.1.1 NETLOGON_NT_VERSION options bits: which response form a ping asks
    /// for (sent in the `NtVer` filter term) and what the DC says it can do.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NtVersion: u32 {
        /// V1: NETLOGON_SAM_LOGON_RESPONSE_NT40.
        const V1 = 0x0000_0001;
        /// V5: NETLOGON_SAM_LOGON_RESPONSE.
        const V5 = 0x0000_0002;
        /// V5EX: NETLOGON_SAM_LOGON_RESPONSE_EX.
        const V5EX = 0x0000_0004;
        /// V5EP: NETLOGON_SAM_LOGON_RESPONSE_EX with the DC's IP address (DcSockAddr).
        const V5EX_WITH_IP = 0x0000_0008;
        /// VCS: ask for the closest site (adds NextClosestSiteName).
        const WITH_CLOSEST_SITE = 0x0000_0010;
        /// VNT4: the client is an NT4 emulator-avoiding client.
        const AVOID_NT4EMUL = 0x0100_0000;
        /// VPDC: the responder is a PDC.
        const PDC = 0x1000_0000;
        /// VIP: the responder supports IP.
        const IP = 0x2000_0000;
        /// VL: the response comes from the local machine.
        const LOCAL = 0x4000_0000;
        /// VGC: the responder is a global catalog.
        const GC = 0x8000_0000;
        const _ = !0;
    }
}

impl NtVersion {
    /// What Adjoin asks for, like Windows and Samba clients: 0x16 = V5 | V5EX |
    /// WITH_CLOSEST_SITE.
    pub const PING: Self = Self::V5.union(Self::V5EX).union(Self::WITH_CLOSEST_SITE);
}

bitflags! {
    /// MS-ADTS 6.3.1.2 DS_FLAG options bits: the roles and services of the answering DC.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct DsFlags: u32 {
        /// FP: holds the PDC emulator FSMO role.
        const PDC = 0x0000_0001;
        /// FG: global catalog.
        const GC = 0x0000_0004;
        /// FL: LDAP server.
        const LDAP = 0x0000_0008;
        /// FD: a domain controller.
        const DS = 0x0000_0010;
        /// FK: runs a Kerberos KDC.
        const KDC = 0x0000_0020;
        /// FT: runs the time service.
        const TIMESERV = 0x0000_0040;
        /// FC: in the same site as the client.
        const CLOSEST = 0x0000_0080;
        /// FW: writable (not an RODC).
        const WRITABLE = 0x0000_0100;
        /// FGT: a good (hardware-backed) time source.
        const GOOD_TIMESERV = 0x0000_0200;
        /// FN: an application NC server (NDNC).
        const NDNC = 0x0000_0400;
        /// FSS: an RODC (selective secrets, Windows Server 2008).
        const SELECT_SECRET_DOMAIN_6 = 0x0000_0800;
        /// FFS: a writable DC that holds all secrets (Windows Server 2008).
        const FULL_SECRET_DOMAIN_6 = 0x0000_1000;
        /// FWS: runs Active Directory Web Services.
        const WS = 0x0000_2000;
        /// F8: Windows Server 2012 or later functional level.
        const DS_8 = 0x0000_4000;
        /// F9: Windows Server 2012 R2 or later functional level.
        const DS_9 = 0x0000_8000;
        /// F10: Windows Server 2016 or later functional level.
        const DS_10 = 0x0001_0000;
        /// FDNS-C: the DC's name in the response is a DNS name.
        const DNS_CONTROLLER = 0x2000_0000;
        /// FDNS-D: the domain name in the response is a DNS name.
        const DNS_DOMAIN = 0x4000_0000;
        /// FDNS-F: the forest name in the response is a DNS name.
        const DNS_FOREST = 0x8000_0000;
        const _ = !0;
    }
}

impl DsFlags {
    /// The names of the set flags, in bit order, for people to read (`PDC`, `GC`, ...);
    /// bits this version does not know are shown in hex.
    pub fn names(self) -> Vec<String> {
        let mut out: Vec<String> = self.iter_names().map(|(n, _)| n.to_owned()).collect();
        let unknown = self.bits() & !Self::all_named().bits();
        if unknown != 0 {
            out.push(format!("{unknown:#010x}"));
        }
        out
    }

    fn all_named() -> Self {
        Self::FLAGS
            .iter()
            .filter(|f| f.is_named())
            .fold(Self::empty(), |acc, f| acc | *f.value())
    }
}

/// MS-ADTS 6.3.1.3 operation codes of a ping response.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogonOpcode(pub u16);

impl LogonOpcode {
    /// The DC serves the domain and the user (if any) is known.
    pub const SAM_LOGON_RESPONSE_EX: Self = Self(23);
    /// The DC is paused.
    pub const SAM_PAUSE_RESPONSE_EX: Self = Self(24);
    /// The DC serves the domain but does not know the user named in the ping.
    pub const SAM_USER_UNKNOWN_EX: Self = Self(25);
}

impl fmt::Debug for LogonOpcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::SAM_LOGON_RESPONSE_EX => f.write_str("LOGON_SAM_LOGON_RESPONSE_EX"),
            Self::SAM_PAUSE_RESPONSE_EX => f.write_str("LOGON_SAM_PAUSE_RESPONSE_EX"),
            Self::SAM_USER_UNKNOWN_EX => f.write_str("LOGON_SAM_USER_UNKNOWN_EX"),
            Self(other) => write!(f, "LogonOpcode({other:#06x})"),
        }
    }
}

/// A GUID in its MS-DTYP 2.3.4 wire form (Data1..Data3 little-endian).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid(pub [u8; 16]);

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9]
        )?;
        b[10..].iter().try_for_each(|x| write!(f, "{x:02x}"))
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A decoded NETLOGON_SAM_LOGON_RESPONSE_EX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamLogonResponseEx {
    /// What kind of answer this is.
    pub opcode: LogonOpcode,
    /// The DC's roles and services.
    pub flags: DsFlags,
    /// The domain's GUID.
    pub domain_guid: Guid,
    /// DNS name of the forest root domain.
    pub dns_forest_name: String,
    /// DNS name of the domain.
    pub dns_domain_name: String,
    /// DNS name of the DC.
    pub dns_host_name: String,
    /// NetBIOS name of the domain.
    pub netbios_domain_name: String,
    /// NetBIOS name of the DC.
    pub netbios_computer_name: String,
    /// The user name from the ping, echoed back.
    pub user_name: String,
    /// The site the DC is in.
    pub dc_site_name: String,
    /// The site the client's address maps to (empty if none).
    pub client_site_name: String,
    /// The DC's IPv4 address, when asked for with V5EX_WITH_IP.
    pub dc_sock_addr: Option<SocketAddrV4>,
    /// The next closest site, when asked for with WITH_CLOSEST_SITE.
    pub next_closest_site_name: Option<String>,
    /// The response version flags.
    pub nt_version: NtVersion,
    /// MUST be 0xFFFF.
    pub lm_nt_token: u16,
    /// MUST be 0xFFFF.
    pub lm20_token: u16,
}

/// Why a NETLOGON_SAM_LOGON_RESPONSE_EX could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetlogonDecodeError {
    /// The data ended inside a field.
    #[error("netlogon response truncated in {field} at offset {offset}")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Where reading stopped.
        offset: usize,
    },
    /// A response opcode that is not one of the _EX responses.
    #[error("netlogon response has opcode {opcode:?}, not a SAM_LOGON_RESPONSE_EX")]
    UnexpectedOpcode {
        /// The opcode found.
        opcode: LogonOpcode,
    },
    /// A DNS name is malformed (reserved label type, bad pointer, too long, not UTF-8).
    #[error("netlogon response has a malformed name in {field} at offset {offset}: {reason}")]
    BadName {
        /// The field being read.
        field: &'static str,
        /// Where the bad label starts.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// DcSockAddr is not a 16-byte AF_INET sockaddr.
    #[error("netlogon response has a DcSockAddr of size {size} and family {family}")]
    BadSockAddr {
        /// DcSockAddrSize.
        size: u8,
        /// sin_family.
        family: u16,
    },
    /// Bytes follow Lm20Token.
    #[error("netlogon response has {len} trailing bytes")]
    TrailingBytes {
        /// How many.
        len: usize,
    },
}

/// RFC 1035 4.1.4 caps a name at 255 octets; a pointer chain longer than this is a loop.
const MAX_NAME_LEN: usize = 255;
const MAX_POINTERS: usize = 32;

impl SamLogonResponseEx {
    /// Decodes the bytes of the `Netlogon` attribute of a ping answer. `requested` is the
    /// NtVer the ping sent: it decides whether DcSockAddr and NextClosestSiteName are present.
    pub fn decode(data: &[u8], requested: NtVersion) -> Result<Self, NetlogonDecodeError> {
        let mut r = Reader { data, pos: 0 };
        let opcode = LogonOpcode(r.u16("Opcode")?);
        if !matches!(
            opcode,
            LogonOpcode::SAM_LOGON_RESPONSE_EX
                | LogonOpcode::SAM_PAUSE_RESPONSE_EX
                | LogonOpcode::SAM_USER_UNKNOWN_EX
        ) {
            return Err(NetlogonDecodeError::UnexpectedOpcode { opcode });
        }
        let _sbz = r.u16("Sbz")?;
        let flags = DsFlags::from_bits_retain(r.u32("Flags")?);
        let domain_guid = Guid(r.array("DomainGuid")?);
        let dns_forest_name = r.name("DnsForestName")?;
        let dns_domain_name = r.name("DnsDomainName")?;
        let dns_host_name = r.name("DnsHostName")?;
        let netbios_domain_name = r.name("NetbiosDomainName")?;
        let netbios_computer_name = r.name("NetbiosComputerName")?;
        let user_name = r.name("UserName")?;
        let dc_site_name = r.name("DcSiteName")?;
        let client_site_name = r.name("ClientSiteName")?;
        let dc_sock_addr = if requested.contains(NtVersion::V5EX_WITH_IP) {
            Some(r.sock_addr()?)
        } else {
            None
        };
        // Windows sends NextClosestSiteName when VCS was asked for; Samba 4.17 leaves it
        // out. Only the 8-byte trailer can follow, so the length left tells which.
        let trailer = 8;
        let next_closest_site_name = if requested.contains(NtVersion::WITH_CLOSEST_SITE)
            && data.len().saturating_sub(r.pos) > trailer
        {
            Some(r.name("NextClosestSiteName")?)
        } else {
            None
        };
        let nt_version = NtVersion::from_bits_retain(r.u32("NtVersion")?);
        let lm_nt_token = r.u16("LmNtToken")?;
        let lm20_token = r.u16("Lm20Token")?;
        if r.pos != data.len() {
            return Err(NetlogonDecodeError::TrailingBytes {
                len: data.len() - r.pos,
            });
        }
        Ok(Self {
            opcode,
            flags,
            domain_guid,
            dns_forest_name,
            dns_domain_name,
            dns_host_name,
            netbios_domain_name,
            netbios_computer_name,
            user_name,
            dc_site_name,
            client_site_name,
            dc_sock_addr,
            next_closest_site_name,
            nt_version,
            lm_nt_token,
            lm20_token,
        })
    }
}

/// A cursor over the response; names may point backwards anywhere in `data`.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&[u8], NetlogonDecodeError> {
        let truncated = NetlogonDecodeError::Truncated {
            field,
            offset: self.pos,
        };
        let end = self.pos.checked_add(n).ok_or(truncated.clone())?;
        let bytes = self.data.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], NetlogonDecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, NetlogonDecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, NetlogonDecodeError> {
        self.array(field).map(u16::from_le_bytes)
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, NetlogonDecodeError> {
        self.array(field).map(u32::from_le_bytes)
    }

    /// A sockaddr_in: family (LE), port (BE), IPv4 address, 8 bytes of zero padding.
    fn sock_addr(&mut self) -> Result<SocketAddrV4, NetlogonDecodeError> {
        let size = self.u8("DcSockAddrSize")?;
        let raw: [u8; 16] = self.array("DcSockAddr")?;
        let family = u16::from_le_bytes([raw[0], raw[1]]);
        const AF_INET: u16 = 2;
        if size != 16 || family != AF_INET {
            return Err(NetlogonDecodeError::BadSockAddr { size, family });
        }
        let port = u16::from_be_bytes([raw[2], raw[3]]);
        let ip = Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
        Ok(SocketAddrV4::new(ip, port))
    }

    /// An RFC 1035 4.1.4 name: labels, possibly ending in a pointer to an earlier name.
    fn name(&mut self, field: &'static str) -> Result<String, NetlogonDecodeError> {
        let mut out = String::new();
        let mut at = self.pos;
        let mut resume = None;
        let mut pointers = 0;
        loop {
            let bad = |offset, reason| NetlogonDecodeError::BadName {
                field,
                offset,
                reason,
            };
            let len = *self
                .data
                .get(at)
                .ok_or(NetlogonDecodeError::Truncated { field, offset: at })?;
            match len & 0xc0 {
                0x00 if len == 0 => {
                    self.pos = resume.unwrap_or(at + 1);
                    return Ok(out);
                }
                0x00 => {
                    let label = self
                        .data
                        .get(at + 1..at + 1 + usize::from(len))
                        .ok_or(NetlogonDecodeError::Truncated { field, offset: at })?;
                    let label =
                        std::str::from_utf8(label).map_err(|_| bad(at, "label is not UTF-8"))?;
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(label);
                    if out.len() > MAX_NAME_LEN {
                        return Err(bad(at, "name longer than 255 octets"));
                    }
                    at += 1 + usize::from(len);
                }
                0xc0 => {
                    let low = *self
                        .data
                        .get(at + 1)
                        .ok_or(NetlogonDecodeError::Truncated { field, offset: at })?;
                    let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                    // Pointers must go backwards: this also rules out loops.
                    if target >= at || pointers == MAX_POINTERS {
                        return Err(bad(at, "compression pointer does not point backwards"));
                    }
                    pointers += 1;
                    resume.get_or_insert(at + 2);
                    at = target;
                }
                _ => return Err(bad(at, "reserved label type")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NETLOGON_SAM_LOGON_RESPONSE_EX captured from the lab's Samba 4.17 DC answering
    /// `(&(DnsDomain=example.test)(NtVer=\16\00\00\00))`; see testdata/README.md.
    const SAMBA_PING: &[u8] = include_bytes!("../../testdata/samba-netlogon-ex.bin");

    #[test]
    fn decodes_samba_capture() {
        let r = SamLogonResponseEx::decode(SAMBA_PING, NtVersion::PING).unwrap();
        assert_eq!(r.opcode, LogonOpcode::SAM_LOGON_RESPONSE_EX);
        assert_eq!(r.dns_forest_name, "example.test");
        assert_eq!(r.dns_domain_name, "example.test");
        assert_eq!(r.dns_host_name, "dc1.example.test");
        assert_eq!(r.netbios_domain_name, "EXAMPLE");
        assert_eq!(r.netbios_computer_name, "DC1");
        assert_eq!(r.dc_site_name, "Default-First-Site-Name");
        assert_eq!(r.client_site_name, "Default-First-Site-Name");
        assert!(
            r.flags
                .contains(DsFlags::PDC | DsFlags::KDC | DsFlags::WRITABLE | DsFlags::GC)
        );
        assert!(r.flags.contains(DsFlags::CLOSEST));
        assert_eq!(
            r.domain_guid.to_string(),
            "f59f0fc6-912a-417c-8ada-a38f394e2f76"
        );
        assert_eq!(r.next_closest_site_name, None);
        assert!(r.nt_version.contains(NtVersion::V5EX));
        assert_eq!((r.lm_nt_token, r.lm20_token), (0xffff, 0xffff));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..SAMBA_PING.len() {
            assert!(SamLogonResponseEx::decode(&SAMBA_PING[..len], NtVersion::PING).is_err());
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut data = SAMBA_PING.to_vec();
        data.push(0);
        assert_eq!(
            SamLogonResponseEx::decode(&data, NtVersion::V5EX),
            Err(NetlogonDecodeError::TrailingBytes { len: 1 })
        );
        // With VCS asked for, the extra byte is read as the start of NextClosestSiteName.
        assert!(SamLogonResponseEx::decode(&data, NtVersion::PING).is_err());
    }

    /// Builds a response by hand: fixed header, then the names, then the trailer.
    fn response(names: &[u8], requested_extra: &[u8]) -> Vec<u8> {
        let mut v = vec![23, 0, 0, 0];
        v.extend_from_slice(&0x0000_f3fd_u32.to_le_bytes());
        v.extend_from_slice(&[0x11; 16]);
        v.extend_from_slice(names);
        v.extend_from_slice(requested_extra);
        v.extend_from_slice(&6_u32.to_le_bytes());
        v.extend_from_slice(&[0xff; 4]);
        v
    }

    #[test]
    fn compression_pointer_loop_is_refused() {
        // DnsForestName is a pointer to itself (offset 24).
        let r = SamLogonResponseEx::decode(&response(&[0xc0, 24], &[]), NtVersion::V5EX);
        assert!(
            matches!(r, Err(NetlogonDecodeError::BadName { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn forward_pointer_is_refused() {
        let r = SamLogonResponseEx::decode(&response(&[0xc0, 200], &[]), NtVersion::V5EX);
        assert!(
            matches!(r, Err(NetlogonDecodeError::BadName { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn reserved_label_type_is_refused() {
        let r = SamLogonResponseEx::decode(&response(&[0x40, 0], &[]), NtVersion::V5EX);
        assert!(
            matches!(r, Err(NetlogonDecodeError::BadName { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn sock_addr_is_decoded_when_asked_for() {
        // Forest "a.b", then every other name a pointer to it, then a sockaddr_in.
        let mut names = vec![1, b'a', 1, b'b', 0];
        for _ in 0..7 {
            names.extend_from_slice(&[0xc0, 24]);
        }
        let mut sock = vec![16, 2, 0, 0x01, 0x85, 127, 0, 0, 2];
        sock.extend_from_slice(&[0; 8]);
        let asked = NtVersion::V5EX | NtVersion::V5EX_WITH_IP;
        let r = SamLogonResponseEx::decode(&response(&names, &sock), asked).unwrap();
        assert_eq!(r.dns_host_name, "a.b");
        assert_eq!(r.client_site_name, "a.b");
        assert_eq!(r.dc_sock_addr, Some("127.0.0.2:389".parse().unwrap()));
        assert_eq!(r.next_closest_site_name, None);
    }

    #[test]
    fn next_closest_site_is_decoded_when_present() {
        let mut names = vec![1, b'a', 1, b'b', 0];
        for _ in 0..7 {
            names.extend_from_slice(&[0xc0, 24]);
        }
        names.extend_from_slice(&[4, b'n', b'e', b'x', b't', 0]);
        let r = SamLogonResponseEx::decode(&response(&names, &[]), NtVersion::PING).unwrap();
        assert_eq!(r.next_closest_site_name.as_deref(), Some("next"));
    }

    #[test]
    fn guid_prints_in_registry_format() {
        let g = Guid([
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ]);
        assert_eq!(g.to_string(), "00112233-4455-6677-8899-aabbccddeeff");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data: Vec<u8>, asked: u32) {
            let _ = SamLogonResponseEx::decode(&data, NtVersion::from_bits_retain(asked));
        }

        #[test]
        fn mutated_capture_never_panics(at: usize, byte: u8, cut: usize) {
            let mut data = SAMBA_PING.to_vec();
            let at = at % data.len();
            data[at] = byte;
            data.truncate(data.len() - cut % 4);
            let _ = SamLogonResponseEx::decode(&data, NtVersion::PING);
        }
    }

    #[test]
    fn flag_names_show_unknown_bits() {
        let f = DsFlags::PDC | DsFlags::KDC | DsFlags::from_bits_retain(0x0100_0000);
        assert_eq!(f.names(), ["PDC", "KDC", "0x01000000"]);
    }
}
