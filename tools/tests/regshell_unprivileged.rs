//! Secrets are enforced by file permissions: run regshell as `nobody` against a store root
//! wrote. Public values read fine; secret values fail with a permission error.
//!
//! Must run as root (CI does): it needs to create root-owned files and switch to uid 65534
//! with `setpriv`. Run as another user it fails loudly instead of passing vacuously.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const NOBODY: &str = "65534";

/// The effective uid of this process (owner of /proc/self).
fn euid() -> u32 {
    fs::metadata("/proc/self").expect("/proc/self").uid()
}

fn as_root(bin: &Path, db: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run regshell")
}

fn as_nobody(bin: &Path, db: &Path, args: &[&str]) -> Output {
    Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"])
        .arg(bin)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("ADJOIN_REGISTRY")
        .env("HOME", "/nonexistent")
        .stdin(Stdio::null())
        .output()
        .expect("run setpriv (util-linux)")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn nobody_reads_public_values_but_not_secrets() {
    assert_eq!(
        euid(),
        0,
        "this test must run as root: it checks that uid 65534 cannot read root's secret file"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod tempdir");
    // A copy of the binary that nobody can execute wherever the target directory lives.
    let bin = dir.path().join("regshell");
    fs::copy(env!("CARGO_BIN_EXE_regshell"), &bin).expect("copy regshell");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod regshell");
    let db = dir.path().join("registry.db");

    let public = r"HKEY_THIS_MACHINE\Join";
    let secret = r"HKEY_THIS_MACHINE\Secrets\MachineAccount";
    for (key, name, value) in [
        (public, "Fqdn", "host1.corp.example.com"),
        (secret, "Password", "s3cret!"),
    ] {
        let out = as_root(&bin, &db, &["set_value", key, name, "REG_SZ", value]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o644);
    assert_eq!(mode(&dir.path().join("registry-secret.db")), 0o600);

    let out = as_nobody(&bin, &db, &["get_value", public, "Fqdn"]);
    assert!(
        out.status.success(),
        "public read as nobody failed: {}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "host1.corp.example.com\n");

    let out = as_nobody(&bin, &db, &["get_value", secret, "Password"]);
    assert!(
        !out.status.success(),
        "nobody read a secret: {}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("permission denied"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("s3cret"));

    let out = as_nobody(&bin, &db, &["list_values", secret]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("permission denied"));

    // Key names stay listable; schema defaults still work; writes are refused.
    let out = as_nobody(&bin, &db, &["list_keys", r"HKEY_THIS_MACHINE\Secrets"]);
    assert_eq!(text(&out.stdout), "MachineAccount\n");
    let out = as_nobody(
        &bin,
        &db,
        &[
            "get_value",
            r"HKEY_THIS_MACHINE\Kerberos",
            "ClockSkewSeconds",
        ],
    );
    assert_eq!(text(&out.stdout), "300\n");
    let out = as_nobody(&bin, &db, &["set_value", public, "Fqdn", "REG_SZ", "evil"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("permission denied"),
        "{}",
        text(&out.stderr)
    );

    // Root still reads everything, and nothing nobody tried changed the store.
    let out = as_root(&bin, &db, &["get_value", secret, "Password"]);
    assert_eq!(text(&out.stdout), "s3cret!\n");
    let out = as_root(&bin, &db, &["get_value", public, "Fqdn"]);
    assert_eq!(text(&out.stdout), "host1.corp.example.com\n");
}
