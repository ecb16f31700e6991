//! A joined member's `adjoind` serving the identity socket, for the NSS, PAM and CLI
//! tests: its own registry, cache, fast cache file and socket in a temporary directory.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use adjoin_registry::{Registry, Value};

use crate::namespace::run_in_namespace;
use crate::{Lab, text};

/// The registry key of the identity settings.
pub const IDENTITY_KEY: &str = r"HKEY_THIS_MACHINE\Identity";

/// The SMB address a test passes to have adjoind serve on a free port of 127.0.0.1: the
/// harness chooses the port, and chooses again should another process take it before
/// adjoind binds it. The port in use is [`IdentityDaemon::smb`]'s.
pub const FREE_LOOPBACK_PORT: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));

/// How many times [`IdentityDaemon`] starts adjoind, choosing a free port again each time
/// the one chosen was taken, before it gives up.
const PORT_TRIES: usize = 5;

/// A TCP port on 127.0.0.1 nothing listens on now (for a daemon the test starts; another
/// process may take it before the daemon binds it, which [`FREE_LOOPBACK_PORT`] handles).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Where adjoind's disk shares are configured.
pub const SHARES_KEY: &str = r"HKEY_THIS_MACHINE\Services\adjoind\Shares";

/// A directory for a share, world-writable with the sticky bit as /tmp is: each user
/// creates her own files. Removed when dropped.
pub fn share_dir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod 1777");
    dir
}

/// The binaries a test hands over (`env!("CARGO_BIN_EXE_...")` is only known there).
#[derive(Debug, Clone, Copy)]
pub struct Bins<'a> {
    /// domain-join.
    pub domain_join: &'a str,
    /// adjoind.
    pub adjoind: &'a str,
    /// adjoin.
    pub adjoin: &'a str,
}

/// A running adjoind of a freshly joined member; stopped (SIGKILL) on drop.
#[derive(Debug)]
pub struct IdentityDaemon {
    child: Option<Child>,
    bins: (String, String),
    /// Variables set for adjoind besides the registry's and the log's.
    env: Vec<(String, String)>,
    /// The member's directory (registry, keytab, caches, socket, log).
    pub dir: tempfile::TempDir,
    /// The member's FQDN.
    pub fqdn: String,
    /// Where adjoind serves SMB (`None`: `--no-smb`).
    pub smb: Option<SocketAddr>,
    /// Whether the harness chose [`Self::smb`]'s port (and may choose another).
    smb_port_chosen: bool,
    /// The DNS server adjoind asks: the lab DC's, or the trusted domain's DC's for a
    /// member of that domain.
    dns: String,
}

impl IdentityDaemon {
    /// Joins `fqdn` with a keytab, stores `settings` under `Identity` (the cache files are
    /// always placed in the member's directory), and starts `adjoind --no-smb`.
    pub fn start(lab: &Lab, bins: Bins<'_>, fqdn: &str, settings: &[(&str, Value)]) -> Self {
        Self::start_with(lab, bins, fqdn, settings, None)
    }

    /// [`Self::start`], with adjoind also serving SMB on `smb` when given
    /// ([`FREE_LOOPBACK_PORT`]: on a port the harness chooses).
    pub fn start_with(
        lab: &Lab,
        bins: Bins<'_>,
        fqdn: &str,
        settings: &[(&str, Value)],
        smb: Option<SocketAddr>,
    ) -> Self {
        Self::start_program(lab, bins, fqdn, settings, smb, &[])
    }

    /// [`Self::start_with`], running `bins.adjoind` (a program embedding adjoind, such as
    /// an SDK example) with the variables `env`.
    pub fn start_program(
        lab: &Lab,
        bins: Bins<'_>,
        fqdn: &str,
        settings: &[(&str, Value)],
        smb: Option<SocketAddr>,
        env: &[(&str, &str)],
    ) -> Self {
        Self::joined(lab, bins, fqdn, settings, smb, env, false)
    }

