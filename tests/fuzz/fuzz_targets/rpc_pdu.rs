//! Connection-oriented DCE/RPC PDUs as a transport sees them: `Header::peek` then
//! `Pdu::read` fragment after fragment; each PDU re-encodes and decodes back equal;
//! request/response fragments go through a bounded `Reassembler`, and a decoded request
//! is re-fragmented and reassembled to the same stub.
#![no_main]

use adjoin_rpc::codec::Reader;
use adjoin_rpc::fragment::{Reassembler, fragment_request};
use adjoin_rpc::pdu::{Body, Header, Pdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
