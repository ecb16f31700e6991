//! The identity service against the lab DC, through its real clients: `adjoin`, glibc's
//! NSS (getent and id loading libnss_adjoin.so.2) and Linux-PAM (pamtester loading
//! pam_adjoin.so). The host's own nsswitch.conf and /etc/pam.d are never touched: NSS and
//! PAM checks run in a private mount namespace with private copies bind-mounted over them.

use std::time::{Duration, Instant};

use adjoin_registry::Value;
use adjoin_tests::daemon::{Bins, IdentityDaemon};
use adjoin_tests::{Lab, rid, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// The default RID mapping's base (Identity\RangeBase).
const BASE: u64 = 1_000_000;

#[test]
fn every_name_form_and_the_uid_agree_and_the_mapping_is_deterministic() {
    let lab = Lab::get();
    let d = IdentityDaemon::start(&lab, BINS, "idlook.example.test", &[]);
    let uid = BASE + rid(&lab.object_sid("alice"));
    let forms = [
        "alice",
        "EXAMPLE\\alice",
        "alice@example.test",
        "ALICE",
        &uid.to_string(),
    ];
    let first = d.adjoin_json(&["find-user", forms[0]]);
    assert_eq!(first["uid"], uid, "{first}");
    assert_eq!(
        first["gid"],
        BASE + 513,
        "primary group Domain Users: {first}"
    );
    assert_eq!(first["name"], "alice");
    for form in &forms[1..] {
        assert_eq!(d.adjoin_json(&["find-user", form]), first, "{form}");
    }
    // Through glibc: getent in every form prints the same line.
    let line = d.nss_ok(&["getent", "passwd", "alice"]);
    assert!(
        line.starts_with(&format!("alice:x:{uid}:{}:", BASE + 513)),
        "{line}"
    );
    for form in &forms[1..] {
        assert_eq!(
            d.nss_ok(&["getent", "passwd", form]),
            line,
            "getent passwd {form}"
        );
    }
    // Her groups: Domain Users and engineers (and eng-all, through nesting).
    let engineers = BASE + rid(&lab.object_sid("engineers"));
    let id = d.nss_ok(&["id", "alice"]);
    assert!(id.contains(&format!("{engineers}(engineers)")), "{id}");
    assert!(
        id.contains(&format!("{}(domain users)", BASE + 513)),
        "{id}"
    );
    let group = d.nss_ok(&["getent", "group", "engineers"]);
    assert!(
        group.starts_with(&format!("engineers:x:{engineers}:")),
        "{group}"
    );
    assert!(
        group
            .trim_end()
            .split(':')
            .nth(3)
            .unwrap_or("")
            .split(',')
            .any(|m| m == "alice"),
        "{group}"
    );
    // A flush changes nothing; nor does a fresh state directory on another member.
    let flushed = d.adjoin(&["cache", "flush"]);
    assert!(flushed.status.success(), "{}", text(&flushed.stderr));
    assert_eq!(d.adjoin_json(&["find-user", "alice"]), first);
    drop(d);
    let other = IdentityDaemon::start(&lab, BINS, "idlook2.example.test", &[]);
    assert_eq!(other.adjoin_json(&["find-user", "alice"]), first);
}

#[test]
fn unknown_names_fail_fast_enumeration_lists_the_domain_and_status_reports_online() {
    let lab = Lab::get();
    let d = IdentityDaemon::start(&lab, BINS, "idmiss.example.test", &[]);
    let started = Instant::now();
    let out = d.nss(&["getent", "passwd", "no-such-user-here"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "getent's not-found exit: {}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let missing = d.adjoin(&["find-user", "OTHERDOM\\alice"]);
    assert!(!missing.status.success());
    // Enumeration: the whole domain, paged from the DC.
    let all = d.nss_ok(&["getent", "passwd"]);
    for user in ["alice:x:", "bob:x:", "administrator:x:"] {
        assert!(
            all.lines().any(|l| l.starts_with(user)),
            "{user} in getent passwd:\n{all}"
        );
    }
    let groups = d.nss_ok(&["getent", "group"]);
    assert!(
        groups.lines().any(|l| l.starts_with("engineers:x:")),
        "{groups}"
    );
    let status = d.adjoin_json(&["status"]);
    assert_eq!(status["online"], true, "{status}");
    assert_eq!(status["realm"], "EXAMPLE.TEST");
}

/// The newest ccache adjoind wrote for `uid`.
fn newest_ccache(uid: u64) -> Option<std::path::PathBuf> {
    let prefix = format!("krb5cc_{uid}_");
    std::fs::read_dir("/tmp")
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

#[test]
fn pam_logons_ccache_refusals_and_the_allow_list() {
    let lab = Lab::get();
    let d = IdentityDaemon::start(
        &lab,
        BINS,
        "idpam.example.test",
        &[("CreateHomeDirectory", Value::Dword(0))],
    );
    let uid = BASE + rid(&lab.object_sid("alice"));
    let alice = format!("{}\n", lab.password("alice"));
    let out = d.pamtester(
        "alice",
        &["authenticate", "acct_mgmt", "open_session"],
        &alice,
    );
    assert!(
        out.status.success(),
        "alice: {}{}\n{}",
        text(&out.stdout),
        text(&out.stderr),
        d.log()
    );
    // Her ccache: hers, 0600, and MIT klist reads her TGT from it.
    // (Missing once, under a fresh machine's load: the daemon's log says why next time.)
    let cc =
        newest_ccache(uid).unwrap_or_else(|| panic!("no ccache for alice in /tmp: {}", d.log()));
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&cc).unwrap();
    assert_eq!((u64::from(meta.uid()), meta.mode() & 0o777), (uid, 0o600));
    let klist = std::process::Command::new("klist")
        .arg("-c")
        .arg(&cc)
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .unwrap();
    let listed = text(&klist.stdout);
    assert!(
        listed.contains("alice@EXAMPLE.TEST") && listed.contains("krbtgt/EXAMPLE.TEST"),
        "{listed}{}",
        text(&klist.stderr)
    );
    // The TGT serves MIT tools without a second password (what ssh -K and smbclient -k use).
    let kvno = std::process::Command::new("kvno")
        .arg(format!("host/{}", d.fqdn))
        .env("KRB5CCNAME", format!("FILE:{}", cc.display()))
        .env("KRB5_CONFIG", &lab.krb5_config)
        .output()
        .unwrap();
    assert!(
        kvno.status.success(),
        "kvno with her ccache: {}",
        text(&kvno.stderr)
    );
    let _ = std::fs::remove_file(&cc);

    let wrong = d.pamtester("alice", &["authenticate"], "not-her-password\n");
    assert!(!wrong.status.success());
    let dave = d.pamtester(
        "dave",
        &["authenticate"],
        &format!("{}\n", lab.password("dave")),
    );
    assert!(!dave.status.success());
    assert!(
        text(&dave.stderr).contains("disabled"),
        "dave: {}",
        text(&dave.stderr)
    );
    let carol = d.pamtester(
        "carol",
        &["authenticate", "acct_mgmt"],
        &format!("{}\n", lab.password("carol")),
    );
    assert!(!carol.status.success());
    let said = format!("{}{}", text(&carol.stdout), text(&carol.stderr));
    assert!(said.contains("expired"), "carol: {said}");

    // Only engineers may log on: bob is refused at the account stage, alice is not.
    d.configure(&[("AllowGroups", Value::MultiSz(vec!["engineers".into()]))]);
    d.reload();
    let bob = d.pamtester(
        "bob",
        &["authenticate", "acct_mgmt"],
        &format!("{}\n", lab.password("bob")),
    );
    assert!(!bob.status.success());
    assert!(
        format!("{}{}", text(&bob.stdout), text(&bob.stderr))
            .contains("not a member of a group allowed"),
        "bob: {}",
        text(&bob.stderr)
    );
    let alice_again = d.pamtester("alice", &["authenticate", "acct_mgmt"], &alice);
    assert!(
        alice_again.status.success(),
        "{}",
        text(&alice_again.stderr)
    );
}

#[test]
fn pam_password_change_through_kpasswd() {
    let lab = Lab::get();
    let (old, new) = ("Old-Id-Pass1!", "New-Id-Pass2!");
    lab.fresh_user("idpwchange", old, true);
    let d = IdentityDaemon::start(&lab, BINS, "idpwd.example.test", &[]);
    let expired = d.pamtester(
        "idpwchange",
        &["authenticate", "acct_mgmt"],
        &format!("{old}\n"),
    );
    assert!(!expired.status.success(), "must change first");
    let mismatch = d.pamtester(
        "idpwchange",
        &["chauthtok"],
        &format!("{old}\n{new}\nsomething-else\n"),
    );
    assert!(!mismatch.status.success(), "retyped differently");
    let changed = d.pamtester(
        "idpwchange",
        &["chauthtok"],
        &format!("{old}\n{new}\n{new}\n"),
    );
    assert!(
        changed.status.success(),
        "chauthtok: {}{}\n{}",
        text(&changed.stdout),
        text(&changed.stderr),
        d.log()
    );
    let after = d.pamtester(
        "idpwchange",
        &["authenticate", "acct_mgmt"],
        &format!("{new}\n"),
    );
    assert!(
        after.status.success(),
        "the new password: {}",
        text(&after.stderr)
    );
    let before = d.pamtester("idpwchange", &["authenticate"], &format!("{old}\n"));
    assert!(!before.status.success(), "the old password no longer works");
}

#[test]
fn non_ascii_names_resolve_and_log_on() {
    let lab = Lab::get();
    let password = "Zoe-Id-Pass1!";
    lab.fresh_user("zoëtest", password, false);
    let d = IdentityDaemon::start(&lab, BINS, "idutf.example.test", &[]);
    let uid = BASE + rid(&lab.object_sid("zoëtest"));
    let line = d.nss_ok(&["getent", "passwd", "zoëtest"]);
    assert!(line.starts_with(&format!("zoëtest:x:{uid}:")), "{line}");
    assert_eq!(
        d.nss_ok(&["getent", "passwd", "EXAMPLE\\ZOËTEST"]),
        line,
        "any case, qualified"
    );
    assert_eq!(d.nss_ok(&["getent", "passwd", &uid.to_string()]), line);
    let logon = d.pamtester(
        "zoëtest",
        &["authenticate", "acct_mgmt"],
        &format!("{password}\n"),
    );
    assert!(
        logon.status.success(),
        "zoëtest logs on: {}\n{}",
        text(&logon.stderr),
        d.log()
    );
}

#[test]
fn rfc2307_mode_takes_ids_home_and_shell_from_the_directory() {
    let lab = Lab::get();
    lab.fresh_user("idunix", "Unix-Id-Pass1!", false);
    let _ = lab.samba_tool(&["group", "delete", "idunixgrp"]);
    let made = lab.samba_tool(&[
        "group",
        "add",
        "idunixgrp",
        "--nis-domain=example",
        "--gid-number=71000",
    ]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let unix = lab.samba_tool(&[
        "user",
        "addunixattrs",
        "idunix",
        "71001",
        "--gid-number=71000",
        "--unix-home=/home/idunix-2307",
        "--login-shell=/bin/zsh",
        "--gecos=Unix Tester",
    ]);
    assert!(
        unix.status.success(),
        "{}{}",
        text(&unix.stdout),
        text(&unix.stderr)
    );
    let member = lab.samba_tool(&["group", "addmembers", "idunixgrp", "idunix"]);
    assert!(member.status.success(), "{}", text(&member.stderr));
    let d = IdentityDaemon::start(
        &lab,
        BINS,
        "id2307.example.test",
        &[("IdMapping", Value::Sz("rfc2307".into()))],
    );
    let line = d.nss_ok(&["getent", "passwd", "idunix"]);
    assert_eq!(
        line.trim_end(),
        "idunix:x:71001:71000:Unix Tester:/home/idunix-2307:/bin/zsh"
    );
    assert_eq!(d.nss_ok(&["getent", "passwd", "71001"]), line);
    let group = d.nss_ok(&["getent", "group", "71000"]);
    assert_eq!(group.trim_end(), "idunixgrp:x:71000:idunix");
    let id = d.nss_ok(&["id", "idunix"]);
    assert!(id.contains("71000(idunixgrp)"), "{id}");
    // bob has no uidNumber: in this mode he is no Unix user.
    assert_eq!(d.nss(&["getent", "passwd", "bob"]).status.code(), Some(2));
}

#[test]
fn entries_in_use_are_refreshed_before_they_expire() {
    let lab = Lab::get();
    let d = IdentityDaemon::start(
        &lab,
        BINS,
        "idfresh.example.test",
        &[("CacheTimeoutSeconds", Value::Dword(8))],
    );
    let first = d.adjoin_json(&["find-user", "alice"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d
        .log()
        .contains("refreshed cache entries before they expire")
    {
        assert!(
            Instant::now() < deadline,
            "no refresh within 20 s: {}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(d.adjoin_json(&["find-user", "alice"]), first);
}
