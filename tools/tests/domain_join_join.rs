//! `domain-join join / query / leave` against the lab DC, checked with tools nobody here
//! wrote: MIT `kinit -k` and `klist -k` on the keytab, `samba-tool computer show` and
//! `ldbsearch` on the directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use adjoin_tests::{Lab, run_tool, text};

/// Runs domain-join with its own registry, the lab's DNS and the admin password on stdin.
fn domain_join(_lab: &Lab, registry: &Path, args: &[&str], password: &str) -> Output {
    run_tool(env!("CARGO_BIN_EXE_domain-join"), registry, args, password)
}

fn samba_tool(lab: &Lab, args: &[&str]) -> Output {
    Command::new("samba-tool")
        .args(args)
        .args([
            "-H",
            &format!("{}/private/sam.ldb", lab.dir),
            "-s",
            &format!("{}/etc/smb.conf", lab.dir),
        ])
        .output()
        .unwrap()
}

/// Removes a computer account left by an earlier run.
fn forget(lab: &Lab, netbios: &str) {
    let _ = samba_tool(lab, &["computer", "delete", netbios]);
}

/// MIT `klist -k -e` of `keytab`.
fn klist_k(lab: &Lab, keytab: &str) -> String {
    let out = Command::new("klist")
        .args(["-k", "-e", keytab])
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .unwrap();
    text(&out.stdout)
}

fn join_args<'a>(lab: &'a Lab, name: &'a str, keytab: &'a str) -> Vec<&'a str> {
    vec![
        "join",
        &lab.domain,
        &lab.admin,
        "--name",
        name,
        "--dns-server",
        &lab.dc,
        "--keytab",
        keytab,
        "--password-stdin",
    ]
}

#[test]
fn ms_adts_join_then_mit_kinit_k_then_leave_delete() {
    let lab = Lab::get();
    forget(&lab, "FOO");
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let kt_s = kt.to_str().unwrap();

    // The OS hostname plays no part: the name is unrelated to `hostname`.
    let out = domain_join(
        &lab,
        &reg,
        &join_args(&lab, "foo.example.test", kt_s),
        &lab.admin_password,
    );
    assert!(out.status.success(), "join failed: {}", text(&out.stderr));

    // MIT kinit with the keytab Adjoin wrote.
    let kinit = lab.mit_kinit_k(Path::new(kt_s), "FOO", dir.path());
    assert!(
        kinit.status.success(),
        "MIT kinit -k: {}",
        text(&kinit.stderr)
    );

    // klist -k lists aes256 and aes128 (and no rc4) for every principal.
    let listed = klist_k(&lab, kt_s);
    for p in [
        "FOO$@",
        "host/FOO@",
        "host/foo.example.test@",
        "RestrictedKrbHost/FOO@",
        "RestrictedKrbHost/foo.example.test@",
    ] {
        for e in ["aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"] {
            assert!(
                listed.lines().any(|l| l.contains(p) && l.contains(e)),
                "{p} {e} missing from klist -k:\n{listed}"
            );
        }
    }
    assert!(
        !listed.contains("arcfour"),
        "rc4 only when asked:\n{listed}"
    );

    // samba-tool shows the dNSHostName and the four SPNs.
    let show = samba_tool(&lab, &["computer", "show", "FOO"]);
    let shown = text(&show.stdout);
    assert!(shown.contains("dNSHostName: foo.example.test"), "{shown}");
    for spn in [
        "host/FOO",
        "host/foo.example.test",
        "RestrictedKrbHost/FOO",
        "RestrictedKrbHost/foo.example.test",
    ] {
        assert!(
            shown.contains(&format!("servicePrincipalName: {spn}")),
            "{spn}:\n{shown}"
        );
    }

    // query reads the registry.
    let q = domain_join(&lab, &reg, &["query", "--json"], "");
    let v: serde_json::Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(v["Fqdn"], "foo.example.test");
    assert_eq!(v["NetbiosName"], "FOO");
    assert_eq!(v["Realm"], lab.realm.as_str());
    assert!(
        v["KeyVersionNumber"].is_u64() && v["JoinTime"].is_u64(),
        "{v}"
    );
    assert!(
        v["DomainSid"]
            .as_str()
            .is_some_and(|s| s.starts_with("S-1-5-21-"))
    );

    // A second join of the same name without --reuse-account fails and changes nothing.
    let before = std::fs::read(&kt).unwrap();
    let again = domain_join(
        &lab,
        &reg,
        &join_args(&lab, "foo.example.test", kt_s),
        &lab.admin_password,
    );
    assert_eq!(again.status.code(), Some(1));
    let err = text(&again.stderr);
    assert!(
        err.contains("already exists") && err.contains("--reuse-account"),
        "{err}"
    );
    assert_eq!(std::fs::read(&kt).unwrap(), before, "keytab unchanged");

    // leave --delete removes the object, the keytab entries and the join state.
    let leave = domain_join(
        &lab,
        &reg,
        &[
            "leave",
            &lab.admin,
            "--delete",
            "--dns-server",
            &lab.dc,
            "--password-stdin",
        ],
        &lab.admin_password,
    );
    assert!(leave.status.success(), "leave: {}", text(&leave.stderr));
    assert!(
        !samba_tool(&lab, &["computer", "show", "FOO"])
            .status
            .success(),
        "object deleted"
    );
    let q = domain_join(&lab, &reg, &["query"], "");
    assert_eq!(q.status.code(), Some(1), "no join state left");
    let listed = klist_k(&lab, kt_s);
    assert!(!listed.contains("FOO$"), "keytab entries removed");
}

