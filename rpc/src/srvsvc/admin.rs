//! The calls of [`SrvsvcService`] about what the server does rather than what it offers:
//! sessions (NetrSessionEnum), tree connects (NetrConnectionEnum), open files
//! (NetrFileEnum) and disks (NetrServerDiskEnum), for administrators only; transports
//! and the clock (NetrServerTransportEnum, NetrRemoteTOD), for every caller; and the
//! character devices Windows no longer supports (NetrCharDevEnum, NetrCharDevQEnum).

use std::time::{SystemTime, UNIX_EPOCH};

use super::{
    CharDevEnumStruct, CharDevEnumUnion, CharDevQEnumStruct, CharDevQEnumUnion, ConnectEnumStruct,
    ConnectEnumUnion, ConnectionInfo0, ConnectionInfo1, ConnectionRecord, Container,
    DiskEnumContainer, DiskInfo, FileEnumStruct, FileEnumUnion, FileInfo2, FileInfo3,
    NetrCharDevEnumRequest, NetrCharDevEnumResponse, NetrCharDevQEnumRequest,
    NetrCharDevQEnumResponse, NetrConnectionEnumRequest, NetrConnectionEnumResponse,
    NetrFileEnumRequest, NetrFileEnumResponse, NetrRemoteTodRequest, NetrRemoteTodResponse,
    NetrServerDiskEnumRequest, NetrServerDiskEnumResponse, NetrServerTransportEnumRequest,
    NetrServerTransportEnumResponse, NetrSessionEnumRequest, NetrSessionEnumResponse, OpenRecord,
    ServerTransportInfo0, ServerTransportInfo1, SessionEnumStruct, SessionEnumUnion, SessionInfo0,
    SessionInfo1, SessionInfo2, SessionInfo10, SessionInfo502, SessionRecord, SrvsvcService,
    TimeOfDayInfo, TransportEnumStruct, TransportEnumUnion, WinError,
};
use crate::ndr::{ConformantArray, WideString};

/// The transport SMB2 over TCP port 445 runs on, as Windows names it
/// (`svti0_transportname`).
const TRANSPORT_NAME: &str = r"\Device\NetbiosSmb";
/// `svti0_networkaddress` of a transport that is not a NetBIOS adapter.
const NO_NETWORK_ADDRESS: &str = "000000000000";
/// MS-SRVS 2.2.4.105 `tod_tinterval` as Windows reports it (31 ms ticks).
const TICK_INTERVAL: u32 = 310;
/// The drives NetrServerDiskEnum reports: the shares' paths are shown under `C:`.
const DISKS: [&str; 1] = ["C:"];

/// The paging every enumeration shares (MS-SRVS 3.1.4.8): the entries from the resume
/// handle (an index) on, the total, and the resume handle to return.
/// PreferedMaximumLength is not enforced: every remaining entry comes back with
/// ERROR_SUCCESS and a resume handle of 0.
pub(super) fn page<T>(all: &[T], resume: Option<u32>) -> (&[T], u32, Option<u32>) {
    let start = resume.and_then(|h| usize::try_from(h).ok()).unwrap_or(0);
    let total = u32::try_from(all.len()).unwrap_or(u32::MAX);
    (all.get(start..).unwrap_or(&[]), total, resume.map(|_| 0))
}

/// A container of `items` mapped by `f`.
fn container<R, T>(items: &[R], f: impl Fn(&R) -> T) -> Option<Container<T>> {
    Some(Container::new(items.iter().map(f).collect()))
}

/// `\\client`, as Windows shows a session's client.
fn unc(client: &str) -> Option<WideString> {
    Some(WideString::new(format!(r"\\{client}")))
}

/// The account part of `DOMAIN\name`.
fn account(user: &str) -> &str {
    user.rsplit_once('\\').map_or(user, |(_, name)| name)
}

/// A filter argument: `None` for a null or empty string.
fn filter(arg: Option<&WideString>) -> Option<&str> {
    arg.map(|s| s.0.as_str()).filter(|s| !s.is_empty())
}

