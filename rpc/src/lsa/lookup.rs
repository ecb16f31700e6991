//! MS-LSAT: the translations a member's lsarpc pipe answers over a policy handle, as NDR
//! argument lists: LsarLookupSids and LsarLookupSids2 (SIDs to names), LsarLookupNames,
//! LsarLookupNames2 and LsarLookupNames3 (names to SIDs). The handle-less LsarLookupSids3
//! and LsarLookupNames4 are the client's ([`super::LookupSids3Request`],
//! [`super::LookupNames4Request`]).

use super::{
    ReferencedDomainList, SidEnumBuffer, SidNameUse, TranslatedNamesEx, TranslatedSidsEx2,
};
use crate::ndr::{ConformantArray, ContextHandle, UnicodeString};
use crate::ntstatus::NtStatus;
use crate::{ndr_params, ndr_struct};

ndr_struct! {
    /// MS-LSAT 2.2.19 LSAPR_TRANSLATED_NAME.
    ///
    /// ```text
    /// Use u16 | Name (RPC_UNICODE_STRING) | DomainIndex i32
    /// ```
    pub struct TranslatedName {
        /// `Use`.
        pub sid_use: SidNameUse,
        /// `Name`.
        pub name: UnicodeString,
        /// `DomainIndex` (-1: none).
        pub domain_index: i32,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.20 LSAPR_TRANSLATED_NAMES.
    ///
    /// ```text
    /// Entries u32 | Names ref    deferred: max_count u32 | LSAPR_TRANSLATED_NAME..
    /// ```
    pub struct TranslatedNames {
        /// `Entries`.
        pub entries: u32,
        /// `Names` (`[size_is(Entries)]`).
        pub names: Option<ConformantArray<TranslatedName>>,
    }
    size_is { names: entries }
}

ndr_struct! {
    /// MS-LSAT 2.2.14 LSA_TRANSLATED_SID.
    ///
    /// ```text
    /// Use u16 | RelativeId u32 | DomainIndex i32
    /// ```
    pub struct TranslatedSid {
        /// `Use`.
        pub sid_use: SidNameUse,
        /// `RelativeId` (0 when unmapped or a domain).
        pub relative_id: u32,
        /// `DomainIndex` (-1: none).
        pub domain_index: i32,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.15 LSAPR_TRANSLATED_SIDS.
    pub struct TranslatedSids {
        /// `Entries`.
        pub entries: u32,
        /// `Sids` (`[size_is(Entries)]`).
        pub sids: Option<ConformantArray<TranslatedSid>>,
    }
    size_is { sids: entries }
}

ndr_struct! {
    /// MS-LSAT 2.2.23 LSAPR_TRANSLATED_SID_EX.
    ///
    /// ```text
    /// Use u16 | RelativeId u32 | DomainIndex i32 | Flags u32
    /// ```
    pub struct TranslatedSidEx {
        /// `Use`.
        pub sid_use: SidNameUse,
        /// `RelativeId`.
        pub relative_id: u32,
        /// `DomainIndex` (-1: none).
        pub domain_index: i32,
        /// `Flags`.
        pub flags: u32,
    }
}

ndr_struct! {
    /// MS-LSAT 2.2.24 LSAPR_TRANSLATED_SIDS_EX.
    pub struct TranslatedSidsEx {
        /// `Entries`.
        pub entries: u32,
        /// `Sids` (`[size_is(Entries)]`).
        pub sids: Option<ConformantArray<TranslatedSidEx>>,
    }
    size_is { sids: entries }
}

ndr_params! {
    /// MS-LSAT 3.1.4.11 LsarLookupSids (opnum 15), `[in]`.
    pub struct LookupSidsRequest {
        /// `[in] LSAPR_HANDLE PolicyHandle`.
        pub policy_handle: ContextHandle,
        /// `[in] PLSAPR_SID_ENUM_BUFFER SidEnumBuffer`.
        pub sids: SidEnumBuffer,
        /// `[in, out] PLSAPR_TRANSLATED_NAMES TranslatedNames` (empty on input).
        pub translated_names: TranslatedNames,
        /// `[in] LSAP_LOOKUP_LEVEL LookupLevel`.
        pub lookup_level: u16,
        /// `[in, out] unsigned long* MappedCount`.
        pub mapped_count: u32,
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.11 LsarLookupSids (opnum 15), `[out]`.
    pub struct LookupSidsResponse {
        /// `[out] PLSAPR_REFERENCED_DOMAIN_LIST* ReferencedDomains`.
        pub referenced_domains: Option<ReferencedDomainList>,
        /// `TranslatedNames`, one per SID in order.
        pub translated_names: TranslatedNames,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.10 LsarLookupSids2 (opnum 57), `[in]`.
    pub struct LookupSids2Request {
        /// `[in] LSAPR_HANDLE PolicyHandle`.
        pub policy_handle: ContextHandle,
        /// `SidEnumBuffer`.
        pub sids: SidEnumBuffer,
        /// `[in, out] PLSAPR_TRANSLATED_NAMES_EX TranslatedNames` (empty on input).
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
    /// MS-LSAT 3.1.4.10 LsarLookupSids2 (opnum 57), `[out]`.
    pub struct LookupSids2Response {
        /// `ReferencedDomains`.
        pub referenced_domains: Option<ReferencedDomainList>,
        /// `TranslatedNames`.
        pub translated_names: TranslatedNamesEx,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.8 LsarLookupNames (opnum 14), `[in]`.
    pub struct LookupNamesRequest {
        /// `[in] LSAPR_HANDLE PolicyHandle`.
        pub policy_handle: ContextHandle,
        /// `[in, range(0,1000)] unsigned long Count`.
        pub count: u32,
        /// `[in, size_is(Count)] PRPC_UNICODE_STRING Names`.
        pub names: ConformantArray<UnicodeString>,
        /// `[in, out] PLSAPR_TRANSLATED_SIDS TranslatedSids` (empty on input).
        pub translated_sids: TranslatedSids,
        /// `LookupLevel`.
        pub lookup_level: u16,
        /// `MappedCount`.
        pub mapped_count: u32,
    }
    size_is { names: count }
}

ndr_params! {
    /// MS-LSAT 3.1.4.8 LsarLookupNames (opnum 14), `[out]`.
    pub struct LookupNamesResponse {
        /// `ReferencedDomains`.
        pub referenced_domains: Option<ReferencedDomainList>,
        /// `TranslatedSids`, one per name in order.
        pub translated_sids: TranslatedSids,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.7 LsarLookupNames2 (opnum 58), `[in]`.
    pub struct LookupNames2Request {
        /// `PolicyHandle`.
        pub policy_handle: ContextHandle,
        /// `Count`.
        pub count: u32,
        /// `Names`.
        pub names: ConformantArray<UnicodeString>,
        /// `[in, out] PLSAPR_TRANSLATED_SIDS_EX TranslatedSids`.
        pub translated_sids: TranslatedSidsEx,
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
    /// MS-LSAT 3.1.4.7 LsarLookupNames2 (opnum 58), `[out]`.
    pub struct LookupNames2Response {
        /// `ReferencedDomains`.
        pub referenced_domains: Option<ReferencedDomainList>,
        /// `TranslatedSids`.
        pub translated_sids: TranslatedSidsEx,
        /// `MappedCount`.
        pub mapped_count: u32,
        /// The return value.
        pub status: NtStatus,
    }
}

ndr_params! {
    /// MS-LSAT 3.1.4.6 LsarLookupNames3 (opnum 68), `[in]`.
    pub struct LookupNames3Request {
        /// `PolicyHandle`.
        pub policy_handle: ContextHandle,
        /// `Count`.
        pub count: u32,
        /// `Names`.
        pub names: ConformantArray<UnicodeString>,
        /// `[in, out] PLSAPR_TRANSLATED_SIDS_EX2 TranslatedSids`.
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
    /// MS-LSAT 3.1.4.6 LsarLookupNames3 (opnum 68), `[out]`.
    pub struct LookupNames3Response {
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
