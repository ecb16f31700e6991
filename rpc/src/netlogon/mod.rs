//! MS-NRPC: the NETLOGON interface's wire types and the operations Adjoin
//! calls, as NDR argument lists ([`crate::ndr_params!`]), plus the secure
//! channel's [`credential`] arithmetic.
//!
//! The secure channel itself (challenge, authenticate, Schannel binding,
//! re-establishment) is driven by a transport; these types never do I/O.

pub mod channel;
pub mod credential;
pub mod pool;
mod validation;

use bitflags::bitflags;

use crate::ndr::{Ndr, NdrReader, NdrWriter, NetlogonString, UnicodeString, WideString};
use crate::ntstatus::NtStatus;
use crate::{error::DecodeError, ndr_params, ndr_struct};

pub use validation::{
    GroupAttributes, GroupMembership, SidAndAttributes, UserFlags, ValidationSamInfo2,
};

open_enum! {
    /// NETLOGON operation numbers (MS-NRPC 3.5.4).
    pub struct Opnum(u16) {
        /// NetrServerReqChallenge.
        SERVER_REQ_CHALLENGE = 4 => "NetrServerReqChallenge",
        /// NetrLogonGetCapabilities.
        LOGON_GET_CAPABILITIES = 21 => "NetrLogonGetCapabilities",
        /// NetrServerAuthenticate3.
        SERVER_AUTHENTICATE3 = 26 => "NetrServerAuthenticate3",
        /// NetrServerPasswordSet2.
        SERVER_PASSWORD_SET2 = 30 => "NetrServerPasswordSet2",
        /// DsrGetDcNameEx2.
        DSR_GET_DC_NAME_EX2 = 34 => "DsrGetDcNameEx2",
        /// NetrLogonSamLogonEx.
        LOGON_SAM_LOGON_EX = 39 => "NetrLogonSamLogonEx",
    }
}

bitflags! {
    /// MS-NRPC 3.1.4.2 NegotiateFlags.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct NegotiateFlags: u32 {
        /// A: account lockout.
        const ACCOUNT_LOCKOUT = 0x0000_0001;
        /// B: persistent Samba replication.
        const PERSISTENT_SAMREPL = 0x0000_0002;
        /// C: RC4 (not used with AES).
        const ARCFOUR = 0x0000_0004;
        /// D: promotion count.
        const PROMOTION_COUNT = 0x0000_0008;
        /// E: change log BDC.
        const CHANGELOG_BDC = 0x0000_0010;
        /// F: full sync replication.
        const FULL_SYNC_REPL = 0x0000_0020;
        /// G: multiple SIDs.
        const MULTIPLE_SIDS = 0x0000_0040;
        /// H: redo.
        const REDO = 0x0000_0080;
        /// I: password change refusal.
        const PASSWORD_CHANGE_REFUSAL = 0x0000_0100;
        /// J: send password info PDC.
        const SEND_PASSWORD_INFO_PDC = 0x0000_0200;
        /// K: generic pass-through.
        const GENERIC_PASSTHROUGH = 0x0000_0400;
        /// L: concurrent RPC.
        const CONCURRENT_RPC = 0x0000_0800;
        /// M: avoid account database replication.
        const AVOID_ACCOUNT_DB_REPL = 0x0000_1000;
        /// N: avoid security authority database replication.
        const AVOID_SECURITYAUTH_DB_REPL = 0x0000_2000;
        /// O: strong keys.
        const STRONG_KEYS = 0x0000_4000;
        /// P: transitive trusts.
        const TRANSITIVE_TRUSTS = 0x0000_8000;
        /// Q: DNS domain trusts.
        const DNS_DOMAIN_TRUSTS = 0x0001_0000;
        /// R: NetrServerPasswordSet2.
        const PASSWORD_SET2 = 0x0002_0000;
        /// S: NetrLogonGetDomainInfo.
        const GETDOMAININFO = 0x0004_0000;
        /// T: cross-forest trusts.
        const CROSS_FOREST_TRUSTS = 0x0008_0000;
        /// U: neutralize NT4 emulation.
        const NEUTRALIZE_NT4_EMULATION = 0x0010_0000;
        /// V: RODC pass-through.
        const RODC_PASSTHROUGH = 0x0020_0000;
        /// W: AES-128 credentials and Schannel (MS-NRPC 3.1.4.4.1).
        const SUPPORTS_AES = 0x0100_0000;
        /// X: authenticated RPC via lsass.
        const AUTHENTICATED_RPC_LSASS = 0x2000_0000;
        /// Y: Schannel-authenticated RPC (required for NetrLogonSamLogonEx).
        const AUTHENTICATED_RPC = 0x4000_0000;
    }
}

impl Ndr for NegotiateFlags {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.u32(self.bits());
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.u32().map(Self::from_bits_retain)
    }
}

