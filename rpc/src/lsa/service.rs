//! [`LsaService`]: the lsarpc pipe of a domain member for one caller (MS-LSAD policy
//! handles and the member's domain information; MS-LSAT name and SID translation, in
//! `translate`), sans-IO: a request stub in, a response stub out.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::lookup::{
    LookupNames2Request, LookupNames2Response, LookupNames3Request, LookupNames3Response,
    LookupNamesRequest, LookupNamesResponse, LookupSids2Request, LookupSids2Response,
    LookupSidsRequest, LookupSidsResponse, TranslatedName, TranslatedNames, TranslatedSid,
    TranslatedSidEx, TranslatedSids, TranslatedSidsEx,
};
use super::policy::{
    CloseRequest, CloseResponse, DnsDomainInfo, MAXIMUM_ALLOWED, OpenPolicy2Request,
    OpenPolicyRequest, OpenPolicyResponse, POLICY_ADMIN_RIGHTS, POLICY_ALL_ACCESS, POLICY_EXECUTE,
    POLICY_LOOKUP_NAMES, POLICY_READ, POLICY_VIEW_LOCAL_INFORMATION, POLICY_WRITE,
    PolicyInformation, PolicyInformationClass, QueryInformationPolicyRequest,
    QueryInformationPolicyResponse,
};
use super::translate::{Account, MemberDomains, SidResolver, Translator, len};
use super::{
    GetUserNameRequest, GetUserNameResponse, SidNameUse, TranslatedNamesEx, TranslatedSidEx2,
    TranslatedSidsEx2, TrustInformation,
};
use crate::ndr::{ConformantArray, ContextHandle, NdrParams, Sid, UnicodeString, Uuid};
use crate::ntstatus::NtStatus;
use crate::pdu::FaultStatus;
use crate::server::Service;
use crate::srvsvc::decode;
use crate::uuid::SyntaxId;

open_enum! {
    /// LSARPC operation numbers (MS-LSAD 3.1.4 and MS-LSAT 3.1.4) this service answers.
    pub struct Opnum(u16) {
        /// LsarClose.
        CLOSE = 0 => "LsarClose",
        /// LsarOpenPolicy.
        OPEN_POLICY = 6 => "LsarOpenPolicy",
        /// LsarQueryInformationPolicy.
        QUERY_INFORMATION_POLICY = 7 => "LsarQueryInformationPolicy",
        /// LsarLookupNames.
        LOOKUP_NAMES = 14 => "LsarLookupNames",
        /// LsarLookupSids.
        LOOKUP_SIDS = 15 => "LsarLookupSids",
        /// LsarOpenPolicy2.
        OPEN_POLICY2 = 44 => "LsarOpenPolicy2",
        /// LsarGetUserName.
        GET_USER_NAME = 45 => "LsarGetUserName",
        /// LsarQueryInformationPolicy2.
        QUERY_INFORMATION_POLICY2 = 46 => "LsarQueryInformationPolicy2",
        /// LsarLookupSids2.
        LOOKUP_SIDS2 = 57 => "LsarLookupSids2",
        /// LsarLookupNames2.
        LOOKUP_NAMES2 = 58 => "LsarLookupNames2",
        /// LsarLookupNames3.
        LOOKUP_NAMES3 = 68 => "LsarLookupNames3",
        /// LsarLookupSids3 (secure channel only).
        LOOKUP_SIDS3 = 76 => "LsarLookupSids3",
        /// LsarLookupNames4 (secure channel only).
        LOOKUP_NAMES4 = 77 => "LsarLookupNames4",
    }
}

/// Policy handles one pipe may hold; past this LsarOpenPolicy fails with
/// STATUS_INSUFFICIENT_RESOURCES.
const MAX_HANDLES: usize = 64;
/// MS-LSAT 3.1.4.8 `[range(0,1000)] Count` of names.
const MAX_NAMES: usize = 1000;
/// MS-LSAT 2.2.18 `[range(0,20480)] Entries` of SIDs.
const MAX_SIDS: usize = 20_480;

/// Who is calling, as the SMB session authenticated them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The NetBIOS name of the user's domain.
    pub domain: String,
    /// The account name.
    pub user: String,
    /// Whether the user administers this server (may have every policy right).
    pub admin: bool,
}

/// The lsarpc interface of a member for one caller: its policy handles, the member's
/// domains and the resolver.
#[derive(Debug)]
pub struct LsaService {
    translator: Translator,
    caller: Option<Caller>,
    /// Open policy handles (the number in the UUID) and the access each was granted.
    handles: BTreeMap<u32, u32>,
    next_handle: u32,
}