    /// [`Self::start_with`] for a member of the lab's trusted domain (OTHER.TEST), joined
    /// as its administrator through its own DC's DNS: its DC is not the one the outage
    /// tests stop, so it keeps serving while they run.
    pub fn start_in_trusted_domain(
        lab: &Lab,
        bins: Bins<'_>,
        fqdn: &str,
        settings: &[(&str, Value)],
        smb: Option<SocketAddr>,
    ) -> Self {
        Self::joined(lab, bins, fqdn, settings, smb, &[], true)
    }

    fn joined(
        lab: &Lab,
        bins: Bins<'_>,
        fqdn: &str,
        settings: &[(&str, Value)],
        smb: Option<SocketAddr>,
        env: &[(&str, &str)],
        trusted: bool,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let reg = dir.path().join("registry.db");
        let keytab = dir.path().join("krb5.keytab");
        let extra = ["--keytab", keytab.to_str().expect("UTF-8")];
        let dns = if trusted {
            lab.join_trusted_machine(bins.domain_join, &reg, fqdn, &extra);
            lab.trusted().dc
        } else {
            lab.join_machine(bins.domain_join, &reg, fqdn, &extra);
            lab.dc.clone()
        };
        let smb_port_chosen = smb.is_some_and(|a| a.port() == 0);
        let smb = smb.map(|a| match a.port() {
            0 => SocketAddr::new(a.ip(), free_port()),
            _ => a,
        });
        let mut daemon = Self {
            child: None,
            bins: (bins.adjoind.to_owned(), bins.adjoin.to_owned()),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            dir,
            fqdn: fqdn.to_owned(),
            smb,
            smb_port_chosen,
            dns,
        };
        daemon.configure(settings);
        daemon.spawn();
        daemon
    }

    /// Joins `fqdn`, starts adjoind serving SMB on a free 127.0.0.1 port, and serves
    /// `share` from a new world-writable directory ([`share_dir`]); returns once smbclient
    /// lists the share.
    pub fn serving_share(
        lab: &Lab,
        bins: Bins<'_>,
        fqdn: &str,
        share: &str,
    ) -> (Self, tempfile::TempDir) {
        let daemon = Self::start_with(lab, bins, fqdn, &[], Some(FREE_LOOPBACK_PORT));
        let dir = share_dir(&format!("adjoin-{share}-"));
        let path = Value::Sz(dir.path().display().to_string());
        daemon.set_share(share, "Path", &path);
        daemon.wait_for_share(lab, share);
        (daemon, dir)
    }

    /// Writes identity settings into the member's registry (takes effect at start or
    /// after [`Self::reload`]).
    pub fn configure(&self, settings: &[(&str, Value)]) {
        let registry = Registry::open(self.registry()).expect("the member's registry");
        let path = |name: &str| Value::Sz(self.dir.path().join(name).display().to_string());
        let mut all = vec![
            ("CachePath", path("identity.db")),
            ("NssCachePath", path("nss.cache")),
        ];
        all.extend(settings.iter().map(|(n, v)| (*n, v.clone())));
        for (name, value) in &all {
            registry
                .set_value(IDENTITY_KEY, name, value)
                .unwrap_or_else(|e| panic!("setting Identity\\{name}: {e}"));
        }
    }

    /// Starts adjoind and waits until it answers on its socket; when the SMB port the
    /// harness chose was taken meanwhile (adjoind exits: "cannot listen on ADDR"), chooses
    /// another.
    fn spawn(&mut self) {
        for tries in 1.. {
            let Err(log) = self.try_spawn() else { return };
            let taken = self.smb.filter(|addr| {
                self.smb_port_chosen && log.contains(&format!("cannot listen on {addr}"))
            });
            match taken {
                Some(addr) if tries < PORT_TRIES => {
                    self.smb = Some(SocketAddr::new(addr.ip(), free_port()));
                }
                _ => panic!("adjoind exited: {log}"),
            }
        }
    }

