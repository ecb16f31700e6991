//! What one SMB client, or a hung DC, can make adjoind hold: connections from one address
//! are capped (`Services\adjoind\MaxConnectionsPerAddress`), a refused connection is closed
//! at once while the address's other connections go on; when the DC hangs, an NTLM session
//! setup is answered STATUS_NO_LOGON_SERVERS before smbclient gives up (20 s), while a
//! Kerberos session setup (no DC needed) goes through.

// tools/test: alone

use std::io::Read;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use adjoin_registry::{Registry, Value};
use adjoin_tests::daemon::{Bins, DcStopped, FREE_LOOPBACK_PORT, IdentityDaemon};
use adjoin_tests::{Lab, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// The tests of this file run one at a time: one stops the DC, which the others need.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether the server closed `stream` within a second (EOF or reset), as opposed to
/// keeping it open and waiting for the client's NEGOTIATE.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn one_address_holds_at_most_its_connection_limit() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::get();
    let mut d = IdentityDaemon::start_with(
        &lab,
        BINS,
        &format!("smblimit.{}", lab.domain),
        &[],
        Some(FREE_LOOPBACK_PORT),
    );
    Registry::open(d.registry())
        .unwrap()
        .set_value(
            r"HKEY_THIS_MACHINE\Services\adjoind",
            "MaxConnectionsPerAddress",
            &Value::Dword(3),
        )
        .unwrap();
    d.restart();
    let addr = d.smb.expect("serving SMB");
    let connect = || TcpStream::connect(addr).expect("the listener accepts");
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect()).collect();
    for stream in &mut held {
        assert!(
            !closed_by_server(stream),
            "one of the first three was closed"
        );
    }
    let mut fourth = connect();
    assert!(
        closed_by_server(&mut fourth),
        "the fourth from one address is closed at once"
    );
    // A slot comes back when a connection ends.
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(300));
    let mut again = connect();
    assert!(
        !closed_by_server(&mut again),
        "a freed slot is given to the next connection"
    );
    assert!(d.log().contains("MaxConnectionsPerAddress"), "{}", d.log());
}

#[test]
fn a_hung_dc_gets_ntlm_logons_refused_in_time_and_kerberos_goes_on() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::get();
    let d = IdentityDaemon::start_with(
        &lab,
        BINS,
        &format!("smbhang.{}", lab.domain),
        &[],
        Some(FREE_LOOPBACK_PORT),
    );
    let addr = d.smb.expect("serving SMB");
    let work = tempfile::tempdir().unwrap();
    let ccache = format!("FILE:{}", work.path().join("ccache").display());
    let krb = |program: &str, args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = Command::new(program)
            .args(args)
            .env("KRB5_CONFIG", &lab.krb5_config)
            .env("KRB5CCNAME", &ccache)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("MIT tools run");
        writeln!(child.stdin.take().unwrap(), "{stdin}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{program}: {}", text(&out.stderr));
    };
    // alice's TGT and her ticket for this member's cifs service, while the DC answers.
    krb(
        "kinit",
        &[&format!("alice@{}", lab.realm)],
        &lab.password("alice"),
    );
    krb("kvno", &[&format!("cifs/{}", d.fqdn)], "");
    // She is known to the identity service (its cache answers while the DC hangs).
    d.adjoin(&["find-user", "alice"]);
    let smbclient = |auth: &[&str]| {
        let started = Instant::now();
        let out = Command::new("smbclient")
            .args([
                "-L",
                &d.fqdn,
                "-I",
                "127.0.0.1",
                "-p",
                &addr.port().to_string(),
            ])
            .args(auth)
            .env("KRB5_CONFIG", &lab.krb5_config)
            .env("KRB5CCNAME", &ccache)
            .output()
            .expect("smbclient runs");
        (
            format!("{}{}", text(&out.stdout), text(&out.stderr)),
            started.elapsed(),
        )
    };
    let ntlm_user = format!("{}\\alice%{}", lab.netbios, lab.password("alice"));

    let hung = DcStopped::stop(&lab);
    let (out, took) = smbclient(&["-U", &ntlm_user]);
    assert!(
        out.contains("NT_STATUS_NO_LOGON_SERVERS"),
        "{out}\n{}",
        d.log()
    );
    assert!(
        took < Duration::from_secs(18),
        "answered after {took:?}, past what smbclient waits"
    );
    let (out, _) = smbclient(&["--use-kerberos=required", "-N"]);
    assert!(
        out.contains("IPC$"),
        "Kerberos while the DC hangs: {out}\n{}",
        d.log()
    );
    drop(hung);
}
