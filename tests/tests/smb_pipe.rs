//! MS-SMB2 client and MS-RPCE 2.1.1.2 ncacn_np against the lab DC's own SMB server:
//! every dialect's signing (HMAC-SHA256, AES-CMAC, AES-CMAC with the 3.1.1
//! pre-authentication hash), NTLM and Kerberos session setup through SPNEGO, and LSA
//! calls over the `lsarpc` pipe, which Samba answers only there (LsarGetUserName).

use std::net::SocketAddr;
use std::time::Duration;

use adjoin_auth::krb::Credentials;
use adjoin_auth::ntlm::NtlmClient;
use adjoin_auth::principal::PrincipalName;
use adjoin_rpc::client::BindAuth;
use adjoin_rpc::lsa::{GET_USER_NAME, GetUserNameRequest, GetUserNameResponse};
use adjoin_rpc::ndr::{NdrParams, Sid, UnicodeString};
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::pdu::AuthLevel;
use adjoin_rpc::samr::*;
use adjoin_rpc::transport::Connection;
use adjoin_rpc::uuid::SyntaxId;
use adjoin_smb::SmbError;
use adjoin_smb::client::pipe::NamedPipe;
use adjoin_smb::client::{SessionAuth, SmbClient};
use adjoin_smb::proto::{DIALECTS, Dialect};
use adjoin_tests::Lab;
use zeroize::Zeroizing;

const TIMEOUT: Duration = Duration::from_secs(10);

fn smb_addr(lab: &Lab) -> SocketAddr {
    SocketAddr::new(lab.dc.parse().unwrap(), 445)
}

fn ntlm(lab: &Lab, user: &str, password: &str) -> SessionAuth {
    SessionAuth::Ntlm {
        user: user.into(),
        domain: lab.netbios.clone(),
        password: Zeroizing::new(password.into()),
        workstation: "ADJOINTEST".into(),
    }
}

async fn cifs_ticket(lab: &Lab, user: &str) -> Credentials {
    let spn = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["cifs", lab.dc_name.as_str()],
        lab.realm.as_str(),
    );
    lab.service_ticket(user, &spn).await
}

/// Opens `lsarpc` on an authenticated client and asks LSA who the pipe's caller is.
async fn who_am_i(client: SmbClient) -> (String, String) {
    let pipe = NamedPipe::open(client, "lsarpc").await.unwrap();
    let mut lsa = Connection::bind(pipe, "LSA", SyntaxId::LSA, BindAuth::None)
        .await
        .unwrap();
    let resp: GetUserNameResponse = lsa
        .call(GET_USER_NAME, &GetUserNameRequest::with_domain())
        .await
        .unwrap();
    assert_eq!(resp.status, NtStatus::SUCCESS);
    let user = resp.user_name.and_then(|s| s.0).unwrap();
    let domain = resp.domain_name.flatten().and_then(|s| s.0).unwrap();
    lsa.into_transport().close().await.unwrap();
    (domain, user)
}

#[tokio::test]
async fn ms_smb2_signed_sessions_in_every_dialect_carry_lsa_over_ncacn_np() {
    let lab = Lab::get();
    for dialect in DIALECTS {
        let mut client = SmbClient::connect_with(smb_addr(&lab), &lab.dc_name, TIMEOUT, &[dialect])
            .await
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        assert_eq!(client.negotiated().dialect, dialect);
        // A DC requires signing: every request after the session setup is signed and
        // every response is checked, so this also proves the keys agree.
        assert!(client.negotiated().signing_required);
        client
            .session_setup(ntlm(&lab, "alice", &lab.password("alice")))
            .await
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        let (domain, user) = who_am_i(client).await;
        assert_eq!(
            (domain.as_str(), user.as_str()),
            (lab.netbios.as_str(), "alice"),
            "{dialect}"
        );
    }
}

#[tokio::test]
async fn ms_smb2_3_1_4_3_encrypted_sessions_carry_lsa() {
    let lab = Lab::get();
    // Samba offers encryption without requiring it; the client asks for it anyway, so
    // every request after the session setup travels in a TRANSFORM_HEADER and every reply
    // must decrypt (AES-128-CCM for 3.0.x, the server's pick of GCM/CCM for 3.1.1).
    for dialect in [Dialect::SMB300, Dialect::SMB302, Dialect::SMB311] {
        let mut client = SmbClient::connect_with(smb_addr(&lab), &lab.dc_name, TIMEOUT, &[dialect])
            .await
            .unwrap();
        assert!(client.negotiated().cipher.is_some(), "{dialect}");
        client.encrypt_always();
        client
            .session_setup(ntlm(&lab, "alice", &lab.password("alice")))
            .await
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        assert!(client.encrypting());
        let (domain, user) = who_am_i(client).await;
        assert_eq!(
            (domain.as_str(), user.as_str()),
            (lab.netbios.as_str(), "alice"),
            "{dialect}"
        );
    }
    // SMB 2.x has no encryption: asking for it fails at session setup, saying why.
    let mut client =
        SmbClient::connect_with(smb_addr(&lab), &lab.dc_name, TIMEOUT, &[Dialect::SMB210])
            .await
            .unwrap();
    client.encrypt_always();
    let e = client
        .session_setup(ntlm(&lab, "alice", &lab.password("alice")))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no cipher"), "{e}");
}

async fn samr<Req: NdrParams, Resp: NdrParams>(
    conn: &mut Connection<NamedPipe>,
    opnum: Opnum,
    request: &Req,
) -> Resp {
    conn.call(opnum.value(), request)
        .await
        .unwrap_or_else(|e| panic!("{opnum}: {e}"))
}

