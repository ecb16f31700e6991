//! [`SrvsvcService`]: the srvsvc server side (MS-SRVS 3.1.4) over a fixed list of
//! shares and the server's [`ServerActivity`], for one caller, sans-IO: a request stub
//! in, a response stub out. This file: the service, its dispatch and the share and
//! server calls; `admin.rs`: the enumerations of sessions, connections, files, disks
//! and transports, and the clock.

use std::sync::Arc;
use std::time::SystemTime;

use super::activity::NoActivity;
use super::{
    Container, NetrServerGetInfoRequest, NetrServerGetInfoResponse, NetrShareCheckRequest,
    NetrShareCheckResponse, NetrShareEnumRequest, NetrShareEnumResponse, NetrShareGetInfoRequest,
    NetrShareGetInfoResponse, Opnum, PLATFORM_ID_NT, STYPE_DISKTREE, STYPE_IPC, STYPE_SPECIAL,
    SV_TYPE_DOMAIN_MEMBER, SV_TYPE_NT, SV_TYPE_SERVER, SV_TYPE_SERVER_NT, SV_TYPE_WORKSTATION,
    ServerActivity, ServerInfo, ServerInfo100, ServerInfo101, ShareEnumStruct, ShareEnumUnion,
    ShareInfo, ShareInfo0, ShareInfo1, ShareInfo2, ShareInfo501, ShareInfo502, ShareInfo1005,
    WinError,
};
use crate::ndr::{NdrParams, WideString};
use crate::pdu::FaultStatus;
use crate::server::Service;
use crate::uuid::SyntaxId;

/// The version a member server reports (`sv101_version_major.minor`: Windows 10 /
/// Server 2016 and later).
const VERSION: (u32, u32) = (10, 0);

/// One share as srvsvc describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The share name (`IPC$`, `data`).
    pub name: String,
    /// `STYPE_*`: [`STYPE_DISKTREE`], or [`STYPE_IPC`] | [`STYPE_SPECIAL`] for `IPC$`.
    pub share_type: u32,
    /// The remark clients show next to the name.
    pub comment: String,
    /// The local path (`/srv/data`; empty for `IPC$`), reported as `C:\srv\data`.
    pub path: String,
}

impl Share {
    /// A disk share of `path`.
    pub fn disk(name: &str, comment: &str, path: &str) -> Self {
        Self {
            name: name.to_owned(),
            share_type: STYPE_DISKTREE,
            comment: comment.to_owned(),
            path: path.to_owned(),
        }
    }

    /// `IPC$`, the named-pipe share.
    pub fn ipc(comment: &str) -> Self {
        Self {
            name: "IPC$".to_owned(),
            share_type: STYPE_IPC | STYPE_SPECIAL,
            comment: comment.to_owned(),
            path: String::new(),
        }
    }

    /// The path as Windows clients expect it: `/srv/data` as `C:\srv\data` (what
    /// Samba reports too); empty stays empty.
    pub fn windows_path(&self) -> String {
        if self.path.is_empty() {
            return String::new();
        }
        format!("C:{}", self.path.replace('/', "\\"))
    }

    fn info0(&self) -> ShareInfo0 {
        ShareInfo0 {
            netname: Some(WideString::new(&self.name)),
        }
    }

    fn info1(&self) -> ShareInfo1 {
        ShareInfo1 {
            netname: Some(WideString::new(&self.name)),
            share_type: self.share_type,
            remark: Some(WideString::new(&self.comment)),
        }
    }

    fn info2(&self) -> ShareInfo2 {
        ShareInfo2 {
            netname: Some(WideString::new(&self.name)),
            share_type: self.share_type,
            remark: Some(WideString::new(&self.comment)),
            permissions: 0,
            max_uses: u32::MAX,
            current_uses: 0,
            path: Some(WideString::new(self.windows_path())),
            passwd: None,
        }
    }

