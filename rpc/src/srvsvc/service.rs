//! [`SrvsvcService`]: the srvsvc server side (MS-SRVS 3.1.4) over a fixed list of
//! shares, sans-IO: a request stub in, a response stub out.

use super::{
    NetrServerGetInfoRequest, NetrServerGetInfoResponse, NetrShareEnumRequest,
    NetrShareEnumResponse, NetrShareGetInfoRequest, NetrShareGetInfoResponse, Opnum,
    PLATFORM_ID_NT, STYPE_DISKTREE, STYPE_IPC, STYPE_SPECIAL, SV_TYPE_DOMAIN_MEMBER, SV_TYPE_NT,
    SV_TYPE_SERVER, SV_TYPE_SERVER_NT, SV_TYPE_WORKSTATION, ServerInfo, ServerInfo100,
    ServerInfo101, ShareContainer, ShareEnumStruct, ShareEnumUnion, ShareInfo, ShareInfo0,
    ShareInfo1, ShareInfo2, ShareInfo501, ShareInfo502, ShareInfo1005, WinError,
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

/// The srvsvc interface of a member file server: its shares, NetBIOS name and
/// comment.
///
/// Levels 2 and 502 reveal the shares' local paths, which MS-SRVS 3.1.4.8 keeps for
/// administrators; [`Service::call`] does not know the caller, so they are answered
/// with ERROR_ACCESS_DENIED unless [`SrvsvcService::reveal_paths`] allows them.
#[derive(Debug, Clone)]
pub struct SrvsvcService {
    name: String,
    comment: String,
    shares: Vec<Share>,
    server_type: u32,
    reveal_paths: bool,
}

impl SrvsvcService {
    /// A member server called `name` (NetBIOS) offering `shares`.
    pub fn new(name: &str, comment: &str, shares: Vec<Share>) -> Self {
        Self {
            name: name.to_owned(),
            comment: comment.to_owned(),
            shares,
            server_type: SV_TYPE_WORKSTATION
                | SV_TYPE_SERVER
                | SV_TYPE_DOMAIN_MEMBER
                | SV_TYPE_NT
                | SV_TYPE_SERVER_NT,
            reveal_paths: false,
        }
    }

    /// Answers levels 2 and 502 (share paths) instead of denying them.
    pub fn reveal_paths(mut self, reveal: bool) -> Self {
        self.reveal_paths = reveal;
        self
    }

    /// MS-SRVS 3.1.4.8 NetrShareEnum: every share from the resume handle on.
    /// PreferedMaximumLength is not enforced: all remaining entries come back with
    /// ERROR_SUCCESS and a resume handle of 0.
    pub fn share_enum(&self, req: &NetrShareEnumRequest) -> NetrShareEnumResponse {
        let level = req.info_struct.share_info.level();
        let start = req
            .resume_handle
            .and_then(|h| usize::try_from(h).ok())
            .unwrap_or(0);
        let shares = self.shares.get(start..).unwrap_or(&[]);
        let status = match ShareEnumUnion::null(level) {
            ShareEnumUnion::Unsupported(_) | ShareEnumUnion::Other(_) => WinError::INVALID_LEVEL,
            _ => self.check_paths(level),
        };
        let share_info = if status == WinError::SUCCESS {
            Self::containers(level, shares)
        } else {
            ShareEnumUnion::empty(level)
        };
        NetrShareEnumResponse {
            info_struct: ShareEnumStruct { share_info },
            total_entries: if status == WinError::SUCCESS {
                u32::try_from(self.shares.len()).unwrap_or(u32::MAX)
            } else {
                0
            },
            resume_handle: req.resume_handle.map(|_| 0),
            status,
        }
    }

    /// MS-SRVS 3.1.4.10 NetrShareGetInfo: the share named `NetName` (any case).
    pub fn share_get_info(&self, req: &NetrShareGetInfoRequest) -> NetrShareGetInfoResponse {
        let null = ShareInfo::null(req.level);
        let status = match null {
            ShareInfo::Unsupported(_) | ShareInfo::Other(_) => WinError::INVALID_LEVEL,
            _ => self.check_paths(req.level),
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

    fn find(&self, name: &str) -> Option<&Share> {
        let name = name.to_uppercase();
        self.shares.iter().find(|s| s.name.to_uppercase() == name)
    }

    /// Whether a known `level` may be answered: the path levels need
    /// [`Self::reveal_paths`].
    fn check_paths(&self, level: u32) -> WinError {
        match level {
            2 | 502 if !self.reveal_paths => WinError::ACCESS_DENIED,
            _ => WinError::SUCCESS,
        }
    }

    fn containers(level: u32, shares: &[Share]) -> ShareEnumUnion {
        fn c<T>(shares: &[Share], f: fn(&Share) -> T) -> Option<ShareContainer<T>> {
            Some(ShareContainer::new(shares.iter().map(f).collect()))
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
        match Opnum::new(opnum) {
            Opnum::NETR_SHARE_ENUM => Ok(self.share_enum(&decode(stub)?).to_stub()),
            Opnum::NETR_SHARE_GET_INFO => Ok(self.share_get_info(&decode(stub)?).to_stub()),
            Opnum::NETR_SERVER_GET_INFO => Ok(self.server_get_info(&decode(stub)?).to_stub()),
            _ => Err(FaultStatus::OP_RNG_ERROR),
        }
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
