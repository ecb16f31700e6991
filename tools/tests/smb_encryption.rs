//! MS-SMB2 3.1.4.3 / 3.3.4.1.4 encryption and 3.3.5.2.5 large MTU on adjoind's file
//! server, against Samba's `smbclient` and Adjoin's own client: a freshly joined member
//! serves `data` (encryption optional) and `vault` (Encrypt=1 in the registry). A relay
//! between smbclient and adjoind sees every Direct TCP frame, so the tests check on the
//! wire that the traffic is encrypted (TRANSFORM_HEADERs, no plaintext), not only that the
//! client said so.

// tools/test: long

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adjoin_registry::Value;
use adjoin_rpc::client::BindAuth;
use adjoin_rpc::srvsvc::{NetrShareEnumRequest, NetrShareEnumResponse, Opnum, ShareEnumUnion};
use adjoin_rpc::transport::Connection;
use adjoin_rpc::uuid::SyntaxId;
use adjoin_smb::client::pipe::NamedPipe;
use adjoin_smb::client::{SessionAuth, SmbClient};
use adjoin_smb::proto::{DIALECTS, Dialect};
use adjoin_tests::daemon::{Bins, FREE_LOOPBACK_PORT, IdentityDaemon, share_dir};
use adjoin_tests::{Lab, text};
use zeroize::Zeroizing;

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// Bytes no SMB header or encrypted stream carries by chance: found on the wire, they are
/// file data in the clear.
const MARKER: &[u8] = b"ADJOIN-CLEARTEXT-MARKER-7f3a9c";

/// A member serving `data` and `vault` (Encrypt=1) from two directories.
struct FileServer {
    daemon: IdentityDaemon,
    _data: tempfile::TempDir,
    vault: tempfile::TempDir,
}

impl FileServer {
    fn start(lab: &Lab, fqdn: &str) -> Self {
        let daemon = IdentityDaemon::start_with(lab, BINS, fqdn, &[], Some(FREE_LOOPBACK_PORT));
        let (data, vault) = (
            share_dir("adjoin-enc-data-"),
            share_dir("adjoin-enc-vault-"),
        );
        let path = |d: &tempfile::TempDir| Value::Sz(d.path().display().to_string());
        daemon.set_share("data", "Path", &path(&data));
        daemon.set_share("vault", "Path", &path(&vault));
        daemon.set_share("vault", "Encrypt", &Value::Dword(1));
        daemon.wait_for_share(lab, "vault");
        Self {
            daemon,
            _data: data,
            vault,
        }
    }

    fn port(&self) -> u16 {
        self.daemon.smb.expect("serving SMB").port()
    }

    /// Runs smbclient as alice (NTLM) against `share` on `port` (adjoind's, or a relay's)
    /// with `options` and `commands`.
    fn smbclient(&self, lab: &Lab, port: u16, share: &str, options: &[&str], cmds: &str) -> Output {
        Command::new("smbclient")
            .arg(format!("//{}/{share}", self.daemon.fqdn))
            .args(["-I", "127.0.0.1", "-p", &port.to_string()])
            .arg("-U")
            .arg(format!("{}\\alice%{}", lab.netbios, lab.password("alice")))
            .args(options)
            .args(["-c", cmds])
            .env("KRB5_CONFIG", &lab.krb5_config)
            .output()
            .expect("smbclient runs")
    }
}

fn ok(out: &Output, what: &str, daemon: &IdentityDaemon) -> String {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success() && !all.contains("NT_STATUS_"),
        "{what} failed: {all}\nadjoind: {}",
        daemon.log()
    );
    all
}

/// What a relay saw of one direction of the traffic.
#[derive(Debug, Default)]
struct Seen {
    /// Each frame's ProtocolId: 0xFE 'SMB' plain, 0xFD 'SMB' encrypted.
    protocols: Vec<[u8; 4]>,
    /// The largest frame.
    largest: usize,
    /// Whether [`MARKER`] appeared in a frame.
    cleartext: bool,
}

impl Seen {
    fn encrypted(&self) -> usize {
        self.protocols.iter().filter(|p| p[0] == 0xfd).count()
    }

    /// Plain frames after the first encrypted one.
    fn plain_after_encryption(&self) -> usize {
        self.protocols
            .iter()
            .skip_while(|p| p[0] != 0xfd)
            .filter(|p| p[0] != 0xfd)
            .count()
    }
}

/// A TCP relay to adjoind that forwards Direct TCP frames (RFC 1002 length prefix) as they
/// are and notes what each direction carried.
struct Relay {
    port: u16,
    to_server: Arc<Mutex<Seen>>,
    to_client: Arc<Mutex<Seen>>,
}