    fn info501(&self) -> ShareInfo501 {
        ShareInfo501 {
            netname: Some(WideString::new(&self.name)),
            share_type: self.share_type,
            remark: Some(WideString::new(&self.comment)),
            flags: 0,
        }
    }

    fn info502(&self) -> ShareInfo502 {
        ShareInfo502 {
            info: self.info2(),
            reserved: 0,
            security_descriptor: None,
        }
    }
}

/// The srvsvc interface of a member file server as one caller sees it: its shares,
/// NetBIOS name, domain and comment, its live tables, and whether the caller
/// administers the server.
///
/// MS-SRVS keeps some answers for administrators: the share levels with local paths (2
/// and 502, 3.1.4.8), sessions, tree connects, open files and disks; others get
/// ERROR_ACCESS_DENIED, as from Windows. [`Service::call`] does not know the caller: the
/// pipe that creates the service says, with [`SrvsvcService::administrator`].
#[derive(Debug, Clone)]
pub struct SrvsvcService {
    pub(super) name: String,
    pub(super) domain: String,
    pub(super) comment: String,
    pub(super) shares: Vec<Share>,
    pub(super) server_type: u32,
    pub(super) admin: bool,
    pub(super) activity: Arc<dyn ServerActivity>,
    pub(super) clock: fn() -> SystemTime,
}

impl SrvsvcService {
    /// A member server called `name` (NetBIOS) offering `shares`, to a caller who is not
    /// an administrator, with no sessions to report.
    pub fn new(name: &str, comment: &str, shares: Vec<Share>) -> Self {
        Self {
            name: name.to_owned(),
            domain: String::new(),
            comment: comment.to_owned(),
            shares,
            server_type: SV_TYPE_WORKSTATION
                | SV_TYPE_SERVER
                | SV_TYPE_DOMAIN_MEMBER
                | SV_TYPE_NT
                | SV_TYPE_SERVER_NT,
            admin: false,
            activity: Arc::new(NoActivity),
            clock: SystemTime::now,
        }
    }

    /// Whether the caller administers the server (Domain Admins or a configured admin
    /// group): the levels and calls MS-SRVS keeps for administrators are answered.
    pub fn administrator(mut self, admin: bool) -> Self {
        self.admin = admin;
        self
    }

    /// The server's NetBIOS domain (NetrServerTransportEnum level 1).
    pub fn in_domain(mut self, domain: &str) -> Self {
        domain.clone_into(&mut self.domain);
        self
    }

    /// Where sessions, tree connects and opens are read from.
    pub fn with_activity(mut self, activity: Arc<dyn ServerActivity>) -> Self {
        self.activity = activity;
        self
    }

    /// The clock NetrRemoteTOD and the session times read (tests pass a fixed one).
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    /// MS-SRVS 3.1.4.8 NetrShareEnum: every share from the resume handle (an index) on;
    /// PreferedMaximumLength is not enforced, so all remaining entries come back with a
    /// resume handle of 0. Levels 2 and 502 for administrators only.
    pub fn share_enum(&self, req: &NetrShareEnumRequest) -> NetrShareEnumResponse {
        self.enumerate_shares(req, &self.shares)
    }

    /// MS-SRVS 3.1.4.9 NetrShareEnumSticky: the shares the server keeps across restarts
    /// (every disk share: they come from the registry; not IPC$), at levels 0, 1, 2 and
    /// 502.
    pub fn share_enum_sticky(&self, req: &NetrShareEnumRequest) -> NetrShareEnumResponse {
        if req.info_struct.share_info.level() == 501 {
            return Self::share_enum_error(req, WinError::INVALID_LEVEL);
        }
        let sticky: Vec<Share> = self
            .shares
            .iter()
            .filter(|s| s.share_type & STYPE_SPECIAL == 0)
            .cloned()
            .collect();
        self.enumerate_shares(req, &sticky)
    }

