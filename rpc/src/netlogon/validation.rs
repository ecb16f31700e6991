//! MS-NRPC 2.2.1.4.12-13 NETLOGON_VALIDATION_SAM_INFO2: what the DC says
//! about a user it has just authenticated.

use crate::ndr::{ConformantArray, Sid, UnicodeString};
use crate::ndr_struct;

ndr_struct! {
    /// MS-NRPC 2.2.1.4.1 GROUP_MEMBERSHIP: a group RID in the logon domain.
    pub struct GroupMembership {
        /// `RelativeId`.
        pub relative_id: u32,
        /// `Attributes` (SE_GROUP_* flags).
        pub attributes: u32,
    }
}

ndr_struct! {
    /// MS-NRPC 2.2.1.4.2 NETLOGON_SID_AND_ATTRIBUTES.
    pub struct SidAndAttributes {
        /// `Sid`.
        pub sid: Option<Sid>,
        /// `Attributes`.
        pub attributes: u32,
    }
}

ndr_struct! {
    /// MS-NRPC 2.2.1.4.13 NETLOGON_VALIDATION_SAM_INFO2 (the
    /// NETLOGON_VALIDATION_SAM_INFO fields, then the extra SIDs).
    ///
    /// Times are OLD_LARGE_INTEGER FILETIMEs (two 32-bit halves, so 4-byte
    /// aligned). `ExpansionRoom` holds, in order, the LM session key (two
    /// words), the account's UserAccountControl, SubAuthStatus, the last
    /// successful and failed interactive logon times, the failed count and a
    /// reserved word (MS-NRPC 2.2.1.4.11).
    pub struct ValidationSamInfo2 {
        /// `LogonTime`.
        pub logon_time: [u32; 2],
        /// `LogoffTime`.
        pub logoff_time: [u32; 2],
        /// `KickOffTime`.
        pub kickoff_time: [u32; 2],
        /// `PasswordLastSet`.
        pub password_last_set: [u32; 2],
        /// `PasswordCanChange`.
        pub password_can_change: [u32; 2],
        /// `PasswordMustChange`.
        pub password_must_change: [u32; 2],
        /// `EffectiveName` (the account name).
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
        /// `LogonCount`.
        pub logon_count: u16,
        /// `BadPasswordCount`.
        pub bad_password_count: u16,
        /// `UserId`: the user's RID.
        pub user_id: u32,
        /// `PrimaryGroupId`.
        pub primary_group_id: u32,
        /// `GroupCount`.
        pub group_count: u32,
        /// `GroupIds` (`[size_is(GroupCount)]`).
        pub group_ids: Option<ConformantArray<GroupMembership>>,
        /// `UserFlags` (LOGON_EXTRA_SIDS = 0x20, ...).
        pub user_flags: u32,
        /// `UserSessionKey`.
        pub user_session_key: [u8; 16],
        /// `LogonServer`.
        pub logon_server: UnicodeString,
        /// `LogonDomainName`.
        pub logon_domain_name: UnicodeString,
        /// `LogonDomainId`.
        pub logon_domain_id: Option<Sid>,
        /// `ExpansionRoom`.
        pub expansion_room: [u32; 10],
        /// `SidCount`.
        pub sid_count: u32,
        /// `ExtraSids` (`[size_is(SidCount)]`; null with SidCount 0 when
        /// UserFlags lacks LOGON_EXTRA_SIDS).
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
        if let (Some(domain), Some(groups)) = (&self.logon_domain_id, &self.group_ids) {
            out.extend(
                groups
                    .0
                    .iter()
                    .filter_map(|g| domain.with_rid(g.relative_id).ok()),
            );
        }
        if let Some(extra) = &self.extra_sids {
            out.extend(extra.0.iter().filter_map(|s| s.sid.clone()));
        }
        out
    }

    /// UserAccountControl from `ExpansionRoom[2]`.
    pub fn user_account_control(&self) -> u32 {
        self.expansion_room[2]
    }
}
