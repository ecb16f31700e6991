//! MS-SRVS shares: SHARE_INFO levels 0, 1, 2, 501, 502 and 1005, their containers, and
//! the share calls (NetrShareEnum, NetrShareEnumSticky, NetrShareGetInfo,
//! NetrShareCheck) as NDR argument lists.

use super::{Container, MAX_PREFERRED_LENGTH, WinError, enum_struct, pointer_union};
use crate::ndr::{ConformantArray, WideString};
use crate::{ndr_params, ndr_struct};

ndr_struct! {
    /// MS-SRVS 2.2.4.22 SHARE_INFO_0.
    ///
    /// ```text
    /// shi0_netname referent u32
    /// ```
    pub struct ShareInfo0 {
        /// `shi0_netname`.
        pub netname: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.23 SHARE_INFO_1.
    ///
    /// ```text
    /// shi1_netname referent u32 | shi1_type u32 | shi1_remark referent u32
    /// ```
    pub struct ShareInfo1 {
        /// `shi1_netname`.
        pub netname: Option<WideString>,
        /// `shi1_type` (`STYPE_*`).
        pub share_type: u32,
        /// `shi1_remark`.
        pub remark: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.24 SHARE_INFO_2.
    ///
    /// ```text
    /// netname ref | type u32 | remark ref | permissions u32 | max_uses u32
    /// | current_uses u32 | path ref | passwd ref
    /// ```
    pub struct ShareInfo2 {
        /// `shi2_netname`.
        pub netname: Option<WideString>,
        /// `shi2_type`.
        pub share_type: u32,
        /// `shi2_remark`.
        pub remark: Option<WideString>,
        /// `shi2_permissions` (share-level security only; 0).
        pub permissions: u32,
        /// `shi2_max_uses` (0xFFFFFFFF: unlimited).
        pub max_uses: u32,
        /// `shi2_current_uses`.
        pub current_uses: u32,
        /// `shi2_path` (a Windows path, `C:\...`).
        pub path: Option<WideString>,
        /// `shi2_passwd` (share-level security only; null).
        pub passwd: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.25 SHARE_INFO_501.
    ///
    /// ```text
    /// shi501_netname ref | shi501_type u32 | shi501_remark ref | shi501_flags u32
    /// ```
    pub struct ShareInfo501 {
        /// `shi501_netname`.
        pub netname: Option<WideString>,
        /// `shi501_type`.
        pub share_type: u32,
        /// `shi501_remark`.
        pub remark: Option<WideString>,
        /// `shi501_flags` (client-side caching policy, 2.2.2.5: 0 is manual caching).
        pub flags: u32,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.26 SHARE_INFO_502_I: SHARE_INFO_2 and a self-relative security
    /// descriptor of `shi502_reserved` bytes (Samba's `sec_desc_buf`).
    ///
    /// ```text
    /// SHARE_INFO_2's fields | shi502_reserved u32 | shi502_security_descriptor ref
    /// deferred: .. | max_count u32 | bytes
    /// ```
    pub struct ShareInfo502 {
        /// The SHARE_INFO_2 fields (`shi502_netname` .. `shi502_passwd`): an embedded
        /// structure marshals exactly as its fields inline, its referents deferred to the
        /// end of the outer structure.
        pub info: ShareInfo2,
        /// `shi502_reserved` (the security descriptor's length).
        pub reserved: u32,
        /// `shi502_security_descriptor` (`[size_is(shi502_reserved)]`; null: none).
        pub security_descriptor: Option<ConformantArray<u8>>,
    }
    size_is { security_descriptor: reserved }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.29 SHARE_INFO_1005.
    ///
    /// ```text
    /// shi1005_flags u32
    /// ```
    pub struct ShareInfo1005 {
        /// `shi1005_flags` (SHI1005_FLAGS_*: DFS, caching; 0).
        pub flags: u32,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3.5 SHARE_ENUM_UNION: the container of the level asked for.
    pub enum ShareEnumUnion ("SHARE_ENUM_UNION") {
        /// Level 0: names.
        Level0(Container<ShareInfo0>) = 0,
        /// Level 1: names, types, remarks.
        Level1(Container<ShareInfo1>) = 1,
        /// Level 2: and paths.
        Level2(Container<ShareInfo2>) = 2,
        /// Level 501: level 1 and the caching flags.
        Level501(Container<ShareInfo501>) = 501,
        /// Level 502: level 2 and the security descriptor.
        Level502(Container<ShareInfo502>) = 502,
    }
    unsupported { 503 }
}

enum_struct! {
    /// MS-SRVS 2.2.4.38 SHARE_ENUM_STRUCT: `Level` and the union it selects.
    pub struct ShareEnumStruct ("SHARE_ENUM_STRUCT") {
        /// `ShareInfo` (`[switch_is(Level)]`; its level is `Level`).
        pub share_info: ShareEnumUnion,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3.6 SHARE_INFO: one share at the level asked for.
    pub enum ShareInfo ("SHARE_INFO") {
        /// Level 0.
        Level0(ShareInfo0) = 0,
        /// Level 1.
        Level1(ShareInfo1) = 1,
        /// Level 2.
        Level2(ShareInfo2) = 2,
        /// Level 501.
        Level501(ShareInfo501) = 501,
        /// Level 502.
        Level502(ShareInfo502) = 502,
        /// Level 1005.
        Level1005(ShareInfo1005) = 1005,
    }
    unsupported { 503, 1004, 1006, 1501 }
}

ndr_params! {
    /// MS-SRVS 3.1.4.8 NetrShareEnum, `[in]`.
    pub struct NetrShareEnumRequest {
        /// `[in, string, unique] SRVSVC_HANDLE ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, out] LPSHARE_ENUM_STRUCT InfoStruct` (the level, an empty container).
        pub info_struct: ShareEnumStruct,
        /// `[in] DWORD PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
        /// `[in, out, unique] DWORD* ResumeHandle`.
        pub resume_handle: Option<u32>,
    }
}

impl NetrShareEnumRequest {
    /// A first call for every share at `level` (an empty container of that level).
    pub fn new(server_name: Option<&str>, level: u32) -> Self {
        Self {
            server_name: server_name.map(WideString::new),
            info_struct: ShareEnumStruct {
                share_info: ShareEnumUnion::empty(level),
            },
            prefered_maximum_length: MAX_PREFERRED_LENGTH,
            resume_handle: Some(0),
        }
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.8 NetrShareEnum, `[out]`.
    pub struct NetrShareEnumResponse {
        /// `InfoStruct`: the level and its container of shares.
        pub info_struct: ShareEnumStruct,
        /// `[out] DWORD* TotalEntries`.
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.10 NetrShareGetInfo, `[in]`.
    pub struct NetrShareGetInfoRequest {
        /// `[in, string, unique] SRVSVC_HANDLE ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, string] WCHAR* NetName`.
        pub net_name: WideString,
        /// `[in] DWORD Level`.
        pub level: u32,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.10 NetrShareGetInfo, `[out]`.
    pub struct NetrShareGetInfoResponse {
        /// `[out, switch_is(Level)] LPSHARE_INFO InfoStruct`.
        pub info_struct: ShareInfo,
        /// The return value.
        pub status: WinError,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrShareCheck (opnum 20), `[in]`.
    pub struct NetrShareCheckRequest {
        /// `[in, string, unique] SRVSVC_HANDLE ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, string] WCHAR* Device`: a local path (`C:\srv\data`).
        pub device: WideString,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrShareCheck (opnum 20), `[out]`.
    pub struct NetrShareCheckResponse {
        /// `[out] DWORD* Type`: the sharing share's `STYPE_*`.
        pub share_type: u32,
        /// The return value (NERR_DeviceNotShared when no share shares the device).
        pub status: WinError,
    }
}
