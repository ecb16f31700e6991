//! Runs a command in a private mount namespace in which some of /etc is replaced by
//! private files (bind mounts), so NSS and PAM tests use their own nsswitch.conf and
//! /etc/pam.d without touching the host's. Needs root (the tests run as root).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `argv` with `env` set, after bind-mounting each `(private, target)` pair, in a
/// mount namespace of its own (`unshare --mount --propagation private`); `stdin` is fed
/// to it. Returns its output.
pub fn run_in_namespace(
    binds: &[(&Path, &Path)],
    env: &[(&str, &str)],
    argv: &[&str],
    stdin: Option<&[u8]>,
) -> Output {
    let mut script = String::from("set -e\n");
    for (i, _) in binds.iter().enumerate() {
        script.push_str(&format!("mount --bind \"$B{i}\" \"$T{i}\"\n"));
    }
    script.push_str("exec \"$@\"\n");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        "sh",
    ])
    .args(argv)
    .stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (i, (private, target)) in binds.iter().enumerate() {
        cmd.env(format!("B{i}"), private)
            .env(format!("T{i}"), target);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run unshare: {e}"));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let _ = pipe.write_all(input);
    }
    child
        .wait_with_output()
        .expect("wait for the namespaced command")
}
