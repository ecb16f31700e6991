//! The Privilege Attribute Certificate (MS-PAC), sans-IO: the container, the
//! buffers an acceptor needs, and the signature checks.
//!
//! | buffer | spec | file |
//! |---|---|---|
//! | PACTYPE, PAC_INFO_BUFFER | MS-PAC 2.3, 2.4 | here |
//! | KERB_VALIDATION_INFO (NDR) | MS-PAC 2.5, MS-RPCE 2.2.6 | `logon_info.rs` (on adjoin-ndr) |
//! | PAC_CLIENT_INFO | MS-PAC 2.7 | `client_info.rs` |
//! | PAC_SIGNATURE_DATA and checks | MS-PAC 2.8, 2.8.1, 2.8.2 | `signature.rs` |
//! | UPN_DNS_INFO | MS-PAC 2.10 | `upn_dns_info.rs` |
//! | SID | MS-DTYP 2.4.2 | adjoin-ndr's `sid.rs` (re-exported here) |
//! | AD-IF-RELEVANT / AD-WIN2K-PAC | RFC 4120 5.2.6.1, MS-KILE 3.3.5.6.4 | `authorization_data.rs` |
//!
//! Other buffers (claims, delegation, device, ticket and full checksums, ...)
//! are kept as raw bytes ([`Pac::buffer`]). See also `docs/pac.md`.
//!
//! Parsing checks structure only; an acceptor must also call
//! [`Pac::verify_server_signature`] with the service key and
//! [`Pac::check_client`] with the ticket's client and authtime before it
//! trusts anything in the PAC.

mod authorization_data;
mod client_info;
mod error;
#[cfg(test)]
mod fuzz;
mod logon_info;
mod reader;
mod signature;
mod upn_dns_info;

use std::ops::Range;
use std::time::SystemTime;

pub use adjoin_ndr::Sid;
pub use authorization_data::{AD_WIN2K_PAC, find_pac};
pub use client_info::{ClientInfo, filetime_to_unix, unix_to_filetime};
pub use error::PacError;
pub use logon_info::{
    GroupAttributes, GroupMembership, GroupSid, KerbValidationInfo, SidAndAttributes, UserFlags,
    ValidationSamInfo2,
};
pub use signature::SignatureData;
pub use upn_dns_info::{UpnDnsFlags, UpnDnsInfo};

use crate::crypto::Key;
use crate::principal::PrincipalName;
use reader::Reader;

adjoin_ndr::open_enum! {
    decimal
    /// MS-PAC 2.4 `ulType`: what a PAC_INFO_BUFFER holds.
    pub struct PacBufferType(u32) {
        /// 2.5 KERB_VALIDATION_INFO.
        LOGON_INFO = 1 => "logon information",
        /// 2.6 PAC_CREDENTIAL_INFO (PKINIT only).
        CREDENTIALS_INFO = 2 => "credentials information",
        /// 2.8 server signature.
        SERVER_CHECKSUM = 6 => "server signature",
        /// 2.8 KDC (privilege server) signature.
        KDC_CHECKSUM = 7 => "KDC signature",
        /// 2.7 PAC_CLIENT_INFO.
        CLIENT_INFO = 10 => "client name and ticket information",
        /// 2.9 S4U_DELEGATION_INFO.
        CONSTRAINED_DELEGATION = 11 => "constrained delegation information",
        /// 2.10 UPN_DNS_INFO.
        UPN_DNS_INFO = 12 => "UPN and DNS information",
        /// 2.11 client claims.
        CLIENT_CLAIMS = 13 => "client claims",
        /// 2.12 PAC_DEVICE_INFO.
        DEVICE_INFO = 14 => "device information",
        /// 2.13 device claims.
        DEVICE_CLAIMS = 15 => "device claims",
        /// 2.8.3 ticket signature.
        TICKET_CHECKSUM = 16 => "ticket signature",
        /// 2.14 PAC_ATTRIBUTES_INFO.
        ATTRIBUTES_INFO = 17 => "PAC attributes",
        /// 2.15 PAC_REQUESTOR.
        REQUESTOR = 18 => "PAC requestor",
        /// 2.8.4 extended KDC (full PAC) signature.
        FULL_CHECKSUM = 19 => "extended KDC signature",
    }
}