/// The line users type first: no command (join is the default), no domain (the name's),
/// no user (Administrator).
#[test]
fn domain_join_with_only_a_name_joins_its_domain_as_administrator() {
    let lab = Lab::get();
    forget(&lab, "BARE");
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let kt_s = kt.to_str().unwrap();
    let name = format!("bare.{}", lab.domain);
    let out = domain_join(
        &lab,
        &reg,
        &[
            "--name",
            &name,
            "--dns-server",
            &lab.dc,
            "--keytab",
            kt_s,
            "--password-stdin",
        ],
        &lab.admin_password,
    );
    assert!(out.status.success(), "join: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("BARE$"), "{}", text(&out.stdout));
    let kinit = lab.mit_kinit_k(Path::new(kt_s), "BARE", dir.path());
    assert!(
        kinit.status.success(),
        "MIT kinit -k: {}",
        text(&kinit.stderr)
    );
    let shown = text(&samba_tool(&lab, &["computer", "show", "BARE"]).stdout);
    assert!(shown.contains(&format!("dNSHostName: {name}")), "{shown}");
    // The join remembered how it reached the domain: no --dns-server needed from here on.
    let test = domain_join(&lab, &reg, &["testjoin"], "");
    assert!(test.status.success(), "testjoin: {}", text(&test.stderr));
    let leave = domain_join(
        &lab,
        &reg,
        &["leave", &lab.admin, "--delete", "--password-stdin"],
        &lab.admin_password,
    );
    assert!(leave.status.success(), "leave: {}", text(&leave.stderr));
    // A name without its domain says what to give instead.
    let out = domain_join(&lab, &reg, &["--name", "bare", "--password-stdin"], "x");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a fully qualified host name"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn wrong_admin_password_leaves_nothing_behind() {
    let lab = Lab::get();
    forget(&lab, "BADPW");
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let out = domain_join(
        &lab,
        &reg,
        &join_args(&lab, "badpw.example.test", kt.to_str().unwrap()),
        "not-the-password",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("step 2 (log on as the administrator)") && err.contains("wrong password"),
        "{err}"
    );
    assert!(!kt.exists());
    assert!(
        !samba_tool(&lab, &["computer", "show", "BADPW"])
            .status
            .success()
    );
    assert_eq!(
        domain_join(&lab, &reg, &["query"], "").status.code(),
        Some(1)
    );
}

#[test]
fn non_admin_user_is_refused_and_nothing_is_left() {
    let lab = Lab::get();
    forget(&lab, "NOTADM");
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let mut args = join_args(&lab, "notadm.example.test", kt.to_str().unwrap());
    args[2] = "bob";
    let out = domain_join(&lab, &reg, &args, &lab.password("bob"));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("step 5 (create the computer account)") || err.contains("step 6"),
        "{err}"
    );
    assert!(!kt.exists());
    assert!(
        !samba_tool(&lab, &["computer", "show", "NOTADM"])
            .status
            .success(),
        "nothing left in AD: {err}"
    );
    assert_eq!(
        domain_join(&lab, &reg, &["query"], "").status.code(),
        Some(1)
    );
}