impl LsaService {
    /// The service of a member of `domains`, translating accounts through `resolver`
    /// (`None`: only the domains and the well-known SIDs), for `caller` (`None`: a
    /// session whose user is not known here).
    pub fn new(
        domains: Arc<MemberDomains>,
        resolver: Option<Arc<dyn SidResolver>>,
        caller: Option<Caller>,
    ) -> Self {
        Self {
            translator: Translator { domains, resolver },
            caller,
            handles: BTreeMap::new(),
            next_handle: 1,
        }
    }

    fn admin(&self) -> bool {
        self.caller.as_ref().is_some_and(|c| c.admin)
    }

    /// MS-LSAD 3.1.4.4.1 LsarOpenPolicy2 (and 3.1.4.4.2 LsarOpenPolicy): a handle with
    /// the access asked for, generic rights mapped (MS-LSAD 2.2.1.1.2). As Windows'
    /// policy security descriptor has it, everyone may read the domain information and
    /// translate names, and only administrators have the other rights.
    pub fn open_policy(&mut self, desired_access: u32) -> OpenPolicyResponse {
        let refuse = |status| OpenPolicyResponse {
            policy_handle: ContextHandle::NULL,
            status,
        };
        let granted = map_generic(desired_access, self.admin());
        if granted & POLICY_ADMIN_RIGHTS != 0 && !self.admin() {
            return refuse(NtStatus::ACCESS_DENIED);
        }
        if self.handles.len() >= MAX_HANDLES {
            return refuse(NtStatus::INSUFFICIENT_RESOURCES);
        }
        let id = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        self.handles.insert(id, granted);
        OpenPolicyResponse {
            policy_handle: handle(id),
            status: NtStatus::SUCCESS,
        }
    }

    /// MS-LSAD 3.1.4.9.4 LsarClose: the handle goes; the null handle comes back.
    pub fn close(&mut self, req: &CloseRequest) -> CloseResponse {
        match self.handles.remove(&handle_id(&req.object_handle)) {
            Some(_) => CloseResponse {
                object_handle: ContextHandle::NULL,
                status: NtStatus::SUCCESS,
            },
            None => CloseResponse {
                object_handle: req.object_handle,
                status: NtStatus::INVALID_HANDLE,
            },
        }
    }

    /// Whether the handle's access includes `needed`: SUCCESS, INVALID_HANDLE or
    /// ACCESS_DENIED.
    fn check(&self, policy: &ContextHandle, needed: u32) -> NtStatus {
        match self.handles.get(&handle_id(policy)) {
            Some(granted) if granted & needed == needed => NtStatus::SUCCESS,
            Some(_) => NtStatus::ACCESS_DENIED,
            None => NtStatus::INVALID_HANDLE,
        }
    }

    /// MS-LSAD 3.1.4.4.3/3.1.4.4.4 LsarQueryInformationPolicy2/LsarQueryInformationPolicy:
    /// the primary domain (the joined one), the account domain (the machine's own) and
    /// the DNS domain; other classes are STATUS_INVALID_PARAMETER.
    pub fn query_information_policy(
        &self,
        req: &QueryInformationPolicyRequest,
    ) -> QueryInformationPolicyResponse {
        let fail = |status| QueryInformationPolicyResponse {
            policy_information: None,
            status,
        };
        let d = &self.translator.domains;
        let trust = |name: &str, sid: &Sid| TrustInformation {
            name: UnicodeString::new(name),
            sid: Some(sid.clone()),
        };
        let info = match req.information_class {
            PolicyInformationClass::PRIMARY_DOMAIN => {
                PolicyInformation::PrimaryDomain(trust(&d.netbios_domain, &d.domain_sid))
            }
            PolicyInformationClass::ACCOUNT_DOMAIN => {
                PolicyInformation::AccountDomain(trust(&d.computer, &d.machine_sid))
            }
            PolicyInformationClass::LOCAL_ACCOUNT_DOMAIN => {
                PolicyInformation::LocalAccountDomain(trust(&d.computer, &d.machine_sid))
            }
            PolicyInformationClass::DNS_DOMAIN => PolicyInformation::DnsDomain(DnsDomainInfo {
                name: UnicodeString::new(&d.netbios_domain),
                dns_domain_name: UnicodeString::new(&d.dns_domain),
                dns_forest_name: UnicodeString::new(&d.dns_forest),
                domain_guid: d.domain_guid,
                sid: Some(d.domain_sid.clone()),
            }),
            _ => return fail(NtStatus::INVALID_PARAMETER),
        };
        // MS-LSAD 3.1.4.4.3: these classes need POLICY_VIEW_LOCAL_INFORMATION.
        match self.check(&req.policy_handle, POLICY_VIEW_LOCAL_INFORMATION) {
            NtStatus::SUCCESS => QueryInformationPolicyResponse {
                policy_information: Some(info),
                status: NtStatus::SUCCESS,
            },
            status => fail(status),
        }
    }

