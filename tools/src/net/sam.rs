//! The SAMR and LSA calls `net user`, `net group` and `net localgroup` share: a SAM
//! connection to a DC with its account domain and `Builtin` opened, enumeration,
//! lookups by name and RID, memberships, and SIDs translated through LSA.

use adjoin_rpc::lsa::{
    self, CloseRequest, CloseResponse, LookupSidsRequest, LookupSidsResponse, ObjectAttributes,
    OpenPolicy2Request, OpenPolicyResponse, POLICY_LOOKUP_NAMES, SidEnumBuffer, TranslatedNames,
};
use adjoin_rpc::ndr::{ContextHandle, NdrParams, Sid, UnicodeString, WideString};
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::samr::{
    ALIAS_LIST_MEMBERS, CloseHandleRequest, CloseHandleResponse, Connect5Request, Connect5Response,
    DOMAIN_GET_ALIAS_MEMBERSHIP, DOMAIN_LIST_ACCOUNTS, DOMAIN_LOOKUP, DOMAIN_READ_OTHER_PARAMETERS,
    EnumerateAliasesInDomainRequest, EnumerateDomainsInSamServerRequest,
    EnumerateUsersInDomainRequest, EnumerationResponse, GROUP_LIST_MEMBERS,
    GetAliasMembershipRequest, GetAliasMembershipResponse, GetGroupsForUserResponse,
    GetMembersInAliasResponse, GetMembersInGroupResponse, HandleRequest,
    LookupDomainInSamServerRequest, LookupDomainInSamServerResponse, LookupIdsInDomainRequest,
    LookupIdsInDomainResponse, LookupNamesInDomainRequest, LookupNamesInDomainResponse, MAX_LOOKUP,
    OpenAccountRequest, OpenDomainRequest, OpenDomainResponse, Opnum, PsidArray,
    QueryInformationUser2Request, QueryInformationUser2Response, SAM_SERVER_CONNECT,
    SAM_SERVER_ENUMERATE_DOMAINS, SAM_SERVER_LOOKUP_DOMAIN, USER_NORMAL_ACCOUNT, USER_READ_ALL,
    UserAllInformation, UserInformationClass,
};
use adjoin_rpc::uuid::SyntaxId;

use super::NetError;
use super::args::AccountArgs;
use super::connect::{Logon, Pipe, credentials, domain_controller, open_pipe, resolve};

/// MS-SAMR 2.2.2.1 / MS-DTYP 2.4.2.4: the `Builtin` domain's SID, S-1-5-32.
const BUILTIN: [u32; 1] = [32];
/// MS-LSAT 2.2.13 SID_NAME_USE values SamrLookupNamesInDomain answers with.
const USE_USER: u32 = 1;
const USE_GROUP: u32 = 2;
const USE_ALIAS: u32 = 4;

/// What an account name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
    Alias,
}

impl Kind {
    fn name_use(self) -> u32 {
        match self {
            Self::User => USE_USER,
            Self::Group => USE_GROUP,
            Self::Alias => USE_ALIAS,
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::User => "the user",
            Self::Group => "the group",
            Self::Alias => "the local group",
        }
    }
}

/// An opened SAM domain.
#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub(crate) handle: ContextHandle,
    pub(crate) sid: Sid,
    pub(crate) name: String,
}

/// A SAMR connection to a DC: its account domain and `Builtin`, both open.
#[derive(Debug)]
pub(crate) struct Sam {
    pipe: Pipe,
    server_handle: ContextHandle,
    /// The DC's account domain (EXAMPLE).
    pub(crate) account: Domain,
    /// `Builtin` (S-1-5-32).
    pub(crate) builtin: Domain,
    /// How the DC was reached, for the LSA pipe.
    target: Target,
}

/// A DC, its address and the logon that reached it.
#[derive(Debug)]
struct Target {
    server: String,
    addr: std::net::SocketAddr,
    logon: Logon,
}

