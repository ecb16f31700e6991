//! `domain-join discover` as an admin runs it, against the lab DC, checked against
//! `samba-tool domain info` (Samba's own view of the same DC).

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use adjoin_tests::Lab;

fn domain_join(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_domain-join"))
        .args(args)
        .output()
        .expect("domain-join runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn discover_prints_what_samba_tool_domain_info_prints() {
    let lab = Lab::get();
    let out = domain_join(&["discover", &lab.domain, "--dns-server", &lab.dc]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for (key, value) in lab.samba_domain_info() {
        let line = text
            .lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(key.as_str()))
            .unwrap_or_else(|| panic!("no '{key}' line in:\n{text}"));
        assert!(line.ends_with(&value), "'{line}' should end with '{value}'");
    }
    assert!(text.contains("Domain GUID"), "{text}");
    assert!(text.contains("PDC GC LDAP DS KDC"), "{text}");
}

#[test]
fn discover_json_is_one_object_for_scripts() {
    let lab = Lab::get();
    let out = domain_join(&["discover", &lab.domain, "--dns-server", &lab.dc, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["dc_name"], lab.dc_name.as_str());
    assert_eq!(v["netbios_domain"], lab.netbios.as_str());
    assert_eq!(v["forest"], lab.domain.as_str());
    assert_eq!(v["dc_site"], "Default-First-Site-Name");
    assert!(v["domain_guid"].as_str().is_some_and(|g| g.len() == 36));
    assert!(
        v["flag_names"]
            .as_array()
            .is_some_and(|f| f.contains(&"KDC".into()))
    );
}

/// Each failure is one line on stderr, exit status 1, within the documented bound.
fn assert_one_line_failure(args: &[&str], expect: &str, bound: Duration) {
    let started = Instant::now();
    let out = domain_join(args);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.contains(expect), "'{expect}' not in: {err}");
    assert!(took <= bound, "{args:?} took {took:?}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn unreachable_dns_server_is_one_line_within_bound() {
    Lab::get();
    assert_one_line_failure(
        &["discover", "example.test", "--dns-server", "127.0.0.9"],
        "DNS server 127.0.0.9:53 did not answer",
        Duration::from_secs(6),
    );
}

#[test]
fn domain_without_srv_records_is_one_line() {
    let lab = Lab::get();
    assert_one_line_failure(
        &["discover", "nosuch.example.test", "--dns-server", &lab.dc],
        "no domain controllers for nosuch.example.test in DNS",
        Duration::from_secs(6),
    );
}

#[test]
fn dc_not_answering_cldap_is_one_line() {
    let lab = Lab::get();
    // 127.0.0.9 has no DC: the ping is refused at once.
    assert_one_line_failure(
        &[
            "discover",
            &lab.domain,
            "--dns-server",
            &lab.dc,
            "--server",
            "127.0.0.9",
        ],
        "no domain controller answered the LDAP ping",
        Duration::from_secs(4),
    );
}

#[test]
fn bad_domain_name_is_refused() {
    assert_one_line_failure(
        &["discover", "not a domain"],
        "is not a DNS domain name",
        Duration::from_secs(2),
    );
}

#[test]
fn dns_servers_come_from_the_registry_when_not_given() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("registry.db");
    let set = Command::new(env!("CARGO_BIN_EXE_regshell"))
        .args([
            "--db",
            db.to_str().unwrap(),
            "set_value",
            r"HKEY_THIS_MACHINE\Join",
        ])
        .args(["DnsServers", "REG_MULTI_SZ", &lab.dc])
        .output()
        .unwrap();
    assert!(set.status.success(), "{}", stderr(&set));
    let out = Command::new(env!("CARGO_BIN_EXE_domain-join"))
        .args(["discover", &lab.domain, "--json"])
        .env("ADJOIN_REGISTRY", &db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dc_name"], lab.dc_name.as_str());
}
