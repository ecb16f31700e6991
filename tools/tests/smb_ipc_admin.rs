//! The IPC$ services a member serves besides the share listing, against Samba's own
//! clients: lsarpc (MS-LSAD policy information, MS-LSAT name and SID translation) with
//! `rpcclient` as a domain user, and srvsvc's administrative calls (MS-SRVS: share paths,
//! sessions, tree connects, open files) with `rpcclient` and `smbtorture rpc.srvsvc` as
//! the domain's administrator, refused to a user who administers nothing until the
//! registry's `AdminGroups` names one of her groups.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use adjoin_registry::{Registry, Value};
use adjoin_tests::daemon::{Bins, FREE_LOOPBACK_PORT, IdentityDaemon};
use adjoin_tests::{Lab, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

const ADJOIND: &str = r"HKEY_THIS_MACHINE\Services\adjoind";

/// A joined member serving the disk share `data` over SMB.
struct Member {
    daemon: IdentityDaemon,
    data: tempfile::TempDir,
}

impl Member {
    fn start(lab: &Lab, name: &str) -> Self {
        let fqdn = format!("{name}.{}", lab.domain);
        let daemon = IdentityDaemon::start_with(lab, BINS, &fqdn, &[], Some(FREE_LOOPBACK_PORT));
        let data = tempfile::Builder::new()
            .prefix("adjoin-admin-")
            .tempdir()
            .unwrap();
        let registry = Registry::open(daemon.registry()).unwrap();
        let share = format!(r"{ADJOIND}\Shares\data");
        let path = Value::Sz(data.path().display().to_string());
        registry.set_value(&share, "Path", &path).unwrap();
        let member = Self { daemon, data };
        member.wait_until("the share data", || {
            let out = member.rpcclient(lab, "alice", "netshareenumall 1");
            output(&out).contains("netname: data")
        });
        member
    }

    fn port(&self) -> String {
        self.daemon.smb.expect("serving SMB").port().to_string()
    }

    /// The share's path as srvsvc shows it (`C:\tmp\adjoin-admin-...`).
    fn windows_path(&self) -> String {
        format!("C:{}", self.data.path().display()).replace('/', "\\")
    }

    /// `rpcclient -c COMMANDS` as `user` (the lab's administrator or a fixture user).
    fn rpcclient(&self, lab: &Lab, user: &str, commands: &str) -> Output {
        let password = if user == lab.admin {
            lab.admin_password.clone()
        } else {
            lab.password(user)
        };
        Command::new("rpcclient")
            .args(["-p", &self.port(), "127.0.0.1"])
            .arg(format!("-U{}\\{user}%{password}", lab.netbios))
            .args(["-c", commands])
            .env("KRB5_CONFIG", &lab.krb5_config)
            .output()
            .expect("rpcclient runs")
    }

    /// Polls `ready` for up to 30 s (adjoind re-reads its registry every few seconds).
    fn wait_until(&self, what: &str, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "{what}: not within 30 s\nadjoind: {}",
                self.daemon.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn output(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// rpcclient's output for a command that must have worked.
fn ok(out: &Output, what: &str) -> String {
    let all = output(out);
    assert!(
        out.status.success() && !all.contains("NT_STATUS_") && !all.contains("result was"),
        "{what} failed: {all}"
    );
    all
}

fn denied(out: &Output, what: &str) {
    let all = output(out);
    assert!(
        all.contains("WERR_ACCESS_DENIED"),
        "{what}: expected WERR_ACCESS_DENIED: {all}"
    );
}

/// MS-LSAD 3.1.4.4.4 LsarQueryInformationPolicy and MS-LSAT 3.1.4.8/3.1.4.11
/// LsarLookupNames/LsarLookupSids: `rpcclient` as alice reads the member's domains and
/// translates names and SIDs through the member (which asks the DC).
#[test]
fn ms_lsat_rpcclient_queries_and_translates_through_the_member() {
    let lab = Lab::get();
    let m = Member::start(&lab, "smbadmlsa");
    let domain_sid = lab.domain_sid();
    let alice_sid = lab.object_sid("alice");
    let engineers_sid = lab.object_sid("engineers");

    let all = ok(&m.rpcclient(&lab, "alice", "lsaquery"), "lsaquery");
    assert!(
        all.contains(&format!("Domain Name: {}", lab.netbios)),
        "{all}"
    );
    assert!(
        all.contains(&format!("Domain Sid: {domain_sid}\n")),
        "{all}"
    );
    // The member's own account domain: its name and a SID of its own.
    let all = ok(&m.rpcclient(&lab, "alice", "lsaquery 5"), "lsaquery 5");
    assert!(all.contains("Domain Name: SMBADMLSA"), "{all}");
    assert!(!all.contains(&domain_sid), "{all}");
    let all = ok(&m.rpcclient(&lab, "alice", "lsaquery 12"), "lsaquery 12");
    assert!(
        all.contains(&format!("Domain DNS Name: {}", lab.domain)),
        "{all}"
    );

    let all = ok(
        &m.rpcclient(&lab, "alice", "lookupnames alice engineers"),
        "lookupnames",
    );
    assert!(
        all.contains(&format!("alice {alice_sid} (User: 1)")),
        "{all}"
    );
    assert!(
        all.contains(&format!("engineers {engineers_sid} (Domain Group: 2)")),
        "{all}"
    );
    let all = ok(
        &m.rpcclient(
            &lab,
            "alice",
            &format!("lookupsids {alice_sid} {engineers_sid}"),
        ),
        "lookupsids",
    );
    assert!(
        all.contains(&format!(r"{alice_sid} {}\alice (1)", lab.netbios)),
        "{all}"
    );
    assert!(
        all.contains(&format!(r"{}\engineers (2)", lab.netbios)),
        "{all}"
    );
    // A name the domain does not have: the lookup answers, the name is unknown.
    let out = m.rpcclient(&lab, "alice", "lookupnames nosuchaccount");
    assert!(
        output(&out).contains("NT_STATUS_NONE_MAPPED"),
        "{}",
        output(&out)
    );

    let all = ok(&m.rpcclient(&lab, "alice", "getusername"), "getusername");
    assert!(
        all.contains(&format!(
            "Account Name: alice, Authority Name: {}",
            lab.netbios
        )),
        "{all}"
    );
}

/// MS-SRVS 3.1.4.8 NetrShareEnum, 3.1.4.5 NetrSessionEnum: the share paths (levels 2
/// and 502) and the sessions for administrators only; alice gets ERROR_ACCESS_DENIED, as
/// from Windows, until `AdminGroups` names her group `engineers`.
#[test]
fn ms_srvs_3_1_4_8_share_paths_and_sessions_for_administrators_only() {
    let lab = Lab::get();
    let m = Member::start(&lab, "smbadm");
    let admin = lab.admin.as_str();
    let path = m.windows_path();

    for level in ["2", "502"] {
        let all = ok(
            &m.rpcclient(&lab, admin, &format!("netshareenumall {level}")),
            "an administrator's share listing",
        );
        assert!(
            all.contains(&format!("path:\t{path}")),
            "level {level}: {all}"
        );
        denied(
            &m.rpcclient(&lab, "alice", &format!("netshareenumall {level}")),
            "alice's share listing with paths",
        );
        denied(
            &m.rpcclient(&lab, "alice", &format!("netsharegetinfo data {level}")),
            "alice's share information with paths",
        );
    }
    let all = ok(&m.rpcclient(&lab, "alice", "netshareenumall 1"), "level 1");
    assert!(
        all.contains("netname: data") && !all.contains(&path),
        "{all}"
    );

    // The administrator's own session is among those listed.
    let all = ok(&m.rpcclient(&lab, admin, "netsessenum"), "netsessenum");
    assert!(all.contains("Received"), "{all}");
    ok(&m.rpcclient(&lab, admin, "netfileenum"), "netfileenum");
    for command in ["netsessenum", "netfileenum", "netdiskenum"] {
        denied(&m.rpcclient(&lab, "alice", command), command);
    }
    // Open to every caller.
    ok(&m.rpcclient(&lab, "alice", "netremotetod"), "netremotetod");

    // alice is in engineers: naming the group makes her an administrator.
    let registry = Registry::open(m.daemon.registry()).unwrap();
    let groups = Value::MultiSz(vec!["engineers".into()]);
    registry.set_value(ADJOIND, "AdminGroups", &groups).unwrap();
    m.wait_until("engineers administering the server", || {
        output(&m.rpcclient(&lab, "alice", "netshareenumall 2")).contains(&path)
    });
    ok(
        &m.rpcclient(&lab, "alice", "netsessenum"),
        "alice's netsessenum",
    );
}

/// Samba's conformance suite for srvsvc, `smbtorture rpc.srvsvc`, as the domain's
/// administrator: every subtest of its admin case passes (NetShareAddSetDel is
/// "dangerous" and skipped). Its anonymous case needs an anonymous logon, which the
/// server refuses.
#[test]
fn ms_srvs_smbtorture_rpc_srvsvc_admin_subtests_pass() {
    let lab = Lab::get();
    let m = Member::start(&lab, "smbadmtorture");
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("smbtorture")
        .arg("//127.0.0.1/IPC$")
        .args(["-p", &m.port()])
        .arg(format!(
            "-U{}\\{}%{}",
            lab.netbios, lab.admin, lab.admin_password
        ))
        .arg("rpc.srvsvc")
        .current_dir(work.path())
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .expect("smbtorture runs");
    let all = output(&out);
    let results: Vec<(&str, &str)> = all
        .lines()
        .filter_map(|l| {
            let (verdict, test) = l.split_once(": ")?;
            matches!(verdict, "success" | "failure" | "error" | "skip")
                .then(|| (verdict, test.trim_end_matches(" [")))
        })
        .collect();
    let admin: Vec<_> = results
        .iter()
        .filter(|(_, t)| t.starts_with("srvsvc (admin access)."))
        .collect();
    let passed = admin.iter().filter(|(v, _)| *v == "success").count();
    println!(
        "smbtorture rpc.srvsvc (admin access): {passed} of {} passed",
        admin.len()
    );
    assert_eq!(admin.len(), 14, "the admin case's subtests: {all}");
    for (verdict, test) in &admin {
        let expected = if test.ends_with("NetShareAddSetDel") {
            "skip"
        } else {
            "success"
        };
        assert_eq!(*verdict, expected, "{test}: {all}");
    }
}
