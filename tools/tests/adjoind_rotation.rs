//! adjoind rotates the machine password by itself (issue 12 item 2), checked with peers
//! nobody here wrote: AD's msDS-KeyVersionNumber (ldbsearch on the DC's database), MIT
//! `kinit -k` and `klist -k` on the keytab, and smbclient logging on to adjoind's file
//! server with Kerberos (a ticket issued before the rotation, and one after) and NTLM.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use adjoin_join::join::JOIN_KEY;
use adjoin_registry::{Registry, Value};
use adjoin_tests::daemon::{Bins, FREE_LOOPBACK_PORT, IdentityDaemon, share_dir};
use adjoin_tests::{Lab, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// AD's msDS-KeyVersionNumber of `account`, from the DC's own database.
fn kvno_in_ad(lab: &Lab, account: &str) -> u32 {
    let out = Command::new("ldbsearch")
        .args(["-H", &format!("{}/private/sam.ldb", lab.dir)])
        .arg(format!("(sAMAccountName={account})"))
        .arg("msDS-KeyVersionNumber")
        .output()
        .expect("ldbsearch runs");
    text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("msDS-KeyVersionNumber: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no kvno for {account}: {}", text(&out.stdout)))
}

fn registry_kvno(daemon: &IdentityDaemon) -> u32 {
    let reg = Registry::open(daemon.registry()).unwrap();
    match reg.stored_value(JOIN_KEY, "KeyVersionNumber").unwrap() {
        Some(Value::Dword(k)) => k,
        other => panic!("Join\\KeyVersionNumber: {other:?}"),
    }
}

fn set_join_value(daemon: &IdentityDaemon, name: &str, value: u32) {
    Registry::open(daemon.registry())
        .unwrap()
        .set_value(JOIN_KEY, name, &Value::Dword(value))
        .unwrap();
}

/// Waits until adjoind's log holds `line` (60 s).
fn wait_for_log(daemon: &IdentityDaemon, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !daemon.log().contains(line) {
        assert!(
            Instant::now() < deadline,
            "no '{line}' in adjoind's log within 60 s: {}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// smbclient `ls` on adjoind's `data` share: with Kerberos from `ccache`, else as bob
/// with NTLM.
fn smbclient_ls(lab: &Lab, daemon: &IdentityDaemon, ccache: Option<&str>) -> Output {
    let addr = daemon.smb.expect("serving SMB");
    let mut cmd = Command::new("smbclient");
    cmd.arg(format!("//{}/data", daemon.fqdn))
        .args(["-I", "127.0.0.1", "-p", &addr.port().to_string()])
        .env("KRB5_CONFIG", &lab.krb5_config);
    match ccache {
        Some(cc) => cmd.args(["--use-kerberos=required"]).env("KRB5CCNAME", cc),
        None => cmd
            .arg("-U")
            .arg(format!("{}\\bob%{}", lab.netbios, lab.password("bob"))),
    };
    cmd.args(["-c", "ls"]).output().expect("smbclient runs")
}

fn succeeded(out: &Output, what: &str, daemon: &IdentityDaemon) {
    assert!(
        out.status.success(),
        "{what}: {}{}\nadjoind: {}",
        text(&out.stdout),
        text(&out.stderr),
        daemon.log()
    );
}

#[test]
fn adjoind_rotates_an_old_password_and_serves_on_with_both_key_versions() {
    let lab = Lab::get();
    let fqdn = format!("rotor.{}", lab.domain);
    let mut daemon = IdentityDaemon::start_with(&lab, BINS, &fqdn, &[], Some(FREE_LOOPBACK_PORT));
    let data = share_dir("adjoin-rotor-");
    daemon.set_share(
        "data",
        "Path",
        &Value::Sz(data.path().display().to_string()),
    );
    daemon.wait_for_share(&lab, "data");
    let before = kvno_in_ad(&lab, "ROTOR$");
    assert_eq!(registry_kvno(&daemon), before);

    // A service ticket issued before the rotation, cached by MIT's library.
    let work = tempfile::tempdir().unwrap();
    let early = format!("FILE:{}", work.path().join("early").display());
    lab.mit_kinit("alice", &work.path().join("early"));
    succeeded(
        &smbclient_ls(&lab, &daemon, Some(&early)),
        "Kerberos before",
        &daemon,
    );

    // A maximum age of a few seconds; the daemon reads it at start.
    set_join_value(&daemon, "PasswordRotationSeconds", 4);
    daemon.restart();
    wait_for_log(&daemon, "machine password rotated");
    // No further rotations: the test checks one.
    set_join_value(&daemon, "PasswordRotationSeconds", 0);
    set_join_value(&daemon, "PasswordRotationDays", 0);
    wait_for_log(&daemon, "the daemon took the new machine password and keys");

    let after = kvno_in_ad(&lab, "ROTOR$");
    assert_eq!(after, before + 1, "AD's kvno moved by one");
    assert_eq!(registry_kvno(&daemon), after);
    let keytab = daemon.dir.path().join("krb5.keytab");
    let kinit = lab.mit_kinit_k(&keytab, "ROTOR", work.path());
    succeeded(&kinit, "MIT kinit -k with the rotated keytab", &daemon);
    let listed = Command::new("klist")
        .args(["-k", keytab.to_str().unwrap()])
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .unwrap();
    for v in [before, after] {
        assert!(
            text(&listed.stdout)
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{v} ROTOR$@"))),
            "kvno {v} in the keytab:\n{}",
            text(&listed.stdout)
        );
    }

    // The ticket issued before still opens a session (the previous kvno's keys); a new one
    // does (the new keys were loaded); NTLM through the DC does (the secure channel
    // re-established with the new password).
    succeeded(
        &smbclient_ls(&lab, &daemon, Some(&early)),
        "Kerberos, a ticket from before",
        &daemon,
    );
    let late = format!("FILE:{}", work.path().join("late").display());
    lab.mit_kinit("alice", &work.path().join("late"));
    succeeded(
        &smbclient_ls(&lab, &daemon, Some(&late)),
        "Kerberos, a new ticket",
        &daemon,
    );
    succeeded(&smbclient_ls(&lab, &daemon, None), "NTLM as bob", &daemon);
    // The identity service logs on to the DC with the new password.
    let flushed = daemon.adjoin(&["cache", "flush"]);
    succeeded(&flushed, "adjoin cache flush", &daemon);
    let carol = daemon.adjoin_json(&["find-user", "carol"]);
    assert!(carol.to_string().contains("carol"), "{carol}");
    let _ = lab.samba_tool(&["computer", "delete", "ROTOR"]);
}
