//! `adjoin configure` end to end on a temporary `--etc`: enable, enable again, disable
//! back to the original bytes, the one-time backups, and a refusal that writes nothing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Debian 12's /etc/nsswitch.conf.
const DEBIAN_NSSWITCH: &str = concat!(
    "# /etc/nsswitch.conf\n",
    "#\n",
    "# Example configuration of GNU Name Service Switch functionality.\n",
    "# If you have the `glibc-doc-reference' and `info' packages installed, try:\n",
    "# `info libc \"Name Service Switch\"' for information about this file.\n",
    "\n",
    "passwd:         files systemd\n",
    "group:          files systemd\n",
    "shadow:         files systemd\n",
    "gshadow:        files systemd\n",
    "\n",
    "hosts:          files dns\n",
    "networks:       files\n",
    "\n",
    "protocols:      db files\n",
    "services:       db files\n",
    "ethers:         db files\n",
    "rpc:            db files\n",
    "\n",
    "netgroup:       nis\n",
);

/// Debian 12's /etc/pam.d/common-auth.
const DEBIAN_AUTH: &str = concat!(
    "#\n",
    "# /etc/pam.d/common-auth - authentication settings common to all services\n",
    "#\n",
    "# This file is included from other service-specific PAM config files,\n",
    "# and should contain a list of the authentication modules that define\n",
    "# the central authentication scheme for use on the system\n",
    "# (e.g., /etc/shadow, LDAP, Kerberos, etc.).  The default is to use the\n",
    "# traditional Unix authentication mechanisms.\n",
    "#\n",
    "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
    "# To take advantage of this, it is recommended that you configure any\n",
    "# local modules either before or after the default block, and use\n",
    "# pam-auth-update to manage selection of other modules.  See\n",
    "# pam-auth-update(8) for details.\n",
    "\n",
    "# here are the per-package modules (the \"Primary\" block)\n",
    "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n",
    "# here's the fallback if no module succeeds\n",
    "auth\trequisite\t\t\tpam_deny.so\n",
    "# prime the stack with a positive return value if there isn't one already;\n",
    "# this avoids us returning an error just because nothing sets a success code\n",
    "# since the modules above will each just jump around\n",
    "auth\trequired\t\t\tpam_permit.so\n",
    "# and here are more per-package modules (the \"Additional\" block)\n",
    "auth\toptional\t\t\tpam_cap.so \n",
    "# end of pam-auth-update config\n",
);

/// Debian 12's /etc/pam.d/common-account.
const DEBIAN_ACCOUNT: &str = concat!(
    "#\n",
    "# /etc/pam.d/common-account - authorization settings common to all services\n",
    "#\n",
    "# This file is included from other service-specific PAM config files,\n",
    "# and should contain a list of the authorization modules that define\n",
    "# the central access policy for use on the system.  The default is to\n",
    "# only deny service to users whose accounts are expired in /etc/shadow.\n",
    "#\n",
    "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
    "# To take advantage of this, it is recommended that you configure any\n",
    "# local modules either before or after the default block, and use\n",
    "# pam-auth-update to manage selection of other modules.  See\n",
    "# pam-auth-update(8) for details.\n",
    "#\n",
    "\n",
    "# here are the per-package modules (the \"Primary\" block)\n",
    "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so \n",
    "# here's the fallback if no module succeeds\n",
    "account\trequisite\t\t\tpam_deny.so\n",
    "# prime the stack with a positive return value if there isn't one already;\n",
    "# this avoids us returning an error just because nothing sets a success code\n",
    "# since the modules above will each just jump around\n",
    "account\trequired\t\t\tpam_permit.so\n",
    "# and here are more per-package modules (the \"Additional\" block)\n",
    "# end of pam-auth-update config\n",
);

/// Debian 12's /etc/pam.d/common-password.
const DEBIAN_PASSWORD: &str = concat!(
    "#\n",
    "# /etc/pam.d/common-password - password-related modules common to all services\n",
    "#\n",
    "# This file is included from other service-specific PAM config files,\n",
    "# and should contain a list of modules that define the services to be\n",
    "# used to change user passwords.  The default is pam_unix.\n",
    "\n",
    "# Explanation of pam_unix options:\n",
    "# The \"yescrypt\" option enables\n",
    "#hashed passwords using the yescrypt algorithm, introduced in Debian\n",
    "#11.  Without this option, the default is Unix crypt.  Prior releases\n",
    "#used the option \"sha512\"; if a shadow password hash will be shared\n",
    "#between Debian 11 and older releases replace \"yescrypt\" with \"sha512\"\n",
    "#for compatibility .  The \"obscure\" option replaces the old\n",
    "#`OBSCURE_CHECKS_ENAB' option in login.defs.  See the pam_unix manpage\n",
    "#for other options.\n",
    "\n",
    "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
    "# To take advantage of this, it is recommended that you configure any\n",
    "# local modules either before or after the default block, and use\n",
    "# pam-auth-update to manage selection of other modules.  See\n",
    "# pam-auth-update(8) for details.\n",
    "\n",
    "# here are the per-package modules (the \"Primary\" block)\n",
    "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n",
    "# here's the fallback if no module succeeds\n",
    "password\trequisite\t\t\tpam_deny.so\n",
    "# prime the stack with a positive return value if there isn't one already;\n",
    "# this avoids us returning an error just because nothing sets a success code\n",
    "# since the modules above will each just jump around\n",
    "password\trequired\t\t\tpam_permit.so\n",
    "# and here are more per-package modules (the \"Additional\" block)\n",
    "# end of pam-auth-update config\n",
);

