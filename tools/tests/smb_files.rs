//! MS-SMB2 file serving against Samba's own client: adjoind of a freshly joined member
//! serves disk shares from its registry, and `smbclient` (Samba's, not ours) logs on as
//! domain users through the lab DC and works with files. Every file operation runs as the
//! logged-on user, so Unix permissions hold: bob cannot read alice's 0600 file, a file
//! alice creates is hers, and a share limited to `engineers` refuses bob.

// tools/test: long

use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use adjoin_registry::Value;
use adjoin_tests::daemon::{Bins, FREE_LOOPBACK_PORT, IdentityDaemon, share_dir};
use adjoin_tests::{Lab, text};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// A member serving `data` (anyone) and `eng` (engineers only) from two directories.
struct FileServer {
    daemon: IdentityDaemon,
    data: tempfile::TempDir,
    eng: tempfile::TempDir,
}

impl FileServer {
    fn start(lab: &Lab, fqdn: &str) -> Self {
        let daemon = IdentityDaemon::start_with(lab, BINS, fqdn, &[], Some(FREE_LOOPBACK_PORT));
        let (data, eng) = (share_dir("adjoin-data-"), share_dir("adjoin-eng-"));
        let path = |d: &tempfile::TempDir| Value::Sz(d.path().display().to_string());
        daemon.set_share("data", "Path", &path(&data));
        daemon.set_share("data", "Comment", &Value::Sz("team files".into()));
        daemon.set_share("eng", "Path", &path(&eng));
        daemon.set_share(
            "eng",
            "AllowedGroups",
            &Value::MultiSz(vec!["engineers".into()]),
        );
        daemon.wait_for_share(lab, "eng");
        Self { daemon, data, eng }
    }

    fn addr(&self) -> SocketAddr {
        self.daemon.smb.expect("serving SMB")
    }

    /// Runs smbclient against `share` as `user` with `password` (NTLM) and `commands`.
    fn smbclient(
        &self,
        lab: &Lab,
        share: &str,
        user: &str,
        password: &str,
        commands: &str,
    ) -> Output {
        Command::new("smbclient")
            .arg(format!("//{}/{share}", self.daemon.fqdn))
            .args(["-I", "127.0.0.1", "-p", &self.addr().port().to_string()])
            .arg("-U")
            .arg(format!("{}\\{user}%{password}", lab.netbios))
            .args(["--option=client min protocol=SMB2_02", "-c", commands])
            .env("KRB5_CONFIG", &lab.krb5_config)
            .output()
            .expect("smbclient runs")
    }
}

