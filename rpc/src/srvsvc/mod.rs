//! MS-SRVS: the Server Service Remote Protocol calls a file server answers for
//! `smbclient -L`, `net view` and Windows Explorer (NetrShareEnum,
//! NetrShareGetInfo, NetrServerGetInfo), as NDR argument lists
//! ([`crate::ndr_params!`]), and [`SrvsvcService`], the server side that answers them
//! from a list of shares.
//!
//! Samba's IDL (`librpc/idl/srvsvc.idl`) names NetrShareEnum `srvsvc_NetShareEnumAll`
//! and gives its unions an empty `[default]` arm, so a level that no arm names carries
//! only its discriminant (our [`ShareInfo::Other`] and siblings); a level the
//! specification defines but this crate does not decode is answered with its
//! discriminant and a null pointer (`Unsupported`), which both Samba and Windows
//! clients unmarshal.

mod service;

use crate::ndr::{ConformantArray, Ndr, NdrReader, NdrWriter, WideString, check_size_is};
use crate::{error::DecodeError, ndr_params, ndr_struct};

pub(crate) use service::decode;
pub use service::{Share, SrvsvcService};

open_enum! {
    /// SRVSVC operation numbers (MS-SRVS 3.1.4, "Methods in RPC Opnum Order") this
    /// crate answers.
    pub struct Opnum(u16) {
        /// NetrShareEnum (Samba: NetShareEnumAll).
        NETR_SHARE_ENUM = 15 => "NetrShareEnum",
        /// NetrShareGetInfo.
        NETR_SHARE_GET_INFO = 16 => "NetrShareGetInfo",
        /// NetrServerGetInfo.
        NETR_SERVER_GET_INFO = 21 => "NetrServerGetInfo",
    }
}

open_enum! {
    /// MS-ERREF 2.2 Win32 error codes: the `NET_API_STATUS` (Samba's `WERROR`) that
    /// MS-SRVS and MS-WKST methods return.
    pub struct WinError(u32) {
        /// The call succeeded.
        SUCCESS = 0 => "ERROR_SUCCESS",
        /// The caller may not read this information.
        ACCESS_DENIED = 5 => "ERROR_ACCESS_DENIED",
        /// A parameter is not valid.
        INVALID_PARAMETER = 87 => "ERROR_INVALID_PARAMETER",
        /// The information level is not supported.
        INVALID_LEVEL = 124 => "ERROR_INVALID_LEVEL",
        /// More entries are available.
        MORE_DATA = 234 => "ERROR_MORE_DATA",
        /// No share has this name.
        NET_NAME_NOT_FOUND = 2310 => "NERR_NetNameNotFound",
    }
}

ndr_enum!(WinError => u32);

/// MS-SRVS 2.2.2.4 STYPE_DISKTREE: a disk drive.
pub const STYPE_DISKTREE: u32 = 0x0000_0000;
/// MS-SRVS 2.2.2.4 STYPE_PRINTQ: a print queue.
pub const STYPE_PRINTQ: u32 = 0x0000_0001;
/// MS-SRVS 2.2.2.4 STYPE_DEVICE: a communication device.
pub const STYPE_DEVICE: u32 = 0x0000_0002;
/// MS-SRVS 2.2.2.4 STYPE_IPC: an interprocess communication share (IPC$).
pub const STYPE_IPC: u32 = 0x0000_0003;
/// MS-SRVS 2.2.2.4 STYPE_TEMPORARY: a temporary share.
pub const STYPE_TEMPORARY: u32 = 0x4000_0000;
/// MS-SRVS 2.2.2.4 STYPE_SPECIAL: a special (administrative, `$`) share.
pub const STYPE_SPECIAL: u32 = 0x8000_0000;

/// MS-SRVS 2.2.2.6 PLATFORM_ID_NT: the platform id of Windows NT and later.
pub const PLATFORM_ID_NT: u32 = 500;
/// MS-SRVS 3.1.4.8: PreferedMaximumLength asking for every entry.
pub const MAX_PREFERRED_LENGTH: u32 = 0xFFFF_FFFF;

/// MS-SRVS 2.2.2.7 SV_TYPE_WORKSTATION: a workstation.
pub const SV_TYPE_WORKSTATION: u32 = 0x0000_0001;
/// MS-SRVS 2.2.2.7 SV_TYPE_SERVER: a server.
pub const SV_TYPE_SERVER: u32 = 0x0000_0002;
/// MS-SRVS 2.2.2.7 SV_TYPE_DOMAIN_MEMBER: a member of a domain.
pub const SV_TYPE_DOMAIN_MEMBER: u32 = 0x0000_0100;
/// MS-SRVS 2.2.2.7 SV_TYPE_NT: a Windows NT (or later) machine.
pub const SV_TYPE_NT: u32 = 0x0000_1000;
/// MS-SRVS 2.2.2.7 SV_TYPE_SERVER_NT: a Windows server that is not a DC.
pub const SV_TYPE_SERVER_NT: u32 = 0x0000_8000;

