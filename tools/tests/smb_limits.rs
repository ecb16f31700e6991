//! What one SMB client can make adjoind hold: connections from one address are capped
//! (`Services\adjoind\MaxConnectionsPerAddress`), and a refused connection is closed at
//! once rather than left waiting, while the address's other connections go on.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use adjoin_registry::{Registry, Value};
use adjoin_tests::Lab;
use adjoin_tests::daemon::{Bins, IdentityDaemon, free_port};

const BINS: Bins<'static> = Bins {
    domain_join: env!("CARGO_BIN_EXE_domain-join"),
    adjoind: env!("CARGO_BIN_EXE_adjoind"),
    adjoin: env!("CARGO_BIN_EXE_adjoin"),
};

/// Whether the server closed `stream` within a second (EOF or reset), as opposed to
/// keeping it open and waiting for the client's NEGOTIATE.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn one_address_holds_at_most_its_connection_limit() {
    let lab = Lab::get();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut d = IdentityDaemon::start_with(
        &lab,
        BINS,
        &format!("smblimit.{}", lab.domain),
        &[],
        Some(addr),
    );
    Registry::open(d.registry())
        .unwrap()
        .set_value(
            r"HKEY_THIS_MACHINE\Services\adjoind",
            "MaxConnectionsPerAddress",
            &Value::Dword(3),
        )
        .unwrap();
    d.restart(&lab);
    let connect = || TcpStream::connect(addr).expect("the listener accepts");
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect()).collect();
    for stream in &mut held {
        assert!(
            !closed_by_server(stream),
            "one of the first three was closed"
        );
    }
    let mut fourth = connect();
    assert!(
        closed_by_server(&mut fourth),
        "the fourth from one address is closed at once"
    );
    // A slot comes back when a connection ends.
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(300));
    let mut again = connect();
    assert!(
        !closed_by_server(&mut again),
        "a freed slot is given to the next connection"
    );
    assert!(d.log().contains("MaxConnectionsPerAddress"), "{}", d.log());
}
