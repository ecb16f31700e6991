//! MS-SAMR: the Security Account Manager calls that `net user`, `net group` and
//! `net localgroup` need (connect, open, enumerate, look up, list members,
//! read a user), as NDR argument lists ([`crate::ndr_params!`]).
//!
//! Every call names its object with a [`ContextHandle`] obtained from
//! SamrConnect5 and the Open calls; a transport carries the stubs (these
//! types never do I/O).
//!
//! Where Samba's IDL (`librpc/idl/samr.idl`) and MS-SAMR spell a type
//! differently the wire is the same: `samr_ConnectInfo1.client_version` is
//! an NDR `enum` (16 bits, then two bytes of padding before the next
//! `uint32`) where MS-SAMR has an `unsigned long` Revision; both put
//! `03 00 00 00` on the wire. Samba's unions without `switch_type`
//! (`samr_ConnectInfo`) default to a 32-bit discriminant, as MS-SAMR's
//! `[switch_type(unsigned long)]` says; `samr_UserInfo` is
//! `switch_type(uint16)`, USER_INFORMATION_CLASS being an NDR `enum`.

use crate::ndr::{
    ConformantArray, ContextHandle, Ndr, NdrReader, NdrWriter, Sid, SizeIs, UnicodeString,
    WideString, max_align,
};
use crate::ntstatus::NtStatus;
use crate::{error::DecodeError, ndr_params, ndr_struct};

pub use crate::netlogon::GroupMembership;

open_enum! {
    /// SAMR operation numbers (MS-SAMR 3.1.5, "Methods in RPC Opnum Order").
    pub struct Opnum(u16) {
        /// SamrCloseHandle.
        CLOSE_HANDLE = 1 => "SamrCloseHandle",
        /// SamrLookupDomainInSamServer.
        LOOKUP_DOMAIN_IN_SAM_SERVER = 5 => "SamrLookupDomainInSamServer",
        /// SamrEnumerateDomainsInSamServer.
        ENUMERATE_DOMAINS_IN_SAM_SERVER = 6 => "SamrEnumerateDomainsInSamServer",
        /// SamrOpenDomain.
        OPEN_DOMAIN = 7 => "SamrOpenDomain",
        /// SamrEnumerateGroupsInDomain.
        ENUMERATE_GROUPS_IN_DOMAIN = 11 => "SamrEnumerateGroupsInDomain",
        /// SamrEnumerateUsersInDomain.
        ENUMERATE_USERS_IN_DOMAIN = 13 => "SamrEnumerateUsersInDomain",
        /// SamrEnumerateAliasesInDomain.
        ENUMERATE_ALIASES_IN_DOMAIN = 15 => "SamrEnumerateAliasesInDomain",
        /// SamrGetAliasMembership.
        GET_ALIAS_MEMBERSHIP = 16 => "SamrGetAliasMembership",
        /// SamrLookupNamesInDomain.
        LOOKUP_NAMES_IN_DOMAIN = 17 => "SamrLookupNamesInDomain",
        /// SamrLookupIdsInDomain.
        LOOKUP_IDS_IN_DOMAIN = 18 => "SamrLookupIdsInDomain",
        /// SamrOpenGroup.
        OPEN_GROUP = 19 => "SamrOpenGroup",
        /// SamrGetMembersInGroup.
        GET_MEMBERS_IN_GROUP = 25 => "SamrGetMembersInGroup",
        /// SamrOpenAlias.
        OPEN_ALIAS = 27 => "SamrOpenAlias",
        /// SamrGetMembersInAlias.
        GET_MEMBERS_IN_ALIAS = 33 => "SamrGetMembersInAlias",
        /// SamrOpenUser.
        OPEN_USER = 34 => "SamrOpenUser",
        /// SamrGetGroupsForUser.
        GET_GROUPS_FOR_USER = 39 => "SamrGetGroupsForUser",
        /// SamrQueryInformationUser2.
        QUERY_INFORMATION_USER2 = 47 => "SamrQueryInformationUser2",
        /// SamrConnect5.
        CONNECT5 = 64 => "SamrConnect5",
    }
}

/// MS-SAMR 2.2.1.1 (common ACCESS_MASK values): whatever the caller's
/// token allows (what `net` asks for when it does not know).
pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
/// MS-SAMR 2.2.1.1: READ_CONTROL.
pub const READ_CONTROL: u32 = 0x0002_0000;

/// MS-SAMR 2.2.1.3 server access: SAM_SERVER_CONNECT.
pub const SAM_SERVER_CONNECT: u32 = 0x0000_0001;
/// MS-SAMR 2.2.1.3: SAM_SERVER_ENUMERATE_DOMAINS.
pub const SAM_SERVER_ENUMERATE_DOMAINS: u32 = 0x0000_0010;
/// MS-SAMR 2.2.1.3: SAM_SERVER_LOOKUP_DOMAIN.
pub const SAM_SERVER_LOOKUP_DOMAIN: u32 = 0x0000_0020;