/// Declares a non-encapsulated union whose arms are unique pointers
/// (`[switch_type(DWORD)] union { [case(N)] T* ...; }`), as the `_INFO` unions of
/// MS-SRVS and MS-WKST are:
///
/// ```text
/// switch u32 | arm: referent u32 (or nothing for the [default] arm)    deferred: *arm
/// ```
///
/// Every arm is `Option<T>` (a null pointer is what an error reply carries);
/// `unsupported { .. }` lists the levels the specification defines whose arms are not
/// decoded here (a null pointer only), and `Other` is any other level (Samba's empty
/// `[default]` arm).
macro_rules! pointer_union {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $(
                $(#[$vmeta:meta])*
                $variant:ident($ty:ty) = $level:literal,
            )+
        }
        unsupported { $($unsupported:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant(Option<$ty>),
            )+
            /// A level the specification defines whose arm is not decoded here: a
            /// null pointer.
            Unsupported(u32),
            /// A level no arm names (the IDL's empty `[default]` arm): nothing
            /// follows the discriminant. Building one for a level above is an error.
            Other(u32),
        }

        impl $name {
            /// The discriminant (the information level).
            pub fn level(&self) -> u32 {
                match self {
                    $(Self::$variant(_) => $level,)+
                    Self::Unsupported(level) | Self::Other(level) => *level,
                }
            }

            /// The arm for `level` with a null pointer (what an error reply carries).
            pub fn null(level: u32) -> Self {
                match level {
                    $($level => Self::$variant(None),)+
                    $($unsupported)|+ => Self::Unsupported(level),
                    _ => Self::Other(level),
                }
            }
        }

        /// Level 0's null arm (a placeholder until decoded).
        impl Default for $name {
            fn default() -> Self {
                Self::null(0)
            }
        }

        impl $crate::ndr::Ndr for $name {
            const ALIGN: usize = 4;

            fn encode_scalars(&self, w: &mut $crate::ndr::NdrWriter) {
                w.u32(self.level());
                match self {
                    $(Self::$variant(arm) => arm.encode_scalars(w),)+
                    Self::Unsupported(_) => w.referent(false),
                    Self::Other(_) => {}
                }
            }

            fn encode_buffers(&self, w: &mut $crate::ndr::NdrWriter) {
                match self {
                    $(Self::$variant(arm) => arm.encode_buffers(w),)+
                    Self::Unsupported(_) | Self::Other(_) => {}
                }
            }

            fn decode_scalars(
                r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                let level = r.u32()?;
                Ok(match Self::null(level) {
                    $(Self::$variant(_) => Self::$variant(Option::<$ty>::decode_scalars(r)?),)+
                    Self::Unsupported(level) => {
                        if r.referent()? {
                            return Err($crate::error::DecodeError::UnknownArm {
                                what: $what,
                                level,
                            });
                        }
                        Self::Unsupported(level)
                    }
                    other @ Self::Other(_) => other,
                })
            }

            fn decode_buffers(
                &mut self,
                r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<(), $crate::error::DecodeError> {
                match self {
                    $(Self::$variant(arm) => arm.decode_buffers(r),)+
                    Self::Unsupported(_) | Self::Other(_) => Ok(()),
                }
            }
        }
    };
}

pub(crate) use pointer_union;

/// MS-SRVS 2.2.4.32-2.2.4.37 SHARE_INFO_0_CONTAINER, SHARE_INFO_1_CONTAINER, ..:
/// `EntriesRead` and a pointer to that many `SHARE_INFO_n` structures.
///
/// ```text
/// EntriesRead u32 | Buffer referent u32    deferred: max_count u32 | entries
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareContainer<T> {
    /// `EntriesRead`.
    pub entries_read: u32,
    /// `Buffer` (`[size_is(EntriesRead)]`).
    pub buffer: Option<ConformantArray<T>>,
}

impl<T> ShareContainer<T> {
    /// A container of `entries` (a null buffer when there are none).
    pub fn new(entries: Vec<T>) -> Self {
        Self {
            entries_read: u32::try_from(entries.len()).unwrap_or(u32::MAX),
            buffer: (!entries.is_empty()).then_some(ConformantArray(entries)),
        }
    }

    /// The entries.
    pub fn entries(&self) -> &[T] {
        self.buffer.as_ref().map_or(&[], |b| &b.0)
    }
}

