//! MS-RPCE 3.3.1.5.2 with Kerberos (auth_type 16, MS-KILE 3.4.5 DCE style) against the lab
//! DC: alice's service ticket for the DC from Adjoin's own Kerberos client, a SAMR binding
//! over ncacn_ip_tcp at packet integrity and at packet privacy (bind with the AP-REQ,
//! bind_ack with the DC's AP-REP, rpc_auth_3 with ours), and real SAMR calls whose answers
//! are checked against the DC's database.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use adjoin_auth::crypto::Key;
use adjoin_auth::gss::GssError;
use adjoin_auth::krb::Credentials;
use adjoin_auth::principal::PrincipalName;
use adjoin_rpc::client::{BindAuth, ClientBinding, RpcError};
use adjoin_rpc::fragment::Reassembler;
use adjoin_rpc::ndr::{NdrParams, Sid, UnicodeString};
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::pdu::{AuthLevel, FaultStatus, HEADER_LEN, Header, PacketType};
use adjoin_rpc::samr::*;
use adjoin_rpc::tcp::{TcpConnection, map_tcp_port};
use adjoin_rpc::uuid::SyntaxId;
use adjoin_tests::Lab;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(10);

/// alice's service ticket for the DC, from the lab KDC through Adjoin's client: for
/// `host/<dc>`, or with `machine_account` for the DC's account itself (`DC1$`).
async fn alice_ticket(lab: &Lab, machine_account: bool) -> Credentials {
    let dc_name = lab.dc_name.to_ascii_lowercase();
    let spn = if machine_account {
        let host = dc_name.split('.').next().unwrap().to_ascii_uppercase();
        let account = format!("{host}$");
        PrincipalName::new(
            PrincipalName::NT_PRINCIPAL,
            [account.as_str()],
            lab.realm.as_str(),
        )
    } else {
        PrincipalName::new(
            PrincipalName::NT_SRV_HST,
            ["host", dc_name.as_str()],
            lab.realm.as_str(),
        )
    };
    lab.service_ticket("alice", &spn).await
}

async fn alice_ticket_for_dc(lab: &Lab) -> Credentials {
    alice_ticket(lab, false).await
}

