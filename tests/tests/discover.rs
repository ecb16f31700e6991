//! MS-ADTS 6.3.6 DC locator against the lab's Samba AD DC: DNS SRV lookups through the
//! DC's own DNS server, then the CLDAP netlogon ping (MS-ADTS 6.3.3).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use adjoin_join::discover::{DiscoverError, DiscoverOptions, discover};
use adjoin_tests::Lab;

/// A UDP socket that receives and never answers: a server that is there but silent.
fn silent_udp() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    (s, addr)
}

#[tokio::test]
async fn ms_adts_6_3_6_locator_matches_samba_tool_domain_info() {
    let lab = Lab::get();
    let dc = discover(&lab.domain, &lab.discover_options())
        .await
        .unwrap();
    let info = lab.samba_domain_info();
    let reference = |k: &str| {
        info.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("samba-tool domain info printed no {k}: {info:?}"))
    };
    assert_eq!(dc.dc_name, reference("DC name"));
    assert_eq!(dc.dc_netbios_name, reference("DC netbios name"));
    assert_eq!(dc.dns_domain, reference("Domain"));
    assert_eq!(dc.netbios_domain, reference("Netbios domain"));
    assert_eq!(dc.forest, reference("Forest"));
    assert_eq!(dc.dc_site, reference("Server site"));
    assert_eq!(dc.client_site, reference("Client site"));
    assert_eq!(dc.dc_address.to_string(), lab.dc);
    assert!(dc.closest, "a single-site lab DC is in the client's site");
    for flag in ["PDC", "GC", "LDAP", "DS", "KDC", "WRITABLE"] {
        assert!(
            dc.flag_names.iter().any(|f| f == flag),
            "{flag} missing: {:?}",
            dc.flag_names
        );
    }
    assert_eq!(
        dc.kdcs.len(),
        1,
        "the lab publishes one _kerberos._tcp record"
    );
    assert_eq!(dc.kdcs[0].port, 88);
}

#[tokio::test]
async fn ms_adts_6_3_6_domain_guid_matches_ldap() {
    let lab = Lab::get();
    let dc = discover(&lab.domain, &lab.discover_options())
        .await
        .unwrap();
    // The domain object's objectGUID, read with Samba's own tool from the directory file.
    let out = std::process::Command::new("ldbsearch")
        .args(["-H", &format!("{}/private/sam.ldb", lab.dir), "-s", "base"])
        .arg("-b")
        .arg(
            lab.domain
                .split('.')
                .map(|p| format!("DC={p}"))
                .collect::<Vec<_>>()
                .join(","),
        )
        .arg("objectGUID")
        .output()
        .expect("ldbsearch (from ldb-tools/samba) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let guid = text
        .lines()
        .find_map(|l| l.strip_prefix("objectGUID: "))
        .unwrap_or_else(|| panic!("no objectGUID in ldbsearch output: {text}"));
    assert_eq!(dc.domain_guid.to_string(), guid.trim());
}

#[tokio::test]
async fn explicit_server_skips_srv_lookup() {
    let lab = Lab::get();
    let opts = DiscoverOptions {
        servers: vec![lab.dc_name.clone()],
        ..lab.discover_options()
    };
    let dc = discover(&lab.domain, &opts).await.unwrap();
    assert_eq!(dc.dc_name, lab.dc_name);
    assert!(dc.kdcs.is_empty());
}

#[tokio::test]
async fn domain_without_srv_records_is_named() {
    let lab = Lab::get();
    let started = Instant::now();
    let err = discover("nosuch.example.test", &lab.discover_options())
        .await
        .unwrap_err();
    assert!(matches!(err, DiscoverError::NoSrvRecords { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("_ldap._tcp.dc._msdcs.nosuch.example.test"),
        "{err}"
    );
    assert!(started.elapsed() < lab.discover_options().dns_budget() * 3);
}

#[tokio::test]
async fn silent_dns_server_fails_within_its_budget() {
    let lab = Lab::get();
    let (_keep, addr) = silent_udp();
    let opts = DiscoverOptions {
        dns_servers: vec![addr],
        dns_timeout: Duration::from_millis(400),
        ..DiscoverOptions::default()
    };
    let started = Instant::now();
    let err = discover(&lab.domain, &opts).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, DiscoverError::DnsUnreachable { .. }), "{err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    // The SRV lookups run side by side: one budget, plus scheduling slack.
    assert!(
        took <= opts.dns_budget() + Duration::from_millis(700),
        "took {took:?}"
    );
}

#[tokio::test]
async fn refused_dns_server_fails_fast() {
    let lab = Lab::get();
    // Nothing listens on 127.0.0.9: UDP gets ICMP port unreachable, TCP a reset.
    let opts = DiscoverOptions {
        dns_servers: vec!["127.0.0.9:53".parse().unwrap()],
        ..DiscoverOptions::default()
    };
    let started = Instant::now();
    let err = discover(&lab.domain, &opts).await.unwrap_err();
    assert!(matches!(err, DiscoverError::DnsUnreachable { .. }), "{err}");
    assert!(started.elapsed() <= opts.dns_budget() + Duration::from_millis(700));
}

#[tokio::test]
async fn dc_silent_on_cldap_fails_within_ping_budget() {
    let lab = Lab::get();
    let (_keep, addr) = silent_udp();
    let opts = DiscoverOptions {
        servers: vec![addr.ip().to_string()],
        cldap_port: addr.port(),
        ping_timeout: Duration::from_millis(300),
        ..lab.discover_options()
    };
    let started = Instant::now();
    let err = discover(&lab.domain, &opts).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, DiscoverError::NoCldapAnswer { .. }), "{err}");
    assert!(err.to_string().contains("no answer after 2 tries"), "{err}");
    assert!(
        took <= opts.ping_budget() + Duration::from_millis(500),
        "took {took:?}"
    );
}

#[tokio::test]
async fn dc_of_another_domain_is_not_taken() {
    let lab = Lab::get();
    // The lab DC answers pings for its own domain only.
    let opts = DiscoverOptions {
        servers: vec![lab.dc.clone()],
        ping_timeout: Duration::from_millis(500),
        ..lab.discover_options()
    };
    let err = discover("other.test", &opts).await.unwrap_err();
    assert!(matches!(err, DiscoverError::NoCldapAnswer { .. }), "{err}");
}