/// MS-SAMR 2.2.1.4 domain access: DOMAIN_READ_PASSWORD_PARAMETERS.
pub const DOMAIN_READ_PASSWORD_PARAMETERS: u32 = 0x0000_0001;
/// MS-SAMR 2.2.1.4: DOMAIN_READ_OTHER_PARAMETERS.
pub const DOMAIN_READ_OTHER_PARAMETERS: u32 = 0x0000_0004;
/// MS-SAMR 2.2.1.4: DOMAIN_GET_ALIAS_MEMBERSHIP (SamrGetAliasMembership).
pub const DOMAIN_GET_ALIAS_MEMBERSHIP: u32 = 0x0000_0080;
/// MS-SAMR 2.2.1.4: DOMAIN_LIST_ACCOUNTS (the Enumerate calls).
pub const DOMAIN_LIST_ACCOUNTS: u32 = 0x0000_0100;
/// MS-SAMR 2.2.1.4: DOMAIN_LOOKUP (the Lookup and Open calls).
pub const DOMAIN_LOOKUP: u32 = 0x0000_0200;

/// MS-SAMR 2.2.1.5 group access: GROUP_READ_INFORMATION.
pub const GROUP_READ_INFORMATION: u32 = 0x0000_0001;
/// MS-SAMR 2.2.1.5: GROUP_LIST_MEMBERS (SamrGetMembersInGroup).
pub const GROUP_LIST_MEMBERS: u32 = 0x0000_0010;

/// MS-SAMR 2.2.1.6 alias access: ALIAS_LIST_MEMBERS (SamrGetMembersInAlias).
pub const ALIAS_LIST_MEMBERS: u32 = 0x0000_0004;
/// MS-SAMR 2.2.1.6: ALIAS_READ_INFORMATION.
pub const ALIAS_READ_INFORMATION: u32 = 0x0000_0008;

/// MS-SAMR 2.2.1.7 user access: USER_READ_GENERAL.
pub const USER_READ_GENERAL: u32 = 0x0000_0001;
/// MS-SAMR 2.2.1.7: USER_READ_PREFERENCES.
pub const USER_READ_PREFERENCES: u32 = 0x0000_0002;
/// MS-SAMR 2.2.1.7: USER_READ_LOGON.
pub const USER_READ_LOGON: u32 = 0x0000_0008;
/// MS-SAMR 2.2.1.7: USER_READ_ACCOUNT.
pub const USER_READ_ACCOUNT: u32 = 0x0000_0010;
/// MS-SAMR 2.2.1.7: USER_LIST_GROUPS (SamrGetGroupsForUser).
pub const USER_LIST_GROUPS: u32 = 0x0000_0100;
/// MS-SAMR 2.2.1.7: USER_READ_GROUP_INFORMATION.
pub const USER_READ_GROUP_INFORMATION: u32 = 0x0000_0200;
/// MS-SAMR 2.2.1.7: the read rights `net user NAME` uses together
/// (UserAllInformation and SamrGetGroupsForUser); [`MAXIMUM_ALLOWED`] is
/// the alternative when the caller's rights are unknown.
pub const USER_READ_ALL: u32 = USER_READ_GENERAL
    | USER_READ_PREFERENCES
    | USER_READ_LOGON
    | USER_READ_ACCOUNT
    | USER_LIST_GROUPS
    | USER_READ_GROUP_INFORMATION;

/// MS-SAMR 2.2.1.12 USER_ACCOUNT codes (SAMR's UserAccountControl, not
/// LDAP's `UF_*`): USER_ACCOUNT_DISABLED.
pub const USER_ACCOUNT_DISABLED: u32 = 0x0000_0001;
/// MS-SAMR 2.2.1.12: USER_NORMAL_ACCOUNT (LDAP's UF_NORMAL_ACCOUNT,
/// 0x200, maps to this 0x10).
pub const USER_NORMAL_ACCOUNT: u32 = 0x0000_0010;
/// MS-SAMR 2.2.1.12: USER_WORKSTATION_TRUST_ACCOUNT.
pub const USER_WORKSTATION_TRUST_ACCOUNT: u32 = 0x0000_0080;
/// MS-SAMR 2.2.1.12: USER_DONT_EXPIRE_PASSWORD.
pub const USER_DONT_EXPIRE_PASSWORD: u32 = 0x0000_0200;
/// MS-SAMR 2.2.1.12: USER_ACCOUNT_AUTO_LOCKED.
pub const USER_ACCOUNT_AUTO_LOCKED: u32 = 0x0000_0400;

/// MS-SAMR 2.2.1.10 SE_GROUP attributes of a membership: mandatory,
/// enabled by default, enabled (what domain groups carry).
pub const SE_GROUP_DEFAULT: u32 = 0x0000_0007;

/// MS-SAMR 2.2.7.15: the `Revision` a client sends in SamrConnect5.
pub const REVISION_3: u32 = 3;

/// MS-SAMR 3.1.5.11.2-3: at most this many names or RIDs per lookup (the
/// `size_is(1000)` of the request arrays).
pub const MAX_LOOKUP: usize = 1000;

/// MS-SAMR 2.2.6.5: `LogonHours` is `size_is(1260)` (one bit per minute).
const LOGON_HOURS_MAX: usize = 1260;

pub use crate::ndr::OldLargeInteger;

/// MS-SAMR 6 (Appendix A) RPC_SHORT_BLOB: byte lengths and a unique
/// pointer to 16-bit units that need not be valid UTF-16 (`Parameters`,
/// the OWF password blobs; Samba's `lsa_BinaryString`).
///
/// ```text
/// Length u16 (bytes) | MaximumLength u16 (bytes) | Buffer referent u32
/// deferred: max_count u32 | offset u32 | actual_count u32 | u16 units
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShortBlob(pub Option<Vec<u16>>);

