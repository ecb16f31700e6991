//! MS-PAC against the lab's Samba KDC: a real service ticket for alice, decrypted with the
//! service's key, whose PAC names her SID, her groups and her UPN, and whose signatures
//! verify with the service key (2.8.1) and the krbtgt key (2.8.2).
//!
//! Set `ADJOIN_PAC_SAVE_DIR` to also write the PAC, the service key and the ticket facts
//! there (how `auth/testdata/pac-lab-aes256.*` was made).

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adjoin_auth::crypto::{EncryptionType, Key, KeyUsage, string_to_key};
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret};
use adjoin_auth::pac::{self, Pac, PacBufferType, PacError, Sid, UpnDnsFlags};
use adjoin_auth::principal::PrincipalName;
use adjoin_tests::Lab;
use rasn_kerberos as k;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

/// The service account the tests create, with a password only the lab uses.
const SERVICE: &str = "pacsvc";
const SERVICE_PASSWORD: &str = "Pac-Svc-Lab-Pass1!";
const SPN: &str = "HTTP/pacsvc.example.test";

/// What one run of the exchange gives the tests.
struct Issued {
    pac: Pac,
    service_key: Key,
    client: PrincipalName,
    auth_time: SystemTime,
}

fn samba_tool(lab: &Lab, args: &[&str]) -> (bool, String) {
    let auth = format!("{}\\{}%{}", lab.netbios, lab.admin, lab.admin_password);
    let url = format!("ldap://{}", lab.dc);
    let out = Command::new("samba-tool")
        .args(args)
        .args(["-H", &url, "-U", &auth])
        .output()
        .unwrap_or_else(|e| panic!("cannot run samba-tool: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Creates (or resets) the service account, its SPN and AES-only enctypes; idempotent.
fn ensure_service_account(lab: &Lab) {
    let (ok, text) = samba_tool(lab, &["user", "create", SERVICE, SERVICE_PASSWORD]);
    if !ok {
        assert!(text.contains("already exists"), "user create: {text}");
        let new = format!("--newpassword={SERVICE_PASSWORD}");
        let (ok, text) = samba_tool(lab, &["user", "setpassword", SERVICE, &new]);
        assert!(ok, "user setpassword: {text}");
    }
    let (ok, text) = samba_tool(lab, &["spn", "add", SPN, SERVICE]);
    assert!(ok || text.contains("already"), "spn add: {text}");
    // Without msDS-SupportedEncryptionTypes Samba encrypts the ticket with RC4.
    let ldif = format!(
        "dn: CN={SERVICE},CN=Users,DC=example,DC=test\nchangetype: modify\n\
         replace: msDS-SupportedEncryptionTypes\nmsDS-SupportedEncryptionTypes: 24\n"
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), ldif).unwrap();
    let out = Command::new("ldbmodify")
        .args(["-H", &format!("ldap://{}", lab.dc)])
        .args([
            "-U",
            &format!("{}\\{}%{}", lab.netbios, lab.admin, lab.admin_password),
        ])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "ldbmodify: {out:?}");
}

/// objectSid of an account, read straight from the DC's database.
fn object_sid(lab: &Lab, account: &str) -> Sid {
    let out = Command::new("ldbsearch")
        .args(["-H", &format!("{}/private/sam.ldb", lab.dir)])
        .arg(format!("(sAMAccountName={account})"))
        .arg("objectSid")
        .output()
        .unwrap_or_else(|e| panic!("cannot run ldbsearch: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("objectSid: "))
        .unwrap_or_else(|| panic!("no objectSid for {account}: {text}"))
        .trim()
        .parse()
        .unwrap()
}

fn service_key() -> Key {
    let salt = format!("EXAMPLE.TEST{SERVICE}");
    string_to_key(
        EncryptionType::AES256_CTS_HMAC_SHA1_96,
        SERVICE_PASSWORD,
        salt.as_bytes(),
        None,
    )
    .unwrap()
}

/// Alice's ticket for the SPN, straight from the AS (Samba allows AS-REQs for services).
async fn service_ticket(lab: &Lab) -> Vec<u8> {
    let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], lab.realm.as_str());
    let server = PrincipalName::parse(&format!("{SPN}@{}", lab.realm)).unwrap();
    let secret = ClientSecret::Password(Zeroizing::new(lab.password("alice")));
    let x = AsExchange::for_service(client, server, secret, AsOptions::default());
    let config = KdcConfig::new(vec![SocketAddr::new(lab.dc.parse().unwrap(), 88)]);
    let creds = kdc::initial_credentials(x, &config, &SystemTime::now)
        .await
        .unwrap();
    creds.ticket
}

/// Decrypts the ticket with the service key and finds its PAC.
fn open_ticket(ticket: &[u8], key: &Key) -> Issued {
    let ticket: k::Ticket = rasn::der::decode(ticket).unwrap();
    assert_eq!(
        ticket.enc_part.etype,
        EncryptionType::AES256_CTS_HMAC_SHA1_96.value()
    );
    let plain = key
        .decrypt(KeyUsage::KDC_REP_TICKET, &ticket.enc_part.cipher)
        .unwrap();
    let part: k::EncTicketPart = rasn::der::decode(&plain).unwrap();
    let ad = part.authorization_data.as_deref().unwrap_or_default();
    let pac = pac::find_pac(ad).unwrap().expect("the ticket has a PAC");
    let components = part
        .cname
        .string
        .iter()
        .map(|c| String::from_utf8(c.to_vec()).unwrap());
    let realm = String::from_utf8(part.crealm.to_vec()).unwrap();
    let secs = u64::try_from(part.auth_time.0.timestamp()).unwrap();
    Issued {
        pac,
        service_key: key.clone(),
        client: PrincipalName::new(part.cname.r#type, components, realm),
        auth_time: UNIX_EPOCH + Duration::from_secs(secs),
    }
}

/// One ticket for all the tests of this file (they run in parallel; the first sets up).
async fn issued(lab: &Lab) -> &'static Issued {
    static ISSUED: OnceCell<Issued> = OnceCell::const_new();
    ISSUED
        .get_or_init(|| async {
            ensure_service_account(lab);
            let issued = open_ticket(&service_ticket(lab).await, &service_key());
            save_if_asked(&issued);
            issued
        })
        .await
}

fn save_if_asked(issued: &Issued) {
    let Ok(dir) = std::env::var("ADJOIN_PAC_SAVE_DIR") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    std::fs::write(dir.join("pac-lab-aes256.bin"), issued.pac.as_bytes()).unwrap();
    std::fs::write(
        dir.join("pac-lab-aes256.key"),
        issued.service_key.as_bytes(),
    )
    .unwrap();
    let authtime = issued.auth_time.duration_since(UNIX_EPOCH).unwrap();
    let facts = format!(
        "client {}\nauthtime {}\n",
        issued.client,
        authtime.as_secs()
    );
    std::fs::write(dir.join("pac-lab-aes256.txt"), facts).unwrap();
}

#[tokio::test]
async fn ms_pac_2_5_logon_info_names_alice_and_her_groups() {
    let lab = Lab::get();
    let issued = issued(&lab).await;
    let info = issued.pac.logon_info();
    let alice = object_sid(&lab, "alice");
    assert_eq!(issued.pac.user_sid().unwrap(), alice);
    assert_eq!(Some(info.sam.user_id), alice.rid());
    assert_eq!(info.sam.effective_name, "alice");
    assert_eq!(info.sam.logon_domain_name, lab.netbios);
    assert!(alice.is_in_domain(info.logon_domain_id().unwrap()));
    let groups: Vec<Sid> = issued
        .pac
        .group_sids()
        .unwrap()
        .into_iter()
        .map(|g| g.sid)
        .collect();
    let engineers = object_sid(&lab, "engineers");
    let domain_users = info.logon_domain_id().unwrap().with_rid(513).unwrap();
    assert!(groups.contains(&engineers), "{groups:?}");
    assert!(groups.contains(&domain_users), "{groups:?}");
    assert_eq!(info.sam.primary_group_id, 513);
}

#[tokio::test]
async fn ms_pac_2_10_upn_dns_info_names_alice() {
    let lab = Lab::get();
    let issued = issued(&lab).await;
    let upn = issued.pac.upn_dns_info().expect("Samba sends UPN_DNS_INFO");
    assert_eq!(upn.upn, format!("alice@{}", lab.domain));
    assert!(upn.dns_domain_name.eq_ignore_ascii_case(&lab.domain));
    if upn.flags.contains(UpnDnsFlags::EXTENDED) {
        assert_eq!(upn.sam_name.as_deref(), Some("alice"));
        assert_eq!(upn.sid.as_ref(), Some(&object_sid(&lab, "alice")));
    }
}

#[tokio::test]
async fn ms_pac_2_7_client_info_matches_the_ticket() {
    let lab = Lab::get();
    let issued = issued(&lab).await;
    issued
        .pac
        .check_client(&issued.client, issued.auth_time)
        .unwrap();
    let bob = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["bob"], lab.realm.as_str());
    assert!(matches!(
        issued.pac.check_client(&bob, issued.auth_time),
        Err(PacError::ClientNameMismatch { .. })
    ));
    let later = issued.auth_time + Duration::from_secs(1);
    assert!(matches!(
        issued.pac.check_client(&issued.client, later),
        Err(PacError::ClientTimeMismatch { .. })
    ));
}

