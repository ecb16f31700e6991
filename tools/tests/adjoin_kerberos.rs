//! `adjoin kinit / klist / kvno` against the lab KDC, checked with MIT's own tools: what
//! Adjoin writes MIT reads and uses, and what MIT writes Adjoin reads and uses.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use adjoin_tests::Lab;

fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        writeln!(pipe, "{input}").unwrap();
    }
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "failed: {}\n{out}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn adjoin(lab: &Lab) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_adjoin"));
    c.env("KRB5_CONFIG", &lab.krb5_config);
    c
}

fn mit(lab: &Lab, tool: &str, cache: &Path) -> Command {
    let mut c = Command::new(tool);
    c.env("KRB5_CONFIG", &lab.krb5_config)
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()));
    c
}

#[test]
fn mit_klist_and_kvno_use_the_cache_adjoin_kinit_wrote() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cc");
    let principal = format!("alice@{}", lab.realm);
    ok(&run(
        adjoin(&lab)
            .args([
                "kinit",
                &principal,
                "--password-stdin",
                "--kdc",
                &lab.dc,
                "-c",
            ])
            .arg(&cache),
        Some(&lab.password("alice")),
    ));
    let listed = ok(&run(&mut mit(&lab, "klist", &cache), None));
    assert!(
        listed.contains(&format!("Default principal: {principal}")),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("krbtgt/{0}@{0}", lab.realm)),
        "{listed}"
    );
    // MIT kvno must use Adjoin's TGT to get a service ticket: proof the TGT is real.
    let spn = format!("cifs/{}", lab.dc_name);
    let kvno = ok(&run(mit(&lab, "kvno", &cache).arg(&spn), None));
    assert!(kvno.contains("kvno = "), "{kvno}");
    let listed = ok(&run(&mut mit(&lab, "klist", &cache), None));
    assert!(listed.contains(&spn), "{listed}");
}

#[test]
fn adjoin_klist_and_kvno_use_the_cache_mit_kinit_wrote() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cc");
    ok(&run(
        mit(&lab, "kinit", &cache).arg("bob"),
        Some(&lab.password("bob")),
    ));
    let listed = ok(&run(adjoin(&lab).args(["klist", "-c"]).arg(&cache), None));
    assert!(
        listed.contains(&format!("Default principal: bob@{}", lab.realm)),
        "{listed}"
    );
    let spn = format!("host/{}", lab.dc_name);
    let kvno = ok(&run(
        adjoin(&lab)
            .args(["kvno", "--kdc", &lab.dc, "-c"])
            .arg(&cache)
            .arg(&spn),
        None,
    ));
    assert!(
        kvno.starts_with(&format!("{spn}@{}: kvno = ", lab.realm)),
        "{kvno}"
    );
    // MIT sees the ticket Adjoin added, and agrees on its kvno.
    let mit_kvno = ok(&run(mit(&lab, "kvno", &cache).arg(&spn), None));
    assert_eq!(kvno.trim(), mit_kvno.trim());
    let listed = ok(&run(&mut mit(&lab, "klist", &cache), None));
    assert!(listed.contains(&spn), "{listed}");
}

#[test]
fn adjoin_kvno_of_an_unknown_spn_is_one_clear_line() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cc");
    ok(&run(
        mit(&lab, "kinit", &cache).arg("bob"),
        Some(&lab.password("bob")),
    ));
    let out = run(
        adjoin(&lab)
            .args(["kvno", "--kdc", &lab.dc, "-c"])
            .arg(&cache)
            .arg("nosuch/service"),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn adjoin_kinit_with_a_wrong_password_writes_nothing() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cc");
    let out = run(
        adjoin(&lab)
            .args([
                "kinit",
                &format!("alice@{}", lab.realm),
                "--password-stdin",
                "--kdc",
                &lab.dc,
            ])
            .arg("-c")
            .arg(&cache),
        Some("not-her-password"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
    assert!(!cache.exists());
}

#[test]
fn adjoin_klist_k_reads_a_keytab_mit_ktutil_wrote() {
    // auth/testdata/ktutil.keytab was made with MIT ktutil (see auth/testdata/README.md).
    let keytab = adjoin_tests::repo_root().join("auth/testdata/ktutil.keytab");
    let out = Command::new(env!("CARGO_BIN_EXE_adjoin"))
        .args(["klist", "-k"])
        .arg(&keytab)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = v.as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .any(|e| e["etype"] == "AES256_CTS_HMAC_SHA1_96"),
        "{v}"
    );
    assert!(
        entries.iter().all(|e| e["principal"]
            .as_str()
            .is_some_and(|p| p.ends_with("@EXAMPLE.TEST"))),
        "{v}"
    );
}
