//! Users of a trusted domain (issue 12 item 6), against the lab's second domain: OTHER.TEST
//! (NetBIOS PARTNER) with a two-way forest trust to EXAMPLE.TEST. Checked with the DCs'
//! own databases (ldbsearch) and MIT's tools:
//! - Kerberos: `adjoin kinit erin@OTHER.TEST`, then `adjoin kvno host/<member>` follows the
//!   referral from OTHER.TEST's KDC to EXAMPLE.TEST's (RFC 6806, MS-KILE 3.3.5.7.5); MIT's
//!   klist reads the ticket and its kvno is the member keytab's;
//! - NTLM: `adjoin authenticate-user --ntlm 'PARTNER\erin'` through the member's secure
//!   channel to EXAMPLE.TEST's DC, which passes the logon on to OTHER.TEST's;
//! - LSA: `adjoin lookup 'PARTNER\erin'` and back from her SID;
//! - adjoind: it records the trusted domain with an id range of its own in the registry,
//!   and resolves its users and groups (qualified names, ids in that range) through the
//!   trusted domain's DC, for `adjoin find-user` and glibc's getent and id.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use adjoin_registry::{Registry, Value};
use adjoin_tests::daemon::{Bins, IdentityDaemon};
use adjoin_tests::{Lab, rid, run_tool, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

fn adjoin(lab: &Lab, registry: &Path, args: &[&str], stdin: &str) -> Output {
    let mut all = args.to_vec();
    all.extend(["--dns-server", &lab.dc]);
    run_tool(env!("CARGO_BIN_EXE_adjoin"), registry, &all, stdin)
}

fn ok(what: &str, o: &Output) -> String {
    assert!(o.status.success(), "{what}: {}", text(&o.stderr));
    text(&o.stdout)
}

fn joined(lab: &Lab, name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("registry.db");
    let kt = dir.path().join("krb5.keytab");
    lab.join_machine(
        env!("CARGO_BIN_EXE_domain-join"),
        &reg,
        &format!("{name}.{}", lab.domain),
        &["--keytab", kt.to_str().unwrap()],
    );
    (dir, reg)
}

#[test]
fn a_trusted_domain_user_gets_a_ticket_for_a_member_through_the_referral() {
    let lab = Lab::get();
    let trusted = lab.trusted();
    let (dir, reg) = joined(&lab, "trkrb");
    let cache = dir.path().join("erin.cc");
    let erin = format!("erin@{}", trusted.realm);
    let fqdn = format!("trkrb.{}", lab.domain);
    let kinit = adjoin(
        &lab,
        &reg,
        &[
            "kinit",
            &erin,
            "--password-stdin",
            "-c",
            cache.to_str().unwrap(),
        ],
        &lab.password("erin"),
    );
    ok("adjoin kinit erin", &kinit);

    // The service's realm is not given: it defaults to erin's, OTHER.TEST, whose KDC refers
    // the request to EXAMPLE.TEST by the forest trust's name suffixes.
    let spn = format!("host/{fqdn}");
    let kvno = adjoin(
        &lab,
        &reg,
        &["kvno", &spn, "-c", cache.to_str().unwrap()],
        "",
    );
    let printed = ok("adjoin kvno through the referral", &kvno);
    let issued = format!("host/{fqdn}@{}", lab.realm);
    assert!(
        printed.starts_with(&format!("{issued}: kvno = ")),
        "{printed}"
    );

    // MIT reads the ticket from the cache Adjoin wrote; its kvno is the keytab's.
    let klist = Command::new("klist")
        .env("KRB5_CONFIG", &lab.krb5_config)
        .args(["-c", cache.to_str().unwrap()])
        .output()
        .unwrap();
    let listed = ok("MIT klist", &klist);
    assert!(listed.contains(&erin), "{listed}");
    assert!(listed.contains(&issued), "{listed}");
    let keytab = Command::new("klist")
        .args(["-k", dir.path().join("krb5.keytab").to_str().unwrap()])
        .output()
        .unwrap();
    let keys = ok("MIT klist -k", &keytab);
    let kvno_of_keytab = keys
        .lines()
        .find(|l| l.contains(&issued))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {issued} in the keytab: {keys}"));
    assert_eq!(
        printed.trim().rsplit(' ').next(),
        Some(kvno_of_keytab),
        "{printed} vs {keys}"
    );

    // Named with its realm: a cross-realm TGT is asked for first, then the ticket.
    let named = format!("cifs/{}@{}", lab.dc_name, lab.realm);
    let kvno = adjoin(
        &lab,
        &reg,
        &["kvno", &named, "-c", cache.to_str().unwrap()],
        "",
    );
    assert!(ok("adjoin kvno with the realm", &kvno).starts_with(&format!("{named}: kvno = ")));

    // A service no realm has: one line naming it.
    let missing = format!("host/nowhere.{}", trusted.domain);
    let kvno = adjoin(
        &lab,
        &reg,
        &["kvno", &missing, "-c", cache.to_str().unwrap()],
        "",
    );
    assert!(!kvno.status.success());
    let err = text(&kvno.stderr);
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn a_trusted_domain_user_logs_on_with_ntlm_and_resolves_through_lsa() {
    let lab = Lab::get();
    let trusted = lab.trusted();
    let (_dir, reg) = joined(&lab, "trntlm");
    let user = format!(r"{}\erin", trusted.netbios);
    let erin_sid = trusted.object_sid("erin");
    let eng_sid = trusted.object_sid("partner-eng");

    let out = adjoin(
        &lab,
        &reg,
        &[
            "authenticate-user",
            "--ntlm",
            &user,
            "--password-stdin",
            "--json",
        ],
        &lab.password("erin"),
    );
    let v: serde_json::Value = serde_json::from_str(&ok("erin's NTLM logon", &out)).unwrap();
    assert_eq!(v["sid"], erin_sid.as_str(), "{v}");
    assert_eq!(v["user"], user.as_str(), "{v}");
    // The trusted domain's DC checked the password: EXAMPLE.TEST's passed the logon on.
    let trusted_dc = trusted
        .dc_name
        .split('.')
        .next()
        .unwrap()
        .to_ascii_uppercase();
    assert_eq!(v["logon_server"], trusted_dc.as_str(), "{v}");
    let groups: Vec<&str> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g.as_str())
        .collect();
    assert!(groups.contains(&eng_sid.as_str()), "{groups:?}");
    assert_eq!(
        v["names"][eng_sid.as_str()],
        format!(r"{}\partner-eng", trusted.netbios)
    );

    let wrong = adjoin(
        &lab,
        &reg,
        &["authenticate-user", "--ntlm", &user, "--password-stdin"],
        "not-erins-password",
    );
    assert!(!wrong.status.success());
    let err = text(&wrong.stderr);
    assert!(err.contains("STATUS_WRONG_PASSWORD"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // LSA: the name to her SID, the group's SID back to its name, in one call.
    let out = adjoin(
        &lab,
        &reg,
        &["lookup", &user, &eng_sid, r"EXAMPLE\alice", "--json"],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&ok("adjoin lookup", &out)).unwrap();
    assert_eq!(v[0]["sid"], erin_sid.as_str(), "{v}");
    assert_eq!(v[0]["type"], "user", "{v}");
    assert_eq!(
        v[1]["name"],
        format!(r"{}\partner-eng", trusted.netbios),
        "{v}"
    );
    assert_eq!(v[2]["sid"], lab.object_sid("alice").as_str(), "{v}");

    // A name the trusted domain does not know: Samba's DC faults the whole call; the others
    // still resolve and the unknown one is named.
    let nobody = format!(r"{}\nobody-here", trusted.netbios);
    let out = adjoin(&lab, &reg, &["lookup", &nobody, &user], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains(&erin_sid),
        "{}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    assert!(err.contains(&nobody), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Waits until adjoind recorded the trusted domain in the registry; its range (base, size).
fn recorded_range(lab: &Lab, d: &IdentityDaemon) -> (u64, u64) {
    let trusted = lab.trusted();
    let key = format!(r"HKEY_THIS_MACHINE\Identity\Domains\{}", trusted.netbios);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let registry = Registry::open(d.registry()).unwrap();
        if registry.key_exists(&key).unwrap() {
            let get = |v: &str| registry.stored_value(&key, v).unwrap();
            assert_eq!(
                get("Sid"),
                Some(Value::Sz(
                    lab.trusted()
                        .object_sid("erin")
                        .rsplit_once('-')
                        .unwrap()
                        .0
                        .to_owned()
                ))
            );
            assert_eq!(get("DnsDomain"), Some(Value::Sz(trusted.domain.clone())));
            let (Some(Value::Dword(base)), Some(Value::Dword(size))) =
                (get("RangeBase"), get("RangeSize"))
            else {
                panic!("{key} has no range: {}", d.log());
            };
            return (u64::from(base), u64::from(size));
        }
        assert!(Instant::now() < deadline, "{key} not recorded: {}", d.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `adjoin find-user NAME --json` once the reload after the recording made it resolvable.
fn found_user(d: &IdentityDaemon, name: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = d.adjoin(&["find-user", name, "--json"]);
        if out.status.success() {
            return serde_json::from_slice(&out.stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{}: {}",
            text(&out.stderr),
            d.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn adjoind_gives_the_trusted_domain_a_range_and_resolves_its_users() {
    let lab = Lab::get();
    let trusted = lab.trusted();
    let d = IdentityDaemon::start(&lab, BINS, "trids.example.test", &[]);
    // adjoind reads the trust from the directory and records the domain.
    let (base, size) = recorded_range(&lab, &d);
    // Its own range, after the joined domain's (default 1,000,000 ids from 1,000,000).
    assert!(base >= 2_000_000 && size == 1_000_000, "{base} {size}");
    assert_eq!((base - 1_000_000) % size, 0, "{base}");

    let erin_sid = trusted.object_sid("erin");
    let uid = base + rid(&erin_sid);
    let qualified = format!(r"{}\erin", trusted.netbios);
    // The reload that follows the recording takes a moment: ask until the name resolves.
    let first = found_user(&d, &qualified);
    assert_eq!(first["uid"], uid, "{first}");
    assert_eq!(first["gid"], base + 513, "Domain Users of PARTNER: {first}");
    assert_eq!(first["name"], qualified.to_lowercase(), "{first}");
    // The default home template /home/%d/%u: her domain, then her account name alone.
    assert_eq!(
        first["home"],
        format!("/home/{}/erin", trusted.netbios),
        "{first}"
    );
    for form in [
        format!("erin@{}", trusted.domain),
        qualified.to_uppercase(),
        uid.to_string(),
    ] {
        assert_eq!(d.adjoin_json(&["find-user", &form]), first, "{form}");
    }
    // Unqualified, `erin` is the joined domain's (which has none): never PARTNER's.
    assert!(!d.adjoin(&["find-user", "erin"]).status.success());

    // glibc: getent and id through the NSS module.
    let line = d.nss_ok(&["getent", "passwd", &qualified]);
    assert!(
        line.starts_with(&format!(r"partner\erin:x:{uid}:{}:", base + 513)),
        "{line}"
    );
    let eng = base + rid(&trusted.object_sid("partner-eng"));
    let id = d.nss_ok(&["id", &qualified]);
    assert!(id.contains(&format!(r"{eng}(partner\partner-eng)")), "{id}");
    let group = d.nss_ok(&[
        "getent",
        "group",
        &format!(r"{}\partner-eng", trusted.netbios),
    ]);
    assert!(
        group.starts_with(&format!(r"partner\partner-eng:x:{eng}:")),
        "{group}"
    );
    assert!(group.trim_end().ends_with(r"partner\erin"), "{group}");

    // PAM: her password logon (a TGT from OTHER.TEST's KDC, a ticket for this host referred
    // to EXAMPLE.TEST's and accepted with the keytab, her groups from its PAC).
    let out = d.pamtester(
        &qualified,
        &["authenticate", "acct_mgmt"],
        &format!("{}\n", lab.password("erin")),
    );
    assert!(
        out.status.success(),
        "erin's PAM logon: {}{}\n{}",
        text(&out.stdout),
        text(&out.stderr),
        d.log()
    );
    let wrong = d.pamtester(&qualified, &["authenticate"], "not-erins-password\n");
    assert!(!wrong.status.success());
    assert!(
        text(&wrong.stderr).contains("Authentication failure"),
        "{}",
        text(&wrong.stderr)
    );
}

/// The file server: a trusted domain's user connects with NTLM (the DC passes the logon
/// on) and with Kerberos (MIT's smbclient follows the referral for `cifs/<member>`), and
/// her files are hers on disk: her uid in the trusted domain's range.
#[test]
fn a_trusted_domain_user_uses_the_file_server_with_ntlm_and_kerberos() {
    use std::os::unix::fs::MetadataExt;
    let lab = Lab::get();
    let trusted = lab.trusted();
    let (d, share) = IdentityDaemon::serving_share(&lab, BINS, "trsmb.example.test", "data");
    let (base, _) = recorded_range(&lab, &d);
    let qualified = format!(r"{}\erin", trusted.netbios);
    let uid = base + rid(&trusted.object_sid("erin"));
    assert_eq!(found_user(&d, &qualified)["uid"], uid);
    let port = d.smb.expect("serving SMB").port().to_string();
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("x.txt");
    std::fs::write(&local, b"from the partner").unwrap();
    let smbclient = |auth: &[String], remote: &str, cache: Option<&Path>| {
        let mut c = Command::new("smbclient");
        c.arg(format!("//{}/data", d.fqdn))
            .args(["-I", "127.0.0.1", "-p", &port])
            .args(auth)
            .arg("-c")
            .arg(format!("put {} {remote}", local.display()))
            .env("KRB5_CONFIG", &lab.krb5_config);
        if let Some(cache) = cache {
            c.env("KRB5CCNAME", format!("FILE:{}", cache.display()));
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{remote}: {}{}\n{}",
            text(&out.stdout),
            text(&out.stderr),
            d.log()
        );
        let on_disk = share.path().join(remote);
        assert_eq!(std::fs::read(&on_disk).unwrap(), b"from the partner");
        u64::from(std::fs::metadata(&on_disk).unwrap().uid())
    };

    let ntlm = [
        "-U".to_owned(),
        format!("{qualified}%{}", lab.password("erin")),
    ];
    assert_eq!(smbclient(&ntlm, "ntlm.txt", None), uid);

    let cache = work.path().join("cc");
    lab.mit_kinit(&format!("erin@{}", trusted.realm), &cache);
    let kerberos = ["--use-kerberos=required".to_owned()];
    assert_eq!(smbclient(&kerberos, "krb.txt", Some(&cache)), uid);

    // Adjoin's own client: smbshell takes erin's TGT from the cache and follows the
    // referral for cifs/<member> itself, each realm's KDC found through the lab's DNS (a
    // cache of its own: MIT's smbclient left its cifs/ ticket in the first).
    let cache = work.path().join("cc2");
    lab.mit_kinit(&format!("erin@{}", trusted.realm), &cache);
    let out = Command::new(env!("CARGO_BIN_EXE_smbshell"))
        .arg(format!("//{}/data", d.fqdn))
        .args(["-I", "127.0.0.1", "--port", &port, "--dns-server", &lab.dc])
        .arg("--ccache")
        .arg(&cache)
        .args(["-c", "ls"])
        .output()
        .unwrap();
    let listed = text(&out.stdout);
    assert!(
        out.status.success() && listed.contains("krb.txt") && listed.contains("ntlm.txt"),
        "smbshell as erin: {listed}{}",
        text(&out.stderr)
    );
}
