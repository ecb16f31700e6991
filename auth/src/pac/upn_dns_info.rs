//! MS-PAC 2.10 UPN_DNS_INFO (buffer type 12): the client's UPN and DNS
//! domain, and, when extended, its sAMAccountName and SID.

use bitflags::bitflags;

use super::Sid;
use super::error::PacError;
use super::reader::{Reader, utf16le};

bitflags! {
    /// MS-PAC 2.10 `Flags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct UpnDnsFlags: u32 {
        /// U: the account has no userPrincipalName; the UPN given is built
        /// from the account name and the DNS domain.
        const UPN_CONSTRUCTED = 0x0000_0001;
        /// S: the structure is extended with the SAM name and the SID.
        const EXTENDED = 0x0000_0002;
        // Other bits "are ignored" (MS-PAC 2.10) and kept as they came.
        const _ = !0;
    }
}

/// MS-PAC 2.10 UPN_DNS_INFO. Offsets count from the structure's start;
/// strings are UTF-16LE without terminators.
///
/// ```text
/// UpnLength (u16) | UpnOffset (u16) | DnsDomainNameLength (u16) | DnsDomainNameOffset (u16)
/// Flags (u32)
/// if Flags has S:
///   SamNameLength (u16) | SamNameOffset (u16) | SidLength (u16) | SidOffset (u16)
/// ...the strings and the SID at their offsets
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpnDnsInfo {
    /// The user principal name (e.g. `alice@example.test`).
    pub upn: String,
    /// The DNS name of the user's domain.
    pub dns_domain_name: String,
    /// `Flags`.
    pub flags: UpnDnsFlags,
    /// The sAMAccountName, when the S flag is set.
    pub sam_name: Option<String>,
    /// The account's SID, when the S flag is set.
    pub sid: Option<Sid>,
}

impl UpnDnsInfo {
    /// Decodes the buffer, checking every length and offset against it.
    pub fn parse(bytes: &[u8]) -> Result<Self, PacError> {
        let mut r = Reader::new("UPN_DNS_INFO", bytes);
        let upn = (r.u16()?, r.u16()?);
        let dns = (r.u16()?, r.u16()?);
        let flags = UpnDnsFlags::from_bits_retain(r.u32()?);
        let upn = utf16le("UPN_DNS_INFO Upn", field(bytes, "Upn", upn)?)?;
        let dns_domain_name = utf16le(
            "UPN_DNS_INFO DnsDomainName",
            field(bytes, "DnsDomainName", dns)?,
        )?;
        let (mut sam_name, mut sid) = (None, None);
        if flags.contains(UpnDnsFlags::EXTENDED) {
            let sam = (r.u16()?, r.u16()?);
            let sid_field = (r.u16()?, r.u16()?);
            sam_name = Some(utf16le(
                "UPN_DNS_INFO SamName",
                field(bytes, "SamName", sam)?,
            )?);
            sid = Some(Sid::from_bytes(field(bytes, "Sid", sid_field)?)?);
        }
        Ok(Self {
            upn,
            dns_domain_name,
            flags,
            sam_name,
            sid,
        })
    }
}

/// The `(length, offset)` field of `bytes`, both in bytes.
fn field<'a>(
    bytes: &'a [u8],
    what: &'static str,
    (len, offset): (u16, u16),
) -> Result<&'a [u8], PacError> {
    let (len, offset) = (usize::from(len), usize::from(offset));
    let mut r = Reader::new(what, bytes);
    r.seek(offset)?;
    r.take(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heimdal's `extra_logon_info` PAC: UPN_DNS_INFO at 0x298, 0x98 bytes.
    fn heimdal_upn_dns_info() -> &'static [u8] {
        &include_bytes!("../../testdata/pac-heimdal-extra-logon-info.bin")[0x298..0x298 + 0x98]
    }

    #[test]
    fn decodes_the_extended_heimdal_sample() {
        let info = UpnDnsInfo::parse(heimdal_upn_dns_info()).unwrap();
        assert_eq!(info.upn, "c9d801a8_0@EXAMPLE.COM");
        assert_eq!(info.dns_domain_name, "EXAMPLE.COM");
        assert_eq!(
            info.flags,
            UpnDnsFlags::UPN_CONSTRUCTED | UpnDnsFlags::EXTENDED
        );
        assert_eq!(info.sam_name.as_deref(), Some("c9d801a8_0"));
        assert_eq!(
            info.sid.unwrap().to_string(),
            "S-1-5-21-2140317089-1002772777-95442619-1101"
        );
    }

    #[test]
    fn without_the_s_flag_only_upn_and_domain() {
        let mut bytes = heimdal_upn_dns_info().to_vec();
        bytes[8] = 0x01;
        let info = UpnDnsInfo::parse(&bytes).unwrap();
        assert_eq!(info.sam_name, None);
        assert_eq!(info.sid, None);
        assert_eq!(info.upn, "c9d801a8_0@EXAMPLE.COM");
    }

    #[test]
    fn fields_outside_the_buffer_are_refused() {
        let bytes = heimdal_upn_dns_info();
        for at in [0, 2, 4, 6, 12, 14, 16, 18] {
            let mut bad = bytes.to_vec();
            bad[at] = 0xff;
            bad[at + 1] = 0x7f;
            assert!(UpnDnsInfo::parse(&bad).is_err(), "field at {at}");
        }
        assert!(UpnDnsInfo::parse(&bytes[..12]).is_err());
    }
}