    /// MS-LSAT 3.1.4.4 LsarGetUserName: the caller, and its domain when asked for.
    pub fn get_user_name(&self, req: &GetUserNameRequest) -> GetUserNameResponse {
        match &self.caller {
            Some(caller) => GetUserNameResponse {
                user_name: Some(UnicodeString::new(&caller.user)),
                domain_name: req
                    .domain_name
                    .as_ref()
                    .map(|_| Some(UnicodeString::new(&caller.domain))),
                status: NtStatus::SUCCESS,
            },
            None => GetUserNameResponse {
                user_name: None,
                domain_name: req.domain_name.as_ref().map(|_| None),
                status: NtStatus::ACCESS_DENIED,
            },
        }
    }

    /// A lookup's handle (POLICY_LOOKUP_NAMES), level and size; `Err` is the status to
    /// fail with.
    fn lookup_allowed(
        &self,
        policy: &ContextHandle,
        level: u16,
        count: usize,
        max: usize,
    ) -> Result<(), NtStatus> {
        match self.check(policy, POLICY_LOOKUP_NAMES) {
            NtStatus::SUCCESS => {}
            status => return Err(status),
        }
        // MS-LSAT 2.2.16: LsapLookupWksta (1) .. LsapLookupRODCReferralToFullDC (6).
        if !(1..=6).contains(&level) || count > max {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        Ok(())
    }

    /// MS-LSAT 3.1.4.11 LsarLookupSids.
    pub fn lookup_sids(&self, req: &LookupSidsRequest) -> LookupSidsResponse {
        let count = req.sids.sid_info.as_ref().map_or(0, |s| s.0.len());
        let allowed = self.lookup_allowed(&req.policy_handle, req.lookup_level, count, MAX_SIDS);
        if let Err(status) = allowed {
            return LookupSidsResponse {
                referenced_domains: None,
                translated_names: TranslatedNames::default(),
                mapped_count: 0,
                status,
            };
        }
        let t = self.translator.sids(&req.sids);
        let names: Vec<TranslatedName> = t
            .entries
            .into_iter()
            .map(|n| TranslatedName {
                sid_use: n.sid_use,
                name: n.name,
                domain_index: n.domain_index,
            })
            .collect();
        LookupSidsResponse {
            referenced_domains: Some(t.domains),
            translated_names: TranslatedNames {
                entries: len(&names),
                names: Some(ConformantArray(names)),
            },
            mapped_count: t.mapped_count,
            status: t.status,
        }
    }

    /// MS-LSAT 3.1.4.10 LsarLookupSids2.
    pub fn lookup_sids2(&self, req: &LookupSids2Request) -> LookupSids2Response {
        let count = req.sids.sid_info.as_ref().map_or(0, |s| s.0.len());
        let allowed = self.lookup_allowed(&req.policy_handle, req.lookup_level, count, MAX_SIDS);
        if let Err(status) = allowed {
            return LookupSids2Response {
                referenced_domains: None,
                translated_names: TranslatedNamesEx::default(),
                mapped_count: 0,
                status,
            };
        }
        let t = self.translator.sids(&req.sids);
        LookupSids2Response {
            referenced_domains: Some(t.domains),
            translated_names: TranslatedNamesEx {
                entries: len(&t.entries),
                names: Some(ConformantArray(t.entries)),
            },
            mapped_count: t.mapped_count,
            status: t.status,
        }
    }

    /// MS-LSAT 3.1.4.8 LsarLookupNames.
    pub fn lookup_names(&self, req: &LookupNamesRequest) -> LookupNamesResponse {
        let names = &req.names.0;
        let allowed =
            self.lookup_allowed(&req.policy_handle, req.lookup_level, names.len(), MAX_NAMES);
        if let Err(status) = allowed {
            return LookupNamesResponse {
                referenced_domains: None,
                translated_sids: TranslatedSids::default(),
                mapped_count: 0,
                status,
            };
        }
        let t = self.translator.names(names);
        let sids: Vec<TranslatedSid> = t
            .entries
            .iter()
            .map(|f| {
                let (sid_use, relative_id, domain_index) = relative(f.as_ref());
                TranslatedSid {
                    sid_use,
                    relative_id,
                    domain_index,
                }
            })
            .collect();
        LookupNamesResponse {
            referenced_domains: Some(t.domains),
            translated_sids: TranslatedSids {
                entries: len(&sids),
                sids: Some(ConformantArray(sids)),
            },
            mapped_count: t.mapped_count,
            status: t.status,
        }
    }

    /// MS-LSAT 3.1.4.7 LsarLookupNames2.
    pub fn lookup_names2(&self, req: &LookupNames2Request) -> LookupNames2Response {
        let names = &req.names.0;
        let allowed =
            self.lookup_allowed(&req.policy_handle, req.lookup_level, names.len(), MAX_NAMES);
        if let Err(status) = allowed {
            return LookupNames2Response {
                referenced_domains: None,
                translated_sids: TranslatedSidsEx::default(),
                mapped_count: 0,
                status,
            };
        }
        let t = self.translator.names(names);
        let sids: Vec<TranslatedSidEx> = t
            .entries
            .iter()
            .map(|f| {
                let (sid_use, relative_id, domain_index) = relative(f.as_ref());
                TranslatedSidEx {
                    sid_use,
                    relative_id,
                    domain_index,
                    flags: 0,
                }
            })
            .collect();
        LookupNames2Response {
            referenced_domains: Some(t.domains),
            translated_sids: TranslatedSidsEx {
                entries: len(&sids),
                sids: Some(ConformantArray(sids)),
            },
            mapped_count: t.mapped_count,
            status: t.status,
        }
    }

    /// MS-LSAT 3.1.4.6 LsarLookupNames3: whole SIDs rather than RIDs.
    pub fn lookup_names3(&self, req: &LookupNames3Request) -> LookupNames3Response {
        let names = &req.names.0;
        let allowed =
            self.lookup_allowed(&req.policy_handle, req.lookup_level, names.len(), MAX_NAMES);
        if let Err(status) = allowed {
            return LookupNames3Response {
                referenced_domains: None,
                translated_sids: TranslatedSidsEx2::default(),
                mapped_count: 0,
                status,
            };
        }
        let t = self.translator.names(names);
        let sids: Vec<TranslatedSidEx2> = t
            .entries
            .into_iter()
            .map(|f| match f {
                Some((account, domain_index)) => TranslatedSidEx2 {
                    sid_use: account.sid_use,
                    sid: Some(account.sid),
                    domain_index,
                    flags: 0,
                },
                None => TranslatedSidEx2 {
                    sid_use: SidNameUse::UNKNOWN,
                    sid: None,
                    domain_index: -1,
                    flags: 0,
                },
            })
            .collect();
        LookupNames3Response {
            referenced_domains: Some(t.domains),
            translated_sids: TranslatedSidsEx2 {
                entries: len(&sids),
                sids: Some(ConformantArray(sids)),
            },
            mapped_count: t.mapped_count,
            status: t.status,
        }
    }
}

impl Service for LsaService {
    fn syntax(&self) -> SyntaxId {
        SyntaxId::LSA
    }