impl NegotiateFlags {
    /// What Adjoin proposes: everything a member's secure channel uses
    /// (the flags Windows members send), AES and Schannel included.
    pub const PROPOSED: Self = Self::from_bits_retain(0x610f_ffff | 0x0100_0000 | 0x4000_0000);

    /// What the DC must grant: AES credentials, strong keys and Schannel.
    pub const REQUIRED: Self = Self::SUPPORTS_AES
        .union(Self::STRONG_KEYS)
        .union(Self::AUTHENTICATED_RPC);
}

open_enum! {
    /// MS-NRPC 2.2.1.3.13 NETLOGON_SECURE_CHANNEL_TYPE (an NDR enum: 16 bits).
    pub struct SecureChannelType(u16) {
        /// A domain member workstation or server.
        WORKSTATION = 2 => "WorkstationSecureChannel",
        /// A backup domain controller.
        SERVER = 6 => "ServerSecureChannel",
        /// A read-only DC.
        CDC = 7 => "CdcServerSecureChannel",
    }
}

ndr_enum!(SecureChannelType => u16);

ndr_struct! {
    /// MS-NRPC 2.2.1.3.4 NETLOGON_CREDENTIAL: 8 opaque bytes.
    pub struct Credential {
        /// The credential.
        pub data: [u8; 8],
    }
}