impl Relay {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (to_server, to_client) = (Arc::default(), Arc::default());
        let seen = (Arc::clone(&to_server), Arc::clone(&to_client));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (up, down) = (Arc::clone(&seen.0), Arc::clone(&seen.1));
                std::thread::spawn(move || pump(client, server, &up));
                std::thread::spawn(move || pump(s2, c2, &down));
            }
        });
        Self {
            port,
            to_server,
            to_client,
        }
    }

    /// Asserts that after the session setup every frame both ways was encrypted and no
    /// file data crossed in the clear.
    fn all_encrypted(&self, what: &str) {
        for (direction, seen) in [
            ("to adjoind", &self.to_server),
            ("to smbclient", &self.to_client),
        ] {
            let seen = seen.lock().unwrap();
            assert!(seen.encrypted() >= 5, "{what} {direction}: {seen:?}");
            let plain = seen.plain_after_encryption();
            assert_eq!(plain, 0, "{what} {direction}: {seen:?}");
            assert!(
                !seen.cleartext,
                "{what} {direction}: file data in the clear"
            );
        }
    }
}

/// Forwards frames from `from` to `to` until `from` closes, noting each in `seen`.
fn pump(mut from: TcpStream, mut to: TcpStream, seen: &Mutex<Seen>) {
    let mut prefix = [0u8; 4];
    while from.read_exact(&mut prefix).is_ok() {
        let len = u32::from_be_bytes(prefix) as usize & 0x00ff_ffff;
        let mut frame = vec![0; len];
        if from.read_exact(&mut frame).is_err() {
            break;
        }
        {
            let mut seen = seen.lock().unwrap();
            seen.protocols.push(
                frame
                    .get(..4)
                    .and_then(|p| p.try_into().ok())
                    .unwrap_or([0; 4]),
            );
            seen.largest = seen.largest.max(len);
            seen.cleartext |= frame.windows(MARKER.len()).any(|w| w == MARKER);
        }
        if to
            .write_all(&prefix)
            .and_then(|()| to.write_all(&frame))
            .is_err()
        {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// A file of `len` bytes with [`MARKER`] every 4 KiB.
fn marked(len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    for at in (0..len.saturating_sub(MARKER.len())).step_by(4096) {
        data[at..at + MARKER.len()].copy_from_slice(MARKER);
    }
    data
}

/// A file to send and fetch back: `up.bin` ([`marked`]) in a temporary directory, and the
/// smbclient commands that put it, list it and get it back as `down.bin`.
struct RoundTrip {
    work: tempfile::TempDir,
    payload: Vec<u8>,
    commands: String,
}

impl RoundTrip {
    fn new(len: usize) -> Self {
        let work = tempfile::tempdir().unwrap();
        let payload = marked(len);
        std::fs::write(work.path().join("up.bin"), &payload).unwrap();
        let local = |n: &str| work.path().join(n).display().to_string();
        let commands = format!(
            "put {} up.bin; ls; get up.bin {}",
            local("up.bin"),
            local("down.bin")
        );
        Self {
            work,
            payload,
            commands,
        }
    }

    /// Checks that `all` (smbclient's output) listed the file and that what came back is
    /// what was sent; removes it for the next round.
    fn came_back(&self, all: &str, what: &str) {
        assert!(all.contains("up.bin"), "{what}: ls lists the file: {all}");
        let down = self.work.path().join("down.bin");
        assert_eq!(std::fs::read(&down).unwrap(), self.payload, "{what}");
        std::fs::remove_file(down).unwrap();
    }
}

/// MS-SMB2 3.3.4.1.4: smbclient asking for encryption (`--client-protection=encrypt`) puts,
/// lists and gets a file; after the session setup every frame both ways is a
/// TRANSFORM_HEADER and the file's bytes never cross in the clear. The same transfer
/// signed only carries them in the clear (the relay would see a leak).
#[test]
fn ms_smb2_3_3_4_1_4_smbclient_encrypted_put_ls_get() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbenc.{}", lab.domain));
    let round = RoundTrip::new(200_000);

    for (cipher, options) in [
        ("default (AES-128-GCM)", vec!["--client-protection=encrypt"]),
        (
            "AES-256-GCM",
            vec![
                "--client-protection=encrypt",
                "--option=client smb3 encryption algorithms=AES-256-GCM",
            ],
        ),
        (
            "AES-256-CCM",
            vec![
                "--client-protection=encrypt",
                "--option=client smb3 encryption algorithms=AES-256-CCM",
            ],
        ),
        (
            "AES-128-CCM",
            vec![
                "--client-protection=encrypt",
                "--option=client smb3 encryption algorithms=AES-128-CCM",
            ],
        ),
        (
            "AES-128-CCM, SMB 3.0.2",
            vec!["--client-protection=encrypt", "--max-protocol=SMB3_02"],
        ),
    ] {
        let relay = Relay::start(s.port());
        let out = s.smbclient(&lab, relay.port, "data", &options, &round.commands);
        let what = format!("encrypted put/ls/get, {cipher}");
        round.came_back(&ok(&out, &what, &s.daemon), &what);
        relay.all_encrypted(cipher);
    }

    // The control: signed only, the same bytes cross in the clear both ways.
    let relay = Relay::start(s.port());
    let out = s.smbclient(
        &lab,
        relay.port,
        "data",
        &["--client-protection=sign"],
        &round.commands,
    );
    ok(&out, "signed put/get", &s.daemon);
    assert!(relay.to_server.lock().unwrap().cleartext);
    assert!(relay.to_client.lock().unwrap().cleartext);
    assert_eq!(relay.to_server.lock().unwrap().encrypted(), 0);
}

/// MS-SMB2 3.3.5.7 / 3.3.5.2.11: a share with Encrypt=1 refuses a session that cannot
/// encrypt (SMB 2.1) at TREE_CONNECT, and serves one that encrypts.
#[test]
fn ms_smb2_3_3_5_7_a_share_with_encrypt_refuses_unencrypted_access() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbvault.{}", lab.domain));
    let out = s.smbclient(
        &lab,
        s.port(),
        "vault",
        &["--client-protection=sign", "--max-protocol=SMB2_10"],
        "ls",
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !out.status.success() && all.contains("NT_STATUS_ACCESS_DENIED"),
        "SMB 2.1 on an Encrypt=1 share: {all}"
    );

    // The refusal is the share's: the same clients reach `data` (and their secure
    // dialect negotiation agrees with what NEGOTIATE announced).
    for protocol in ["SMB2_02", "SMB2_10", "SMB3_00"] {
        let out = s.smbclient(
            &lab,
            s.port(),
            "data",
            &[
                "--client-protection=sign",
                &format!("--max-protocol={protocol}"),
            ],
            "ls",
        );
        ok(&out, &format!("{protocol} on data"), &s.daemon);
    }

    std::fs::write(s.vault.path().join("inside.txt"), b"sealed").unwrap();
    let relay = Relay::start(s.port());
    let out = s.smbclient(
        &lab,
        relay.port,
        "vault",
        &["--client-protection=encrypt"],
        "ls",
    );
    let all = ok(&out, "encrypted ls on vault", &s.daemon);
    assert!(all.contains("inside.txt"), "{all}");
    assert_eq!(relay.to_server.lock().unwrap().plain_after_encryption(), 0);
}

/// MS-SMB2 3.3.5.2.5 large MTU: 20 MiB through smbclient both ways, encrypted, in
/// requests larger than one credit's 64 KiB; the copies compare equal.
#[test]
fn ms_smb2_3_3_5_2_5_twenty_mib_put_and_get_with_large_mtu() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbmtu.{}", lab.domain));
    let work = tempfile::tempdir().unwrap();
    let payload = marked(20 << 20);
    std::fs::write(work.path().join("big.bin"), &payload).unwrap();
    let local = |n: &str| work.path().join(n).display().to_string();
    let relay = Relay::start(s.port());
    let started = Instant::now();
    let out = s.smbclient(
        &lab,
        relay.port,
        "vault",
        &["--client-protection=encrypt"],
        &format!(
            "put {} big.bin; get big.bin {}",
            local("big.bin"),
            local("back.bin")
        ),
    );
    let elapsed = started.elapsed();
    ok(&out, "20 MiB put/get", &s.daemon);
    assert!(
        std::fs::read(local("back.bin")).unwrap() == payload,
        "the 20 MiB came back different"
    );
    assert!(std::fs::read(s.vault.path().join("big.bin")).unwrap() == payload);
    let (up, down) = (
        relay.to_server.lock().unwrap(),
        relay.to_client.lock().unwrap(),
    );
    eprintln!(
        "20 MiB put+get encrypted in {elapsed:?}; largest frame up {} bytes, down {}",
        up.largest, down.largest
    );
    assert!(
        up.largest > 128 * 1024,
        "writes larger than 64 KiB: {}",
        up.largest
    );
    assert!(
        down.largest > 128 * 1024,
        "reads larger than 64 KiB: {}",
        down.largest
    );
    assert!(!up.cleartext && !down.cleartext);
}

