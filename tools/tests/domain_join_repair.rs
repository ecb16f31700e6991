//! `domain-join testjoin` and `repair` against the lab DC (issue 12 item 3): drift made
//! with `samba-tool` on the DC is reported with its fix, and `repair` mends what the
//! machine's own credentials can; MIT `klist -k` reads the keytab it writes.

use std::path::Path;
use std::process::{Command, Output};

use adjoin_join::join::{JOIN_KEY, SECRET_KEY};
use adjoin_registry::Registry;
use adjoin_tests::{Lab, run_tool, text};

fn domain_join(registry: &Path, args: &[&str]) -> Output {
    run_tool(env!("CARGO_BIN_EXE_domain-join"), registry, args, "")
}

/// The machine password the join stored (the tests run as root, like adjoind).
fn stored_password(registry: &Path) -> String {
    let reg = Registry::open(registry).unwrap();
    reg.stored_value(SECRET_KEY, "Password")
        .unwrap()
        .and_then(adjoin_registry::Value::into_string)
        .expect("a stored machine password")
}

fn klist_k(lab: &Lab, keytab: &Path) -> String {
    let out = Command::new("klist")
        .args(["-k", keytab.to_str().unwrap()])
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .unwrap();
    text(&out.stdout)
}

#[test]
fn testjoin_reports_a_keytab_behind_ad_and_missing_spns_and_repair_fixes_both() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        "drift.example.test",
        &["--keytab", kt.to_str().unwrap()],
    );
    let dns = ["--dns-server", lab.dc.as_str()];
    let check = |args: &[&str]| domain_join(&reg, &[args, &dns[..]].concat());
    let t = check(&["testjoin"]);
    assert!(
        t.status.success(),
        "a fresh join is sound: {}{}",
        text(&t.stdout),
        text(&t.stderr)
    );
    assert!(
        text(&t.stdout).contains("matches AD"),
        "{}",
        text(&t.stdout)
    );

    // Drift made on the DC: the same password set again (AD's kvno moves by one, the keys
    // stay), and the FQDN's host SPN removed.
    let pw = stored_password(&reg);
    let out = lab.samba_tool(&["user", "setpassword", "DRIFT$", "--newpassword", &pw]);
    assert!(
        out.status.success(),
        "samba-tool setpassword: {}",
        text(&out.stderr)
    );
    let out = lab.samba_tool(&["spn", "delete", "host/drift.example.test", "DRIFT$"]);
    assert!(
        out.status.success(),
        "samba-tool spn delete: {}",
        text(&out.stderr)
    );

    let t = check(&["testjoin", "--json"]);
    assert_eq!(
        t.status.code(),
        Some(1),
        "drift is exit status 1: {}",
        text(&t.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    let before = report["registry_kvno"].as_u64().unwrap();
    assert_eq!(report["ad_kvno"].as_u64(), Some(before + 1), "{report}");
    let kinds: Vec<&str> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["keytab-kvno", "registry-kvno", "missing-spns"],
        "{report}"
    );
    let t = check(&["testjoin"]);
    let said = text(&t.stdout);
    assert!(
        said.contains(&format!(
            "the keytab's newest key version is {before}, AD's is {}",
            before + 1
        )) && said.contains("host/drift.example.test")
            && said.contains("fix: `domain-join repair`"),
        "{said}"
    );

    let r = check(&["repair"]);
    assert!(
        r.status.success(),
        "repair: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    assert!(
        text(&r.stdout).contains("matches AD"),
        "{}",
        text(&r.stdout)
    );
    let listed = klist_k(&lab, &kt);
    assert!(
        listed.lines().any(|l| l
            .trim_start()
            .starts_with(&format!("{} DRIFT$@", before + 1))),
        "MIT klist -k shows the keys at AD's kvno:\n{listed}"
    );
    let spns = lab.samba_tool(&["spn", "list", "DRIFT$"]);
    assert!(
        text(&spns.stdout).contains("host/drift.example.test"),
        "{}",
        text(&spns.stdout)
    );
    let t = check(&["testjoin"]);
    assert!(
        t.status.success(),
        "sound after repair: {}",
        text(&t.stdout)
    );
    let _ = lab.samba_tool(&["computer", "delete", "DRIFT"]);
}

#[test]
fn a_password_reset_without_the_machine_needs_an_admin_and_repair_says_so() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        "reset.example.test",
        &["--no-keytab"],
    );
    let out = lab.samba_tool(&[
        "user",
        "setpassword",
        "RESET$",
        "--newpassword",
        "Not-the-machines-1",
    ]);
    assert!(
        out.status.success(),
        "samba-tool setpassword: {}",
        text(&out.stderr)
    );
    let dns = ["--dns-server", lab.dc.as_str()];
    for cmd in ["testjoin", "repair"] {
        let out = domain_join(&reg, &[&[cmd][..], &dns[..]].concat());
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", text(&out.stderr));
        let said = text(&out.stdout);
        assert!(
            said.contains("the KDC refuses the stored machine password")
                && said.contains("--reuse-account"),
            "{cmd}: {said}"
        );
    }
    let _ = lab.samba_tool(&["computer", "delete", "RESET"]);
}

