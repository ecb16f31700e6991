//! MS-SMB2 server side, as far as IPC$: Adjoin's SMB server on a joined member, with
//! session setup verified by the DC (NTLM pass-through over the member's secure channel),
//! serving srvsvc on IPC$. Two independent clients list its shares: Samba's `smbclient -L`
//! and Adjoin's own SMB client (in every dialect, signing checked both ways). With the
//! member's keytab the server also takes Kerberos: tickets for `cifs/<its name>` issued by
//! the DC, from Adjoin's client and from `smbclient -k` with an MIT credential cache.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::Acceptor;
use adjoin_auth::principal::PrincipalName;
use adjoin_join::member::{self, Membership};
use adjoin_rpc::client::BindAuth;
use adjoin_rpc::netlogon::pool::LogonPool;
use adjoin_rpc::srvsvc::{NetrShareEnumRequest, NetrShareEnumResponse, Opnum, ShareEnumUnion};
use adjoin_rpc::transport::Connection;
use adjoin_rpc::uuid::SyntaxId;
use adjoin_smb::client::pipe::NamedPipe;
use adjoin_smb::client::{SessionAuth, SmbClient};
use adjoin_smb::proto::{DIALECTS, Dialect};
use adjoin_smb::server::backend::posix::PosixBackend;
use adjoin_smb::server::share::{DiskShare, Shares};
use adjoin_smb::server::{ServerConfig, serve};
use adjoin_tests::{Lab, text};
use tokio::net::TcpListener;
use zeroize::Zeroizing;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Starts the server for member `m` on a loopback port (Kerberos with `keytab`, if
/// given); returns the port.
async fn start(lab: &Lab, m: &Membership, keytab: Option<Keytab>) -> u16 {
    let (channel, _) = member::secure_channel(m, &lab.discover_options(), TIMEOUT)
        .await
        .unwrap();
    let pool = Arc::new(LogonPool::new(channel, 4));
    let config = Arc::new(ServerConfig {
        identity: m.server_identity(),
        server_guid: [0x42; 16],
        comment: "Adjoin test server".into(),
        shares: Shares::new(vec![DiskShare {
            name: "data".into(),
            comment: "team files".into(),
            path: "/tmp".into(),
            read_only: true,
            allowed_gids: None,
            encrypt: false,
            backend: Arc::new(PosixBackend::new(std::path::Path::new("/tmp")).unwrap()),
        }]),
        tokens: None,
        kerberos: keytab.map(|k| Arc::new(std::sync::Mutex::new(Acceptor::new(k)))),
        ipc: Default::default(),
        encrypt_data: false,
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (config, pool) = (Arc::clone(&config), Arc::clone(&pool));
            tokio::spawn(async move {
                if let Err(e) = serve(stream, config, pool, TIMEOUT).await {
                    eprintln!("server: {e}");
                }
            });
        }
    });
    port
}

/// Lists the shares as alice with `password` (NTLM), with Adjoin's client in `dialect`.
async fn list_shares(
    port: u16,
    lab: &Lab,
    dialect: Dialect,
    password: &str,
) -> Result<Vec<String>, String> {
    let auth = SessionAuth::Ntlm {
        user: "alice".into(),
        domain: lab.netbios.clone(),
        password: Zeroizing::new(password.into()),
        workstation: "LISTER".into(),
    };
    list_shares_as(port, dialect, auth).await
}

/// Lists the shares with Adjoin's client in `dialect`: NetrShareEnum level 1 over \srvsvc.
async fn list_shares_as(
    port: u16,
    dialect: Dialect,
    auth: SessionAuth,
) -> Result<Vec<String>, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut client = SmbClient::connect_with(addr, "files", TIMEOUT, &[dialect])
        .await
        .map_err(|e| e.to_string())?;
    client
        .session_setup(auth)
        .await
        .map_err(|e| e.to_string())?;
    let pipe = NamedPipe::open(client, "srvsvc")
        .await
        .map_err(|e| e.to_string())?;
    let mut conn = Connection::bind(pipe, "srvsvc", SyntaxId::SRVSVC, BindAuth::None)
        .await
        .map_err(|e| e.to_string())?;
    let resp: NetrShareEnumResponse = conn
        .call(
            Opnum::NETR_SHARE_ENUM.value(),
            &NetrShareEnumRequest::new(Some(r"\\files"), 1),
        )
        .await
        .map_err(|e| e.to_string())?;
    conn.into_transport()
        .close()
        .await
        .map_err(|e| e.to_string())?;
    let ShareEnumUnion::Level1(Some(container)) = resp.info_struct.share_info else {
        return Err(format!("not a level-1 container: {resp:?}"));
    };
    Ok(container
        .entries()
        .iter()
        .filter_map(|s| s.netname.as_ref().map(|n| n.0.clone()))
        .collect())
}

