use proptest::prelude::*;

use super::*;
use crate::fragment::Reassembler;
use crate::uuid::{BindTimeFeatures, SyntaxId, Uuid};

const BIND: &[u8] = include_bytes!("../../testdata/epm-bind.bin");
const BIND_ACK: &[u8] = include_bytes!("../../testdata/epm-bind-ack.bin");
const ALTER: &[u8] = include_bytes!("../../testdata/epm-alter-context.bin");
const ALTER_RESP: &[u8] = include_bytes!("../../testdata/epm-alter-context-resp.bin");
const LOOKUP: &[u8] = include_bytes!("../../testdata/epm-lookup-request.bin");
const LOOKUP_RESP: &[u8] = include_bytes!("../../testdata/epm-lookup-response.bin");
const BAD_OPNUM: &[u8] = include_bytes!("../../testdata/epm-bad-opnum-request.bin");
const FAULT: &[u8] = include_bytes!("../../testdata/epm-fault.bin");

const CAPTURES: [&[u8]; 8] = [
    BIND,
    BIND_ACK,
    ALTER,
    ALTER_RESP,
    LOOKUP,
    LOOKUP_RESP,
    BAD_OPNUM,
    FAULT,
];

/// Decodes every fragment of a capture, checking each re-encodes exactly.
fn fragments(bytes: &[u8]) -> Vec<Pdu> {
    let mut r = Reader::new("capture", bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        let start = r.position();
        let pdu = Pdu::read(&mut r).unwrap();
        assert_eq!(
            pdu.to_bytes().unwrap(),
            bytes[start..r.position()],
            "{pdu:?}"
        );
        out.push(pdu);
    }
    out
}

fn single(bytes: &[u8]) -> Pdu {
    let pdu = Pdu::decode(bytes).unwrap();
    assert_eq!(pdu.to_bytes().unwrap(), bytes);
    pdu
}

fn round_trip(pdu: &Pdu) -> Vec<u8> {
    let bytes = pdu.to_bytes().unwrap();
    assert_eq!(&Pdu::decode(&bytes).unwrap(), pdu);
    bytes
}

#[test]
fn samba_bind_and_bind_ack() {
    let bind = single(BIND);
    assert_eq!(bind.call_id, 1);
    assert_eq!(bind.flags, PfcFlags::SINGLE);
    let Body::Bind(b) = &bind.body else {
        panic!("{bind:?}")
    };
    assert_eq!(b.contexts.len(), 1);
    assert_eq!(b.contexts[0].abstract_syntax, SyntaxId::EPM);
    assert_eq!(b.contexts[0].transfer_syntaxes, [SyntaxId::NDR20]);

    let ack = single(BIND_ACK);
    assert_eq!(ack.call_id, 1);
    assert!(ack.auth.is_none());
    let Body::BindAck(a) = &ack.body else {
        panic!("{ack:?}")
    };
    assert_eq!(a.secondary_address, "135");
    assert_eq!((a.max_xmit_frag, a.max_recv_frag), (2048, 2048));
    assert_ne!(a.assoc_group_id, 0);
    assert_eq!(a.results.len(), 1);
    assert!(a.results[0].is_accepted());
    assert_eq!(a.results[0].transfer_syntax, SyntaxId::NDR20);
    assert_eq!(a.results[0].features(), None);
}

#[test]
fn samba_alter_context_rejects_ndr64() {
    let alter = single(ALTER);
    let Body::AlterContext(b) = &alter.body else {
        panic!("{alter:?}")
    };
    assert_eq!(b.contexts[0].transfer_syntaxes, [SyntaxId::NDR64]);
    assert_eq!(
        b.contexts[1].transfer_syntaxes[0].as_bind_time_features(),
        Some(BindTimeFeatures::all())
    );
    let resp = single(ALTER_RESP);
    let Body::AlterContextResponse(a) = &resp.body else {
        panic!("{resp:?}")
    };
    assert_eq!(a.secondary_address, "");
    for result in &a.results {
        assert_eq!(result.result, ResultKind::PROVIDER_REJECTION);
        assert_eq!(
            result.reason,
            ProviderReason::PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED
        );
        assert_eq!(
            result.reason.to_string(),
            "proposed_transfer_syntaxes_not_supported"
        );
    }
}

