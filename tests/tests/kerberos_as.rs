//! RFC 4120 3.1 AS exchange against the lab's Samba KDC: a TGT for a real user, and each
//! way a logon can fail, each with its own error.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AccountState, AsExchange, AsOptions, ClientSecret, KerberosError};
use adjoin_auth::principal::PrincipalName;
use adjoin_tests::Lab;
use zeroize::Zeroizing;

fn kdcs(lab: &Lab) -> KdcConfig {
    KdcConfig::new(vec![SocketAddr::new(lab.dc.parse().unwrap(), 88)])
}

async fn kinit_with(
    lab: &Lab,
    user: &str,
    password: &str,
    config: &KdcConfig,
    clock: &(dyn Fn() -> SystemTime + Sync),
) -> Result<adjoin_auth::krb::Credentials, KerberosError> {
    let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, [user], lab.realm.as_str());
    let secret = ClientSecret::Password(Zeroizing::new(password.to_owned()));
    let x = AsExchange::new(client, secret, AsOptions::default());
    kdc::initial_credentials(x, config, clock).await
}

async fn kinit(
    lab: &Lab,
    user: &str,
    password: &str,
) -> Result<adjoin_auth::krb::Credentials, KerberosError> {
    kinit_with(lab, user, password, &kdcs(lab), &SystemTime::now).await
}

#[tokio::test]
async fn rfc4120_3_1_tgt_for_alice() {
    let lab = Lab::get();
    let c = kinit(&lab, "alice", &lab.password("alice")).await.unwrap();
    assert_eq!(c.client.to_string(), format!("alice@{}", lab.realm));
    assert_eq!(c.server.to_string(), format!("krbtgt/{0}@{0}", lab.realm));
    assert!(c.end_time > SystemTime::now() + Duration::from_secs(3600));
    assert!(c.session_key.as_bytes().len() == 32, "aes256 session key");
    assert_eq!(c.ticket[0], 0x61, "Ticket is [APPLICATION 1]");
    let initial = 0x0040_0000;
    assert_ne!(c.flags & initial, 0, "an AS ticket has the INITIAL flag");
}

#[tokio::test]
async fn rfc4120_7_2_2_tgt_over_tcp() {
    let lab = Lab::get();
    let config = KdcConfig {
        udp_limit: 0,
        ..kdcs(&lab)
    };
    let c = kinit_with(&lab, "bob", &lab.password("bob"), &config, &SystemTime::now).await;
    assert_eq!(c.unwrap().client.components, ["bob"]);
}

#[tokio::test]
async fn wrong_password_is_named() {
    let lab = Lab::get();
    let e = kinit(&lab, "alice", "not-her-password").await.unwrap_err();
    assert!(matches!(e, KerberosError::WrongPassword { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("wrong password for alice@{}", lab.realm)
    );
}

#[tokio::test]
async fn unknown_user_is_named() {
    let lab = Lab::get();
    let e = kinit(&lab, "nosuchuser", "x").await.unwrap_err();
    assert!(matches!(e, KerberosError::UnknownPrincipal { .. }), "{e}");
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[tokio::test]
async fn disabled_account_is_named() {
    let lab = Lab::get();
    let e = kinit(&lab, "dave", &lab.password("dave"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            KerberosError::AccountUnusable {
                state: AccountState::Disabled,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("is disabled"), "{e}");
}

#[tokio::test]
async fn expired_password_is_named() {
    let lab = Lab::get();
    let e = kinit(&lab, "carol", &lab.password("carol"))
        .await
        .unwrap_err();
    assert!(matches!(e, KerberosError::PasswordExpired { .. }), "{e}");
    assert!(e.to_string().contains("has expired"), "{e}");
}

#[tokio::test]
async fn ten_minute_clock_skew_is_measured() {
    let lab = Lab::get();
    let ahead = || SystemTime::now() + Duration::from_secs(600);
    let e = kinit_with(&lab, "alice", &lab.password("alice"), &kdcs(&lab), &ahead)
        .await
        .unwrap_err();
    let KerberosError::ClockSkew { skew } = e else {
        panic!("expected clock skew, got {e}");
    };
    assert!((595..=605).contains(&skew), "measured skew {skew}");
    // The KDC's time has whole seconds and its reply may come a second later under load:
    // "10 min ahead", "10 min 1 s ahead", "9 min 59 s ahead".
    let text = e.to_string();
    let minutes = text.contains("clock is 10 min") || text.contains("clock is 9 min");
    assert!(minutes && text.contains("ahead of the KDC's"), "{e}");
}

#[tokio::test]
async fn unreachable_kdc_names_what_was_tried() {
    let lab = Lab::get();
    let config = KdcConfig {
        timeout: Duration::from_millis(500),
        ..KdcConfig::new(vec!["127.0.0.9:88".parse().unwrap()])
    };
    let started = Instant::now();
    let e = kinit_with(&lab, "alice", "x", &config, &SystemTime::now)
        .await
        .unwrap_err();
    assert!(matches!(e, KerberosError::KdcUnreachable { .. }), "{e}");
    assert!(e.to_string().contains("127.0.0.9:88"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn rfc4120_3_3_service_ticket_from_our_tgt() {
    let lab = Lab::get();
    let tgt = kinit(&lab, "alice", &lab.password("alice")).await.unwrap();
    let server = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["cifs", lab.dc_name.as_str()],
        lab.realm.as_str(),
    );
    let st = kdc::service_ticket(tgt.clone(), server.clone(), &kdcs(&lab), &SystemTime::now)
        .await
        .unwrap();
    assert!(st.server.matches(&server), "{}", st.server);
    assert_eq!(st.client, tgt.client);
    assert!(st.ticket_kvno().is_some());
    assert_ne!(st.session_key.as_bytes(), tgt.session_key.as_bytes());
}

#[tokio::test]
async fn rfc4120_3_3_unknown_service_is_named() {
    let lab = Lab::get();
    let tgt = kinit(&lab, "alice", &lab.password("alice")).await.unwrap();
    let server = PrincipalName::new(PrincipalName::NT_SRV_INST, ["nosuch", "svc"], "");
    let e = kdc::service_ticket(tgt, server, &kdcs(&lab), &SystemTime::now)
        .await
        .unwrap_err();
    assert!(matches!(e, KerberosError::UnknownService { .. }), "{e}");
}
