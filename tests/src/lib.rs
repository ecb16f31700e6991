//! What the integration tests share: the lab domain's coordinates.
//!
//! The tests in `tests/tests/` talk to the real Samba AD DC that `tools/lab up` runs. They
//! never skip: without the lab they fail and say how to bring it up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use adjoin_auth::keytab::{Keytab, KeytabEntry};
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::principal::PrincipalName;
use adjoin_join::discover::DiscoverOptions;
use adjoin_join::member::{self, Membership};
use adjoin_registry::Registry;

pub mod daemon;
pub mod namespace;

/// The lab domain, as `tools/lab env` describes it.
#[derive(Debug, Clone)]
pub struct Lab {
    /// The DC's address (127.0.0.2).
    pub dc: String,
    /// The DC's DNS name (dc1.example.test).
    pub dc_name: String,
    /// The DNS domain (example.test).
    pub domain: String,
    /// The Kerberos realm (EXAMPLE.TEST).
    pub realm: String,
    /// The NetBIOS domain (EXAMPLE).
    pub netbios: String,
    /// The administrator's name.
    pub admin: String,
    /// The administrator's password (lab only).
    pub admin_password: String,
    /// A krb5.conf for the MIT tools that names the lab KDC.
    pub krb5_config: String,
    /// The lab's state directory.
    pub dir: String,
    /// Everything `tools/lab env --json` printed.
    env: serde_json::Value,
}

