//! MS-WKST: the Workstation Service Remote Protocol call a file server answers for
//! Windows clients and `net view` (NetrWkstaGetInfo: the computer name, the domain
//! it belongs to, the version), as NDR argument lists, and [`WkssvcService`], its
//! server side.

use crate::ndr::{NdrParams, WideString};
use crate::pdu::FaultStatus;
use crate::server::Service;
use crate::srvsvc::{PLATFORM_ID_NT, WinError, decode, pointer_union};
use crate::uuid::SyntaxId;
use crate::{ndr_params, ndr_struct};

open_enum! {
    /// WKSSVC operation numbers (MS-WKST 3.2.4, "Methods in RPC Opnum Order") this
    /// crate answers.
    pub struct Opnum(u16) {
        /// NetrWkstaGetInfo.
        NETR_WKSTA_GET_INFO = 0 => "NetrWkstaGetInfo",
    }
}

ndr_struct! {
    /// MS-WKST 2.2.5.1 WKSTA_INFO_100.
    ///
    /// ```text
    /// wki100_platform_id u32 | wki100_computername referent u32
    /// | wki100_langroup referent u32 | wki100_ver_major u32 | wki100_ver_minor u32
    /// ```
    pub struct WkstaInfo100 {
        /// `wki100_platform_id` ([`PLATFORM_ID_NT`]).
        pub platform_id: u32,
        /// `wki100_computername` (the NetBIOS name).
        pub computer_name: Option<WideString>,
        /// `wki100_langroup` (the NetBIOS domain name).
        pub langroup: Option<WideString>,
        /// `wki100_ver_major`.
        pub ver_major: u32,
        /// `wki100_ver_minor`.
        pub ver_minor: u32,
    }
}

pointer_union! {
    /// MS-WKST 2.2.4.1 WKSTA_INFO: the workstation at the level asked for.
    pub enum WkstaInfo ("WKSTA_INFO") {
        /// Level 100.
        Level100(WkstaInfo100) = 100,
    }
    unsupported { 101, 102, 502, 1013, 1018, 1046 }
}

ndr_params! {
    /// MS-WKST 3.2.4.1 NetrWkstaGetInfo, `[in]`.
    pub struct NetrWkstaGetInfoRequest {
        /// `[in, string, unique] WKSSVC_IDENTIFY_HANDLE ServerName` (ignored).
        pub server_name: Option<WideString>,
        /// `[in] unsigned long Level`.
        pub level: u32,
    }
}

ndr_params! {
    /// MS-WKST 3.2.4.1 NetrWkstaGetInfo, `[out]`.
    pub struct NetrWkstaGetInfoResponse {
        /// `[out, switch_is(Level)] LPWKSTA_INFO WkstaInfo`.
        pub wksta_info: WkstaInfo,
        /// The return value.
        pub status: WinError,
    }
}

/// The version a member reports (`wki100_ver_major.minor`: Windows 10 / Server 2016
/// and later).
const VERSION: (u32, u32) = (10, 0);

/// The wkssvc interface of a member: its NetBIOS name and its domain's.
#[derive(Debug, Clone)]
pub struct WkssvcService {
    computer_name: String,
    domain: String,
}

impl WkssvcService {
    /// The member `computer_name` (NetBIOS) of `domain` (NetBIOS).
    pub fn new(computer_name: &str, domain: &str) -> Self {
        Self {
            computer_name: computer_name.to_owned(),
            domain: domain.to_owned(),
        }
    }

    /// MS-WKST 3.2.4.1 NetrWkstaGetInfo: level 100.
    pub fn wksta_get_info(&self, req: &NetrWkstaGetInfoRequest) -> NetrWkstaGetInfoResponse {
        match WkstaInfo::null(req.level) {
            WkstaInfo::Level100(_) => NetrWkstaGetInfoResponse {
                wksta_info: WkstaInfo::Level100(Some(WkstaInfo100 {
                    platform_id: PLATFORM_ID_NT,
                    computer_name: Some(WideString::new(&self.computer_name)),
                    langroup: Some(WideString::new(&self.domain)),
                    ver_major: VERSION.0,
                    ver_minor: VERSION.1,
                })),
                status: WinError::SUCCESS,
            },
            null => NetrWkstaGetInfoResponse {
                wksta_info: null,
                status: WinError::INVALID_LEVEL,
            },
        }
    }
}

impl Service for WkssvcService {
    fn syntax(&self) -> SyntaxId {
        SyntaxId::WKSSVC
    }

    fn name(&self) -> &'static str {
        "wkssvc"
    }

    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus> {
        match Opnum::new(opnum) {
            Opnum::NETR_WKSTA_GET_INFO => Ok(self.wksta_get_info(&decode(stub)?).to_stub()),
            _ => Err(FaultStatus::OP_RNG_ERROR),
        }
    }
}

#[cfg(test)]
mod tests;
