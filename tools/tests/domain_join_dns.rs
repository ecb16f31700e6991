//! RFC 3645 secure dynamic update against the lab DC's DNS (issue 12 item 1): the join
//! registers the FQDN the admin chose with the machine's own Kerberos credentials
//! (GSS-TSIG), `dns-update` changes it, `leave` removes it; checked with `host` (dnsutils)
//! asking the DC. A record another account owns is refused by the DC: one warning line,
//! and the join stands.

use std::path::Path;
use std::process::{Command, Output};

use adjoin_tests::{Lab, run_tool, text};

fn domain_join(registry: &Path, args: &[&str], stdin: &str) -> Output {
    run_tool(env!("CARGO_BIN_EXE_domain-join"), registry, args, stdin)
}

/// What `host NAME <DC>` answers (the DC's DNS, no cache between).
fn host(lab: &Lab, name: &str) -> String {
    let out = Command::new("host")
        .args([name, &lab.dc])
        .output()
        .expect("host (dnsutils) runs");
    text(&out.stdout)
}

/// `samba-tool dns ARGS` against the lab's DC (its address first) as the administrator.
fn samba_dns(lab: &Lab, args: &[&str]) -> Output {
    Command::new("samba-tool")
        .arg("dns")
        .arg(args[0])
        .arg(&lab.dc)
        .args(&args[1..])
        .arg("-U")
        .arg(format!(
            "{}\\{}%{}",
            lab.netbios, lab.admin, lab.admin_password
        ))
        .output()
        .expect("samba-tool runs")
}

/// `samba-tool dns ACTION <DC> <zone> owned A 192.0.2.43` as the lab's administrator.
fn admin_record(lab: &Lab, action: &str) -> Output {
    samba_dns(lab, &[action, &lab.domain, "owned", "A", "192.0.2.43"])
}

#[test]
fn rfc3645_join_registers_the_name_dns_update_changes_it_and_leave_removes_it() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let fqdn = format!("dnsreg.{}", lab.domain);
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        &fqdn,
        &["--no-keytab", "--address", "192.0.2.41"],
    );
    assert!(
        host(&lab, &fqdn).contains("has address 192.0.2.41"),
        "{}",
        host(&lab, &fqdn)
    );
    let dns = ["--dns-server", lab.dc.as_str()];
    let out = domain_join(
        &reg,
        &[
            &[
                "dns-update",
                "--address",
                "192.0.2.42",
                "--address",
                "2001:db8::42",
            ][..],
            &dns[..],
        ]
        .concat(),
        "",
    );
    assert!(out.status.success(), "dns-update: {}", text(&out.stderr));
    let answer = host(&lab, &fqdn);
    assert!(
        answer.contains("has address 192.0.2.42")
            && answer.contains("has IPv6 address 2001:db8::42")
            && !answer.contains("192.0.2.41"),
        "{answer}"
    );
    let out = domain_join(
        &reg,
        &[
            &["leave", &lab.admin, "--delete", "--password-stdin"][..],
            &dns[..],
        ]
        .concat(),
        &lab.admin_password,
    );
    assert!(out.status.success(), "leave: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("removed the DNS records"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        host(&lab, &fqdn).contains("not found"),
        "{}",
        host(&lab, &fqdn)
    );
}

#[test]
fn a_record_owned_by_another_account_is_refused_with_one_warning_and_the_join_stands() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let fqdn = format!("owned.{}", lab.domain);
    let _ = admin_record(&lab, "delete");
    let added = admin_record(&lab, "add");
    assert!(
        added.status.success(),
        "samba-tool dns add: {}",
        text(&added.stderr)
    );
    let _ = lab.samba_tool(&["computer", "delete", "OWNED"]);
    let out = domain_join(
        &reg,
        &[
            "join",
            &lab.domain,
            &lab.admin,
            "--name",
            &fqdn,
            "--dns-server",
            &lab.dc,
            "--no-keytab",
            "--password-stdin",
        ],
        &lab.admin_password,
    );
    assert!(
        out.status.success(),
        "the join stands: {}",
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("warning") && err.contains("refused the update of") && err.contains(&fqdn),
        "{err}"
    );
    assert!(
        host(&lab, &fqdn).contains("has address 192.0.2.43"),
        "the admin's record stays"
    );
    let _ = admin_record(&lab, "delete");
    let _ = lab.samba_tool(&["computer", "delete", "OWNED"]);
}

