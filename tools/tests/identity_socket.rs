//! The identity socket's bounds against misbehaving local clients (docs/identity.md,
//! "Bounds"): garbage, an oversized frame, a client that sends half a request and stops,
//! a thousand idle clients at once, and a non-root client asking for root-only answers.
//! Each must leave the daemon answering everyone else promptly.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::{Duration, Instant};

use adjoin_tests::daemon::{Bins, IdentityDaemon};
use adjoin_tests::{Lab, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// Reads until the daemon closes the connection; the bytes it sent first.
fn read_to_close(mut s: UnixStream, within: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(within)).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    got
}

fn answers_quickly(d: &IdentityDaemon) {
    let started = Instant::now();
    let out = d.adjoin(&["find-user", "alice"]);
    assert!(out.status.success(), "{}\n{}", text(&out.stderr), d.log());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn bad_clients_never_stall_the_others() {
    let lab = Lab::get();
    let d = IdentityDaemon::start(&lab, BINS, "idsock.example.test", &[]);
    answers_quickly(&d);

    // Garbage: a frame whose body is not a request gets a Malformed error, then EOF.
    let mut s = UnixStream::connect(d.socket()).unwrap();
    s.write_all(&[5, 0, 0, 0, b'h', b'e', b'l', b'l', b'o'])
        .unwrap();
    let reply = read_to_close(s, Duration::from_secs(5));
    assert!(
        reply.len() > 8,
        "an Error response before the close: {reply:?}"
    );
    assert_eq!(&reply[6..8], &10u16.to_le_bytes(), "tag 10 = Error");

    // An oversized length prefix: closed at once, nothing allocated for it.
    let mut s = UnixStream::connect(d.socket()).unwrap();
    s.write_all(&0x7fff_ffffu32.to_le_bytes()).unwrap();
    let started = Instant::now();
    assert!(read_to_close(s, Duration::from_secs(5)).is_empty());
    assert!(started.elapsed() < Duration::from_secs(2));

    // A thousand clients connect and never write; a new one is still answered.
    let mut limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    limit.current = limit.maximum;
    let _ = rustix::process::setrlimit(rustix::process::Resource::Nofile, limit);
    let idle: Vec<UnixStream> = (0..1000)
        .map(|_| UnixStream::connect(d.socket()).unwrap())
        .collect();
    answers_quickly(&d);

    // Half a request, then silence: the daemon hangs up after its 10 s request deadline.
    let mut s = UnixStream::connect(d.socket()).unwrap();
    s.write_all(&[8, 0]).unwrap();
    let started = Instant::now();
    assert!(read_to_close(s, Duration::from_secs(20)).is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(15),
        "hung up after {waited:?}"
    );
    // The idle ones were dropped by the same deadline.
    for mut c in idle.into_iter().take(10) {
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut b = [0u8; 1];
        assert_eq!(
            c.read(&mut b).unwrap_or(0),
            0,
            "an idle client is disconnected"
        );
    }
    answers_quickly(&d);
    assert!(
        d.adjoin(&["status"]).status.success(),
        "the daemon is still alive"
    );
}

#[test]
fn lookups_are_open_to_everyone_and_the_rest_is_root_only() {
    let lab = Lab::get();
    let d = IdentityDaemon::start(&lab, BINS, "idperm.example.test", &[]);
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_adjoin"),
            ])
            .args(args)
            .arg("--socket")
            .arg(d.socket())
            .output()
            .unwrap()
    };
    // The test's temporary directory is root's 0700: let nobody reach the socket.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let lookup = as_nobody(&["find-user", "alice", "--json"]);
    assert!(lookup.status.success(), "{}", text(&lookup.stderr));
    assert!(text(&lookup.stdout).contains("\"alice\""));
    for args in [&["cache", "show"][..], &["cache", "flush"][..]] {
        let refused = as_nobody(args);
        assert!(!refused.status.success(), "{args:?} as nobody");
        assert!(
            text(&refused.stderr).contains("Denied"),
            "{}",
            text(&refused.stderr)
        );
    }
    assert!(d.adjoin(&["cache", "show"]).status.success(), "root may");
}

