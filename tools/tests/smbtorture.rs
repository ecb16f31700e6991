//! Samba's smbtorture against adjoind's file server, as the domain's administrator: every
//! subtest of a suite in [`SUITES`] that `tests/smbtorture/passing.txt` lists (written by
//! `tools/bench/smbtorture.sh --write-passing`) must still pass. The listed subtests of a
//! suite run in one smbtorture process (`--load-list`; the bench script runs suites whole
//! to find what newly passes), for at most the suite's timeout; a listed subtest it did not
//! report (smbtorture crashed on an earlier one, or ran out of time) runs again alone.
//! Suites run in three lanes side by side, each on a share of its own (see [`Suite`]). The
//! test fails naming each listed subtest that did not pass, with smbtorture's reason.
//!
//! The member is joined to the lab's trusted domain (OTHER.TEST), whose administrator
//! smbtorture logs on as: its DC is not the one other tests stop and restart, so
//! `tools/test` runs this binary beside the rest of the tests rather than after them.

// tools/test: beside

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use adjoin_registry::{Registry, Value};
use adjoin_tests::daemon::{Bins, FREE_LOOPBACK_PORT, IdentityDaemon};
use adjoin_tests::{Lab, repo_root, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// One suite: its name, how long it may take in one smbtorture process, and the lane it
/// runs in. The lanes run side by side against one adjoind, each on a share of its own
/// (most suites wait on timers, not the CPU): `tools/test` takes the longest lane's time
/// rather than the sum. The suites that use smbtorture's fixed lease keys (smb2.lease, the
/// durable handle suites) share a lane, so two of them never hold one key at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Suite {
    name: &'static str,
    timeout: Duration,
    lane: usize,
}

const fn suite(name: &'static str, timeout: Duration, lane: usize) -> Suite {
    Suite {
        name,
        timeout,
        lane,
    }
}

/// The suites run here, and what their listed subtests take in a debug build (2 cores, the
/// three lanes side by side, 2026-12-04): smb2.lease about 170 s and smb2.oplock about
/// 110 s (break timeouts of 35 s are part of what they check), smb2.notify about 90 s
/// (smb2.notify.mask: 200 ms sleeps), smb2.dir 25 s, smb2.compound 20 s, smb2.create 10 s,
/// the others a few seconds each. The lanes are balanced on those figures: lane 1 takes
/// about 175 s, the others less.
const SUITES: &[Suite] = &[
    suite("smb2.connect", QUICK, 2),
    suite("smb2.read", QUICK, 2),
    suite("smb2.getinfo", QUICK, 2),
    suite("smb2.dir", QUICK, 0),
    suite("smb2.create", QUICK, 0),
    suite("smb2.lock", QUICK, 2),
    suite("smb2.compound", QUICK, 0),
    suite("smb2.credits", QUICK, 0),
    suite("smb2.session", QUICK, 2),
    suite("smb2.rename", QUICK, 2),
    suite("smb2.ioctl", QUICK, 2),
    suite("smb2.durable-open", QUICK, 1),
    suite("smb2.durable-v2-open", QUICK, 1),
    suite("smb2.notify", Duration::from_secs(200), 0),
    suite("smb2.sharemode", QUICK, 2),
    suite("smb2.delete-on-close-perms", QUICK, 2),
    suite("smb2.oplock", Duration::from_secs(300), 2),
    suite("smb2.lease", Duration::from_secs(400), 1),
    suite("rpc.srvsvc", QUICK, 2),
];

/// How many lanes [`SUITES`] names.
const LANES: usize = 3;

/// At most this long for a quick suite ...
const QUICK: Duration = Duration::from_secs(120);
/// ... and for one subtest run again alone.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The share of `lane`: `torture` for the first, `torture1`, `torture2` for the others.
fn share(lane: usize) -> String {
    if lane == 0 {
        "torture".into()
    } else {
        format!("torture{lane}")
    }
}

