//! MS-LSAT: name and SID translation over an Schannel-sealed binding, the
//! two calls that need no policy handle (LsarLookupSids3, LsarLookupNames4:
//! MS-LSAT 3.1.4.7, 3.1.4.8; the DC accepts them only over a secure
//! channel's Netlogon SSP).
//!
//! The server side, a member's lsarpc pipe: `policy` (MS-LSAD policy handles and
//! domain information), `lookup` (the handle-based translations), `translate` (how a
//! member translates) and [`LsaService`].

mod lookup;
mod policy;
mod service;
mod translate;

pub use lookup::*;
pub use policy::*;
pub use service::{Caller, LsaService, Opnum};
pub use translate::{Account, MemberDomains, SidResolver};

use crate::ndr::{ConformantArray, Sid, UnicodeString, WideString};
use crate::ntstatus::NtStatus;
use crate::{ndr_params, ndr_struct};

/// LsarGetUserName's operation number.
pub const GET_USER_NAME: u16 = 45;
/// LsarLookupSids3's operation number.
pub const LOOKUP_SIDS3: u16 = 76;
/// LsarLookupNames4's operation number.
pub const LOOKUP_NAMES4: u16 = 77;

/// MS-LSAT 2.2.16 LSAP_LOOKUP_LEVEL LsapLookupWksta: all domains a member knows.
pub const LOOKUP_WKSTA: u16 = 1;
/// MS-LSAT 3.1.4.7: ClientRevision 2 (LSA_CLIENT_REVISION_2).
pub const CLIENT_REVISION_2: u32 = 2;

open_enum! {
    /// MS-LSAT 2.2.13 SID_NAME_USE (an NDR enum: 16 bits).
    pub struct SidNameUse(u16) {
        /// A user.
        USER = 1 => "user",
        /// A domain group.
        GROUP = 2 => "group",
        /// A domain.
        DOMAIN = 3 => "domain",
        /// An alias (local group).
        ALIAS = 4 => "alias",
        /// A well-known group.
        WELL_KNOWN_GROUP = 5 => "well-known group",
        /// A deleted account.
        DELETED_ACCOUNT = 6 => "deleted account",
        /// Not valid.
        INVALID = 7 => "invalid",
        /// Unknown.
        UNKNOWN = 8 => "unknown",
        /// A computer.
        COMPUTER = 9 => "computer",
    }
}

ndr_enum!(SidNameUse => u16);