impl Ndr for ShortBlob {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        let bytes = self.0.as_ref().map_or(0, |u| u.len() * 2);
        let bytes = u16::try_from(bytes).unwrap_or(0xfffe);
        w.u16(bytes);
        w.u16(bytes);
        w.referent(self.0.is_some());
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        if let Some(units) = &self.0 {
            let units = &units[..units.len().min(usize::from(u16::MAX / 2))];
            w.count(units.len());
            w.u32(0);
            w.count(units.len());
            for u in units {
                w.bytes(&u.to_le_bytes());
            }
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
            let actual = r.variance("RPC_SHORT_BLOB", max)?;
            let raw = r.bytes(actual.checked_mul(2).ok_or(DecodeError::Invalid {
                what: "RPC_SHORT_BLOB",
                why: "length overflows",
            })?)?;
            let units = raw
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            self.0 = Some(units);
        }
        Ok(())
    }
}

/// The referent of SAMPR_LOGON_HOURS' `LogonHours` pointer (MS-SAMR
/// 2.2.6.5): a conformant varying byte array of at most 1260 bytes.
///
/// ```text
/// max_count u32 (1260) | offset u32 (0) | actual_count u32 | bytes
/// ```
///
/// Decoding requires the conformance `size_is(1260)` says; the actual
/// count goes with `UnitsPerWeek` (see the [`SizeIs`] rule).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogonHoursBits(pub Vec<u8>);

/// `length_is((UnitsPerWeek+7)/8)` (MS-SAMR 2.2.6.5). Samba's IDL says
/// `UnitsPerWeek/8`, which differs only when UnitsPerWeek is not a
/// multiple of 8 (SAM_DAYS_PER_WEEK, 7), so either length is accepted. As
/// in pidl's code, a null pointer is not checked against UnitsPerWeek.
impl SizeIs for LogonHoursBits {
    fn wire_count(&self) -> Option<usize> {
        Some(self.0.len())
    }

    fn agrees(units_per_week: u32, wire: Option<usize>) -> bool {
        let Some(bytes) = wire.and_then(|n| u32::try_from(n).ok()) else {
            return wire.is_none();
        };
        bytes == units_per_week / 8 || bytes == units_per_week.div_ceil(8)
    }
}

impl Ndr for LogonHoursBits {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.count(LOGON_HOURS_MAX.max(self.0.len()));
        w.u32(0);
        w.count(self.0.len());
        w.bytes(&self.0);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let max = conformance(r, "SAMPR_LOGON_HOURS", "LogonHours", LOGON_HOURS_MAX)?;
        let actual = r.variance("SAMPR_LOGON_HOURS", max)?;
        Ok(Self(r.bytes(actual)?.to_vec()))
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.6.5 SAMPR_LOGON_HOURS: when the account may log on.
    ///
    /// ```text
    /// UnitsPerWeek u16 | LogonHours referent u32
    /// ```
    pub struct LogonHours {
        /// `UnitsPerWeek` (168: one bit per hour).
        pub units_per_week: u16,
        /// `LogonHours` (`[size_is(1260), length_is((UnitsPerWeek+7)/8)]`).
        pub logon_hours: Option<LogonHoursBits>,
    }
    size_is { logon_hours: units_per_week }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.11 SAMPR_SR_SECURITY_DESCRIPTOR: a self-relative
    /// security descriptor (MS-DTYP 2.4.6), kept as bytes.
    ///
    /// ```text
    /// Length u32 | SecurityDescriptor referent u32
    /// ```
    pub struct SrSecurityDescriptor {
        /// `Length` (`[range(0, 256 * 1024)]`).
        pub length: u32,
        /// `SecurityDescriptor` (`[size_is(Length)]`).
        pub security_descriptor: Option<ConformantArray<u8>>,
    }
    size_is { security_descriptor: length }
}

