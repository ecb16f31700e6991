//! MS-SRVS: the Server Service Remote Protocol calls a file server answers, as NDR
//! argument lists ([`crate::ndr_params!`]), and [`SrvsvcService`], the server side that
//! answers them from the server's shares and (through [`ServerActivity`]) its sessions,
//! tree connects and opens.
//!
//! What anyone may ask: NetrShareEnum and NetrShareGetInfo levels 0, 1, 501 and 1005
//! (`smbclient -L`, `net view`, Explorer), NetrShareCheck, NetrServerGetInfo,
//! NetrServerTransportEnum and NetrRemoteTOD. What only administrators may ask
//! (MS-SRVS 3.1.4 and the Windows behaviour notes): the share levels with paths (2 and
//! 502), NetrSessionEnum, NetrConnectionEnum, NetrFileEnum and NetrServerDiskEnum; others
//! get ERROR_ACCESS_DENIED, as Windows answers them.
//!
//! The parts: `share` (SHARE_INFO), `server_info` (SERVER_INFO, TIME_OF_DAY_INFO, disks,
//! transports), `sessions` (SESSION_INFO, CONNECTION_INFO, FILE_INFO, character devices),
//! `activity` (what the server reports about its sessions), `service` and `admin` (the
//! server side).
//!
//! Samba's IDL (`librpc/idl/srvsvc.idl`) names NetrShareEnum `srvsvc_NetShareEnumAll`
//! and gives its unions an empty `[default]` arm, so a level that no arm names carries
//! only its discriminant (our [`ShareInfo::Other`] and siblings); a level the
//! specification defines but this crate does not decode is answered with its
//! discriminant and a null pointer (`Unsupported`), which both Samba and Windows
//! clients unmarshal.

mod activity;
mod admin;
mod server_info;
mod service;
mod sessions;
mod share;

use crate::error::DecodeError;
use crate::ndr::{ConformantArray, Ndr, NdrReader, NdrWriter, check_size_is};

pub use activity::{ConnectionRecord, OpenRecord, ServerActivity, SessionRecord};
pub use server_info::*;
pub(crate) use service::decode;
pub use service::{Share, SrvsvcService};
pub use sessions::*;
pub use share::*;