/// The subtests `tests/smbtorture/passing.txt` lists.
fn listed() -> Vec<String> {
    let path = repo_root().join("tests/smbtorture/passing.txt");
    let all = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    all.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The suite `subtest` belongs to, and its timeout. smbtorture runs, for a suite name, every test
/// whose name starts with it (`smb2.session` also runs `smb2.session-id.*`), and so does
/// `tools/bench/smbtorture.sh` when it writes passing.txt.
fn suite_of(subtest: &str) -> Option<Suite> {
    SUITES.iter().copied().find(|s| subtest.starts_with(s.name))
}

/// One subtest's result as smbtorture reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    /// success, failure, error, skip, xfail, uxsuccess.
    status: String,
    /// The text between `[` and `]` after a failure, error or skip.
    detail: String,
}

/// The results in smbtorture's `--format=subunit` output (subunit v1): `STATUS: NAME`,
/// with the reason on the lines between `STATUS: NAME [` and a line `]`.
fn results(output: &str) -> BTreeMap<String, Outcome> {
    const STATUSES: &[&str] = &[
        "success",
        "successful",
        "failure",
        "fail",
        "error",
        "skip",
        "xfail",
        "uxsuccess",
    ];
    let mut all = BTreeMap::new();
    let mut open: Option<(String, Outcome)> = None;
    for line in output.lines() {
        if let Some((name, mut outcome)) = open.take() {
            if line == "]" {
                all.insert(name, outcome);
            } else {
                outcome.detail.push_str(line);
                outcome.detail.push('\n');
                open = Some((name, outcome));
            }
            continue;
        }
        let Some((status, name)) = line.split_once(": ") else {
            continue;
        };
        if !STATUSES.contains(&status) {
            continue;
        }
        let outcome = Outcome {
            status: status.to_owned(),
            detail: String::new(),
        };
        match name.strip_suffix(" [") {
            Some(name) => open = Some((name.to_owned(), outcome)),
            None => {
                all.insert(name.to_owned(), outcome);
            }
        }
    }
    // A reason cut short (smbtorture killed) still names its subtest.
    if let Some((name, outcome)) = open {
        all.insert(name, outcome);
    }
    all
}

/// A member serving one share per lane (each a 1777 directory) to smbtorture.
struct Server {
    daemon: IdentityDaemon,
    _shares: Vec<tempfile::TempDir>,
    work: tempfile::TempDir,
}

