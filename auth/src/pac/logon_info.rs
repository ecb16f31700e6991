//! MS-PAC 2.5 KERB_VALIDATION_INFO (the logon information buffer, type 1),
//! decoded from its NDR.

use bitflags::bitflags;

use super::error::PacError;
use super::ndr::{NdrReader, UnicodeStringHeader};
use super::sid::Sid;

bitflags! {
    /// MS-PAC 2.2.1 / [SIDATT]: attributes of a group membership.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// MS-PAC 2.5 `UserFlags` (the bits shared with NETLOGON_VALIDATION_SAM_INFO4).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct UserFlags: u32 {
        /// A: a guest logon.
        const GUEST = 0x0000_0001;
        /// D: ExtraSids is populated.
        const EXTRA_SIDS = 0x0000_0020;
        /// F: the account is a machine account.
        const MACHINE_ACCOUNT = 0x0000_0080;
        /// H: ResourceGroupIds is populated.
        const RESOURCE_GROUPS = 0x0000_0200;
        // Other bits are kept as they came.
        const _ = !0;
    }
}

/// MS-PAC 2.2.2 GROUP_MEMBERSHIP: a RID in a domain and its attributes.
///
/// ```text
/// RelativeId (u32) | Attributes (u32)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupMembership {
    /// The group's RID.
    pub relative_id: u32,
    /// Its attributes.
    pub attributes: GroupAttributes,
}

/// MS-PAC 2.2.1 KERB_SID_AND_ATTRIBUTES: a full SID and its attributes.
///
/// ```text
/// Sid (PISID, unique pointer) | Attributes (u32)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SidAndAttributes {
    /// The SID.
    pub sid: Sid,
    /// Its attributes.
    pub attributes: GroupAttributes,
}

/// MS-PAC 2.5 KERB_VALIDATION_INFO: who the user is and which groups they
/// are in, as the DC saw it at logon. Times are FILETIMEs (100 ns units
/// since 1601-01-01; `0x7fffffffffffffff` means never).
///
/// ```text
/// FILETIME LogonTime, LogoffTime, KickOffTime,
///          PasswordLastSet, PasswordCanChange, PasswordMustChange;
/// RPC_UNICODE_STRING EffectiveName, FullName, LogonScript, ProfilePath,
///          HomeDirectory, HomeDirectoryDrive;
/// USHORT LogonCount, BadPasswordCount;
/// ULONG UserId, PrimaryGroupId, GroupCount;
/// [size_is(GroupCount)] PGROUP_MEMBERSHIP GroupIds;
/// ULONG UserFlags; USER_SESSION_KEY UserSessionKey (16 bytes);
/// RPC_UNICODE_STRING LogonServer, LogonDomainName;
/// PISID LogonDomainId; ULONG Reserved1[2];
/// ULONG UserAccountControl, SubAuthStatus;
/// FILETIME LastSuccessfulILogon, LastFailedILogon;
/// ULONG FailedILogonCount, Reserved3, SidCount;
/// [size_is(SidCount)] PKERB_SID_AND_ATTRIBUTES ExtraSids;
/// PISID ResourceGroupDomainSid; ULONG ResourceGroupCount;
/// [size_is(ResourceGroupCount)] PGROUP_MEMBERSHIP ResourceGroupIds;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerbValidationInfo {
    /// When the user last logged on.
    pub logon_time: u64,
    /// When the logon expires (logon hours).
    pub logoff_time: u64,
    /// When the system forces the logoff.
    pub kick_off_time: u64,
    /// When the password was last set.
    pub password_last_set: u64,
    /// From when the password may be changed.
    pub password_can_change: u64,
    /// When the password must be changed.
    pub password_must_change: u64,
    /// The account name (sAMAccountName).
    pub effective_name: String,
    /// The user's full name.
    pub full_name: String,
    /// The logon script path.
    pub logon_script: String,
    /// The roaming profile path.
    pub profile_path: String,
    /// The home directory.
    pub home_directory: String,
    /// The home directory's drive letter.
    pub home_directory_drive: String,
    /// Successful logons.
    pub logon_count: u16,
    /// Failed logons since the last good one.
    pub bad_password_count: u16,
    /// The user's RID in the logon domain.
    pub user_id: u32,
    /// The primary group's RID.
    pub primary_group_id: u32,
    /// Global groups of the logon domain.
    pub group_ids: Vec<GroupMembership>,
    /// `UserFlags`.
    pub user_flags: UserFlags,
    /// The DC that made the PAC (NetBIOS name).
    pub logon_server: String,
    /// The logon domain's NetBIOS name.
    pub logon_domain_name: String,
    /// The logon domain's SID (required: the user and group SIDs build on it).
    pub logon_domain_id: Sid,
    /// MS-SAMR 2.2.1.12 USER_ACCOUNT codes (not the LDAP userAccountControl bits).
    pub user_account_control: u32,
    /// Reserved for NTLM sub-authentication; zero for Kerberos.
    pub sub_auth_status: u32,
    /// Last interactive logon that succeeded.
    pub last_successful_i_logon: u64,
    /// Last interactive logon that failed.
    pub last_failed_i_logon: u64,
    /// Failed interactive logons since the last success.
    pub failed_i_logon_count: u32,
    /// SIDs outside the logon domain (universal groups of other domains,
    /// SID history, asserted identities like S-1-18-1).
    pub extra_sids: Vec<SidAndAttributes>,
    /// The resource domain of `resource_group_ids`, when there are any.
    pub resource_group_domain_sid: Option<Sid>,
    /// Domain-local groups of the resource domain.
    pub resource_group_ids: Vec<GroupMembership>,
}

