//! MIT keytab and credential cache files (docs/kerberos-files.md) against MIT's own
//! tools and the lab KDC: files Adjoin writes are read and used by MIT `kinit`, `klist`
//! and `kvno`, and files MIT writes are read by Adjoin.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use adjoin_auth::ccache::{CcacheVersion, CredentialCache};
use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::principal::PrincipalName;
use adjoin_tests::Lab;

const ETYPES: [EncryptionType; 3] = [
    EncryptionType::AES256_CTS_HMAC_SHA1_96,
    EncryptionType::AES128_CTS_HMAC_SHA1_96,
    EncryptionType::RC4_HMAC,
];

/// Runs an MIT tool against the lab KDC with the given cache, feeding `stdin`.
fn mit(lab: &Lab, ccache: &Path, program: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env("KRB5_CONFIG", &lab.krb5_config)
        .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

fn assert_ok(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn alice(lab: &Lab) -> PrincipalName {
    PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], &lab.realm)
}

fn now() -> u32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    u32::try_from(secs).expect("before 2106")
}

/// Alice's current kvno as MIT reports it: `klist -k` of the keytab that
/// `samba-tool domain exportkeytab` writes from the DC's database.
fn alice_kvno(lab: &Lab, dir: &Path) -> u32 {
    let exported = dir.join("exported.keytab");
    let smb_conf = format!("{}/etc/smb.conf", lab.dir);
    let principal = format!("--principal=alice@{}", lab.realm);
    let out = Command::new("samba-tool")
        .args(["domain", "exportkeytab"])
        .arg(&exported)
        .args([principal.as_str(), "-s", smb_conf.as_str()])
        .output()
        .expect("run samba-tool");
    assert_ok("samba-tool domain exportkeytab", &out);
    let listing = assert_ok(
        "klist -k",
        &mit(
            lab,
            &dir.join("unused"),
            "klist",
            &["-k", &path_str(&exported)],
            "",
        ),
    );
    let kvnos: Vec<u32> = listing
        .lines()
        .filter(|l| l.contains("alice@"))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(
        !kvnos.is_empty(),
        "klist -k listed no alice keys: {listing}"
    );
    kvnos.into_iter().max().unwrap_or_default()
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_owned()
}

/// A keytab built by Adjoin from alice's password with the AD user salt
/// (realm + sAMAccountName, the RFC 4120 default salt).
fn alice_keytab(lab: &Lab, kvno: u32, password: &str) -> Keytab {
    let alice = alice(lab);
    let mut keytab = Keytab::new();
    keytab
        .add_password(
            &alice,
            kvno,
            password,
            &alice.default_salt(),
            &ETYPES,
            now(),
        )
        .expect("string_to_key");
    keytab
}

fn kinit_with_password(lab: &Lab, ccache: &Path) {
    let who = format!("alice@{}", lab.realm);
    let out = mit(
        lab,
        ccache,
        "kinit",
        &[&who],
        &format!("{}\n", lab.password("alice")),
    );
    assert_ok("kinit alice", &out);
}

#[test]
fn mit_kinit_k_gets_a_tgt_with_an_adjoin_keytab() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().expect("tempdir");
    let kvno = alice_kvno(&lab, dir.path());
    let keytab_path = dir.path().join("alice.keytab");
    alice_keytab(&lab, kvno, &lab.password("alice"))
        .save(&keytab_path)
        .expect("save keytab");

    let ccache = dir.path().join("cc");
    let who = format!("alice@{}", lab.realm);
    let keytab_name = format!("FILE:{}", keytab_path.display());
    let out = mit(
        &lab,
        &ccache,
        "kinit",
        &["-k", "-t", &keytab_name, &who],
        "",
    );
    assert_ok("kinit -k -t", &out);

    let cache = CredentialCache::load(&ccache).expect("MIT's ccache");
    assert!(cache.principal.matches(&alice(&lab)));
    let tgt = cache.tgt().expect("a TGT");
    assert_eq!(tgt.key.etype(), EncryptionType::AES256_CTS_HMAC_SHA1_96);
}

#[test]
fn mit_kinit_k_fails_with_a_wrong_password_keytab() {
    // The control for the test above: MIT really uses the keys Adjoin wrote.
    let lab = Lab::get();
    let dir = tempfile::tempdir().expect("tempdir");
    let keytab_path = dir.path().join("wrong.keytab");
    alice_keytab(&lab, 1, "not-alice's-password")
        .save(&keytab_path)
        .expect("save keytab");
    let who = format!("alice@{}", lab.realm);
    let keytab_name = format!("FILE:{}", keytab_path.display());
    let out = mit(
        &lab,
        &dir.path().join("cc"),
        "kinit",
        &["-k", "-t", &keytab_name, &who],
        "",
    );
    assert!(!out.status.success(), "kinit -k succeeded with wrong keys");
}