impl<T: Ndr + Default> Ndr for ShareContainer<T> {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.align(4);
        w.u32(self.entries_read);
        self.buffer.encode_scalars(w);
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        self.buffer.encode_buffers(w);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        r.align(4)?;
        Ok(Self {
            entries_read: r.u32()?,
            buffer: Option::decode_scalars(r)?,
        })
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        self.buffer.decode_buffers(r)?;
        check_size_is(
            "SHARE_INFO_CONTAINER",
            "Buffer",
            &self.buffer,
            "EntriesRead",
            self.entries_read,
        )
    }
}

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
        Level0(ShareContainer<ShareInfo0>) = 0,
        /// Level 1: names, types, remarks.
        Level1(ShareContainer<ShareInfo1>) = 1,
        /// Level 2: and paths.
        Level2(ShareContainer<ShareInfo2>) = 2,
        /// Level 501: level 1 and the caching flags.
        Level501(ShareContainer<ShareInfo501>) = 501,
        /// Level 502: level 2 and the security descriptor.
        Level502(ShareContainer<ShareInfo502>) = 502,
    }
    unsupported { 503 }
}

impl ShareEnumUnion {
    /// An empty container of `level` (what a request carries, and an error reply);
    /// `level`'s null arm if it has no container here.
    pub fn empty(level: u32) -> Self {
        match Self::null(level) {
            Self::Level0(_) => Self::Level0(Some(ShareContainer::default())),
            Self::Level1(_) => Self::Level1(Some(ShareContainer::default())),
            Self::Level2(_) => Self::Level2(Some(ShareContainer::default())),
            Self::Level501(_) => Self::Level501(Some(ShareContainer::default())),
            Self::Level502(_) => Self::Level502(Some(ShareContainer::default())),
            other => other,
        }
    }
}

/// MS-SRVS 2.2.4.38 SHARE_ENUM_STRUCT: `Level` and the union it selects, whose
/// discriminant repeats it.
///
/// ```text
/// Level u32 | switch u32 (= Level) | arm referent u32    deferred: container
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareEnumStruct {
    /// `ShareInfo` (`[switch_is(Level)]`; its level is `Level`).
    pub share_info: ShareEnumUnion,
}

impl Ndr for ShareEnumStruct {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.u32(self.share_info.level());
        self.share_info.encode_scalars(w);
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        self.share_info.encode_buffers(w);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let level = r.u32()?;
        let share_info = ShareEnumUnion::decode_scalars(r)?;
        // C706 14.3.8: the union's discriminant is the value of `switch_is`.
        if share_info.level() != level {
            return Err(DecodeError::Invalid {
                what: "SHARE_ENUM_STRUCT",
                why: "the union's discriminant differs from Level",
            });
        }
        Ok(Self { share_info })
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        self.share_info.decode_buffers(r)
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

ndr_struct! {
    /// MS-SRVS 2.2.4.40 SERVER_INFO_100.
    ///
    /// ```text
    /// sv100_platform_id u32 | sv100_name referent u32
    /// ```
    pub struct ServerInfo100 {
        /// `sv100_platform_id` ([`PLATFORM_ID_NT`]).
        pub platform_id: u32,
        /// `sv100_name` (the NetBIOS name).
        pub name: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.41 SERVER_INFO_101.
    ///
    /// ```text
    /// platform_id u32 | name ref | version_major u32 | version_minor u32
    /// | type u32 | comment ref
    /// ```
    pub struct ServerInfo101 {
        /// `sv101_platform_id`.
        pub platform_id: u32,
        /// `sv101_name`.
        pub name: Option<WideString>,
        /// `sv101_version_major`.
        pub version_major: u32,
        /// `sv101_version_minor`.
        pub version_minor: u32,
        /// `sv101_type` (`SV_TYPE_*`).
        pub server_type: u32,
        /// `sv101_comment`.
        pub comment: Option<WideString>,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3.7 SERVER_INFO: the server at the level asked for.
    pub enum ServerInfo ("SERVER_INFO") {
        /// Level 100.
        Level100(ServerInfo100) = 100,
        /// Level 101.
        Level101(ServerInfo101) = 101,
    }
    unsupported {
        102, 103, 502, 503, 599, 1005, 1010, 1016, 1017, 1018, 1107, 1501, 1502, 1503,
        1506, 1510, 1511, 1512, 1513, 1514, 1515, 1516, 1518, 1523, 1528, 1529, 1530,
        1533, 1534, 1535, 1536, 1538, 1539, 1540, 1541, 1542, 1543, 1544, 1545, 1546,
        1547, 1548, 1549, 1550, 1552, 1553, 1554, 1555, 1556,
    }
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
    /// MS-SRVS 3.1.4.17 NetrServerGetInfo, `[in]`.
    pub struct NetrServerGetInfoRequest {
        /// `[in, string, unique] SRVSVC_HANDLE ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in] DWORD Level`.
        pub level: u32,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.17 NetrServerGetInfo, `[out]`.
    pub struct NetrServerGetInfoResponse {
        /// `[out, switch_is(Level)] LPSERVER_INFO InfoStruct`.
        pub info_struct: ServerInfo,
        /// The return value.
        pub status: WinError,
    }
}

#[cfg(test)]
mod tests;