/// What the fixed part holds for each deferred referent.
struct Inline {
    names: [UnicodeStringHeader; 6],
    group_count: u32,
    group_ids: bool,
    logon_server: UnicodeStringHeader,
    logon_domain_name: UnicodeStringHeader,
    logon_domain_id: bool,
    sid_count: u32,
    extra_sids: bool,
    resource_group_domain_sid: bool,
    resource_group_count: u32,
    resource_group_ids: bool,
}

impl KerbValidationInfo {
    /// Decodes the buffer: type serialization v1 headers, the top-level
    /// unique pointer, the structure, then its referents in pointer order.
    pub fn parse(bytes: &[u8]) -> Result<Self, PacError> {
        let mut r = NdrReader::type_serialization_v1(bytes)?;
        if !r.pointer()? {
            return Err(PacError::NullPointer {
                what: "PKERB_VALIDATION_INFO",
            });
        }
        let mut info = Self::empty();
        let inline = info.read_inline(&mut r)?;
        info.read_deferred(&mut r, &inline)?;
        r.finish()?;
        Ok(info)
    }

    fn empty() -> Self {
        Self {
            logon_time: 0,
            logoff_time: 0,
            kick_off_time: 0,
            password_last_set: 0,
            password_can_change: 0,
            password_must_change: 0,
            effective_name: String::new(),
            full_name: String::new(),
            logon_script: String::new(),
            profile_path: String::new(),
            home_directory: String::new(),
            home_directory_drive: String::new(),
            logon_count: 0,
            bad_password_count: 0,
            user_id: 0,
            primary_group_id: 0,
            group_ids: Vec::new(),
            user_flags: UserFlags::empty(),
            logon_server: String::new(),
            logon_domain_name: String::new(),
            logon_domain_id: Sid::PLACEHOLDER,
            user_account_control: 0,
            sub_auth_status: 0,
            last_successful_i_logon: 0,
            last_failed_i_logon: 0,
            failed_i_logon_count: 0,
            extra_sids: Vec::new(),
            resource_group_domain_sid: None,
            resource_group_ids: Vec::new(),
        }
    }

    /// The structure itself, in field order; pointers are only noted.
    fn read_inline(&mut self, r: &mut NdrReader<'_>) -> Result<Inline, PacError> {
        self.logon_time = r.filetime()?;
        self.logoff_time = r.filetime()?;
        self.kick_off_time = r.filetime()?;
        self.password_last_set = r.filetime()?;
        self.password_can_change = r.filetime()?;
        self.password_must_change = r.filetime()?;
        let names = [
            r.unicode_string_header("EffectiveName")?,
            r.unicode_string_header("FullName")?,
            r.unicode_string_header("LogonScript")?,
            r.unicode_string_header("ProfilePath")?,
            r.unicode_string_header("HomeDirectory")?,
            r.unicode_string_header("HomeDirectoryDrive")?,
        ];
        self.logon_count = r.u16()?;
        self.bad_password_count = r.u16()?;
        self.user_id = r.u32()?;
        self.primary_group_id = r.u32()?;
        let group_count = r.u32()?;
        let group_ids = r.pointer()?;
        self.user_flags = UserFlags::from_bits_retain(r.u32()?);
        r.bytes(16)?; // UserSessionKey: not used with Kerberos (MS-PAC 2.5)
        let logon_server = r.unicode_string_header("LogonServer")?;
        let logon_domain_name = r.unicode_string_header("LogonDomainName")?;
        let logon_domain_id = r.pointer()?;
        r.u32()?; // Reserved1[0]
        r.u32()?; // Reserved1[1]
        self.user_account_control = r.u32()?;
        self.sub_auth_status = r.u32()?;
        self.last_successful_i_logon = r.filetime()?;
        self.last_failed_i_logon = r.filetime()?;
        self.failed_i_logon_count = r.u32()?;
        r.u32()?; // Reserved3
        let sid_count = r.u32()?;
        let extra_sids = r.pointer()?;
        let resource_group_domain_sid = r.pointer()?;
        let resource_group_count = r.u32()?;
        let resource_group_ids = r.pointer()?;
        Ok(Inline {
            names,
            group_count,
            group_ids,
            logon_server,
            logon_domain_name,
            logon_domain_id,
            sid_count,
            extra_sids,
            resource_group_domain_sid,
            resource_group_count,
            resource_group_ids,
        })
    }

