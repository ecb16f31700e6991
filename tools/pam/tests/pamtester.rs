//! pam_adjoin.so loaded by Linux-PAM itself: `pamtester` runs against a private PAM
//! service in a private mount namespace whose /etc/pam.d is a copy of the host's plus that
//! service (needs root, as the lab tests run).
//!
//! Without a daemon, the module must fail fast with PAM_AUTHINFO_UNAVAIL. The `plumbing_*`
//! tests answer the module from a canned listener in the test: they check only the FFI
//! plumbing (the request the module sends, the message shown, the status mapped, PAM_USER
//! rewritten); logons against the real adjoind are in tools/tests/identity_*.rs.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use adjoin_idproto::{MAX_REQUEST, PamReply, PamStatus, Request, Response, Secret, frame_len};
use adjoin_tests::namespace::run_in_namespace;

/// The module cargo built for this test, beside the test binary (target/debug/deps/: a
/// library built for tests is not copied up to target/debug/, which may be stale).
fn module() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("target/debug/deps/TEST");
    let m = deps.join("libpam_adjoin.so");
    assert!(m.exists(), "{} is not built", m.display());
    m
}

/// A private directory for one test; removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("pam-adjoin-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        Self(dir)
    }

    /// A copy of the host's /etc/pam.d plus `service` with `lines`.
    fn pam_dir(&self, service: &str, lines: &str) -> PathBuf {
        let dir = self.0.join("pam.d");
        let copied = Command::new("cp")
            .args(["-a", "/etc/pam.d/."])
            .arg(&dir)
            .status()
            .expect("run cp");
        assert!(copied.success(), "copy /etc/pam.d");
        std::fs::write(dir.join(service), lines).expect("write the service file");
        dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `pamtester ARGS` with `pam_dir` bind-mounted over /etc/pam.d in a private mount
/// namespace, `input` on its stdin.
fn pamtester(pam_dir: &Path, args: &[&str], input: &str) -> Output {
    let mut argv = vec!["pamtester"];
    argv.extend_from_slice(args);
    run_in_namespace(
        &[(pam_dir, Path::new("/etc/pam.d"))],
        &[("LC_ALL", "C")],
        &argv,
        Some(input.as_bytes()),
    )
}

fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A listener that takes `replies.len()` connections, answering the i-th request with
/// `replies[i]` (None: read to the end and answer nothing). Returns the requests seen.
fn canned(
    path: &Path,
    replies: Vec<Option<Response>>,
) -> std::thread::JoinHandle<Vec<Option<Request>>> {
    let listener = UnixListener::bind(path).expect("bind the canned socket");
    listener.set_nonblocking(true).expect("nonblocking accept");
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        for reply in replies {
            let mut conn = loop {
                match listener.accept() {
                    Ok((c, _)) => break c,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return seen,
                }
            };
            conn.set_nonblocking(false).expect("blocking stream");
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("read timeout");
            let Some(reply) = reply else {
                let mut rest = Vec::new();
                let _ = conn.read_to_end(&mut rest);
                assert!(rest.is_empty(), "a connection that should send nothing");
                seen.push(None);
                continue;
            };
            let mut prefix = [0u8; 4];
            conn.read_exact(&mut prefix).expect("the request's length");
            let mut body = vec![0u8; frame_len(prefix, MAX_REQUEST).expect("a sane length")];
            conn.read_exact(&mut body).expect("the request");
            seen.push(Some(Request::decode(&body).expect("a request")));
            conn.write_all(&reply.encode()).expect("write the reply");
        }
        seen
    })
}

/// What the daemon answers the module's first question: is this a domain user?
fn known(name: &str) -> Option<Response> {
    Some(Response::Passwd(adjoin_idproto::Passwd {
        name: name.into(),
        uid: 1_001_103,
        gid: 1_000_513,
        gecos: String::new(),
        dir: "/home/x".into(),
        shell: "/bin/sh".into(),
    }))
}

fn pam_reply(status: PamStatus, message: &str, user: &str) -> Response {
    Response::Pam(PamReply {
        status,
        message: message.into(),
        user: user.into(),
        env: vec![],
    })
}

