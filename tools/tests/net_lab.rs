//! `net` against the real lab: its DC (srvsvc NetrShareEnum and NetrRemoteTOD, SAMR and
//! LSA over `\PIPE\...` on IPC$) and a joined member's adjoind (`net share` in the
//! registry, seen by `net view` and by Samba's smbclient).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use adjoin_tests::daemon::{Bins, FREE_LOOPBACK_PORT, IdentityDaemon, share_dir};
use adjoin_tests::{Lab, run_tool, succeeded_stdout as ok, text};

const NET: &str = env!("CARGO_BIN_EXE_net");
const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// A registry path nothing is joined in (the machine-account fallback finds nothing).
fn no_registry() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `net ARGS` as `EXAMPLE\user` (password on stdin), with the lab's DNS.
fn net_as(lab: &Lab, user: &str, password: &str, args: &[&str]) -> Output {
    let dir = no_registry();
    let who = format!(r"{}\{user}", lab.netbios);
    let mut all = args.to_vec();
    all.extend(["--user", &who, "--password-stdin", "--dns-server", &lab.dc]);
    run_tool(NET, &dir.path().join("none.db"), &all, password)
}

fn net_alice(lab: &Lab, args: &[&str]) -> Output {
    net_as(lab, "alice", &lab.password("alice"), args)
}

#[test]
fn ms_srvs_3_1_4_8_net_view_lists_the_dcs_sysvol_and_netlogon() {
    let lab = Lab::get();
    let server = format!(r"\\{}", lab.dc_name);
    let stdout = ok(&net_alice(&lab, &["view", &server]), "net view");
    assert!(
        stdout.starts_with(&format!("Shared resources at {server}\n")),
        "{stdout}"
    );
    let lower = stdout.to_lowercase();
    assert!(
        lower.contains("\nsysvol ") && lower.contains("\nnetlogon "),
        "{stdout}"
    );
    assert!(!stdout.contains("IPC$"), "hidden without /all: {stdout}");
    assert!(
        stdout.ends_with("The command completed successfully.\n"),
        "{stdout}"
    );

    let json = ok(
        &net_alice(&lab, &["view", &server, "/all", "--json"]),
        "net view --json",
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<String> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_lowercase())
        .collect();
    for share in ["sysvol", "netlogon", "ipc$"] {
        assert!(names.iter().any(|n| n == share), "{share}: {json}");
    }
}

#[test]
fn ms_srvs_3_1_4_21_net_time_shows_the_dcs_clock_and_a_small_skew() {
    let lab = Lab::get();
    let server = format!(r"\\{}", lab.dc_name);
    let stdout = ok(&net_alice(&lab, &["time", &server]), "net time");
    assert!(
        stdout.starts_with(&format!("Current time at {server} is ")),
        "{stdout}"
    );
    assert!(stdout.contains("Skew from the local clock: "), "{stdout}");
    let json = ok(
        &net_alice(&lab, &["time", &server, "--json"]),
        "net time --json",
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // The DC runs on this machine: one clock, so the skew is the call's rounding.
    let skew = v["skew_seconds"].as_f64().expect("a number");
    assert!(skew.abs() < 2.0, "{json}");
    let elapsed = v["elapsed"].as_i64().expect("a number");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - elapsed).abs() < 5, "{json}");
}

#[test]
fn ms_samr_net_user_alice_with_the_machine_account_of_a_joined_host() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.db");
    lab.join_machine(
        BINS.domain_join,
        &registry,
        &format!("netuser.{}", lab.domain),
        &["--no-keytab"],
    );
    // No --user, no --server: the machine account and the DC the join recorded.
    let stdout = ok(
        &run_tool(NET, &registry, &["user", "alice", "/domain"], ""),
        "net user alice",
    );
    assert!(
        stdout.starts_with("User name                    alice\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nFull Name                    Alice Liddell\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nAccount active               Yes\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("*Domain Users") && stdout.contains("*engineers"),
        "{stdout}"
    );

    let json = ok(
        &run_tool(NET, &registry, &["user", "alice", "--json"], ""),
        "--json",
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["user_name"], "alice", "{json}");
    assert!(v["logon_count"].is_number(), "{json}");

    let list = ok(&run_tool(NET, &registry, &["user"], ""), "net user");
    assert!(list.contains(r"User accounts for \\"), "{list}");
    for user in ["Administrator", "alice", "bob"] {
        assert!(list.split_whitespace().any(|w| w == user), "{user}: {list}");
    }

    let missing = run_tool(NET, &registry, &["user", "no-such-user-here"], "");
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("the user no-such-user-here was not found"),
        "{}",
        text(&missing.stderr)
    );
    let _ = lab.samba_tool(&["computer", "delete", "NETUSER"]);
}

