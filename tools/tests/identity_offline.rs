//! The identity service with its DC hung (SIGSTOP, so packets go unanswered rather than
//! refused): cached lookups still answer through NSS and `adjoin`, and alice logs on with
//! her cached verifier within the configured timeout. Its own test binary: it stops the
//! shared lab DC, so nothing else may be talking to it meanwhile.

// tools/test: alone

use std::path::Path;
use std::time::{Duration, Instant};

use adjoin_registry::Value;
use adjoin_tests::daemon::{Bins, DcStopped, IdentityDaemon, built_library};
use adjoin_tests::namespace::run_in_namespace;
use adjoin_tests::{Lab, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

fn in_namespace(d: &IdentityDaemon, argv: &[&str], input: Option<&str>) -> std::process::Output {
    let (conf, lib) = d.nss_files();
    let pam = d.dir.path().join("pam.d");
    std::fs::create_dir_all(&pam).unwrap();
    let m = built_library("libpam_adjoin.so");
    let m = m.display();
    std::fs::write(
        pam.join("adjoin-test"),
        format!("auth required {m}\naccount required {m}\n"),
    )
    .unwrap();
    let mut env = d.client_env();
    env.push(("LD_LIBRARY_PATH".into(), lib.display().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_in_namespace(
        &[
            (conf.as_path(), Path::new("/etc/nsswitch.conf")),
            (pam.as_path(), Path::new("/etc/pam.d")),
        ],
        &env,
        argv,
        input.map(str::as_bytes),
    )
}

#[test]
fn cached_lookups_and_offline_logon_while_the_dc_hangs() {
    let lab = Lab::get();
    // Entries go stale at once, so every answer below has to come through the daemon's
    // offline fallback, not the fast cache file.
    let mut d = IdentityDaemon::start(
        &lab,
        BINS,
        "idoff.example.test",
        &[
            ("DcTimeoutSeconds", Value::Dword(2)),
            ("CacheTimeoutSeconds", Value::Dword(1)),
            // Back online within 10 s of the DC's return rather than the default 30.
            ("OfflineRetrySeconds", Value::Dword(10)),
        ],
    );
    let password = format!("{}\n", lab.password("alice"));
    let online = in_namespace(
        &d,
        &["pamtester", "adjoin-test", "alice", "authenticate"],
        Some(&password),
    );
    assert!(
        online.status.success(),
        "online logon: {}\n{}",
        text(&online.stderr),
        d.log()
    );
    let before = in_namespace(&d, &["getent", "passwd", "alice"], None);
    assert!(before.status.success());
    let id_before = in_namespace(&d, &["id", "alice"], None);
    assert!(id_before.status.success());
    // idoffpw logs on online, then an administrator resets her password at the DC: once
    // the daemon has seen the newer pwdLastSet, her old verifier is void.
    let (old, reset) = ("Old-Off-Pass1!", "Reset-Off-Pass2!");
    lab.fresh_user("idoffpw", old, false);
    let first = in_namespace(
        &d,
        &["pamtester", "adjoin-test", "idoffpw", "authenticate"],
        Some(&format!("{old}\n")),
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    std::thread::sleep(Duration::from_millis(1500));
    let set = lab.samba_tool(&[
        "user",
        "setpassword",
        "idoffpw",
        &format!("--newpassword={reset}"),
    ]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        in_namespace(&d, &["getent", "passwd", "idoffpw"], None)
            .status
            .success()
    );
    std::thread::sleep(Duration::from_millis(1500));

    let stopped = DcStopped::stop(&lab);
    let started = Instant::now();
    let during = in_namespace(&d, &["getent", "passwd", "alice"], None);
    assert_eq!(
        text(&during.stdout),
        text(&before.stdout),
        "getent while the DC hangs: {}",
        text(&during.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "answered from the cache in {:?}",
        started.elapsed()
    );
    let id_during = in_namespace(&d, &["id", "alice"], None);
    assert_eq!(text(&id_during.stdout), text(&id_before.stdout));
    assert_eq!(d.adjoin_json(&["status"])["online"], false);

    let started = Instant::now();
    let offline = in_namespace(
        &d,
        &["pamtester", "adjoin-test", "alice", "authenticate"],
        Some(&password),
    );
    assert!(
        offline.status.success(),
        "offline logon: {}{}\n{}",
        text(&offline.stdout),
        text(&offline.stderr),
        d.log()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "offline logon took {:?}",
        started.elapsed()
    );
    let said = format!("{}{}", text(&offline.stdout), text(&offline.stderr));
    assert!(said.contains("cached credentials"), "{said}");
    let stale = in_namespace(
        &d,
        &["pamtester", "adjoin-test", "idoffpw", "authenticate"],
        Some(&format!("{old}\n")),
    );
    let said = format!("{}{}", text(&stale.stdout), text(&stale.stderr));
    assert!(
        !stale.status.success(),
        "an old password after a reset must fail offline: {said}"
    );
    assert!(said.contains("changed"), "{said}");
    let wrong = in_namespace(
        &d,
        &["pamtester", "adjoin-test", "alice", "authenticate"],
        Some("wrong-password\n"),
    );
    assert!(
        !wrong.status.success(),
        "a wrong password offline must fail"
    );
    // Bob never logged on here: no verifier, so no offline logon.
    let bob = in_namespace(
        &d,
        &["pamtester", "adjoin-test", "bob", "authenticate"],
        Some(&format!("{}\n", lab.password("bob"))),
    );
    assert!(!bob.status.success());
    // A daemon restarted while the DC still hangs (a reboot during an outage) starts
    // without one and answers from its cache.
    d.restart();
    let after_restart = in_namespace(&d, &["getent", "passwd", "alice"], None);
    assert_eq!(
        text(&after_restart.stdout),
        text(&before.stdout),
        "{}",
        d.log()
    );
    let relogon = in_namespace(
        &d,
        &["pamtester", "adjoin-test", "alice", "authenticate"],
        Some(&password),
    );
    assert!(
        relogon.status.success(),
        "offline logon after a restart: {}\n{}",
        text(&relogon.stderr),
        d.log()
    );
    drop(stopped);
    // The DC is back: within the offline retry interval the daemon is online again.
    let deadline = Instant::now() + Duration::from_secs(45);
    while d.adjoin_json(&["status"])["online"] != true {
        let _ = d.adjoin(&["find-user", "bob"]);
        assert!(
            Instant::now() < deadline,
            "still offline 45 s after the DC came back: {}",
            d.log()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}