/// Debian 12's /etc/pam.d/common-session.
const DEBIAN_SESSION: &str = concat!(
    "#\n",
    "# /etc/pam.d/common-session - session-related modules common to all services\n",
    "#\n",
    "# This file is included from other service-specific PAM config files,\n",
    "# and should contain a list of modules that define tasks to be performed\n",
    "# at the start and end of interactive sessions.\n",
    "#\n",
    "# As of pam 1.0.1-6, this file is managed by pam-auth-update by default.\n",
    "# To take advantage of this, it is recommended that you configure any\n",
    "# local modules either before or after the default block, and use\n",
    "# pam-auth-update to manage selection of other modules.  See\n",
    "# pam-auth-update(8) for details.\n",
    "\n",
    "# here are the per-package modules (the \"Primary\" block)\n",
    "session\t[default=1]\t\t\tpam_permit.so\n",
    "# here's the fallback if no module succeeds\n",
    "session\trequisite\t\t\tpam_deny.so\n",
    "# prime the stack with a positive return value if there isn't one already;\n",
    "# this avoids us returning an error just because nothing sets a success code\n",
    "# since the modules above will each just jump around\n",
    "session\trequired\t\t\tpam_permit.so\n",
    "# and here are more per-package modules (the \"Additional\" block)\n",
    "session\trequired\tpam_unix.so \n",
    "session\toptional\tpam_systemd.so \n",
    "# end of pam-auth-update config\n",
);

const PAM_FILES: [(&str, &str); 4] = [
    ("common-auth", DEBIAN_AUTH),
    ("common-account", DEBIAN_ACCOUNT),
    ("common-password", DEBIAN_PASSWORD),
    ("common-session", DEBIAN_SESSION),
];

/// A temporary /etc with Debian's nsswitch.conf and pam.d/common-*, and a stand-in
/// pam_adjoin.so for the module check.
struct Etc {
    dir: tempfile::TempDir,
}

impl Etc {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("pam.d")).expect("mkdir pam.d");
        fs::write(dir.path().join("nsswitch.conf"), DEBIAN_NSSWITCH).expect("write");
        for (name, text) in PAM_FILES {
            fs::write(dir.path().join("pam.d").join(name), text).expect("write");
        }
        fs::write(dir.path().join("pam_adjoin.so"), "").expect("write");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn module(&self) -> String {
        self.path("pam_adjoin.so").display().to_string()
    }

    /// Every file adjoin configure may touch, with its text (None: absent).
    fn snapshot(&self) -> Vec<(PathBuf, Option<String>)> {
        let mut files = vec![self.path("nsswitch.conf")];
        files.extend(PAM_FILES.iter().map(|(n, _)| self.path("pam.d").join(n)));
        let backups: Vec<PathBuf> = files.iter().map(|f| backup_of(f)).collect();
        files.extend(backups);
        files
            .into_iter()
            .map(|f| {
                let text = fs::read_to_string(&f).ok();
                (f, text)
            })
            .collect()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_adjoin"))
            .arg("configure")
            .args(args)
            .arg("--etc")
            .arg(self.dir.path())
            .output()
            .expect("run adjoin configure")
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "adjoin configure {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn pam(&self, switch: &str) -> String {
        self.ok(&["pam", switch, "--module", &self.module()])
    }
}