/// Runs `smbclient` with `args` and `env` on a blocking thread; asserts it succeeded
/// (`what` names it in the failure) and returns its stdout.
async fn smbclient(what: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new("smbclient");
    command.args(args).envs(env.iter().copied());
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: {stdout}{}",
        text(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ms_smb2_server_lists_its_shares_to_domain_users() {
    let lab = Lab::get();
    let (_dir, m) = lab.joined_member(
        env!("CARGO_BIN_EXE_domain-join"),
        "files.example.test",
        false,
    );
    let port = start(&lab, &m, None).await;

    for dialect in DIALECTS {
        let shares = list_shares(port, &lab, dialect, &lab.password("alice"))
            .await
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        assert_eq!(shares, ["IPC$", "data"], "{dialect}");
    }
    let refused = list_shares(port, &lab, Dialect::SMB311, "not-alices-password").await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("STATUS_LOGON_FAILURE")),
        "{refused:?}"
    );

    // Samba's client, independently: SPNEGO/NTLMSSP session setup, IPC$, srvsvc.
    let user = format!("{}\\alice%{}", lab.netbios, lab.password("alice"));
    let port_arg = port.to_string();
    let args = [
        "-L",
        "//127.0.0.1",
        "-p",
        &port_arg,
        "-m",
        "SMB3",
        "-U",
        &user,
    ];
    let stdout = smbclient("smbclient -L", &args, &[]).await;
    assert!(
        stdout.contains("data") && stdout.contains("team files"),
        "{stdout}"
    );
    assert!(stdout.contains("IPC$"), "{stdout}");

    let _ = lab.samba_tool(&["computer", "delete", &m.account.netbios_name]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ms_smb2_server_takes_kerberos_with_the_members_keytab() {
    let lab = Lab::get();
    let (dir, m) = lab.joined_member(
        env!("CARGO_BIN_EXE_domain-join"),
        "kfiles.example.test",
        true,
    );
    let keytab_path = dir.path().join("krb5.keytab");
    let keytab = Keytab::parse(&std::fs::read(&keytab_path).unwrap()).unwrap();
    let port = start(&lab, &m, Some(keytab)).await;

    // Adjoin's client with a ticket for cifs/kfiles.example.test: the keytab holds host/
    // keys only, which AD also encrypts cifs/ tickets with.
    let spn = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["cifs", "kfiles.example.test"],
        lab.realm.as_str(),
    );
    let creds = lab.service_ticket("bob", &spn).await;
    let shares = list_shares_as(
        port,
        Dialect::SMB311,
        SessionAuth::Kerberos(Box::new(creds)),
    )
    .await
    .unwrap();
    assert_eq!(shares, ["IPC$", "data"]);

    // smbclient -k with an MIT credential cache from kinit.
    let ccache = dir.path().join("ccache");
    let ccache_env = format!("FILE:{}", ccache.display());
    lab.mit_kinit("alice", &ccache);
    let port_arg = port.to_string();
    let args = [
        "-L",
        "//kfiles.example.test",
        "-I",
        "127.0.0.1",
        "-p",
        &port_arg,
        "-m",
        "SMB3",
        "--use-kerberos=required",
        "-N",
    ];
    let env = [
        ("KRB5_CONFIG", lab.krb5_config.as_str()),
        ("KRB5CCNAME", &ccache_env),
    ];
    let stdout = smbclient("smbclient -k -L", &args, &env).await;
    assert!(stdout.contains("team files"), "{stdout}");

    let _ = lab.samba_tool(&["computer", "delete", &m.account.netbios_name]);
}
