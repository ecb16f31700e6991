//! RFC 4120 3.2.3 AP-REQ acceptance with tickets the lab's KDC issued, decrypted with keys
//! Samba itself exported (`samba-tool domain exportkeytab`), not keys Adjoin derived.

use std::time::SystemTime;

use adjoin_auth::crypto::{EncryptionType, KeyUsage};
use adjoin_auth::krb::ap_req::{self, ApReqParts};
use adjoin_auth::krb::{AcceptError, Acceptor, Credentials};
use adjoin_tests::Lab;

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
    let (spn, keytab) = lab.service_account("accsvc", false);
    let creds = lab.service_ticket("alice", &spn).await;
    let mut acceptor = Acceptor::new(keytab);
    let a = acceptor.accept(&ap_req(&creds), SystemTime::now()).unwrap();
    assert_eq!(a.client.to_string(), format!("alice@{}", lab.realm));
    assert_eq!(a.service_key.etype(), EncryptionType::RC4_HMAC);
    let pac = a
        .pac
        .expect("the KDC put a PAC in the ticket; its signature verified");
    assert_eq!(pac.logon_info().sam.effective_name, "alice");
}

#[tokio::test]
async fn rfc4120_3_2_3_accepts_an_aes_ticket_and_refuses_its_replay() {
    let lab = Lab::get();
    let (spn, keytab) = lab.service_account("accaes", true);
    let creds = lab.service_ticket("bob", &spn).await;
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
    let (_, keytab) = lab.service_account("accaes", true);
    let (other, _) = lab.service_account("accsvc", false);
    let creds = lab.service_ticket("alice", &other).await;
    let e = Acceptor::new(keytab)
        .accept(&ap_req(&creds), SystemTime::now())
        .unwrap_err();
    assert!(matches!(e, AcceptError::NoKey { .. }), "{e}");
    assert!(e.to_string().contains("keytab has no key"), "{e}");
}