    /// The referents, in the order of their pointers in the structure.
    fn read_deferred(&mut self, r: &mut NdrReader<'_>, p: &Inline) -> Result<(), PacError> {
        let [effective, full, script, profile, home, drive] = p.names;
        self.effective_name = r.unicode_string_body(effective)?;
        self.full_name = r.unicode_string_body(full)?;
        self.logon_script = r.unicode_string_body(script)?;
        self.profile_path = r.unicode_string_body(profile)?;
        self.home_directory = r.unicode_string_body(home)?;
        self.home_directory_drive = r.unicode_string_body(drive)?;
        self.group_ids = group_memberships(r, "GroupIds", p.group_count, p.group_ids)?;
        self.logon_server = r.unicode_string_body(p.logon_server)?;
        self.logon_domain_name = r.unicode_string_body(p.logon_domain_name)?;
        if !p.logon_domain_id {
            return Err(PacError::NullPointer {
                what: "LogonDomainId",
            });
        }
        self.logon_domain_id = domain_sid(r)?;
        self.extra_sids = extra_sids(r, p.sid_count, p.extra_sids)?;
        if p.resource_group_domain_sid {
            self.resource_group_domain_sid = Some(domain_sid(r)?);
        }
        self.resource_group_ids = group_memberships(
            r,
            "ResourceGroupIds",
            p.resource_group_count,
            p.resource_group_ids,
        )?;
        if !self.resource_group_ids.is_empty() && self.resource_group_domain_sid.is_none() {
            return Err(PacError::NullPointer {
                what: "ResourceGroupDomainSid",
            });
        }
        Ok(())
    }

    /// The user's SID: the logon domain's SID and `UserId`.
    ///
    /// Fails only if `logon_domain_id` was changed after parsing to a SID
    /// with no room for a RID (parsing rejects those).
    pub fn user_sid(&self) -> Result<Sid, PacError> {
        self.logon_domain_id.with_rid(self.user_id)
    }

    /// The primary group's SID: the logon domain's SID and `PrimaryGroupId`.
    pub fn primary_group_sid(&self) -> Result<Sid, PacError> {
        self.logon_domain_id.with_rid(self.primary_group_id)
    }

    /// Every group SID the PAC grants, in the order a Windows token lists
    /// them (MS-PAC 2.5, MS-KILE 3.4.5.3): `GroupIds` in the logon domain,
    /// then `ExtraSids`, then `ResourceGroupIds` in the resource domain.
    pub fn group_sids(&self) -> Result<Vec<SidAndAttributes>, PacError> {
        let in_domain = |domain: &Sid, g: &GroupMembership| -> Result<_, PacError> {
            Ok(SidAndAttributes {
                sid: domain.with_rid(g.relative_id)?,
                attributes: g.attributes,
            })
        };
        let mut out = Vec::with_capacity(
            self.group_ids.len() + self.extra_sids.len() + self.resource_group_ids.len(),
        );
        for g in &self.group_ids {
            out.push(in_domain(&self.logon_domain_id, g)?);
        }
        out.extend(self.extra_sids.iter().cloned());
        if let Some(domain) = &self.resource_group_domain_sid {
            for g in &self.resource_group_ids {
                out.push(in_domain(domain, g)?);
            }
        }
        Ok(out)
    }
}

/// A domain SID that must have room for one more sub-authority (a RID).
fn domain_sid(r: &mut NdrReader<'_>) -> Result<Sid, PacError> {
    let sid = r.rpc_sid()?;
    if sid.sub_authorities().len() >= Sid::MAX_SUB_AUTHORITIES {
        return Err(PacError::InvalidSid {
            reason: "a domain SID with 15 sub-authorities leaves no room for a RID",
        });
    }
    Ok(sid)
}

/// The referent of a `[size_is(count)] PGROUP_MEMBERSHIP`: a conformant array.
fn group_memberships(
    r: &mut NdrReader<'_>,
    what: &'static str,
    count: u32,
    present: bool,
) -> Result<Vec<GroupMembership>, PacError> {
    if !present {
        return match count {
            0 => Ok(Vec::new()),
            _ => Err(PacError::NullPointer { what }),
        };
    }
    r.conformance(what, count)?;
    // Reads before it allocates: a huge count fails on the short buffer.
    let bytes = r.bytes(checked_len(what, count, 8)?)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| GroupMembership {
            relative_id: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            attributes: GroupAttributes::from_bits_retain(u32::from_le_bytes([
                c[4], c[5], c[6], c[7],
            ])),
        })
        .collect())
}