/// adjoind notices the name's record gone (an admin removed it) and registers it again.
#[test]
fn adjoind_registers_the_name_again_when_its_record_disappears() {
    use adjoin_registry::{Registry, Value};
    use adjoin_tests::daemon::{Bins, IdentityDaemon};
    let lab = Lab::get();
    let bins = Bins {
        domain_join: env!("CARGO_BIN_EXE_domain-join"),
        adjoind: env!("CARGO_BIN_EXE_adjoind"),
        adjoin: env!("CARGO_BIN_EXE_adjoin"),
    };
    let fqdn = format!("dnsback.{}", lab.domain);
    let mut daemon = IdentityDaemon::start(&lab, bins, &fqdn, &[]);
    let registered = host(&lab, &fqdn);
    let address = registered
        .lines()
        .find_map(|l| l.split("has address ").nth(1))
        .unwrap_or_else(|| panic!("the join registered the name: {registered}"))
        .trim()
        .to_owned();
    Registry::open(daemon.registry())
        .unwrap()
        .set_value(
            adjoin_join::join::JOIN_KEY,
            "DnsRefreshSeconds",
            &Value::Dword(1),
        )
        .unwrap();
    daemon.restart();
    let removed = samba_dns(&lab, &["delete", &lab.domain, "dnsback", "A", &address]);
    assert!(
        removed.status.success(),
        "samba-tool dns delete: {}",
        text(&removed.stderr)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !host(&lab, &fqdn).contains(&format!("has address {address}")) {
        assert!(
            std::time::Instant::now() < deadline,
            "not registered again within 30 s: {}",
            daemon.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        daemon.log().contains("registered again"),
        "{}",
        daemon.log()
    );
}

/// RFC 1035 3.5 and RFC 3596 2.5 PTR records where the DC serves a reverse zone: the join
/// adds one for each address, `leave` removes them.
#[test]
fn rfc1035_a_reverse_zone_gets_the_ptr_record_and_leave_removes_it() {
    let lab = Lab::get();
    for reverse in ["2.0.192.in-addr.arpa", "8.b.d.0.1.0.0.2.ip6.arpa"] {
        let zone = samba_dns(&lab, &["zonecreate", reverse]);
        assert!(
            zone.status.success() || text(&zone.stderr).contains("ALREADY_EXISTS"),
            "samba-tool dns zonecreate {reverse}: {}",
            text(&zone.stderr)
        );
    }
    let addresses = ["192.0.2.71", "2001:db8::71"];
    // Twice: the second machine of the same name and addresses registers too (the first
    // one's leave cleared its DNS nodes).
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let reg = dir.path().join("registry.db");
        let fqdn = format!("ptr.{}", lab.domain);
        lab.join_machine(
            env!("CARGO_BIN_EXE_domain-join"),
            &reg,
            &fqdn,
            &[
                "--no-keytab",
                "--address",
                addresses[0],
                "--address",
                addresses[1],
            ],
        );
        for ip in addresses {
            let answer = host(&lab, ip);
            assert!(
                answer.contains(&format!("domain name pointer {fqdn}.")),
                "{ip}: {answer}"
            );
        }
        let out = domain_join(
            &reg,
            &[
                "leave",
                &lab.admin,
                "--delete",
                "--password-stdin",
                "--dns-server",
                &lab.dc,
            ],
            &lab.admin_password,
        );
        assert!(out.status.success(), "leave: {}", text(&out.stderr));
        for ip in addresses {
            assert!(
                host(&lab, ip).contains("not found"),
                "{ip}: {}",
                host(&lab, ip)
            );
        }
    }
}

/// testjoin reports the name's record gone from DNS, and repair registers it again.
#[test]
fn testjoin_reports_a_missing_dns_record_and_repair_registers_it() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let fqdn = format!("dnsgone.{}", lab.domain);
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        &fqdn,
        &["--no-keytab", "--address", "192.0.2.81"],
    );
    let removed = samba_dns(&lab, &["delete", &lab.domain, "dnsgone", "A", "192.0.2.81"]);
    assert!(
        removed.status.success(),
        "samba-tool dns delete: {}",
        text(&removed.stderr)
    );
    let dns = ["--dns-server", lab.dc.as_str()];
    let t = domain_join(&reg, &[&["testjoin", "--json"][..], &dns[..]].concat(), "");
    assert_eq!(t.status.code(), Some(1), "{}", text(&t.stderr));
    let report: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    assert_eq!(report["drift"][0]["kind"], "dns-records", "{report}");
    assert_eq!(report["drift"][0]["want"][0], "192.0.2.81", "{report}");
    let r = domain_join(&reg, &[&["repair"][..], &dns[..]].concat(), "");
    assert!(
        r.status.success(),
        "repair: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    assert!(
        host(&lab, &fqdn).contains("has address 192.0.2.81"),
        "{}",
        host(&lab, &fqdn)
    );
    let _ = lab.samba_tool(&["computer", "delete", "DNSGONE"]);
}
