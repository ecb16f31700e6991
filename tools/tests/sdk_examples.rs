//! The SDK's examples (`tools/examples`, docs/sdk.md) run against the real lab, with
//! peers nobody here wrote where one exists: Samba's smbclient reads the example backend's
//! share, MIT's kinit makes the ticket the Kerberos service accepts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

use adjoin_tests::daemon::{Bins, FREE_LOOPBACK_PORT, IdentityDaemon, free_port};
use adjoin_tests::{Lab, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// An example's binary (cargo builds the examples with the tests, beside them).
fn example(name: &str) -> String {
    let exe = std::env::current_exe().expect("the test's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path: PathBuf = dir.join("examples").join(name);
    assert!(path.exists(), "{} is not built", path.display());
    path.display().to_string()
}

fn all_output(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// smbclient against `share` of the member at `addr` as alice, running `commands`.
fn smbclient_alice(lab: &Lab, fqdn: &str, addr: SocketAddr, share: &str, commands: &str) -> Output {
    Command::new("smbclient")
        .arg(format!("//{fqdn}/{share}"))
        .args(["-I", "127.0.0.1", "-p", &addr.port().to_string()])
        .arg("-U")
        .arg(format!("{}\\alice%{}", lab.netbios, lab.password("alice")))
        .args(["--option=client min protocol=SMB2_02", "-c", commands])
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .expect("smbclient runs")
}

/// Bytes nobody would type: a file's contents to check byte for byte.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn snapshot_share_serves_a_read_only_copy_in_memory_to_smbclient() {
    let lab = Lab::get();
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("README.txt"), "taken at start\n").unwrap();
    std::fs::create_dir(source.path().join("reports")).unwrap();
    let data = pattern(3 << 20, 7);
    std::fs::write(source.path().join("reports").join("q4.bin"), &data).unwrap();
    std::fs::write(source.path().join("naïve résumé.txt"), "non-ASCII name\n").unwrap();
    let bins = Bins {
        adjoind: &example("snapshot_share"),
        ..BINS
    };
    let source_dir = source.path().display().to_string();
    let daemon = IdentityDaemon::start_program(
        &lab,
        bins,
        "sdk-snap.example.test",
        &[],
        Some(FREE_LOOPBACK_PORT),
        &[("ADJOIN_EXAMPLE_SNAPSHOT", &source_dir)],
    );
    let addr = daemon.smb.expect("serving SMB");
    daemon.wait_for_share(&lab, "snapshot");
    // The copy is in memory: what happens to the directory afterwards is not seen.
    std::fs::write(source.path().join("README.txt"), "changed later\n").unwrap();
    std::fs::write(source.path().join("later.txt"), "added later\n").unwrap();

    let got = tempfile::tempdir().unwrap();
    let local = |name: &str| got.path().join(name).display().to_string();
    let out = smbclient_alice(
        &lab,
        &daemon.fqdn,
        addr,
        "snapshot",
        &format!(
            "ls; get README.txt {}; get reports\\q4.bin {}; get \"naïve résumé.txt\" {}",
            local("readme"),
            local("q4"),
            local("naive")
        ),
    );
    let listing = all_output(&out);
    assert!(
        out.status.success(),
        "smbclient: {listing}\n{}",
        daemon.log()
    );
    assert!(
        listing.contains("README.txt") && listing.contains("reports"),
        "{listing}"
    );
    assert!(listing.contains("naïve résumé.txt"), "{listing}");
    assert!(!listing.contains("later.txt"), "{listing}");
    assert_eq!(
        std::fs::read_to_string(local("readme")).unwrap(),
        "taken at start\n"
    );
    assert!(
        std::fs::read(local("q4")).unwrap() == data,
        "q4.bin differs"
    );
    assert_eq!(
        std::fs::read_to_string(local("naive")).unwrap(),
        "non-ASCII name\n"
    );

    // Nothing changes it: a put, a delete, a new directory are each refused.
    let upload = got.path().join("upload.txt");
    std::fs::write(&upload, "x").unwrap();
    for (commands, what) in [
        (format!("put {} new.txt", upload.display()), "put"),
        ("del README.txt".to_owned(), "del"),
        ("mkdir fresh".to_owned(), "mkdir"),
        ("rename README.txt other.txt".to_owned(), "rename"),
    ] {
        let out = smbclient_alice(&lab, &daemon.fqdn, addr, "snapshot", &commands);
        let all = all_output(&out);
        assert!(
            all.contains("NT_STATUS_MEDIA_WRITE_PROTECTED")
                || all.contains("NT_STATUS_ACCESS_DENIED"),
            "{what} was not refused: {all}"
        );
    }
    let out = smbclient_alice(&lab, &daemon.fqdn, addr, "snapshot", "ls");
    let after = all_output(&out);
    for name in ["new.txt", "fresh", "other.txt"] {
        assert!(!after.contains(name), "{name} appeared: {after}");
    }
    assert!(after.contains("README.txt"), "{after}");
}

/// `rpc_service call ARGS` (the password, if any, on stdin).
fn rpc_call(args: &[&str], password: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(example("rpc_service"))
        .arg("call")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rpc_service runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = writeln!(stdin, "{password}");
    drop(stdin);
    child.wait_with_output().expect("rpc_service ends")
}

#[test]
fn rpc_service_answers_over_tcp_and_over_a_named_pipe_with_the_smb_caller() {
    let lab = Lab::get();
    let tcp = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let bins = Bins {
        adjoind: &example("rpc_service"),
        ..BINS
    };
    let daemon = IdentityDaemon::start_program(
        &lab,
        bins,
        "sdk-rpc.example.test",
        &[],
        Some(FREE_LOOPBACK_PORT),
        &[("ADJOIN_EXAMPLE_RPC_LISTEN", &tcp.to_string())],
    );
    let smb = daemon.smb.expect("serving SMB");
    daemon.wait_for_share(&lab, "IPC$");

    let out = rpc_call(&["--tcp", &tcp.to_string(), "Zoë"], "");
    assert!(
        out.status.success(),
        "tcp: {}\n{}",
        all_output(&out),
        daemon.log()
    );
    assert_eq!(
        text(&out.stdout).trim(),
        "Hello, Zoë, over ncacn_ip_tcp (caller: anonymous)"
    );

    let alice = format!(r"{}\alice", lab.netbios);
    let out = rpc_call(
        &["--pipe", &smb.to_string(), "--user", &alice, "Zoë"],
        &lab.password("alice"),
    );
    assert!(
        out.status.success(),
        "pipe: {}\n{}",
        all_output(&out),
        daemon.log()
    );
    let greeting = text(&out.stdout);
    assert!(
        greeting.starts_with("Hello, Zoë, over ncacn_np (caller: ")
            && greeting.to_lowercase().contains("alice"),
        "{greeting}"
    );

    // The pipe is behind the SMB logon: a wrong password never reaches the service.
    let out = rpc_call(
        &["--pipe", &smb.to_string(), "--user", &alice, "Zoë"],
        "not her password",
    );
    assert!(!out.status.success(), "{}", all_output(&out));
    assert!(text(&out.stdout).is_empty(), "{}", all_output(&out));
    assert!(
        text(&out.stderr).contains("the logon of"),
        "{}",
        all_output(&out)
    );
}

/// `lsa_lookup ARGS` with `stdin` and the registry `registry`.
fn lsa_lookup(args: &[&str], stdin: &str, registry: &std::path::Path) -> Output {
    use std::io::Write;
    let mut child = Command::new(example("lsa_lookup"))
        .args(args)
        .env("ADJOIN_REGISTRY", registry)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("lsa_lookup runs");
    let mut input = child.stdin.take().expect("stdin");
    let _ = writeln!(input, "{stdin}");
    drop(input);
    child.wait_with_output().expect("lsa_lookup ends")
}

#[test]
fn lsa_lookup_translates_names_over_a_named_pipe_and_over_tcp_as_the_dc_has_them() {
    let lab = Lab::get();
    let member = tempfile::tempdir().unwrap();
    let registry = member.path().join("registry.db");
    lab.join_machine(
        BINS.domain_join,
        &registry,
        "sdk-lsa.example.test",
        &["--no-keytab"],
    );
    let alice_sid = lab.object_sid("alice");
    let admins_sid = format!("{}-512", lab.domain_sid());
    let expected = [
        format!("alice\t{alice_sid}\tuser\t{}\\alice", lab.netbios),
        format!(
            "Domain Admins\t{admins_sid}\tgroup\t{}\\Domain Admins",
            lab.netbios
        ),
    ];
    let who = format!(r"{}\alice", lab.netbios);
    let np = ["--dc", &lab.dc, "--user", &who, "alice", "Domain Admins"];
    let tcp = [
        "--dc",
        &lab.dc,
        "--transport",
        "tcp",
        "alice",
        "Domain Admins",
    ];
    for (args, stdin, how) in [
        (&np[..], lab.password("alice"), "ncacn_np"),
        (&tcp[..], String::new(), "ncacn_ip_tcp"),
    ] {
        let out = lsa_lookup(args, &stdin, &registry);
        assert!(out.status.success(), "{how}: {}", all_output(&out));
        let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
        assert_eq!(lines, expected, "{how}");
    }
    // A name nothing maps: its line on stderr, exit 1; the rest still answered.
    let out = lsa_lookup(
        &[
            "--dc",
            &lab.dc,
            "--user",
            &who,
            "alice",
            "no-such-account-x",
        ],
        &lab.password("alice"),
        &registry,
    );
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(
        text(&out.stdout).starts_with("alice\t"),
        "{}",
        all_output(&out)
    );
    assert!(
        text(&out.stderr).contains("no-such-account-x: no such account"),
        "{}",
        all_output(&out)
    );
    // A wrong password: one line naming the logon.
    let out = lsa_lookup(&np, "wrong", &registry);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(text(&out.stderr).lines().count(), 1, "{}", all_output(&out));
    assert!(
        text(&out.stderr).contains("the logon of"),
        "{}",
        all_output(&out)
    );
}

/// `krb5_service serve` on a free port with `keytab`; killed on drop.
struct KrbService(std::process::Child, SocketAddr);

impl KrbService {
    fn start(keytab: &std::path::Path) -> Self {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let child = Command::new(example("krb5_service"))
            .arg("serve")
            .arg("--keytab")
            .arg(keytab)
            .args(["--listen", &addr.to_string()])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("krb5_service serves");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "krb5_service did not listen"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self(child, addr)
    }
}

impl Drop for KrbService {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn krb5_service_accepts_a_ticket_from_mit_kinits_cache_and_reads_the_pac() {
    let lab = Lab::get();
    let member = tempfile::tempdir().unwrap();
    let keytab = member.path().join("krb5.keytab");
    let keytab_arg = keytab.display().to_string();
    let fqdn = "sdk-krb.example.test";
    lab.join_machine(
        BINS.domain_join,
        &member.path().join("registry.db"),
        fqdn,
        &["--keytab", &keytab_arg],
    );
    let cache = member.path().join("alice.cc");
    lab.mit_kinit("alice", &cache);
    let service = KrbService::start(&keytab);
    let call = |spn: &str| {
        Command::new(example("krb5_service"))
            .args([
                "call",
                &service.1.to_string(),
                "--spn",
                spn,
                "--kdc",
                &lab.dc,
            ])
            .arg("--ccache")
            .arg(&cache)
            .arg("sealed hello")
            .output()
            .expect("krb5_service calls")
    };
    let out = call(&format!("host/{fqdn}"));
    assert!(out.status.success(), "{}", all_output(&out));
    let expected = format!(
        "hello alice@{} (sid {}, ",
        lab.realm,
        lab.object_sid("alice")
    );
    let answer = text(&out.stdout);
    assert!(answer.starts_with(&expected), "{answer}");
    assert!(
        answer
            .trim_end()
            .ends_with("groups); you said: sealed hello"),
        "{answer}"
    );

    // A ticket for another host's service: its key is not in this keytab.
    let other = tempfile::tempdir().unwrap();
    lab.join_machine(
        BINS.domain_join,
        &other.path().join("registry.db"),
        "sdk-krb2.example.test",
        &["--no-keytab"],
    );
    let out = call("host/sdk-krb2.example.test");
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(text(&out.stdout).is_empty(), "{}", all_output(&out));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("refused the ticket"), "{err}");
}