    fn enumerate_shares(&self, req: &NetrShareEnumRequest, all: &[Share]) -> NetrShareEnumResponse {
        let level = req.info_struct.share_info.level();
        let status = if ShareEnumUnion::has_arm(level) {
            self.check_paths(level)
        } else {
            WinError::INVALID_LEVEL
        };
        if status != WinError::SUCCESS {
            return Self::share_enum_error(req, status);
        }
        let (shares, total_entries, resume_handle) = super::admin::page(all, req.resume_handle);
        NetrShareEnumResponse {
            info_struct: ShareEnumStruct {
                share_info: Self::containers(level, shares),
            },
            total_entries,
            resume_handle,
            status,
        }
    }

    fn share_enum_error(req: &NetrShareEnumRequest, status: WinError) -> NetrShareEnumResponse {
        NetrShareEnumResponse {
            info_struct: ShareEnumStruct {
                share_info: ShareEnumUnion::empty(req.info_struct.share_info.level()),
            },
            total_entries: 0,
            resume_handle: req.resume_handle.map(|_| 0),
            status,
        }
    }

    /// MS-SRVS 3.1.4.10 NetrShareGetInfo: the share named `NetName` (any case); levels
    /// 2 and 502 for administrators only.
    pub fn share_get_info(&self, req: &NetrShareGetInfoRequest) -> NetrShareGetInfoResponse {
        let null = ShareInfo::null(req.level);
        let status = if ShareInfo::has_arm(req.level) {
            self.check_paths(req.level)
        } else {
            WinError::INVALID_LEVEL
        };
        let share = self.find(&req.net_name.0);
        let (info_struct, status) = match (status, share) {
            (WinError::SUCCESS, None) => (null, WinError::NET_NAME_NOT_FOUND),
            (WinError::SUCCESS, Some(s)) => (Self::share_info(req.level, s), status),
            _ => (null, status),
        };
        NetrShareGetInfoResponse {
            info_struct,
            status,
        }
    }

    /// MS-SRVS 3.1.4 NetrShareCheck: whether a share shares `Device`, a path as
    /// NetrShareGetInfo level 2 shows it (`C:\srv\data`; IPC$'s is empty), and its type.
    /// Open to every caller.
    pub fn share_check(&self, req: &NetrShareCheckRequest) -> NetrShareCheckResponse {
        let device = &req.device.0;
        match self
            .shares
            .iter()
            .find(|s| s.windows_path().eq_ignore_ascii_case(device))
        {
            Some(share) => NetrShareCheckResponse {
                share_type: share.share_type,
                status: WinError::SUCCESS,
            },
            None => NetrShareCheckResponse {
                share_type: 0,
                status: WinError::DEVICE_NOT_SHARED,
            },
        }
    }

    /// MS-SRVS 3.1.4.17 NetrServerGetInfo: levels 100 and 101.
    pub fn server_get_info(&self, req: &NetrServerGetInfoRequest) -> NetrServerGetInfoResponse {
        let name = Some(WideString::new(&self.name));
        let (info_struct, status) = match ServerInfo::null(req.level) {
            ServerInfo::Level100(_) => (
                ServerInfo::Level100(Some(ServerInfo100 {
                    platform_id: PLATFORM_ID_NT,
                    name,
                })),
                WinError::SUCCESS,
            ),
            ServerInfo::Level101(_) => (
                ServerInfo::Level101(Some(ServerInfo101 {
                    platform_id: PLATFORM_ID_NT,
                    name,
                    version_major: VERSION.0,
                    version_minor: VERSION.1,
                    server_type: self.server_type,
                    comment: Some(WideString::new(&self.comment)),
                })),
                WinError::SUCCESS,
            ),
            null => (null, WinError::INVALID_LEVEL),
        };
        NetrServerGetInfoResponse {
            info_struct,
            status,
        }
    }

