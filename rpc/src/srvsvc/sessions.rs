//! MS-SRVS enumerations of what clients hold on the server: sessions (NetrSessionEnum),
//! tree connects (NetrConnectionEnum), open files (NetrFileEnum), and the character
//! devices and queues a Windows server of old shared (NetrCharDevEnum,
//! NetrCharDevQEnum: none here), as NDR argument lists.
//!
//! Every enumeration has the same arguments around its `_ENUM_STRUCT`:
//!
//! ```text
//! [in]  ServerName (unique string) | filters (unique strings) | InfoStruct
//!       | PreferedMaximumLength u32 | ResumeHandle (unique u32)
//! [out] InfoStruct | TotalEntries u32 | ResumeHandle (unique u32) | status u32
//! ```

use super::{Container, WinError, enum_struct, pointer_union};
use crate::ndr::WideString;
use crate::{ndr_params, ndr_struct};

/// MS-SRVS 2.2.4.12 SESSION_INFO_1 `sesi1_user_flags` SESS_GUEST: a guest logon.
pub const SESS_GUEST: u32 = 0x0000_0001;
/// MS-SRVS 2.2.4.7 FILE_INFO_3 `fi3_permissions` PERM_FILE_READ: the open may read.
pub const PERM_FILE_READ: u32 = 0x0000_0001;
/// PERM_FILE_WRITE: the open may write.
pub const PERM_FILE_WRITE: u32 = 0x0000_0002;
/// PERM_FILE_CREATE: the open may create.
pub const PERM_FILE_CREATE: u32 = 0x0000_0004;