#[test]
fn samba_fragmented_response_reassembles() {
    let request = single(LOOKUP);
    let Body::Request(req) = &request.body else {
        panic!("{request:?}")
    };
    assert_eq!((req.opnum, req.context_id, req.stub.len()), (2, 0, 40));

    let frags = fragments(LOOKUP_RESP);
    assert_eq!(frags.len(), 4);
    let Body::Response(first) = &frags[0].body else {
        panic!("{:?}", frags[0])
    };
    let total = first.alloc_hint as usize;
    let mut reassembler = Reassembler::new(3, 1 << 16);
    let mut whole = None;
    for frag in frags {
        assert!(whole.is_none());
        whole = reassembler.push(frag).unwrap();
    }
    let whole = whole.unwrap();
    let Body::Response(resp) = &whole.body else {
        panic!("{whole:?}")
    };
    assert_eq!(resp.stub.len(), total);
    assert_eq!(resp.alloc_hint as usize, total);
    // ept_lookup's last out parameter is the error_status_t: 0, success.
    assert_eq!(resp.stub[total - 4..], [0, 0, 0, 0]);
}

#[test]
fn samba_fault_for_unknown_opnum() {
    let request = single(BAD_OPNUM);
    assert_eq!(request.packet_type(), PacketType::REQUEST);
    let fault = single(FAULT);
    assert_eq!(fault.call_id, 4);
    assert!(fault.flags.contains(PfcFlags::DID_NOT_EXECUTE));
    let Body::Fault(f) = &fault.body else {
        panic!("{fault:?}")
    };
    assert_eq!(f.status, FaultStatus::OP_RNG_ERROR);
    assert_eq!(f.status.to_string(), "nca_s_op_rng_error");
    assert_eq!(
        format!("{:?}", FaultStatus::new(0xdead)),
        "FaultStatus(0xdead)"
    );
    assert_eq!(FaultStatus::new(0xdead).to_string(), "0xdead");
}

#[test]
fn request_with_object_uuid_and_auth_verifier() {
    let object: Uuid = "01234567-89ab-cdef-0123-456789abcdef".parse().unwrap();
    let stub = vec![1, 2, 3, 4, 5];
    let auth = AuthVerifier::new(AuthType::WINNT, AuthLevel::PKT_INTEGRITY, 7, vec![0xaa; 16])
        .pad_for(8 + 16 + stub.len());
    assert_eq!(auth.pad_length, 3);
    let pdu = Pdu {
        auth: Some(auth),
        ..Pdu::new(
            9,
            Body::Request(Request {
                alloc_hint: 5,
                context_id: 1,
                opnum: 4,
                object: Some(object),
                stub,
            }),
        )
    };
    let bytes = round_trip(&pdu);
    let mut expected = vec![5, 0, 0, 0x83, 0x10, 0, 0, 0, 72, 0, 16, 0, 9, 0, 0, 0];
    expected.extend_from_slice(&[5, 0, 0, 0, 1, 0, 4, 0]);
    expected.extend_from_slice(&object.to_wire());
    expected.extend_from_slice(&[1, 2, 3, 4, 5, 0, 0, 0]);
    expected.extend_from_slice(&[10, 5, 3, 0, 7, 0, 0, 0]);
    expected.extend_from_slice(&[0xaa; 16]);
    assert_eq!(bytes, expected);
}