ndr_struct! {
    /// MS-SAMR 2.2.6.6 SAMPR_USER_ALL_INFORMATION: everything `net user
    /// NAME` shows (Samba's `samr_UserInfo21`).
    ///
    /// ```text
    /// LastLogon .. PasswordMustChange   6 x OLD_LARGE_INTEGER
    /// UserName .. Parameters            10 x RPC_UNICODE_STRING (8 bytes each)
    /// LmOwfPassword, NtOwfPassword      2 x RPC_SHORT_BLOB
    /// PrivateData                       RPC_UNICODE_STRING
    /// SecurityDescriptor                SAMPR_SR_SECURITY_DESCRIPTOR
    /// UserId | PrimaryGroupId | UserAccountControl | WhichFields   u32 each
    /// LogonHours                        SAMPR_LOGON_HOURS
    /// BadPasswordCount | LogonCount | CountryCode | CodePage       u16 each
    /// LmPasswordPresent | NtPasswordPresent | PasswordExpired | PrivateDataSensitive  u8 each
    /// deferred: the strings, blobs, descriptor and logon hours, in that order
    /// ```
    ///
    /// `Parameters` is an RPC_UNICODE_STRING in MS-SAMR but holds arbitrary
    /// 16-bit units (the legacy `userParameters` attribute); it is a
    /// [`ShortBlob`] here, as in Samba, so odd data never fails a decode.
    pub struct UserAllInformation {
        /// `LastLogon`.
        pub last_logon: OldLargeInteger,
        /// `LastLogoff`.
        pub last_logoff: OldLargeInteger,
        /// `PasswordLastSet`.
        pub password_last_set: OldLargeInteger,
        /// `AccountExpires`.
        pub account_expires: OldLargeInteger,
        /// `PasswordCanChange`.
        pub password_can_change: OldLargeInteger,
        /// `PasswordMustChange`.
        pub password_must_change: OldLargeInteger,
        /// `UserName`.
        pub user_name: UnicodeString,
        /// `FullName`.
        pub full_name: UnicodeString,
        /// `HomeDirectory`.
        pub home_directory: UnicodeString,
        /// `HomeDirectoryDrive`.
        pub home_directory_drive: UnicodeString,
        /// `ScriptPath`.
        pub script_path: UnicodeString,
        /// `ProfilePath`.
        pub profile_path: UnicodeString,
        /// `AdminComment` (the description).
        pub admin_comment: UnicodeString,
        /// `WorkStations`.
        pub work_stations: UnicodeString,
        /// `UserComment`.
        pub user_comment: UnicodeString,
        /// `Parameters`.
        pub parameters: ShortBlob,
        /// `LmOwfPassword` (null unless the caller may read secrets).
        pub lm_owf_password: ShortBlob,
        /// `NtOwfPassword`.
        pub nt_owf_password: ShortBlob,
        /// `PrivateData`.
        pub private_data: UnicodeString,
        /// `SecurityDescriptor`.
        pub security_descriptor: SrSecurityDescriptor,
        /// `UserId` (the RID).
        pub user_id: u32,
        /// `PrimaryGroupId`.
        pub primary_group_id: u32,
        /// `UserAccountControl` (USER_* codes, MS-SAMR 2.2.1.12).
        pub user_account_control: u32,
        /// `WhichFields` (USER_ALL_* bits, MS-SAMR 2.2.1.8).
        pub which_fields: u32,
        /// `LogonHours`.
        pub logon_hours: LogonHours,
        /// `BadPasswordCount`.
        pub bad_password_count: u16,
        /// `LogonCount`.
        pub logon_count: u16,
        /// `CountryCode`.
        pub country_code: u16,
        /// `CodePage`.
        pub code_page: u16,
        /// `LmPasswordPresent`.
        pub lm_password_present: u8,
        /// `NtPasswordPresent`.
        pub nt_password_present: u8,
        /// `PasswordExpired`.
        pub password_expired: u8,
        /// `PrivateDataSensitive`.
        pub private_data_sensitive: u8,
    }
}

open_enum! {
    /// MS-SAMR 2.2.6.28 USER_INFORMATION_CLASS (an NDR enum: 16 bits).
    pub struct UserInformationClass(u16) {
        /// UserGeneralInformation.
        GENERAL = 1 => "UserGeneralInformation",
        /// UserAccountInformation.
        ACCOUNT = 5 => "UserAccountInformation",
        /// UserAllInformation (the arm this crate decodes).
        ALL = 21 => "UserAllInformation",
    }
}

ndr_enum!(UserInformationClass => u16);

/// MS-SAMR 2.2.6.29 SAMPR_USER_INFO_BUFFER with the arm Adjoin reads. A
/// non-encapsulated union: its USER_INFORMATION_CLASS discriminant, then
/// the arm, inline.
///
/// ```text
/// switch u16 | pad to the arm's alignment | arm scalars    deferred: arm buffers
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserInfoBuffer {
    /// UserAllInformation (21).
    All(Box<UserAllInformation>),
}

impl UserInfoBuffer {
    /// The USER_INFORMATION_CLASS of the arm.
    pub fn class(&self) -> UserInformationClass {
        match self {
            Self::All(_) => UserInformationClass::ALL,
        }
    }
}

impl Default for UserInfoBuffer {
    fn default() -> Self {
        Self::All(Box::default())
    }
}

impl Ndr for UserInfoBuffer {
    const ALIGN: usize = max_align(2, UserAllInformation::ALIGN);