/// The referent of `[size_is(SidCount)] PKERB_SID_AND_ATTRIBUTES ExtraSids`:
/// a conformant array of (pointer, attributes), then each non-null SID.
fn extra_sids(
    r: &mut NdrReader<'_>,
    count: u32,
    present: bool,
) -> Result<Vec<SidAndAttributes>, PacError> {
    const WHAT: &str = "ExtraSids";
    if !present {
        return match count {
            0 => Ok(Vec::new()),
            _ => Err(PacError::NullPointer { what: WHAT }),
        };
    }
    r.conformance(WHAT, count)?;
    let bytes = r.bytes(checked_len(WHAT, count, 8)?)?;
    let mut out = Vec::with_capacity(bytes.len() / 8);
    for c in bytes.chunks_exact(8) {
        if c[..4] == [0; 4] {
            return Err(PacError::NullPointer {
                what: "ExtraSids[].Sid",
            });
        }
        let attributes = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        out.push(SidAndAttributes {
            sid: r.rpc_sid()?,
            attributes: GroupAttributes::from_bits_retain(attributes),
        });
    }
    Ok(out)
}

fn checked_len(what: &'static str, count: u32, size: usize) -> Result<usize, PacError> {
    usize::try_from(count)
        .ok()
        .and_then(|c| c.checked_mul(size))
        .ok_or(PacError::NdrMismatch {
            what,
            found: count,
            expected: 0,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The logon info buffer of Heimdal's `saved_pac` (MS-PAC sample made by
    /// Samba's torture suite): offset 0x48, 0x1d8 bytes.
    fn heimdal_logon_info() -> &'static [u8] {
        &include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin")[0x48..0x48 + 0x1d8]
    }

    #[test]
    fn decodes_the_heimdal_sample() {
        let info = KerbValidationInfo::parse(heimdal_logon_info()).unwrap();
        assert_eq!(info.effective_name, "W2003FINAL$");
        assert_eq!(info.full_name, "");
        assert_eq!(info.logon_server, "W2003FINAL");
        assert_eq!(info.logon_domain_name, "WIN2K3THINK");
        assert_eq!(info.logon_count, 0x65);
        assert_eq!(info.user_id, 0x3ed);
        assert_eq!(info.primary_group_id, 516);
        assert_eq!(info.logon_time, 0x01c5_7d4f_cba6_df30);
        assert_eq!(info.logoff_time, 0x7fff_ffff_ffff_ffff);
        assert_eq!(info.user_flags, UserFlags::EXTRA_SIDS);
        assert_eq!(info.user_account_control, 0x2100);
        assert_eq!(
            info.logon_domain_id.to_string(),
            "S-1-5-21-3048156945-3961193616-3706469200"
        );
        assert_eq!(
            info.user_sid().unwrap().to_string(),
            "S-1-5-21-3048156945-3961193616-3706469200-1005"
        );
        let all = GroupAttributes::MANDATORY
            | GroupAttributes::ENABLED_BY_DEFAULT
            | GroupAttributes::ENABLED;
        assert_eq!(
            info.group_ids,
            [GroupMembership {
                relative_id: 516,
                attributes: all
            }]
        );
        let groups: Vec<String> = info
            .group_sids()
            .unwrap()
            .iter()
            .map(|g| g.sid.to_string())
            .collect();
        assert_eq!(
            groups,
            ["S-1-5-21-3048156945-3961193616-3706469200-516", "S-1-5-9"]
        );
        assert_eq!(info.primary_group_sid().unwrap().rid(), Some(516));
        assert!(info.resource_group_domain_sid.is_none());
    }

    #[test]
    fn every_truncation_fails_cleanly() {
        let bytes = heimdal_logon_info();
        // The header names the full length, so every prefix is short.
        for len in 0..bytes.len() {
            assert!(
                KerbValidationInfo::parse(&bytes[..len]).is_err(),
                "len {len}"
            );
        }
    }

    #[test]
    fn counts_must_match_the_array_conformance() {
        let mut bytes = heimdal_logon_info().to_vec();
        // GroupCount (at object offset 4 + 0x6c) from 1 to 2.
        let at = 16 + 4 + 0x6c;
        assert_eq!(bytes[at], 1);
        bytes[at] = 2;
        assert!(matches!(
            KerbValidationInfo::parse(&bytes),
            Err(PacError::NdrMismatch {
                what: "GroupIds",
                found: 1,
                expected: 2
            })
        ));
    }
}