impl Sam {
    /// Connects to the DC `args` names (or the joined domain's) and opens both domains.
    pub(crate) async fn open(args: &AccountArgs) -> Result<Self, NetError> {
        let (server, known) = domain_controller(args.server.as_deref(), &args.remote)?;
        let logon = credentials(&args.remote)?;
        let addr = resolve(&server, known, &args.remote).await?;
        let mut pipe = open_pipe(
            &server,
            addr,
            &logon,
            &args.remote,
            "samr",
            "SAMR",
            SyntaxId::SAMR,
        )
        .await?;
        let access = SAM_SERVER_CONNECT | SAM_SERVER_ENUMERATE_DOMAINS | SAM_SERVER_LOOKUP_DOMAIN;
        let connect: Connect5Response = call(
            &mut pipe,
            Opnum::CONNECT5,
            &Connect5Request::new(Some(&format!(r"\\{server}")), access),
        )
        .await?;
        ok(&pipe, "SamrConnect5", connect.status)?;
        let server_handle = connect.server_handle;
        let name = account_domain_name(&mut pipe, server_handle).await?;
        let looked_up: LookupDomainInSamServerResponse = call(
            &mut pipe,
            Opnum::LOOKUP_DOMAIN_IN_SAM_SERVER,
            &LookupDomainInSamServerRequest {
                server_handle,
                name: UnicodeString::new(&name),
            },
        )
        .await?;
        ok(&pipe, "SamrLookupDomainInSamServer", looked_up.status)?;
        let sid = looked_up.domain_id.ok_or_else(|| NetError::Call {
            call: "SamrLookupDomainInSamServer".into(),
            server: server.clone(),
            detail: "no SID in the answer".into(),
        })?;
        let builtin = Sid::new(5, &BUILTIN).map_err(|e| NetError::Usage(e.to_string()))?;
        let account = open_domain(&mut pipe, server_handle, sid, name).await?;
        let builtin = open_domain(&mut pipe, server_handle, builtin, "Builtin".into()).await?;
        Ok(Self {
            pipe,
            server_handle,
            account,
            builtin,
            target: Target {
                server,
                addr,
                logon,
            },
        })
    }

    /// The DC, as named.
    pub(crate) fn server(&self) -> &str {
        &self.pipe.server
    }

    fn domain(&self, builtin: bool) -> &Domain {
        if builtin {
            &self.builtin
        } else {
            &self.account
        }
    }

    /// Every account of `kind` in the account domain (or `Builtin`), by name.
    pub(crate) async fn enumerate(
        &mut self,
        kind: Kind,
        builtin: bool,
    ) -> Result<Vec<String>, NetError> {
        let handle = self.domain(builtin).handle;
        let mut names = Vec::new();
        let mut context = 0;
        loop {
            let resp: EnumerationResponse = match kind {
                Kind::User => {
                    let request = EnumerateUsersInDomainRequest {
                        domain_handle: handle,
                        enumeration_context: context,
                        user_account_control: USER_NORMAL_ACCOUNT,
                        prefered_maximum_length: 0xffff,
                    };
                    call(&mut self.pipe, Opnum::ENUMERATE_USERS_IN_DOMAIN, &request).await?
                }
                Kind::Group | Kind::Alias => {
                    let request = EnumerateAliasesInDomainRequest {
                        domain_handle: handle,
                        enumeration_context: context,
                        prefered_maximum_length: 0xffff,
                    };
                    let opnum = if kind == Kind::Group {
                        Opnum::ENUMERATE_GROUPS_IN_DOMAIN
                    } else {
                        Opnum::ENUMERATE_ALIASES_IN_DOMAIN
                    };
                    call(&mut self.pipe, opnum, &request).await?
                }
            };
            if resp.status != NtStatus::MORE_ENTRIES {
                ok(&self.pipe, "SAMR enumeration", resp.status)?;
            }
            names.extend(resp.entries().iter().map(|e| e.name.as_str().to_owned()));
            if resp.status != NtStatus::MORE_ENTRIES || resp.entries().is_empty() {
                break;
            }
            context = resp.enumeration_context;
        }
        names.sort_by_key(|n| n.to_lowercase());
        Ok(names)
    }

    /// The RID of account `name` of `kind` (aliases: in `Builtin` first, then the account
    /// domain), and whether it is in `Builtin`; [`NetError::NotFound`] when there is none.
    pub(crate) async fn lookup(&mut self, kind: Kind, name: &str) -> Result<(u32, bool), NetError> {
        let places: &[bool] = if kind == Kind::Alias {
            &[true, false]
        } else {
            &[false]
        };
        for &builtin in places {
            let handle = self.domain(builtin).handle;
            let resp: LookupNamesInDomainResponse = call(
                &mut self.pipe,
                Opnum::LOOKUP_NAMES_IN_DOMAIN,
                &LookupNamesInDomainRequest::new(handle, &[name]),
            )
            .await?;
            if resp.status == NtStatus::NONE_MAPPED {
                continue;
            }
            ok(&self.pipe, "SamrLookupNamesInDomain", resp.status)?;
            let found = resp.relative_ids.values().first().copied();
            let name_use = resp.uses.values().first().copied();
            if let (Some(rid), Some(u)) = (found, name_use)
                && u == kind.name_use()
            {
                return Ok((rid, builtin));
            }
        }
        Err(NetError::NotFound {
            kind: kind.noun(),
            name: name.to_owned(),
            place: format!(" on \\\\{}", self.server()),
        })
    }