#[test]
fn mit_klist_k_lists_what_adjoin_wrote() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("listed.keytab");
    let mut keytab = alice_keytab(&lab, 3, "Listed-Pass1!");
    let http = PrincipalName::parse(&format!("HTTP/web.example.test@{}", lab.realm)).expect("name");
    let aes = [EncryptionType::AES256_CTS_HMAC_SHA1_96];
    keytab
        .add_password(
            &http,
            300,
            "Listed-Pass1!",
            &http.default_salt(),
            &aes,
            now(),
        )
        .expect("string_to_key");
    keytab.save(&path).expect("save");

    let out = mit(
        &lab,
        &dir.path().join("cc"),
        "klist",
        &["-k", "-t", "-e", "-K", &path_str(&path)],
        "",
    );
    let listing = assert_ok("klist -k -t -e -K", &out);
    let rows: Vec<Vec<&str>> = listing
        .lines()
        .filter(|l| l.contains('@'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), keytab.entries.len(), "{listing}");
    for (row, entry) in rows.iter().zip(&keytab.entries) {
        // KVNO DATE TIME PRINCIPAL (ETYPE) (0xKEY)
        let hex: String = entry
            .key
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let etype = entry.key.etype().name().expect("known etype");
        assert_eq!(row[0], entry.kvno.to_string(), "{listing}");
        assert_eq!(row[3], entry.principal.to_string(), "{listing}");
        assert!(row[4].ends_with(&format!("{etype})")), "{listing}");
        assert_eq!(row[5], format!("(0x{hex})"), "{listing}");
    }
}

#[test]
fn adjoin_reads_mit_kinit_ccache_and_finds_the_tgt() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().expect("tempdir");
    let ccache = dir.path().join("cc");
    kinit_with_password(&lab, &ccache);

    let bytes = std::fs::read(&ccache).expect("read ccache");
    let cache = CredentialCache::parse(&bytes).expect("parse MIT's ccache");
    assert_eq!(cache.version, CcacheVersion::V4);
    assert!(cache.principal.matches(&alice(&lab)));
    let tgt = cache.tgt().expect("a TGT");
    assert!(tgt.client.matches(&alice(&lab)));
    assert!(tgt.endtime > now(), "the TGT is current");
    assert_eq!(tgt.ticket.first(), Some(&0x61), "an [APPLICATION 1] Ticket");
    let krbtgt = PrincipalName::krbtgt(&lab.realm);
    assert!(
        cache.config("pa_type", Some(&krbtgt)).is_some(),
        "config entries kept"
    );
    assert_eq!(
        cache.to_bytes().expect("encode"),
        bytes,
        "byte-exact round trip"
    );
}

#[test]
fn mit_kvno_uses_a_ccache_adjoin_wrote() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().expect("tempdir");
    let mit_cache = dir.path().join("mit-cc");
    kinit_with_password(&lab, &mit_cache);
    let parsed = CredentialCache::load(&mit_cache).expect("parse MIT's ccache");

    // Rebuild the cache field by field rather than copying the bytes.
    let mut rebuilt = CredentialCache::new(parsed.principal.clone());
    rebuilt.set_kdc_time_offset(parsed.kdc_time_offset());
    for credential in &parsed.credentials {
        rebuilt.store(credential.clone());
    }
    let ours = dir.path().join("adjoin-cc");
    rebuilt.save(&ours).expect("save");
    assert_eq!(
        std::fs::read(&ours).expect("read"),
        std::fs::read(&mit_cache).expect("read"),
        "the rebuilt cache is byte for byte MIT's"
    );

    let listing = assert_ok("klist", &mit(&lab, &ours, "klist", &[], ""));
    assert!(
        listing.contains(&format!("Default principal: alice@{}", lab.realm)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("krbtgt/{0}@{0}", lab.realm)),
        "{listing}"
    );

    let spn = format!("cifs/{}", lab.dc_name);
    let out = assert_ok("kvno", &mit(&lab, &ours, "kvno", &[&spn], ""));
    assert!(out.contains("kvno ="), "{out}");

    // MIT appended the service ticket to Adjoin's file; Adjoin reads it back.
    let after = CredentialCache::load(&ours).expect("parse after kvno");
    let service = PrincipalName::parse(&format!("{spn}@{}", lab.realm)).expect("name");
    assert!(after.find(&service).is_some(), "no {spn} ticket");
}

#[test]
fn mit_kvno_uses_a_version_3_ccache_adjoin_wrote() {
    let lab = Lab::get();
    let dir = tempfile::tempdir().expect("tempdir");
    let mit_cache = dir.path().join("mit-cc");
    kinit_with_password(&lab, &mit_cache);
    let mut cache = CredentialCache::load(&mit_cache).expect("parse MIT's ccache");
    cache.version = CcacheVersion::V3;
    let ours = dir.path().join("adjoin-v3-cc");
    cache.save(&ours).expect("save");

    let spn = format!("cifs/{}", lab.dc_name);
    let out = assert_ok("kvno", &mit(&lab, &ours, "kvno", &[&spn], ""));
    assert!(out.contains("kvno ="), "{out}");
    let after = CredentialCache::load(&ours).expect("parse after kvno");
    assert_eq!(after.version, CcacheVersion::V3);
    assert_eq!(after.credentials.len(), cache.credentials.len() + 1);
}
