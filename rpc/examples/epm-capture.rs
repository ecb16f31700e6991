//! Captures real PDUs from an endpoint mapper (ncacn_ip_tcp port 135, no
//! auth) into `rpc/testdata/` for the unit tests and fuzz seeds:
//!
//! - `epm-bind.bin` / `epm-bind-ack.bin`: bind for EPM v3 over NDR20
//!   (max_recv_frag 1432 so a larger response must be fragmented);
//! - `epm-alter-context.bin` / `epm-alter-context-resp.bin`: EPM over NDR64
//!   and the bind-time feature negotiation syntax;
//! - `epm-lookup-request.bin` / `epm-lookup-response.bin`: ept_lookup
//!   (opnum 2) for all elements, max_ents 64; the response file holds every
//!   fragment back to back;
//! - `epm-bad-opnum-request.bin` / `epm-fault.bin`: opnum 99, answered with a
//!   fault.
//!
//! Usage: `cargo run -p adjoin-rpc --example epm-capture [host:port]`
//! (default 127.0.0.2:135, the lab DC).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use adjoin_rpc::SyntaxId;
use adjoin_rpc::pdu::{
    Bind, Body, ContextElement, HEADER_LEN, Header, MUST_RECV_FRAG_SIZE, Pdu, PfcFlags, Request,
};
use adjoin_rpc::uuid::BindTimeFeatures;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.2:135".into());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    std::fs::create_dir_all(&dir)?;
    let mut conn = TcpStream::connect(&addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;

    let bind = Pdu::new(
        1,
        Body::Bind(Bind {
            max_xmit_frag: MUST_RECV_FRAG_SIZE,
            max_recv_frag: MUST_RECV_FRAG_SIZE,
            assoc_group_id: 0,
            contexts: vec![context(0, SyntaxId::NDR20)],
        }),
    );
    exchange(&mut conn, &dir, "epm-bind", &bind, "epm-bind-ack")?;

    let alter = Pdu::new(
        2,
        Body::AlterContext(Bind {
            max_xmit_frag: MUST_RECV_FRAG_SIZE,
            max_recv_frag: MUST_RECV_FRAG_SIZE,
            assoc_group_id: 0,
            contexts: vec![
                context(1, SyntaxId::NDR64),
                context(2, SyntaxId::bind_time_features(BindTimeFeatures::all())),
            ],
        }),
    );
    exchange(
        &mut conn,
        &dir,
        "epm-alter-context",
        &alter,
        "epm-alter-context-resp",
    )?;

    // ept_lookup: inquiry_type 0 (all elements), object NULL, Ifid NULL,
    // vers_option 1 (all), entry_handle zero (20 bytes), max_ents 64.
    let mut stub = Vec::new();
    for word in [0u32, 0, 0, 1] {
        stub.extend_from_slice(&word.to_le_bytes());
    }
    stub.extend_from_slice(&[0; 20]);
    stub.extend_from_slice(&64u32.to_le_bytes());
    let lookup = request(3, 2, stub);
    exchange(
        &mut conn,
        &dir,
        "epm-lookup-request",
        &lookup,
        "epm-lookup-response",
    )?;

    let bad = request(4, 99, Vec::new());
    exchange(&mut conn, &dir, "epm-bad-opnum-request", &bad, "epm-fault")?;
    Ok(())
}

fn context(id: u16, transfer: SyntaxId) -> ContextElement {
    ContextElement {
        context_id: id,
        abstract_syntax: SyntaxId::EPM,
        transfer_syntaxes: vec![transfer],
    }
}

fn request(call_id: u32, opnum: u16, stub: Vec<u8>) -> Pdu {
    Pdu::new(
        call_id,
        Body::Request(Request {
            alloc_hint: u32::try_from(stub.len()).unwrap_or(u32::MAX),
            context_id: 0,
            opnum,
            object: None,
            stub,
        }),
    )
}

/// Sends `pdu`, reads fragments up to PFC_LAST_FRAG, saves both sides.
fn exchange(
    conn: &mut TcpStream,
    dir: &std::path::Path,
    sent_name: &str,
    pdu: &Pdu,
    reply_name: &str,
) -> Result<()> {
    let sent = pdu.to_bytes()?;
    conn.write_all(&sent)?;
    std::fs::write(dir.join(format!("{sent_name}.bin")), &sent)?;
    let mut reply = Vec::new();
    loop {
        let start = reply.len();
        reply.resize(start + HEADER_LEN, 0);
        conn.read_exact(&mut reply[start..])?;
        let header = Header::peek(&reply[start..])?.ok_or("short header")?;
        reply.resize(start + usize::from(header.frag_length), 0);
        conn.read_exact(&mut reply[start + HEADER_LEN..])?;
        let fragment = Pdu::decode(&reply[start..])?;
        println!("{reply_name}: {} bytes: {fragment:?}", reply.len() - start);
        let done = fragment.flags.contains(PfcFlags::LAST_FRAG)
            || !matches!(fragment.body, Body::Response(_));
        if done {
            break;
        }
    }
    std::fs::write(dir.join(format!("{reply_name}.bin")), &reply)?;
    Ok(())
}