    /// The names of `rids` in the account domain (or `Builtin`); a RID without one shows
    /// as its number.
    pub(crate) async fn names(
        &mut self,
        builtin: bool,
        rids: &[u32],
    ) -> Result<Vec<String>, NetError> {
        let handle = self.domain(builtin).handle;
        let mut names = Vec::new();
        for chunk in rids.chunks(MAX_LOOKUP) {
            let resp: LookupIdsInDomainResponse = call(
                &mut self.pipe,
                Opnum::LOOKUP_IDS_IN_DOMAIN,
                &LookupIdsInDomainRequest::new(handle, chunk),
            )
            .await?;
            if resp.status != NtStatus::SOME_NOT_MAPPED && resp.status != NtStatus::NONE_MAPPED {
                ok(&self.pipe, "SamrLookupIdsInDomain", resp.status)?;
            }
            let found = resp.names.element.as_ref().map_or(&[][..], |e| &e.0);
            for (i, rid) in chunk.iter().enumerate() {
                match found.get(i).map(UnicodeString::as_str) {
                    Some(name) if !name.is_empty() => names.push(name.to_owned()),
                    _ => names.push(rid.to_string()),
                }
            }
        }
        Ok(names)
    }

    /// Opens account `rid` of the account domain (or `Builtin`) with `access`.
    async fn open_account(
        &mut self,
        opnum: Opnum,
        builtin: bool,
        rid: u32,
        access: u32,
    ) -> Result<ContextHandle, NetError> {
        let request = OpenAccountRequest {
            domain_handle: self.domain(builtin).handle,
            desired_access: access,
            rid,
        };
        let resp: OpenDomainResponse = call(&mut self.pipe, opnum, &request).await?;
        ok(&self.pipe, &opnum.to_string(), resp.status)?;
        Ok(resp.handle)
    }

    /// User `rid`'s UserAllInformation and the RIDs of its domain groups.
    pub(crate) async fn user(
        &mut self,
        rid: u32,
    ) -> Result<(UserAllInformation, Vec<u32>), NetError> {
        let handle = self
            .open_account(Opnum::OPEN_USER, false, rid, USER_READ_ALL)
            .await?;
        let request = QueryInformationUser2Request {
            user_handle: handle,
            user_information_class: UserInformationClass::ALL,
        };
        let info: QueryInformationUser2Response =
            call(&mut self.pipe, Opnum::QUERY_INFORMATION_USER2, &request).await?;
        ok(&self.pipe, "SamrQueryInformationUser2", info.status)?;
        let all = info.all().cloned().ok_or_else(|| NetError::Call {
            call: "SamrQueryInformationUser2".into(),
            server: self.server().to_owned(),
            detail: "no UserAllInformation in the answer".into(),
        })?;
        let groups: GetGroupsForUserResponse = call(
            &mut self.pipe,
            Opnum::GET_GROUPS_FOR_USER,
            &HandleRequest { handle },
        )
        .await?;
        ok(&self.pipe, "SamrGetGroupsForUser", groups.status)?;
        self.close_handle(handle).await;
        let rids = groups
            .groups
            .as_ref()
            .and_then(|g| g.groups.as_ref())
            .map(|g| g.0.iter().map(|m| m.relative_id).collect())
            .unwrap_or_default();
        Ok((all, rids))
    }

    /// The aliases of the account domain (or `Builtin`) that any of `sids` is a member of.
    pub(crate) async fn alias_membership(
        &mut self,
        builtin: bool,
        sids: &[Sid],
    ) -> Result<Vec<u32>, NetError> {
        let request = GetAliasMembershipRequest {
            domain_handle: self.domain(builtin).handle,
            sid_array: PsidArray::new(sids),
        };
        let resp: GetAliasMembershipResponse =
            call(&mut self.pipe, Opnum::GET_ALIAS_MEMBERSHIP, &request).await?;
        ok(&self.pipe, "SamrGetAliasMembership", resp.status)?;
        Ok(resp.membership.values().to_vec())
    }

