//! MS-RPCE 3.3.1.5.2 NTLMSSP packet security against the lab DC: a NETLOGON binding as a
//! domain user, at packet integrity and at packet privacy, asked DsrGetDcNameEx2 (the DC
//! checks every request's signature, we check every reply's); a wrong password is refused.
//! (LsarGetUserName would name the user, but Samba answers it only over named pipes.)

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use adjoin_auth::ntlm::NtlmClient;
use adjoin_rpc::client::{BindAuth, RpcError};
use adjoin_rpc::ndr::WideString;
use adjoin_rpc::netlogon::{
    DS_RETURN_DNS_NAME, DsrGetDcNameEx2Request, DsrGetDcNameEx2Response, Opnum,
};
use adjoin_rpc::pdu::AuthLevel;
use adjoin_rpc::tcp::{TcpConnection, map_tcp_port};
use adjoin_rpc::uuid::SyntaxId;
use adjoin_tests::Lab;

const TIMEOUT: Duration = Duration::from_secs(10);

async fn netlogon_as(
    lab: &Lab,
    user: &str,
    password: &str,
    level: AuthLevel,
) -> Result<TcpConnection, RpcError> {
    let dc: IpAddr = lab.dc.parse().unwrap();
    let port = map_tcp_port(dc, SyntaxId::NETLOGON, TIMEOUT).await?;
    let (client, negotiate) = NtlmClient::new(user, "EXAMPLE", password, "RPCTEST").unwrap();
    TcpConnection::connect(
        SocketAddr::new(dc, port),
        "NETLOGON",
        SyntaxId::NETLOGON,
        BindAuth::Ntlm {
            client,
            negotiate,
            level,
        },
        TIMEOUT,
    )
    .await
}

fn dc_name_request(lab: &Lab) -> DsrGetDcNameEx2Request {
    DsrGetDcNameEx2Request {
        domain_name: Some(WideString::new(lab.domain.clone())),
        flags: DS_RETURN_DNS_NAME,
        ..DsrGetDcNameEx2Request::default()
    }
}

async fn dc_name(conn: &mut TcpConnection, lab: &Lab) -> Result<DsrGetDcNameEx2Response, RpcError> {
    conn.call(Opnum::DSR_GET_DC_NAME_EX2.value(), &dc_name_request(lab))
        .await
}

#[tokio::test(flavor = "current_thread")]
async fn ms_rpce_ntlmssp_binding_at_integrity_and_privacy() {
    let lab = Lab::get();
    for level in [AuthLevel::PKT_INTEGRITY, AuthLevel::PKT_PRIVACY] {
        let mut conn = netlogon_as(&lab, "alice", &lab.password("alice"), level)
            .await
            .unwrap_or_else(|e| panic!("{level}: {e}"));
        // Three calls: sequence numbers and RC4 streams stay in step both ways.
        for _ in 0..3 {
            let answer = dc_name(&mut conn, &lab)
                .await
                .unwrap_or_else(|e| panic!("{level}: {e}"));
            assert_eq!(answer.status, 0, "{level}");
            let info = answer.info.expect("DOMAIN_CONTROLLER_INFOW");
            assert_eq!(
                info.domain_controller_name,
                Some(WideString::new(format!(r"\\{}", lab.dc_name))),
                "{level}"
            );
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn ms_rpce_ntlmssp_wrong_password_is_refused() {
    let lab = Lab::get();
    // rpc_auth_3 has no answer: the refusal shows at the first call (a fault, or the DC
    // closing the connection), never as a successful reply.
    let result =
        match netlogon_as(&lab, "alice", "not-alices-password", AuthLevel::PKT_PRIVACY).await {
            Ok(mut conn) => dc_name(&mut conn, &lab).await.map(|_| ()),
            Err(e) => Err(e),
        };
    let err = result.expect_err("a wrong password must not get a reply");
    assert!(
        matches!(
            err,
            RpcError::Fault(_) | RpcError::Io { .. } | RpcError::BindRefused { .. }
        ),
        "{err}"
    );
}
