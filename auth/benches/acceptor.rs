//! AP-REQ acceptances per second on one core: `cargo bench -p adjoin-auth --bench acceptor`.
//!
//! Each acceptance is the whole server-side check an SMB session setup makes: decode the
//! AP-REQ, find the key, decrypt the ticket and the authenticator, check names, skew and
//! lifetime, insert into the replay cache, and decode the PAC and verify its server
//! signature. The PAC is a real one from the lab's Samba KDC (auth/testdata), so its size
//! and shape are what AD sends. Issue 4's target: 50,000/s for aes256.

use std::time::{Duration, Instant, UNIX_EPOCH};

use adjoin_auth::crypto::{EncryptionType, Key, KeyUsage};
use adjoin_auth::krb::Acceptor;
use adjoin_auth::krb::ap_req::{self, ApReqParts};
use adjoin_auth::krb::mint::{self, TicketSpec};
use adjoin_auth::pac::Pac;
use adjoin_auth::principal::PrincipalName;

const LAB_PAC: &[u8] = include_bytes!("../testdata/pac-lab-aes256.bin");
const LAB_KEY: &[u8] = include_bytes!("../testdata/pac-lab-aes256.key");
/// AP-REQs per run: each has its own authenticator, so the replay cache keeps all of them.
const N: u32 = 50_000;

fn main() {
    println!("adjoin-auth AP-REQ acceptor benchmark (one core, {N} distinct AP-REQs per run)");
    println!("{:<44} {:>12} {:>10}", "case", "accepts/s", "us each");
    let with_pac = spec(true);
    run("aes256 ticket with a real AD PAC (verified)", &with_pac);
    run("aes256 ticket without a PAC", &spec(false));
}

fn spec(pac: bool) -> TicketSpec {
    let parsed = Pac::parse(LAB_PAC).expect("the lab PAC parses");
    let auth_time = UNIX_EPOCH
        + Duration::from_secs(u64::try_from(parsed.client_info().client_time()).unwrap_or(0));
    TicketSpec {
        service: PrincipalName::new(
            PrincipalName::NT_SRV_INST,
            ["HTTP", "pacsvc.example.test"],
            "EXAMPLE.TEST",
        ),
        service_key: Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, LAB_KEY).unwrap(),
        kvno: 2,
        client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST"),
        auth_time,
        lifetime: Duration::from_secs(36_000),
        pac: pac.then(|| LAB_PAC.to_vec()),
        session_key: Key::generate(EncryptionType::AES256_CTS_HMAC_SHA1_96).unwrap(),
    }
}

fn run(label: &str, spec: &TicketSpec) {
    let creds = mint::issue(spec).unwrap();
    let base = spec.auth_time + Duration::from_secs(60);
    let reqs: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            let at = base + Duration::from_micros(u64::from(i));
            ap_req::build(&creds, &ApReqParts::default(), KeyUsage::AP_REQ_AUTH, at).unwrap()
        })
        .collect();
    let mut acceptor = Acceptor::new(mint::keytab_for(spec));
    let started = Instant::now();
    for req in &reqs {
        let accepted = acceptor.accept(req, base).expect("accepted");
        std::hint::black_box(accepted);
    }
    let took = started.elapsed();
    let rate = f64::from(N) / took.as_secs_f64();
    println!("{label:<44} {rate:>12.0} {:>10.2}", 1e6 / rate);
}