    fn name(&self) -> &'static str {
        "lsarpc"
    }

    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus> {
        Ok(match Opnum::new(opnum) {
            Opnum::CLOSE => self.close(&decode(stub)?).to_stub(),
            Opnum::OPEN_POLICY => {
                let req: OpenPolicyRequest = decode(stub)?;
                self.open_policy(req.desired_access).to_stub()
            }
            Opnum::OPEN_POLICY2 => {
                let req: OpenPolicy2Request = decode(stub)?;
                self.open_policy(req.desired_access).to_stub()
            }
            Opnum::QUERY_INFORMATION_POLICY | Opnum::QUERY_INFORMATION_POLICY2 => {
                self.query_information_policy(&decode(stub)?).to_stub()
            }
            Opnum::GET_USER_NAME => self.get_user_name(&decode(stub)?).to_stub(),
            Opnum::LOOKUP_SIDS => self.lookup_sids(&decode(stub)?).to_stub(),
            Opnum::LOOKUP_SIDS2 => self.lookup_sids2(&decode(stub)?).to_stub(),
            Opnum::LOOKUP_NAMES => self.lookup_names(&decode(stub)?).to_stub(),
            Opnum::LOOKUP_NAMES2 => self.lookup_names2(&decode(stub)?).to_stub(),
            Opnum::LOOKUP_NAMES3 => self.lookup_names3(&decode(stub)?).to_stub(),
            // MS-LSAT 3.1.4.5/3.1.4.9: only over a Netlogon secure channel, which a pipe
            // without packet security is not (Windows and Samba refuse them so).
            Opnum::LOOKUP_SIDS3 | Opnum::LOOKUP_NAMES4 => return Err(FaultStatus::ACCESS_DENIED),
            _ => return Err(FaultStatus::OP_RNG_ERROR),
        })
    }
}