/// SAMR over `\samr`, with calls of several fragments each way: the request's earlier
/// fragments go out as WRITEs, its last one with the reply through FSCTL_PIPE_TRANSCEIVE,
/// and the reply's later fragments come back through READs. `auth` adds NTLMSSP packet
/// privacy inside the pipe, whose rpc_auth_3 has no reply (it must still reach the DC
/// before the first call).
async fn samr_lookups_over_the_pipe(lab: &Lab, auth: BindAuth) {
    let mut client = SmbClient::connect(smb_addr(lab), &lab.dc_name, TIMEOUT)
        .await
        .unwrap();
    client
        .session_setup(ntlm(lab, "alice", &lab.password("alice")))
        .await
        .unwrap();
    let pipe = NamedPipe::open(client, "samr").await.unwrap();
    let mut conn = Connection::bind(pipe, "SAMR", SyntaxId::SAMR, auth)
        .await
        .unwrap();
    let server: Connect5Response = samr(
        &mut conn,
        Opnum::CONNECT5,
        &Connect5Request::new(
            Some(&format!(r"\\{}", lab.dc_name)),
            SAM_SERVER_CONNECT | SAM_SERVER_LOOKUP_DOMAIN,
        ),
    )
    .await;
    assert_eq!(server.status, NtStatus::SUCCESS);
    let alice: Sid = lab.object_sid("alice").parse().unwrap();
    let domain_sid: Sid = lab.domain_sid().parse().unwrap();
    let domain: LookupDomainInSamServerResponse = samr(
        &mut conn,
        Opnum::LOOKUP_DOMAIN_IN_SAM_SERVER,
        &LookupDomainInSamServerRequest {
            server_handle: server.server_handle,
            name: UnicodeString::new(&lab.netbios),
        },
    )
    .await;
    assert_eq!(domain.domain_id.as_ref(), Some(&domain_sid));
    let opened: OpenDomainResponse = samr(
        &mut conn,
        Opnum::OPEN_DOMAIN,
        &OpenDomainRequest {
            server_handle: server.server_handle,
            desired_access: DOMAIN_LOOKUP,
            domain_id: domain_sid,
        },
    )
    .await;
    assert_eq!(opened.status, NtStatus::SUCCESS);
    let many = vec!["alice"; 900];
    let names: LookupNamesInDomainResponse = samr(
        &mut conn,
        Opnum::LOOKUP_NAMES_IN_DOMAIN,
        &LookupNamesInDomainRequest::new(opened.handle, &many),
    )
    .await;
    assert_eq!(names.status, NtStatus::SUCCESS);
    assert_eq!(names.relative_ids.values(), vec![alice.rid().unwrap(); 900]);
    conn.into_transport().close().await.unwrap();
}

#[tokio::test]
async fn ms_rpce_2_1_1_2_samr_over_a_named_pipe_in_many_fragments() {
    let lab = Lab::get();
    samr_lookups_over_the_pipe(&lab, BindAuth::None).await;
    let (client, negotiate) =
        NtlmClient::new("alice", &lab.netbios, &lab.password("alice"), "PIPETEST").unwrap();
    let ntlm = BindAuth::Ntlm {
        client,
        negotiate,
        level: AuthLevel::PKT_PRIVACY,
    };
    samr_lookups_over_the_pipe(&lab, ntlm).await;
}

#[tokio::test]
async fn ms_smb2_kerberos_session_through_spnego() {
    let lab = Lab::get();
    let creds = cifs_ticket(&lab, "bob").await;
    let mut client = SmbClient::connect(smb_addr(&lab), &lab.dc_name, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(client.negotiated().dialect, Dialect::SMB311);
    client
        .session_setup(SessionAuth::Kerberos(Box::new(creds)))
        .await
        .unwrap();
    let (domain, user) = who_am_i(client).await;
    assert_eq!(
        (domain.as_str(), user.as_str()),
        (lab.netbios.as_str(), "bob")
    );
}

#[tokio::test]
async fn ms_smb2_refusals_are_typed() {
    let lab = Lab::get();
    let mut client = SmbClient::connect(smb_addr(&lab), &lab.dc_name, TIMEOUT)
        .await
        .unwrap();
    let e = client
        .session_setup(ntlm(&lab, "bob", "not-his-password"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(NtStatus::LOGON_FAILURE), "{e}");

    let mut client = SmbClient::connect(smb_addr(&lab), &lab.dc_name, TIMEOUT)
        .await
        .unwrap();
    client
        .session_setup(ntlm(&lab, "alice", &lab.password("alice")))
        .await
        .unwrap();
    let e = client.tree_connect("no-such-share").await.unwrap_err();
    assert_eq!(e.status(), Some(NtStatus::BAD_NETWORK_NAME), "{e}");
    let ipc = client.tree_connect("IPC$").await.unwrap();
    let e = client.open_pipe(ipc, "no-such-pipe").await.unwrap_err();
    assert_eq!(e.status(), Some(NtStatus::OBJECT_NAME_NOT_FOUND), "{e}");
    assert!(matches!(e, SmbError::Status { .. }));
    client.logoff().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_server_is_an_io_error_naming_it() {
    // Nothing listens on 445 at this loopback address.
    let addr: SocketAddr = "127.0.0.9:445".parse().unwrap();
    let e = SmbClient::connect(addr, "nobody", TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(e, SmbError::Io { .. }), "{e}");
    assert!(e.to_string().contains("127.0.0.9:445"), "{e}");
}