/// A reload (SIGHUP, a trusted domain recorded, a password rotated) builds a new identity
/// service behind the socket without unbinding it: the socket file is the same one
/// throughout, and a client connecting in a loop meanwhile is never refused or told it is
/// missing. (Re-binding left a moment with no socket file: a lookup then failed with "No
/// such file or directory", seen once beside other tests.)
#[test]
fn the_socket_stays_bound_through_reloads() {
    use std::os::unix::fs::MetadataExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let lab = Lab::get();
    let d = IdentityDaemon::start(&lab, BINS, "idreload.example.test", &[]);
    let inode = std::fs::metadata(d.socket()).unwrap().ino();
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let (stop, path) = (Arc::clone(&stop), d.socket());
        std::thread::spawn(move || {
            let (mut connects, mut failures) = (0_u32, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                match UnixStream::connect(&path) {
                    Ok(_) => connects += 1,
                    Err(e) => failures.push(e.to_string()),
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            (connects, failures)
        })
    };
    for _ in 0..5 {
        d.reload();
    }
    stop.store(true, Ordering::Relaxed);
    let (connects, failures) = prober.join().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} connects failed: {:?}",
        failures.len(),
        connects + u32::try_from(failures.len()).unwrap(),
        failures.first()
    );
    assert!(connects > 100, "the prober ran: {connects} connects");
    assert_eq!(
        d.log().matches("SIGHUP: reloading").count(),
        5,
        "five reloads: {}",
        d.log()
    );
    assert_eq!(
        std::fs::metadata(d.socket()).unwrap().ino(),
        inode,
        "the socket file was replaced by a reload"
    );
    answers_quickly(&d);
    d.forget(&lab);
}

/// adjoind binds its SMB port before its socket: when the port is taken the start stops
/// with the port named, and no socket file is left behind for clients to find a daemon
/// that is gone. (It bound the socket first, and a test harness choosing a free port saw
/// a daemon answer on its socket and exit a moment later.) Without `--listen` the port is
/// the registry's `Smb\Port`, on every address.
#[test]
fn a_taken_smb_port_stops_the_start_before_the_socket_is_bound() {
    let lab = Lab::get();
    let d = IdentityDaemon::start(&lab, BINS, &format!("idport.{}", lab.domain), &[]);
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    adjoin_registry::Registry::open(d.registry())
        .unwrap()
        .set_value(
            r"HKEY_THIS_MACHINE\Smb",
            "Port",
            &adjoin_registry::Value::Dword(port.into()),
        )
        .unwrap();
    let socket = d.dir.path().join("second.sock");
    for (listen, named) in [
        (
            Some(format!("127.0.0.1:{port}")),
            format!("127.0.0.1:{port}"),
        ),
        (None, format!("0.0.0.0:{port}")),
    ] {
        let mut adjoind = Command::new(BINS.adjoind);
        if let Some(listen) = &listen {
            adjoind.args(["--listen", listen]);
        }
        let out = adjoind
            .args(["--keytab", "none", "--dns-server", &lab.dc])
            .arg("--socket")
            .arg(&socket)
            .env("ADJOIN_REGISTRY", d.registry())
            .env("ADJOIN_LOG", "off")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{listen:?}: {err}");
        assert!(err.contains(&format!("cannot listen on {named}")), "{err}");
        assert!(!socket.exists(), "a socket was left behind: {err}");
    }
    answers_quickly(&d);
    d.forget(&lab);
}

/// A PAM logon whose authenticate and session open fall on either side of a reload (new
/// settings, new trusted domains, a rotated password) still gets her Kerberos ticket: the
/// conversations in progress belong to the daemon, not to one build of the service. (They
/// were lost with the old service: found as a missing ccache when adjoind reloaded for the
/// trusted domains it had just recorded while a test logged alice in.)
#[test]
fn a_logon_spanning_a_reload_keeps_its_ticket_for_the_session() {
    use adjoin_idproto::{Client, PamStatus, Request, Response, Secret};
    let lab = Lab::get();
    let d = IdentityDaemon::start(
        &lab,
        BINS,
        &format!("idconv.{}", lab.domain),
        &[("CreateHomeDirectory", adjoin_registry::Value::Dword(0))],
    );
    let pam = |req: Request| match Client::connect(&d.socket(), Duration::from_secs(30))
        .unwrap()
        .call(&req)
        .unwrap()
    {
        Response::Pam(reply) => reply,
        other => panic!("not a PAM reply: {other:?}"),
    };
    let (service, user) = ("adjoin-test".to_owned(), "alice".to_owned());
    let auth = pam(Request::Authenticate {
        service: service.clone(),
        user: user.clone(),
        password: Secret::new(lab.password("alice")),
        remote_host: String::new(),
    });
    assert_eq!(auth.status, PamStatus::Success, "{auth:?}\n{}", d.log());
    d.reload();
    let session = pam(Request::OpenSession { service, user });
    assert_eq!(session.status, PamStatus::Success, "{session:?}");
    let ccache = session
        .env
        .iter()
        .find(|(k, _)| k == "KRB5CCNAME")
        .map(|(_, v)| v.trim_start_matches("FILE:").to_owned())
        .unwrap_or_else(|| panic!("no KRB5CCNAME after the reload: {session:?}\n{}", d.log()));
    assert!(std::path::Path::new(&ccache).exists(), "{ccache}");
    let _ = std::fs::remove_file(&ccache);
    d.forget(&lab);
}