/// A rotation that fails after the DC took the new password (here: the keytab cannot be
/// written) leaves the new password kept aside; testjoin reports it and repair records it,
/// so the machine never holds only a password AD no longer takes.
#[test]
fn a_rotation_interrupted_after_the_dc_took_the_password_is_completed_by_repair() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        "halfway.example.test",
        &["--keytab", kt.to_str().unwrap()],
    );
    let dns = ["--dns-server", lab.dc.as_str()];
    let run = |args: &[&str]| domain_join(&reg, &[args, &dns[..]].concat());
    let set_keytab = |path: &str| {
        Registry::open(&reg)
            .unwrap()
            .set_value(JOIN_KEY, "Keytab", &adjoin_registry::Value::Sz(path.into()))
            .unwrap();
    };
    let before = stored_password(&reg);
    set_keytab("/proc/adjoin-no-such-dir/krb5.keytab");
    let r = run(&["rotate"]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r.stdout));
    assert!(
        text(&r.stderr).contains("the keytab"),
        "{}",
        text(&r.stderr)
    );
    assert_eq!(stored_password(&reg), before, "the recorded password stays");
    set_keytab(kt.to_str().unwrap());

    let t = run(&["testjoin", "--json"]);
    assert_eq!(t.status.code(), Some(1), "{}", text(&t.stderr));
    let report: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    let kinds: Vec<&str> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"unrecorded-password") && kinds.contains(&"keytab-kvno"),
        "{report}"
    );
    let r = run(&["repair"]);
    assert!(
        r.status.success(),
        "repair: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    assert_ne!(
        stored_password(&reg),
        before,
        "the password in force is recorded"
    );
    let pending = Registry::open(&reg)
        .unwrap()
        .stored_value(SECRET_KEY, "PendingPassword")
        .unwrap();
    assert!(pending.is_none(), "nothing left pending");
    let kinit = lab.mit_kinit_k(&kt, "HALFWAY", dir.path());
    assert!(
        kinit.status.success(),
        "MIT kinit -k after repair: {}",
        text(&kinit.stderr)
    );
    let t = run(&["testjoin"]);
    assert!(
        t.status.success(),
        "sound after repair: {}",
        text(&t.stdout)
    );
    let _ = lab.samba_tool(&["computer", "delete", "HALFWAY"]);
}

/// MS-ADTS reuse of an existing account: once the join has replaced its password, a later
/// failure (here: the keytab cannot be written) keeps the new password in the registry
/// instead of leaving an account no key opens; repair then writes the keytab.
#[test]
fn a_reuse_join_that_fails_after_the_password_keeps_it_and_repair_finishes() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let fqdn = format!("retake.{}", lab.domain);
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        &fqdn,
        &["--no-keytab"],
    );
    let again = tempfile::tempdir().unwrap();
    let reg2 = again.path().join("registry.db");
    let out = run_tool(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg2,
        &[
            "join",
            &lab.domain,
            &lab.admin,
            "--name",
            &fqdn,
            "--reuse-account",
            "--keytab",
            "/proc/adjoin-no-such-dir/krb5.keytab",
            "--dns-server",
            &lab.dc,
            "--password-stdin",
        ],
        &lab.admin_password,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("step 9") && err.contains("keeps its new password"),
        "{err}"
    );
    Registry::open(&reg2)
        .unwrap()
        .set_value(
            JOIN_KEY,
            "Keytab",
            &adjoin_registry::Value::Sz(kt.to_str().unwrap().into()),
        )
        .unwrap();
    let dns = ["--dns-server", lab.dc.as_str()];
    let t = domain_join(&reg2, &[&["testjoin", "--json"][..], &dns[..]].concat());
    assert_eq!(t.status.code(), Some(1), "{}", text(&t.stderr));
    let report: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    assert_eq!(report["drift"][0]["kind"], "keytab-kvno", "{report}");
    let r = domain_join(&reg2, &[&["repair"][..], &dns[..]].concat());
    assert!(
        r.status.success(),
        "repair: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    let kinit = lab.mit_kinit_k(&kt, "RETAKE", again.path());
    assert!(
        kinit.status.success(),
        "MIT kinit -k: {}",
        text(&kinit.stderr)
    );
    let _ = lab.samba_tool(&["computer", "delete", "RETAKE"]);
}

/// The member tries the DC it last used first (`Join\DomainControllerAddress`, recorded at
/// join): with the recorded DNS servers dead, testjoin still reaches the domain; without
/// the recorded DC it names the DNS server that did not answer.
#[test]
fn the_recorded_dc_is_tried_first_and_found_while_dns_is_down() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        &format!("sticky.{}", lab.domain),
        &["--no-keytab", "--no-dns-update"],
    );
    let registry = Registry::open(&reg).unwrap();
    let recorded = registry
        .stored_value(JOIN_KEY, "DomainControllerAddress")
        .unwrap();
    assert_eq!(
        recorded,
        Some(adjoin_registry::Value::Sz(lab.dc.clone())),
        "the join recorded the DC's address"
    );
    registry
        .set_value(
            JOIN_KEY,
            "DnsServers",
            &adjoin_registry::Value::MultiSz(vec!["127.0.0.9".into()]),
        )
        .unwrap();
    let t = domain_join(&reg, &["testjoin"]);
    assert!(
        t.status.success(),
        "the recorded DC answers: {}{}",
        text(&t.stdout),
        text(&t.stderr)
    );
    registry
        .delete_value(JOIN_KEY, "DomainControllerAddress")
        .unwrap();
    let t = domain_join(&reg, &["testjoin"]);
    assert_eq!(t.status.code(), Some(1));
    assert!(text(&t.stderr).contains("127.0.0.9"), "{}", text(&t.stderr));
    let _ = lab.samba_tool(&["computer", "delete", "STICKY"]);
}