ndr_struct! {
    /// MS-NRPC 2.2.1.1.5 NETLOGON_AUTHENTICATOR.
    pub struct Authenticator {
        /// The credential computed from the stored credential + timestamp.
        pub credential: Credential,
        /// Seconds since 1970.
        pub timestamp: u32,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.4.1 NetrServerReqChallenge, `[in]`.
    pub struct ServerReqChallengeRequest {
        /// `[in, unique, string] LOGONSRV_HANDLE PrimaryName`.
        pub primary_name: Option<WideString>,
        /// `[in, string] wchar_t* ComputerName`: this host's NetBIOS name.
        pub computer_name: WideString,
        /// `[in] PNETLOGON_CREDENTIAL ClientChallenge`.
        pub client_challenge: Credential,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.4.1 NetrServerReqChallenge, `[out]`.
    pub struct ServerReqChallengeResponse {
        /// `[out] PNETLOGON_CREDENTIAL ServerChallenge`.
        pub server_challenge: Credential,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.4.2 NetrServerAuthenticate3, `[in]`.
    pub struct ServerAuthenticate3Request {
        /// `[in, unique, string] LOGONSRV_HANDLE PrimaryName`.
        pub primary_name: Option<WideString>,
        /// `[in, string] wchar_t* AccountName`: the machine account (`NAME$`).
        pub account_name: WideString,
        /// `[in] NETLOGON_SECURE_CHANNEL_TYPE SecureChannelType`.
        pub secure_channel_type: SecureChannelType,
        /// `[in, string] wchar_t* ComputerName`.
        pub computer_name: WideString,
        /// `[in] PNETLOGON_CREDENTIAL ClientCredential`.
        pub client_credential: Credential,
        /// `[in, out] ULONG* NegotiateFlags`.
        pub negotiate_flags: NegotiateFlags,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.4.2 NetrServerAuthenticate3, `[out]`.
    pub struct ServerAuthenticate3Response {
        /// `[out] PNETLOGON_CREDENTIAL ServerCredential`.
        pub server_credential: Credential,
        /// `[in, out] ULONG* NegotiateFlags`: what the DC granted.
        pub negotiate_flags: NegotiateFlags,
        /// `[out] ULONG* AccountRid`.
        pub account_rid: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_struct! {
    /// MS-NRPC 2.2.1.4.15 NETLOGON_LOGON_IDENTITY_INFO.
    pub struct LogonIdentityInfo {
        /// `LogonDomainName`.
        pub logon_domain_name: UnicodeString,
        /// `ParameterControl` (MSV1_0 flags).
        pub parameter_control: u32,
        /// `Reserved` (OLD_LARGE_INTEGER, low part).
        pub reserved_low: u32,
        /// `Reserved` (high part).
        pub reserved_high: u32,
        /// `UserName`.
        pub user_name: UnicodeString,
        /// `Workstation`.
        pub workstation: UnicodeString,
    }
}

/// MSV1_0 ParameterControl: allow a logon with a workstation account.
pub const MSV1_0_ALLOW_WORKSTATION_TRUST_ACCOUNT: u32 = 0x0000_0800;
/// MSV1_0 ParameterControl: allow a logon with a server trust account.
pub const MSV1_0_ALLOW_SERVER_TRUST_ACCOUNT: u32 = 0x0000_0020;

ndr_struct! {
    /// MS-NRPC 2.2.1.4.12 NETLOGON_NETWORK_INFO: a challenge/response logon.
    pub struct NetworkInfo {
        /// `Identity`.
        pub identity: LogonIdentityInfo,
        /// `LmChallenge`: the server challenge the responses answer.
        pub lm_challenge: [u8; 8],
        /// `NtChallengeResponse`.
        pub nt_response: NetlogonString,
        /// `LmChallengeResponse`.
        pub lm_response: NetlogonString,
    }
}

/// MS-NRPC 2.2.1.4.6 NETLOGON_LEVEL with the arm Adjoin sends, selected
/// by NETLOGON_LOGON_INFO_CLASS (an NDR enum, 16 bits).
///
/// ```text
/// switch u16 | pad | referent u32      deferred: the arm's structure
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogonLevel {
    /// NetlogonNetworkInformation (2).
    Network(Box<NetworkInfo>),
    /// NetlogonNetworkTransitiveInformation (6).
    NetworkTransitive(Box<NetworkInfo>),
}

impl LogonLevel {
    /// The NETLOGON_LOGON_INFO_CLASS value.
    pub fn class(&self) -> u16 {
        match self {
            Self::Network(_) => 2,
            Self::NetworkTransitive(_) => 6,
        }
    }

    fn info(&self) -> &NetworkInfo {
        match self {
            Self::Network(i) | Self::NetworkTransitive(i) => i,
        }
    }
}

impl Default for LogonLevel {
    fn default() -> Self {
        Self::Network(Box::default())
    }
}

impl Ndr for LogonLevel {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        // NDR20 aligns a non-encapsulated union's discriminant to its own
        // size, not to the union's (what pidl and MIDL both emit).
        w.u16(self.class());
        w.referent(true);
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        self.info().encode_ndr(w);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let level = r.u16()?;
        if !r.referent()? {
            return Err(DecodeError::Invalid {
                what: "NETLOGON_LEVEL",
                why: "null logon information",
            });
        }
        match level {
            2 => Ok(Self::Network(Box::default())),
            6 => Ok(Self::NetworkTransitive(Box::default())),
            level => Err(DecodeError::UnknownArm {
                what: "NETLOGON_LEVEL",
                level: level.into(),
            }),
        }
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        let info = Box::new(NetworkInfo::decode_ndr(r)?);
        match self {
            Self::Network(i) | Self::NetworkTransitive(i) => *i = info,
        }
        Ok(())
    }
}

/// MS-NRPC 2.2.1.4.14 NETLOGON_VALIDATION with the arms Adjoin asks for.
///
/// ```text
/// switch u16 | pad | referent u32      deferred: the arm's structure
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Validation {
    /// A null arm (as sent with an error status).
    #[default]
    None,
    /// NetlogonValidationSamInfo2 (3).
    SamInfo2(Box<ValidationSamInfo2>),
}

/// The validation level Adjoin requests: SAM_INFO2 carries extra SIDs.
pub const VALIDATION_SAM_INFO2: u16 = 3;

impl Ndr for Validation {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.u16(VALIDATION_SAM_INFO2);
        w.referent(matches!(self, Self::SamInfo2(_)));
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        if let Self::SamInfo2(info) = self {
            info.encode_ndr(w);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let level = r.u16()?;
        let present = r.referent()?;
        match (level, present) {
            (_, false) => Ok(Self::None),
            (VALIDATION_SAM_INFO2, true) => Ok(Self::SamInfo2(Box::default())),
            (level, true) => Err(DecodeError::UnknownArm {
                what: "NETLOGON_VALIDATION",
                level: level.into(),
            }),
        }
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        if let Self::SamInfo2(info) = self {
            **info = ValidationSamInfo2::decode_ndr(r)?;
        }
        Ok(())
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.5.1 NetrLogonSamLogonEx, `[in]`.
    pub struct LogonSamLogonExRequest {
        /// `[in, unique, string] LOGONSRV_HANDLE LogonServer`.
        pub logon_server: Option<WideString>,
        /// `[in, unique, string] wchar_t* ComputerName`.
        pub computer_name: Option<WideString>,
        /// `[in] NETLOGON_LOGON_INFO_CLASS LogonLevel`.
        pub logon_level: u16,
        /// `[in, switch_is(LogonLevel)] PNETLOGON_LEVEL LogonInformation`.
        pub logon_information: LogonLevel,
        /// `[in] NETLOGON_VALIDATION_INFO_CLASS ValidationLevel`.
        pub validation_level: u16,
        /// `[in, out] ULONG* ExtraFlags`.
        pub extra_flags: u32,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.5.1 NetrLogonSamLogonEx, `[out]`.
    pub struct LogonSamLogonExResponse {
        /// `[out, switch_is(ValidationLevel)] PNETLOGON_VALIDATION ValidationInformation`.
        pub validation: Validation,
        /// `[out] UCHAR* Authoritative`.
        pub authoritative: u8,
        /// `[in, out] ULONG* ExtraFlags`.
        pub extra_flags: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

/// MS-NRPC 2.2.1.3.7 NL_TRUST_PASSWORD: 512 bytes of buffer (the
/// password at its end) and its length, encrypted as a whole.
///
/// ```text
/// Buffer WCHAR[256] | Length u32
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TrustPassword(pub zeroize::Zeroizing<[u8; 516]>);

impl core::fmt::Debug for TrustPassword {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TrustPassword(<redacted>)")
    }
}

impl Default for TrustPassword {
    fn default() -> Self {
        Self(zeroize::Zeroizing::new([0; 516]))
    }
}

impl Ndr for TrustPassword {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        // WCHAR[256] is 2-aligned, Length 4-aligned right after 512 bytes.
        w.align(4);
        w.bytes(&self.0[..]);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        let mut out = Self::default();
        out.0.copy_from_slice(r.bytes(516)?);
        Ok(out)
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.4.5 NetrServerPasswordSet2, `[in]`.
    pub struct ServerPasswordSet2Request {
        /// `[in, unique, string] LOGONSRV_HANDLE PrimaryName`.
        pub primary_name: Option<WideString>,
        /// `[in, string] wchar_t* AccountName`.
        pub account_name: WideString,
        /// `[in] NETLOGON_SECURE_CHANNEL_TYPE SecureChannelType`.
        pub secure_channel_type: SecureChannelType,
        /// `[in, string] wchar_t* ComputerName`.
        pub computer_name: WideString,
        /// `[in] PNETLOGON_AUTHENTICATOR Authenticator`.
        pub authenticator: Authenticator,
        /// `[in] PNL_TRUST_PASSWORD ClearNewPassword` (encrypted with the
        /// session key).
        pub clear_new_password: TrustPassword,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.4.5 NetrServerPasswordSet2, `[out]`.
    pub struct ServerPasswordSet2Response {
        /// `[out] PNETLOGON_AUTHENTICATOR ReturnAuthenticator`.
        pub return_authenticator: Authenticator,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.3.1 DsrGetDcNameEx2, `[in]`.
    pub struct DsrGetDcNameEx2Request {
        /// `[in, unique, string] LOGONSRV_HANDLE ComputerName`: the server asked.
        pub computer_name: Option<WideString>,
        /// `[in, unique, string] wchar_t* AccountName`.
        pub account_name: Option<WideString>,
        /// `[in] ULONG AllowableAccountControlBits`.
        pub allowable_account_control_bits: u32,
        /// `[in, unique, string] wchar_t* DomainName`.
        pub domain_name: Option<WideString>,
        /// `[in, unique] GUID* DomainGuid`.
        pub domain_guid: Option<crate::uuid::Uuid>,
        /// `[in, unique, string] wchar_t* SiteName`.
        pub site_name: Option<WideString>,
        /// `[in] ULONG Flags` (DS_* flags, MS-NRPC 3.5.4.3.1).
        pub flags: u32,
    }
}

/// DsrGetDcNameEx2 Flags: DS_RETURN_DNS_NAME (names in DNS form).
pub const DS_RETURN_DNS_NAME: u32 = 0x4000_0000;
/// DsrGetDcNameEx2 Flags: DS_DIRECTORY_SERVICE_REQUIRED.
pub const DS_DIRECTORY_SERVICE_REQUIRED: u32 = 0x0000_0010;

ndr_struct! {
    /// MS-NRPC 2.2.1.2.1 DOMAIN_CONTROLLER_INFOW.
    pub struct DomainControllerInfo {
        /// `DomainControllerName` (`\\name`).
        pub domain_controller_name: Option<WideString>,
        /// `DomainControllerAddress` (`\\address`).
        pub domain_controller_address: Option<WideString>,
        /// `DomainControllerAddressType` (1: IP, 2: NetBIOS).
        pub domain_controller_address_type: u32,
        /// `DomainGuid`.
        pub domain_guid: crate::uuid::Uuid,
        /// `DomainName`.
        pub domain_name: Option<WideString>,
        /// `DnsForestName`.
        pub dns_forest_name: Option<WideString>,
        /// `Flags` (DS_*_FLAG).
        pub flags: u32,
        /// `DcSiteName`.
        pub dc_site_name: Option<WideString>,
        /// `ClientSiteName`.
        pub client_site_name: Option<WideString>,
    }
}

ndr_params! {
    /// MS-NRPC 3.5.4.3.1 DsrGetDcNameEx2, `[out]`.
    pub struct DsrGetDcNameEx2Response {
        /// `[out] PDOMAIN_CONTROLLER_INFOW* DomainControllerInfo`.
        pub info: Option<DomainControllerInfo>,
        /// The return value, a Win32 error code (0: success).
        pub status: u32,
    }
}

#[cfg(test)]
mod tests;