async fn connect(
    lab: &Lab,
    credentials: Credentials,
    level: AuthLevel,
) -> Result<TcpConnection, RpcError> {
    let dc: IpAddr = lab.dc.parse().unwrap();
    let port = map_tcp_port(dc, SyntaxId::SAMR, TIMEOUT).await.unwrap();
    TcpConnection::connect(
        SocketAddr::new(dc, port),
        "SAMR",
        SyntaxId::SAMR,
        BindAuth::Kerberos {
            credentials: Box::new(credentials),
            level,
        },
        TIMEOUT,
    )
    .await
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

/// Connect5, EnumerateDomainsInSamServer, LookupDomainInSamServer, OpenDomain,
/// LookupNamesInDomain (alice's RID as the DC's database has it), CloseHandle.
async fn samr_calls(lab: &Lab, conn: &mut TcpConnection) {
    let server: Connect5Response = call(
        conn,
        Opnum::CONNECT5,
        &Connect5Request::new(
            Some(&format!(r"\\{}", lab.dc_name)),
            SAM_SERVER_CONNECT | SAM_SERVER_LOOKUP_DOMAIN | SAM_SERVER_ENUMERATE_DOMAINS,
        ),
    )
    .await;
    assert_eq!(server.status, NtStatus::SUCCESS);

    let domains: EnumerateDomainsInSamServerResponse = call(
        conn,
        Opnum::ENUMERATE_DOMAINS_IN_SAM_SERVER,
        &EnumerateDomainsInSamServerRequest {
            server_handle: server.server_handle,
            enumeration_context: 0,
            prefered_maximum_length: 0xffff,
        },
    )
    .await;
    assert_eq!(domains.status, NtStatus::SUCCESS);
    let names: Vec<&str> = domains.entries().iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&lab.netbios.as_str()), "{names:?}");
    assert!(
        names.iter().any(|n| n.eq_ignore_ascii_case("builtin")),
        "{names:?}"
    );

    let alice: Sid = lab.object_sid("alice").parse().unwrap();
    let domain_sid: Sid = lab.domain_sid().parse().unwrap();
    let domain: LookupDomainInSamServerResponse = call(
        conn,
        Opnum::LOOKUP_DOMAIN_IN_SAM_SERVER,
        &LookupDomainInSamServerRequest {
            server_handle: server.server_handle,
            name: UnicodeString::new(&lab.netbios),
        },
    )
    .await;
    assert_eq!(domain.domain_id.as_ref(), Some(&domain_sid));

    let opened: OpenDomainResponse = call(
        conn,
        Opnum::OPEN_DOMAIN,
        &OpenDomainRequest {
            server_handle: server.server_handle,
            desired_access: DOMAIN_LOOKUP,
            domain_id: domain_sid,
        },
    )
    .await;
    assert_eq!(opened.status, NtStatus::SUCCESS);

    let names: LookupNamesInDomainResponse = call(
        conn,
        Opnum::LOOKUP_NAMES_IN_DOMAIN,
        &LookupNamesInDomainRequest::new(opened.handle, &["alice"]),
    )
    .await;
    assert_eq!(names.status, NtStatus::SUCCESS);
    assert_eq!(names.relative_ids.values(), [alice.rid().unwrap()]);

    // A call of several fragments each way: every fragment carries its own token.
    let many = vec!["alice"; 900];
    let names: LookupNamesInDomainResponse = call(
        conn,
        Opnum::LOOKUP_NAMES_IN_DOMAIN,
        &LookupNamesInDomainRequest::new(opened.handle, &many),
    )
    .await;
    assert_eq!(names.status, NtStatus::SUCCESS);
    assert_eq!(names.relative_ids.values(), vec![alice.rid().unwrap(); 900]);

    for handle in [opened.handle, server.server_handle] {
        let closed: CloseHandleResponse =
            call(conn, Opnum::CLOSE_HANDLE, &CloseHandleRequest { handle }).await;
        assert_eq!(closed.status, NtStatus::SUCCESS);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn ms_rpce_3_3_1_5_2_kerberos_samr_at_packet_integrity() {
    let lab = Lab::get();
    // The ticket names the DC's machine account here, host/<dc> elsewhere.
    let ticket = alice_ticket(&lab, true).await;
    assert!(
        ticket.server.components[0].ends_with('$'),
        "{}",
        ticket.server
    );
    let mut conn = connect(&lab, ticket, AuthLevel::PKT_INTEGRITY)
        .await
        .unwrap();
    samr_calls(&lab, &mut conn).await;
}

#[tokio::test(flavor = "current_thread")]
async fn ms_rpce_3_3_1_5_2_kerberos_samr_at_packet_privacy() {
    let lab = Lab::get();
    let ticket = alice_ticket_for_dc(&lab).await;
    let mut conn = connect(&lab, ticket, AuthLevel::PKT_PRIVACY).await.unwrap();
    samr_calls(&lab, &mut conn).await;
}

/// A ticket whose session key is not the one the DC put in it: the DC cannot read the
/// authenticator, so the bind fails with a typed error and no call goes through.
#[tokio::test(flavor = "current_thread")]
async fn ms_kile_3_4_5_kerberos_bind_with_the_wrong_session_key_is_refused() {
    let lab = Lab::get();
    let mut ticket = alice_ticket_for_dc(&lab).await;
    let etype = ticket.session_key.etype();
    ticket.session_key = Key::generate(etype).unwrap();
    let refused = connect(&lab, ticket, AuthLevel::PKT_PRIVACY).await;
    assert!(
        matches!(refused, Err(RpcError::BindRefused { .. })),
        "{refused:?}"
    );
}

/// The sans-IO binding over a plain TCP stream, so the test can touch the bytes.
struct RawBinding {
    stream: TcpStream,
    binding: ClientBinding,
}

impl RawBinding {
    async fn bind(lab: &Lab, level: AuthLevel) -> Self {
        let dc: IpAddr = lab.dc.parse().unwrap();
        let port = map_tcp_port(dc, SyntaxId::SAMR, TIMEOUT).await.unwrap();
        let stream = TcpStream::connect(SocketAddr::new(dc, port)).await.unwrap();
        let credentials = Box::new(alice_ticket_for_dc(lab).await);
        let auth = BindAuth::Kerberos { credentials, level };
        let mut me = Self {
            stream,
            binding: ClientBinding::new("SAMR", auth),
        };
        let bind = me.binding.bind_pdu(SyntaxId::SAMR).unwrap();
        me.stream.write_all(&bind).await.unwrap();
        let ack = me.read().await.unwrap();
        let auth3 = me.binding.handle_bind_reply(&ack).unwrap();
        me.stream
            .write_all(&auth3.expect("Kerberos has a third leg"))
            .await
            .unwrap();
        me
    }

    /// One fragment, or None when the DC closed the connection.
    async fn read(&mut self) -> Option<Vec<u8>> {
        let mut buf = vec![0; HEADER_LEN];
        let read = tokio::time::timeout(TIMEOUT, self.stream.read_exact(&mut buf)).await;
        read.expect("the DC answers in time").ok()?;
        let header = Header::peek(&buf).unwrap().unwrap();
        buf.resize(usize::from(header.frag_length), 0);
        self.stream.read_exact(&mut buf[HEADER_LEN..]).await.ok()?;
        Some(buf)
    }

    /// Sends Connect5 after `tamper` had its way with the request fragment; returns the
    /// reply fragment.
    async fn connect5(
        &mut self,
        lab: &Lab,
        tamper: impl FnOnce(&mut [u8]),
    ) -> (Option<Vec<u8>>, Reassembler) {
        let request =
            Connect5Request::new(Some(&format!(r"\\{}", lab.dc_name)), SAM_SERVER_CONNECT);
        let (mut fragments, reassembler) = self
            .binding
            .request(Opnum::CONNECT5.value(), request.to_stub())
            .unwrap();
        assert_eq!(fragments.len(), 1);
        tamper(&mut fragments[0]);
        self.stream.write_all(&fragments[0]).await.unwrap();
        (self.read().await, reassembler)
    }
}

/// What the DC sends at privacy (MS-KILE 3.4.5.4.1 as Samba's Heimdal does it): a 76-byte
/// sealed token with EC 16 and RRC 28, sent by the acceptor under its subkey; a reply
/// changed in transit fails with a typed error, and so does a request: the DC checks.
#[tokio::test(flavor = "current_thread")]
async fn ms_kile_3_4_5_4_1_dc_tokens_and_tampering_both_ways() {
    let lab = Lab::get();
    let mut raw = RawBinding::bind(&lab, AuthLevel::PKT_PRIVACY).await;
    let (reply, mut reassembler) = raw.connect5(&lab, |_| {}).await;
    let reply = reply.expect("a response");
    let header = Header::peek(&reply).unwrap().unwrap();
    assert_eq!(header.ptype, PacketType::RESPONSE);
    assert_eq!(header.auth_length, 76);
    let token = &reply[reply.len() - 76..];
    assert_eq!(
        &token[..4],
        &[0x05, 0x04, 0x07, 0xff],
        "sealed by the acceptor, subkey"
    );
    assert_eq!(&token[4..8], &[0, 16, 0, 28], "EC 16, RRC 28");
    let stub = raw
        .binding
        .response_fragment(&mut reassembler, reply.clone())
        .unwrap()
        .expect("one fragment");
    let server = Connect5Response::from_stub(&stub).unwrap();
    assert_eq!(server.status, NtStatus::SUCCESS);

    // A reply changed in its sealed stub.
    let (reply, mut reassembler) = raw.connect5(&lab, |_| {}).await;
    let mut reply = reply.expect("a response");
    reply[HEADER_LEN + 8] ^= 1;
    let got = raw.binding.response_fragment(&mut reassembler, reply);
    assert!(
        matches!(got, Err(RpcError::Kerberos(GssError::BadSignature))),
        "{got:?}"
    );

    // A request changed in its sealed stub: the DC refuses it with rpc_s_sec_pkg_error.
    let mut raw = RawBinding::bind(&lab, AuthLevel::PKT_PRIVACY).await;
    let (reply, mut reassembler) = raw.connect5(&lab, |f| f[HEADER_LEN + 8] ^= 1).await;
    let reply = reply.expect("a fault");
    let got = raw.binding.response_fragment(&mut reassembler, reply);
    assert!(
        matches!(got, Err(RpcError::Fault(FaultStatus::SEC_PKG_ERROR))),
        "{got:?}"
    );
}

/// The same at integrity: MIC tokens (28 bytes) over the stub and padding.
#[tokio::test(flavor = "current_thread")]
async fn ms_rpce_kerberos_integrity_signatures_are_checked_both_ways() {
    let lab = Lab::get();
    let mut raw = RawBinding::bind(&lab, AuthLevel::PKT_INTEGRITY).await;
    let (reply, mut reassembler) = raw.connect5(&lab, |_| {}).await;
    let mut reply = reply.expect("a response");
    let header = Header::peek(&reply).unwrap().unwrap();
    assert_eq!(header.auth_length, 28);
    let token = &reply[reply.len() - 28..];
    assert_eq!(
        &token[..3],
        &[0x04, 0x04, 0x05],
        "MIC by the acceptor, subkey"
    );
    reply[HEADER_LEN + 8] ^= 1;
    let got = raw.binding.response_fragment(&mut reassembler, reply);
    assert!(
        matches!(got, Err(RpcError::Kerberos(GssError::BadSignature))),
        "{got:?}"
    );

    let mut raw = RawBinding::bind(&lab, AuthLevel::PKT_INTEGRITY).await;
    let (reply, mut reassembler) = raw.connect5(&lab, |f| f[HEADER_LEN + 8] ^= 1).await;
    let reply = reply.expect("a fault");
    let got = raw.binding.response_fragment(&mut reassembler, reply);
    assert!(
        matches!(got, Err(RpcError::Fault(FaultStatus::SEC_PKG_ERROR))),
        "{got:?}"
    );
}
