//! What a DC says about a user it has authenticated, in the one layout
//! NETLOGON and the PAC share: MS-NRPC 2.2.1.4.12 NETLOGON_VALIDATION_SAM_INFO2
//! is the leading part of both MS-PAC 2.5 KERB_VALIDATION_INFO (which adds
//! the resource groups; adjoin-auth's `KerbValidationInfo`) and MS-NRPC
//! 2.2.1.4.13 NETLOGON_VALIDATION_SAM_INFO4 (which adds DNS names and
//! expansion strings). Samba's IDL says the same: `PAC_LOGON_INFO` is a
//! `netr_SamInfo3` followed by the resource groups.
//!
//! KERB_VALIDATION_INFO names the ten words of SAM_INFO's `ExpansionRoom`
//! (`Reserved1[2]`, UserAccountControl, SubAuthStatus, the interactive logon
//! times and count, Reserved3); [`ValidationSamInfo2`] uses those names,
//! which describe what Windows and Samba DCs put there over NETLOGON too.

use bitflags::bitflags;

use crate::error::DecodeError;
use crate::ndr::{ConformantArray, Ndr, NdrReader, NdrWriter, OldLargeInteger, UnicodeString};
use crate::sid::Sid;

bitflags! {
    /// MS-PAC 2.2.1 / MS-NRPC 2.2.1.4.2 / [SIDATT]: attributes of a group
    /// membership (SE_GROUP_*).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct GroupAttributes: u32 {
        /// A: SE_GROUP_MANDATORY.
        const MANDATORY = 0x0000_0001;
        /// B: SE_GROUP_ENABLED_BY_DEFAULT.
        const ENABLED_BY_DEFAULT = 0x0000_0002;
        /// C: SE_GROUP_ENABLED.
        const ENABLED = 0x0000_0004;
        /// D: SE_GROUP_OWNER.
        const OWNER = 0x0000_0008;
        /// E: SE_GROUP_RESOURCE, a domain-local or resource group.
        const RESOURCE = 0x2000_0000;
        // Other bits are kept as they came.
        const _ = !0;
    }
}

bitflags! {
    /// MS-NRPC 2.2.1.4.11 / MS-PAC 2.5 `UserFlags` (the bits Adjoin reads).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct UserFlags: u32 {
        /// A: a guest logon.
        const GUEST = 0x0000_0001;
        /// D (MS-PAC; E in MS-NRPC): ExtraSids is populated
        /// (LOGON_EXTRA_SIDS).
        const EXTRA_SIDS = 0x0000_0020;
        /// F: the account is a machine account.
        const MACHINE_ACCOUNT = 0x0000_0080;
        /// H: ResourceGroupIds is populated (LOGON_RESOURCE_GROUPS).
        const RESOURCE_GROUPS = 0x0000_0200;
        // Other bits are kept as they came.
        const _ = !0;
    }
}

/// A 32-bit flags word: its bits, 4-aligned, unknown bits kept.
macro_rules! ndr_flags {
    ($($name:ident),*) => {$(
        impl Ndr for $name {
            const ALIGN: usize = 4;

            fn encode_scalars(&self, w: &mut NdrWriter) {
                w.u32(self.bits());
            }

            fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
                r.u32().map(Self::from_bits_retain)
            }
        }
    )*};
}

ndr_flags!(GroupAttributes, UserFlags);

crate::ndr_struct! {
    /// MS-NRPC 2.2.1.4.1 / MS-PAC 2.2.2 GROUP_MEMBERSHIP (MS-SAMR 2.2.3.12
    /// too): a group RID in a domain and its attributes.
    ///
    /// ```text
    /// RelativeId u32 | Attributes u32
    /// ```
    #[derive(Copy, Hash)]
    pub struct GroupMembership {
        /// `RelativeId`.
        pub relative_id: u32,
        /// `Attributes`.
        pub attributes: GroupAttributes,
    }
}

crate::ndr_struct! {
    /// MS-NRPC 2.2.1.4.2 NETLOGON_SID_AND_ATTRIBUTES, which is MS-PAC 2.2.1
    /// KERB_SID_AND_ATTRIBUTES: a full SID and its attributes.
    ///
    /// ```text
    /// Sid (PISID, unique pointer) | Attributes u32
    /// ```
    #[derive(Hash)]
    pub struct SidAndAttributes {
        /// `Sid`.
        pub sid: Option<Sid>,
        /// `Attributes`.
        pub attributes: GroupAttributes,
    }
}

