//! MS-PAC 2.5 KERB_VALIDATION_INFO (the logon information buffer, type 1),
//! decoded with adjoin-ndr.
//!
//! Its first part is NETLOGON_VALIDATION_SAM_INFO2 field for field
//! (MS-NRPC 2.2.1.4.12; KERB_VALIDATION_INFO's Reserved1 through Reserved3
//! are SAM_INFO's ExpansionRoom), so that part is adjoin-ndr's
//! [`ValidationSamInfo2`], the same definition rpc's NETLOGON client
//! decodes; the resource groups follow. See `docs/decisions.md`.

use adjoin_ndr::ndr::{
    ConformantArray, decode_type_serialization_v1, encode_type_serialization_v1,
};
use adjoin_ndr::ndr_struct;

pub use adjoin_ndr::validation::{
    GroupAttributes, GroupMembership, SidAndAttributes, UserFlags, ValidationSamInfo2,
};

use super::Sid;
use super::error::PacError;

ndr_struct! {
    /// MS-PAC 2.5 KERB_VALIDATION_INFO: who the user is and which groups
    /// they are in, as the DC saw it at logon.
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
    ///                                     (all of the above: `sam`)
    /// PISID ResourceGroupDomainSid; ULONG ResourceGroupCount;
    /// [size_is(ResourceGroupCount)] PGROUP_MEMBERSHIP ResourceGroupIds;
    /// ```
    ///
    /// An embedded structure's pointers are deferred to the end of the
    /// enclosing one, in order, so this is the same NDR as the flat list.
    pub struct KerbValidationInfo {
        /// LogonTime through ExtraSids: NETLOGON_VALIDATION_SAM_INFO2.
        pub sam: ValidationSamInfo2,
        /// `ResourceGroupDomainSid`: the resource domain of
        /// `resource_group_ids`, when there are any.
        pub resource_group_domain_sid: Option<Sid>,
        /// `ResourceGroupCount`.
        pub resource_group_count: u32,
        /// `ResourceGroupIds` (`[size_is(ResourceGroupCount)]`):
        /// domain-local groups of the resource domain.
        pub resource_group_ids: Option<ConformantArray<GroupMembership>>,
    }
    size_is { resource_group_ids: resource_group_count }
}

/// A group the PAC grants, as a full SID (what [`KerbValidationInfo::group_sids`]
/// resolves `GroupIds`, `ExtraSids` and `ResourceGroupIds` to).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupSid {
    /// The group's SID.
    pub sid: Sid,
    /// Its attributes.
    pub attributes: GroupAttributes,
}

impl KerbValidationInfo {
    /// Decodes the buffer (MS-RPCE 2.2.6 type serialization version 1:
    /// headers, the top-level unique pointer, the structure, then its
    /// referents in pointer order) and checks what MS-PAC requires beyond
    /// the NDR: a logon domain SID, non-null extra SIDs, domain SIDs with
    /// room for a RID, and a resource domain for resource groups.
    pub fn parse(bytes: &[u8]) -> Result<Self, PacError> {
        let info = decode_type_serialization_v1::<Self>(bytes)?.ok_or(PacError::NullPointer {
            what: "PKERB_VALIDATION_INFO",
        })?;
        info.check()?;
        Ok(info)
    }