open_enum! {
    /// SRVSVC operation numbers (MS-SRVS 3.1.4, "Methods in RPC Opnum Order") this
    /// crate answers.
    pub struct Opnum(u16) {
        /// NetrCharDevEnum.
        NETR_CHAR_DEV_ENUM = 0 => "NetrCharDevEnum",
        /// NetrCharDevQEnum.
        NETR_CHAR_DEV_Q_ENUM = 3 => "NetrCharDevQEnum",
        /// NetrConnectionEnum.
        NETR_CONNECTION_ENUM = 8 => "NetrConnectionEnum",
        /// NetrFileEnum.
        NETR_FILE_ENUM = 9 => "NetrFileEnum",
        /// NetrSessionEnum.
        NETR_SESSION_ENUM = 12 => "NetrSessionEnum",
        /// NetrShareEnum (Samba: NetShareEnumAll).
        NETR_SHARE_ENUM = 15 => "NetrShareEnum",
        /// NetrShareGetInfo.
        NETR_SHARE_GET_INFO = 16 => "NetrShareGetInfo",
        /// NetrShareCheck.
        NETR_SHARE_CHECK = 20 => "NetrShareCheck",
        /// NetrServerGetInfo.
        NETR_SERVER_GET_INFO = 21 => "NetrServerGetInfo",
        /// NetrServerDiskEnum.
        NETR_SERVER_DISK_ENUM = 23 => "NetrServerDiskEnum",
        /// NetrServerTransportEnum.
        NETR_SERVER_TRANSPORT_ENUM = 26 => "NetrServerTransportEnum",
        /// NetrRemoteTOD.
        NETR_REMOTE_TOD = 28 => "NetrRemoteTOD",
        /// NetrShareEnumSticky (Samba: NetShareEnum).
        NETR_SHARE_ENUM_STICKY = 36 => "NetrShareEnumSticky",
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
        /// The request is not supported.
        NOT_SUPPORTED = 50 => "ERROR_NOT_SUPPORTED",
        /// A parameter is not valid.
        INVALID_PARAMETER = 87 => "ERROR_INVALID_PARAMETER",
        /// The information level is not supported.
        INVALID_LEVEL = 124 => "ERROR_INVALID_LEVEL",
        /// More entries are available.
        MORE_DATA = 234 => "ERROR_MORE_DATA",
        /// No share has this name.
        NET_NAME_NOT_FOUND = 2310 => "NERR_NetNameNotFound",
        /// No share shares this device (path).
        DEVICE_NOT_SHARED = 2311 => "NERR_DeviceNotShared",
        /// No session from this client.
        CLIENT_NAME_NOT_FOUND = 2312 => "NERR_ClientNameNotFound",
        /// No session of this user.
        USER_NOT_FOUND = 2221 => "NERR_UserNotFound",
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
        unsupported { $($unsupported:literal),* $(,)? }
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
                    $($unsupported => Self::Unsupported(level),)*
                    _ => Self::Other(level),
                }
            }

            /// Whether `level` has an arm decoded here.
            pub fn has_arm(level: u32) -> bool {
                !matches!(Self::null(level), Self::Unsupported(_) | Self::Other(_))
            }

            /// The arm for `level` pointing to a default value: for an enumeration's
            /// union, the empty container a request carries.
            pub fn empty(level: u32) -> Self {
                match Self::null(level) {
                    $(Self::$variant(_) => Self::$variant(Some(Default::default())),)+
                    other => other,
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

/// Declares an `_ENUM_STRUCT` (MS-SRVS 2.2.4.38 SHARE_ENUM_STRUCT and its siblings for
/// sessions, connections, files, devices and transports): `Level` and the union it
/// selects (a [`pointer_union!`]), whose discriminant repeats it.
///
/// ```text
/// Level u32 | switch u32 (= Level) | arm referent u32    deferred: container
/// ```
macro_rules! enum_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($what:literal) {
            $(#[$fmeta:meta])*
            pub $field:ident: $union:ty,
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $(#[$fmeta])*
            pub $field: $union,
        }

        impl $name {
            /// The level (`Level`, the union's discriminant).
            pub fn level(&self) -> u32 {
                self.$field.level()
            }
        }

        impl $crate::ndr::Ndr for $name {
            const ALIGN: usize = 4;

            fn encode_scalars(&self, w: &mut $crate::ndr::NdrWriter) {
                w.u32(self.$field.level());
                self.$field.encode_scalars(w);
            }

            fn encode_buffers(&self, w: &mut $crate::ndr::NdrWriter) {
                self.$field.encode_buffers(w);
            }

            fn decode_scalars(
                r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                let level = r.u32()?;
                let $field = <$union>::decode_scalars(r)?;
                // C706 14.3.8: the union's discriminant is the value of `switch_is`.
                if $field.level() != level {
                    return Err($crate::error::DecodeError::Invalid {
                        what: $what,
                        why: "the union's discriminant differs from Level",
                    });
                }
                Ok(Self { $field })
            }

            fn decode_buffers(
                &mut self,
                r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<(), $crate::error::DecodeError> {
                self.$field.decode_buffers(r)
            }
        }
    };
}

pub(crate) use enum_struct;

/// MS-SRVS 2.2.4.32-2.2.4.37 SHARE_INFO_0_CONTAINER .. and the other `_CONTAINER`s
/// (SESSION_INFO_0_CONTAINER, CONNECT_INFO_1_CONTAINER, FILE_INFO_3_CONTAINER, ..):
/// `EntriesRead` and a pointer to that many `_INFO_n` structures.
///
/// ```text
/// EntriesRead u32 | Buffer referent u32    deferred: max_count u32 | entries
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Container<T> {
    /// `EntriesRead`.
    pub entries_read: u32,
    /// `Buffer` (`[size_is(EntriesRead)]`).
    pub buffer: Option<ConformantArray<T>>,
}

impl<T> Container<T> {
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

impl<T: Ndr + Default> Ndr for Container<T> {
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
            "INFO_CONTAINER",
            "Buffer",
            &self.buffer,
            "EntriesRead",
            self.entries_read,
        )
    }
}

#[cfg(test)]
mod tests;