/// smbclient's (or a script's) whole output.
fn output(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Asserts that the output names `status`.
fn refused(out: &Output, status: &str, what: &str) {
    let all = output(out);
    assert!(all.contains(status), "{what}: expected {status}: {all}");
}

/// Asserts that no data reached `path` (absent, or empty).
fn nothing_at(path: &str) {
    assert!(
        !Path::new(path).exists() || std::fs::read(path).unwrap().is_empty(),
        "{path} got data"
    );
}

/// Runs an impacket script against `s` as `python3 -c SCRIPT 127.0.0.1 PORT ARGS...`;
/// its output, once it succeeded.
fn impacket(s: &FileServer, script: &str, args: &[&str]) -> String {
    let out = Command::new("/usr/bin/python3")
        .args(["-c", script, "127.0.0.1", &s.addr().port().to_string()])
        .args(args)
        .output()
        .expect("python3 runs");
    let all = output(&out);
    assert!(
        out.status.success(),
        "impacket: {all}\nadjoind: {}",
        s.daemon.log()
    );
    all
}

fn ok(out: &Output, what: &str) -> String {
    let all = output(out);
    assert!(out.status.success(), "{what} failed: {all}");
    assert!(!all.contains("NT_STATUS_"), "{what}: {all}");
    all
}

fn uid_of(d: &IdentityDaemon, user: &str) -> u32 {
    let v = d.adjoin_json(&["find-user", user]);
    u32::try_from(v["uid"].as_u64().expect("a uid")).unwrap()
}

#[test]
fn ms_smb2_smbclient_reads_and_writes_files_as_the_user() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbfiles.{}", lab.domain));
    let alice = lab.password("alice");
    let work = tempfile::tempdir().unwrap();
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(work.path().join("up.bin"), &payload).unwrap();
    let local = |n: &str| work.path().join(n).display().to_string();

    let out = s.smbclient(
        &lab,
        "data",
        "alice",
        &alice,
        &format!(
            "put {} up.bin; mkdir reports; rename up.bin reports\\q4.bin; ls reports\\*; \
             get reports\\q4.bin {}; allinfo reports\\q4.bin",
            local("up.bin"),
            local("down.bin")
        ),
    );
    let all = ok(&out, "put/mkdir/rename/ls/get/allinfo");
    assert!(all.contains("q4.bin"), "ls lists the renamed file: {all}");
    assert!(all.contains("create_time:"), "allinfo answers: {all}");
    assert_eq!(
        std::fs::read(work.path().join("down.bin")).unwrap(),
        payload
    );

    // On the server the file is alice's: created with her uid, not the daemon's.
    let on_disk = s.data.path().join("reports/q4.bin");
    assert_eq!(std::fs::read(&on_disk).unwrap(), payload);
    assert_eq!(
        std::fs::metadata(&on_disk).unwrap().uid(),
        uid_of(&s.daemon, "alice")
    );

    let out = s.smbclient(
        &lab,
        "data",
        "alice",
        &alice,
        "rm reports\\q4.bin; rmdir reports",
    );
    ok(&out, "rm/rmdir");
    assert!(!s.data.path().join("reports").exists());

    // A refused logon leaves no session behind in the counters either.
    let out = s.smbclient(&lab, "data", "alice", "not-her-password", "ls");
    refused(&out, "NT_STATUS_LOGON_FAILURE", "a wrong password");
    // `adjoin stats` (over adjoind's socket) counted it: the 300,000 bytes written and
    // read, and nothing held once smbclient is gone (its connection ends a moment after
    // the process).
    let mut stats = s.daemon.adjoin_json(&["stats"]);
    for _ in 0..20 {
        if stats["connections"]["current"] == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        stats = s.daemon.adjoin_json(&["stats"]);
    }
    assert_eq!(stats["connections"]["current"], 0, "{stats}");
    assert_eq!(stats["sessions"]["current"], 0, "{stats}");
    let command = |name: &str| {
        stats["commands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["command"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {stats}"))
    };
    assert!(
        command("WRITE")["bytes_in"].as_u64().unwrap() >= 300_000,
        "{stats}"
    );
    assert!(
        command("READ")["bytes_out"].as_u64().unwrap() >= 300_000,
        "{stats}"
    );
    assert!(
        stats["connections"]["max"].as_u64().unwrap() >= 1,
        "{stats}"
    );
    assert!(stats["open_files"]["max"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(stats["open_files"]["current"], 0, "{stats}");
    let reset = s.daemon.adjoin_json(&["stats", "--reset"]);
    assert!(reset["commands"].as_array().is_some_and(|c| !c.is_empty()));
    let after = s.daemon.adjoin_json(&["stats"]);
    assert!(after["commands"].as_array().unwrap().is_empty(), "{after}");
}

/// MS-SMB2 3.3.5.5 with Kerberos: smbclient takes a cifs/ ticket from alice's ccache
/// (MIT kinit), no password; the session's files are still hers.
#[test]
fn ms_smb2_smbclient_with_kerberos_works_as_the_user() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbkrb.{}", lab.domain));
    let work = tempfile::tempdir().unwrap();
    let ccache = format!("FILE:{}", work.path().join("ccache").display());
    lab.mit_kinit("alice", &work.path().join("ccache"));
    let local = work.path().join("k.txt");
    std::fs::write(&local, b"by ticket").unwrap();
    let out = Command::new("smbclient")
        .arg(format!("//{}/data", s.daemon.fqdn))
        .args(["-I", "127.0.0.1", "-p", &s.addr().port().to_string()])
        .args(["--use-kerberos=required", "-c"])
        .arg(format!("put {} k.txt; ls", local.display()))
        .env("KRB5_CONFIG", &lab.krb5_config)
        .env("KRB5CCNAME", &ccache)
        .output()
        .expect("smbclient runs");
    let all = ok(&out, "Kerberos put/ls");
    assert!(all.contains("k.txt"), "{all}");
    let on_disk = s.data.path().join("k.txt");
    assert_eq!(std::fs::read(&on_disk).unwrap(), b"by ticket");
    assert_eq!(
        std::fs::metadata(&on_disk).unwrap().uid(),
        uid_of(&s.daemon, "alice")
    );
}