crate::ndr_struct! {
    /// MS-NRPC 2.2.1.4.12 NETLOGON_VALIDATION_SAM_INFO2 (the
    /// NETLOGON_VALIDATION_SAM_INFO fields of 2.2.1.4.11, then the extra
    /// SIDs), which is also the first part of MS-PAC 2.5
    /// KERB_VALIDATION_INFO.
    ///
    /// ```text
    /// OLD_LARGE_INTEGER LogonTime, LogoffTime, KickOffTime,
    ///          PasswordLastSet, PasswordCanChange, PasswordMustChange;
    /// RPC_UNICODE_STRING EffectiveName, FullName, LogonScript, ProfilePath,
    ///          HomeDirectory, HomeDirectoryDrive;
    /// USHORT LogonCount, BadPasswordCount;
    /// ULONG UserId, PrimaryGroupId, GroupCount;
    /// [size_is(GroupCount)] PGROUP_MEMBERSHIP GroupIds;
    /// ULONG UserFlags; USER_SESSION_KEY UserSessionKey (16 bytes);
    /// RPC_UNICODE_STRING LogonServer, LogonDomainName;
    /// PRPC_SID LogonDomainId;
    /// ULONG ExpansionRoom[10]   (KERB_VALIDATION_INFO: ULONG Reserved1[2];
    ///          ULONG UserAccountControl, SubAuthStatus;
    ///          FILETIME LastSuccessfulILogon, LastFailedILogon;
    ///          ULONG FailedILogonCount, Reserved3)
    /// ULONG SidCount;
    /// [size_is(SidCount)] PNETLOGON_SID_AND_ATTRIBUTES ExtraSids;
    /// ```
    ///
    /// Times are FILETIMEs (100 ns units since 1601-01-01;
    /// `0x7fffffffffffffff` means never) sent as two 32-bit halves, so
    /// 4-byte aligned.
    pub struct ValidationSamInfo2 {
        /// `LogonTime`: when the user logged on.
        pub logon_time: OldLargeInteger,
        /// `LogoffTime`: when the logon expires (logon hours).
        pub logoff_time: OldLargeInteger,
        /// `KickOffTime`: when the system forces the logoff.
        pub kick_off_time: OldLargeInteger,
        /// `PasswordLastSet`.
        pub password_last_set: OldLargeInteger,
        /// `PasswordCanChange`.
        pub password_can_change: OldLargeInteger,
        /// `PasswordMustChange`.
        pub password_must_change: OldLargeInteger,
        /// `EffectiveName` (the account name, sAMAccountName).
        pub effective_name: UnicodeString,
        /// `FullName`.
        pub full_name: UnicodeString,
        /// `LogonScript`.
        pub logon_script: UnicodeString,
        /// `ProfilePath`.
        pub profile_path: UnicodeString,
        /// `HomeDirectory`.
        pub home_directory: UnicodeString,
        /// `HomeDirectoryDrive`.
        pub home_directory_drive: UnicodeString,
        /// `LogonCount`: successful logons.
        pub logon_count: u16,
        /// `BadPasswordCount`: failed logons since the last good one.
        pub bad_password_count: u16,
        /// `UserId`: the user's RID in the logon domain.
        pub user_id: u32,
        /// `PrimaryGroupId`: the primary group's RID.
        pub primary_group_id: u32,
        /// `GroupCount`.
        pub group_count: u32,
        /// `GroupIds` (`[size_is(GroupCount)]`): global groups of the
        /// logon domain.
        pub group_ids: Option<ConformantArray<GroupMembership>>,
        /// `UserFlags`.
        pub user_flags: UserFlags,
        /// `UserSessionKey` (not used with Kerberos, MS-PAC 2.5).
        pub user_session_key: [u8; 16],
        /// `LogonServer`: the DC that authenticated the user (NetBIOS name).
        pub logon_server: UnicodeString,
        /// `LogonDomainName`: the logon domain's NetBIOS name.
        pub logon_domain_name: UnicodeString,
        /// `LogonDomainId`: the logon domain's SID (the user and group SIDs
        /// build on it).
        pub logon_domain_id: Option<Sid>,
        /// `ExpansionRoom[0..2]`: the LM session key over NETLOGON;
        /// KERB_VALIDATION_INFO's `Reserved1` (zero).
        pub lm_session_key: [u8; 8],
        /// `ExpansionRoom[2]` / `UserAccountControl`: MS-SAMR 2.2.1.12
        /// USER_ACCOUNT codes (not the LDAP userAccountControl bits).
        pub user_account_control: u32,
        /// `ExpansionRoom[3]` / `SubAuthStatus` (NTLM sub-authentication;
        /// zero for Kerberos).
        pub sub_auth_status: u32,
        /// `ExpansionRoom[4..6]` / `LastSuccessfulILogon`.
        pub last_successful_i_logon: OldLargeInteger,
        /// `ExpansionRoom[6..8]` / `LastFailedILogon`.
        pub last_failed_i_logon: OldLargeInteger,
        /// `ExpansionRoom[8]` / `FailedILogonCount`: failed interactive
        /// logons since the last success.
        pub failed_i_logon_count: u32,
        /// `ExpansionRoom[9]` / `Reserved3`.
        pub reserved3: u32,
        /// `SidCount`.
        pub sid_count: u32,
        /// `ExtraSids` (`[size_is(SidCount)]`; null with SidCount 0 when
        /// UserFlags lacks LOGON_EXTRA_SIDS): SIDs outside the logon
        /// domain (universal groups of other domains, SID history,
        /// asserted identities like S-1-18-1).
        pub extra_sids: Option<ConformantArray<SidAndAttributes>>,
    }
    size_is { group_ids: group_count, extra_sids: sid_count }
}

impl ValidationSamInfo2 {
    /// The user's SID: the logon domain's SID and `UserId`.
    pub fn user_sid(&self) -> Option<Sid> {
        self.logon_domain_id.as_ref()?.with_rid(self.user_id).ok()
    }

    /// Every group SID, domain groups first (primary group included as
    /// the DC lists it), then the extra SIDs.
    pub fn group_sids(&self) -> Vec<Sid> {
        let mut out = Vec::new();
        if let Some(domain) = &self.logon_domain_id {
            out.extend(
                self.groups()
                    .iter()
                    .filter_map(|g| domain.with_rid(g.relative_id).ok()),
            );
        }
        out.extend(self.extra_sids().iter().filter_map(|s| s.sid.clone()));
        out
    }

    /// `GroupIds` (empty for a null pointer).
    pub fn groups(&self) -> &[GroupMembership] {
        self.group_ids.as_ref().map_or(&[], |a| &a.0)
    }

    /// `ExtraSids` (empty for a null pointer).
    pub fn extra_sids(&self) -> &[SidAndAttributes] {
        self.extra_sids.as_ref().map_or(&[], |a| &a.0)
    }
}