/// A name's translation as a RID in its domain: use, RID, index. A domain has no RID:
/// 0xFFFFFFFF, which clients (rpcclient, LsaLookupNames) take for "the domain itself".
fn relative(found: Option<&(Account, i32)>) -> (SidNameUse, u32, i32) {
    match found {
        Some((account, index)) if account.sid_use == SidNameUse::DOMAIN => {
            (account.sid_use, u32::MAX, *index)
        }
        Some((account, index)) => (
            account.sid_use,
            account.sid.rid().unwrap_or_default(),
            *index,
        ),
        None => (SidNameUse::UNKNOWN, 0, -1),
    }
}

/// MS-LSAD 2.2.1.1.2: the generic rights as the policy's own, and MAXIMUM_ALLOWED as
/// everything for an administrator, POLICY_EXECUTE (read the domain information,
/// translate names) for others.
fn map_generic(desired: u32, admin: bool) -> u32 {
    const GENERIC: [(u32, u32); 4] = [
        (0x8000_0000, POLICY_READ),
        (0x4000_0000, POLICY_WRITE),
        (0x2000_0000, POLICY_EXECUTE),
        (0x1000_0000, POLICY_ALL_ACCESS),
    ];
    let mut granted = desired & 0x00ff_ffff;
    for (bit, rights) in GENERIC {
        if desired & bit != 0 {
            granted |= rights;
        }
    }
    if desired & MAXIMUM_ALLOWED != 0 {
        granted |= if admin {
            POLICY_ALL_ACCESS
        } else {
            POLICY_EXECUTE
        };
    }
    granted
}

/// The policy handle numbered `id`.
fn handle(id: u32) -> ContextHandle {
    ContextHandle {
        attributes: 0,
        uuid: Uuid::from_fields(id, 0, 0, [0; 8]),
    }
}

/// The number [`handle`] put in a handle (0, never handed out, for anything else).
fn handle_id(h: &ContextHandle) -> u32 {
    let wire = h.uuid.to_wire();
    if h.attributes != 0 || wire[4..] != [0; 12] {
        return 0;
    }
    u32::from_le_bytes([wire[0], wire[1], wire[2], wire[3]])
}

#[cfg(test)]
mod tests {
    //! Against Samba's pidl marshalling (`rpc/testdata/ndr/lsa_server.txt`, made by
    //! `gen-lsa-server.py` for the same member): the requests rpcclient sends decode and
    //! re-encode byte for byte, and the replies decode to what the service answers
    //! (compared decoded: Samba's domain names carry a longer MaximumLength).

    use super::*;
    use crate::lsa::{LookupNames4Request, LookupSids3Request, PolicyInformation, SidEnumBuffer};
    use crate::testdata::check;

    fn reference(name: &str) -> Vec<u8> {
        crate::testdata::reference(include_str!("../../testdata/ndr/lsa_server.txt"), name)
    }

    fn sid(s: &str) -> Sid {
        s.parse().unwrap()
    }

    /// The joined domain's alice (1103) and engineers (1107).
    #[derive(Debug)]
    struct Directory;

    impl Directory {
        fn accounts() -> [Account; 2] {
            let account = |rid: u32, name: &str, sid_use| Account {
                sid: sid("S-1-5-21-1-2-3").with_rid(rid).unwrap(),
                domain: "EXAMPLE".into(),
                name: name.into(),
                sid_use,
            };
            [
                account(1103, "alice", SidNameUse::USER),
                account(1107, "engineers", SidNameUse::GROUP),
            ]
        }
    }

    impl SidResolver for Directory {
        fn account_by_sid(&self, sid: &Sid) -> Option<Account> {
            Self::accounts().into_iter().find(|a| a.sid == *sid)
        }