/// MS-SMB2 3.3.5.3.1: impacket's default connection opens with an SMB1 NEGOTIATE listing
/// SMB2 dialects; the server answers in SMB2 (0x02FF) and the client goes on in SMB2/3.
#[test]
fn ms_smb2_3_3_5_3_1_an_smb1_negotiate_is_answered_in_smb2() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbone.{}", lab.domain));
    std::fs::write(s.data.path().join("hello.txt"), b"hello from adjoind").unwrap();
    let script = r#"
import sys
from io import BytesIO
from impacket.smbconnection import SMBConnection
host, port, domain, user, password = sys.argv[1:6]
c = SMBConnection(host, host, sess_port=int(port))
print("dialect", hex(c.getDialect()))
c.login(user, password, domain)
print("files", sorted(f.get_longname() for f in c.listPath("data", "*")))
buf = BytesIO()
c.getFile("data", "hello.txt", buf.write)
print("content", buf.getvalue().decode())
c.logoff()
"#;
    let all = impacket(
        &s,
        script,
        &[lab.netbios.as_str(), "alice", &lab.password("alice")],
    );
    assert!(all.contains("hello.txt"), "{all}");
    assert!(all.contains("content hello from adjoind"), "{all}");
}

/// MS-FSA 2.1.5.1.2 share modes across connections (impacket as the client): an open that
/// shares nothing keeps other opens out (alice's own second connection: bob would meet
/// Unix permissions first), an overwrite refused for sharing leaves the data alone, and a
/// file alice marks delete-on-close goes at the last close, even when that is bob's.
#[test]
fn ms_fsa_share_modes_hold_across_connections() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbshare.{}", lab.domain));
    let script = r#"
import sys
from impacket.smbconnection import SMBConnection, SessionError
from impacket.smb3structs import *
host, port, domain, pw_a, pw_b = sys.argv[1:6]
def connect(user, pw):
    c = SMBConnection(host, host, sess_port=int(port))
    c.login(user, pw, domain)
    return c, c.connectTree("data")
a, ta = connect("alice", pw_a)
b, tb = connect("alice", pw_a)
o, to = connect("bob", pw_b)
def status(f):
    try:
        f()
        return "ok"
    except SessionError as e:
        return e.getErrorString()[0]
f = a.openFile(ta, "locked.txt", desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA, shareMode=FILE_SHARE_READ, creationDisposition=FILE_OVERWRITE_IF)
a.writeFile(ta, f, b"keep me")
print("bob-write", status(lambda: b.openFile(tb, "locked.txt", desiredAccess=FILE_WRITE_DATA, shareMode=7, creationDisposition=FILE_OPEN)))
print("bob-overwrite", status(lambda: b.openFile(tb, "locked.txt", desiredAccess=FILE_READ_DATA, shareMode=7, creationDisposition=FILE_OVERWRITE)))
g = b.openFile(tb, "locked.txt", desiredAccess=FILE_READ_DATA, shareMode=7, creationDisposition=FILE_OPEN)
print("bob-read", b.readFile(tb, g).decode())
b.closeFile(tb, g)
a.closeFile(ta, f)
h = a.openFile(ta, "gone.txt", desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA | DELETE, shareMode=7, creationOption=FILE_DELETE_ON_CLOSE, creationDisposition=FILE_CREATE)
k = o.openFile(to, "gone.txt", desiredAccess=FILE_READ_DATA, shareMode=7, creationDisposition=FILE_OPEN)
a.closeFile(ta, h)
print("after-first-close", status(lambda: o.readFile(to, k)))
o.closeFile(to, k)
print("after-last-close", status(lambda: a.openFile(ta, "gone.txt", desiredAccess=FILE_READ_DATA, shareMode=7, creationDisposition=FILE_OPEN)))
"#;
    let all = impacket(
        &s,
        script,
        &[
            lab.netbios.as_str(),
            &lab.password("alice"),
            &lab.password("bob"),
        ],
    );
    for line in [
        "bob-write STATUS_SHARING_VIOLATION",
        "bob-overwrite STATUS_SHARING_VIOLATION",
        "bob-read keep me",
        "after-first-close ok",
        "after-last-close STATUS_OBJECT_NAME_NOT_FOUND",
    ] {
        assert!(all.contains(line), "expected {line:?}: {all}");
    }
}

