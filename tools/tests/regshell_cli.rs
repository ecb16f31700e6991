//! regshell end to end: the issue's acceptance commands, run through the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const TEST_KEY: &str = r"HKEY_THIS_MACHINE\Services\test";

/// A store in a fresh temporary directory.
struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("registry.db")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs regshell with `--db` and `args`.
    fn run(&self, args: &[&str]) -> Output {
        regshell()
            .arg("--db")
            .arg(self.db())
            .args(args)
            .output()
            .expect("run regshell")
    }

    /// Runs regshell and requires success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "regshell {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs regshell and requires failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "regshell {args:?} should have failed"
        );
        let err = String::from_utf8(out.stderr).expect("utf-8 output");
        assert!(!err.trim().is_empty(), "no message for a failing {args:?}");
        err
    }
}

fn regshell() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regshell"));
    cmd.env_remove("ADJOIN_REGISTRY").stdin(Stdio::null());
    cmd
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn set_then_get_prints_the_value() {
    let s = Store::new();
    s.ok(&["set_value", TEST_KEY, "Greeting", "REG_SZ", "hello"]);
    assert_eq!(s.ok(&["get_value", TEST_KEY, "Greeting"]), "hello\n");
    assert_eq!(
        s.ok(&["get_value", r"hkey_this_machine\SERVICES\TEST", "greeting"]),
        "hello\n"
    );
}

/// Sets one value of every type (two for strings: plain and with a line break).
fn fill(s: &Store, key: &str) {
    s.ok(&["set_value", key, "Sz", "REG_SZ", r#"C:\path "quoted" é"#]);
    s.ok(&["set_value", key, "SzLines", "REG_SZ", "two\nlines"]);
    s.ok(&["set_value", key, "", "REG_SZ", "the default value"]);
    s.ok(&["set_value", key, "Expand", "REG_EXPAND_SZ", "%HOME%/x"]);
    s.ok(&["set_value", key, "Dword", "REG_DWORD", "0xdeadbeef"]);
    s.ok(&[
        "set_value",
        key,
        "Qword",
        "REG_QWORD",
        "18446744073709551615",
    ]);
    s.ok(&[
        "set_value",
        key,
        "Multi",
        "REG_MULTI_SZ",
        "one",
        "two",
        "three",
    ]);
    s.ok(&["set_value", key, "MultiEmpty", "REG_MULTI_SZ"]);
    s.ok(&[
        "set_value",
        key,
        "Binary",
        "REG_BINARY",
        &"0123456789abcdef".repeat(20),
    ]);
    s.ok(&["set_value", key, "BinaryEmpty", "REG_BINARY"]);
}

#[test]
fn export_import_export_is_identical_for_every_type() {
    let s = Store::new();
    fill(&s, TEST_KEY);
    fill(&s, r"HKEY_THIS_MACHINE\Secrets\Test");
    let first = s.file("first.reg");
    s.ok(&["export", path_str(&first)]);

    let empty = Store::new();
    empty.ok(&["import", path_str(&first)]);
    let second = empty.file("second.reg");
    empty.ok(&["export", path_str(&second)]);
    let (a, b) = (
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
    );
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    for ty in [
        "dword:", "hex(b):", "hex(2):", "hex(7):", "hex:", "hex(1):", "@=",
    ] {
        assert!(
            String::from_utf8_lossy(&a).contains(ty),
            "export lacks {ty}"
        );
    }
    // Export of one key to stdout matches the same key's export from the copy.
    assert_eq!(
        s.ok(&["export", TEST_KEY, "-"]),
        empty.ok(&["export", TEST_KEY, "-"])
    );
}

#[test]
fn get_value_formats_each_type() {
    let s = Store::new();
    fill(&s, TEST_KEY);
    assert_eq!(s.ok(&["get_value", TEST_KEY, "Dword"]), "3735928559\n");
    assert_eq!(s.ok(&["get_value", TEST_KEY, "Multi"]), "one\ntwo\nthree\n");
    assert_eq!(s.ok(&["get_value", TEST_KEY, ""]), "the default value\n");
    assert!(
        s.ok(&["list_values", TEST_KEY])
            .contains("Qword\tREG_QWORD\t18446744073709551615")
    );
}

#[test]
fn errors_exit_non_zero_with_a_message() {
    let s = Store::new();
    assert!(
        s.fails(&["get_value", TEST_KEY, "Nope"])
            .contains("not found")
    );
    assert!(s.fails(&["frobnicate"]).contains("unknown command"));
    assert!(
        s.fails(&["get_value", TEST_KEY])
            .contains("usage: get_value KEY NAME")
    );
    assert!(
        s.fails(&["set_value", TEST_KEY, "x", "REG_NONE", "1"])
            .contains("unknown value type")
    );
    assert!(
        s.fails(&["set_value", TEST_KEY, "x", "REG_DWORD", "-1"])
            .contains("not a number")
    );
    let err = s.fails(&[
        "set_value",
        r"HKEY_THIS_MACHINE\Kerberos",
        "ClockSkewSeconds",
        "REG_DWORD",
        "3601",
    ]);
    assert!(err.contains("0..=3600"), "{err}");
    assert_eq!(
        s.ok(&[
            "get_value",
            r"HKEY_THIS_MACHINE\Kerberos",
            "ClockSkewSeconds"
        ]),
        "300\n"
    );
    assert!(
        s.fails(&["delete_key", r"HKEY_THIS_MACHINE\Missing"])
            .contains("key not found")
    );
    assert!(
        s.fails(&["list_keys", r"HKEY_LOCAL_MACHINE\x"])
            .contains("HKEY_THIS_MACHINE")
    );
}

#[test]
fn malformed_import_names_line_and_column_and_changes_nothing() {
    let s = Store::new();
    s.ok(&["set_value", TEST_KEY, "keep", "REG_DWORD", "1"]);
    let before = s.ok(&["export", "-"]);
    let bad = s.file("bad.reg");
    std::fs::write(
        &bad,
        "Windows Registry Editor Version 5.00\n\n[-HKEY_THIS_MACHINE\\Services]\n[HKEY_THIS_MACHINE\\New]\n\"ok\"=dword:00000001\n\"bad\"=hex(b):01,02\n",
    )
    .unwrap();
    let err = s.fails(&["import", path_str(&bad)]);
    assert!(err.contains("line 6, column 7"), "{err}");
    assert_eq!(s.ok(&["export", "-"]), before);
}

#[test]
fn key_commands() {
    let s = Store::new();
    s.ok(&["add_key", r"HKEY_THIS_MACHINE\A\B\C"]);
    assert_eq!(s.ok(&["list_keys", r"HKEY_THIS_MACHINE\A"]), "B\n");
    assert!(
        s.fails(&["delete_key", r"HKEY_THIS_MACHINE\A"])
            .contains("subkeys")
    );
    s.ok(&["delete_key", r"HKEY_THIS_MACHINE\A\B\C"]);
    s.ok(&["set_value", r"HKEY_THIS_MACHINE\A\B", "v", "REG_SZ", "x"]);
    s.ok(&["delete_value", r"HKEY_THIS_MACHINE\A\B", "v"]);
    assert_eq!(s.ok(&["list_values", r"HKEY_THIS_MACHINE\A\B"]), "");
    s.ok(&["delete_tree", r"HKEY_THIS_MACHINE\A"]);
    assert_eq!(s.ok(&["list_keys"]), "");
}

#[test]
fn file_mode_runs_a_script_and_stops_at_the_first_error() {
    let s = Store::new();
    let script = s.file("cmds");
    std::fs::write(
        &script,
        "# comment\n\nadd_key HKEY_THIS_MACHINE\\Services\ncd HKEY_THIS_MACHINE\\Services\nset_value test Greeting REG_SZ 'hello world'\ncd test\npwd\nget_value . Greeting\nls\nget_value . Missing\nset_value . After REG_SZ never\n",
    )
    .unwrap();
    let out = regshell()
        .arg("--db")
        .arg(s.db())
        .arg("--file")
        .arg(&script)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "HKEY_THIS_MACHINE\\Services\\test\nhello world\nGreeting\tREG_SZ\thello world\n"
        ),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":10:"), "{stderr}");
    assert!(
        s.fails(&["get_value", TEST_KEY, "After"])
            .contains("not found")
    );
}