/// Adjoin's own client asking for encryption (`encrypt_always`) lists the shares over
/// IPC$ in each SMB 3 dialect: the srvsvc calls travel encrypted, and adjoind's replies
/// decrypt.
#[tokio::test(flavor = "multi_thread")]
async fn ms_smb2_3_1_4_3_adjoins_client_lists_shares_encrypted() {
    let lab = Lab::get();
    let s =
        tokio::task::block_in_place(|| FileServer::start(&lab, &format!("smbown.{}", lab.domain)));
    let addr = SocketAddr::from(([127, 0, 0, 1], s.port()));
    for dialect in DIALECTS.into_iter().filter(|d| d.is_smb3()) {
        let mut client =
            SmbClient::connect_with(addr, &s.daemon.fqdn, Duration::from_secs(10), &[dialect])
                .await
                .unwrap();
        assert!(client.negotiated().cipher.is_some(), "{dialect}");
        client.encrypt_always();
        client
            .session_setup(SessionAuth::Ntlm {
                user: "alice".into(),
                domain: lab.netbios.clone(),
                password: Zeroizing::new(lab.password("alice")),
                workstation: "ENCLIENT".into(),
            })
            .await
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        assert!(client.encrypting());
        let pipe = NamedPipe::open(client, "srvsvc").await.unwrap();
        let mut conn = Connection::bind(pipe, "srvsvc", SyntaxId::SRVSVC, BindAuth::None)
            .await
            .unwrap();
        let resp: NetrShareEnumResponse = conn
            .call(
                Opnum::NETR_SHARE_ENUM.value(),
                &NetrShareEnumRequest::new(Some(r"\\files"), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        conn.into_transport().close().await.unwrap();
        let ShareEnumUnion::Level1(Some(container)) = resp.info_struct.share_info else {
            panic!("not a level-1 container: {resp:?}");
        };
        let names: Vec<String> = container
            .entries()
            .iter()
            .filter_map(|s| s.netname.as_ref().map(|n| n.0.clone()))
            .collect();
        assert!(
            names.iter().any(|n| n == "vault") && names.iter().any(|n| n == "IPC$"),
            "{dialect}: {names:?}"
        );
    }
    // SMB 2.1 has no encryption: asking for it fails at session setup.
    let mut client = SmbClient::connect_with(
        addr,
        &s.daemon.fqdn,
        Duration::from_secs(10),
        &[Dialect::SMB210],
    )
    .await
    .unwrap();
    assert!(client.negotiated().cipher.is_none());
    client.encrypt_always();
    assert!(
        client
            .session_setup(SessionAuth::Ntlm {
                user: "alice".into(),
                domain: lab.netbios.clone(),
                password: Zeroizing::new(lab.password("alice")),
                workstation: "ENCLIENT".into(),
            })
            .await
            .is_err()
    );
}

/// MS-SMB2 3.3.5.5 / 3.3.5.2.9 with the server's `Smb\EncryptData` = 1: smbclient with its
/// default settings (it asks for no encryption) is told at SESSION_SETUP that its session
/// encrypts, and every frame after that crosses encrypted, file data never in the clear;
/// an SMB 2.1 client, which cannot encrypt, is refused with STATUS_ACCESS_DENIED. (And
/// `Smb\SigningRequired` 0, which the server does not honour, gets a warning at start.)
#[test]
fn ms_smb2_3_3_5_5_a_server_that_requires_encryption_encrypts_every_session() {
    let lab = Lab::get();
    let mut s = FileServer::start(&lab, &format!("smbencall.{}", lab.domain));
    adjoin_registry::Registry::open(s.daemon.registry())
        .unwrap()
        .set_value(r"HKEY_THIS_MACHINE\Smb", "EncryptData", &Value::Dword(1))
        .unwrap();
    // And a setting the server cannot honour, which it says so of at start.
    adjoin_registry::Registry::open(s.daemon.registry())
        .unwrap()
        .set_value(
            r"HKEY_THIS_MACHINE\Smb",
            "SigningRequired",
            &Value::Dword(0),
        )
        .unwrap();
    s.daemon.restart();
    s.daemon.wait_for_share(&lab, "data");
    assert!(
        s.daemon.log().contains("SigningRequired is 0"),
        "{}",
        s.daemon.log()
    );
    assert!(
        s.daemon.log().contains("encrypt_data=true"),
        "{}",
        s.daemon.log()
    );

    let round = RoundTrip::new(100_000);
    let relay = Relay::start(s.port());
    let out = s.smbclient(&lab, relay.port, "data", &[], &round.commands);
    let what = "put/ls/get with default settings";
    round.came_back(&ok(&out, what, &s.daemon), what);
    relay.all_encrypted(what);

    let out = s.smbclient(&lab, s.port(), "data", &["--max-protocol=SMB2_10"], "ls");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !out.status.success() && all.contains("NT_STATUS_ACCESS_DENIED"),
        "SMB 2.1 on a server that requires encryption: {all}"
    );
    s.daemon.forget(&lab);
}