#[test]
fn ms_smb2_unix_permissions_and_share_groups_hold() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smbperm.{}", lab.domain));
    let (alice, bob) = (lab.password("alice"), lab.password("bob"));
    // alice's private file, 0600.
    let secret = s.data.path().join("secret.txt");
    std::fs::write(&secret, b"alice only").unwrap();
    std::os::unix::fs::chown(&secret, Some(uid_of(&s.daemon, "alice")), None).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("got.txt").display().to_string();

    let out = s.smbclient(
        &lab,
        "data",
        "alice",
        &alice,
        &format!("get secret.txt {dest}"),
    );
    ok(&out, "alice reads her file");
    let out = s.smbclient(
        &lab,
        "data",
        "bob",
        &bob,
        &format!("get secret.txt {dest}.bob"),
    );
    refused(
        &out,
        "NT_STATUS_ACCESS_DENIED",
        "bob reads alice's 0600 file",
    );
    nothing_at(&format!("{dest}.bob"));

    // eng admits engineers (alice) and refuses bob at TREE_CONNECT.
    let out = s.smbclient(&lab, "eng", "alice", &alice, "ls");
    ok(&out, "alice lists eng");
    let out = s.smbclient(&lab, "eng", "bob", &bob, "ls");
    refused(&out, "NT_STATUS_ACCESS_DENIED", "bob uses eng");
    let _ = &s.eng;

    // A wrong password is a logon failure, whatever the share.
    let out = s.smbclient(&lab, "data", "alice", "not-her-password", "ls");
    refused(&out, "NT_STATUS_LOGON_FAILURE", "a wrong password");
    // The refusal is logged for the administrator, with the name the client gave.
    let log = s.daemon.log();
    assert!(
        log.lines()
            .any(|l| l.contains("SMB logon refused") && l.contains("user=alice")),
        "{log}"
    );

    // Names that would leave the share are refused, not resolved.
    std::os::unix::fs::symlink("/etc", s.data.path().join("etc-link")).unwrap();
    let out = s.smbclient(
        &lab,
        "data",
        "alice",
        &alice,
        &format!("get etc-link\\hostname {dest}.etc"),
    );
    refused(&out, "NT_STATUS_", "a symlink out of the share");
    nothing_at(&format!("{dest}.etc"));
}

/// A share whose directory is missing is not served, and is served once the directory
/// appears, without anyone touching the registry again.
#[test]
fn a_share_is_served_once_its_directory_appears() {
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smblate.{}", lab.domain));
    let late = s.data.path().join("late-root");
    s.daemon
        .set_share("late", "Path", &Value::Sz(late.display().to_string()));
    // Two reloads later it is still not listed: there is no directory to serve.
    std::thread::sleep(Duration::from_secs(11));
    let out = s.smbclient(&lab, "late", "alice", &lab.password("alice"), "ls");
    refused(
        &out,
        "NT_STATUS_BAD_NETWORK_NAME",
        "a share without its directory",
    );
    std::fs::create_dir(&late).unwrap();
    std::fs::set_permissions(&late, std::fs::Permissions::from_mode(0o1777)).unwrap();
    s.daemon.wait_for_share(&lab, "late");
    let out = s.smbclient(&lab, "late", "alice", &lab.password("alice"), "ls");
    ok(&out, "the late share");
}

/// The start of an impacket script run by [`impacket`] with `DOMAIN USER PASSWORD`: `c`
/// logged on as that user, `tid` connected to `data`.
const LOGGED_ON_DATA: &str = r#"
import sys
from impacket.smbconnection import SMBConnection
host, port, domain, user, password = sys.argv[1:6]
c = SMBConnection(host, host, sess_port=int(port))
c.login(user, password, domain)
tid = c.connectTree("data")"#;