/// Whether `user` (`DOMAIN\name`) is the user a filter names (`name` or `DOMAIN\name`).
fn user_matches(user: &str, wanted: &str) -> bool {
    if wanted.contains('\\') {
        user.eq_ignore_ascii_case(wanted)
    } else {
        account(user).eq_ignore_ascii_case(wanted)
    }
}

impl SrvsvcService {
    /// ERROR_ACCESS_DENIED for a caller who does not administer the server (checked
    /// first, as Windows does), ERROR_INVALID_LEVEL for a level without an arm.
    fn admin_gate(&self, has_arm: bool) -> WinError {
        if !self.admin {
            WinError::ACCESS_DENIED
        } else if !has_arm {
            WinError::INVALID_LEVEL
        } else {
            WinError::SUCCESS
        }
    }

    fn seconds_since(&self, then: SystemTime) -> u32 {
        let elapsed = (self.clock)().duration_since(then).unwrap_or_default();
        u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX)
    }

    /// MS-SRVS 3.1.4.5 NetrSessionEnum: the sessions, filtered by client and user.
    /// Administrators only (Windows has restricted every level since Server 2016).
    pub fn session_enum(&self, req: &NetrSessionEnumRequest) -> NetrSessionEnumResponse {
        let level = req.info_struct.level();
        let respond =
            |session_info, total_entries, resume_handle, status| NetrSessionEnumResponse {
                info_struct: SessionEnumStruct { session_info },
                total_entries,
                resume_handle,
                status,
            };
        let empty = |status| {
            respond(
                SessionEnumUnion::empty(level),
                0,
                req.resume_handle.map(|_| 0),
                status,
            )
        };
        let status = self.admin_gate(SessionEnumUnion::has_arm(level));
        if status != WinError::SUCCESS {
            return empty(status);
        }
        let client = filter(req.client_name.as_ref()).map(|c| c.trim_start_matches('\\'));
        let user = filter(req.user_name.as_ref());
        let from_client: Vec<SessionRecord> = self
            .activity
            .sessions()
            .into_iter()
            .filter(|s| client.is_none_or(|c| s.client.eq_ignore_ascii_case(c)))
            .collect();
        // MS-SRVS 3.1.4.5: a filter that matches no session is an error.
        if from_client.is_empty() && client.is_some() {
            return empty(WinError::CLIENT_NAME_NOT_FOUND);
        }
        let sessions: Vec<SessionRecord> = from_client
            .into_iter()
            .filter(|s| user.is_none_or(|u| user_matches(&s.user, u)))
            .collect();
        if sessions.is_empty() && user.is_some() {
            return empty(WinError::USER_NOT_FOUND);
        }
        let (sessions, total, resume) = page(&sessions, req.resume_handle);
        let info = match SessionEnumUnion::null(level) {
            SessionEnumUnion::Level0(_) => {
                SessionEnumUnion::Level0(container(sessions, |s| SessionInfo0 {
                    cname: unc(&s.client),
                }))
            }
            SessionEnumUnion::Level1(_) => {
                SessionEnumUnion::Level1(container(sessions, |s| self.session_info1(s)))
            }
            SessionEnumUnion::Level2(_) => SessionEnumUnion::Level2(container(sessions, |s| {
                let i = self.session_info1(s);
                SessionInfo2 {
                    cname: i.cname,
                    username: i.username,
                    num_opens: i.num_opens,
                    time: i.time,
                    idle_time: i.idle_time,
                    user_flags: i.user_flags,
                    cltype_name: Some(WideString::default()),
                }
            })),
            SessionEnumUnion::Level10(_) => {
                SessionEnumUnion::Level10(container(sessions, |s| SessionInfo10 {
                    cname: unc(&s.client),
                    username: Some(WideString::new(account(&s.user))),
                    time: self.seconds_since(s.since),
                    idle_time: self.seconds_since(s.last_active),
                }))
            }
            SessionEnumUnion::Level502(_) => SessionEnumUnion::Level502(container(sessions, |s| {
                let i = self.session_info1(s);
                SessionInfo502 {
                    cname: i.cname,
                    username: i.username,
                    num_opens: i.num_opens,
                    time: i.time,
                    idle_time: i.idle_time,
                    user_flags: i.user_flags,
                    cltype_name: Some(WideString::default()),
                    transport: Some(WideString::default()),
                }
            })),
            other => other,
        };
        respond(info, total, resume, WinError::SUCCESS)
    }

    fn session_info1(&self, s: &SessionRecord) -> SessionInfo1 {
        SessionInfo1 {
            cname: unc(&s.client),
            username: Some(WideString::new(account(&s.user))),
            num_opens: s.opens,
            time: self.seconds_since(s.since),
            idle_time: self.seconds_since(s.last_active),
            user_flags: 0,
        }
    }

    /// MS-SRVS 3.1.4.1 NetrConnectionEnum: the tree connects to a share (Qualifier a
    /// share name) or from a client (Qualifier `\\client`). Administrators only.
    pub fn connection_enum(&self, req: &NetrConnectionEnumRequest) -> NetrConnectionEnumResponse {
        let level = req.info_struct.level();
        let respond =
            |connect_info, total_entries, resume_handle, status| NetrConnectionEnumResponse {
                info_struct: ConnectEnumStruct { connect_info },
                total_entries,
                resume_handle,
                status,
            };
        let empty = |status| {
            respond(
                ConnectEnumUnion::empty(level),
                0,
                req.resume_handle.map(|_| 0),
                status,
            )
        };
        let status = self.admin_gate(ConnectEnumUnion::has_arm(level));
        if status != WinError::SUCCESS {
            return empty(status);
        }
        // MS-SRVS 3.1.4.1: the Qualifier is required.
        let Some(qualifier) = filter(req.qualifier.as_ref()) else {
            return empty(WinError::INVALID_PARAMETER);
        };
        let by_client = qualifier.strip_prefix(r"\\");
        if by_client.is_none() && self.find(qualifier).is_none() {
            return empty(WinError::NET_NAME_NOT_FOUND);
        }
        let connections: Vec<ConnectionRecord> = self
            .activity
            .connections()
            .into_iter()
            .filter(|c| match by_client {
                Some(client) => c.client.eq_ignore_ascii_case(client),
                None => c.share.eq_ignore_ascii_case(qualifier),
            })
            .collect();
        if connections.is_empty() && by_client.is_some() {
            return empty(WinError::CLIENT_NAME_NOT_FOUND);
        }
        let (connections, total, resume) = page(&connections, req.resume_handle);
        let info = match ConnectEnumUnion::null(level) {
            ConnectEnumUnion::Level0(_) => {
                ConnectEnumUnion::Level0(container(connections, |c| ConnectionInfo0 { id: c.id }))
            }
            ConnectEnumUnion::Level1(_) => ConnectEnumUnion::Level1(container(connections, |c| {
                // The other side of the qualifier: the share for a client, the client
                // for a share.
                let netname = if by_client.is_some() {
                    &c.share
                } else {
                    &c.client
                };
                ConnectionInfo1 {
                    id: c.id,
                    connection_type: c.share_type,
                    num_opens: c.opens,
                    num_users: 1,
                    time: self.seconds_since(c.since),
                    username: Some(WideString::new(account(&c.user))),
                    netname: Some(WideString::new(netname)),
                }
            })),
            other => other,
        };
        respond(info, total, resume, WinError::SUCCESS)
    }

    /// MS-SRVS 3.1.4.2 NetrFileEnum: the open files, filtered by path prefix and user.
    /// Administrators only.
    pub fn file_enum(&self, req: &NetrFileEnumRequest) -> NetrFileEnumResponse {
        let level = req.info_struct.level();
        let respond = |file_info, total_entries, resume_handle, status| NetrFileEnumResponse {
            info_struct: FileEnumStruct { file_info },
            total_entries,
            resume_handle,
            status,
        };
        let status = self.admin_gate(FileEnumUnion::has_arm(level));
        if status != WinError::SUCCESS {
            let resume = req.resume_handle.map(|_| 0);
            return respond(FileEnumUnion::empty(level), 0, resume, status);
        }
        let base = filter(req.base_path.as_ref()).map(str::to_ascii_lowercase);
        let user = filter(req.user_name.as_ref());
        let opens: Vec<OpenRecord> = self
            .activity
            .opens()
            .into_iter()
            .filter(|o| {
                base.as_ref()
                    .is_none_or(|b| o.path.to_ascii_lowercase().starts_with(b.as_str()))
            })
            .filter(|o| user.is_none_or(|u| user_matches(&o.user, u)))
            .collect();
        let (opens, total, resume) = page(&opens, req.resume_handle);
        let info = match FileEnumUnion::null(level) {
            FileEnumUnion::Level2(_) => {
                FileEnumUnion::Level2(container(opens, |o| FileInfo2 { id: o.id }))
            }
            FileEnumUnion::Level3(_) => FileEnumUnion::Level3(container(opens, |o| FileInfo3 {
                id: o.id,
                permissions: o.permissions,
                num_locks: o.locks,
                pathname: Some(WideString::new(&o.path)),
                username: Some(WideString::new(account(&o.user))),
            })),
            other => other,
        };
        respond(info, total, resume, WinError::SUCCESS)
    }

    /// MS-SRVS 3.1.4 NetrServerDiskEnum: the drives (`C:`, under which the shares'
    /// paths are shown) and, as Windows sends, an empty string after them that
    /// TotalEntries does not count. Administrators only.
    pub fn disk_enum(&self, req: &NetrServerDiskEnumRequest) -> NetrServerDiskEnumResponse {
        let status = self.admin_gate(req.level == 0);
        let resume_handle = req.resume_handle.map(|_| 0);
        if status != WinError::SUCCESS {
            return NetrServerDiskEnumResponse {
                disk_info_struct: DiskEnumContainer::default(),
                total_entries: 0,
                resume_handle,
                status,
            };
        }
        let disks = DISKS
            .iter()
            .chain(&[""])
            .map(|d| DiskInfo::new(d))
            .collect();
        NetrServerDiskEnumResponse {
            disk_info_struct: DiskEnumContainer::new(disks),
            total_entries: u32::try_from(DISKS.len()).unwrap_or(u32::MAX),
            resume_handle,
            status,
        }
    }

    /// MS-SRVS 3.1.4 NetrServerTransportEnum: one transport, SMB over TCP, its address
    /// the server's NetBIOS name. Open to every caller (as on Windows).
    pub fn transport_enum(
        &self,
        req: &NetrServerTransportEnumRequest,
    ) -> NetrServerTransportEnumResponse {
        let level = req.info_struct.level();
        let resume = req.resume_handle.map(|_| 0);
        if !TransportEnumUnion::has_arm(level) {
            return NetrServerTransportEnumResponse {
                info_struct: TransportEnumStruct {
                    xport_info: TransportEnumUnion::empty(level),
                },
                total_entries: 0,
                resume_handle: resume,
                status: WinError::INVALID_LEVEL,
            };
        }
        let info0 = self.transport_info0();
        let xport_info = match TransportEnumUnion::null(level) {
            TransportEnumUnion::Level1(_) => {
                TransportEnumUnion::Level1(Some(Container::new(vec![ServerTransportInfo1 {
                    number_of_vcs: info0.number_of_vcs,
                    transport_name: info0.transport_name,
                    transport_address: info0.transport_address,
                    transport_address_length: info0.transport_address_length,
                    network_address: info0.network_address,
                    domain: Some(WideString::new(&self.domain)),
                }])))
            }
            _ => TransportEnumUnion::Level0(Some(Container::new(vec![info0]))),
        };
        NetrServerTransportEnumResponse {
            info_struct: TransportEnumStruct { xport_info },
            total_entries: 1,
            resume_handle: resume,
            status: WinError::SUCCESS,
        }
    }

    fn transport_info0(&self) -> ServerTransportInfo0 {
        // A NetBIOS name: 15 characters and a suffix, padded with spaces.
        let mut address: Vec<u8> = self.name.to_ascii_uppercase().bytes().take(16).collect();
        address.resize(16, b' ');
        ServerTransportInfo0 {
            number_of_vcs: u32::try_from(self.activity.sessions().len()).unwrap_or(u32::MAX),
            transport_name: Some(WideString::new(TRANSPORT_NAME)),
            transport_address_length: 16,
            transport_address: Some(ConformantArray(address)),
            network_address: Some(WideString::new(NO_NETWORK_ADDRESS)),
        }
    }

    /// MS-SRVS 3.1.4.21 NetrRemoteTOD: the server's clock, in UTC. Open to every caller
    /// (Windows: "no special group membership is required").
    pub fn remote_tod(&self, _req: &NetrRemoteTodRequest) -> NetrRemoteTodResponse {
        NetrRemoteTodResponse {
            buffer: Some(time_of_day((self.clock)())),
            status: WinError::SUCCESS,
        }
    }

    /// MS-SRVS 3.1.4 NetrCharDevEnum: Windows servers no longer share character devices
    /// and answer ERROR_NOT_SUPPORTED; so does this one.
    pub fn char_dev_enum(&self, req: &NetrCharDevEnumRequest) -> NetrCharDevEnumResponse {
        NetrCharDevEnumResponse {
            info_struct: CharDevEnumStruct {
                char_dev_info: CharDevEnumUnion::empty(req.info_struct.level()),
            },
            total_entries: 0,
            resume_handle: req.resume_handle.map(|_| 0),
            status: WinError::NOT_SUPPORTED,
        }
    }

    /// MS-SRVS 3.1.4 NetrCharDevQEnum: not supported either.
    pub fn char_dev_q_enum(&self, req: &NetrCharDevQEnumRequest) -> NetrCharDevQEnumResponse {
        NetrCharDevQEnumResponse {
            info_struct: CharDevQEnumStruct {
                char_dev_q_info: CharDevQEnumUnion::empty(req.info_struct.level()),
            },
            total_entries: 0,
            resume_handle: req.resume_handle.map(|_| 0),
            status: WinError::NOT_SUPPORTED,
        }
    }
}

