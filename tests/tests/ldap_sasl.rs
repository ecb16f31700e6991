//! RFC 4752 SASL GSSAPI bind with a sealed security layer against the lab DC's LDAP (which
//! refuses simple binds without TLS), then RFC 4511 search, add, modify and delete.

use std::net::SocketAddr;
use std::time::SystemTime;

use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::principal::PrincipalName;
use adjoin_join::ldap::{self, Connection, LdapError};
use adjoin_tests::Lab;
use rasn_ldap::{ResultCode, SearchRequestScope};
use zeroize::Zeroizing;

async fn ldap_ticket(lab: &Lab) -> Credentials {
    let config = KdcConfig::new(vec![SocketAddr::new(lab.dc.parse().unwrap(), 88)]);
    let admin = PrincipalName::new(
        PrincipalName::NT_PRINCIPAL,
        [lab.admin.as_str()],
        lab.realm.as_str(),
    );
    let secret = ClientSecret::Password(Zeroizing::new(lab.admin_password.clone()));
    let x = AsExchange::new(admin, secret, AsOptions::default());
    let tgt = kdc::initial_credentials(x, &config, &SystemTime::now)
        .await
        .unwrap();
    let spn = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["ldap", lab.dc_name.as_str()],
        "",
    );
    kdc::service_ticket(tgt, spn, &config, &SystemTime::now)
        .await
        .unwrap()
}

async fn connect(lab: &Lab) -> Connection {
    let addr = SocketAddr::new(lab.dc.parse().unwrap(), 389);
    Connection::bind(addr, ldap_ticket(lab).await)
        .await
        .expect("sealed SASL GSSAPI bind")
}

fn base_dn(lab: &Lab) -> String {
    lab.domain
        .split('.')
        .map(|p| format!("DC={p}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[tokio::test]
async fn rfc4752_sealed_bind_then_rootdse_and_domain_sid() {
    let lab = Lab::get();
    let mut c = connect(&lab).await;
    let root = c
        .search(
            "",
            SearchRequestScope::BaseObject,
            ldap::present("objectClass"),
            &["defaultNamingContext"],
        )
        .await
        .unwrap();
    assert_eq!(root[0].text("defaultNamingContext"), Some(base_dn(&lab)));
    let domain = c
        .search(
            &base_dn(&lab),
            SearchRequestScope::BaseObject,
            ldap::present("objectClass"),
            &["objectSid"],
        )
        .await
        .unwrap();
    let sid = domain[0].values("objectSid").first().cloned().unwrap();
    assert_eq!(sid[0], 1, "SID revision 1");
    assert_eq!(sid.len(), 24, "S-1-5-21-a-b-c: 8 + 4*4 bytes");
}

#[tokio::test]
async fn rfc4511_add_modify_delete_under_the_security_layer() {
    let lab = Lab::get();
    let mut c = connect(&lab).await;
    let dn = format!("CN=ldapprobe,CN=Users,{}", base_dn(&lab));
    let _ = c.delete(&dn).await;
    c.add(
        &dn,
        &[
            ("objectClass", vec![b"contact".to_vec()]),
            ("description", vec![b"one".to_vec()]),
        ],
    )
    .await
    .unwrap();
    let again = c
        .add(&dn, &[("objectClass", vec![b"contact".to_vec()])])
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        Some(ResultCode::EntryAlreadyExists),
        "{again}"
    );
    c.replace(&dn, &[("description", vec![b"two".to_vec()])])
        .await
        .unwrap();
    let found = c
        .search(
            &dn,
            SearchRequestScope::BaseObject,
            ldap::present("objectClass"),
            &["description"],
        )
        .await
        .unwrap();
    assert_eq!(found[0].text("description").as_deref(), Some("two"));
    c.delete(&dn).await.unwrap();
    let gone = c.delete(&dn).await.unwrap_err();
    assert!(
        matches!(
            gone,
            LdapError::Result {
                code: ResultCode::NoSuchObject,
                ..
            }
        ),
        "{gone}"
    );
}