/// MS-FSCC 2.4.27 FileLinkInformation (MS-FSA 2.1.5.15.6) through smbclient's `hardlink`:
/// alice's file gets a second name on the share, one file on disk (same inode, two links,
/// still hers); a name that exists is refused with STATUS_OBJECT_NAME_COLLISION (smbclient
/// does not ask to replace) and a directory with STATUS_FILE_IS_A_DIRECTORY.
#[test]
fn ms_fscc_2_4_27_smbclient_hardlink_gives_a_file_a_second_name() {
    use std::os::unix::fs::MetadataExt;
    let lab = Lab::get();
    let s = FileServer::start(&lab, &format!("smblink.{}", lab.domain));
    let alice = lab.password("alice");
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("notes.txt");
    std::fs::write(&local, "linked\n").unwrap();
    let out = s.smbclient(
        &lab,
        "data",
        "alice",
        &alice,
        &format!(
            "mkdir linkdir; put {} notes.txt; put {} other.txt; hardlink notes.txt linkdir\\again.txt",
            local.display(),
            local.display()
        ),
    );
    ok(&out, "put and hardlink");
    let (first, second) = (
        std::fs::metadata(s.data.path().join("notes.txt")).unwrap(),
        std::fs::metadata(s.data.path().join("linkdir/again.txt")).unwrap(),
    );
    assert_eq!(first.ino(), second.ino(), "one file, two names");
    assert_eq!(first.nlink(), 2);
    assert_eq!(first.uid(), uid_of(&s.daemon, "alice"));

    let out = s.smbclient(
        &lab,
        "data",
        "alice",
        &alice,
        "hardlink notes.txt other.txt",
    );
    refused(
        &out,
        "NT_STATUS_OBJECT_NAME_COLLISION",
        "hardlink onto a name",
    );
    assert_eq!(
        std::fs::metadata(s.data.path().join("other.txt"))
            .unwrap()
            .nlink(),
        1
    );
    let out = s.smbclient(&lab, "data", "alice", &alice, "hardlink linkdir dirlink");
    refused(
        &out,
        "NT_STATUS_FILE_IS_A_DIRECTORY",
        "hardlink of a directory",
    );
    assert!(!s.data.path().join("dirlink").exists());

    // The share says so: FileFsAttributeInformation has FILE_SUPPORTS_HARD_LINKS.
    let script = format!(
        r#"{LOGGED_ON_DATA}
import struct
from impacket.smb3structs import SMB2_0_INFO_FILESYSTEM, SMB2_FILESYSTEM_ATTRIBUTE_INFO
fid = c.openFile(tid, "notes.txt")
info = c.getSMBServer().queryInfo(tid, fid, infoType=SMB2_0_INFO_FILESYSTEM,
                                  fileInfoClass=SMB2_FILESYSTEM_ATTRIBUTE_INFO)
print("attributes", hex(struct.unpack("<I", info[:4])[0]))
c.closeFile(tid, fid)
c.logoff()
"#
    );
    let all = impacket(&s, &script, &[lab.netbios.as_str(), "alice", &alice]);
    let attributes = all
        .split_whitespace()
        .skip_while(|w| *w != "attributes")
        .nth(1)
        .and_then(|h| u32::from_str_radix(h.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| panic!("no attributes in: {all}"));
    assert_eq!(attributes & 0x0040_0000, 0x0040_0000, "{all}");

    // ReplaceIfExists (smbclient never sets it): a name that is open is not replaced;
    // once it is closed, it is, atomically.
    let script = format!(
        r#"{LOGGED_ON_DATA}
from impacket.smb3 import SessionError
from impacket.smb3structs import SMB2_0_INFO_FILE, FILE_RENAME_INFORMATION_TYPE_2
source = c.openFile(tid, "notes.txt")
held = c.openFile(tid, "other.txt")
def link_over_other():
    info = FILE_RENAME_INFORMATION_TYPE_2()
    info["ReplaceIfExists"] = 1
    info["FileName"] = "other.txt".encode("utf-16le")
    info["FileNameLength"] = len(info["FileName"])
    c.getSMBServer().setInfo(tid, source, inputBlob=info, infoType=SMB2_0_INFO_FILE,
                             fileInfoClass=11)
try:
    link_over_other()
    print("replaced while open")
except SessionError as e:
    print("while open:", str(e))
c.closeFile(tid, held)
link_over_other()
print("replaced once closed")
c.closeFile(tid, source)
c.logoff()
"#
    );
    let all = impacket(&s, &script, &[lab.netbios.as_str(), "alice", &alice]);
    assert!(
        all.contains("while open: SMB SessionError: STATUS_ACCESS_DENIED"),
        "{all}"
    );
    assert!(all.contains("replaced once closed"), "{all}");
    let (first, other) = (
        std::fs::metadata(s.data.path().join("notes.txt")).unwrap(),
        std::fs::metadata(s.data.path().join("other.txt")).unwrap(),
    );
    assert_eq!(first.ino(), other.ino(), "other.txt is now the same file");
    assert_eq!(first.nlink(), 3);
}
