//! RFC 3244 kpasswd against the lab's Samba DC (port 464): change-password with the old
//! password, set-password by the administrator, and each way a change is refused.
//!
//! Every test works on its own user (kpwuserN), deleted and re-created first, under a
//! fine-grained password policy (PSO) without a minimum password age: the lab domain's
//! default policy (minimum age 1 day) refuses any change of a password set today.

use std::net::SocketAddr;
use std::time::SystemTime;

use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::kpasswd::{self, KpasswdError};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials, KerberosError};
use adjoin_auth::principal::PrincipalName;
use adjoin_tests::Lab;
use zeroize::Zeroizing;

fn kdcs(lab: &Lab) -> KdcConfig {
    KdcConfig::new(vec![SocketAddr::new(lab.dc.parse().unwrap(), 88)])
}

fn servers(lab: &Lab) -> KdcConfig {
    kpasswd::kpasswd_servers(&kdcs(lab))
}

fn principal(lab: &Lab, user: &str) -> PrincipalName {
    PrincipalName::new(PrincipalName::NT_PRINCIPAL, [user], lab.realm.as_str())
}

/// A user of this test alone, with `password`, under the kpasswd tests' PSO.
fn fresh_user(lab: &Lab, user: &str, password: &str, must_change: bool) -> PrincipalName {
    lab.fresh_user(user, password, must_change);
    principal(lab, user)
}

async fn kinit(
    lab: &Lab,
    client: &PrincipalName,
    password: &str,
) -> Result<Credentials, KerberosError> {
    let secret = ClientSecret::Password(Zeroizing::new(password.to_owned()));
    let x = AsExchange::new(client.clone(), secret, AsOptions::default());
    kdc::initial_credentials(x, &kdcs(lab), &SystemTime::now).await
}

async fn change(
    lab: &Lab,
    client: &PrincipalName,
    old: &str,
    new: &str,
) -> Result<(), KpasswdError> {
    let old = Zeroizing::new(old.to_owned());
    kpasswd::change_password(client.clone(), old, new, &kdcs(lab), &servers(lab)).await
}

#[tokio::test]
async fn rfc3244_change_password_then_only_the_new_one_works() {
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwuser1", "Kpw-Old-Pass1!", false);
    change(&lab, &user, "Kpw-Old-Pass1!", "Kpw-New-Pass2!")
        .await
        .unwrap();
    let tgt = kinit(&lab, &user, "Kpw-New-Pass2!").await.unwrap();
    assert_eq!(tgt.client.components, ["kpwuser1"]);
    let old = kinit(&lab, &user, "Kpw-Old-Pass1!").await.unwrap_err();
    assert!(matches!(old, KerberosError::WrongPassword { .. }), "{old}");
}

#[tokio::test]
async fn rfc3244_set_password_by_the_administrator_over_tcp() {
    let lab = Lab::get();
    let target = fresh_user(&lab, "kpwuser2", "Kpw-Old-Pass1!", false);
    let admin = principal(&lab, &lab.admin);
    let tgt = kinit(&lab, &admin, &lab.admin_password).await.unwrap();
    let tcp = KdcConfig {
        udp_limit: 0,
        ..servers(&lab)
    };
    kpasswd::set_password(&tgt, &target, "Kpw-Set-Pass3!", &kdcs(&lab), &tcp)
        .await
        .unwrap();
    kinit(&lab, &target, "Kpw-Set-Pass3!").await.unwrap();
}

#[tokio::test]
async fn rfc3244_soft_error_says_which_rule_failed() {
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwuser3", "Kpw-Old-Pass1!", false);
    let e = change(&lab, &user, "Kpw-Old-Pass1!", "Ab1!")
        .await
        .unwrap_err();
    assert!(matches!(e, KpasswdError::Policy { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("does not meet the domain policy"), "{msg}");
    assert!(msg.contains("at least 7 characters"), "{msg}");
    // Nothing changed.
    kinit(&lab, &user, "Kpw-Old-Pass1!").await.unwrap();
}

#[tokio::test]
async fn wrong_old_password_is_its_own_error() {
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwuser4", "Kpw-Old-Pass1!", false);
    let e = change(&lab, &user, "Not-The-Pass1!", "Kpw-New-Pass2!")
        .await
        .unwrap_err();
    assert!(matches!(e, KpasswdError::WrongOldPassword { .. }), "{e:?}");
    assert!(e.to_string().contains("current password"), "{e}");
}

#[tokio::test]
async fn an_expired_password_is_changed_with_kpasswd() {
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwuser5", "Kpw-Old-Pass1!", true);
    let e = kinit(&lab, &user, "Kpw-Old-Pass1!").await.unwrap_err();
    assert!(matches!(e, KerberosError::PasswordExpired { .. }), "{e}");
    // The AS still issues kadmin/changepw tickets for an expired password.
    change(&lab, &user, "Kpw-Old-Pass1!", "Kpw-New-Pass2!")
        .await
        .unwrap();
    kinit(&lab, &user, "Kpw-New-Pass2!").await.unwrap();
}

#[tokio::test]
async fn a_user_may_not_set_another_users_password() {
    let lab = Lab::get();
    let client = fresh_user(&lab, "kpwuser6", "Kpw-Old-Pass1!", false);
    let target = fresh_user(&lab, "kpwuser7", "Kpw-Old-Pass1!", false);
    let tgt = kinit(&lab, &client, "Kpw-Old-Pass1!").await.unwrap();
    let e = kpasswd::set_password(&tgt, &target, "Kpw-Set-Pass3!", &kdcs(&lab), &servers(&lab))
        .await
        .unwrap_err();
    assert!(matches!(e, KpasswdError::AccessDenied { .. }), "{e:?}");
    kinit(&lab, &target, "Kpw-Old-Pass1!").await.unwrap();
}

#[tokio::test]
async fn a_ticket_from_the_tgs_cannot_change_a_password() {
    // RFC 3244 / Samba: change-password (version 1) needs an initial ticket.
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwuser8", "Kpw-Old-Pass1!", false);
    let tgt = kinit(&lab, &user, "Kpw-Old-Pass1!").await.unwrap();
    let service = kpasswd::changepw_principal(&lab.realm);
    let ticket = kdc::service_ticket(tgt, service, &kdcs(&lab), &SystemTime::now)
        .await
        .unwrap();
    let e = kpasswd::exchange(
        &ticket,
        &kpasswd::PasswordChange::Change,
        "Kpw-New-Pass2!",
        &servers(&lab),
        &SystemTime::now,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, KpasswdError::InitialTicketNeeded { .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn unreachable_kpasswd_servers_are_named() {
    let lab = Lab::get();
    let user = fresh_user(&lab, "kpwuser9", "Kpw-Old-Pass1!", false);
    let nobody = KdcConfig {
        timeout: std::time::Duration::from_millis(300),
        ..KdcConfig::new(vec!["127.0.0.2:1".parse().unwrap()])
    };
    let old = Zeroizing::new("Kpw-Old-Pass1!".to_owned());
    let e = kpasswd::change_password(user, old, "Kpw-New-Pass2!", &kdcs(&lab), &nobody)
        .await
        .unwrap_err();
    assert!(matches!(e, KpasswdError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("127.0.0.2:1"), "{e}");
}
