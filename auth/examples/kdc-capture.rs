//! Captures raw KDC replies from the lab KDC, for fuzz seeds and decoder tests.
//!
//! Runs the exchanges `adjoin kinit` and `adjoin kvno` run, through the same sans-IO
//! [`AsExchange`] / [`TgsExchange`] and [`kdc::send`], and writes each reply's bytes as the
//! KDC sent them:
//!
//! ```text
//! kdc-as-preauth-required.bin    KRB-ERROR 25 with ETYPE-INFO2 (first AS-REQ, no pre-auth)
//! kdc-as-response-too-big.bin    KRB-ERROR 52 RESPONSE_TOO_BIG (second AS-REQ over UDP)
//! kdc-as-rep.bin                 AS-REP for alice (second AS-REQ again, over TCP)
//! kdc-as-client-unknown.bin      KRB-ERROR 6 (AS-REQ for a client that does not exist)
//! kdc-tgs-rep.bin                TGS-REP for cifs/<dc>
//! kdc-tgs-service-unknown.bin    KRB-ERROR 7 (TGS-REQ for a service that does not exist)
//! kdc-alice-aes256-key.bin       alice's AES256 long-term key (decrypts kdc-as-rep.bin)
//! kdc-tgt-ccache.bin             the TGT as a ccache (its session key decrypts kdc-tgs-rep.bin)
//! ```
//!
//! ```sh
//! eval "$(tools/lab env)"
//! printf '%s\n' "$ADJOIN_LAB_ALICE_PASSWORD" |
//!     cargo run -p adjoin-auth --example kdc-capture -- 127.0.0.2 dc1.example.test auth/testdata
//! ```

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tokio::net::UdpSocket;

use adjoin_auth::ccache::CredentialCache;
use adjoin_auth::crypto::{EncryptionType, string_to_key};
use adjoin_auth::krb::kdc::{self, KdcConfig};
use adjoin_auth::krb::{AsExchange, AsOptions, AsStep, ClientSecret, Credentials, TgsExchange};
use adjoin_auth::principal::PrincipalName;

const REALM: &str = "EXAMPLE.TEST";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kdc_ip, dc_name, out] = args.as_slice() else {
        return Err(
            "usage: kdc-capture KDC-IP DC-HOSTNAME OUT-DIR (alice's password on stdin)".into(),
        );
    };
    let config = KdcConfig::new(vec![format!("{kdc_ip}:88").parse()?]);
    let out = PathBuf::from(out);
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);

    let alice = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], REALM);
    // The key made the way the KDC's ETYPE-INFO2 says (default salt, default iterations);
    // the exchange succeeding proves it is alice's key.
    let aes256 = EncryptionType::AES256_CTS_HMAC_SHA1_96;
    let key = string_to_key(aes256, password, &alice.default_salt(), None)?;
    let tgt = as_exchange(&config, &out, alice, ClientSecret::Keys(vec![key.clone()])).await?;
    write(&out, "kdc-alice-aes256-key.bin", key.as_bytes())?;
    let mut cache = CredentialCache::new(tgt.client.clone());
    cache.store(tgt.to_ccache());
    write(&out, "kdc-tgt-ccache.bin", &cache.to_bytes()?)?;

    let nobody = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["no-such-user"], REALM);
    let x = AsExchange::new(nobody, ClientSecret::Keys(vec![key]), AsOptions::default());
    let reply = kdc::send(&config, &x.start(SystemTime::now())).await?;
    write(&out, "kdc-as-client-unknown.bin", &reply)?;

    let cifs = PrincipalName::new(PrincipalName::NT_SRV_INST, ["cifs", dc_name], REALM);
    let x = TgsExchange::new(tgt.clone(), cifs);
    let reply = kdc::send(&config, &x.request(SystemTime::now())?).await?;
    let ticket = x.reply(&reply, SystemTime::now())?;
    eprintln!("service ticket for {}", ticket.server);
    write(&out, "kdc-tgs-rep.bin", &reply)?;

    let nowhere = ["cifs", "no-such-host.example.test"];
    let x = TgsExchange::new(tgt, PrincipalName::new(2, nowhere, REALM));
    let reply = kdc::send(&config, &x.request(SystemTime::now())?).await?;
    write(&out, "kdc-tgs-service-unknown.bin", &reply)?;
    Ok(())
}

/// The AS exchange of `adjoin kinit`, step by step, keeping each reply. The AS-REP with its
/// PAC is too big for UDP: the KDC answers the UDP request with RESPONSE_TOO_BIG and
/// [`kdc::send`] retries over TCP (RFC 4120 7.2.1); that error is captured over UDP first.
async fn as_exchange(
    config: &KdcConfig,
    out: &Path,
    client: PrincipalName,
    secret: ClientSecret,
) -> Result<Credentials> {
    let mut x = AsExchange::new(client, secret, AsOptions::default());
    let mut req = x.start(SystemTime::now());
    for name in ["kdc-as-preauth-required.bin", "kdc-as-rep.bin"] {
        if name == "kdc-as-rep.bin" {
            let reply = udp_only(config, &req.bytes).await?;
            write(out, "kdc-as-response-too-big.bin", &reply)?;
        }
        let reply = kdc::send(config, &req).await?;
        write(out, name, &reply)?;
        match x.step(&reply, SystemTime::now())? {
            AsStep::Send(next) => req = next,
            AsStep::Done(creds) => {
                eprintln!("TGT for {}", creds.client);
                return Ok(*creds);
            }
        }
    }
    Err("the KDC did not answer with an AS-REP after pre-authentication".into())
}

/// One UDP datagram to the first KDC and its answer, with no TCP fallback.
async fn udp_only(config: &KdcConfig, bytes: &[u8]) -> Result<Vec<u8>> {
    let socket = UdpSocket::bind("0.0.0.0:0").await?;
    socket.connect(config.kdcs[0]).await?;
    socket.send(bytes).await?;
    let mut buf = vec![0; 65536];
    let n = tokio::time::timeout(config.timeout, socket.recv(&mut buf)).await??;
    buf.truncate(n);
    Ok(buf)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    eprintln!("{}: {} bytes", path.display(), bytes.len());
    Ok(())
}
