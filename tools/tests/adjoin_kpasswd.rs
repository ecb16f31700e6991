//! `adjoin kpasswd` against the lab DC, driven through stdin and checked with MIT `kinit`:
//! a user changes their own password, an administrator sets another user's, and a
//! refused change says why.
//!
//! The users (kpwcliN) belong to these tests alone and live under the kpasswd tests' PSO
//! (no minimum password age), as in tests/tests/kpasswd.rs.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use adjoin_tests::{Lab, succeeded as ok};

fn run(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// A fresh user under the kpasswd tests' PSO; returns `user@REALM`.
fn fresh_user(lab: &Lab, user: &str, password: &str) -> String {
    lab.fresh_user(user, password, false);
    format!("{user}@{}", lab.realm)
}

fn adjoin_kpasswd(lab: &Lab, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_adjoin"));
    c.env("KRB5_CONFIG", &lab.krb5_config)
        .arg("kpasswd")
        .args(args)
        .args(["--password-stdin", "--kdc", &lab.dc]);
    run(&mut c, stdin)
}

/// MIT kinit with `password`, into a throwaway cache.
fn mit_kinit(lab: &Lab, principal: &str, password: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new("kinit");
    c.env("KRB5_CONFIG", &lab.krb5_config)
        .env(
            "KRB5CCNAME",
            format!("FILE:{}", dir.path().join("cc").display()),
        )
        .arg(principal);
    run(&mut c, &format!("{password}\n"))
}

#[test]
fn a_user_changes_their_password_and_mit_kinit_takes_the_new_one() {
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwcli1", "Kpw-Cli-Old1!");
    let out = adjoin_kpasswd(&lab, &[&user], "Kpw-Cli-Old1!\nKpw-Cli-New2!\n");
    ok(&out, "adjoin kpasswd");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("changed"), "{said}");
    assert!(!said.contains("Kpw-Cli"), "no password is echoed: {said}");
    ok(
        &mit_kinit(&lab, &user, "Kpw-Cli-New2!"),
        "MIT kinit, new password",
    );
    assert!(!mit_kinit(&lab, &user, "Kpw-Cli-Old1!").status.success());
}

#[test]
fn an_administrator_sets_a_password_with_set() {
    let lab = Lab::get();
    let target = fresh_user(&lab, "kpwcli2", "Kpw-Cli-Old1!");
    let admin = format!("{}@{}", lab.admin, lab.realm);
    let stdin = format!("{}\nKpw-Cli-Set3!\n", lab.admin_password);
    let out = adjoin_kpasswd(&lab, &[&admin, "--set", "kpwcli2"], &stdin);
    ok(&out, "adjoin kpasswd --set");
    ok(
        &mit_kinit(&lab, &target, "Kpw-Cli-Set3!"),
        "MIT kinit, set password",
    );
}

#[test]
fn a_refused_change_says_why() {
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwcli3", "Kpw-Cli-Old1!");
    let out = adjoin_kpasswd(&lab, &[&user], "Kpw-Cli-Old1!\nshort\n");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("does not meet the domain policy"), "{said}");
    assert!(said.contains("at least 7 characters"), "{said}");
    let out = adjoin_kpasswd(&lab, &[&user], "Wrong-Old-Pass1!\nKpw-Cli-New2!\n");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("current password given for"), "{said}");
    let out = adjoin_kpasswd(&lab, &[&user], "Kpw-Cli-Old1!\n");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("before the new password"), "{said}");
    ok(&mit_kinit(&lab, &user, "Kpw-Cli-Old1!"), "nothing changed");
}
