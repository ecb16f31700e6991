//! `adjoind`'s command line without a domain: help, and the one-line reasons it will not
//! start (not joined, an unreadable keytab), with exit status 1.

use std::process::Command;

use adjoin_tests::text;

fn adjoind(args: &[&str], registry: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_adjoind"))
        .args(args)
        .env("ADJOIN_REGISTRY", registry)
        .env("ADJOIN_LOG", "off")
        .output()
        .unwrap()
}

#[test]
fn help_names_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = adjoind(&["--help"], &dir.path().join("registry.db"));
    assert!(out.status.success());
    let help = text(&out.stdout);
    for option in ["--listen", "--keytab", "--dns-server", "--timeout"] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn an_unjoined_machine_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = adjoind(
        &["--listen", "127.0.0.1:0", "--keytab", "none"],
        &dir.path().join("registry.db"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("not joined") && err.contains("domain-join --name"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}