    /// Starts adjoind; `Err` with its log when it exits before it answers on its socket.
    fn try_spawn(&mut self) -> Result<(), String> {
        let log = std::fs::File::create(self.dir.path().join("adjoind.log")).expect("a log file");
        let mut command = Command::new(&self.bins.0);
        match self.smb {
            None => command.arg("--no-smb"),
            Some(addr) => command.args(["--listen", &addr.to_string()]),
        };
        let child = command
            .arg("--socket")
            .arg(self.socket())
            .arg("--keytab")
            .arg(self.dir.path().join("krb5.keytab"))
            .args(["--dns-server", &self.dns])
            .env("ADJOIN_REGISTRY", self.registry())
            .env("ADJOIN_LOG", "info,adjoin_identity=debug")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("adjoind starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.adjoin(&["status"]).status.success() {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(format!("({status}) {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "adjoind did not answer on its socket within 30 s: {}",
            self.log()
        );
    }

    /// Deletes the member's computer account at the DC (what a test does at its end, so that
    /// the lab does not fill up with members).
    pub fn forget(&self, lab: &Lab) {
        lab.forget_member(&self.fqdn);
    }

    /// Stops adjoind (SIGKILL, as a crash would) and starts it again on the same state.
    pub fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.spawn();
    }

    /// Sets share `share`'s value `name` in the member's registry (adjoind picks shares up
    /// within a few seconds).
    pub fn set_share(&self, share: &str, name: &str, value: &Value) {
        Registry::open(self.registry())
            .expect("the member's registry")
            .set_value(&format!(r"{SHARES_KEY}\{share}"), name, value)
            .unwrap_or_else(|e| panic!("setting Shares\\{share}\\{name}: {e}"));
    }

    /// Waits until `share` shows in `smbclient -L` as alice (adjoind reads the registry's
    /// shares every few seconds).
    pub fn wait_for_share(&self, lab: &Lab, share: &str) {
        let port = self.smb.expect("serving SMB").port().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("smbclient")
                .args(["-L", "127.0.0.1", "-p", &port])
                .arg("-U")
                .arg(format!("{}\\alice%{}", lab.netbios, lab.password("alice")))
                .output()
                .expect("smbclient runs");
            if text(&out.stdout).contains(share) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "share {share} not listed within 30 s: {}{}\nadjoind: {}",
                text(&out.stdout),
                text(&out.stderr),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The member's registry file.
    pub fn registry(&self) -> PathBuf {
        self.dir.path().join("registry.db")
    }

    /// The identity socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("adjoind.sock")
    }

    /// The NSS fast cache file.
    pub fn nss_cache(&self) -> PathBuf {
        self.dir.path().join("nss.cache")
    }