    pub(super) fn find(&self, name: &str) -> Option<&Share> {
        let name = name.to_uppercase();
        self.shares.iter().find(|s| s.name.to_uppercase() == name)
    }

    /// Whether a known share `level` may be answered: the path levels need an
    /// administrator.
    fn check_paths(&self, level: u32) -> WinError {
        match level {
            2 | 502 if !self.admin => WinError::ACCESS_DENIED,
            _ => WinError::SUCCESS,
        }
    }

    fn containers(level: u32, shares: &[Share]) -> ShareEnumUnion {
        fn c<T>(shares: &[Share], f: fn(&Share) -> T) -> Option<Container<T>> {
            Some(Container::new(shares.iter().map(f).collect()))
        }
        match ShareEnumUnion::null(level) {
            ShareEnumUnion::Level0(_) => ShareEnumUnion::Level0(c(shares, Share::info0)),
            ShareEnumUnion::Level1(_) => ShareEnumUnion::Level1(c(shares, Share::info1)),
            ShareEnumUnion::Level2(_) => ShareEnumUnion::Level2(c(shares, Share::info2)),
            ShareEnumUnion::Level501(_) => ShareEnumUnion::Level501(c(shares, Share::info501)),
            ShareEnumUnion::Level502(_) => ShareEnumUnion::Level502(c(shares, Share::info502)),
            other => other,
        }
    }

    fn share_info(level: u32, s: &Share) -> ShareInfo {
        match ShareInfo::null(level) {
            ShareInfo::Level0(_) => ShareInfo::Level0(Some(s.info0())),
            ShareInfo::Level1(_) => ShareInfo::Level1(Some(s.info1())),
            ShareInfo::Level2(_) => ShareInfo::Level2(Some(s.info2())),
            ShareInfo::Level501(_) => ShareInfo::Level501(Some(s.info501())),
            ShareInfo::Level502(_) => ShareInfo::Level502(Some(s.info502())),
            ShareInfo::Level1005(_) => ShareInfo::Level1005(Some(ShareInfo1005 { flags: 0 })),
            other => other,
        }
    }
}

impl Service for SrvsvcService {
    fn syntax(&self) -> SyntaxId {
        SyntaxId::SRVSVC
    }

    fn name(&self) -> &'static str {
        "srvsvc"
    }

    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus> {
        let this = &*self;
        Ok(match Opnum::new(opnum) {
            Opnum::NETR_CHAR_DEV_ENUM => this.char_dev_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_CHAR_DEV_Q_ENUM => this.char_dev_q_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_CONNECTION_ENUM => this.connection_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_FILE_ENUM => this.file_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_SESSION_ENUM => this.session_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_SHARE_ENUM => this.share_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_SHARE_GET_INFO => this.share_get_info(&decode(stub)?).to_stub(),
            Opnum::NETR_SHARE_CHECK => this.share_check(&decode(stub)?).to_stub(),
            Opnum::NETR_SERVER_GET_INFO => this.server_get_info(&decode(stub)?).to_stub(),
            Opnum::NETR_SERVER_DISK_ENUM => this.disk_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_SERVER_TRANSPORT_ENUM => this.transport_enum(&decode(stub)?).to_stub(),
            Opnum::NETR_REMOTE_TOD => this.remote_tod(&decode(stub)?).to_stub(),
            Opnum::NETR_SHARE_ENUM_STICKY => this.share_enum_sticky(&decode(stub)?).to_stub(),
            _ => return Err(FaultStatus::OP_RNG_ERROR),
        })
    }
}

/// A request's arguments, or the fault for a stub that does not decode
/// (MS-RPCE 3.1.1.5.5: nca_s_fault_ndr).
pub(crate) fn decode<T: NdrParams>(stub: &[u8]) -> Result<T, FaultStatus> {
    T::from_stub(stub).map_err(|e| {
        tracing::debug!(error = %e, "undecodable request stub");
        FaultStatus::NDR
    })
}