/// MS-PAC 2.4 PAC_INFO_BUFFER, after its bounds were checked.
///
/// ```text
/// ulType (u32) | cbBufferSize (u32) | Offset (u64, from the PAC's start, multiple of 8)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacInfoBuffer {
    /// What the buffer holds.
    pub ty: PacBufferType,
    /// Where its data starts in the PAC.
    pub offset: usize,
    /// Its length.
    pub size: usize,
}

impl PacInfoBuffer {
    fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.size
    }
}

/// A parsed PAC: the raw bytes (needed for the signatures), the buffer
/// table, and the decoded buffers every PAC must have.
#[derive(Debug, Clone)]
pub struct Pac {
    bytes: Vec<u8>,
    buffers: Vec<PacInfoBuffer>,
    logon_info: KerbValidationInfo,
    client_info: ClientInfo,
    upn_dns_info: Option<UpnDnsInfo>,
    server_signature: SignatureData,
    kdc_signature: SignatureData,
    /// Where the server and KDC Signature fields lie in `bytes`.
    signature_fields: [Range<usize>; 2],
}

impl Pac {
    /// MS-PAC 2.3 PACTYPE: the header and buffer table, with every buffer's
    /// bounds checked, then the buffers decoded.
    ///
    /// ```text
    /// cBuffers (u32) | Version (u32, 0) | Buffers[cBuffers] (PAC_INFO_BUFFER, 16 bytes each)
    /// ...buffer data at 8-aligned offsets
    /// ```
    ///
    /// A PAC must hold exactly one logon information, client information,
    /// server signature and KDC signature buffer; no type may repeat and
    /// no two buffers may share bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, PacError> {
        let buffers = read_buffer_table(bytes)?;
        let find = |ty| find_unique(&buffers, ty);
        let required = |ty| find(ty)?.ok_or(PacError::MissingBuffer { ty });
        let data = |b: &PacInfoBuffer| &bytes[b.range()];
        let upn_dns_info = find(PacBufferType::UPN_DNS_INFO)?
            .map(|b| UpnDnsInfo::parse(data(b)))
            .transpose()?;
        let logon_info = KerbValidationInfo::parse(data(required(PacBufferType::LOGON_INFO)?))?;
        let client_info = ClientInfo::parse(data(required(PacBufferType::CLIENT_INFO)?))?;
        let server = required(PacBufferType::SERVER_CHECKSUM)?;
        let kdc = required(PacBufferType::KDC_CHECKSUM)?;
        let server_signature = SignatureData::parse(server.ty, data(server))?;
        let kdc_signature = SignatureData::parse(kdc.ty, data(kdc))?;
        Ok(Self {
            signature_fields: [
                signature_field(server, &server_signature),
                signature_field(kdc, &kdc_signature),
            ],
            logon_info,
            client_info,
            upn_dns_info,
            server_signature,
            kdc_signature,
            buffers,
            bytes: bytes.to_vec(),
        })
    }

    /// The PAC as it came.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The buffer table, in PAC order.
    pub fn buffers(&self) -> &[PacInfoBuffer] {
        &self.buffers
    }

    /// The raw data of the buffer of type `ty` (decoded or not).
    pub fn buffer(&self, ty: PacBufferType) -> Option<&[u8]> {
        self.buffers
            .iter()
            .find(|b| b.ty == ty)
            .map(|b| &self.bytes[b.range()])
    }

    /// MS-PAC 2.5: the logon information.
    pub fn logon_info(&self) -> &KerbValidationInfo {
        &self.logon_info
    }

    /// MS-PAC 2.7: the client information.
    pub fn client_info(&self) -> &ClientInfo {
        &self.client_info
    }

    /// MS-PAC 2.10: the UPN and DNS information, when the KDC sent it.
    pub fn upn_dns_info(&self) -> Option<&UpnDnsInfo> {
        self.upn_dns_info.as_ref()
    }

    /// MS-PAC 2.8: the server signature.
    pub fn server_signature(&self) -> &SignatureData {
        &self.server_signature
    }

    /// MS-PAC 2.8: the KDC signature.
    pub fn kdc_signature(&self) -> &SignatureData {
        &self.kdc_signature
    }

    /// The user's SID (logon domain SID and user RID).
    pub fn user_sid(&self) -> Result<Sid, PacError> {
        self.logon_info.user_sid()
    }

    /// The user's group SIDs: see [`KerbValidationInfo::group_sids`].
    pub fn group_sids(&self) -> Result<Vec<GroupSid>, PacError> {
        self.logon_info.group_sids()
    }

    /// MS-PAC 2.8.1: the server signature is a keyed checksum, with the
    /// service's key and the checksum type the buffer names, over the whole
    /// PAC with the Signature fields of the server and KDC signatures zeroed.
    pub fn verify_server_signature(&self, service_key: &Key) -> Result<(), PacError> {
        let mut zeroed = self.bytes.clone();
        for field in &self.signature_fields {
            zeroed[field.clone()].fill(0);
        }
        self.server_signature
            .verify(PacBufferType::SERVER_CHECKSUM, service_key, &zeroed)
    }

    /// MS-PAC 2.8.2: the KDC signature is a keyed checksum, with the
    /// krbtgt key, over the server signature's Signature field. Only a KDC
    /// (or a DC's own services) holds that key.
    pub fn verify_kdc_signature(&self, krbtgt_key: &Key) -> Result<(), PacError> {
        self.kdc_signature.verify(
            PacBufferType::KDC_CHECKSUM,
            krbtgt_key,
            &self.server_signature.signature,
        )
    }

    /// MS-PAC 2.7: the PAC belongs to the ticket it came in, whose client is
    /// `client` (the EncTicketPart's cname) and authtime `auth_time`.
    pub fn check_client(
        &self,
        client: &PrincipalName,
        auth_time: SystemTime,
    ) -> Result<(), PacError> {
        self.client_info.check_ticket_client(client, auth_time)
    }
}