        fn account_by_name(&self, name: &str) -> Option<Account> {
            Self::accounts()
                .into_iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
        }
    }

    fn domains() -> Arc<MemberDomains> {
        Arc::new(MemberDomains {
            netbios_domain: "EXAMPLE".into(),
            dns_domain: "example.test".into(),
            dns_forest: "example.test".into(),
            domain_guid: Uuid::NIL,
            domain_sid: sid("S-1-5-21-1-2-3"),
            computer: "FS1".into(),
            machine_sid: sid("S-1-5-21-7-8-9"),
        })
    }

    fn service(admin: bool) -> LsaService {
        let caller = Caller {
            domain: "EXAMPLE".into(),
            user: "alice".into(),
            admin,
        };
        LsaService::new(domains(), Some(Arc::new(Directory)), Some(caller))
    }

    /// A service with policy handle 1 open (MAXIMUM_ALLOWED).
    fn opened() -> LsaService {
        let mut srv = service(false);
        let reply = srv.call(Opnum::OPEN_POLICY2.value(), &reference("open_policy2_in"));
        assert_eq!(reply, Ok(reference("open_policy2_out")));
        srv
    }

    /// `opnum` on the reference request `name_in` (which re-encodes byte for byte)
    /// answers what Samba's `name_out` decodes to.
    fn answers<Req, Resp>(srv: &mut LsaService, opnum: Opnum, name: &str)
    where
        Req: NdrParams + PartialEq + core::fmt::Debug,
        Resp: NdrParams + PartialEq + core::fmt::Debug,
    {
        let wire = reference(&format!("{name}_in"));
        check(name, &wire, &Req::from_stub(&wire).unwrap());
        let ours = srv.call(opnum.value(), &wire).unwrap();
        let samba = Resp::from_stub(&reference(&format!("{name}_out"))).unwrap();
        assert_eq!(Resp::from_stub(&ours).unwrap(), samba, "{name}");
    }

    #[test]
    fn lsar_open_policy_and_close_match_samba() {
        let mut srv = opened();
        let wire = reference("open_policy_in");
        check(
            "open_policy_in",
            &wire,
            &OpenPolicyRequest::from_stub(&wire).unwrap(),
        );
        let wire = reference("open_policy2_in");
        let req = OpenPolicy2Request::from_stub(&wire).unwrap();
        assert_eq!(
            req.object_attributes,
            super::super::ObjectAttributes::with_qos()
        );
        check("open_policy2_in", &wire, &req);
        let reply = srv.call(Opnum::CLOSE.value(), &reference("close_in"));
        assert_eq!(reply, Ok(reference("close_out")));
        // Closed: the handle is gone.
        let reply = srv.close(&CloseRequest::from_stub(&reference("close_in")).unwrap());
        assert_eq!(reply.status, NtStatus::INVALID_HANDLE);
        // LsarOpenPolicy hands out the next handle.
        let reply = srv.call(Opnum::OPEN_POLICY.value(), &reference("open_policy_in"));
        let resp = OpenPolicyResponse::from_stub(&reply.unwrap()).unwrap();
        assert_eq!(
            (resp.status, handle_id(&resp.policy_handle)),
            (NtStatus::SUCCESS, 2)
        );
    }

    #[test]
    fn lsar_query_information_policy_matches_samba() {
        let mut srv = opened();
        for (opnum, name) in [
            (Opnum::QUERY_INFORMATION_POLICY, "query_info_3"),
            (Opnum::QUERY_INFORMATION_POLICY, "query_info_5"),
            (Opnum::QUERY_INFORMATION_POLICY2, "query_info2_12"),
        ] {
            answers::<QueryInformationPolicyRequest, QueryInformationPolicyResponse>(
                &mut srv, opnum, name,
            );
        }
        // A class not answered here: a null pointer and STATUS_INVALID_PARAMETER.
        let reply = srv.call(7, &reference("query_info_2_in"));
        assert_eq!(reply, Ok(reference("query_info_2_out")));
        let resp =
            QueryInformationPolicyResponse::from_stub(&reference("query_info2_12_out")).unwrap();
        let Some(PolicyInformation::DnsDomain(dns)) = resp.policy_information else {
            panic!("{resp:?}");
        };
        assert_eq!(dns.dns_domain_name, "example.test");
    }