    /// The buffer's bytes: the type serialization [`KerbValidationInfo::parse`] reads.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode_type_serialization_v1(self)
    }

    fn check(&self) -> Result<(), PacError> {
        room_for_a_rid(self.logon_domain_id()?)?;
        if self.sam.extra_sids().iter().any(|s| s.sid.is_none()) {
            return Err(PacError::NullPointer {
                what: "ExtraSids[].Sid",
            });
        }
        match &self.resource_group_domain_sid {
            Some(domain) => room_for_a_rid(domain),
            None if self.resource_groups().is_empty() => Ok(()),
            None => Err(PacError::NullPointer {
                what: "ResourceGroupDomainSid",
            }),
        }
    }

    /// `LogonDomainId`, which a PAC must carry (parsing refuses one without).
    pub fn logon_domain_id(&self) -> Result<&Sid, PacError> {
        self.sam
            .logon_domain_id
            .as_ref()
            .ok_or(PacError::NullPointer {
                what: "LogonDomainId",
            })
    }

    /// `ResourceGroupIds` (empty for a null pointer).
    pub fn resource_groups(&self) -> &[GroupMembership] {
        self.resource_group_ids.as_ref().map_or(&[], |a| &a.0)
    }

    /// The user's SID: the logon domain's SID and `UserId`.
    ///
    /// Fails only if the value was changed after parsing (no logon domain
    /// SID, or one with no room for a RID; parsing rejects those).
    pub fn user_sid(&self) -> Result<Sid, PacError> {
        Ok(self.logon_domain_id()?.with_rid(self.sam.user_id)?)
    }

    /// The primary group's SID: the logon domain's SID and `PrimaryGroupId`.
    pub fn primary_group_sid(&self) -> Result<Sid, PacError> {
        Ok(self
            .logon_domain_id()?
            .with_rid(self.sam.primary_group_id)?)
    }

    /// Every group SID the PAC grants, in the order a Windows token lists
    /// them (MS-PAC 2.5, MS-KILE 3.4.5.3): `GroupIds` in the logon domain,
    /// then `ExtraSids`, then `ResourceGroupIds` in the resource domain.
    pub fn group_sids(&self) -> Result<Vec<GroupSid>, PacError> {
        let in_domain = |domain: &Sid, g: &GroupMembership| -> Result<_, PacError> {
            Ok(GroupSid {
                sid: domain.with_rid(g.relative_id)?,
                attributes: g.attributes,
            })
        };
        let (groups, extra, resource) = (
            self.sam.groups(),
            self.sam.extra_sids(),
            self.resource_groups(),
        );
        let mut out = Vec::with_capacity(groups.len() + extra.len() + resource.len());
        let domain = self.logon_domain_id()?;
        for g in groups {
            out.push(in_domain(domain, g)?);
        }
        for s in extra {
            let sid = s.sid.clone().ok_or(PacError::NullPointer {
                what: "ExtraSids[].Sid",
            })?;
            out.push(GroupSid {
                sid,
                attributes: s.attributes,
            });
        }
        if let Some(domain) = &self.resource_group_domain_sid {
            for g in resource {
                out.push(in_domain(domain, g)?);
            }
        }
        Ok(out)
    }
}

/// A domain SID must have room for one more sub-authority (a RID).
fn room_for_a_rid(sid: &Sid) -> Result<(), PacError> {
    if sid.sub_authorities().len() >= Sid::MAX_SUB_AUTHORITIES {
        return Err(PacError::InvalidSid {
            reason: "a domain SID with 15 sub-authorities leaves no room for a RID",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use adjoin_ndr::DecodeError;
    use adjoin_ndr::ndr::OldLargeInteger;

    use super::*;

    /// The logon info buffer of Heimdal's `saved_pac` (MS-PAC sample made by
    /// Samba's torture suite): offset 0x48, 0x1d8 bytes.
    fn heimdal_logon_info() -> &'static [u8] {
        &include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin")[0x48..0x48 + 0x1d8]
    }

    #[test]
    fn decodes_the_heimdal_sample() {
        let info = KerbValidationInfo::parse(heimdal_logon_info()).unwrap();
        assert_eq!(info.sam.effective_name, "W2003FINAL$");
        assert_eq!(info.sam.full_name, "");
        assert_eq!(info.sam.logon_server, "W2003FINAL");
        assert_eq!(info.sam.logon_domain_name, "WIN2K3THINK");
        assert_eq!(info.sam.logon_count, 0x65);
        assert_eq!(info.sam.user_id, 0x3ed);
        assert_eq!(info.sam.primary_group_id, 516);
        assert_eq!(info.sam.logon_time.0, 0x01c5_7d4f_cba6_df30);
        assert_eq!(info.sam.logoff_time, OldLargeInteger::NEVER);
        assert_eq!(info.sam.user_flags, UserFlags::EXTRA_SIDS);
        assert_eq!(info.sam.user_account_control, 0x2100);
        assert_eq!(
            info.logon_domain_id().unwrap().to_string(),
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
            info.sam.groups(),
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
        assert!(info.resource_groups().is_empty());
    }

    /// The KERB_VALIDATION_INFO of each sample PAC (Heimdal's, one with
    /// extra logon info, the lab DC's) re-encodes to a value that reads
    /// back the same, of the same size (the DCs write some MaximumLengths
    /// with room for a terminator, we write them equal to Length).
    #[test]
    fn samples_re_encode_byte_for_byte() {
        for pac in [
            &include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin")[..],
            include_bytes!("../../testdata/pac-heimdal-extra-logon-info.bin"),
            include_bytes!("../../testdata/pac-lab-aes256.bin"),
        ] {
            let pac = super::super::Pac::parse(pac).unwrap();
            let bytes = pac.buffer(super::super::PacBufferType::LOGON_INFO).unwrap();
            let info = KerbValidationInfo::parse(bytes).unwrap();
            assert_eq!(&info, pac.logon_info());
            assert_eq!(KerbValidationInfo::parse(&info.to_bytes()).unwrap(), info);
            assert_eq!(info.to_bytes().len(), bytes.len());
        }
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
        assert_eq!(
            KerbValidationInfo::parse(&bytes),
            Err(PacError::Ndr(DecodeError::SizeIs {
                what: "ValidationSamInfo2",
                array: "group_ids",
                field: "group_count",
                count: 2,
                wire: 1,
            }))
        );
    }
}