#[test]
fn unreachable_dc_is_named() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let out = domain_join(
        &lab,
        &reg,
        &[
            "join",
            &lab.domain,
            &lab.admin,
            "--name",
            "x.example.test",
            "--server",
            "127.0.0.9",
            "--no-keytab",
            "--password-stdin",
        ],
        &lab.admin_password,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("step 1 (discover a domain controller)"),
        "{err}"
    );
}

#[test]
fn rotate_bumps_the_kvno_and_mit_kinit_k_still_works() {
    let lab = Lab::get();
    forget(&lab, "ROTATE");
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let kt_s = kt.to_str().unwrap();
    let out = domain_join(
        &lab,
        &reg,
        &join_args(&lab, "rotate.example.test", kt_s),
        &lab.admin_password,
    );
    assert!(out.status.success(), "join: {}", text(&out.stderr));
    let kvno_in_ad = || {
        let out = Command::new("ldbsearch")
            .args([
                "-H",
                &format!("{}/private/sam.ldb", lab.dir),
                "(sAMAccountName=ROTATE$)",
                "msDS-KeyVersionNumber",
            ])
            .output()
            .unwrap();
        text(&out.stdout)
            .lines()
            .find_map(|l| {
                l.strip_prefix("msDS-KeyVersionNumber: ")
                    .map(|v| v.trim().parse::<u32>().unwrap())
            })
            .unwrap()
    };
    let before = kvno_in_ad();
    let rot = domain_join(&lab, &reg, &["rotate", "--dns-server", &lab.dc], "");
    assert!(rot.status.success(), "rotate: {}", text(&rot.stderr));
    let after = kvno_in_ad();
    assert_eq!(after, before + 1, "AD's key version went up by one");
    assert!(text(&rot.stdout).contains(&format!("new key version {after}")));

    // MIT kinit -k with the rotated keytab, which also keeps the previous kvno.
    let kinit = lab.mit_kinit_k(Path::new(kt_s), "ROTATE", dir.path());
    assert!(
        kinit.status.success(),
        "MIT kinit -k after rotate: {}",
        text(&kinit.stderr)
    );
    let listed = klist_k(&lab, kt_s);
    for v in [before, after] {
        assert!(
            listed
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{v} ROTATE$@"))),
            "kvno {v}:\n{listed}"
        );
    }
    let t = domain_join(&lab, &reg, &["testjoin", "--dns-server", &lab.dc], "");
    assert!(t.status.success(), "testjoin: {}", text(&t.stderr));

    // The default rotate went through NetrServerPasswordSet2; the secure channel now
    // opens with the new password from the registry (NetrServerAuthenticate3 checks it).
    let logon = run_tool(
        env!("CARGO_BIN_EXE_adjoin"),
        &reg,
        &[
            "authenticate-user",
            "--ntlm",
            "alice",
            "--password-stdin",
            "--dns-server",
            &lab.dc,
        ],
        &lab.password("alice"),
    );
    assert!(
        logon.status.success(),
        "logon after rotate: {}",
        text(&logon.stderr)
    );

    // The kpasswd way still works too, and AD counts it the same.
    let rot = domain_join(
        &lab,
        &reg,
        &["rotate", "--kpasswd", "--dns-server", &lab.dc],
        "",
    );
    assert!(
        rot.status.success(),
        "rotate --kpasswd: {}",
        text(&rot.stderr)
    );
    assert_eq!(kvno_in_ad(), after + 1);
    let kinit = lab.mit_kinit_k(Path::new(kt_s), "ROTATE", dir.path());
    assert!(kinit.status.success(), "{}", text(&kinit.stderr));
    let leave = domain_join(
        &lab,
        &reg,
        &[
            "leave",
            &lab.admin,
            "--delete",
            "--dns-server",
            &lab.dc,
            "--password-stdin",
        ],
        &lab.admin_password,
    );
    assert!(leave.status.success(), "leave: {}", text(&leave.stderr));
}