#[test]
fn authenticate_without_a_daemon_is_authinfo_unavail() {
    let scratch = Scratch::new("nodaemon");
    let m = module();
    let pam = scratch.pam_dir(
        "adjoin-nodaemon",
        &format!("auth required {} socket=/nonexistent\n", m.display()),
    );
    let started = Instant::now();
    let out = pamtester(&pam, &["adjoin-nodaemon", "alice", "authenticate"], "pw\n");
    let text = printed(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        // pam_strerror(PAM_AUTHINFO_UNAVAIL); "Authentication information cannot be
        // recovered" would be PAM_AUTHTOK_RECOVERY_ERR.
        text.contains("Authentication service cannot retrieve authentication info"),
        "PAM_AUTHINFO_UNAVAIL expected: {text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn plumbing_authenticate_then_account_maps_status_message_and_canonical_user() {
    let scratch = Scratch::new("plumbing-auth");
    let sock = scratch.0.join("sock");
    let server = canned(
        &sock,
        vec![
            known("alice"),
            Some(pam_reply(PamStatus::Success, "plumbing: welcome", "Alice")),
            Some(pam_reply(
                PamStatus::PermDenied,
                "plumbing: not allowed here",
                "Alice",
            )),
        ],
    );
    let m = module();
    let line = |kind: &str| {
        format!(
            "{kind} required {} socket={}\n",
            m.display(),
            sock.display()
        )
    };
    let pam = scratch.pam_dir(
        "adjoin-plumbing",
        &format!("{}{}", line("auth"), line("account")),
    );
    let out = pamtester(
        &pam,
        &[
            "-I",
            "rhost=client.example.test",
            "adjoin-plumbing",
            "alice",
            "authenticate",
            "acct_mgmt",
        ],
        "secret pw\n",
    );
    let text = printed(&out);
    assert!(text.contains("plumbing: welcome"), "{text}");
    assert!(text.contains("successfully authenticated"), "{text}");
    assert!(text.contains("plumbing: not allowed here"), "{text}");
    assert!(text.contains("Permission denied"), "{text}");
    assert!(!out.status.success(), "{text}");
    let seen = server.join().expect("the canned server");
    assert_eq!(
        seen,
        [
            Some(Request::GetPwNam {
                name: "alice".into()
            }),
            Some(Request::Authenticate {
                service: "adjoin-plumbing".into(),
                user: "alice".into(),
                password: Secret::new("secret pw".into()),
                remote_host: "client.example.test".into(),
            }),
            // PAM_USER became the canonical name the daemon answered.
            Some(Request::AccountCheck {
                service: "adjoin-plumbing".into(),
                user: "Alice".into(),
            }),
        ]
    );
}

#[test]
fn plumbing_authenticate_failure_shows_the_error() {
    let scratch = Scratch::new("plumbing-autherr");
    let sock = scratch.0.join("sock");
    let server = canned(
        &sock,
        vec![
            known("alice"),
            Some(pam_reply(
                PamStatus::AuthErr,
                "plumbing: wrong password",
                "",
            )),
        ],
    );
    let pam = scratch.pam_dir(
        "adjoin-plumbing",
        &format!(
            "auth required {} socket={}\n",
            module().display(),
            sock.display()
        ),
    );
    let out = pamtester(&pam, &["adjoin-plumbing", "bob", "authenticate"], "x\n");
    let text = printed(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("plumbing: wrong password"), "{text}");
    assert!(text.contains("Authentication failure"), "{text}");
    assert_eq!(
        server.join().expect("the canned server").len(),
        2,
        "lookup, then authenticate"
    );
}

#[test]
fn a_user_adjoind_does_not_know_is_not_asked_for_a_password() {
    let scratch = Scratch::new("local");
    let sock = scratch.0.join("adjoind.sock");
    let server = canned(&sock, vec![Some(Response::NotFound)]);
    let pam = scratch.pam_dir(
        "adjoin-plumbing",
        &format!(
            "auth required {} socket={}\n",
            module().display(),
            sock.display()
        ),
    );
    let out = pamtester(&pam, &["adjoin-plumbing", "root", "authenticate"], "");
    let text = printed(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        !text.contains("Password:"),
        "no prompt for a local user: {text}"
    );
    assert_eq!(
        server.join().expect("the canned server"),
        [Some(Request::GetPwNam {
            name: "root".into()
        })]
    );
}

#[test]
fn plumbing_chauthtok_refuses_new_passwords_that_differ() {
    let scratch = Scratch::new("plumbing-chauthtok");
    let sock = scratch.0.join("sock");
    // The prelim check only connects; the update never reaches the daemon.
    let server = canned(&sock, vec![None]);
    let pam = scratch.pam_dir(
        "adjoin-plumbing",
        &format!(
            "password required {} socket={}\n",
            module().display(),
            sock.display()
        ),
    );
    let out = pamtester(
        &pam,
        &["adjoin-plumbing", "alice", "chauthtok"],
        "old\nnew one\nnew two\n",
    );
    let text = printed(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("Passwords do not match"), "{text}");
    assert!(
        text.contains("Authentication token manipulation error"),
        "PAM_AUTHTOK_ERR expected: {text}"
    );
    assert_eq!(server.join().expect("the canned server"), [None]);
}