    fn encode_scalars(&self, w: &mut NdrWriter) {
        // NDR20: the discriminant at its own alignment, then the arm at its.
        self.class().encode_scalars(w);
        match self {
            Self::All(info) => info.encode_scalars(w),
        }
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        match self {
            Self::All(info) => info.encode_buffers(w),
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        match UserInformationClass::decode_scalars(r)? {
            UserInformationClass::ALL => {
                Ok(Self::All(Box::new(UserAllInformation::decode_scalars(r)?)))
            }
            class => Err(DecodeError::UnknownArm {
                what: "SAMPR_USER_INFO_BUFFER",
                level: class.value().into(),
            }),
        }
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        match self {
            Self::All(info) => info.decode_buffers(r),
        }
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.15 SAMPR_REVISION_INFO_V1 (Samba's
    /// `samr_ConnectInfo1`, whose 16-bit enum plus padding is the same
    /// four bytes).
    ///
    /// ```text
    /// Revision u32 | SupportedFeatures u32
    /// ```
    pub struct RevisionInfoV1 {
        /// `Revision` (3; MUST be ignored).
        pub revision: u32,
        /// `SupportedFeatures` (0 from a client).
        pub supported_features: u32,
    }
}

/// MS-SAMR 2.2.7.16 SAMPR_REVISION_INFO: `[switch_type(unsigned long)]`,
/// one arm.
///
/// ```text
/// switch u32 | arm
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionInfo {
    /// Version 1.
    V1(RevisionInfoV1),
}

impl Default for RevisionInfo {
    fn default() -> Self {
        Self::V1(RevisionInfoV1::default())
    }
}

impl Ndr for RevisionInfo {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        match self {
            Self::V1(v1) => {
                w.u32(1);
                v1.encode_scalars(w);
            }
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        match r.u32()? {
            1 => Ok(Self::V1(RevisionInfoV1::decode_scalars(r)?)),
            level => Err(DecodeError::UnknownArm {
                what: "SAMPR_REVISION_INFO",
                level,
            }),
        }
    }
}

/// A top-level `[size_is(1000), length_is(Count)]` array (the names of
/// SamrLookupNamesInDomain, the RIDs of SamrLookupIdsInDomain): a
/// conformant varying array whose maximum is fixed at 1000.
///
/// ```text
/// max_count u32 (1000) | offset u32 (0) | actual_count u32 | scalars..., buffers...
/// ```
///
/// Decoding requires the conformance 1000; the actual count is what
/// `Count` must equal (the argument list's `size_is` clause).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupArray<T>(pub Vec<T>);

/// `length_is(Count)`: the actual count is the array's length.
impl<T> SizeIs for LookupArray<T> {
    fn wire_count(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// A conformance that a constant `size_is(1000)` or `size_is(1260)`
/// fixes (C706 14.3.3.2: the conformance is the value of the size_is
/// expression).
fn conformance(
    r: &mut NdrReader<'_>,
    what: &'static str,
    array: &'static str,
    expected: usize,
) -> Result<usize, DecodeError> {
    let max = r.count()?;
    if max != expected {
        return Err(DecodeError::SizeIs {
            what,
            array,
            field: "the constant size_is",
            count: u32::try_from(expected).unwrap_or(u32::MAX),
            wire: max,
        });
    }
    Ok(max)
}

impl<T: Ndr> Ndr for LookupArray<T> {
    const ALIGN: usize = max_align(4, T::ALIGN);

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.count(MAX_LOOKUP.max(self.0.len()));
        w.u32(0);
        w.count(self.0.len());
        for v in &self.0 {
            v.encode_scalars(w);
        }
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        for v in &self.0 {
            v.encode_buffers(w);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let max = conformance(
            r,
            "[size_is(1000), length_is(Count)]",
            "the array",
            MAX_LOOKUP,
        )?;
        let actual = r.variance("[size_is(1000), length_is(Count)]", max)?;
        let mut out = Vec::with_capacity(actual.min(r.remaining()));
        for _ in 0..actual {
            out.push(T::decode_scalars(r)?);
        }
        Ok(Self(out))
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        for v in &mut self.0 {
            v.decode_buffers(r)?;
        }
        Ok(())
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.4 SAMPR_ULONG_ARRAY (RIDs, or SID_NAME_USE values).
    pub struct UlongArray {
        /// `Count`.
        pub count: u32,
        /// `Element` (`[size_is(Count)]`).
        pub element: Option<ConformantArray<u32>>,
    }
    size_is { element: count }
}

impl UlongArray {
    /// An array holding `values`.
    pub fn new(values: &[u32]) -> Self {
        Self {
            count: values.len() as u32,
            element: Some(ConformantArray(values.to_vec())),
        }
    }

    /// The elements (none for a null pointer).
    pub fn values(&self) -> &[u32] {
        self.element.as_ref().map_or(&[], |e| &e.0)
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.6 SAMPR_SID_INFORMATION.
    pub struct SidInformation {
        /// `SidPointer`.
        pub sid_pointer: Option<Sid>,
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.5 SAMPR_PSID_ARRAY (and 2.2.7.7 SAMPR_PSID_ARRAY_OUT,
    /// the same layout without the `range`).
    pub struct PsidArray {
        /// `Count` (`[range(0, 1024)]` on input).
        pub count: u32,
        /// `Sids` (`[size_is(Count)]`).
        pub sids: Option<ConformantArray<SidInformation>>,
    }
    size_is { sids: count }
}

/// MS-SAMR 2.2.7.7 SAMPR_PSID_ARRAY_OUT: laid out as [`PsidArray`].
pub type PsidArrayOut = PsidArray;

impl PsidArray {
    /// The array naming `sids`.
    pub fn new(sids: &[Sid]) -> Self {
        Self {
            count: sids.len() as u32,
            sids: Some(ConformantArray(
                sids.iter()
                    .map(|s| SidInformation {
                        sid_pointer: Some(s.clone()),
                    })
                    .collect(),
            )),
        }
    }

    /// The SIDs, skipping null entries.
    pub fn to_sids(&self) -> Vec<Sid> {
        self.sids
            .as_ref()
            .map_or(&[][..], |s| &s.0)
            .iter()
            .filter_map(|s| s.sid_pointer.clone())
            .collect()
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.8 SAMPR_RETURNED_USTRING_ARRAY.
    pub struct ReturnedUstringArray {
        /// `Count`.
        pub count: u32,
        /// `Element` (`[size_is(Count)]`).
        pub element: Option<ConformantArray<UnicodeString>>,
    }
    size_is { element: count }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.9 SAMPR_RID_ENUMERATION.
    pub struct RidEnumeration {
        /// `RelativeId`.
        pub relative_id: u32,
        /// `Name`.
        pub name: UnicodeString,
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.10 SAMPR_ENUMERATION_BUFFER.
    pub struct EnumerationBuffer {
        /// `EntriesRead`.
        pub entries_read: u32,
        /// `Buffer` (`[size_is(EntriesRead)]`).
        pub buffer: Option<ConformantArray<RidEnumeration>>,
    }
    size_is { buffer: entries_read }
}

impl EnumerationBuffer {
    /// The entries (none for a null pointer).
    pub fn entries(&self) -> &[RidEnumeration] {
        self.buffer.as_ref().map_or(&[], |b| &b.0)
    }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.13 SAMPR_GET_GROUPS_BUFFER.
    pub struct GetGroupsBuffer {
        /// `MembershipCount`.
        pub membership_count: u32,
        /// `Groups` (`[size_is(MembershipCount)]`; MS-SAMR 2.2.7.12
        /// GROUP_MEMBERSHIP).
        pub groups: Option<ConformantArray<GroupMembership>>,
    }
    size_is { groups: membership_count }
}

ndr_struct! {
    /// MS-SAMR 2.2.7.14 SAMPR_GET_MEMBERS_BUFFER: member RIDs and their
    /// SE_GROUP attributes, two parallel arrays.
    pub struct GetMembersBuffer {
        /// `MemberCount`.
        pub member_count: u32,
        /// `Members` (`[size_is(MemberCount)]`).
        pub members: Option<ConformantArray<u32>>,
        /// `Attributes` (`[size_is(MemberCount)]`).
        pub attributes: Option<ConformantArray<u32>>,
    }
    size_is { members: member_count, attributes: member_count }
}

ndr_params! {
    /// MS-SAMR 3.1.5.1.1 SamrConnect5, `[in]`.
    pub struct Connect5Request {
        /// `[in, unique, string] PSAMPR_SERVER_NAME ServerName`.
        pub server_name: Option<WideString>,
        /// `[in] unsigned long DesiredAccess`.
        pub desired_access: u32,
        /// `[in] unsigned long InVersion` (1).
        pub in_version: u32,
        /// `[in, switch_is(InVersion)] SAMPR_REVISION_INFO* InRevisionInfo`.
        pub in_revision_info: RevisionInfo,
    }
}

impl Connect5Request {
    /// A version-1 connect to `server` asking for `desired_access`.
    pub fn new(server: Option<&str>, desired_access: u32) -> Self {
        Self {
            server_name: server.map(WideString::new),
            desired_access,
            in_version: 1,
            in_revision_info: RevisionInfo::V1(RevisionInfoV1 {
                revision: REVISION_3,
                supported_features: 0,
            }),
        }
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.1.1 SamrConnect5, `[out]`.
    pub struct Connect5Response {
        /// `[out] unsigned long* OutVersion`.
        pub out_version: u32,
        /// `[out, switch_is(*OutVersion)] SAMPR_REVISION_INFO* OutRevisionInfo`.
        pub out_revision_info: RevisionInfo,
        /// `[out] SAMPR_HANDLE* ServerHandle`.
        pub server_handle: ContextHandle,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.13.1 SamrCloseHandle, `[in]`; also the `[in]` of the
    /// calls that take only a handle (SamrGetMembersInGroup,
    /// SamrGetMembersInAlias, SamrGetGroupsForUser).
    pub struct HandleRequest {
        /// `[in] SAMPR_HANDLE` (SamHandle, GroupHandle, AliasHandle, UserHandle).
        pub handle: ContextHandle,
    }
}

/// MS-SAMR 3.1.5.13.1 SamrCloseHandle, `[in]`.
pub type CloseHandleRequest = HandleRequest;
/// MS-SAMR 3.1.5.8.3 SamrGetMembersInGroup, `[in]`.
pub type GetMembersInGroupRequest = HandleRequest;
/// MS-SAMR 3.1.5.8.6 SamrGetMembersInAlias, `[in]`.
pub type GetMembersInAliasRequest = HandleRequest;
/// MS-SAMR 3.1.5.9.1 SamrGetGroupsForUser, `[in]`.
pub type GetGroupsForUserRequest = HandleRequest;

ndr_params! {
    /// MS-SAMR 3.1.5.13.1 SamrCloseHandle, `[out]`; also the `[out]` of
    /// the Open calls (3.1.5.1.5, 3.1.5.1.7-9): a handle and the status.
    pub struct HandleResponse {
        /// `[out] SAMPR_HANDLE*` (the null handle after a close).
        pub handle: ContextHandle,
        /// The return value.
        pub status: NtStatus,
    }
}

/// MS-SAMR 3.1.5.13.1 SamrCloseHandle, `[out]`.
pub type CloseHandleResponse = HandleResponse;
/// MS-SAMR 3.1.5.1.5 SamrOpenDomain, `[out]`.
pub type OpenDomainResponse = HandleResponse;
/// MS-SAMR 3.1.5.1.7 SamrOpenGroup, `[out]`.
pub type OpenGroupResponse = HandleResponse;
/// MS-SAMR 3.1.5.1.8 SamrOpenAlias, `[out]`.
pub type OpenAliasResponse = HandleResponse;
/// MS-SAMR 3.1.5.1.9 SamrOpenUser, `[out]`.
pub type OpenUserResponse = HandleResponse;

ndr_params! {
    /// MS-SAMR 3.1.5.11.1 SamrLookupDomainInSamServer, `[in]`.
    pub struct LookupDomainInSamServerRequest {
        /// `[in] SAMPR_HANDLE ServerHandle`.
        pub server_handle: ContextHandle,
        /// `[in] PRPC_UNICODE_STRING Name` (the NetBIOS domain name).
        pub name: UnicodeString,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.11.1 SamrLookupDomainInSamServer, `[out]`.
    pub struct LookupDomainInSamServerResponse {
        /// `[out] PRPC_SID* DomainId` (a unique pointer behind the `[ref]`
        /// one: null on error).
        pub domain_id: Option<Sid>,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.2.1 SamrEnumerateDomainsInSamServer, `[in]`.
    pub struct EnumerateDomainsInSamServerRequest {
        /// `[in] SAMPR_HANDLE ServerHandle`.
        pub server_handle: ContextHandle,
        /// `[in, out] unsigned long* EnumerationContext` (0 to start).
        pub enumeration_context: u32,
        /// `[in] unsigned long PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.2.1, 3.1.5.2.4, 3.1.5.2.5: the `[out]` of the three
    /// Enumerate calls. STATUS_MORE_ENTRIES asks for another call with
    /// the returned context.
    pub struct EnumerationResponse {
        /// `[in, out] unsigned long* EnumerationContext`.
        pub enumeration_context: u32,
        /// `[out] PSAMPR_ENUMERATION_BUFFER* Buffer`.
        pub buffer: Option<EnumerationBuffer>,
        /// `[out] unsigned long* CountReturned`.
        pub count_returned: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

impl EnumerationResponse {
    /// The entries returned (none for a null buffer).
    pub fn entries(&self) -> &[RidEnumeration] {
        self.buffer.as_ref().map_or(&[], EnumerationBuffer::entries)
    }
}

/// MS-SAMR 3.1.5.2.1 SamrEnumerateDomainsInSamServer, `[out]`.
pub type EnumerateDomainsInSamServerResponse = EnumerationResponse;
/// MS-SAMR 3.1.5.2.5 SamrEnumerateUsersInDomain, `[out]`.
pub type EnumerateUsersInDomainResponse = EnumerationResponse;
/// MS-SAMR 3.1.5.2.4 SamrEnumerateAliasesInDomain, `[out]`.
pub type EnumerateAliasesInDomainResponse = EnumerationResponse;
/// MS-SAMR 3.1.5.2.3 SamrEnumerateGroupsInDomain, `[out]`.
pub type EnumerateGroupsInDomainResponse = EnumerationResponse;

ndr_params! {
    /// MS-SAMR 3.1.5.1.5 SamrOpenDomain, `[in]`.
    pub struct OpenDomainRequest {
        /// `[in] SAMPR_HANDLE ServerHandle`.
        pub server_handle: ContextHandle,
        /// `[in] unsigned long DesiredAccess`.
        pub desired_access: u32,
        /// `[in] PRPC_SID DomainId`.
        pub domain_id: Sid,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.2.5 SamrEnumerateUsersInDomain, `[in]`.
    pub struct EnumerateUsersInDomainRequest {
        /// `[in] SAMPR_HANDLE DomainHandle`.
        pub domain_handle: ContextHandle,
        /// `[in, out] unsigned long* EnumerationContext`.
        pub enumeration_context: u32,
        /// `[in] unsigned long UserAccountControl` (a USER_* filter).
        pub user_account_control: u32,
        /// `[in] unsigned long PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.2.4 SamrEnumerateAliasesInDomain, `[in]`.
    pub struct EnumerateAliasesInDomainRequest {
        /// `[in] SAMPR_HANDLE DomainHandle`.
        pub domain_handle: ContextHandle,
        /// `[in, out] unsigned long* EnumerationContext`.
        pub enumeration_context: u32,
        /// `[in] unsigned long PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
    }
}

/// MS-SAMR 3.1.5.2.3 SamrEnumerateGroupsInDomain, `[in]`: the arguments of
/// SamrEnumerateAliasesInDomain.
///
/// ```text
/// DomainHandle (20 bytes) | EnumerationContext u32 | PreferedMaximumLength u32
/// ```
pub type EnumerateGroupsInDomainRequest = EnumerateAliasesInDomainRequest;

ndr_params! {
    /// MS-SAMR 3.1.5.9.2 SamrGetAliasMembership, `[in]`.
    pub struct GetAliasMembershipRequest {
        /// `[in] SAMPR_HANDLE DomainHandle`.
        pub domain_handle: ContextHandle,
        /// `[in] PSAMPR_PSID_ARRAY SidArray`.
        pub sid_array: PsidArray,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.9.2 SamrGetAliasMembership, `[out]`.
    pub struct GetAliasMembershipResponse {
        /// `[out] PSAMPR_ULONG_ARRAY Membership` (alias RIDs).
        pub membership: UlongArray,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.11.2 SamrLookupNamesInDomain, `[in]`.
    pub struct LookupNamesInDomainRequest {
        /// `[in] SAMPR_HANDLE DomainHandle`.
        pub domain_handle: ContextHandle,
        /// `[in, range(0,1000)] unsigned long Count`.
        pub count: u32,
        /// `[in, size_is(1000), length_is(Count)] RPC_UNICODE_STRING Names[*]`.
        pub names: LookupArray<UnicodeString>,
    }
    size_is { names: count }
}

impl LookupNamesInDomainRequest {
    /// A lookup of `names` (account names without the domain).
    pub fn new(domain_handle: ContextHandle, names: &[&str]) -> Self {
        Self {
            domain_handle,
            count: names.len() as u32,
            names: LookupArray(names.iter().map(|n| UnicodeString::new(*n)).collect()),
        }
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.11.2 SamrLookupNamesInDomain, `[out]`.
    pub struct LookupNamesInDomainResponse {
        /// `[out] PSAMPR_ULONG_ARRAY RelativeIds`.
        pub relative_ids: UlongArray,
        /// `[out] PSAMPR_ULONG_ARRAY Use` (SID_NAME_USE values).
        pub uses: UlongArray,
        /// The return value (STATUS_SOME_NOT_MAPPED, STATUS_NONE_MAPPED).
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.11.3 SamrLookupIdsInDomain, `[in]`.
    pub struct LookupIdsInDomainRequest {
        /// `[in] SAMPR_HANDLE DomainHandle`.
        pub domain_handle: ContextHandle,
        /// `[in, range(0,1000)] unsigned long Count`.
        pub count: u32,
        /// `[in, size_is(1000), length_is(Count)] unsigned long* RelativeIds`.
        pub relative_ids: LookupArray<u32>,
    }
    size_is { relative_ids: count }
}

impl LookupIdsInDomainRequest {
    /// A lookup of `rids`.
    pub fn new(domain_handle: ContextHandle, rids: &[u32]) -> Self {
        Self {
            domain_handle,
            count: rids.len() as u32,
            relative_ids: LookupArray(rids.to_vec()),
        }
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.11.3 SamrLookupIdsInDomain, `[out]`.
    pub struct LookupIdsInDomainResponse {
        /// `[out] PSAMPR_RETURNED_USTRING_ARRAY Names`.
        pub names: ReturnedUstringArray,
        /// `[out] PSAMPR_ULONG_ARRAY Use`.
        pub uses: UlongArray,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.1.7 SamrOpenGroup, 3.1.5.1.8 SamrOpenAlias and
    /// 3.1.5.1.9 SamrOpenUser, `[in]`: an account of the domain by RID.
    pub struct OpenAccountRequest {
        /// `[in] SAMPR_HANDLE DomainHandle`.
        pub domain_handle: ContextHandle,
        /// `[in] unsigned long DesiredAccess`.
        pub desired_access: u32,
        /// `[in] unsigned long GroupId` / `AliasId` / `UserId`.
        pub rid: u32,
    }
}

/// MS-SAMR 3.1.5.1.7 SamrOpenGroup, `[in]`.
pub type OpenGroupRequest = OpenAccountRequest;
/// MS-SAMR 3.1.5.1.8 SamrOpenAlias, `[in]`.
pub type OpenAliasRequest = OpenAccountRequest;
/// MS-SAMR 3.1.5.1.9 SamrOpenUser, `[in]`.
pub type OpenUserRequest = OpenAccountRequest;

ndr_params! {
    /// MS-SAMR 3.1.5.8.3 SamrGetMembersInGroup, `[out]`.
    pub struct GetMembersInGroupResponse {
        /// `[out] PSAMPR_GET_MEMBERS_BUFFER* Members`.
        pub members: Option<GetMembersBuffer>,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.8.6 SamrGetMembersInAlias, `[out]`.
    pub struct GetMembersInAliasResponse {
        /// `[out] PSAMPR_PSID_ARRAY_OUT Members`.
        pub members: PsidArrayOut,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.5.5 SamrQueryInformationUser2, `[in]`.
    pub struct QueryInformationUser2Request {
        /// `[in] SAMPR_HANDLE UserHandle`.
        pub user_handle: ContextHandle,
        /// `[in] USER_INFORMATION_CLASS UserInformationClass`.
        pub user_information_class: UserInformationClass,
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.5.5 SamrQueryInformationUser2, `[out]`.
    pub struct QueryInformationUser2Response {
        /// `[out, switch_is(UserInformationClass)] PSAMPR_USER_INFO_BUFFER* Buffer`
        /// (null on error).
        pub buffer: Option<UserInfoBuffer>,
        /// The return value.
        pub status: NtStatus,
    }
}

impl QueryInformationUser2Response {
    /// The UserAllInformation arm, if that is what came back.
    pub fn all(&self) -> Option<&UserAllInformation> {
        match self.buffer.as_ref()? {
            UserInfoBuffer::All(info) => Some(info),
        }
    }
}

ndr_params! {
    /// MS-SAMR 3.1.5.9.1 SamrGetGroupsForUser, `[out]`.
    pub struct GetGroupsForUserResponse {
        /// `[out] PSAMPR_GET_GROUPS_BUFFER* Groups`.
        pub groups: Option<GetGroupsBuffer>,
        /// The return value.
        pub status: NtStatus,
    }
}

#[cfg(test)]
mod tests;