#[test]
fn ms_samr_net_localgroup_administrators_lists_administrator() {
    let lab = Lab::get();
    let admin = &lab.admin_password;
    let args = ["localgroup", "Administrators", "--server", &lab.dc];
    let stdout = ok(&net_as(&lab, &lab.admin, admin, &args), "net localgroup");
    assert!(
        stdout.starts_with("Alias name     Administrators\n"),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l == "Administrator"), "{stdout}");
    assert!(stdout.lines().any(|l| l == "Domain Admins"), "{stdout}");

    let all = ok(
        &net_as(
            &lab,
            &lab.admin,
            admin,
            &["localgroup", "--server", &lab.dc],
        ),
        "net localgroup",
    );
    assert!(all.lines().any(|l| l == "*Administrators"), "{all}");

    let group = ok(
        &net_alice(&lab, &["group", "engineers", "--server", &lab.dc]),
        "net group engineers",
    );
    assert!(group.split_whitespace().any(|w| w == "alice"), "{group}");
    let groups = ok(
        &net_alice(&lab, &["group", "--server", &lab.dc]),
        "net group",
    );
    assert!(groups.lines().any(|l| l == "*Domain Admins"), "{groups}");
}

#[test]
fn net_errors_are_one_line_with_the_fix_and_the_exit_status() {
    let lab = Lab::get();
    let dir = no_registry();
    let reg = dir.path().join("none.db");
    // Nothing listens at 127.0.0.9.
    let out = net_alice(&lab, &["view", r"\\127.0.0.9"]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.starts_with(r"net: cannot reach \\127.0.0.9") && e.lines().count() == 1,
        "{e}"
    );
    // A wrong password.
    let out = net_as(&lab, "alice", "not-her-password", &["view", &lab.dc]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refused the logon of"),
        "{}",
        text(&out.stderr)
    );
    // Not joined, no --server: no DC to ask.
    let out = run_tool(
        NET,
        &reg,
        &["user", "alice", "--user", "x", "--password-stdin"],
        "pw",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not joined"),
        "{}",
        text(&out.stderr)
    );
    // Usage.
    let out = run_tool(NET, &reg, &["view"], "");
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `net view \\127.0.0.1 --port PORT` as alice until `check` accepts its output.
fn wait_for_view(lab: &Lab, port: u16, check: impl Fn(&str) -> bool) -> String {
    let port = port.to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = net_alice(lab, &["view", r"\\127.0.0.1", "--port", &port]);
        let stdout = text(&out.stdout);
        if out.status.success() && check(&stdout) {
            return stdout;
        }
        assert!(
            Instant::now() < deadline,
            "net view: {stdout}{}",
            text(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn net_share(registry: &Path, args: &[&str]) -> Output {
    let mut all = vec!["share"];
    all.extend_from_slice(args);
    all.extend(["--registry", registry.to_str().unwrap()]);
    run_tool(NET, registry, &all, "")
}

#[test]
fn net_share_adds_a_share_adjoind_serves_and_net_view_and_smbclient_see() {
    let lab = Lab::get();
    let fqdn = format!("netshare.{}", lab.domain);
    let daemon = IdentityDaemon::start_with(&lab, BINS, &fqdn, &[], Some(FREE_LOOPBACK_PORT));
    let addr = daemon.smb.expect("serving SMB");
    let registry = daemon.registry();
    let dir = share_dir("adjoin-net-share-");
    let spec = format!("netdata={}", dir.path().display());

    let added = net_share(&registry, &[&spec, "/remark:made by net"]);
    assert_eq!(
        ok(&added, "net share add"),
        "netdata was shared successfully.\n"
    );
    let again = net_share(&registry, &[&spec]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    let listed = ok(&net_share(&registry, &[]), "net share");
    assert!(
        listed.contains(&format!("\nnetdata      {}", dir.path().display())),
        "{listed}"
    );

    let view = wait_for_view(&lab, addr.port(), |s| s.contains("\nnetdata "));
    assert!(view.contains("made by net"), "{view}");
    eprintln!("net view:\n{view}\nnet share:\n{listed}");
    daemon.wait_for_share(&lab, "netdata");

    // adjoind answers NetrRemoteTOD too.
    let time = net_alice(
        &lab,
        &["time", r"\\127.0.0.1", "--port", &addr.port().to_string()],
    );
    let time = ok(&time, "net time adjoind");
    assert!(
        time.starts_with(r"Current time at \\127.0.0.1 is "),
        "{time}"
    );
    eprintln!("net time:\n{time}");

    // MS-SRVS 3.1.4.5/3.1.4.16: sessions and open files, for the server's administrators
    // (Domain Admins): the administrator sees at least the session `net` itself uses.
    let port = addr.port().to_string();
    let admin = |verb: &str| {
        net_as(
            &lab,
            &lab.admin,
            &lab.admin_password,
            &[verb, r"\\127.0.0.1", "--port", &port],
        )
    };
    let sessions = ok(&admin("session"), "net session as the administrator");
    assert!(
        sessions.starts_with("Computer ") && sessions.to_lowercase().contains("administrator"),
        "{sessions}"
    );
    eprintln!("net session:\n{sessions}");
    ok(&admin("file"), "net file as the administrator");
    let refused = net_alice(&lab, &["session", r"\\127.0.0.1", "--port", &port]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("administrators only"),
        "{}",
        text(&refused.stderr)
    );

    let deleted = net_share(&registry, &["netdata", "/delete"]);
    assert_eq!(
        ok(&deleted, "net share /delete"),
        "netdata was deleted successfully.\n"
    );
    wait_for_view(&lab, addr.port(), |s| !s.contains("\nnetdata "));
    let missing = net_share(&registry, &["netdata", "/delete"]);
    assert_eq!(missing.status.code(), Some(1));
    let _ = lab.samba_tool(&["computer", "delete", "NETSHARE"]);
}

#[test]
fn ms_samr_over_ncacn_ip_tcp_net_user_group_and_localgroup() {
    // The same SAMR calls through the endpoint mapper's port with NTLM packet privacy
    // (`--transport tcp`); Samba refuses LSA policy handles there, so alias members are
    // named through SAMR.
    let lab = Lab::get();
    let tcp = ["--server", lab.dc.as_str(), "--transport", "tcp"];
    fn with<'a>(verb: &[&'a str], tcp: &[&'a str]) -> Vec<&'a str> {
        [verb, tcp].concat()
    }
    let user = ok(
        &net_alice(&lab, &with(&["user", "alice"], &tcp)),
        "net user alice (tcp)",
    );
    assert!(
        user.contains("\nFull Name                    Alice Liddell\n"),
        "{user}"
    );
    assert!(user.contains("*engineers"), "{user}");
    let list = ok(
        &net_alice(&lab, &with(&["user", "--json"], &tcp)),
        "net user --json (tcp)",
    );
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    // More than one SamrEnumerateUsersInDomain answer: the 2,000 bulk fixture users.
    let users = v["users"].as_array().unwrap();
    assert!(
        users.len() > 2000 && users.iter().any(|u| u == "alice"),
        "{}",
        users.len()
    );
    let admins = ok(
        &net_alice(&lab, &with(&["localgroup", "Administrators"], &tcp)),
        "net localgroup Administrators (tcp)",
    );
    assert!(admins.lines().any(|l| l == "Administrator"), "{admins}");
    let group = ok(
        &net_alice(&lab, &with(&["group", "engineers"], &tcp)),
        "net group (tcp)",
    );
    assert!(group.split_whitespace().any(|w| w == "alice"), "{group}");
    let missing = net_alice(&lab, &with(&["group", "no-such-group"], &tcp));
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("the group no-such-group was not found"));
}

/// `BIN ARGS` with the saved connections in `file`, the Kerberos credential cache
/// `cache` (a missing file: none), and `stdin`.
fn with_connections(bin: &str, file: &Path, cache: &Path, args: &[&str], stdin: &str) -> Output {
    adjoin_tests::output_with_stdin(
        std::process::Command::new(bin)
            .args(args)
            .env("ADJOIN_CONNECTIONS", file)
            .env("ADJOIN_REGISTRY", file.with_extension("db"))
            .env("KRB5CCNAME", format!("FILE:{}", cache.display())),
        &format!("{stdin}\n"),
    )
}

/// `net use` saves a connection only after logging on with it, keeps the password in a
/// 0600 file that listings never show, lists it with the server's state, and smbshell
/// then logs on with it when given no account; a group-readable file is refused with the
/// fix; `/delete` forgets it.
#[test]
fn net_use_saves_a_checked_connection_that_smbshell_then_uses() {
    const SMBSHELL: &str = env!("CARGO_BIN_EXE_smbshell");
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config").join("connections.json");
    let unc = format!(r"\\{}\sysvol", lab.dc_name);
    let alice = format!(r"{}\alice", lab.netbios);
    let password = lab.password("alice");
    let no_cache = dir.path().join("no-cache");
    let net = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--dns-server", &lab.dc]);
        with_connections(NET, &file, &no_cache, &all, stdin)
    };
    let shell_unc = format!("//{}/sysvol", lab.dc_name);
    let smbshell = || {
        with_connections(
            SMBSHELL,
            &file,
            &no_cache,
            &[&shell_unc, "--dns-server", &lab.dc, "-c", "ls"],
            "",
        )
    };

    // A wrong password: refused, nothing saved.
    let user_arg = format!("/user:{alice}");
    let out = net(
        &["use", &unc, &user_arg, "--password-stdin"],
        "not-her-password",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("refused the logon"), "{err}");
    assert!(!file.exists());

    let out = net(&["use", &unc, &user_arg, "--password-stdin"], &password);
    assert_eq!(ok(&out, "net use"), "The command completed successfully.\n");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let listing = ok(&net(&["use"], ""), "net use (list)");
    assert!(
        listing.starts_with("New connections will be remembered."),
        "{listing}"
    );
    let line = listing
        .lines()
        .find(|l| l.contains(&unc))
        .unwrap_or_else(|| panic!("{unc} not listed: {listing}"));
    assert!(
        line.starts_with("OK ") && line.ends_with("Microsoft Windows Network"),
        "{line}"
    );
    assert!(!listing.contains(&password));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&net(&["use", "--json"], ""), "net use --json")).unwrap();
    assert_eq!(json[0]["remote"], unc);
    assert_eq!(json[0]["user"], alice);
    assert_eq!(json[0]["auth"], "ntlm");
    assert_eq!(json[0]["status"], "OK");
    assert!(!json.to_string().contains(&password));

    // smbshell, given no account (and no Kerberos cache), logs on with the saved one and
    // lists sysvol: the domain's folder.
    let out = smbshell();
    let listed = ok(&out, "smbshell with the saved connection").to_lowercase();
    assert!(listed.contains(&format!("{}\\", lab.domain)), "{listed}");
    // Through the domain's name: the DFS referral leads to the DC, whose saved account
    // logs on (both for the referral and for sysvol).
    let domain_unc = format!("//{}/sysvol", lab.domain);
    let shell = [domain_unc.as_str(), "--dns-server", &lab.dc, "-c", "ls"];
    let out = with_connections(SMBSHELL, &file, &no_cache, &shell, "");
    let listed = ok(&out, "smbshell //domain/sysvol with the saved connection");
    assert!(listed.to_lowercase().contains(&lab.domain), "{listed}");

    // A file others may read is refused, with the fix.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = net(&["use"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(&format!("chmod 600 {}", file.display())));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let out = net(&["use", &unc, "/delete"], "");
    assert_eq!(
        ok(&out, "net use /delete"),
        format!("{unc} was deleted successfully.\n")
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains(&password));
    let listing = ok(&net(&["use"], ""), "net use (list)");
    assert!(
        listing.contains("There are no entries in the list."),
        "{listing}"
    );
    let out = net(&["use", &unc, "/delete"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("could not be found"));
    // Without the saved account smbshell tries Kerberos, and the cache is empty.
    let out = smbshell();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("kinit"), "{err}");
}

/// `net use` without `/user`: the logon is Kerberos with a `cifs/<dc>` ticket from the
/// user's credential cache, the connection is saved without an account or a secret, and
/// smbshell then uses Kerberos for it; `net use '*' /delete` forgets everything.
#[test]
fn net_use_without_an_account_saves_a_kerberos_connection() {
    const SMBSHELL: &str = env!("CARGO_BIN_EXE_smbshell");
    let lab = Lab::get();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("connections.json");
    let cache = dir.path().join("cc");
    lab.mit_kinit("alice", &cache);
    let unc = format!(r"\\{}\sysvol", lab.dc_name);
    let net = |args: &[&str], cache: &Path| {
        let mut all = args.to_vec();
        all.extend(["--dns-server", &lab.dc]);
        with_connections(NET, &file, cache, &all, "")
    };

    let out = net(&["use", &unc], &cache);
    assert_eq!(
        ok(&out, "net use (Kerberos)"),
        "The command completed successfully.\n"
    );
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(
        !stored.contains("password") && !stored.contains("user"),
        "{stored}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&net(&["use", "--json"], &cache), "--json")).unwrap();
    assert_eq!(json[0]["remote"], unc);
    assert_eq!(json[0]["user"], serde_json::Value::Null);
    assert_eq!(json[0]["auth"], "kerberos");

    let shell_unc = format!("//{}/sysvol", lab.dc_name);
    let shell = [shell_unc.as_str(), "--dns-server", &lab.dc, "-c", "ls"];
    let listed = with_connections(SMBSHELL, &file, &cache, &shell, "");
    let listed = ok(&listed, "smbshell with Kerberos").to_lowercase();
    assert!(listed.contains(&format!("{}\\", lab.domain)), "{listed}");

    // Without a ticket nothing is saved, with one line naming kinit (exit status 1).
    let other = format!(r"\\{}\netlogon", lab.dc_name);
    let out = net(&["use", &other], &dir.path().join("none"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.lines().count() == 1 && err.contains("kinit"), "{err}");

    let out = net(&["use", "*", "/delete"], &cache);
    assert_eq!(
        ok(&out, "net use * /delete"),
        "The command completed successfully.\n"
    );
    let listing = ok(&net(&["use"], &cache), "net use (list)");
    assert!(
        listing.contains("There are no entries in the list."),
        "{listing}"
    );
}

/// `net use --port`: the port is saved with the connection, the listing probes it (nothing
/// listens on 127.0.0.1:445, so probing 445 would say Unavailable), and smbshell given
/// neither --user nor --port reaches the member's adjoind there with the saved account.
#[test]
fn net_use_saves_the_port_that_the_listing_and_smbshell_use() {
    const SMBSHELL: &str = env!("CARGO_BIN_EXE_smbshell");
    let lab = Lab::get();
    let fqdn = format!("netuseport.{}", lab.domain);
    let (daemon, data) = IdentityDaemon::serving_share(&lab, BINS, &fqdn, "data");
    let port = daemon.smb.expect("serving SMB").port().to_string();
    std::fs::write(data.path().join("seen-through-net-use.txt"), b"x").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("connections.json");
    let none = dir.path().join("no-cache");
    let alice = format!(r"/user:{}\alice", lab.netbios);

    let args = [
        "use",
        r"\\127.0.0.1\data",
        &alice,
        "--password-stdin",
        "--port",
        &port,
    ];
    let out = with_connections(NET, &file, &none, &args, &lab.password("alice"));
    ok(&out, "net use --port");
    let listing = ok(
        &with_connections(NET, &file, &none, &["use"], ""),
        "net use",
    );
    assert!(
        listing.contains(r"OK                     \\127.0.0.1\data "),
        "{listing}"
    );

    let shell = [r"\\127.0.0.1\data", "-c", "ls"];
    let out = with_connections(SMBSHELL, &file, &none, &shell, "");
    let listed = ok(&out, "smbshell with the saved port and account");
    assert!(listed.contains("seen-through-net-use.txt"), "{listed}");
    drop(daemon);
    let _ = lab.samba_tool(&["computer", "delete", "NETUSEPORT"]);
}