/// MS-SRVS 2.2.4.105 TIME_OF_DAY_INFO for `now`, in UTC (`tod_timezone` 0).
pub(super) fn time_of_day(now: SystemTime) -> TimeOfDayInfo {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let millis = secs
        .wrapping_mul(1000)
        .wrapping_add(u64::from(since_epoch.subsec_millis()));
    TimeOfDayInfo {
        elapsed: u32::try_from(secs).unwrap_or(u32::MAX),
        // A free-running millisecond counter: the low 32 bits of the epoch's.
        msecs: millis as u32,
        hours: (of_day / 3600) as u32,
        mins: (of_day / 60 % 60) as u32,
        secs: (of_day % 60) as u32,
        hunds: since_epoch.subsec_millis() / 10,
        timezone: 0,
        tinterval: TICK_INTERVAL,
        day,
        month,
        year,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4) % 7) as u32,
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (
        u32::try_from(year).unwrap_or(u32::MAX),
        month as u32,
        day as u32,
    )
}

#[cfg(test)]
mod tests {
    //! Byte-exact checks against Samba's pidl marshalling
    //! (`rpc/testdata/ndr/srvsvc_admin.txt`, made by `gen-srvsvc-admin.py` for the same
    //! server, session, tree connect and open).

    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::error::DecodeError;
    use crate::ndr::NdrParams;
    use crate::pdu::FaultStatus;
    use crate::server::Service;
    use crate::srvsvc::{Opnum, STYPE_DISKTREE, ServerActivity, Share};
    use crate::testdata::check;