impl Server {
    fn start(lab: &Lab) -> Self {
        let fqdn = format!("torture-ci.{}", lab.trusted().domain);
        let daemon = IdentityDaemon::start_in_trusted_domain(
            lab,
            BINS,
            &fqdn,
            &[],
            Some(FREE_LOOPBACK_PORT),
        );
        let registry = Registry::open(daemon.registry()).unwrap();
        let shares = (0..LANES)
            .map(|lane| {
                let dir = tempfile::Builder::new()
                    .prefix("adjoin-torture-")
                    .tempdir()
                    .unwrap();
                std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))
                    .unwrap();
                registry
                    .set_value(
                        &format!(r"HKEY_THIS_MACHINE\Services\adjoind\Shares\{}", share(lane)),
                        "Path",
                        &Value::Sz(dir.path().display().to_string()),
                    )
                    .unwrap();
                dir
            })
            .collect();
        let work = tempfile::tempdir().unwrap();
        // smbtorture's own configuration: the domain's names, nothing from /etc/samba.
        let trusted = lab.trusted();
        std::fs::write(
            work.path().join("client.conf"),
            format!(
                "[global]\n    workgroup = {}\n    realm = {}\n    client min protocol = SMB2_02\n",
                trusted.netbios, trusted.realm
            ),
        )
        .unwrap();
        let server = Self {
            daemon,
            _shares: shares,
            work,
        };
        server.wait_for_shares(lab);
        server
    }

    fn port(&self) -> String {
        self.daemon.smb.expect("serving SMB").port().to_string()
    }

    /// The trusted domain's administrator.
    fn credentials(lab: &Lab) -> String {
        let trusted = lab.trusted();
        format!(
            "{}\\administrator%{}",
            trusted.netbios, trusted.admin_password
        )
    }

    /// Waits until `smbclient -L` lists every lane's share (adjoind reads the registry's
    /// shares every few seconds).
    fn wait_for_shares(&self, lab: &Lab) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("smbclient")
                .arg("-s")
                .arg(self.work.path().join("client.conf"))
                .args(["-L", "127.0.0.1", "-p", &self.port(), "-U"])
                .arg(Self::credentials(lab))
                .env("KRB5_CONFIG", &lab.krb5_config)
                .output()
                .expect("smbclient runs");
            let listed = text(&out.stdout);
            let missing: Vec<String> = (0..LANES)
                .map(share)
                .filter(|s| {
                    !listed
                        .lines()
                        .any(|l| l.split_whitespace().next() == Some(s.as_str()))
                })
                .collect();
            if missing.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "shares {} not listed within 30 s: {}{}\nadjoind: {}",
                missing.join(", "),
                text(&out.stdout),
                text(&out.stderr),
                self.daemon.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Runs `test` (a suite, or one subtest by its full name) on `lane`'s share for at
    /// most `timeout`, only the subtests `only` names when it is given (smbtorture's
    /// `--load-list`); returns smbtorture's output and whether it finished in time.
    fn torture(
        &self,
        lab: &Lab,
        lane: usize,
        test: &str,
        only: Option<&[&str]>,
        timeout: Duration,
    ) -> (String, bool) {
        let out = self.work.path().join(format!("torture{lane}.out"));
        let file = File::create(&out).unwrap();
        let mut command = Command::new("smbtorture");
        // smbtorture makes an output directory in its working directory and leaves it
        // when it is killed: keep it in the work directory.
        command.current_dir(self.work.path());
        if let Some(only) = only {
            let list = self.work.path().join(format!("torture{lane}.list"));
            std::fs::write(&list, only.join("\n") + "\n").unwrap();
            command.arg(format!("--load-list={}", list.display()));
        }
        let mut child = command
            .arg("-s")
            .arg(self.work.path().join("client.conf"))
            .args(["--format=subunit", "--fullname"])
            .arg(format!("//127.0.0.1/{}", share(lane)))
            .args(["-p", &self.port(), "-U"])
            .arg(Self::credentials(lab))
            .arg(test)
            .env("KRB5_CONFIG", &lab.krb5_config)
            .stdin(Stdio::null())
            .stderr(file.try_clone().unwrap())
            .stdout(file)
            .spawn()
            .expect("smbtorture runs (Debian's samba-testsuite)");
        let finished = wait_or_kill(&mut child, timeout);
        (read(&out), finished)
    }

    /// The outcome of each of `subtests` of `suite`: the suite's listed subtests in one
    /// smbtorture process first (the others, which fail or wait for a timeout, do not
    /// run), then each subtest it did not report on its own.
    fn run_suite(&self, lab: &Lab, suite: Suite, subtests: &[&str]) -> Vec<(String, Outcome)> {
        let (output, finished) =
            self.torture(lab, suite.lane, suite.name, Some(subtests), suite.timeout);
        let mut got = results(&output);
        let mut outcomes = Vec::new();
        for subtest in subtests {
            let outcome = match got.remove(*subtest) {
                Some(o) => o,
                None => {
                    let (alone, in_time) =
                        self.torture(lab, suite.lane, subtest, None, TEST_TIMEOUT);
                    let missing = Outcome {
                        status: "not reported".into(),
                        detail: unreported(&alone, finished, in_time),
                    };
                    results(&alone).remove(*subtest).unwrap_or(missing)
                }
            };
            outcomes.push(((*subtest).to_owned(), outcome));
        }
        outcomes
    }
}

/// Why smbtorture reported nothing for a subtest it ran alone (`output`).
fn unreported(output: &str, suite_in_time: bool, alone_in_time: bool) -> String {
    if let Some(panic) = output.lines().find(|l| l.starts_with("PANIC")) {
        return format!("smbtorture crashed on it ({panic})");
    }
    format!(
        "the suite {}, the subtest alone {}; smbtorture's last lines: {}",
        if suite_in_time {
            "finished"
        } else {
            "was killed"
        },
        if alone_in_time {
            "finished"
        } else {
            "was killed"
        },
        output.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
    )
}

