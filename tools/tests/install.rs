//! tools/install staged with --destdir: every file lands where docs/install.md says, with
//! mode 0755 (programs) or 0644 (modules, unit); --uninstall takes them away again.
//!
//! The script reads the artifacts from `$CARGO_TARGET_DIR/debug`; the test points that at
//! a directory of links to the programs this test run built, and to the NSS and PAM
//! modules if a build left them beside the programs (stand-ins otherwise: what is checked
//! here is where files go, not what they hold).

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PROGRAMS: [(&str, &str); 4] = [
    ("domain-join", env!("CARGO_BIN_EXE_domain-join")),
    ("regshell", env!("CARGO_BIN_EXE_regshell")),
    ("adjoin", env!("CARGO_BIN_EXE_adjoin")),
    ("adjoind", env!("CARGO_BIN_EXE_adjoind")),
];
const MODULES: [&str; 2] = ["libnss_adjoin.so", "libpam_adjoin.so"];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install")
}

/// A target directory whose `debug` holds the artifacts tools/install expects.
fn fake_target(root: &Path) -> PathBuf {
    let target = root.join("target");
    let debug = target.join("debug");
    fs::create_dir_all(&debug).expect("mkdir");
    for (name, built) in PROGRAMS {
        symlink(built, debug.join(name)).expect("link");
    }
    let built_dir = Path::new(PROGRAMS[0].1).parent().expect("target/debug");
    for name in MODULES {
        let built = built_dir.join(name);
        if built.is_file() {
            symlink(&built, debug.join(name)).expect("link");
        } else {
            fs::write(debug.join(name), b"stand-in").expect("write");
        }
    }
    target
}

fn install(target: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script())
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("run tools/install")
}

fn ok(target: &Path, args: &[&str]) -> String {
    let out = install(target, args);
    assert!(
        out.status.success(),
        "tools/install {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The one multiarch directory under DESTDIR/usr/lib.
fn libdir(destdir: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = fs::read_dir(destdir.join("usr/lib"))
        .expect("usr/lib")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().expect("one")
}

#[test]
fn staged_install_and_uninstall() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = fake_target(tmp.path());
    let destdir = tmp.path().join("stage");
    let dest = destdir.display().to_string();
    let out = ok(&target, &["--destdir", &dest, "--no-build"]);
    assert!(out.contains("adjoin configure nss --enable"), "{out}");
    assert!(out.contains("adjoin configure pam --enable"), "{out}");
    assert!(out.contains("systemctl enable --now adjoind"), "{out}");

    for (name, built) in PROGRAMS {
        let dir = if name == "adjoind" { "sbin" } else { "bin" };
        let path = destdir.join("usr/local").join(dir).join(name);
        assert_eq!(mode(&path), 0o755, "{}", path.display());
        assert_eq!(
            fs::metadata(&path).expect("stat").len(),
            fs::metadata(built).expect("stat").len()
        );
    }
    let lib = libdir(&destdir);
    assert!(
        lib.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains("-linux-")),
        "{}",
        lib.display()
    );
    for path in [
        lib.join("libnss_adjoin.so.2"),
        lib.join("security/pam_adjoin.so"),
    ] {
        assert_eq!(mode(&path), 0o644, "{}", path.display());
    }
    let unit = destdir.join("etc/systemd/system/adjoind.service");
    assert_eq!(mode(&unit), 0o644);
    let source = fs::read_to_string(script().with_file_name("adjoind.service")).expect("unit");
    assert_eq!(fs::read_to_string(&unit).expect("unit"), source);
    // No temporary files left behind.
    let stray = Command::new("find")
        .arg(&destdir)
        .args(["-name", "*.adjoin-new"])
        .output()
        .expect("find");
    assert!(stray.stdout.is_empty());

    let out = ok(&target, &["--destdir", &dest, "--uninstall"]);
    assert!(out.contains("Uninstalled"), "{out}");
    let left = Command::new("find")
        .arg(&destdir)
        .args(["-type", "f"])
        .output()
        .expect("find");
    assert!(
        left.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn prefix_moves_the_programs_and_the_unit_follows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = fake_target(tmp.path());
    let destdir = tmp.path().join("stage");
    let dest = destdir.display().to_string();
    ok(
        &target,
        &["--destdir", &dest, "--no-build", "--prefix", "/opt/adjoin"],
    );
    assert_eq!(mode(&destdir.join("opt/adjoin/sbin/adjoind")), 0o755);
    assert_eq!(mode(&destdir.join("opt/adjoin/bin/adjoin")), 0o755);
    let unit =
        fs::read_to_string(destdir.join("etc/systemd/system/adjoind.service")).expect("unit");
    assert!(
        unit.contains("\nExecStart=/opt/adjoin/sbin/adjoind\n"),
        "{unit}"
    );
}

#[test]
fn missing_artifacts_install_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = fake_target(tmp.path());
    fs::remove_file(target.join("debug/libpam_adjoin.so")).expect("rm");
    let destdir = tmp.path().join("stage");
    let out = install(
        &target,
        &["--destdir", &destdir.display().to_string(), "--no-build"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not built") && err.contains("libpam_adjoin.so"),
        "{err}"
    );
    assert!(!destdir.exists(), "nothing staged");
    // Unknown options and a relative prefix are refused.
    assert!(!install(&target, &["--bogus"]).status.success());
    assert!(
        !install(&target, &["--prefix", "usr", "--destdir", "x"])
            .status
            .success()
    );
}