fn backup_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().expect("file name").to_owned();
    name.push(".adjoin-backup");
    path.with_file_name(name)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn nss_enable_twice_then_disable() {
    let etc = Etc::new();
    let nss = etc.path("nsswitch.conf");
    fs::set_permissions(&nss, fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = etc.ok(&["nss", "--enable"]);
    assert!(
        out.contains("nsswitch.conf: passwd and group now use adjoin"),
        "{out}"
    );
    let on = read(&nss);
    assert!(
        on.contains("\npasswd:         files systemd adjoin\n"),
        "{on}"
    );
    assert!(
        on.contains("\ngroup:          files systemd adjoin\n"),
        "{on}"
    );
    assert!(on.contains("\nshadow:         files systemd\n"), "{on}");
    assert_eq!(read(&backup_of(&nss)), DEBIAN_NSSWITCH);
    assert_eq!(
        fs::metadata(&nss).expect("stat").permissions().mode() & 0o7777,
        0o640,
        "the mode stays"
    );

    let out = etc.ok(&["nss", "--enable"]);
    assert!(out.contains("nsswitch.conf: nothing to change"), "{out}");
    assert_eq!(read(&nss), on);

    let out = etc.ok(&["nss", "--disable", "--dry-run"]);
    assert!(
        out.contains("-passwd:         files systemd adjoin\n")
            && out.contains("+passwd:         files systemd\n"),
        "{out}"
    );
    assert_eq!(read(&nss), on, "a dry run writes nothing");

    let out = etc.ok(&["nss", "--disable"]);
    assert!(out.contains("no longer use adjoin"), "{out}");
    assert_eq!(read(&nss), DEBIAN_NSSWITCH);
    assert_eq!(read(&backup_of(&nss)), DEBIAN_NSSWITCH, "the backup stays");
    assert_eq!(
        fs::metadata(&nss).expect("stat").permissions().mode() & 0o7777,
        0o640
    );
}

#[test]
fn pam_enable_twice_then_disable() {
    let etc = Etc::new();
    let out = etc.pam("--enable");
    for (name, _) in PAM_FILES {
        assert!(
            out.contains(&format!("{name}: pam_adjoin.so added")),
            "{out}"
        );
    }
    let module = etc.module();
    let auth = read(&etc.path("pam.d/common-auth"));
    assert!(
        auth.contains(&format!(
            "auth\t[success=2 default=ignore]\t{module}\nauth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
        )),
        "{auth}"
    );
    let session = read(&etc.path("pam.d/common-session"));
    assert!(
        session.contains(&format!("pam_unix.so \nsession\toptional\t{module}\n")),
        "{session}"
    );
    let enabled = etc.snapshot();

    let out = etc.pam("--enable");
    assert_eq!(out.matches("nothing to change").count(), 4, "{out}");
    assert_eq!(etc.snapshot(), enabled);

    let out = etc.ok(&["pam", "--disable", "--dry-run"]);
    assert!(
        out.contains(&format!("-auth\t[success=2 default=ignore]\t{module}\n")),
        "{out}"
    );
    assert_eq!(etc.snapshot(), enabled, "a dry run writes nothing");

    // Disabling matches the module by name: the default name finds the lines.
    let out = etc.ok(&["pam", "--disable"]);
    assert_eq!(out.matches("pam_adjoin.so removed").count(), 4, "{out}");
    for (name, text) in PAM_FILES {
        let path = etc.path("pam.d").join(name);
        assert_eq!(read(&path), text, "{name} is back to its bytes");
        assert_eq!(read(&backup_of(&path)), text, "{name}'s backup");
    }
    let out = etc.ok(&["pam", "--disable"]);
    assert_eq!(out.matches("nothing to change").count(), 4, "{out}");
}

#[test]
fn a_mangled_file_leaves_every_file_untouched() {
    let etc = Etc::new();
    let session = etc.path("pam.d/common-session");
    fs::write(
        &session,
        DEBIAN_SESSION.replace("session\trequired\tpam_unix.so \n", ""),
    )
    .expect("write");
    let before = etc.snapshot();
    let out = etc.run(&["pam", "--enable", "--module", &etc.module()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("common-session: no `session ... pam_unix.so` line"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(etc.snapshot(), before, "no file and no backup written");

    // A line nsswitch.conf's transform does not understand.
    fs::write(etc.path("nsswitch.conf"), "passwd: files [adjoin=return]\n").expect("write");
    let before = etc.snapshot();
    let out = etc.run(&["nss", "--enable"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nsswitch.conf line 1"), "{err}");
    assert_eq!(etc.snapshot(), before);
}

#[test]
fn a_missing_module_is_refused() {
    let etc = Etc::new();
    let before = etc.snapshot();
    let missing = etc.path("nowhere/pam_adjoin.so").display().to_string();
    let out = etc.run(&["pam", "--enable", "--module", &missing]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not installed"), "{err}");
    assert_eq!(etc.snapshot(), before);
    // Unless told otherwise.
    etc.ok(&[
        "pam",
        "--enable",
        "--module",
        &missing,
        "--skip-module-check",
    ]);
    assert!(read(&etc.path("pam.d/common-account")).contains(&missing));
    // --module is for pam only.
    assert!(
        !etc.run(&["nss", "--enable", "--module", "x.so"])
            .status
            .success()
    );
    // One of --enable and --disable.
    assert!(!etc.run(&["nss"]).status.success());
    assert!(!etc.run(&["nss", "--enable", "--disable"]).status.success());
}