/// Waits for `child` at most `timeout`; kills it when it takes longer (false).
fn wait_or_kill(child: &mut std::process::Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if child.try_wait().expect("wait for smbtorture").is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

#[test]
fn smbtorture_subtests_listed_as_passing_still_pass() {
    let lab = Lab::get();
    let listed = listed();
    let mut by_suite: BTreeMap<Suite, Vec<&str>> = BTreeMap::new();
    for subtest in &listed {
        if let Some(suite) = suite_of(subtest) {
            by_suite.entry(suite).or_default().push(subtest);
        }
    }
    assert!(
        !by_suite.is_empty(),
        "passing.txt lists no subtest of a suite run here"
    );
    let server = Server::start(&lab);
    let started = Instant::now();
    // Each lane's suites one after another; the lanes side by side.
    let failed: Vec<String> = std::thread::scope(|scope| {
        let lanes: Vec<_> = (0..LANES)
            .map(|lane| {
                let (server, lab, by_suite) = (&server, &lab, &by_suite);
                scope.spawn(move || {
                    let mut failed = Vec::new();
                    for (suite, subtests) in by_suite.iter().filter(|(s, _)| s.lane == lane) {
                        let started = Instant::now();
                        let outcomes = server.run_suite(lab, *suite, subtests);
                        eprintln!(
                            "{} (lane {lane}): {} listed subtests, {:.1} s",
                            suite.name,
                            subtests.len(),
                            started.elapsed().as_secs_f64()
                        );
                        for (subtest, o) in outcomes {
                            if o.status != "success" && o.status != "successful" {
                                failed.push(format!(
                                    "{subtest}: {}: {}",
                                    o.status,
                                    o.detail.trim()
                                ));
                            }
                        }
                    }
                    failed
                })
            })
            .collect();
        lanes
            .into_iter()
            .flat_map(|l| l.join().expect("a lane panicked"))
            .collect()
    });
    eprintln!(
        "all suites, {LANES} lanes: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "{} of {} listed subtests did not pass:\n{}\n\nadjoind's warnings and failures \
         (the last 40):\n{}\n\nadjoind's log (end):\n{}",
        failed.len(),
        by_suite.values().map(Vec::len).sum::<usize>(),
        failed.join("\n"),
        tail(&notable(&server.daemon.log()), 40),
        tail(&server.daemon.log(), 40)
    );
}

/// The lines of adjoind's log that say something went wrong (the session lines of
/// hundreds of smbtorture connections would hide them).
fn notable(log: &str) -> String {
    log.lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR ") || l.contains("failed"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[test]
fn subunit_results_name_each_subtest_and_its_reason() {
    let output = "smbtorture 4.17.12-Debian\ntest: smb2.getinfo.fsinfo\n\
        success: smb2.getinfo.fsinfo\ntest: smb2.getinfo.complex\n\
        failure: smb2.getinfo.complex [\n../getinfo.c:766: status was X\n]\n\
        skip: rpc.srvsvc.srvsvc (admin access).NetShareAddSetDel [\nno\n]\n\
        test: smb2.read.eof\nerror: smb2.read.eof [\ncut";
    let got = results(output);
    let status = |n: &str| got.get(n).map(|o| o.status.as_str());
    assert_eq!(status("smb2.getinfo.fsinfo"), Some("success"));
    assert_eq!(status("smb2.getinfo.complex"), Some("failure"));
    assert_eq!(
        got["smb2.getinfo.complex"].detail,
        "../getinfo.c:766: status was X\n"
    );
    assert_eq!(
        status("rpc.srvsvc.srvsvc (admin access).NetShareAddSetDel"),
        Some("skip")
    );
    assert_eq!(status("smb2.read.eof"), Some("error"));
    assert_eq!(got.len(), 4);
    let name = |n: &str| suite_of(n).map(|s| s.name);
    assert_eq!(name("smb2.read.eof"), Some("smb2.read"));
    assert_eq!(name("smb2.connect"), Some("smb2.connect"));
    assert_eq!(name("smb2.session-id"), Some("smb2.session"));
    assert_eq!(name("smb2.oplock.batch1"), Some("smb2.oplock"));
    assert_eq!(
        name("smb2.durable-open-disconnect.open-oplock-disconnect"),
        Some("smb2.durable-open")
    );
    assert_eq!(name("smb2.bench.oplock1"), None);
    assert!(SUITES.iter().all(|s| s.lane < LANES));
}