    /// The RIDs of group `rid`'s members.
    pub(crate) async fn group_members(&mut self, rid: u32) -> Result<Vec<u32>, NetError> {
        let handle = self
            .open_account(Opnum::OPEN_GROUP, false, rid, GROUP_LIST_MEMBERS)
            .await?;
        let resp: GetMembersInGroupResponse = call(
            &mut self.pipe,
            Opnum::GET_MEMBERS_IN_GROUP,
            &HandleRequest { handle },
        )
        .await?;
        ok(&self.pipe, "SamrGetMembersInGroup", resp.status)?;
        self.close_handle(handle).await;
        Ok(resp
            .members
            .as_ref()
            .and_then(|m| m.members.as_ref())
            .map(|m| m.0.clone())
            .unwrap_or_default())
    }

    /// The SIDs of alias `rid`'s members.
    pub(crate) async fn alias_members(
        &mut self,
        builtin: bool,
        rid: u32,
    ) -> Result<Vec<Sid>, NetError> {
        let handle = self
            .open_account(Opnum::OPEN_ALIAS, builtin, rid, ALIAS_LIST_MEMBERS)
            .await?;
        let resp: GetMembersInAliasResponse = call(
            &mut self.pipe,
            Opnum::GET_MEMBERS_IN_ALIAS,
            &HandleRequest { handle },
        )
        .await?;
        ok(&self.pipe, "SamrGetMembersInAlias", resp.status)?;
        self.close_handle(handle).await;
        Ok(resp.members.to_sids())
    }

    async fn close_handle(&mut self, handle: ContextHandle) {
        let closed: Result<CloseHandleResponse, _> = call(
            &mut self.pipe,
            Opnum::CLOSE_HANDLE,
            &CloseHandleRequest { handle },
        )
        .await;
        if let Err(e) = closed {
            tracing::debug!(error = %e, "SamrCloseHandle");
        }
    }

    /// `sids` as names through the DC's LSA (`\PIPE\lsarpc`, LsarLookupSids): `DOMAIN\name`,
    /// or the bare name in the DC's account domain (as Windows lists a DC's aliases); a SID
    /// LSA cannot map shows as itself.
    pub(crate) async fn sid_names(
        &self,
        remote: &super::args::Remote,
        sids: &[Sid],
    ) -> Result<Vec<String>, NetError> {
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let t = &self.target;
        let mut pipe = open_pipe(
            &t.server,
            t.addr,
            &t.logon,
            remote,
            "lsarpc",
            "LSA",
            SyntaxId::LSA,
        )
        .await?;
        let open: OpenPolicyResponse = pipe
            .call(
                "LsarOpenPolicy2",
                lsa::Opnum::OPEN_POLICY2.value(),
                &OpenPolicy2Request {
                    system_name: Some(WideString::new(format!(r"\\{}", t.server))),
                    object_attributes: ObjectAttributes::with_qos(),
                    desired_access: POLICY_LOOKUP_NAMES,
                },
            )
            .await?;
        ok(&pipe, "LsarOpenPolicy2", open.status)?;
        let request = LookupSidsRequest {
            policy_handle: open.policy_handle,
            sids: SidEnumBuffer::new(sids),
            translated_names: TranslatedNames::default(),
            lookup_level: lsa::LOOKUP_WKSTA,
            mapped_count: 0,
        };
        let resp: LookupSidsResponse = pipe
            .call("LsarLookupSids", lsa::Opnum::LOOKUP_SIDS.value(), &request)
            .await?;
        if resp.status != NtStatus::SOME_NOT_MAPPED && resp.status != NtStatus::NONE_MAPPED {
            ok(&pipe, "LsarLookupSids", resp.status)?;
        }
        let _: Result<CloseResponse, _> = pipe
            .call(
                "LsarClose",
                lsa::Opnum::CLOSE.value(),
                &CloseRequest {
                    object_handle: open.policy_handle,
                },
            )
            .await;
        pipe.close().await;
        let translated = resp
            .translated_names
            .names
            .as_ref()
            .map_or(&[][..], |n| &n.0);
        Ok(sids
            .iter()
            .enumerate()
            .map(|(i, sid)| {
                let Some(t) = translated.get(i).filter(|t| !t.name.as_str().is_empty()) else {
                    return sid.to_string();
                };
                let domain = u32::try_from(t.domain_index)
                    .ok()
                    .and_then(|d| resp.referenced_domains.as_ref()?.domain(d))
                    .map(|d| d.name.as_str().to_owned())
                    .unwrap_or_default();
                qualified(&domain, t.name.as_str(), &self.account.name)
            })
            .collect())
    }