#[tokio::test]
async fn ms_pac_2_8_1_server_signature_verifies_with_the_service_key_only() {
    let lab = Lab::get();
    let issued = issued(&lab).await;
    issued
        .pac
        .verify_server_signature(&issued.service_key)
        .unwrap();
    let wrong = string_to_key(
        EncryptionType::AES256_CTS_HMAC_SHA1_96,
        "not-the-password",
        b"EXAMPLE.TESTpacsvc",
        None,
    )
    .unwrap();
    assert_eq!(
        issued.pac.verify_server_signature(&wrong),
        Err(PacError::SignatureMismatch {
            ty: PacBufferType::SERVER_CHECKSUM
        })
    );
}

#[tokio::test]
async fn ms_pac_2_8_2_kdc_signature_verifies_with_the_krbtgt_key() {
    let lab = Lab::get();
    let issued = issued(&lab).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("krbtgt.keytab");
    let smb_conf = format!("{}/etc/smb.conf", lab.dir);
    let out = Command::new("samba-tool")
        .args(["domain", "exportkeytab"])
        .arg(&path)
        .args([
            &format!("--principal=krbtgt@{}", lab.realm),
            "-s",
            &smb_conf,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "exportkeytab: {out:?}");
    let keytab = Keytab::load(&path).unwrap();
    // samba-tool names the entry krbtgt@REALM, not krbtgt/REALM@REALM.
    let names = [
        PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["krbtgt"], lab.realm.as_str()),
        PrincipalName::krbtgt(&lab.realm),
    ];
    let cksumtype = issued.pac.kdc_signature().signature_type;
    let etype = cksumtype.etype().expect("a keyed checksum type");
    let entry = names
        .iter()
        .find_map(|name| keytab.find(name, None, etype))
        .expect("krbtgt key of that etype");
    let key = entry.key.to_key().unwrap();
    issued.pac.verify_kdc_signature(&key).unwrap();
    assert_eq!(issued.pac.kdc_signature().rodc_identifier, None);
    assert!(
        issued
            .pac
            .verify_kdc_signature(&issued.service_key)
            .is_err()
    );
}
