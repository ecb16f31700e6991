//! smbshell against real SMB servers: a joined member's adjoind (serving a share from
//! its registry) and the lab DC's own smbd (sysvol as the administrator). Batch mode
//! (`-c`, stdin), put/get with the bytes compared, the namespace commands, failures as
//! one line and exit status 1, resuming a partial get, a server that dies mid-transfer,
//! and Tab completion of a remote directory driven through tmux.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use adjoin_tests::daemon::{Bins, IdentityDaemon};
use adjoin_tests::{Lab, output_with_stdin, succeeded_stdout as ok, text};

const SMBSHELL: &str = env!("CARGO_BIN_EXE_smbshell");
const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// A member's adjoind serving `data` from a temporary directory.
struct Server {
    daemon: Option<IdentityDaemon>,
    data: tempfile::TempDir,
    port: u16,
    fqdn: String,
}

impl Server {
    fn start(lab: &Lab, host: &str) -> Self {
        let fqdn = format!("{host}.{}", lab.domain);
        let (daemon, data) = IdentityDaemon::serving_share(lab, BINS, &fqdn, "data");
        let port = daemon.smb.expect("serving SMB").port();
        Self {
            daemon: Some(daemon),
            data,
            port,
            fqdn,
        }
    }

    /// The arguments that reach `share` as alice.
    fn args(&self, share: &str) -> Vec<String> {
        vec![
            format!("//127.0.0.1/{share}"),
            "--port".into(),
            self.port.to_string(),
            "-U".into(),
            r"EXAMPLE\alice".into(),
            "--password-stdin".into(),
        ]
    }

    /// Stops adjoind (SIGKILL).
    fn stop(&mut self) {
        self.daemon.take();
    }

    fn forget(&self, lab: &Lab) {
        lab.forget_member(&self.fqdn);
    }
}

/// Runs smbshell with `args` in `dir`, `stdin` as its input.
fn smbshell(dir: &Path, args: &[String], stdin: &str) -> Output {
    output_with_stdin(Command::new(SMBSHELL).args(args).current_dir(dir), stdin)
}

fn batch(dir: &Path, args: &[String], password: &str, commands: &str) -> Output {
    let mut all = args.to_vec();
    all.extend(["-c".to_owned(), commands.to_owned()]);
    smbshell(dir, &all, &format!("{password}\n"))
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    getrandom::fill(&mut data).expect("random bytes");
    data
}

#[test]
fn ms_smb2_3_2_4_batch_put_ls_get_namespace_and_failures_against_adjoind() {
    let lab = Lab::get();
    let server = Server::start(&lab, "shellbatch");
    let local = tempfile::tempdir().unwrap();
    let data = random_bytes(5 << 20 | 12345);
    std::fs::write(local.path().join("big.bin"), &data).unwrap();
    let pw = lab.password("alice");
    let args = server.args("data");

    let out = batch(
        local.path(),
        &args,
        &pw,
        "mkdir sub; cd sub; put big.bin; ls; get big.bin back.bin; pwd",
    );
    let stdout = ok(&out, "put, ls, get");
    eprintln!("{stdout}");
    assert!(
        stdout.contains("put big.bin -> \\sub\\big.bin: 5255225 bytes"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("big.bin") && l.contains(" 5255225 ")),
        "{stdout}"
    );
    assert!(stdout.contains(r"\\127.0.0.1\data\sub"), "{stdout}");
    assert_eq!(std::fs::read(local.path().join("back.bin")).unwrap(), data);
    assert_eq!(
        std::fs::read(server.data.path().join("sub/big.bin")).unwrap(),
        data
    );
    // Nothing is left under a partial name on either side.
    assert!(
        !server
            .data
            .path()
            .join("sub/.big.bin.smbshell-partial")
            .exists()
    );
    assert!(!local.path().join(".back.bin.smbshell-partial").exists());

    // Commands on stdin after the password; rename, stat, rm, rmdir.
    let script = format!(
        "{pw}\nrename sub/big.bin sub/renamed.bin\nstat sub/renamed.bin\nrm sub/renamed.bin\nrmdir sub\nls\n"
    );
    let out = smbshell(local.path(), &args, &script);
    let stdout = ok(&out, "rename, stat, rm, rmdir on stdin");
    assert!(stdout.contains("Size:       5255225"), "{stdout}");
    assert!(!server.data.path().join("sub").exists());

    // A failing command: one line on stderr, exit status 1, the others still run.
    let out = batch(local.path(), &args, &pw, "get nosuch.bin; mkdir after");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        "smbshell: get: \\nosuch.bin: no such file or directory\n"
    );
    assert!(server.data.path().join("after").is_dir());
    assert!(!local.path().join("nosuch.bin").exists());
    assert!(!local.path().join(".nosuch.bin.smbshell-partial").exists());
    let out = batch(local.path(), &args, &pw, "rmdir /; rmdir after");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );

    // A wrong share: one line, exit status 1.
    let out = batch(local.path(), &server.args("nosuch"), &pw, "ls");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    eprintln!("wrong share: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(r"\\127.0.0.1\nosuch: no such share"),
        "{stderr}"
    );
    server.forget(&lab);
}