ndr_struct! {
    /// MS-LSAT 2.2.17 LSAPR_SID_INFORMATION.
    pub struct SidInformation {
        /// `Sid`.
        pub sid: Option<Sid>,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.18 LSAPR_SID_ENUM_BUFFER.
    pub struct SidEnumBuffer {
        /// `Entries`.
        pub entries: u32,
        /// `SidInfo` (`[size_is(Entries)]`).
        pub sid_info: Option<ConformantArray<SidInformation>>,
    }
    size_is { sid_info: entries }
}

impl SidEnumBuffer {
    /// The buffer naming `sids`.
    pub fn new(sids: &[Sid]) -> Self {
        Self {
            entries: sids.len() as u32,
            sid_info: Some(ConformantArray(
                sids.iter()
                    .map(|s| SidInformation {
                        sid: Some(s.clone()),
                    })
                    .collect(),
            )),
        }
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.11 LSAPR_TRUST_INFORMATION.
    pub struct TrustInformation {
        /// `Name` (the NetBIOS domain name).
        pub name: UnicodeString,
        /// `Sid`.
        pub sid: Option<Sid>,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.12 LSAPR_REFERENCED_DOMAIN_LIST.
    pub struct ReferencedDomainList {
        /// `Entries`.
        pub entries: u32,
        /// `Domains` (`[size_is(Entries)]`).
        pub domains: Option<ConformantArray<TrustInformation>>,
        /// `MaxEntries` (MUST be ignored; it sizes no array).
        pub max_entries: u32,
    }
    size_is { domains: entries }
}

impl ReferencedDomainList {
    /// The domain at `index` (a translation's DomainIndex).
    pub fn domain(&self, index: u32) -> Option<&TrustInformation> {
        self.domains.as_ref()?.0.get(usize::try_from(index).ok()?)
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.19 LSAPR_TRANSLATED_NAME_EX.
    pub struct TranslatedNameEx {
        /// `Use`.
        pub sid_use: SidNameUse,
        /// `Name`.
        pub name: UnicodeString,
        /// `DomainIndex` (-1: none).
        pub domain_index: i32,
        /// `Flags`.
        pub flags: u32,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.20 LSAPR_TRANSLATED_NAMES_EX.
    pub struct TranslatedNamesEx {
        /// `Entries`.
        pub entries: u32,
        /// `Names` (`[size_is(Entries)]`).
        pub names: Option<ConformantArray<TranslatedNameEx>>,
    }
    size_is { names: entries }
}

ndr_params! {
    /// MS-LSAT 3.1.4.8 LsarLookupSids3, `[in]`.
    pub struct LookupSids3Request {
        /// `SidEnumBuffer`.
        pub sids: SidEnumBuffer,
        /// `TranslatedNames` (empty on input).
        pub translated_names: TranslatedNamesEx,
        /// `LookupLevel`.
        pub lookup_level: u16,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// `LookupOptions`.
        pub lookup_options: u32,
        /// `ClientRevision`.
        pub client_revision: u32,
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.8 LsarLookupSids3, `[out]`.
    pub struct LookupSids3Response {
        /// `ReferencedDomains` (`[out] PLSAPR_REFERENCED_DOMAIN_LIST*`).
        pub referenced_domains: Option<ReferencedDomainList>,
        /// `TranslatedNames`.
        pub translated_names: TranslatedNamesEx,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.25 LSAPR_TRANSLATED_SID_EX2.
    pub struct TranslatedSidEx2 {
        /// `Use`.
        pub sid_use: SidNameUse,
        /// `Sid`.
        pub sid: Option<Sid>,
        /// `DomainIndex`.
        pub domain_index: i32,
        /// `Flags`.
        pub flags: u32,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.26 LSAPR_TRANSLATED_SIDS_EX2.
    pub struct TranslatedSidsEx2 {
        /// `Entries`.
        pub entries: u32,
        /// `Sids` (`[size_is(Entries)]`).
        pub sids: Option<ConformantArray<TranslatedSidEx2>>,
    }
    size_is { sids: entries }
}

ndr_params! {
    /// MS-LSAT 3.1.4.7 LsarLookupNames4, `[in]`.
    pub struct LookupNames4Request {
        /// `Count`.
        pub count: u32,
        /// `Names` (`[size_is(Count)] PRPC_UNICODE_STRING`).
        pub names: ConformantArray<UnicodeString>,
        /// `TranslatedSids` (empty on input).
        pub translated_sids: TranslatedSidsEx2,
        /// `LookupLevel`.
        pub lookup_level: u16,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// `LookupOptions`.
        pub lookup_options: u32,
        /// `ClientRevision`.
        pub client_revision: u32,
    }
    size_is { names: count }
}

ndr_params! {
    /// MS-LSAT 3.1.4.7 LsarLookupNames4, `[out]`.
    pub struct LookupNames4Response {
        /// `ReferencedDomains`.
        pub referenced_domains: Option<ReferencedDomainList>,
        /// `TranslatedSids`.
        pub translated_sids: TranslatedSidsEx2,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.4.4 LsarGetUserName, `[in]`: who the binding authenticated as.
    pub struct GetUserNameRequest {
        /// `[in, unique, string] wchar_t* SystemName`.
        pub system_name: Option<WideString>,
        /// `[in, out] PRPC_UNICODE_STRING* UserName` (null on input).
        pub user_name: Option<UnicodeString>,
        /// `[in, out, unique] PRPC_UNICODE_STRING* DomainName` (set, pointing to null,
        /// to ask for the domain too).
        pub domain_name: Option<Option<UnicodeString>>,
    }
}

impl GetUserNameRequest {
    /// Asks for the user and the domain.
    pub fn with_domain() -> Self {
        Self {
            system_name: None,
            user_name: None,
            domain_name: Some(None),
        }
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.4.4 LsarGetUserName, `[out]`.
    pub struct GetUserNameResponse {
        /// `UserName`.
        pub user_name: Option<UnicodeString>,
        /// `DomainName`.
        pub domain_name: Option<Option<UnicodeString>>,
        /// The return value.
        pub status: NtStatus,
    }
}

/// A SID translated to `DOMAIN\name` (or a name to a SID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The SID.
    pub sid: Sid,
    /// The account's domain (NetBIOS), empty for well-known SIDs without one.
    pub domain: String,
    /// The account name.
    pub name: String,
    /// What the SID names.
    pub sid_use: SidNameUse,
}

impl Translation {
    /// `DOMAIN\name`, or `name` without a domain.
    pub fn qualified(&self) -> String {
        if self.domain.is_empty() {
            self.name.clone()
        } else {
            format!("{}\\{}", self.domain, self.name)
        }
    }
}

impl LookupSids3Request {
    /// A lookup of `sids` at the member's level.
    pub fn new(sids: &[Sid]) -> Self {
        Self {
            sids: SidEnumBuffer::new(sids),
            // An empty array, not a null pointer (what Windows and Samba send).
            translated_names: TranslatedNamesEx {
                entries: 0,
                names: Some(ConformantArray::default()),
            },
            lookup_level: LOOKUP_WKSTA,
            mapped_count: 0,
            lookup_options: 0,
            client_revision: CLIENT_REVISION_2,
        }
    }
}

impl LookupSids3Response {
    /// The translations of `sids` (the request's, in order); `None` where the
    /// DC mapped nothing.
    pub fn translations(&self, sids: &[Sid]) -> Vec<Option<Translation>> {
        let names = self
            .translated_names
            .names
            .as_ref()
            .map_or(&[][..], |n| &n.0);
        sids.iter()
            .enumerate()
            .map(|(i, sid)| {
                let n = names.get(i)?;
                if matches!(n.sid_use, SidNameUse::INVALID | SidNameUse::UNKNOWN) {
                    return None;
                }
                let domain = domain_name(self.referenced_domains.as_ref(), n.domain_index);
                Some(Translation {
                    sid: sid.clone(),
                    domain,
                    name: n.name.as_str().to_owned(),
                    sid_use: n.sid_use,
                })
            })
            .collect()
    }
}

impl LookupNames4Request {
    /// A lookup of `names` (`DOMAIN\name` or `name`) at the member's level.
    pub fn new(names: &[&str]) -> Self {
        Self {
            count: names.len() as u32,
            names: ConformantArray(names.iter().map(|n| UnicodeString::new(*n)).collect()),
            translated_sids: TranslatedSidsEx2 {
                entries: 0,
                sids: Some(ConformantArray::default()),
            },
            lookup_level: LOOKUP_WKSTA,
            mapped_count: 0,
            lookup_options: 0,
            client_revision: CLIENT_REVISION_2,
        }
    }
}

impl LookupNames4Response {
    /// The translations of the request's `names`, in order; `None` where nothing
    /// mapped. The name comes back qualified with its domain as the DC knows it.
    pub fn translations(&self, names: &[&str]) -> Vec<Option<Translation>> {
        let sids = self.translated_sids.sids.as_ref().map_or(&[][..], |s| &s.0);
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let t = sids.get(i)?;
                let domain = domain_name(self.referenced_domains.as_ref(), t.domain_index);
                // The account part of `DOMAIN\name` (or the name as given).
                let account = name.rsplit_once('\\').map_or(*name, |(_, n)| n);
                Some(Translation {
                    sid: t.sid.clone()?,
                    domain,
                    name: account.to_owned(),
                    sid_use: t.sid_use,
                })
            })
            .collect()
    }
}

/// The NetBIOS name of the referenced domain at `index` (-1 or out of range: none).
fn domain_name(domains: Option<&ReferencedDomainList>, index: i32) -> String {
    u32::try_from(index)
        .ok()
        .and_then(|d| domains?.domain(d))
        .map(|d| d.name.as_str().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