/// The size of PACTYPE's cBuffers and Version.
const PACTYPE_HEADER: usize = 8;
/// The size of one PAC_INFO_BUFFER.
const INFO_BUFFER_SIZE: usize = 16;

/// Reads PACTYPE and its PAC_INFO_BUFFERs, checking each buffer's bounds.
fn read_buffer_table(bytes: &[u8]) -> Result<Vec<PacInfoBuffer>, PacError> {
    let mut r = Reader::new("PACTYPE", bytes);
    let count = r.u32()?;
    let version = r.u32()?;
    // MS-PAC 2.3: Version MUST be 0x00000000.
    if version != 0 {
        return Err(PacError::UnknownVersion { version });
    }
    // The table must fit before any allocation sized by `count`.
    let table_len = usize::try_from(count)
        .ok()
        .and_then(|c| c.checked_mul(INFO_BUFFER_SIZE))
        .unwrap_or(usize::MAX);
    let mut table = Reader::new("PAC_INFO_BUFFER array", r.take(table_len)?);
    let header_end = PACTYPE_HEADER + table_len;
    let mut buffers = Vec::with_capacity(table_len / INFO_BUFFER_SIZE);
    while table.remaining() > 0 {
        buffers.push(read_info_buffer(&mut table, bytes.len(), header_end)?);
    }
    check_overlaps(&buffers)?;
    Ok(buffers)
}

/// One PAC_INFO_BUFFER, checked against the PAC's length and header.
fn read_info_buffer(
    r: &mut Reader<'_>,
    pac_len: usize,
    header_end: usize,
) -> Result<PacInfoBuffer, PacError> {
    let ty = PacBufferType::new(r.u32()?);
    let size = r.u32()?;
    let offset = r.u64()?;
    let out_of_bounds = PacError::BufferOutOfBounds {
        ty,
        offset,
        size,
        pac_len,
    };
    // MS-PAC 2.4: Offset MUST be a multiple of 8.
    if !offset.is_multiple_of(8) {
        return Err(PacError::MisalignedBuffer { ty, offset });
    }
    let start = usize::try_from(offset).map_err(|_| out_of_bounds.clone())?;
    let len = usize::try_from(size).map_err(|_| out_of_bounds.clone())?;
    // The data lies after the buffer table and inside the PAC.
    match start.checked_add(len) {
        Some(end) if start >= header_end && end <= pac_len => Ok(PacInfoBuffer {
            ty,
            offset: start,
            size: len,
        }),
        _ => Err(out_of_bounds),
    }
}