    /// `sids` named through SAMR alone: those of the DC's account domain and `Builtin`
    /// by name, any other as the SID itself.
    pub(crate) async fn sid_names_in_sam(&mut self, sids: &[Sid]) -> Result<Vec<String>, NetError> {
        let mut names = Vec::with_capacity(sids.len());
        for sid in sids {
            let place = [false, true]
                .into_iter()
                .find(|b| sid.is_in_domain(&self.domain(*b).sid));
            let name = match (place, sid.rid()) {
                (Some(builtin), Some(rid)) => self.names(builtin, &[rid]).await?.remove(0),
                _ => sid.to_string(),
            };
            names.push(name);
        }
        Ok(names)
    }

    /// Closes the domains and the connection.
    pub(crate) async fn close(mut self) {
        for handle in [self.account.handle, self.builtin.handle, self.server_handle] {
            self.close_handle(handle).await;
        }
        self.pipe.close().await;
    }
}

/// `name` as Windows lists an alias member: bare in the DC's own account domain or a
/// domain without a name (Everyone), else `DOMAIN\name`.
pub(crate) fn qualified(domain: &str, name: &str, own: &str) -> String {
    if domain.is_empty() || domain.eq_ignore_ascii_case(own) {
        name.to_owned()
    } else {
        format!(r"{domain}\{name}")
    }
}

async fn call<Req: NdrParams, Resp: NdrParams>(
    pipe: &mut Pipe,
    opnum: Opnum,
    request: &Req,
) -> Result<Resp, NetError> {
    pipe.call(&opnum.to_string(), opnum.value(), request).await
}

fn ok(pipe: &Pipe, call: &str, status: NtStatus) -> Result<(), NetError> {
    if status == NtStatus::SUCCESS {
        Ok(())
    } else {
        Err(NetError::status(call, &pipe.server, status))
    }
}

/// The name of the DC's account domain: the one that is not `Builtin`.
async fn account_domain_name(
    pipe: &mut Pipe,
    server_handle: ContextHandle,
) -> Result<String, NetError> {
    let request = EnumerateDomainsInSamServerRequest {
        server_handle,
        enumeration_context: 0,
        prefered_maximum_length: 0xffff,
    };
    let resp: EnumerationResponse =
        call(pipe, Opnum::ENUMERATE_DOMAINS_IN_SAM_SERVER, &request).await?;
    ok(pipe, "SamrEnumerateDomainsInSamServer", resp.status)?;
    resp.entries()
        .iter()
        .map(|e| e.name.as_str())
        .find(|n| !n.eq_ignore_ascii_case("Builtin"))
        .map(str::to_owned)
        .ok_or_else(|| NetError::Call {
            call: "SamrEnumerateDomainsInSamServer".into(),
            server: pipe.server.clone(),
            detail: "the server has no account domain (is it a DC?)".into(),
        })
}

async fn open_domain(
    pipe: &mut Pipe,
    server_handle: ContextHandle,
    sid: Sid,
    name: String,
) -> Result<Domain, NetError> {
    let access = DOMAIN_LOOKUP
        | DOMAIN_LIST_ACCOUNTS
        | DOMAIN_GET_ALIAS_MEMBERSHIP
        | DOMAIN_READ_OTHER_PARAMETERS;
    let request = OpenDomainRequest {
        server_handle,
        desired_access: access,
        domain_id: sid.clone(),
    };
    let resp: OpenDomainResponse = call(pipe, Opnum::OPEN_DOMAIN, &request).await?;
    ok(pipe, "SamrOpenDomain", resp.status)?;
    Ok(Domain {
        handle: resp.handle,
        sid,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_members_are_qualified_outside_the_dcs_domain() {
        assert_eq!(
            qualified("EXAMPLE", "Domain Admins", "EXAMPLE"),
            "Domain Admins"
        );
        assert_eq!(
            qualified("example", "Administrator", "EXAMPLE"),
            "Administrator"
        );
        assert_eq!(
            qualified("NT AUTHORITY", "Authenticated Users", "EXAMPLE"),
            r"NT AUTHORITY\Authenticated Users"
        );
        assert_eq!(qualified("", "Everyone", "EXAMPLE"), "Everyone");
    }
}
