//! The secure channel's commands against the lab DC: `adjoin authenticate-user --ntlm`
//! (MS-NRPC 3.1.4 secure channel, 3.3 Netlogon SSP sealing, 3.5.4.5.1 NetrLogonSamLogonEx),
//! `adjoin lookup` (MS-LSAT LookupNames4/LookupSids3), `adjoin logon-bench` and
//! `adjoin dcname` (MS-NRPC 3.5.4.3.1 DsrGetDcNameEx2). The machine is joined with
//! `domain-join`; answers are checked against the DC's own tools (ldbsearch, samba-tool).

use std::path::Path;
use std::process::Output;

use adjoin_tests::{Lab, run_tool as run, text};

/// The objectSid the DC's database holds for `account`.
fn authenticate(lab: &Lab, reg: &Path, user: &str, password: &str, json: bool) -> Output {
    let mut args = vec![
        "authenticate-user",
        "--ntlm",
        user,
        "--password-stdin",
        "--dns-server",
        &lab.dc,
    ];
    if json {
        args.push("--json");
    }
    run(env!("CARGO_BIN_EXE_adjoin"), reg, &args, password)
}

#[test]
fn ms_nrpc_network_logon_through_the_secure_channel() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        "ntlmtest.example.test",
        &["--keytab", kt.to_str().unwrap()],
    );

    // alice: her SID and the engineers group, as the DC's database has them.
    let out = authenticate(&lab, &reg, r"EXAMPLE\alice", &lab.password("alice"), true);
    assert!(out.status.success(), "alice: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sid"], lab.object_sid("alice").as_str(), "{v}");
    let groups: Vec<&str> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g.as_str())
        .collect();
    let engineers = lab.object_sid("engineers");
    assert!(
        groups.contains(&engineers.as_str()),
        "{engineers} not in {groups:?}"
    );
    assert_eq!(v["user"], r"EXAMPLE\alice");
    // Names from LSA LookupSids3 over the same secure channel.
    assert_eq!(v["names"][engineers.as_str()], r"EXAMPLE\engineers", "{v}");
    assert_eq!(
        v["names"][lab.object_sid("alice").as_str()],
        r"EXAMPLE\alice"
    );
    // The text form names the same SID.
    let plain = authenticate(&lab, &reg, "alice", &lab.password("alice"), false);
    assert!(text(&plain.stdout).contains(&lab.object_sid("alice")));

    // Each refusal with its own message.
    for (user, password, expected) in [
        (
            r"EXAMPLE\bob",
            "not-bobs-password",
            "wrong password (STATUS_WRONG_PASSWORD)",
        ),
        (
            r"EXAMPLE\dave",
            lab.password("dave").as_str(),
            "STATUS_ACCOUNT_DISABLED",
        ),
        (
            r"EXAMPLE\carol",
            lab.password("carol").as_str(),
            "STATUS_PASSWORD_MUST_CHANGE",
        ),
        (r"EXAMPLE\nobody-here", "x", "STATUS_NO_SUCH_USER"),
    ] {
        let out = authenticate(&lab, &reg, user, password, false);
        assert!(!out.status.success(), "{user} logged on");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{user}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            !err.contains(password) || password.len() < 3,
            "password echoed: {err}"
        );
    }

    // The load generator: every timed logon verified, the wrong-password check done.
    let bench = run(
        env!("CARGO_BIN_EXE_adjoin"),
        &reg,
        &[
            "logon-bench",
            "alice",
            "--password-stdin",
            "--dns-server",
            &lab.dc,
            "--count",
            "40",
            "--concurrency",
            "3",
            "--json",
        ],
        &lab.password("alice"),
    );
    assert!(
        bench.status.success(),
        "logon-bench: {}",
        text(&bench.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&bench.stdout).unwrap();
    assert_eq!(v["logons"], 40, "{v}");
    assert_eq!(v["concurrency"], 3);
    assert_eq!(v["secure_channel_establishments"], 1);
    assert!(
        v["wrong_password_status"]
            .as_str()
            .unwrap()
            .contains("STATUS_WRONG_PASSWORD")
    );
    let bench = run(
        env!("CARGO_BIN_EXE_adjoin"),
        &reg,
        &[
            "logon-bench",
            "bob",
            "--password-stdin",
            "--dns-server",
            &lab.dc,
        ],
        "not-bobs-password",
    );
    assert!(!bench.status.success());
    assert!(text(&bench.stderr).contains("STATUS_WRONG_PASSWORD"));

    // MS-LSAT LookupNames4 / LookupSids3 through the secure channel, against ldbsearch.
    let alice_sid = lab.object_sid("alice");
    let out = run(
        env!("CARGO_BIN_EXE_adjoin"),
        &reg,
        &[
            "lookup",
            r"EXAMPLE\engineers",
            &alice_sid,
            "zoë@example.test",
            "--json",
            "--dns-server",
            &lab.dc,
        ],
        "",
    );
    assert!(out.status.success(), "lookup: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["sid"], engineers.as_str(), "{v}");
    assert_eq!(v[0]["type"], "group");
    assert_eq!(v[1]["name"], r"EXAMPLE\alice");
    assert_eq!(v[1]["type"], "user");
    // A UPN: her SID, and her account name (not the UPN behind the domain).
    assert_eq!(v[2]["sid"], lab.object_sid("zoë").as_str(), "{v}");
    assert_eq!(v[2]["name"], r"EXAMPLE\zoë", "{v}");
    let out = run(
        env!("CARGO_BIN_EXE_adjoin"),
        &reg,
        &["lookup", "no-such-account-here", "--dns-server", &lab.dc],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not found in the domain: no-such-account-here"));

    // DsrGetDcNameEx2 agrees with samba-tool domain info (a CLDAP ping of its own).
    let out = run(
        env!("CARGO_BIN_EXE_adjoin"),
        &reg,
        &["dcname", "--json", "--dns-server", &lab.dc],
        "",
    );
    assert!(out.status.success(), "dcname: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let info = lab.samba_domain_info();
    for key in ["DC name", "Domain", "Forest", "Server site", "Client site"] {
        let want = &info.iter().find(|(k, _)| k == key).unwrap().1;
        assert_eq!(v[key], want.as_str(), "{key}: {v}");
    }
    assert_eq!(v["DC address"], lab.dc.as_str());
    let out = run(
        env!("CARGO_BIN_EXE_adjoin"),
        &reg,
        &["dcname", "no-such-domain.test", "--dns-server", &lab.dc],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("ERROR_NO_SUCH_DOMAIN"));

    let _ = lab.samba_tool(&["computer", "delete", "NTLMTEST"]);
}

#[test]
fn not_joined_is_a_clear_error() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let out = authenticate(&lab, &dir.path().join("registry.db"), "alice", "x", false);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not joined"),
        "{}",
        text(&out.stderr)
    );
}
