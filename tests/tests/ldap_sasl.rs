//! RFC 4752 SASL GSSAPI bind with a sealed security layer against the lab DC's LDAP (which
//! refuses simple binds without TLS), then RFC 4511 search, add, modify and delete, RFC
//! 2696 paged search, MS-ADTS range retrieval, binary and extensible filters, and
//! deadlines (against local sockets that stall, never by stopping the shared DC).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret, Credentials};
use adjoin_auth::principal::PrincipalName;
use adjoin_join::ldap::{self, Connection, LdapError};
use adjoin_tests::Lab;
use rasn_ldap::{ResultCode, SearchRequestScope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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

/// The DNs of `entries`, lower-cased (Samba keeps the case it stored; AD compares without).
fn dns(entries: &[ldap::Entry]) -> BTreeSet<String> {
    entries.iter().map(|e| e.dn.to_lowercase()).collect()
}

#[tokio::test]
async fn rfc2696_paged_search_in_pages_of_two_finds_what_a_plain_search_does() {
    let lab = Lab::get();
    let mut c = connect(&lab).await;
    let base = base_dn(&lab);
    // The lab's 2,000 members of biggroup: a set no test adds to or removes from (other
    // test binaries, running beside this one, add and remove accounts elsewhere).
    let group = format!("CN=biggroup,CN=Users,{base}");
    let users = || {
        ldap::and(vec![
            ldap::eq("objectClass", "user"),
            ldap::eq("memberOf", &group),
        ])
    };
    let sub = SearchRequestScope::WholeSubtree;
    let plain = c.search(&base, sub, users(), &["cn"]).await.unwrap();
    let sent = c.requests_sent();
    let paged = c
        .search_paged(&base, sub, users(), &["cn"], 2)
        .await
        .unwrap();
    let pages = c.requests_sent() - sent;
    let n = u64::try_from(plain.len()).unwrap();
    assert_eq!(n, 2000, "the lab's biggroup has 2,000 members");
    assert_eq!(paged.len(), plain.len(), "no entry twice");
    assert_eq!(dns(&paged), dns(&plain));
    // ceil(n / 2) pages, or one more when the server only learns at the end.
    assert!(
        pages > 1 && pages >= n.div_ceil(2) && pages <= n / 2 + 1,
        "{pages} pages for {n}"
    );
}

#[tokio::test]
async fn rfc2696_paged_search_of_one_entry_is_one_page() {
    let lab = Lab::get();
    let mut c = connect(&lab).await;
    let sent = c.requests_sent();
    let root = c
        .search_paged(
            "",
            SearchRequestScope::BaseObject,
            ldap::present("objectClass"),
            &["defaultNamingContext"],
            100,
        )
        .await
        .unwrap();
    assert_eq!(root.len(), 1);
    assert_eq!(c.requests_sent() - sent, 1);
}

#[tokio::test]
async fn ms_adts_3_1_1_3_1_3_3_read_all_values_of_member() {
    let lab = Lab::get();
    let mut c = connect(&lab).await;
    let base = base_dn(&lab);
    let admins = c
        .read_all_values(&format!("CN=Domain Admins,CN=Users,{base}"), "member")
        .await
        .unwrap();
    let admin_dn = format!("cn=administrator,cn=users,{base}").to_lowercase();
    assert!(
        admins
            .iter()
            .any(|v| String::from_utf8_lossy(v).to_lowercase() == admin_dn),
        "{admins:?}"
    );

    // A group of seven contacts.
    let tag = format!("rangeprobe{}", std::process::id());
    let group = format!("CN={tag},CN=Users,{base}");
    let contacts: Vec<String> = (0..7)
        .map(|i| format!("CN={tag}-{i},CN=Users,{base}"))
        .collect();
    let _ = c.delete(&group).await;
    for dn in &contacts {
        let _ = c.delete(dn).await;
        c.add(dn, &[("objectClass", vec![b"contact".to_vec()])])
            .await
            .unwrap();
    }
    let members = contacts.iter().map(|d| d.as_bytes().to_vec()).collect();
    c.add(
        &group,
        &[
            ("objectClass", vec![b"group".to_vec()]),
            ("sAMAccountName", vec![tag.as_bytes().to_vec()]),
            ("member", members),
        ],
    )
    .await
    .unwrap();

    let all = c.read_all_values(&group, "member").await;
    // Samba ranges only when asked; asked, it answers as MS-ADTS says (the form the
    // unit tests of the range loop feed it).
    let slice = c.read_entry(&group, &["member;range=0-2"]).await;
    let rest = c.read_entry(&group, &["member;range=3-*"]).await;
    let none = c.read_all_values(&contacts[0], "member").await;
    for dn in std::iter::once(&group).chain(&contacts) {
        c.delete(dn).await.unwrap();
    }

    let all: BTreeSet<String> = all
        .unwrap()
        .iter()
        .map(|v| String::from_utf8_lossy(v).to_lowercase())
        .collect();
    let want: BTreeSet<String> = contacts.iter().map(|d| d.to_lowercase()).collect();
    assert_eq!(all, want);
    let slice = slice.unwrap().unwrap();
    assert_eq!(slice.attributes.len(), 1, "{slice:?}");
    assert!(
        slice.attributes[0]
            .0
            .eq_ignore_ascii_case("member;range=0-2"),
        "{slice:?}"
    );
    assert_eq!(slice.attributes[0].1.len(), 3);
    let rest = rest.unwrap().unwrap();
    assert!(
        rest.attributes[0]
            .0
            .eq_ignore_ascii_case("member;range=3-*"),
        "{rest:?}"
    );
    assert_eq!(rest.attributes[0].1.len(), 4);
    assert_eq!(
        none.unwrap(),
        Vec::<Vec<u8>>::new(),
        "a contact has no members"
    );
}

#[tokio::test]
async fn rfc4511_equality_on_binary_objectsid_finds_the_administrator() {
    let lab = Lab::get();
    let mut c = connect(&lab).await;
    let base = base_dn(&lab);
    let domain = c.read_entry(&base, &["objectSid"]).await.unwrap().unwrap();
    let mut sid = domain.values("objectSid")[0].clone();
    // MS-DTYP 2.4.2.2: one more sub-authority, the RID 500, little-endian.
    sid[1] += 1;
    sid.extend_from_slice(&500u32.to_le_bytes());
    let found = c
        .search(
            &base,
            SearchRequestScope::WholeSubtree,
            ldap::eq_bytes("objectSid", &sid),
            &["sAMAccountName"],
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .text("sAMAccountName")
            .unwrap()
            .eq_ignore_ascii_case(&lab.admin),
        "{found:?}"
    );
}

#[tokio::test]
async fn ms_adts_3_1_1_3_4_4_extensible_rules_in_chain_and_bit_and() {
    let lab = Lab::get();
    let mut c = connect(&lab).await;
    let base = base_dn(&lab);
    let sub = SearchRequestScope::WholeSubtree;
    let by_name = |n: &str| ldap::eq("sAMAccountName", n);
    let engineers = c
        .search(
            &base,
            sub,
            ldap::and(vec![ldap::eq("objectClass", "group"), by_name("engineers")]),
            &["cn"],
        )
        .await
        .unwrap();
    assert_eq!(engineers.len(), 1, "the lab has group engineers");
    let in_chain = |group: &str| ldap::extensible(ldap::MATCHING_RULE_IN_CHAIN, "memberOf", group);

    let alice = c
        .search(
            &base,
            sub,
            ldap::and(vec![by_name("alice"), in_chain(&engineers[0].dn)]),
            &["sAMAccountName"],
        )
        .await
        .unwrap();
    assert_eq!(alice.len(), 1, "alice is in engineers");
    let members = c
        .search(&base, sub, in_chain(&engineers[0].dn), &["sAMAccountName"])
        .await
        .unwrap();
    assert!(
        members
            .iter()
            .any(|e| e.text("sAMAccountName").as_deref() == Some("alice"))
    );
    let admins = format!("CN=Domain Admins,CN=Users,{base}");
    let not = c
        .search(
            &base,
            sub,
            ldap::and(vec![by_name("alice"), in_chain(&admins)]),
            &["cn"],
        )
        .await
        .unwrap();
    assert!(not.is_empty(), "alice is no domain admin");

    // userAccountControl bit 2, ACCOUNTDISABLE: krbtgt has it, alice not.
    let disabled = ldap::extensible(ldap::MATCHING_RULE_BIT_AND, "userAccountControl", "2");
    let either = ldap::or(vec![by_name("alice"), by_name("krbtgt")]);
    let both = c.search(&base, sub, either.clone(), &["cn"]).await.unwrap();
    assert_eq!(both.len(), 2);
    let off = c
        .search(
            &base,
            sub,
            ldap::and(vec![either, disabled]),
            &["sAMAccountName"],
        )
        .await
        .unwrap();
    assert_eq!(off.len(), 1, "{off:?}");
    assert_eq!(off[0].text("sAMAccountName").as_deref(), Some("krbtgt"));
}

#[tokio::test]
async fn bind_with_timeout_gives_up_on_a_server_that_never_answers() {
    let lab = Lab::get();
    let ticket = ldap_ticket(&lab).await;
    // Accepts and holds connections, never reads or writes (a DC that is stopped).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let start = Instant::now();
    let err = Connection::bind_with_timeout(addr, ticket, Duration::from_millis(500))
        .await
        .unwrap_err();
    let took = start.elapsed();
    hold.abort();
    assert!(
        matches!(&err, LdapError::Timeout { operation: "bind", server } if *server == addr.to_string()),
        "{err}"
    );
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

/// Copies `from` to `to` until `frozen`, then stalls holding what it read.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, frozen: Arc<AtomicBool>) {
    let mut buf = vec![0; 1 << 16];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        if frozen.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn set_timeout_turns_a_dc_that_stops_answering_into_timeout() {
    let lab = Lab::get();
    // A proxy to the DC that can freeze, as a SIGSTOPped DC would, without stopping the
    // DC other tests share.
    let dc = SocketAddr::new(lab.dc.parse().unwrap(), 389);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let frozen = Arc::new(AtomicBool::new(false));
    let freeze = frozen.clone();
    let relay = tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let upstream = tokio::net::TcpStream::connect(dc).await.unwrap();
        let (cr, cw) = client.into_split();
        let (ur, uw) = upstream.into_split();
        tokio::join!(pump(cr, uw, freeze.clone()), pump(ur, cw, freeze));
    });
    let mut c = Connection::bind(proxy, ldap_ticket(&lab).await)
        .await
        .unwrap();
    c.set_timeout(Duration::from_millis(500));
    let root = c.read_entry("", &["defaultNamingContext"]).await.unwrap();
    assert!(root.is_some(), "answers pass the deadline");

    frozen.store(true, Ordering::SeqCst);
    let start = Instant::now();
    let err = c
        .search(
            &base_dn(&lab),
            SearchRequestScope::WholeSubtree,
            ldap::present("objectClass"),
            &["cn"],
        )
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(
            err,
            LdapError::Timeout {
                operation: "search",
                ..
            }
        ),
        "{err}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let again = c.read_entry("", &["cn"]).await.unwrap_err();
    assert!(matches!(again, LdapError::Broken { .. }), "{again}");
    relay.abort();
}
