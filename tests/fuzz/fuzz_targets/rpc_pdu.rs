//! Connection-oriented DCE/RPC PDUs as a transport sees them: `Header::peek` then
//! `Pdu::read` fragment after fragment; each PDU re-encodes and decodes back equal;
//! request/response fragments go through a bounded `Reassembler`, and a decoded request
//! is re-fragmented and reassembled to the same stub. The same bytes, cut at each PDU's
//! frag_length, are fed to a `ServerBinding` (an echo service), fresh and after a genuine
//! bind.
#![no_main]

use adjoin_rpc::client::{BindAuth, ClientBinding};
use adjoin_rpc::codec::Reader;
use adjoin_rpc::fragment::{Reassembler, fragment_request};
use adjoin_rpc::pdu::{Body, FaultStatus, Header, Pdu};
use adjoin_rpc::server::{ServerBinding, Service};
use adjoin_rpc::uuid::{SyntaxId, Uuid};
use libfuzzer_sys::fuzz_target;

struct Echo;

const ECHO: SyntaxId = SyntaxId::new(Uuid::from_fields(1, 2, 3, [4; 8]), 1, 0);

impl Service for Echo {
    fn syntax(&self) -> SyntaxId {
        ECHO
    }

    fn name(&self) -> &'static str {
        "echo"
    }

    fn call(&mut self, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, FaultStatus> {
        match opnum {
            0 => Ok(stub.to_vec()),
            _ => Err(FaultStatus::OP_RNG_ERROR),
        }
    }
}

/// Feeds `data` to a server binding, fragment by fragment as a transport would cut it.
fn serve(server: &mut ServerBinding, data: &[u8]) {
    let mut rest = data;
    while let Ok(Some(header)) = Header::peek(rest) {
        let len = usize::from(header.frag_length).min(rest.len());
        let (fragment, tail) = rest.split_at(len);
        if server.handle_fragment(fragment).is_err() {
            return;
        }
        rest = tail;
    }
}

fuzz_target!(|data: &[u8]| {
    serve(
        &mut ServerBinding::new(vec![Box::new(Echo)], 1, "135"),
        data,
    );
    let mut bound = ServerBinding::new(vec![Box::new(Echo)], 1, "135");
    let bind = ClientBinding::new("echo", BindAuth::None)
        .bind_pdu(ECHO)
        .expect("a bind");
    bound.handle_fragment(&bind).expect("a genuine bind");
    serve(&mut bound, data);

    let _ = Header::peek(data);
    let mut r = Reader::new("stream", data);
    let mut reassembler: Option<Reassembler> = None;
    while let Ok(pdu) = Pdu::read(&mut r) {
        let bytes = pdu.to_bytes().expect("a decoded PDU fits its frag_length");
        let again = Pdu::decode(&bytes).expect("an encoded PDU decodes");
        assert_eq!(again, pdu, "PDU round trip");

        if let Body::Request(req) = &pdu.body {
            let mut check = Reassembler::new(pdu.call_id, 1 << 16);
            let mut whole = None;
            for frag in fragment_request(pdu.call_id, req, 1432).expect("1432 has room") {
                whole = check.push(frag).expect("own fragments reassemble");
            }
            match whole.expect("last fragment completes").body {
                Body::Request(got) => assert_eq!(got.stub, req.stub, "request stub"),
                other => panic!("reassembled {other:?}"),
            }
        }
        let call = reassembler.get_or_insert_with(|| Reassembler::new(pdu.call_id, 1 << 16));
        if call.push(pdu).is_err() || call.is_finished() {
            reassembler = None;
        }
    }
});
