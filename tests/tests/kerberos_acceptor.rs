//! RFC 4120 3.2.3 AP-REQ acceptance with tickets the lab's KDC issued, decrypted with keys
//! Samba itself exported (`samba-tool domain exportkeytab`), not keys Adjoin derived.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

use adjoin_auth::crypto::{EncryptionType, KeyUsage};
use adjoin_auth::keytab::{Keytab, KeytabEntry};
use adjoin_auth::krb::ap_req::{self, ApReqParts};
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AcceptError, Acceptor, AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::principal::PrincipalName;
use adjoin_tests::Lab;
use zeroize::Zeroizing;

/// A service account `account` with SPN `HTTP/<account>.<domain>`, created once per lab,
/// optionally limited to AES (msDS-SupportedEncryptionTypes = 0x18). Returns the SPN and
/// Samba's keys for it, filed under the SPN as an acceptor's keytab would have them.
fn service_account(lab: &Lab, account: &str, aes_only: bool) -> (PrincipalName, Keytab) {
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

async fn service_ticket(lab: &Lab, user: &str, spn: &PrincipalName) -> Credentials {
    let config = KdcConfig::new(vec![SocketAddr::new(lab.dc.parse().unwrap(), 88)]);
    let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, [user], lab.realm.as_str());
    let secret = ClientSecret::Password(Zeroizing::new(lab.password(user)));
    let x = AsExchange::new(client, secret, AsOptions::default());
    let tgt = kdc::initial_credentials(x, &config, &SystemTime::now)
        .await
        .unwrap();
    kdc::service_ticket(tgt, spn.clone(), &config, &SystemTime::now)
        .await
        .unwrap()
}

fn ap_req(creds: &Credentials) -> Vec<u8> {
    ap_req::build(
        creds,
        &ApReqParts::default(),
        KeyUsage::AP_REQ_AUTH,
        SystemTime::now(),
    )
    .unwrap()
}

#[tokio::test]
async fn rfc4120_3_2_3_accepts_an_rc4_ticket_for_a_user_spn() {
    let lab = Lab::get();
    // AD issues RC4 tickets for accounts without msDS-SupportedEncryptionTypes.
    let (spn, keytab) = service_account(&lab, "accsvc", false);
    let creds = service_ticket(&lab, "alice", &spn).await;
    let mut acceptor = Acceptor::new(keytab);
    let a = acceptor.accept(&ap_req(&creds), SystemTime::now()).unwrap();
    assert_eq!(a.client.to_string(), format!("alice@{}", lab.realm));
    assert_eq!(a.service_key.etype(), EncryptionType::RC4_HMAC);
    assert!(
        a.pac.as_ref().is_some_and(|p| p.len() > 100),
        "the KDC put a PAC in the ticket"
    );
}

#[tokio::test]
async fn rfc4120_3_2_3_accepts_an_aes_ticket_and_refuses_its_replay() {
    let lab = Lab::get();
    let (spn, keytab) = service_account(&lab, "accaes", true);
    let creds = service_ticket(&lab, "bob", &spn).await;
    let mut acceptor = Acceptor::new(keytab);
    let req = ap_req(&creds);
    let a = acceptor.accept(&req, SystemTime::now()).unwrap();
    assert_eq!(
        a.service_key.etype(),
        EncryptionType::AES256_CTS_HMAC_SHA1_96
    );
    assert_eq!(a.client.components, ["bob"]);
    let e = acceptor.accept(&req, SystemTime::now()).unwrap_err();
    assert!(matches!(e, AcceptError::Replay { .. }), "{e}");
}

#[tokio::test]
async fn a_ticket_for_another_service_has_no_key() {
    let lab = Lab::get();
    let (_, keytab) = service_account(&lab, "accaes", true);
    let (other, _) = service_account(&lab, "accsvc", false);
    let creds = service_ticket(&lab, "alice", &other).await;
    let e = Acceptor::new(keytab)
        .accept(&ap_req(&creds), SystemTime::now())
        .unwrap_err();
    assert!(matches!(e, AcceptError::NoKey { .. }), "{e}");
    assert!(e.to_string().contains("keytab has no key"), "{e}");
}
