//! MS-LSAD: the policy calls a member's lsarpc pipe answers, as NDR argument lists:
//! LsarOpenPolicy and LsarOpenPolicy2 (a policy handle), LsarClose, and
//! LsarQueryInformationPolicy/2 for the member's primary domain, its own account domain
//! and its DNS domain.

use super::TrustInformation;
use crate::error::DecodeError;
use crate::ndr::{ContextHandle, Ndr, NdrReader, NdrWriter, Sid, UnicodeString, Uuid, WideString};
use crate::ntstatus::NtStatus;
use crate::{ndr_params, ndr_struct};

/// MS-LSAD 2.2.1.1.2 POLICY_VIEW_LOCAL_INFORMATION: read the policy's domain names.
pub const POLICY_VIEW_LOCAL_INFORMATION: u32 = 0x0000_0001;
/// POLICY_VIEW_AUDIT_INFORMATION.
pub const POLICY_VIEW_AUDIT_INFORMATION: u32 = 0x0000_0002;
/// POLICY_LOOKUP_NAMES: translate names and SIDs.
pub const POLICY_LOOKUP_NAMES: u32 = 0x0000_0800;
/// The rights Windows' policy security descriptor gives administrators only: all but
/// POLICY_VIEW_LOCAL_INFORMATION, POLICY_LOOKUP_NAMES and READ_CONTROL (audit and
/// private information, every right that changes the policy, DELETE, WRITE_DAC,
/// WRITE_OWNER).
pub const POLICY_ADMIN_RIGHTS: u32 = 0x000d_17fe;
/// MS-DTYP 2.4.3 MAXIMUM_ALLOWED.
pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
/// MS-LSAD 2.2.1.1.2: POLICY_READ, what GENERIC_READ maps to.
pub const POLICY_READ: u32 = 0x0002_0006;
/// POLICY_WRITE, what GENERIC_WRITE maps to.
pub const POLICY_WRITE: u32 = 0x0002_07f8;
/// POLICY_EXECUTE, what GENERIC_EXECUTE maps to.
pub const POLICY_EXECUTE: u32 = 0x0002_0801;
/// POLICY_ALL_ACCESS, what GENERIC_ALL maps to.
pub const POLICY_ALL_ACCESS: u32 = 0x000f_0fff;

open_enum! {
    /// MS-LSAD 2.2.4.1 POLICY_INFORMATION_CLASS (an NDR enum: 16 bits).
    pub struct PolicyInformationClass(u16) {
        /// PolicyAuditEventsInformation.
        AUDIT_EVENTS = 2 => "PolicyAuditEventsInformation",
        /// PolicyPrimaryDomainInformation: the domain the machine is joined to.
        PRIMARY_DOMAIN = 3 => "PolicyPrimaryDomainInformation",
        /// PolicyAccountDomainInformation: the machine's own account domain.
        ACCOUNT_DOMAIN = 5 => "PolicyAccountDomainInformation",
        /// PolicyLsaServerRoleInformation.
        LSA_SERVER_ROLE = 6 => "PolicyLsaServerRoleInformation",
        /// PolicyDnsDomainInformation: the joined domain's names, GUID and SID.
        DNS_DOMAIN = 12 => "PolicyDnsDomainInformation",
        /// PolicyLocalAccountDomainInformation: the account domain again.
        LOCAL_ACCOUNT_DOMAIN = 14 => "PolicyLocalAccountDomainInformation",
    }
}

ndr_enum!(PolicyInformationClass => u16);

ndr_struct! {
    /// MS-LSAD 2.2.2.5 SECURITY_QUALITY_OF_SERVICE (ignored by the server).
    ///
    /// ```text
    /// Length u32 | ImpersonationLevel u16 | ContextTrackingMode u8 | EffectiveOnly u8
    /// ```
    pub struct QualityOfService {
        /// `Length`.
        pub length: u32,
        /// `ImpersonationLevel` (SECURITY_IMPERSONATION_LEVEL, an NDR enum).
        pub impersonation_level: u16,
        /// `ContextTrackingMode`.
        pub context_tracking_mode: u8,
        /// `EffectiveOnly`.
        pub effective_only: u8,
    }
}