#[test]
fn setname_moves_dns_host_name_spns_and_keytab() {
    let lab = Lab::get();
    forget(&lab, "RENAME");
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let kt_s = kt.to_str().unwrap();
    let out = domain_join(
        &lab,
        &reg,
        &join_args(&lab, "rename.example.test", kt_s),
        &lab.admin_password,
    );
    assert!(out.status.success(), "join: {}", text(&out.stderr));
    let set = domain_join(
        &lab,
        &reg,
        &[
            "setname",
            "renamed.example.test",
            "--user",
            &lab.admin,
            "--password-stdin",
            "--dns-server",
            &lab.dc,
        ],
        &lab.admin_password,
    );
    assert!(set.status.success(), "setname: {}", text(&set.stderr));
    let shown = text(&samba_tool(&lab, &["computer", "show", "RENAME"]).stdout);
    assert!(
        shown.contains("dNSHostName: renamed.example.test"),
        "{shown}"
    );
    assert!(
        shown.contains("servicePrincipalName: host/renamed.example.test"),
        "{shown}"
    );
    assert!(!shown.contains("host/rename.example.test"), "{shown}");
    let listed = klist_k(&lab, kt_s);
    assert!(
        listed.contains("host/renamed.example.test@")
            && !listed.contains("host/rename.example.test@"),
        "{listed}"
    );
    let q = domain_join(&lab, &reg, &["query", "--json"], "");
    let v: serde_json::Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(v["Fqdn"], "renamed.example.test");
    let t = domain_join(&lab, &reg, &["testjoin", "--dns-server", &lab.dc], "");
    assert!(
        t.status.success(),
        "testjoin after setname: {}",
        text(&t.stderr)
    );
    let leave = domain_join(
        &lab,
        &reg,
        &[
            "leave",
            &lab.admin,
            "--delete",
            "--dns-server",
            &lab.dc,
            "--password-stdin",
        ],
        &lab.admin_password,
    );
    assert!(leave.status.success(), "leave: {}", text(&leave.stderr));
}

#[test]
fn one_time_password_joins_an_account_adcli_preset() {
    let lab = Lab::get();
    forget(&lab, "OTPJOIN");
    // The admin's side, with a tool nobody here wrote: adcli preset-computer.
    let mut preset = Command::new("adcli")
        .args([
            "preset-computer",
            &format!("--domain={}", lab.domain),
            &format!("--domain-controller={}", lab.dc),
        ])
        .args([
            &format!("--login-user={}", lab.admin),
            "--stdin-password",
            "--one-time-password=Otp-Lab-Secret-1",
            "otpjoin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(preset.stdin.take().unwrap(), "{}", lab.admin_password).unwrap();
    let preset = preset.wait_with_output().unwrap();
    assert!(
        preset.status.success(),
        "adcli preset-computer: {}",
        text(&preset.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    let kt_s = kt.to_str().unwrap();
    let out = domain_join(
        &lab,
        &reg,
        &[
            "join",
            &lab.domain,
            "--one-time-password",
            "--name",
            "otpjoin.example.test",
            "--dns-server",
            &lab.dc,
            "--keytab",
            kt_s,
            "--password-stdin",
        ],
        "Otp-Lab-Secret-1",
    );
    assert!(out.status.success(), "OTP join: {}", text(&out.stderr));
    let kinit = lab.mit_kinit_k(Path::new(kt_s), "OTPJOIN", dir.path());
    assert!(
        kinit.status.success(),
        "MIT kinit -k: {}",
        text(&kinit.stderr)
    );
    // The one-time password no longer works: the join replaced it.
    let again = domain_join(
        &lab,
        &reg,
        &[
            "join",
            &lab.domain,
            "--one-time-password",
            "--name",
            "otpjoin.example.test",
            "--dns-server",
            &lab.dc,
            "--no-keytab",
            "--password-stdin",
        ],
        "Otp-Lab-Secret-1",
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("step 2"),
        "{}",
        text(&again.stderr)
    );
    forget(&lab, "OTPJOIN");
}