#[test]
fn other_pdu_types_round_trip() {
    let nak = Pdu::new(
        5,
        Body::BindNak(BindNak {
            reason: RejectReason::PROTOCOL_VERSION_NOT_SUPPORTED,
            versions: vec![ProtocolVersion { major: 5, minor: 0 }],
            extra: vec![0; 3],
        }),
    );
    assert_eq!(
        round_trip(&nak),
        [
            5, 0, 13, 3, 0x10, 0, 0, 0, 24, 0, 0, 0, 5, 0, 0, 0, 4, 0, 1, 5, 0, 0, 0, 0
        ]
    );

    let auth3 = Pdu {
        auth: Some(AuthVerifier::new(
            AuthType::WINNT,
            AuthLevel::CONNECT,
            0,
            b"NTLMSSP\0".to_vec(),
        )),
        ..Pdu::new(
            2,
            Body::Auth3(Auth3 {
                pad: [0xd0, 0x16, 0xd0, 0x16],
            }),
        )
    };
    assert_eq!(
        round_trip(&auth3),
        [
            5, 0, 16, 3, 0x10, 0, 0, 0, 36, 0, 8, 0, 2, 0, 0, 0, 0xd0, 0x16, 0xd0, 0x16, 10, 2, 0,
            0, 0, 0, 0, 0, b'N', b'T', b'L', b'M', b'S', b'S', b'P', 0
        ]
    );

    let response = Pdu {
        flags: PfcFlags::FIRST_FRAG,
        ..Pdu::new(
            3,
            Body::Response(Response {
                alloc_hint: 100,
                context_id: 2,
                cancel_count: 1,
                reserved: 0,
                stub: vec![9; 10],
            }),
        )
    };
    assert_eq!(round_trip(&response).len(), 16 + 8 + 10);

    let mut fault = Fault::new(0, FaultStatus::ACCESS_DENIED);
    fault.stub = vec![1, 2, 3, 4];
    round_trip(&Pdu::new(4, Body::Fault(fault)));

    for body in [Body::Shutdown, Body::CoCancel, Body::Orphaned] {
        let bytes = round_trip(&Pdu::new(6, body));
        assert_eq!(bytes.len(), HEADER_LEN);
    }

    let bind = Pdu {
        flags: PfcFlags::SINGLE | PfcFlags::SUPPORT_HEADER_SIGN | PfcFlags::CONC_MPX,
        auth: Some(
            AuthVerifier::new(
                AuthType::GSS_NEGOTIATE,
                AuthLevel::PKT_PRIVACY,
                0,
                vec![0x60; 40],
            )
            .pad_for(12 + 44),
        ),
        ..Pdu::new(
            1,
            Body::Bind(Bind {
                max_xmit_frag: 5840,
                max_recv_frag: 5840,
                assoc_group_id: 0,
                contexts: vec![ContextElement {
                    context_id: 0,
                    abstract_syntax: SyntaxId::NETLOGON,
                    transfer_syntaxes: vec![SyntaxId::NDR20],
                }],
            }),
        )
    };
    round_trip(&bind);

    let ack = Pdu::new(
        1,
        Body::BindAck(BindAck {
            max_xmit_frag: 4280,
            max_recv_frag: 4280,
            assoc_group_id: 0x1234,
            secondary_address: r"\PIPE\netlogon".into(),
            results: vec![ContextResult {
                result: ResultKind::NEGOTIATE_ACK,
                reason: ProviderReason::new(3),
                transfer_syntax: SyntaxId::new(Uuid::NIL, 0, 0),
            }],
        }),
    );
    let bytes = round_trip(&ack);
    // 16 + 8 + 2 + 15 = 41, padded to 44.
    assert_eq!(bytes[41..44], [0, 0, 0]);
    let Body::BindAck(a) = &ack.body else {
        unreachable!()
    };
    assert_eq!(a.results[0].features(), Some(BindTimeFeatures::all()));
}

#[test]
fn header_peek_frames_a_stream() {
    assert_eq!(Header::peek(&BIND_ACK[..15]), Ok(None));
    let header = Header::peek(BIND_ACK).unwrap().unwrap();
    assert_eq!(header.ptype, PacketType::BIND_ACK);
    assert_eq!(usize::from(header.frag_length), BIND_ACK.len());
    let mut short = BIND_ACK[..16].to_vec();
    short[8] = 15;
    assert_eq!(
        Header::peek(&short),
        Err(DecodeError::FragLength {
            frag_length: 15,
            minimum: 16
        })
    );
}