/// MS-LSAD 2.2.2.4 LSAPR_OBJECT_ATTRIBUTES: "MUST be ignored" by the server except that
/// its fields decode; Samba and Windows clients send every pointer null but the QoS.
///
/// ```text
/// Length u32 | RootDirectory ref | ObjectName ref | Attributes u32
/// | SecurityDescriptor ref | SecurityQualityOfService ref
/// ```
///
/// A security descriptor is not decoded here: a request carrying one is refused as
/// undecodable (`DecodeError::UnknownArm`), which no client of a member's LSA sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectAttributes {
    /// `Length` (24 from clients; ignored).
    pub length: u32,
    /// `RootDirectory` (a pointer to one byte; null).
    pub root_directory: Option<u8>,
    /// `ObjectName` (Samba's IDL: a `[string] wchar_t*`; null).
    pub object_name: Option<WideString>,
    /// `Attributes`.
    pub attributes: u32,
    /// `SecurityQualityOfService`.
    pub quality_of_service: Option<QualityOfService>,
}

impl Ndr for ObjectAttributes {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        w.u32(self.length);
        self.root_directory.encode_scalars(w);
        self.object_name.encode_scalars(w);
        w.u32(self.attributes);
        w.referent(false);
        self.quality_of_service.encode_scalars(w);
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        self.root_directory.encode_buffers(w);
        self.object_name.encode_buffers(w);
        self.quality_of_service.encode_buffers(w);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        let length = r.u32()?;
        let root_directory = Option::decode_scalars(r)?;
        let object_name = Option::decode_scalars(r)?;
        let attributes = r.u32()?;
        if r.referent()? {
            return Err(DecodeError::UnknownArm {
                what: "LSAPR_OBJECT_ATTRIBUTES.SecurityDescriptor",
                level: 1,
            });
        }
        Ok(Self {
            length,
            root_directory,
            object_name,
            attributes,
            quality_of_service: Option::decode_scalars(r)?,
        })
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        self.root_directory.decode_buffers(r)?;
        self.object_name.decode_buffers(r)?;
        self.quality_of_service.decode_buffers(r)
    }
}

impl ObjectAttributes {
    /// What rpcclient sends: every pointer null but an impersonation QoS.
    pub fn with_qos() -> Self {
        Self {
            length: 24,
            quality_of_service: Some(QualityOfService {
                length: 12,
                impersonation_level: 2,
                context_tracking_mode: 1,
                effective_only: 0,
            }),
            ..Self::default()
        }
    }
}

ndr_params! {
    /// MS-LSAD 3.1.4.4.2 LsarOpenPolicy (opnum 6), `[in]`.
    pub struct OpenPolicyRequest {
        /// `[in, unique] wchar_t* SystemName`: one character, ignored.
        pub system_name: Option<u16>,
        /// `[in] PLSAPR_OBJECT_ATTRIBUTES ObjectAttributes`.
        pub object_attributes: ObjectAttributes,
        /// `[in] ACCESS_MASK DesiredAccess`.
        pub desired_access: u32,
    }
}

ndr_params! {
    /// MS-LSAD 3.1.4.4.1 LsarOpenPolicy2 (opnum 44), `[in]`.
    pub struct OpenPolicy2Request {
        /// `[in, unique, string] wchar_t* SystemName` (ignored).
        pub system_name: Option<WideString>,
        /// `[in] PLSAPR_OBJECT_ATTRIBUTES ObjectAttributes`.
        pub object_attributes: ObjectAttributes,
        /// `[in] ACCESS_MASK DesiredAccess`.
        pub desired_access: u32,
    }
}