#[test]
fn ms_smb2_3_2_4_put_and_get_against_the_dcs_sysvol() {
    let lab = Lab::get();
    let local = tempfile::tempdir().unwrap();
    let data = random_bytes(3 << 20 | 777);
    std::fs::write(local.path().join("dc.bin"), &data).unwrap();
    let dir = format!("smbshell-{}", std::process::id());
    let args = vec![
        "//127.0.0.2/sysvol".to_owned(),
        "-U".into(),
        format!(r"{}\{}", lab.netbios, lab.admin),
        "--password-stdin".into(),
    ];
    let out = batch(
        local.path(),
        &args,
        &lab.admin_password,
        &format!("mkdir {dir}; put dc.bin {dir}; ls {dir}/*.bin; get {dir}/dc.bin back.bin"),
    );
    let cleanup = batch(
        local.path(),
        &args,
        &lab.admin_password,
        &format!("rm {dir}/dc.bin; rmdir {dir}"),
    );
    let stdout = ok(&out, "put and get on sysvol");
    eprintln!("{stdout}");
    ok(&cleanup, "cleaning sysvol");
    assert!(stdout.contains(" 3146505 "), "{stdout}");
    assert_eq!(std::fs::read(local.path().join("back.bin")).unwrap(), data);
}

#[test]
fn a_partial_get_resumes_and_a_server_dying_mid_transfer_leaves_no_final_file() {
    let lab = Lab::get();
    let mut server = Server::start(&lab, "shellresume");
    let local = tempfile::tempdir().unwrap();
    let pw = lab.password("alice");
    let args = server.args("data");

    // Resume: the first part of the file is already in the partial file.
    let data = random_bytes(4 << 20 | 4321);
    std::fs::write(server.data.path().join("r.bin"), &data).unwrap();
    let half = data.len() / 2 + 17;
    std::fs::write(local.path().join(".r.bin.smbshell-partial"), &data[..half]).unwrap();
    let stdout = ok(&batch(local.path(), &args, &pw, "get r.bin"), "resumed get");
    eprintln!("{stdout}");
    assert!(
        stdout.contains(&format!("resuming \\r.bin from {half} bytes")),
        "{stdout}"
    );
    assert_eq!(std::fs::read(local.path().join("r.bin")).unwrap(), data);
    assert!(!local.path().join(".r.bin.smbshell-partial").exists());

    // The server dies mid-transfer: one line, exit 1, nothing under the final name.
    let huge = std::fs::File::create(server.data.path().join("huge.bin")).unwrap();
    huge.set_len(1 << 30).unwrap();
    let mut all = args.clone();
    all.extend(["-c".to_owned(), "get huge.bin".to_owned()]);
    let mut child = Command::new(SMBSHELL)
        .args(&all)
        .current_dir(local.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{pw}").unwrap();
    }
    let partial = local.path().join(".huge.bin.smbshell-partial");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) == 0 {
        assert!(Instant::now() < deadline, "the get never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.stop();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    eprintln!("server killed: {stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("dropped"), "{stderr}");
    assert!(!local.path().join("huge.bin").exists());
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!(kept < 1 << 30, "{kept}");
    server.forget(&lab);
}

/// tmux, or a failure saying to install it.
fn tmux(args: &[&str]) -> Output {
    Command::new("tmux")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tmux is needed for this test (apt-get install tmux): {e}"))
}

fn pane(session: &str) -> String {
    text(&tmux(&["capture-pane", "-p", "-t", session]).stdout)
}

fn wait_for_pane(session: &str, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = pane(session);
        if wanted(&screen) {
            return screen;
        }
        assert!(Instant::now() < deadline, "{what}; the screen:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn tab_completes_a_remote_directory_in_the_interactive_shell() {
    let lab = Lab::get();
    let server = Server::start(&lab, "shelltab");
    std::fs::create_dir(server.data.path().join("subdirectory")).unwrap();
    std::fs::write(server.data.path().join("subdirectory/inner.txt"), "x").unwrap();
    let home = tempfile::tempdir().unwrap();
    let session = format!("smbshell-{}", std::process::id());
    let command = format!(
        "HOME={} {SMBSHELL} //127.0.0.1/data --port {} -U alice@EXAMPLE",
        home.path().display(),
        server.port
    );
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &command,
    ]);
    assert!(started.status.success(), "{}", text(&started.stderr));
    wait_for_pane(&session, "no password prompt", |s| {
        s.contains("Password for")
    });
    tmux(&["send-keys", "-t", &session, &lab.password("alice"), "Enter"]);
    wait_for_pane(&session, "no prompt", |s| s.contains(r"smb:\>"));
    tmux(&["send-keys", "-t", &session, "ls sub", "Tab"]);
    let screen = wait_for_pane(&session, "Tab did not complete", |s| {
        s.contains(r"smb:\> ls subdirectory/")
    });
    eprintln!("{screen}");
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for_pane(&session, "ls of the directory", |s| s.contains("inner.txt"));
    tmux(&["send-keys", "-t", &session, "exit", "Enter"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux(&["has-session", "-t", &session]).status.success() {
        if Instant::now() > deadline {
            let screen = pane(&session);
            let _ = tmux(&["kill-session", "-t", &session]);
            panic!("exit did not end smbshell:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    server.forget(&lab);
}

/// MS-SMB2 3.2.4.2.3 with Kerberos: no `--user`, so smbshell takes a ticket for
/// `cifs/<member>` from the credential cache MIT's `kinit` wrote for alice (getting it from
/// the lab KDC with the cache's TGT), logs on to adjoind with it and lists the share; an
/// empty cache gives one line naming kinit.
#[test]
fn kerberos_from_the_users_credential_cache() {
    let lab = Lab::get();
    let server = Server::start(&lab, "shellkrb");
    let local = tempfile::tempdir().unwrap();
    std::fs::write(server.data.path().join("seen-by-kerberos.txt"), b"k").unwrap();
    let cache = local.path().join("cc");
    lab.mit_kinit("alice", &cache);

    let krb = |ccache: &Path| -> Vec<String> {
        vec![
            format!("//{}/data", server.fqdn),
            "-I".into(),
            "127.0.0.1".into(),
            "--port".into(),
            server.port.to_string(),
            "--ccache".into(),
            ccache.display().to_string(),
            "--kdc".into(),
            lab.dc.clone(),
            "-c".into(),
            "ls".into(),
        ]
    };
    let listed = ok(
        &smbshell(local.path(), &krb(&cache), ""),
        "ls with Kerberos",
    );
    assert!(listed.contains("seen-by-kerberos.txt"), "{listed}");

    let empty = local.path().join("none");
    let refused = smbshell(local.path(), &krb(&empty), "");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    let err = text(&refused.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("run kinit"), "{err}");
    server.forget(&lab);
}