/// The objectSid of `account` in the database of the DC whose state is in `dir`.
fn ldb_object_sid(dir: &str, account: &str) -> String {
    let out = Command::new("ldbsearch")
        .args([
            "-H",
            &format!("{}/private/sam.ldb", dir),
            &format!("(sAMAccountName={account})"),
            "objectSid",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run ldbsearch: {e}"));
    text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("objectSid: ").map(str::to_owned))
        .unwrap_or_else(|| panic!("no objectSid for {account}: {}", text(&out.stderr)))
}

/// The lab's trusted domain ([`Lab::trusted`]).
#[derive(Debug, Clone)]
pub struct TrustedDomain {
    /// Its DC's address (127.0.0.4).
    pub dc: String,
    /// Its DC's DNS name (ad7.other.test).
    pub dc_name: String,
    /// DNS domain (other.test).
    pub domain: String,
    /// Kerberos realm (OTHER.TEST).
    pub realm: String,
    /// NetBIOS domain (PARTNER).
    pub netbios: String,
    /// Its administrator's password.
    pub admin_password: String,
    /// Its DC's state directory.
    pub dir: String,
}

impl TrustedDomain {
    /// The objectSid its DC's own database holds for `account` (read with ldbsearch).
    pub fn object_sid(&self, account: &str) -> String {
        ldb_object_sid(&self.dir, account)
    }
}

/// Panics unless this test binary may stop or restart the lab's DC (`what` says how):
/// `tools/test-runner.py` runs test binaries side by side and sets `ADJOIN_TEST_SHARED_DC`
/// for every one not marked `// tools/test: alone`, whose neighbours need the DC.
pub fn may_disturb_the_dc(what: &str) {
    if std::env::var_os("ADJOIN_TEST_SHARED_DC").is_some() {
        panic!(
            "this test {what} the lab's DC while other test binaries use it: mark its file \
             with a line `// tools/test: alone` (see tools/test-runner.py)"
        );
    }
}

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

impl Lab {
    /// The lab's coordinates from `tools/lab env --json`, after checking that the DC
    /// answers. Panics with instructions when the lab is not up: the integration tests
    /// are meant to fail, not skip, without it.
    pub fn get() -> Self {
        let lab = repo_root().join("tools/lab");
        let status = Command::new(&lab).arg("status").output();
        match status {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "the lab domain is not up ({}): run `tools/lab up` as root first (see README)",
                String::from_utf8_lossy(&o.stdout).replace('\n', "; ")
            ),
            Err(e) => panic!("cannot run {}: {e}", lab.display()),
        }
        let out = Command::new(&lab)
            .args(["env", "--json"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} env: {e}", lab.display()));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("tools/lab env --json printed bad JSON: {e}"));
        let get = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("tools/lab env --json has no {k}"))
                .to_owned()
        };
        Self {
            dc: get("ADJOIN_LAB_DC"),
            dc_name: get("ADJOIN_LAB_DC_NAME"),
            domain: get("ADJOIN_LAB_DOMAIN"),
            realm: get("ADJOIN_LAB_REALM"),
            netbios: get("ADJOIN_LAB_NETBIOS"),
            admin: get("ADJOIN_LAB_ADMIN"),
            admin_password: get("ADJOIN_LAB_ADMIN_PASSWORD"),
            krb5_config: get("KRB5_CONFIG"),
            dir: get("ADJOIN_LAB_DIR"),
            env: v,
        }
    }

    /// The password of fixture user `user` (alice, bob, carol, dave).
    pub fn password(&self, user: &str) -> String {
        let key = format!("ADJOIN_LAB_{}_PASSWORD", user.to_ascii_uppercase());
        self.env[&key]
            .as_str()
            .unwrap_or_else(|| panic!("tools/lab env --json has no {key}"))
            .to_owned()
    }

    /// `samba-tool domain info DC` parsed into (key, value) pairs: the reference answer
    /// for what a DC locator should find.
    pub fn samba_domain_info(&self) -> Vec<(String, String)> {
        let out = Command::new("samba-tool")
            .args(["domain", "info", &self.dc])
            .output()
            .unwrap_or_else(|e| panic!("cannot run samba-tool: {e}"));
        assert!(
            out.status.success(),
            "samba-tool domain info failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    /// A service account `account` with SPN `HTTP/<account>.<domain>`, created once per lab,
    /// optionally limited to AES (msDS-SupportedEncryptionTypes = 0x18). Returns the SPN and
    /// Samba's keys for it, filed under the SPN as an acceptor's keytab would have them.
    pub fn service_account(&self, account: &str, aes_only: bool) -> (PrincipalName, Keytab) {
        let lab = self;
        // Tests run in parallel threads; the directory is changed by one at a time.
        static SETUP: Mutex<()> = Mutex::new(());
        let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
        let sam = format!("{}/private/sam.ldb", lab.dir);
        let conf = format!("{}/etc/smb.conf", lab.dir);
        let spn = format!("HTTP/{account}.{}", lab.domain);
        let st = |args: &[&str]| {
            Command::new("samba-tool")
                .args(args)
                .args(["-s", &conf])
                .output()
                .expect("samba-tool runs")
        };
        let exists = st(&["user", "show", account, "-H", &sam]).status.success();
        if !exists {
            let made = st(&["user", "create", account, "Svc-Lab-Pass1!", "-H", &sam]);
            assert!(
                made.status.success(),
                "{}",
                String::from_utf8_lossy(&made.stderr)
            );
        }
        let spns = st(&["spn", "list", account, "-H", &sam]);
        if !String::from_utf8_lossy(&spns.stdout).contains(&spn) {
            let added = st(&["spn", "add", &spn, account, "-H", &sam]);
            assert!(
                added.status.success(),
                "{}",
                String::from_utf8_lossy(&added.stderr)
            );
        }
        {
            if aes_only {
                let base = lab
                    .domain
                    .split('.')
                    .map(|p| format!("DC={p}"))
                    .collect::<Vec<_>>();
                let ldif = format!(
                    "dn: CN={account},CN=Users,{}\nchangetype: modify\nreplace: \
                     msDS-SupportedEncryptionTypes\nmsDS-SupportedEncryptionTypes: 24\n",
                    base.join(",")
                );
                let path = std::env::temp_dir().join(format!("{account}.ldif"));
                std::fs::write(&path, ldif).unwrap();
                let m = Command::new("ldbmodify")
                    .args(["-H", &sam])
                    .arg(&path)
                    .output()
                    .unwrap();
                assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kt");
        let out = st(&[
            "domain",
            "exportkeytab",
            file.to_str().unwrap(),
            "--principal",
            account,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exported = Keytab::load(&file).unwrap();
        let spn = PrincipalName::parse(&format!("{spn}@{}", lab.realm)).unwrap();
        let spn = PrincipalName {
            name_type: PrincipalName::NT_SRV_INST,
            ..spn
        };
        let mut keytab = Keytab::new();
        for e in &exported.entries {
            keytab.add(KeytabEntry::new(
                spn.clone(),
                e.kvno,
                e.key.clone(),
                e.timestamp,
            ));
        }
        (spn, keytab)
    }

    /// The objectSid the DC's own database holds for `account` (read with ldbsearch).
    pub fn object_sid(&self, account: &str) -> String {
        ldb_object_sid(&self.dir, account)
    }

    /// The trusted domain `tools/lab up` brings up beside the lab's (OTHER.TEST, NetBIOS
    /// PARTNER, a two-way forest trust). Panics with instructions when the lab was brought
    /// up without it (ADJOIN_LAB_TRUST=0): the trust tests fail rather than skip.
    pub fn trusted(&self) -> TrustedDomain {
        let get = |k: &str| {
            self.env[k]
                .as_str()
                .unwrap_or_else(|| {
                    panic!(
                        "tools/lab env --json has no {k}: the lab runs without its trusted \
                         domain; run `tools/lab down` and `tools/lab up` (without ADJOIN_LAB_TRUST=0)"
                    )
                })
                .to_owned()
        };
        TrustedDomain {
            dc: get("ADJOIN_LAB_TRUST_DC"),
            dc_name: get("ADJOIN_LAB_TRUST_DC_NAME"),
            domain: get("ADJOIN_LAB_TRUST_DOMAIN"),
            realm: get("ADJOIN_LAB_TRUST_REALM"),
            netbios: get("ADJOIN_LAB_TRUST_NETBIOS"),
            admin_password: get("ADJOIN_LAB_TRUST_ADMIN_PASSWORD"),
            dir: format!("{}/trusted", self.dir),
        }
    }

    /// The domain's SID, as the DC's database has it (alice's objectSid without its RID).
    pub fn domain_sid(&self) -> String {
        let alice = self.object_sid("alice");
        let (domain, _rid) = alice.rsplit_once('-').expect("a SID has sub-authorities");
        domain.to_owned()
    }

    /// Joins a machine named `fqdn` with `domain-join` (`bin`, the test's
    /// `CARGO_BIN_EXE_domain-join`) into `registry` as the lab's administrator, with the
    /// lab's DNS and `extra` arguments (e.g. `--keytab FILE` or `--no-keytab`); asserts it
    /// worked. An account left by an earlier run is deleted first.
    pub fn join_machine(&self, bin: &str, registry: &Path, fqdn: &str, extra: &[&str]) {
        self.forget_member(fqdn);
        let mut args = vec![
            "join",
            &self.domain,
            &self.admin,
            "--name",
            fqdn,
            "--dns-server",
            &self.dc,
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        let out = run_tool(bin, registry, &args, &self.admin_password);
        assert!(out.status.success(), "join {fqdn}: {}", text(&out.stderr));
    }

    /// [`Self::join_machine`] into the trusted domain (OTHER.TEST) as its administrator,
    /// asking its own DC's DNS (so nothing depends on the lab DC).
    pub fn join_trusted_machine(&self, bin: &str, registry: &Path, fqdn: &str, extra: &[&str]) {
        let trusted = self.trusted();
        let mut args = vec![
            "join",
            &trusted.domain,
            "administrator",
            "--name",
            fqdn,
            "--dns-server",
            &trusted.dc,
            "--password-stdin",
            // An account an earlier run left is taken over.
            "--reuse-account",
        ];
        args.extend_from_slice(extra);
        let out = run_tool(bin, registry, &args, &trusted.admin_password);
        assert!(out.status.success(), "join {fqdn}: {}", text(&out.stderr));
    }

    /// A service ticket for `spn`, obtained as `user` (with the lab password) from the
    /// lab's KDC by Adjoin's own Kerberos client.
    pub async fn service_ticket(&self, user: &str, spn: &PrincipalName) -> Credentials {
        let kdc_addr = std::net::SocketAddr::new(self.dc.parse().expect("the DC's address"), 88);
        let config = KdcConfig::new(vec![kdc_addr]);
        let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, [user], self.realm.as_str());
        let secret = ClientSecret::Password(zeroize::Zeroizing::new(self.password(user)));
        let exchange = AsExchange::new(client, secret, AsOptions::default());
        let tgt = kdc::initial_credentials(exchange, &config, &std::time::SystemTime::now)
            .await
            .unwrap_or_else(|e| panic!("a TGT for {user}: {e}"));
        kdc::service_ticket(tgt, spn.clone(), &config, &std::time::SystemTime::now)
            .await
            .unwrap_or_else(|e| panic!("a ticket for {spn} as {user}: {e}"))
    }

    /// Discovery options that ask the lab's DNS.
    pub fn discover_options(&self) -> DiscoverOptions {
        DiscoverOptions {
            dns_servers: vec![std::net::SocketAddr::new(
                self.dc.parse().expect("the lab DC's address"),
                53,
            )],
            ..DiscoverOptions::default()
        }
    }

    /// A machine named `fqdn` joined into a registry of its own (with its keytab at
    /// `krb5.keytab` in the same directory when `keytab` is set, else none), and its
    /// membership as the member library reads it back; the directory lives as long as the
    /// returned guard.
    pub fn joined_member(
        &self,
        bin: &str,
        fqdn: &str,
        keytab: bool,
    ) -> (tempfile::TempDir, Membership) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let reg = dir.path().join("registry.db");
        let keytab_path = dir.path().join("krb5.keytab");
        let keytab_arg = keytab_path.to_str().expect("a UTF-8 temporary path");
        let extra: &[&str] = if keytab {
            &["--keytab", keytab_arg]
        } else {
            &["--no-keytab"]
        };
        self.join_machine(bin, &reg, fqdn, extra);
        let registry = Registry::open(&reg).expect("the joined registry opens");
        let membership = member::membership(&registry).expect("the join's membership");
        (dir, membership)
    }

    /// The large-group fixtures, created once per lab (tests/lab/large_groups.py, ~20 s the
    /// first time): `biggroup` with 2,000 member users `bulk0001`..`bulk2000`, and user
    /// `manygroups` (password [`MANYGROUPS_PASSWORD`]) in 300 groups `mg001`..`mg300`.
    pub fn large_groups(&self) {
        static DONE: Mutex<bool> = Mutex::new(false);
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if *done {
            return;
        }
        let out = Command::new("/usr/bin/python3")
            .arg(repo_root().join("tests/lab/large_groups.py"))
            .arg(format!("{}/etc/smb.conf", self.dir))
            .arg(format!("{}/private/sam.ldb", self.dir))
            .arg(MANYGROUPS_PASSWORD)
            .output()
            .unwrap_or_else(|e| panic!("cannot run tests/lab/large_groups.py: {e}"));
        succeeded(&out, "tests/lab/large_groups.py");
        *done = true;
    }

    /// MIT `kinit -k -t KEYTAB ACCOUNT$@REALM` (a machine account's keys), into a
    /// credential cache in `dir`.
    pub fn mit_kinit_k(&self, keytab: &Path, account: &str, dir: &Path) -> Output {
        Command::new("kinit")
            .arg("-k")
            .arg("-t")
            .arg(keytab)
            .arg(format!("{account}$@{}", self.realm))
            .env("KRB5_CONFIG", &self.krb5_config)
            .env("KRB5CCNAME", format!("FILE:{}", dir.join("cc").display()))
            .output()
            .expect("MIT kinit runs")
    }

    /// MIT `kinit USER@REALM` with the fixture user's password, into the credential cache
    /// file `cache`; asserts it worked. `user` may name its realm (`erin@OTHER.TEST`, the
    /// trusted domain's); the lab's realm is the default.
    pub fn mit_kinit(&self, user: &str, cache: &Path) {
        let (user, principal) = match user.split_once('@') {
            Some((name, _)) => (name, user.to_owned()),
            None => (user, format!("{user}@{}", self.realm)),
        };
        let out = output_with_stdin(
            Command::new("kinit")
                .arg(principal)
                .env("KRB5_CONFIG", &self.krb5_config)
                .env("KRB5CCNAME", format!("FILE:{}", cache.display())),
            &format!("{}\n", self.password(user)),
        );
        succeeded(&out, &format!("kinit {user}"));
    }

    /// Deletes the computer account of the member `fqdn` (its first label, upper-cased),
    /// if there is one.
    pub fn forget_member(&self, fqdn: &str) {
        let name = fqdn.split('.').next().unwrap_or_default().to_uppercase();
        let _ = self.samba_tool(&["computer", "delete", &name]);
    }

    /// `samba-tool ARGS` against the running DC over LDAP, as the administrator.
    pub fn samba_tool(&self, args: &[&str]) -> Output {
        // The domain is named: without it samba-tool sends the workgroup of the host's
        // own /etc/samba/smb.conf (Debian's: WORKGROUP), which the DC then hands to
        // winbindd as a foreign domain; that worked until, on 2026-12-04, a DC here
        // answered it with NT_STATUS_CONNECTION_REFUSED (LDAP bind "data 4c9").
        let admin = format!("{}\\{}%{}", self.netbios, self.admin, self.admin_password);
        let url = format!("ldap://{}", self.dc);
        Command::new("samba-tool")
            .args(args)
            .args(["-H", &url, "-U", &admin])
            .output()
            .expect("samba-tool runs")
    }

    /// A user of one test alone: deleted if it exists, created with `password`
    /// (`must_change`: expired at once), and put under the [`KPASSWD_PSO`] policy, which
    /// drops the domain's one-day minimum password age so the test may change it.
    pub fn fresh_user(&self, user: &str, password: &str, must_change: bool) {
        self.ensure_kpasswd_pso();
        let _ = self.samba_tool(&["user", "delete", user]);
        let mut create = vec!["user", "create", user, password];
        if must_change {
            create.push("--must-change-at-next-login");
        }
        succeeded(&self.samba_tool(&create), "samba-tool user create");
        let apply = [
            "domain",
            "passwordsettings",
            "pso",
            "apply",
            KPASSWD_PSO,
            user,
        ];
        succeeded(&self.samba_tool(&apply), "samba-tool pso apply");
    }

    /// Creates the PSO once per lab (tests in several processes may race to it).
    fn ensure_kpasswd_pso(&self) {
        static ONCE: Mutex<bool> = Mutex::new(false);
        let mut done = ONCE.lock().unwrap_or_else(|e| e.into_inner());
        if *done {
            return;
        }
        let show = ["domain", "passwordsettings", "pso", "show", KPASSWD_PSO];
        if !self.samba_tool(&show).status.success() {
            let _ = self.samba_tool(&[
                "domain",
                "passwordsettings",
                "pso",
                "create",
                KPASSWD_PSO,
                "10",
                "--min-pwd-age=0",
                "--min-pwd-length=7",
                "--history-length=24",
                "--complexity=on",
            ]);
            succeeded(&self.samba_tool(&show), "the kpasswd test PSO exists");
        }
        *done = true;
    }
}

/// The password of the large-group fixture user `manygroups` (lab only).
pub const MANYGROUPS_PASSWORD: &str = "Many-Lab-Pass1!";

/// The fine-grained password policy of the password-change tests: the domain's rules
/// without the minimum password age.
pub const KPASSWD_PSO: &str = "adjoin-kpasswd-tests";

/// Panics with the command's output unless it succeeded.
/// Runs one of Adjoin's binaries (`bin`, e.g. `env!("CARGO_BIN_EXE_adjoin")`) with its own
/// registry, no admin password in the environment, and `stdin` as its first input line.
pub fn run_tool(bin: &str, registry: &Path, args: &[&str], stdin: &str) -> Output {
    output_with_stdin(
        Command::new(bin)
            .args(args)
            .env("ADJOIN_REGISTRY", registry)
            .env_remove("ADJOIN_ADMIN_PASSWORD"),
        &format!("{stdin}\n"),
    )
}

/// Runs `command` with `stdin` written to its standard input (which is then closed) and
/// its output collected. A program that exits without reading its input is no error.
pub fn output_with_stdin(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", command.get_program()));
    let _ = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait for the program")
}

/// The RID of `sid` (its last sub-authority), as in `S-1-5-21-1-2-3-1103`.
pub fn rid(sid: &str) -> u64 {
    sid.rsplit_once('-')
        .and_then(|(_, r)| r.parse().ok())
        .expect("a SID ends in its RID")
}

/// Program output as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that a command (`what`, in the message) exited with status 0, showing its
/// output when it did not.
pub fn succeeded(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// [`succeeded`], then the command's standard output as text.
pub fn succeeded_stdout(out: &Output, what: &str) -> String {
    succeeded(out, what);
    text(&out.stdout)
}