    /// What adjoind logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("adjoind.log")).unwrap_or_default()
    }

    /// Runs `adjoin ARGS --socket SOCKET`.
    pub fn adjoin(&self, args: &[&str]) -> Output {
        Command::new(&self.bins.1)
            .args(args)
            .arg("--socket")
            .arg(self.socket())
            .env("ADJOIN_REGISTRY", self.registry())
            .output()
            .expect("adjoin runs")
    }

    /// `adjoin ARGS --json` parsed; panics unless it succeeded.
    pub fn adjoin_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.adjoin(&all);
        assert!(
            out.status.success(),
            "adjoin {args:?}: {}",
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "adjoin {args:?} printed bad JSON ({e}): {}",
                text(&out.stdout)
            )
        })
    }

    /// Sends SIGHUP (reload the settings) and waits until the socket answers again.
    pub fn reload(&self) {
        let pid = self.child.as_ref().expect("running").id();
        let ok = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(ok.success());
        std::thread::sleep(Duration::from_millis(300));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.adjoin(&["status"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "adjoind did not come back after SIGHUP: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `argv` with this daemon's NSS module in a private mount namespace, where a
    /// copy of nsswitch.conf naming it is bind-mounted over the host's.
    pub fn nss(&self, argv: &[&str]) -> Output {
        let (conf, lib) = self.nss_files();
        let mut env: Vec<(String, String)> = self.client_env();
        env.push(("LD_LIBRARY_PATH".into(), lib.display().to_string()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_in_namespace(
            &[(conf.as_path(), Path::new("/etc/nsswitch.conf"))],
            &env,
            argv,
            None,
        )
    }

    /// [`Self::nss`], asserting that `argv` succeeded (with the daemon's log if not); its
    /// standard output.
    pub fn nss_ok(&self, argv: &[&str]) -> String {
        let out = self.nss(argv);
        assert!(
            out.status.success(),
            "{argv:?}: {}{}\n{}",
            text(&out.stdout),
            text(&out.stderr),
            self.log()
        );
        text(&out.stdout)
    }

    /// Runs `pamtester -v adjoin-test USER OPS...` with `input` on stdin, in a private mount
    /// namespace whose /etc/pam.d is a copy of the host's plus `adjoin-test`, a service
    /// naming the built pam_adjoin.so for every stack.
    pub fn pamtester(&self, user: &str, ops: &[&str], input: &str) -> Output {
        let module = built_library("libpam_adjoin.so");
        let dir = self.dir.path().join("pam.d");
        std::fs::create_dir_all(&dir).expect("a pam.d directory");
        for entry in std::fs::read_dir("/etc/pam.d")
            .expect("/etc/pam.d")
            .flatten()
        {
            let _ = std::fs::copy(entry.path(), dir.join(entry.file_name()));
        }
        let m = module.display();
        std::fs::write(
            dir.join("adjoin-test"),
            format!(
                "auth required {m}\naccount required {m}\npassword required {m}\nsession required {m}\n"
            ),
        )
        .expect("the PAM service file");
        let mut argv = vec!["pamtester", "-v", "adjoin-test", user];
        argv.extend_from_slice(ops);
        let env = self.client_env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_in_namespace(
            &[(dir.as_path(), Path::new("/etc/pam.d"))],
            &env,
            &argv,
            Some(input.as_bytes()),
        )
    }

    /// The files a test of the NSS module needs in its private namespace: an
    /// nsswitch.conf with `adjoin` after `files`, and a directory holding
    /// libnss_adjoin.so.2 (for LD_LIBRARY_PATH).
    pub fn nss_files(&self) -> (PathBuf, PathBuf) {
        let conf = self.dir.path().join("nsswitch.conf");
        std::fs::write(
            &conf,
            "passwd: files adjoin\ngroup: files adjoin\nshadow: files\nhosts: files\n",
        )
        .expect("write nsswitch.conf");
        let lib = self.dir.path().join("lib");
        std::fs::create_dir_all(&lib).expect("lib dir");
        std::fs::copy(
            built_library("libnss_adjoin.so"),
            lib.join("libnss_adjoin.so.2"),
        )
        .expect("copy the NSS module");
        (conf, lib)
    }

    /// The environment the NSS module and pam_adjoin need to find this daemon.
    pub fn client_env(&self) -> Vec<(String, String)> {
        vec![
            ("ADJOIN_SOCKET".into(), self.socket().display().to_string()),
            (
                "ADJOIN_NSS_CACHE".into(),
                self.nss_cache().display().to_string(),
            ),
        ]
    }
}

impl Drop for IdentityDaemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A library cargo built in this workspace's target directory (`libnss_adjoin.so`,
/// `libpam_adjoin.so`): the newer of `target/debug/NAME` (cargo build) and
/// `target/debug/deps/NAME` (cargo test), so a stale copy is never loaded.
pub fn built_library(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("target"));
    let debug = target.join("debug");
    [debug.join(name), debug.join("deps").join(name)]
        .into_iter()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!(
                "{name} is not built in {}: run `cargo build --workspace`",
                debug.display()
            )
        })
}

/// The lab DC's processes stopped with SIGSTOP (so it hangs rather than refuses) until
/// dropped, when SIGCONT resumes them.
#[derive(Debug)]
pub struct DcStopped {
    pgid: String,
}

impl DcStopped {
    /// Stops the lab DC's whole process group.
    pub fn stop(lab: &Lab) -> Self {
        crate::may_disturb_the_dc("stops");
        let pid = std::fs::read_to_string(Path::new(&lab.dir).join("samba.pid"))
            .expect("the DC's pid file");
        let pgid = format!("-{}", pid.trim());
        let ok = Command::new("kill")
            .args(["-STOP", "--", &pgid])
            .status()
            .expect("kill runs");
        assert!(ok.success(), "SIGSTOP to the DC");
        Self { pgid }
    }
}

impl Drop for DcStopped {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", "--", &self.pgid])
            .status();
    }
}