    /// 2026-12-03 07:05:28.25 UTC, a Thursday.
    const NOW_MS: u64 = 1_796_281_528_250;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(NOW_MS)
    }

    fn ago(secs: u64) -> SystemTime {
        now() - Duration::from_secs(secs)
    }

    fn reference(name: &str) -> Vec<u8> {
        crate::testdata::reference(include_str!("../../testdata/ndr/srvsvc_admin.txt"), name)
    }

    /// alice from 10.0.0.5: one session, one tree connect to `data`, one open.
    #[derive(Debug)]
    struct Alice;

    impl ServerActivity for Alice {
        fn sessions(&self) -> Vec<SessionRecord> {
            vec![SessionRecord {
                client: "10.0.0.5".into(),
                user: r"EXAMPLE\alice".into(),
                opens: 1,
                since: ago(120),
                last_active: ago(30),
            }]
        }

        fn connections(&self) -> Vec<ConnectionRecord> {
            vec![ConnectionRecord {
                id: 7,
                client: "10.0.0.5".into(),
                user: r"EXAMPLE\alice".into(),
                share: "data".into(),
                share_type: STYPE_DISKTREE,
                opens: 1,
                since: ago(100),
            }]
        }

        fn opens(&self) -> Vec<OpenRecord> {
            vec![OpenRecord {
                id: 9,
                user: r"EXAMPLE\alice".into(),
                path: r"C:\srv\data\report.txt".into(),
                permissions: 3,
                locks: 0,
            }]
        }
    }

    /// FS1 as the generator describes it, to an administrator or not.
    fn service(admin: bool) -> SrvsvcService {
        SrvsvcService::new(
            "FS1",
            "Adjoin file server",
            vec![
                Share::ipc("IPC Service (Adjoin)"),
                Share::disk("data", "Team data", "/srv/data"),
            ],
        )
        .in_domain("EXAMPLE")
        .administrator(admin)
        .with_activity(Arc::new(Alice))
        .with_clock(now)
    }

    /// The reference request `name_in` decodes to what our encoder writes, and `opnum`
    /// answers it with `name_out`.
    fn answers(srv: &mut SrvsvcService, opnum: Opnum, name: &str) {
        let reply = srv.call(opnum.value(), &reference(&format!("{name}_in")));
        assert_eq!(reply, Ok(reference(&format!("{name}_out"))), "{name}");
    }

    fn round_trips<T: NdrParams + PartialEq + core::fmt::Debug>(name: &str) {
        let wire = reference(name);
        let value = T::from_stub(&wire).unwrap_or_else(|e| panic!("{name}: {e}"));
        check(name, &wire, &value);
    }

    #[test]
    fn netr_session_enum_answers_as_samba_encodes() {
        let mut srv = service(true);
        for level in [0, 1, 2, 10, 502] {
            let name = format!("sess_enum_{level}");
            answers(&mut srv, Opnum::NETR_SESSION_ENUM, &name);
            round_trips::<NetrSessionEnumRequest>(&format!("{name}_in"));
            round_trips::<NetrSessionEnumResponse>(&format!("{name}_out"));
        }
    }

    /// MS-SRVS 3.1.4.5: only administrators enumerate sessions (and the denial carries
    /// the empty container, as Samba encodes it).
    #[test]
    fn netr_session_enum_is_denied_to_others() {
        let mut srv = service(false);
        let reply = srv.call(
            Opnum::NETR_SESSION_ENUM.value(),
            &reference("sess_enum_1_in"),
        );
        assert_eq!(reply, Ok(reference("sess_enum_denied_out")));
        for (opnum, name) in [
            (Opnum::NETR_CONNECTION_ENUM, "conn_enum_1"),
            (Opnum::NETR_FILE_ENUM, "file_enum_3"),
        ] {
            let reply = srv
                .call(opnum.value(), &reference(&format!("{name}_in")))
                .unwrap();
            assert_eq!(reply[reply.len() - 4..], 5u32.to_le_bytes(), "{name}");
        }
        let req = NetrServerDiskEnumRequest::from_stub(&reference("disk_enum_in")).unwrap();
        assert_eq!(srv.disk_enum(&req).status, WinError::ACCESS_DENIED);
    }

    #[test]
    fn netr_session_enum_filters_by_client_and_user() {
        let srv = service(true);
        let mut req = NetrSessionEnumRequest::from_stub(&reference("sess_enum_10_in")).unwrap();
        req.client_name = Some(WideString::new(r"\\10.0.0.5"));
        req.user_name = Some(WideString::new("ALICE"));
        let resp = srv.session_enum(&req);
        assert_eq!((resp.status, resp.total_entries), (WinError::SUCCESS, 1));
        req.user_name = Some(WideString::new(r"EXAMPLE\bob"));
        assert_eq!(srv.session_enum(&req).status, WinError::USER_NOT_FOUND);
        req.client_name = Some(WideString::new(r"\\10.9.9.9"));
        assert_eq!(
            srv.session_enum(&req).status,
            WinError::CLIENT_NAME_NOT_FOUND
        );
        // A level without an arm.
        let mut req = NetrSessionEnumRequest::from_stub(&reference("sess_enum_0_in")).unwrap();
        req.info_struct.session_info = SessionEnumUnion::empty(7);
        assert_eq!(srv.session_enum(&req).status, WinError::INVALID_LEVEL);
    }

    #[test]
    fn netr_connection_enum_answers_as_samba_encodes() {
        let mut srv = service(true);
        for name in ["conn_enum_0", "conn_enum_1"] {
            answers(&mut srv, Opnum::NETR_CONNECTION_ENUM, name);
            round_trips::<NetrConnectionEnumRequest>(&format!("{name}_in"));
            round_trips::<NetrConnectionEnumResponse>(&format!("{name}_out"));
        }
    }

    /// MS-SRVS 3.1.4.1: the Qualifier is a share or `\\client`, and required.
    #[test]
    fn netr_connection_enum_qualifiers() {
        let srv = service(true);
        let mut req = NetrConnectionEnumRequest::from_stub(&reference("conn_enum_1_in")).unwrap();
        req.qualifier = Some(WideString::new(r"\\10.0.0.5"));
        let resp = srv.connection_enum(&req);
        let ConnectEnumUnion::Level1(Some(c)) = &resp.info_struct.connect_info else {
            panic!("{resp:?}");
        };
        assert_eq!(c.entries()[0].netname, Some(WideString::new("data")));
        req.qualifier = Some(WideString::new("IPC$"));
        let resp = srv.connection_enum(&req);
        assert_eq!((resp.status, resp.total_entries), (WinError::SUCCESS, 0));
        req.qualifier = Some(WideString::new("nosuch"));
        assert_eq!(
            srv.connection_enum(&req).status,
            WinError::NET_NAME_NOT_FOUND
        );
        req.qualifier = None;
        assert_eq!(
            srv.connection_enum(&req).status,
            WinError::INVALID_PARAMETER
        );
    }

    #[test]
    fn netr_file_enum_answers_as_samba_encodes() {
        let mut srv = service(true);
        for name in ["file_enum_2", "file_enum_3"] {
            answers(&mut srv, Opnum::NETR_FILE_ENUM, name);
            round_trips::<NetrFileEnumRequest>(&format!("{name}_in"));
            round_trips::<NetrFileEnumResponse>(&format!("{name}_out"));
        }
        let mut req = NetrFileEnumRequest::from_stub(&reference("file_enum_3_in")).unwrap();
        req.base_path = Some(WideString::new(r"c:\SRV\data"));
        assert_eq!(srv.file_enum(&req).total_entries, 1);
        req.base_path = Some(WideString::new(r"C:\home"));
        assert_eq!(srv.file_enum(&req).total_entries, 0);
    }

    #[test]
    fn netr_server_disk_enum_answers_as_samba_encodes() {
        answers(
            &mut service(true),
            Opnum::NETR_SERVER_DISK_ENUM,
            "disk_enum",
        );
        round_trips::<NetrServerDiskEnumRequest>("disk_enum_in");
        round_trips::<NetrServerDiskEnumResponse>("disk_enum_out");
    }

    /// MS-SRVS DISK_ENUM_CONTAINER: `[size_is(EntriesRead), length_is(EntriesRead)]`,
    /// and DISK_INFO is `WCHAR Disk[3]`.
    #[test]
    fn disk_counts_and_lengths_are_checked() {
        let wire = reference("disk_enum_out");
        let mut bad = wire.clone();
        bad[0] = 3; // EntriesRead
        assert!(matches!(
            NetrServerDiskEnumResponse::from_stub(&bad),
            Err(DecodeError::SizeIs { count: 3, .. })
        ));
        let mut bad = wire.clone();
        bad[24] = 4; // the first DISK_INFO's actual count
        assert!(NetrServerDiskEnumResponse::from_stub(&bad).is_err());
        for len in 0..wire.len() {
            assert!(
                NetrServerDiskEnumResponse::from_stub(&wire[..len]).is_err(),
                "{len}"
            );
        }
    }

    #[test]
    fn netr_server_transport_enum_answers_as_samba_encodes() {
        // Open to every caller.
        let mut srv = service(false);
        for name in ["transport_enum_0", "transport_enum_1"] {
            answers(&mut srv, Opnum::NETR_SERVER_TRANSPORT_ENUM, name);
            round_trips::<NetrServerTransportEnumRequest>(&format!("{name}_in"));
            round_trips::<NetrServerTransportEnumResponse>(&format!("{name}_out"));
        }
    }

    #[test]
    fn netr_remote_tod_answers_as_samba_encodes() {
        answers(&mut service(false), Opnum::NETR_REMOTE_TOD, "remote_tod");
        round_trips::<NetrRemoteTodResponse>("remote_tod_out");
    }

    #[test]
    fn time_of_day_reads_the_calendar() {
        let tod = time_of_day(UNIX_EPOCH);
        assert_eq!((tod.year, tod.month, tod.day, tod.weekday), (1970, 1, 1, 4));
        // 2000-02-29 12:34:56, a Tuesday (a leap day of a century leap year).
        let tod = time_of_day(UNIX_EPOCH + Duration::from_secs(951_827_696));
        assert_eq!(
            (tod.year, tod.month, tod.day, tod.weekday),
            (2000, 2, 29, 2)
        );
        assert_eq!((tod.hours, tod.mins, tod.secs), (12, 34, 56));
        let tod = time_of_day(UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!((tod.elapsed, tod.year), (0, 1970));
    }

    #[test]
    fn character_devices_are_not_supported() {
        let mut srv = service(true);
        answers(&mut srv, Opnum::NETR_CHAR_DEV_ENUM, "char_dev_enum_0");
        answers(&mut srv, Opnum::NETR_CHAR_DEV_Q_ENUM, "char_dev_q_enum_1");
        round_trips::<NetrCharDevQEnumRequest>("char_dev_q_enum_1_in");
    }

    #[test]
    fn truncated_requests_fault() {
        let mut srv = service(true);
        for (opnum, name) in [
            (Opnum::NETR_SESSION_ENUM, "sess_enum_502_in"),
            (Opnum::NETR_CONNECTION_ENUM, "conn_enum_1_in"),
            (Opnum::NETR_FILE_ENUM, "file_enum_3_in"),
            (Opnum::NETR_SERVER_DISK_ENUM, "disk_enum_in"),
            (Opnum::NETR_SERVER_TRANSPORT_ENUM, "transport_enum_1_in"),
        ] {
            let wire = reference(name);
            for len in 0..wire.len() {
                assert_eq!(
                    srv.call(opnum.value(), &wire[..len]),
                    Err(FaultStatus::NDR),
                    "{name} {len}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Every reference request of this file, one byte changed: answered or
        /// faulted, never a panic.
        #[test]
        fn mutated_requests_never_panic(
            which in 0usize..8,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let (opnum, name) = [
                (Opnum::NETR_SESSION_ENUM, "sess_enum_502_in"),
                (Opnum::NETR_CONNECTION_ENUM, "conn_enum_1_in"),
                (Opnum::NETR_FILE_ENUM, "file_enum_3_in"),
                (Opnum::NETR_SERVER_DISK_ENUM, "disk_enum_in"),
                (Opnum::NETR_SERVER_TRANSPORT_ENUM, "transport_enum_1_in"),
                (Opnum::NETR_REMOTE_TOD, "remote_tod_in"),
                (Opnum::NETR_CHAR_DEV_Q_ENUM, "char_dev_q_enum_1_in"),
                (Opnum::NETR_SHARE_CHECK, "share_check_data_in"),
            ][which];
            let mut wire = reference(name);
            let at = at.index(wire.len());
            wire[at] = byte;
            let _ = service(true).call(opnum.value(), &wire);
        }
    }
}