/// No two non-empty buffers share bytes.
fn check_overlaps(buffers: &[PacInfoBuffer]) -> Result<(), PacError> {
    let mut sorted: Vec<&PacInfoBuffer> = buffers.iter().filter(|b| b.size > 0).collect();
    sorted.sort_by_key(|b| b.offset);
    for pair in sorted.windows(2) {
        if pair[1].offset < pair[0].offset + pair[0].size {
            return Err(PacError::OverlappingBuffers {
                first: pair[0].ty,
                second: pair[1].ty,
            });
        }
    }
    Ok(())
}

/// The buffer of type `ty`, refusing a second one.
fn find_unique(
    buffers: &[PacInfoBuffer],
    ty: PacBufferType,
) -> Result<Option<&PacInfoBuffer>, PacError> {
    let mut found = buffers.iter().filter(|b| b.ty == ty);
    match (found.next(), found.next()) {
        (_, Some(_)) => Err(PacError::DuplicateBuffer { ty }),
        (first, None) => Ok(first),
    }
}

/// The bytes of a PAC_SIGNATURE_DATA's Signature field: after the 4-byte
/// SignatureType (the buffer holds it: `SignatureData::parse` checked).
fn signature_field(buffer: &PacInfoBuffer, sig: &SignatureData) -> Range<usize> {
    let start = buffer.offset + 4;
    start..start + sig.signature.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EncryptionType;

    /// Heimdal `lib/krb5/test_pac.c` `saved_pac` (from Samba's torture
    /// suite): a Windows 2003 PAC for `w2003final$`, RC4-signed.
    const HEIMDAL: &[u8] = include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin");
    /// test_pac.c `member_keyblock` (the service key) and `kdc_keyblock`.
    const HEIMDAL_SERVER_KEY: [u8; 16] = [
        0xD2, 0x17, 0xFA, 0xEA, 0xE5, 0xE6, 0xB5, 0xF9, 0x5C, 0xCC, 0x94, 0x07, 0x7A, 0xB8, 0xA5,
        0xFC,
    ];
    const HEIMDAL_KDC_KEY: [u8; 16] = [
        0xB2, 0x86, 0x75, 0x71, 0x48, 0xAF, 0x7F, 0xD2, 0x52, 0xC5, 0x36, 0x03, 0xA1, 0x50, 0xB7,
        0xE7,
    ];
    /// test_pac.c `extra_logon_info`: 8 buffers, extended UPN_DNS_INFO,
    /// attributes and requestor buffers, an empty claims buffer.
    const EXTRA: &[u8] = include_bytes!("../../testdata/pac-heimdal-extra-logon-info.bin");

    /// A real PAC from the lab's Samba 4.17 KDC: alice's AS ticket for
    /// HTTP/pacsvc.example.test (see `testdata/pac-README.md`).
    const LAB: &[u8] = include_bytes!("../../testdata/pac-lab-aes256.bin");
    /// pacsvc's aes256 key and the lab krbtgt's aes256 key of that day.
    const LAB_SERVICE_KEY: &[u8] = include_bytes!("../../testdata/pac-lab-aes256.key");
    const LAB_KRBTGT_KEY: &[u8] = include_bytes!("../../testdata/pac-lab-krbtgt-aes256.key");
    /// The ticket's authtime.
    const LAB_AUTHTIME: i64 = 1_795_544_952;

    fn aes256(bytes: &[u8]) -> Key {
        Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, bytes).unwrap()
    }

    fn rc4(bytes: &[u8]) -> Key {
        Key::new(EncryptionType::RC4_HMAC, bytes).unwrap()
    }

    #[test]
    fn heimdal_pac_buffers() {
        let pac = Pac::parse(HEIMDAL).unwrap();
        let types: Vec<u32> = pac.buffers().iter().map(|b| b.ty.value()).collect();
        assert_eq!(types, [1, 10, 6, 7]);
        assert_eq!(pac.buffers()[0].size, 472); // test_pac.c type_1_length
        assert_eq!(pac.logon_info().sam.effective_name, "W2003FINAL$");
        assert_eq!(pac.client_info().name, "w2003final$");
        assert!(pac.upn_dns_info().is_none());
        assert_eq!(pac.as_bytes(), HEIMDAL);
    }

    #[test]
    fn heimdal_pac_signatures_verify() {
        let pac = Pac::parse(HEIMDAL).unwrap();
        pac.verify_server_signature(&rc4(&HEIMDAL_SERVER_KEY))
            .unwrap();
        pac.verify_kdc_signature(&rc4(&HEIMDAL_KDC_KEY)).unwrap();
        let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["w2003final$"], "");
        let authtime = client_info::unix_to_system_time(1_120_440_609);
        pac.check_client(&client, authtime).unwrap();
    }

    #[test]
    fn wrong_keys_do_not_verify() {
        let pac = Pac::parse(HEIMDAL).unwrap();
        assert_eq!(
            pac.verify_server_signature(&rc4(&HEIMDAL_KDC_KEY)),
            Err(PacError::SignatureMismatch {
                ty: PacBufferType::SERVER_CHECKSUM
            })
        );
        assert_eq!(
            pac.verify_kdc_signature(&rc4(&HEIMDAL_SERVER_KEY)),
            Err(PacError::SignatureMismatch {
                ty: PacBufferType::KDC_CHECKSUM
            })
        );
    }

    #[test]
    fn any_modified_byte_breaks_the_server_signature() {
        let key = rc4(&HEIMDAL_SERVER_KEY);
        let kdc_sig = 0x258 + 4..0x258 + 20;
        for at in (0..HEIMDAL.len()).step_by(7) {
            let mut bytes = HEIMDAL.to_vec();
            bytes[at] ^= 0x01;
            let Ok(pac) = Pac::parse(&bytes) else {
                continue;
            };
            let verified = pac.verify_server_signature(&key).is_ok();
            // Only the KDC signature's value is outside the server's checksum.
            assert_eq!(verified, kdc_sig.contains(&at), "byte {at}");
        }
    }

    #[test]
    fn extra_logon_info_pac() {
        let pac = Pac::parse(EXTRA).unwrap();
        let types: Vec<u32> = pac.buffers().iter().map(|b| b.ty.value()).collect();
        assert_eq!(types, [1, 10, 12, 13, 17, 18, 6, 7]);
        assert_eq!(pac.buffer(PacBufferType::CLIENT_CLAIMS), Some(&[][..]));
        assert_eq!(
            pac.buffer(PacBufferType::ATTRIBUTES_INFO).map(<[u8]>::len),
            Some(8)
        );
        let upn = pac.upn_dns_info().unwrap();
        assert_eq!(upn.sam_name.as_deref(), Some("c9d801a8_0"));
        assert_eq!(pac.user_sid().unwrap(), upn.sid.clone().unwrap());
        assert_eq!(pac.logon_info().sam.logon_server, "TEST-DC");
        assert_eq!(pac.logon_info().sam.logon_domain_name, "EXAMPLE");
        assert_eq!(
            pac.server_signature().signature_type,
            crate::crypto::ChecksumType::HMAC_SHA1_96_AES256
        );
        let groups: Vec<String> = pac
            .group_sids()
            .unwrap()
            .iter()
            .map(|g| g.sid.to_string())
            .collect();
        assert_eq!(
            groups,
            [
                "S-1-5-21-2140317089-1002772777-95442619-513",
                "S-1-5-21-0-0-0-497",
                "S-1-18-1"
            ]
        );
    }

    #[test]
    fn lab_pac_decodes_byte_for_byte() {
        let pac = Pac::parse(LAB).unwrap();
        assert_eq!(pac.as_bytes(), LAB);
        let types: Vec<u32> = pac.buffers().iter().map(|b| b.ty.value()).collect();
        assert_eq!(types, [1, 10, 12, 6, 7]);
        let info = pac.logon_info();
        assert_eq!(info.sam.effective_name, "alice");
        assert_eq!(info.sam.full_name, "Alice Liddell");
        assert_eq!(info.sam.logon_server, "DC1");
        assert_eq!(info.sam.logon_domain_name, "EXAMPLE");
        assert_eq!(info.sam.primary_group_id, 513);
        assert_eq!(info.sam.user_flags, UserFlags::EXTRA_SIDS);
        let domain = "S-1-5-21-946591105-186792026-1310701256";
        assert_eq!(info.logon_domain_id().unwrap().to_string(), domain);
        assert_eq!(
            pac.user_sid().unwrap().to_string(),
            format!("{domain}-1103")
        );
        let groups: Vec<String> = pac
            .group_sids()
            .unwrap()
            .iter()
            .map(|g| g.sid.to_string())
            .collect();
        assert_eq!(
            groups,
            [
                format!("{domain}-513"),
                format!("{domain}-1107"),
                "S-1-18-1".into()
            ]
        );
        let upn = pac.upn_dns_info().unwrap();
        assert_eq!(upn.upn, "alice@example.test");
        assert_eq!(upn.dns_domain_name, "EXAMPLE.TEST");
        assert_eq!(upn.flags, UpnDnsFlags::EXTENDED);
        assert_eq!(upn.sam_name.as_deref(), Some("alice"));
        assert_eq!(upn.sid.as_ref(), Some(&pac.user_sid().unwrap()));
    }

    #[test]
    fn lab_pac_signatures_and_client_verify() {
        let pac = Pac::parse(LAB).unwrap();
        let hmac_sha1_aes256 = crate::crypto::ChecksumType::HMAC_SHA1_96_AES256;
        assert_eq!(pac.server_signature().signature_type, hmac_sha1_aes256);
        assert_eq!(pac.kdc_signature().signature_type, hmac_sha1_aes256);
        pac.verify_server_signature(&aes256(LAB_SERVICE_KEY))
            .unwrap();
        pac.verify_kdc_signature(&aes256(LAB_KRBTGT_KEY)).unwrap();
        assert!(
            pac.verify_server_signature(&aes256(LAB_KRBTGT_KEY))
                .is_err()
        );
        assert!(pac.verify_kdc_signature(&aes256(LAB_SERVICE_KEY)).is_err());
        let alice = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST");
        let authtime = client_info::unix_to_system_time(LAB_AUTHTIME);
        pac.check_client(&alice, authtime).unwrap();
        // An RC4 key cannot check an AES signature: a typed error, not a mismatch.
        assert!(matches!(
            pac.verify_server_signature(&rc4(&HEIMDAL_SERVER_KEY)),
            Err(PacError::Crypto { .. })
        ));
    }

    #[test]
    fn heimdal_malicious_variants_are_refused() {
        // The cases of test_pac.c: truncated, a length and offsets off by one, a
        // wrong buffer count.
        assert!(Pac::parse(&HEIMDAL[..HEIMDAL.len() / 2]).is_err());
        for (at, delta) in [(13, 1i8), (16, 1), (16, -1), (0, 1)] {
            let mut bad = HEIMDAL.to_vec();
            bad[at] = bad[at].wrapping_add_signed(delta);
            assert!(Pac::parse(&bad).is_err(), "byte {at} {delta:+}");
        }
    }

    #[test]
    fn bounds_errors_are_specific() {
        let mut bad = HEIMDAL.to_vec();
        bad[16] += 8; // logon info offset 0x48 -> 0x50: runs past the next buffer
        assert!(matches!(
            Pac::parse(&bad),
            Err(PacError::OverlappingBuffers { .. })
        ));
        let mut bad = HEIMDAL.to_vec();
        bad[16] = 0x40; // into the buffer table (which ends at 0x48)
        assert!(matches!(
            Pac::parse(&bad),
            Err(PacError::BufferOutOfBounds { .. })
        ));
        let mut bad = HEIMDAL.to_vec();
        bad[16] = 0x44;
        assert!(matches!(
            Pac::parse(&bad),
            Err(PacError::MisalignedBuffer { .. })
        ));
        let mut bad = HEIMDAL.to_vec();
        bad[4] = 1;
        assert_eq!(
            Pac::parse(&bad).unwrap_err(),
            PacError::UnknownVersion { version: 1 }
        );
        let mut bad = HEIMDAL.to_vec();
        bad[8 + 16 * 3] = 6; // KDC signature relabelled as a second server signature
        assert!(matches!(
            Pac::parse(&bad),
            Err(PacError::DuplicateBuffer { .. })
        ));
        let mut bad = HEIMDAL.to_vec();
        bad[8 + 16] = 0x63; // client info relabelled as an unknown type
        assert_eq!(
            Pac::parse(&bad).unwrap_err(),
            PacError::MissingBuffer {
                ty: PacBufferType::CLIENT_INFO
            }
        );
        let huge = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        assert!(matches!(Pac::parse(&huge), Err(PacError::Truncated { .. })));
    }
}