ndr_struct! {
    /// MS-SRVS 2.2.4.11 SESSION_INFO_0.
    ///
    /// ```text
    /// sesi0_cname ref
    /// ```
    pub struct SessionInfo0 {
        /// `sesi0_cname`: the client, `\\` and its address.
        pub cname: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.12 SESSION_INFO_1.
    ///
    /// ```text
    /// cname ref | username ref | num_opens u32 | time u32 | idle_time u32
    /// | user_flags u32
    /// ```
    pub struct SessionInfo1 {
        /// `sesi1_cname`.
        pub cname: Option<WideString>,
        /// `sesi1_username`.
        pub username: Option<WideString>,
        /// `sesi1_num_opens`.
        pub num_opens: u32,
        /// `sesi1_time`: seconds the session has been up.
        pub time: u32,
        /// `sesi1_idle_time`: seconds since its last activity.
        pub idle_time: u32,
        /// `sesi1_user_flags` ([`SESS_GUEST`]).
        pub user_flags: u32,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.13 SESSION_INFO_2: SESSION_INFO_1 and the client type.
    ///
    /// ```text
    /// SESSION_INFO_1's fields | cltype_name ref
    /// ```
    pub struct SessionInfo2 {
        /// `sesi2_cname`.
        pub cname: Option<WideString>,
        /// `sesi2_username`.
        pub username: Option<WideString>,
        /// `sesi2_num_opens`.
        pub num_opens: u32,
        /// `sesi2_time`.
        pub time: u32,
        /// `sesi2_idle_time`.
        pub idle_time: u32,
        /// `sesi2_user_flags`.
        pub user_flags: u32,
        /// `sesi2_cltype_name` (empty: not known).
        pub cltype_name: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.14 SESSION_INFO_10.
    ///
    /// ```text
    /// cname ref | username ref | time u32 | idle_time u32
    /// ```
    pub struct SessionInfo10 {
        /// `sesi10_cname`.
        pub cname: Option<WideString>,
        /// `sesi10_username`.
        pub username: Option<WideString>,
        /// `sesi10_time`.
        pub time: u32,
        /// `sesi10_idle_time`.
        pub idle_time: u32,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.15 SESSION_INFO_502: SESSION_INFO_2 and the transport.
    ///
    /// ```text
    /// SESSION_INFO_2's fields | transport ref
    /// ```
    pub struct SessionInfo502 {
        /// `sesi502_cname`.
        pub cname: Option<WideString>,
        /// `sesi502_username`.
        pub username: Option<WideString>,
        /// `sesi502_num_opens`.
        pub num_opens: u32,
        /// `sesi502_time`.
        pub time: u32,
        /// `sesi502_idle_time`.
        pub idle_time: u32,
        /// `sesi502_user_flags`.
        pub user_flags: u32,
        /// `sesi502_cltype_name`.
        pub cltype_name: Option<WideString>,
        /// `sesi502_transport` (empty: SMB2 over TCP, as Windows reports it).
        pub transport: Option<WideString>,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3.4 SESSION_ENUM_UNION: the container of the level asked for.
    pub enum SessionEnumUnion ("SESSION_ENUM_UNION") {
        /// Level 0: clients.
        Level0(Container<SessionInfo0>) = 0,
        /// Level 1: clients, users, opens, times.
        Level1(Container<SessionInfo1>) = 1,
        /// Level 2: and the client type.
        Level2(Container<SessionInfo2>) = 2,
        /// Level 10: clients, users, times.
        Level10(Container<SessionInfo10>) = 10,
        /// Level 502: level 2 and the transport.
        Level502(Container<SessionInfo502>) = 502,
    }
    unsupported {}
}

enum_struct! {
    /// MS-SRVS 2.2.4.21 SESSION_ENUM_STRUCT.
    pub struct SessionEnumStruct ("SESSION_ENUM_STRUCT") {
        /// `SessionInfo`.
        pub session_info: SessionEnumUnion,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.5 NetrSessionEnum, `[in]`.
    pub struct NetrSessionEnumRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, string, unique] WCHAR* ClientName`: only this client's sessions
        /// (`\\` and its name or address).
        pub client_name: Option<WideString>,
        /// `[in, string, unique] WCHAR* UserName`: only this user's sessions.
        pub user_name: Option<WideString>,
        /// `[in, out] PSESSION_ENUM_STRUCT InfoStruct`.
        pub info_struct: SessionEnumStruct,
        /// `PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.5 NetrSessionEnum, `[out]`.
    pub struct NetrSessionEnumResponse {
        /// `InfoStruct`.
        pub info_struct: SessionEnumStruct,
        /// `TotalEntries`.
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.1 CONNECTION_INFO_0.
    ///
    /// ```text
    /// coni0_id u32
    /// ```
    pub struct ConnectionInfo0 {
        /// `coni0_id`.
        pub id: u32,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.2 CONNECTION_INFO_1.
    ///
    /// ```text
    /// id u32 | type u32 | num_opens u32 | num_users u32 | time u32 | username ref
    /// | netname ref
    /// ```
    pub struct ConnectionInfo1 {
        /// `coni1_id`.
        pub id: u32,
        /// `coni1_type` (the share's `STYPE_*`).
        pub connection_type: u32,
        /// `coni1_num_opens`.
        pub num_opens: u32,
        /// `coni1_num_users` (1: one session per tree connect).
        pub num_users: u32,
        /// `coni1_time`: seconds connected.
        pub time: u32,
        /// `coni1_username`.
        pub username: Option<WideString>,
        /// `coni1_netname`: the share when the qualifier names a client, the client
        /// when it names a share.
        pub netname: Option<WideString>,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3.1 CONNECT_ENUM_UNION.
    pub enum ConnectEnumUnion ("CONNECT_ENUM_UNION") {
        /// Level 0: ids.
        Level0(Container<ConnectionInfo0>) = 0,
        /// Level 1: ids, shares or clients, users, opens, times.
        Level1(Container<ConnectionInfo1>) = 1,
    }
    unsupported {}
}

enum_struct! {
    /// MS-SRVS 2.2.4.5 CONNECT_ENUM_STRUCT.
    pub struct ConnectEnumStruct ("CONNECT_ENUM_STRUCT") {
        /// `ConnectInfo`.
        pub connect_info: ConnectEnumUnion,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.1 NetrConnectionEnum, `[in]`.
    pub struct NetrConnectionEnumRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, string, unique] WCHAR* Qualifier`: a share name, or a client
        /// (`\\` and its name or address).
        pub qualifier: Option<WideString>,
        /// `InfoStruct`.
        pub info_struct: ConnectEnumStruct,
        /// `PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.1 NetrConnectionEnum, `[out]`.
    pub struct NetrConnectionEnumResponse {
        /// `InfoStruct`.
        pub info_struct: ConnectEnumStruct,
        /// `TotalEntries`.
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.6 FILE_INFO_2.
    ///
    /// ```text
    /// fi2_id u32
    /// ```
    pub struct FileInfo2 {
        /// `fi2_id`.
        pub id: u32,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4.7 FILE_INFO_3.
    ///
    /// ```text
    /// fi3_id u32 | fi3_permissions u32 | fi3_num_locks u32 | fi3_pathname ref
    /// | fi3_username ref
    /// ```
    pub struct FileInfo3 {
        /// `fi3_id`.
        pub id: u32,
        /// `fi3_permissions` (`PERM_FILE_*`).
        pub permissions: u32,
        /// `fi3_num_locks`.
        pub num_locks: u32,
        /// `fi3_pathname` (a Windows path, `C:\...`).
        pub pathname: Option<WideString>,
        /// `fi3_username`.
        pub username: Option<WideString>,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3.2 FILE_ENUM_UNION.
    pub enum FileEnumUnion ("FILE_ENUM_UNION") {
        /// Level 2: ids.
        Level2(Container<FileInfo2>) = 2,
        /// Level 3: ids, paths, users, permissions, locks.
        Level3(Container<FileInfo3>) = 3,
    }
    unsupported {}
}

enum_struct! {
    /// MS-SRVS 2.2.4.10 FILE_ENUM_STRUCT.
    pub struct FileEnumStruct ("FILE_ENUM_STRUCT") {
        /// `FileInfo`.
        pub file_info: FileEnumUnion,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.2 NetrFileEnum, `[in]`.
    pub struct NetrFileEnumRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, string, unique] WCHAR* BasePath`: only files whose path starts so.
        pub base_path: Option<WideString>,
        /// `[in, string, unique] WCHAR* UserName`: only this user's opens.
        pub user_name: Option<WideString>,
        /// `InfoStruct`.
        pub info_struct: FileEnumStruct,
        /// `PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4.2 NetrFileEnum, `[out]`.
    pub struct NetrFileEnumResponse {
        /// `InfoStruct`.
        pub info_struct: FileEnumStruct,
        /// `TotalEntries`.
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4 CHARDEV_INFO_0.
    ///
    /// ```text
    /// ch0_dev ref
    /// ```
    pub struct CharDevInfo0 {
        /// `ch0_dev`.
        pub dev: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4 CHARDEV_INFO_1.
    ///
    /// ```text
    /// ch1_dev ref | ch1_status u32 | ch1_username ref | ch1_time u32
    /// ```
    pub struct CharDevInfo1 {
        /// `ch1_dev`.
        pub dev: Option<WideString>,
        /// `ch1_status`.
        pub status: u32,
        /// `ch1_username`.
        pub username: Option<WideString>,
        /// `ch1_time`.
        pub time: u32,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3 CHARDEV_ENUM_UNION.
    pub enum CharDevEnumUnion ("CHARDEV_ENUM_UNION") {
        /// Level 0.
        Level0(Container<CharDevInfo0>) = 0,
        /// Level 1.
        Level1(Container<CharDevInfo1>) = 1,
    }
    unsupported {}
}

enum_struct! {
    /// MS-SRVS 2.2.4 CHARDEV_ENUM_STRUCT.
    pub struct CharDevEnumStruct ("CHARDEV_ENUM_STRUCT") {
        /// `CharDevInfo`.
        pub char_dev_info: CharDevEnumUnion,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrCharDevEnum (opnum 0), `[in]`.
    pub struct NetrCharDevEnumRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `InfoStruct`.
        pub info_struct: CharDevEnumStruct,
        /// `PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrCharDevEnum (opnum 0), `[out]`.
    pub struct NetrCharDevEnumResponse {
        /// `InfoStruct`.
        pub info_struct: CharDevEnumStruct,
        /// `TotalEntries`.
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4 CHARDEVQ_INFO_0.
    ///
    /// ```text
    /// cq0_dev ref
    /// ```
    pub struct CharDevQInfo0 {
        /// `cq0_dev`.
        pub dev: Option<WideString>,
    }
}

ndr_struct! {
    /// MS-SRVS 2.2.4 CHARDEVQ_INFO_1.
    ///
    /// ```text
    /// cq1_dev ref | cq1_priority u32 | cq1_devs ref | cq1_numusers u32 | cq1_numahead u32
    /// ```
    pub struct CharDevQInfo1 {
        /// `cq1_dev`.
        pub dev: Option<WideString>,
        /// `cq1_priority`.
        pub priority: u32,
        /// `cq1_devs`.
        pub devs: Option<WideString>,
        /// `cq1_numusers`.
        pub num_users: u32,
        /// `cq1_numahead`.
        pub num_ahead: u32,
    }
}

pointer_union! {
    /// MS-SRVS 2.2.3 CHARDEVQ_ENUM_UNION.
    pub enum CharDevQEnumUnion ("CHARDEVQ_ENUM_UNION") {
        /// Level 0.
        Level0(Container<CharDevQInfo0>) = 0,
        /// Level 1.
        Level1(Container<CharDevQInfo1>) = 1,
    }
    unsupported {}
}

enum_struct! {
    /// MS-SRVS 2.2.4 CHARDEVQ_ENUM_STRUCT.
    pub struct CharDevQEnumStruct ("CHARDEVQ_ENUM_STRUCT") {
        /// `CharDevQInfo`.
        pub char_dev_q_info: CharDevQEnumUnion,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrCharDevQEnum (opnum 3), `[in]`.
    pub struct NetrCharDevQEnumRequest {
        /// `ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in, string, unique] WCHAR* UserName`.
        pub user_name: Option<WideString>,
        /// `InfoStruct`.
        pub info_struct: CharDevQEnumStruct,
        /// `PreferedMaximumLength`.
        pub prefered_maximum_length: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
    }
}

ndr_params! {
    /// MS-SRVS 3.1.4 NetrCharDevQEnum (opnum 3), `[out]`.
    pub struct NetrCharDevQEnumResponse {
        /// `InfoStruct`.
        pub info_struct: CharDevQEnumStruct,
        /// `TotalEntries`.
        pub total_entries: u32,
        /// `ResumeHandle`.
        pub resume_handle: Option<u32>,
        /// The return value.
        pub status: WinError,
    }
}