#[test]
fn store_path_from_environment() {
    let s = Store::new();
    let out = regshell()
        .env("ADJOIN_REGISTRY", s.db())
        .args(["set_value", TEST_KEY, "x", "REG_DWORD", "7"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(s.ok(&["get_value", TEST_KEY, "x"]), "7\n");
}

#[test]
fn import_from_stdin() {
    let s = Store::new();
    let mut child = regshell()
        .arg("--db")
        .arg(s.db())
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_THIS_MACHINE\\Services\\test]\r\n\"x\"=\"from stdin\"\r\n";
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert_eq!(s.ok(&["get_value", TEST_KEY, "x"]), "from stdin\n");
}

#[test]
fn an_export_with_secrets_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let s = Store::new();
    s.ok(&[
        "set_value",
        r"HKEY_THIS_MACHINE\Secrets\MachineAccount",
        "Password",
        "REG_SZ",
        "s3cret",
    ]);
    s.ok(&[
        "set_value",
        r"HKEY_THIS_MACHINE\Services\test",
        "Greeting",
        "REG_SZ",
        "hello",
    ]);
    let all = s.file("all.reg");
    s.ok(&["export", path_str(&all)]);
    let mode = std::fs::metadata(&all).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the export holds the machine password");
    let public = s.file("public.reg");
    s.ok(&["export", r"HKEY_THIS_MACHINE\Services", path_str(&public)]);
    let mode = std::fs::metadata(&public).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o044, 0o044, "public configuration stays readable");
}
