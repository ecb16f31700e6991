//! smbshell's large transfers against real servers (a joined member's adjoind and the lab
//! DC's smbd): 200 MiB put and get in the interactive shell driven through tmux, with the
//! progress line recorded from the terminal; a full local disk (a small tmpfs) giving one
//! line and no file under the final name; and a connection that drops mid-get, after
//! which the same shell's next get connects again and resumes.

// tools/test: long

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use adjoin_tests::daemon::{Bins, IdentityDaemon};
use adjoin_tests::{Lab, text};

const SMBSHELL: &str = env!("CARGO_BIN_EXE_smbshell");
const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};
const MIB: usize = 1 << 20;

/// A member's adjoind serving `data`; its computer account is deleted on drop.
struct Server {
    daemon: IdentityDaemon,
    data: tempfile::TempDir,
    port: u16,
    lab: Lab,
}

impl Server {
    fn start(lab: &Lab, host: &str) -> Self {
        let fqdn = format!("{host}.{}", lab.domain);
        let (daemon, data) = IdentityDaemon::serving_share(lab, BINS, &fqdn, "data");
        let port = daemon.smb.expect("serving SMB").port();
        Self {
            daemon,
            data,
            port,
            lab: lab.clone(),
        }
    }

    /// smbshell's arguments for the share as alice (password on stdin).
    fn args(&self) -> Vec<String> {
        vec![
            "//127.0.0.1/data".into(),
            "--port".into(),
            self.port.to_string(),
            "-U".into(),
            format!(r"{}\alice", self.lab.netbios),
        ]
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.daemon.forget(&self.lab);
    }
}

fn random_file(path: &Path, len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    getrandom::fill(&mut data).expect("random bytes");
    std::fs::write(path, &data).expect("writing the test file");
    data
}

fn tmux(args: &[&str]) -> Output {
    Command::new("tmux")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tmux is needed for this test (apt-get install tmux): {e}"))
}

/// An interactive smbshell in a tmux session whose terminal output is also appended to
/// a log file (`pipe-pane`), so progress lines redrawn in place are all kept.
struct Shell {
    session: String,
    log: std::path::PathBuf,
}

impl Shell {
    fn start(dir: &Path, name: &str, args: &[String], password: &str) -> Self {
        let session = format!("{name}-{}", std::process::id());
        let log = dir.join(format!("{name}.terminal"));
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let command = format!(
            "cd {} && HOME={} {SMBSHELL} {}",
            dir.display(),
            dir.display(),
            quoted.join(" ")
        );
        let started = tmux(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "160",
            "-y",
            "40",
            &command,
        ]);
        assert!(started.status.success(), "{}", text(&started.stderr));
        let piped = tmux(&[
            "pipe-pane",
            "-t",
            &session,
            &format!("cat >> {}", log.display()),
        ]);
        assert!(piped.status.success(), "{}", text(&piped.stderr));
        let shell = Self { session, log };
        shell.wait("no password prompt", |s| s.contains("Password for"));
        tmux(&["send-keys", "-t", &shell.session, password, "Enter"]);
        shell.wait("no prompt", |s| s.contains(r"smb:\>"));
        shell
    }

    fn screen(&self) -> String {
        text(&tmux(&["capture-pane", "-p", "-t", &self.session]).stdout)
    }

    fn wait(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let screen = self.screen();
            if wanted(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "{what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `command` and waits until the screen shows `done`.
    fn run(&self, command: &str, done: &str) -> String {
        tmux(&["send-keys", "-t", &self.session, command, "Enter"]);
        self.wait(&format!("{command:?} did not finish"), |s| s.contains(done))
    }

    /// Everything the terminal showed.
    fn terminal(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.session]);
    }
}

/// Whether the terminal showed a progress line for `name` of `total` (bytes done, the
/// total, percent, rate and time left, as `smbshell` draws it).
fn showed_progress(terminal: &str, name: &str, total: &str) -> bool {
    terminal.split(['\r', '\n']).any(|line| {
        line.contains(name)
            && line.contains(&format!(" / {total}  "))
            && line.contains("/s  ")
            && line.contains(" left")
    })
}

