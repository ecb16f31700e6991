//! Regenerates `testdata/samba-cldap-reply.bin` and `testdata/samba-netlogon-ex.bin`
//! from a live DC: `cargo run -p adjoin-join --example cldap-capture -- 127.0.0.2 example.test`.

use std::net::UdpSocket;
use std::time::Duration;

use adjoin_join::discover::cldap;
use adjoin_join::discover::netlogon::NtVersion;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (dc, domain) = match (args.next(), args.next()) {
        (Some(dc), Some(domain)) => (dc, domain),
        _ => return Err("usage: cldap-capture DC_IP DOMAIN".into()),
    };
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    socket.set_read_timeout(Some(Duration::from_secs(2)))?;
    socket.connect((dc.as_str(), 389))?;
    socket.send(&cldap::ping_request(1, &domain, NtVersion::PING))?;
    let mut buf = vec![0; 4096];
    let n = socket.recv(&mut buf)?;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    std::fs::write(format!("{dir}/samba-cldap-reply.bin"), &buf[..n])?;
    let blob = cldap::ping_response(&buf[..n], 1)?;
    std::fs::write(format!("{dir}/samba-netlogon-ex.bin"), &blob)?;
    println!(
        "wrote {n}-byte reply and {}-byte netlogon blob to {dir}",
        blob.len()
    );
    Ok(())
}
