//! MS-SAMR against the lab DC, the calls `net user` will make: a SAMR binding as a domain
//! user (NTLMSSP, packet privacy), Connect5, LookupDomainInSamServer, OpenDomain,
//! LookupNamesInDomain, EnumerateUsersInDomain, OpenUser, QueryInformationUser2
//! (UserAllInformation), GetGroupsForUser, CloseHandle; answers checked against the DC's
//! own database (ldbsearch).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use adjoin_auth::ntlm::NtlmClient;
use adjoin_rpc::client::BindAuth;
use adjoin_rpc::ndr::{ContextHandle, NdrParams, Sid, UnicodeString};
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::pdu::AuthLevel;
use adjoin_rpc::samr::*;
use adjoin_rpc::tcp::{TcpConnection, map_tcp_port};
use adjoin_rpc::uuid::SyntaxId;
use adjoin_tests::Lab;

const TIMEOUT: Duration = Duration::from_secs(10);

fn object_sid(lab: &Lab, account: &str) -> Sid {
    lab.object_sid(account).parse().unwrap()
}

async fn call<Req: NdrParams, Resp: NdrParams>(
    conn: &mut TcpConnection,
    opnum: Opnum,
    request: &Req,
) -> Resp {
    conn.call(opnum.value(), request)
        .await
        .unwrap_or_else(|e| panic!("{opnum}: {e}"))
}

#[tokio::test(flavor = "current_thread")]
async fn ms_samr_user_information_as_net_user_reads_it() {
    let lab = Lab::get();
    let dc: IpAddr = lab.dc.parse().unwrap();
    let port = map_tcp_port(dc, SyntaxId::SAMR, TIMEOUT).await.unwrap();
    let (client, negotiate) =
        NtlmClient::new("alice", "EXAMPLE", &lab.password("alice"), "SAMRTEST").unwrap();
    let mut conn = TcpConnection::connect(
        SocketAddr::new(dc, port),
        "SAMR",
        SyntaxId::SAMR,
        BindAuth::Ntlm {
            client,
            negotiate,
            level: AuthLevel::PKT_PRIVACY,
        },
        TIMEOUT,
    )
    .await
    .unwrap();

    let server: Connect5Response = call(
        &mut conn,
        Opnum::CONNECT5,
        &Connect5Request::new(
            Some(&format!(r"\\{}", lab.dc_name)),
            SAM_SERVER_CONNECT | SAM_SERVER_LOOKUP_DOMAIN | SAM_SERVER_ENUMERATE_DOMAINS,
        ),
    )
    .await;
    assert_eq!(server.status, NtStatus::SUCCESS);

    let alice = object_sid(&lab, "alice");
    let domain_sid: Sid = lab.domain_sid().parse().unwrap();
    let domain: LookupDomainInSamServerResponse = call(
        &mut conn,
        Opnum::LOOKUP_DOMAIN_IN_SAM_SERVER,
        &LookupDomainInSamServerRequest {
            server_handle: server.server_handle,
            name: UnicodeString::new("EXAMPLE"),
        },
    )
    .await;
    assert_eq!(domain.domain_id.as_ref(), Some(&domain_sid));

    let opened: OpenDomainResponse = call(
        &mut conn,
        Opnum::OPEN_DOMAIN,
        &OpenDomainRequest {
            server_handle: server.server_handle,
            desired_access: DOMAIN_LOOKUP | DOMAIN_LIST_ACCOUNTS,
            domain_id: domain_sid.clone(),
        },
    )
    .await;
    assert_eq!(opened.status, NtStatus::SUCCESS);
    let domain_handle = opened.handle;

    let names: LookupNamesInDomainResponse = call(
        &mut conn,
        Opnum::LOOKUP_NAMES_IN_DOMAIN,
        &LookupNamesInDomainRequest::new(domain_handle, &["alice", "engineers"]),
    )
    .await;
    assert_eq!(names.status, NtStatus::SUCCESS);
    let engineers = object_sid(&lab, "engineers");
    assert_eq!(
        names.relative_ids.values(),
        [alice.rid().unwrap(), engineers.rid().unwrap()]
    );

    let users: EnumerateUsersInDomainResponse = call(
        &mut conn,
        Opnum::ENUMERATE_USERS_IN_DOMAIN,
        &EnumerateUsersInDomainRequest {
            domain_handle,
            enumeration_context: 0,
            user_account_control: USER_NORMAL_ACCOUNT,
            prefered_maximum_length: 0xffff,
        },
    )
    .await;
    let listed: Vec<&str> = users.entries().iter().map(|e| e.name.as_str()).collect();
    for u in ["alice", "bob", "Administrator"] {
        assert!(listed.contains(&u), "{u} not in {listed:?}");
    }

    let user: OpenUserResponse = call(
        &mut conn,
        Opnum::OPEN_USER,
        &OpenUserRequest {
            domain_handle,
            desired_access: USER_READ_GENERAL | USER_READ_ACCOUNT | USER_LIST_GROUPS,
            rid: alice.rid().unwrap(),
        },
    )
    .await;
    assert_eq!(user.status, NtStatus::SUCCESS);
    let info: QueryInformationUser2Response = call(
        &mut conn,
        Opnum::QUERY_INFORMATION_USER2,
        &QueryInformationUser2Request {
            user_handle: user.handle,
            user_information_class: UserInformationClass::ALL,
        },
    )
    .await;
    assert_eq!(info.status, NtStatus::SUCCESS);
    let all = info.all().expect("UserAllInformation");
    assert_eq!(all.user_name.as_str(), "alice");
    assert_eq!(all.full_name.as_str(), "Alice Liddell");
    assert_eq!(all.primary_group_id, 513);

    let groups: GetGroupsForUserResponse = call(
        &mut conn,
        Opnum::GET_GROUPS_FOR_USER,
        &GetGroupsForUserRequest {
            handle: user.handle,
        },
    )
    .await;
    let rids: Vec<u32> = groups
        .groups
        .iter()
        .flat_map(|g| g.groups.iter().flat_map(|a| a.0.iter()))
        .map(|g| g.relative_id)
        .collect();
    assert!(rids.contains(&engineers.rid().unwrap()), "{rids:?}");

    for handle in [user.handle, domain_handle, server.server_handle] {
        let closed: CloseHandleResponse = call(
            &mut conn,
            Opnum::CLOSE_HANDLE,
            &CloseHandleRequest { handle },
        )
        .await;
        assert_eq!(closed.status, NtStatus::SUCCESS);
        assert_eq!(closed.handle, ContextHandle::default());
    }
}