/// MS-SMB2 3.2.4.7/3.2.4.6 200 MiB each way, against adjoind and against the DC's smbd,
/// in the interactive shell: the bytes come back identical, and the terminal showed the
/// progress line (bytes, percent, rate, time left) while they moved.
#[test]
fn a_200_mib_put_and_get_show_progress_in_the_interactive_shell() {
    let lab = Lab::get();
    let server = Server::start(&lab, "shellbig");
    let local = tempfile::tempdir().unwrap();
    let data = random_file(&local.path().join("big.bin"), 200 * MIB);

    let shell = Shell::start(
        local.path(),
        "bigadjoind",
        &server.args(),
        &lab.password("alice"),
    );
    shell.run("put big.bin", "put big.bin -> ");
    assert!(
        std::fs::read(server.data.path().join("big.bin")).unwrap() == data,
        "the server's copy differs"
    );
    shell.run("get big.bin back.bin", "got ");
    assert!(
        std::fs::read(local.path().join("back.bin")).unwrap() == data,
        "the copy got back differs"
    );
    let terminal = shell.terminal();
    assert!(
        showed_progress(&terminal, "big.bin", "200.0 MiB"),
        "no progress line:\n{terminal}"
    );
    drop(shell);
    std::fs::remove_file(local.path().join("back.bin")).unwrap();

    // The same against the DC's own SMB server (sysvol, as the administrator).
    let dir = format!("smbshell-big-{}", std::process::id());
    let admin = vec![
        format!("//{}/sysvol", lab.dc),
        "-U".into(),
        format!(r"{}\{}", lab.netbios, lab.admin),
    ];
    let shell = Shell::start(local.path(), "bigdc", &admin, &lab.admin_password);
    shell.run(&format!("mkdir {dir}"), &format!(r"smb:\> mkdir {dir}"));
    shell.run(&format!("put big.bin {dir}/big.bin"), "put big.bin -> ");
    shell.run(&format!("get {dir}/big.bin back.bin"), "got ");
    let terminal = shell.terminal();
    drop(shell);
    // Cleaning up in batch mode, where `;` separates commands and failures show.
    let mut cleanup = Command::new(SMBSHELL)
        .args(&admin)
        .args(["--password-stdin", "-c"])
        .arg(format!("rm {dir}/big.bin; rmdir {dir}; ls"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smbshell runs");
    writeln!(cleanup.stdin.take().unwrap(), "{}", lab.admin_password).unwrap();
    let cleanup = cleanup.wait_with_output().unwrap();
    assert!(
        cleanup.status.success(),
        "cleanup: {}",
        text(&cleanup.stderr)
    );
    assert!(
        !text(&cleanup.stdout).contains(&dir),
        "{}",
        text(&cleanup.stdout)
    );
    assert!(
        std::fs::read(local.path().join("back.bin")).unwrap() == data,
        "the copy got back from the DC differs"
    );
    assert!(
        showed_progress(&terminal, "big.bin", "200.0 MiB"),
        "no progress line against the DC:\n{terminal}"
    );
}

/// A get onto a full local disk (a 32 MiB tmpfs): one line naming the full disk and how
/// to go on, exit status 1, nothing under the final name.
#[test]
fn a_full_local_disk_gives_one_line_and_no_file_under_the_final_name() {
    let lab = Lab::get();
    let server = Server::start(&lab, "shellfull");
    random_file(&server.data.path().join("big.bin"), 100 * MIB);
    let small = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
        .arg(small.path())
        .output()
        .expect("mount runs");
    assert!(
        mounted.status.success(),
        "mount (run as root): {}",
        text(&mounted.stderr)
    );
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(small.path());

    let mut args = server.args();
    args.extend(["--password-stdin".into(), "-c".into(), "get big.bin".into()]);
    let mut child = Command::new(SMBSHELL)
        .args(&args)
        .current_dir(small.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smbshell runs");
    writeln!(child.stdin.take().unwrap(), "{}", lab.password("alice")).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("the local disk is full"), "{stderr}");
    assert!(
        stderr.contains("free space and run the command again"),
        "{stderr}"
    );
    assert!(
        !small.path().join("big.bin").exists(),
        "a file under the final name"
    );
}

/// A connection that drops mid-get (adjoind killed, then started again on the same
/// state): the get fails with one line saying so, and the same shell's next get
/// connects again and resumes from the partial file, ending with identical bytes.
#[test]
fn after_a_dropped_connection_the_next_get_reconnects_and_resumes() {
    let lab = Lab::get();
    let mut server = Server::start(&lab, "shellredo");
    let data = random_file(&server.data.path().join("huge.bin"), 300 * MIB);
    let local = tempfile::tempdir().unwrap();
    let partial = local.path().join(".huge.bin.smbshell-partial");

    let mut args = server.args();
    args.push("--password-stdin".into());
    let mut child = Command::new(SMBSHELL)
        .args(&args)
        .current_dir(local.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smbshell runs");
    let mut input = child.stdin.take().unwrap();
    writeln!(input, "{}", lab.password("alice")).unwrap();
    writeln!(input, "get huge.bin").unwrap();
    input.flush().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < 8 * MIB as u64 {
        assert!(Instant::now() < deadline, "the get never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    server.daemon.restart();
    let dropped = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("a line about the dropped connection");
    assert!(
        dropped.contains("dropped") && dropped.contains("reconnects"),
        "{dropped}"
    );
    assert!(!local.path().join("huge.bin").exists());
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!(kept > 0 && kept < data.len() as u64, "{kept}");

    writeln!(input, "get huge.bin").unwrap();
    writeln!(input, "exit").unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    let rest: Vec<String> = lines.try_iter().collect();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the first get failed: {stdout}{rest:?}"
    );
    assert!(rest.is_empty(), "{rest:?}");
    assert!(stdout.contains(r"resuming \huge.bin from "), "{stdout}");
    assert!(
        stdout.contains(r"got \huge.bin -> huge.bin: 314572800 bytes"),
        "{stdout}"
    );
    assert!(!partial.exists());
    assert!(
        std::fs::read(local.path().join("huge.bin")).unwrap() == data,
        "the resumed copy differs"
    );
}