#[test]
fn malformed_headers_are_typed_errors() {
    let mut big_endian = BIND_ACK.to_vec();
    big_endian[4] = 0x00;
    assert!(matches!(
        Pdu::decode(&big_endian),
        Err(DecodeError::UnsupportedDataRepresentation { drep: [0, 0, 0, 0] })
    ));
    let mut vax = BIND_ACK.to_vec();
    vax[5] = 1;
    assert!(matches!(
        Pdu::decode(&vax),
        Err(DecodeError::UnsupportedDataRepresentation { .. })
    ));
    let mut v4 = BIND_ACK.to_vec();
    v4[0] = 4;
    assert_eq!(
        Pdu::decode(&v4),
        Err(DecodeError::UnsupportedVersion { major: 4, minor: 0 })
    );
    let mut ping = FAULT.to_vec();
    ping[2] = PacketType::PING.value();
    assert_eq!(
        Pdu::decode(&ping),
        Err(DecodeError::UnsupportedPacketType { ptype: 1 })
    );
    let mut trailing = FAULT.to_vec();
    trailing.push(0);
    assert!(matches!(
        Pdu::decode(&trailing),
        Err(DecodeError::TrailingBytes { extra: 1, .. })
    ));
    let mut long_frag = FAULT.to_vec();
    long_frag[8] += 1;
    long_frag.push(0);
    // The fault body then has one stub byte: fine. One byte past the data is not.
    assert!(Pdu::decode(&long_frag).is_ok());
    long_frag.pop();
    assert!(matches!(
        Pdu::decode(&long_frag),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn malformed_bodies_are_typed_errors() {
    let mut auth_too_long = FAULT.to_vec();
    auth_too_long[10] = 9; // 8 + 9 > 16 body bytes
    assert_eq!(
        Pdu::decode(&auth_too_long),
        Err(DecodeError::AuthLength {
            auth_length: 9,
            body: 16
        })
    );
    let mut pad_too_long = FAULT.to_vec();
    // auth_length 1: the sec_trailer sits at body offset 16 - 9 = 7, its
    // auth_pad_length (trailer byte 2) at PDU offset 16 + 7 + 2.
    pad_too_long[10] = 1;
    pad_too_long[16 + 7 + 2] = 8;
    assert_eq!(
        Pdu::decode(&pad_too_long),
        Err(DecodeError::AuthPadding {
            pad: 8,
            available: 7
        })
    );
    let mut bad_port = BIND_ACK.to_vec();
    bad_port[29] = b'x'; // the NUL after "135"
    assert_eq!(
        Pdu::decode(&bad_port),
        Err(DecodeError::BadString {
            what: "bind_ack sec_addr"
        })
    );
    let mut too_many_contexts = BIND.to_vec();
    too_many_contexts[24] = 2;
    assert!(matches!(
        Pdu::decode(&too_many_contexts),
        Err(DecodeError::Truncated { what: "bind", .. })
    ));
}

#[test]
fn every_truncation_of_every_capture_is_an_error() {
    for capture in CAPTURES {
        let first = usize::from(Header::peek(capture).unwrap().unwrap().frag_length);
        for len in 0..first {
            assert!(Pdu::decode(&capture[..len]).is_err(), "prefix {len}");
        }
    }
}

#[test]
fn encode_rejects_what_the_header_cannot_say() {
    let huge = Pdu::new(
        1,
        Body::Response(Response {
            alloc_hint: 0,
            context_id: 0,
            cancel_count: 0,
            reserved: 0,
            stub: vec![0; 70_000],
        }),
    );
    let mut out = vec![0xee];
    assert_eq!(
        huge.encode(&mut out),
        Err(EncodeError::FragmentTooLong {
            len: 16 + 8 + 70_000
        })
    );
    assert_eq!(out, [0xee]);
    let crowded = Pdu::new(
        1,
        Body::Bind(Bind {
            max_xmit_frag: 0,
            max_recv_frag: 0,
            assoc_group_id: 0,
            contexts: vec![
                ContextElement {
                    context_id: 0,
                    abstract_syntax: SyntaxId::EPM,
                    transfer_syntaxes: vec![],
                };
                256
            ],
        }),
    );
    assert!(matches!(
        crowded.to_bytes(),
        Err(EncodeError::TooManyElements { count: 256, .. })
    ));
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(pdu) = Pdu::decode(&bytes) {
            let again = pdu.to_bytes().unwrap();
            prop_assert_eq!(Pdu::decode(&again).unwrap(), pdu);
        }
    }

    #[test]
    fn mutated_captures_never_panic(
        which in 0..CAPTURES.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = CAPTURES[which].to_vec();
        for (at, value) in edits {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        let mut r = Reader::new("capture", &bytes);
        while let Ok(pdu) = Pdu::read(&mut r) {
            let again = pdu.to_bytes().unwrap();
            prop_assert_eq!(Pdu::decode(&again).unwrap(), pdu);
        }
    }
}