    #[test]
    fn lsar_lookups_match_samba() {
        let mut srv = opened();
        answers::<LookupSidsRequest, LookupSidsResponse>(
            &mut srv,
            Opnum::LOOKUP_SIDS,
            "lookup_sids",
        );
        answers::<LookupSids2Request, LookupSids2Response>(
            &mut srv,
            Opnum::LOOKUP_SIDS2,
            "lookup_sids2",
        );
        answers::<LookupNamesRequest, LookupNamesResponse>(
            &mut srv,
            Opnum::LOOKUP_NAMES,
            "lookup_names",
        );
        answers::<LookupNames2Request, LookupNames2Response>(
            &mut srv,
            Opnum::LOOKUP_NAMES2,
            "lookup_names2",
        );
        answers::<LookupNames3Request, LookupNames3Response>(
            &mut srv,
            Opnum::LOOKUP_NAMES3,
            "lookup_names3",
        );
    }

    /// The forms a name takes, and the domains and well-known SIDs answered without the
    /// directory.
    #[test]
    fn names_in_every_form() {
        let t = &opened().translator;
        let found = |n: &str| t.account_by_name(n).map(|a| (a.sid.to_string(), a.sid_use));
        let user = Some(("S-1-5-21-1-2-3-1103".to_owned(), SidNameUse::USER));
        assert_eq!(found("alice"), user);
        assert_eq!(found(r"example\ALICE"), user);
        assert_eq!(found("alice@EXAMPLE.TEST"), user);
        assert_eq!(found(r"OTHER\alice"), None);
        assert_eq!(found(r"FS1\alice"), None);
        let domain = Some(("S-1-5-21-1-2-3".to_owned(), SidNameUse::DOMAIN));
        assert_eq!(found("EXAMPLE"), domain);
        assert_eq!(found(r"example.test\"), domain);
        assert_eq!(
            found("fs1"),
            Some(("S-1-5-21-7-8-9".to_owned(), SidNameUse::DOMAIN))
        );
        assert_eq!(
            found(r"BUILTIN\Administrators"),
            Some(("S-1-5-32-544".to_owned(), SidNameUse::ALIAS))
        );
        assert_eq!(
            found("everyone"),
            Some(("S-1-1-0".to_owned(), SidNameUse::WELL_KNOWN_GROUP))
        );
        let account = |s: &str| t.account_by_sid(&sid(s)).map(|a| (a.domain, a.name));
        assert_eq!(
            account("S-1-5-11"),
            Some(("NT AUTHORITY".into(), "Authenticated Users".into()))
        );
        assert_eq!(
            account("S-1-5-21-7-8-9"),
            Some(("FS1".into(), "FS1".into()))
        );
        assert_eq!(account("S-1-5-21-7-8-9-500"), None);
    }

    #[test]
    fn unmapped_sids_are_named_by_rid_or_whole() {
        let srv = opened();
        let req = LookupSids2Request {
            policy_handle: handle(1),
            sids: SidEnumBuffer::new(&[sid("S-1-5-21-7-8-9-1000"), sid("S-1-5-21-4-5-6-7")]),
            lookup_level: 1,
            ..LookupSids2Request::default()
        };
        let resp = srv.lookup_sids2(&req);
        assert_eq!((resp.status, resp.mapped_count), (NtStatus::NONE_MAPPED, 0));
        let names = resp.translated_names.names.unwrap().0;
        assert_eq!((names[0].name.as_str(), names[0].domain_index), ("1000", 0));
        assert_eq!(
            (names[1].name.as_str(), names[1].domain_index),
            ("S-1-5-21-4-5-6-7", -1)
        );
        let domains = resp.referenced_domains.unwrap();
        assert_eq!(domains.domain(0).unwrap().name, "FS1");
    }

    /// MS-LSAD 3.1.4.4.1: the rights of a handle, and what a lookup needs.
    #[test]
    fn handles_carry_their_access() {
        let mut srv = service(false);
        assert_eq!(
            srv.open_policy(POLICY_ALL_ACCESS).status,
            NtStatus::ACCESS_DENIED
        );
        assert_eq!(srv.open_policy(0x8000_0000).status, NtStatus::ACCESS_DENIED);
        let view_only = srv.open_policy(POLICY_VIEW_LOCAL_INFORMATION).policy_handle;
        let req = LookupNamesRequest {
            policy_handle: view_only,
            count: 1,
            names: ConformantArray(vec![UnicodeString::new("alice")]),
            lookup_level: 1,
            ..LookupNamesRequest::default()
        };
        assert_eq!(srv.lookup_names(&req).status, NtStatus::ACCESS_DENIED);
        let stale = LookupNamesRequest {
            policy_handle: handle(99),
            ..req.clone()
        };
        assert_eq!(srv.lookup_names(&stale).status, NtStatus::INVALID_HANDLE);
        let null = LookupNamesRequest {
            policy_handle: ContextHandle::NULL,
            ..req.clone()
        };
        assert_eq!(srv.lookup_names(&null).status, NtStatus::INVALID_HANDLE);
        let lookup = srv.open_policy(POLICY_LOOKUP_NAMES).policy_handle;
        let bad_level = LookupNamesRequest {
            policy_handle: lookup,
            lookup_level: 9,
            ..req.clone()
        };
        assert_eq!(
            srv.lookup_names(&bad_level).status,
            NtStatus::INVALID_PARAMETER
        );
        let ok = LookupNamesRequest {
            policy_handle: lookup,
            count: 2,
            names: ConformantArray(vec![
                UnicodeString::new("alice"),
                UnicodeString::new("EXAMPLE"),
            ]),
            ..req
        };
        let resp = srv.lookup_names(&ok);
        assert_eq!(resp.status, NtStatus::SUCCESS);
        let sids = resp.translated_sids.sids.unwrap().0;
        // The domain itself has no RID.
        assert_eq!((sids[0].relative_id, sids[1].relative_id), (1103, u32::MAX));
        assert_eq!(sids[1].sid_use, SidNameUse::DOMAIN);
        let mut admin = service(true);
        assert_eq!(
            admin.open_policy(POLICY_ALL_ACCESS).status,
            NtStatus::SUCCESS
        );
        for _ in 1..MAX_HANDLES {
            admin.open_policy(MAXIMUM_ALLOWED);
        }
        assert_eq!(
            admin.open_policy(MAXIMUM_ALLOWED).status,
            NtStatus::INSUFFICIENT_RESOURCES
        );
    }

    #[test]
    fn lsar_get_user_name_names_the_caller() {
        let lsa = |name: &str| {
            crate::testdata::reference(include_str!("../../testdata/ndr/lsa.txt"), name)
        };
        let mut srv = service(false);
        let reply = srv.call(Opnum::GET_USER_NAME.value(), &lsa("get_user_name_in"));
        assert_eq!(reply, Ok(lsa("get_user_name_out")));
        let anonymous = LsaService::new(domains(), None, None);
        let resp = anonymous.get_user_name(&GetUserNameRequest::with_domain());
        assert_eq!(resp.status, NtStatus::ACCESS_DENIED);
    }

    /// MS-LSAT 3.1.4.5/3.1.4.9: LsarLookupNames4 and LsarLookupSids3 need a secure
    /// channel; other opnums and bad stubs fault.
    #[test]
    fn refused_calls_fault() {
        let mut srv = opened();
        let sids3 = LookupSids3Request::new(&[sid("S-1-5-21-1-2-3-1103")]).to_stub();
        assert_eq!(srv.call(76, &sids3), Err(FaultStatus::ACCESS_DENIED));
        let names4 = LookupNames4Request::new(&["alice"]).to_stub();
        assert_eq!(srv.call(77, &names4), Err(FaultStatus::ACCESS_DENIED));
        assert_eq!(srv.call(1, &[]), Err(FaultStatus::OP_RNG_ERROR));
        let wire = reference("lookup_names_in");
        for len in 0..wire.len() {
            assert_eq!(srv.call(14, &wire[..len]), Err(FaultStatus::NDR), "{len}");
        }
        // A security descriptor in the object attributes is not decoded.
        let mut wire = reference("open_policy2_in");
        let sd = wire.len() - 4 - 8 - 4 - 4; // then: the QoS pointer, the QoS, DesiredAccess
        wire[sd] = 1;
        assert_eq!(srv.call(44, &wire), Err(FaultStatus::NDR));
    }

    proptest::proptest! {
        /// Every reference request, one byte changed: answered or faulted.
        #[test]
        fn mutated_requests_never_panic(
            which in 0usize..8,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let (opnum, name) = [
                (44, "open_policy2_in"),
                (6, "open_policy_in"),
                (7, "query_info_3_in"),
                (15, "lookup_sids_in"),
                (57, "lookup_sids2_in"),
                (14, "lookup_names_in"),
                (58, "lookup_names2_in"),
                (68, "lookup_names3_in"),
            ][which];
            let mut wire = reference(name);
            let at = at.index(wire.len());
            wire[at] = byte;
            let _ = opened().call(opnum, &wire);
        }
    }
}