ndr_params! {
    /// MS-LSAD 3.1.4.4.1/3.1.4.4.2 LsarOpenPolicy2 and LsarOpenPolicy, `[out]`.
    pub struct OpenPolicyResponse {
        /// `[out] LSAPR_HANDLE* PolicyHandle` (null on failure).
        pub policy_handle: ContextHandle,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-LSAD 3.1.4.9.4 LsarClose (opnum 0), `[in]`.
    pub struct CloseRequest {
        /// `[in, out] LSAPR_HANDLE* ObjectHandle`.
        pub object_handle: ContextHandle,
    }
}

ndr_params! {
    /// MS-LSAD 3.1.4.9.4 LsarClose (opnum 0), `[out]`.
    pub struct CloseResponse {
        /// `ObjectHandle`: the null handle once closed.
        pub object_handle: ContextHandle,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_struct! {
    /// MS-LSAD 2.2.4.12 LSAPR_POLICY_DNS_DOMAIN_INFO.
    ///
    /// ```text
    /// Name (RPC_UNICODE_STRING) | DnsDomainName | DnsForestName | DomainGuid (16)
    /// | Sid ref
    /// ```
    pub struct DnsDomainInfo {
        /// `Name`: the NetBIOS domain name.
        pub name: UnicodeString,
        /// `DnsDomainName`.
        pub dns_domain_name: UnicodeString,
        /// `DnsForestName`.
        pub dns_forest_name: UnicodeString,
        /// `DomainGuid`.
        pub domain_guid: Uuid,
        /// `Sid`.
        pub sid: Option<Sid>,
    }
}

/// MS-LSAD 2.2.4.2 LSAPR_POLICY_INFORMATION: the arm of the class asked for (the
/// discriminant is the 16-bit class). The domain classes carry LSAPR_POLICY_PRIMARY_DOM_INFO
/// (2.2.4.5) and LSAPR_POLICY_ACCOUNT_DOM_INFO (2.2.4.6), laid out as
/// [`TrustInformation`] (a name and a SID).
///
/// ```text
/// class u16 | pad to 4 | arm
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyInformation {
    /// PolicyPrimaryDomainInformation (3).
    PrimaryDomain(TrustInformation),
    /// PolicyAccountDomainInformation (5).
    AccountDomain(TrustInformation),
    /// PolicyDnsDomainInformation (12).
    DnsDomain(DnsDomainInfo),
    /// PolicyLocalAccountDomainInformation (14).
    LocalAccountDomain(TrustInformation),
}

impl PolicyInformation {
    /// The information class (the union's discriminant).
    pub fn class(&self) -> PolicyInformationClass {
        match self {
            Self::PrimaryDomain(_) => PolicyInformationClass::PRIMARY_DOMAIN,
            Self::AccountDomain(_) => PolicyInformationClass::ACCOUNT_DOMAIN,
            Self::DnsDomain(_) => PolicyInformationClass::DNS_DOMAIN,
            Self::LocalAccountDomain(_) => PolicyInformationClass::LOCAL_ACCOUNT_DOMAIN,
        }
    }
}

/// A placeholder until decoded.
impl Default for PolicyInformation {
    fn default() -> Self {
        Self::PrimaryDomain(TrustInformation::default())
    }
}

impl Ndr for PolicyInformation {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        w.u16(self.class().value());
        match self {
            Self::PrimaryDomain(d) | Self::AccountDomain(d) | Self::LocalAccountDomain(d) => {
                d.encode_scalars(w);
            }
            Self::DnsDomain(d) => d.encode_scalars(w),
        }
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        match self {
            Self::PrimaryDomain(d) | Self::AccountDomain(d) | Self::LocalAccountDomain(d) => {
                d.encode_buffers(w);
            }
            Self::DnsDomain(d) => d.encode_buffers(w),
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        let class = PolicyInformationClass::new(r.u16()?);
        Ok(match class {
            PolicyInformationClass::PRIMARY_DOMAIN => {
                Self::PrimaryDomain(TrustInformation::decode_scalars(r)?)
            }
            PolicyInformationClass::ACCOUNT_DOMAIN => {
                Self::AccountDomain(TrustInformation::decode_scalars(r)?)
            }
            PolicyInformationClass::DNS_DOMAIN => {
                Self::DnsDomain(DnsDomainInfo::decode_scalars(r)?)
            }
            PolicyInformationClass::LOCAL_ACCOUNT_DOMAIN => {
                Self::LocalAccountDomain(TrustInformation::decode_scalars(r)?)
            }
            other => {
                return Err(DecodeError::UnknownArm {
                    what: "LSAPR_POLICY_INFORMATION",
                    level: u32::from(other.value()),
                });
            }
        })
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        match self {
            Self::PrimaryDomain(d) | Self::AccountDomain(d) | Self::LocalAccountDomain(d) => {
                d.decode_buffers(r)
            }
            Self::DnsDomain(d) => d.decode_buffers(r),
        }
    }
}

ndr_params! {
    /// MS-LSAD 3.1.4.4.3/3.1.4.4.4 LsarQueryInformationPolicy (opnum 7) and
    /// LsarQueryInformationPolicy2 (opnum 46), `[in]`.
    pub struct QueryInformationPolicyRequest {
        /// `[in] LSAPR_HANDLE PolicyHandle`.
        pub policy_handle: ContextHandle,
        /// `[in] POLICY_INFORMATION_CLASS InformationClass`.
        pub information_class: PolicyInformationClass,
    }
}

ndr_params! {
    /// MS-LSAD 3.1.4.4.3/3.1.4.4.4, `[out]`.
    pub struct QueryInformationPolicyResponse {
        /// `[out, switch_is(InformationClass)] PLSAPR_POLICY_INFORMATION* PolicyInformation`.
        pub policy_information: Option<PolicyInformation>,
        /// The return value.
        pub status: NtStatus,
    }
}
