//! Byte-exact checks against Samba's pidl marshalling (`rpc/testdata/ndr/wkssvc.txt`,
//! made by `rpc/testdata/ndr/gen-wkssvc.py` for FS1 in EXAMPLE).

use proptest::prelude::*;

use super::*;
use crate::testdata::check;

fn reference(name: &str) -> Vec<u8> {
    crate::testdata::reference(include_str!("../../testdata/ndr/wkssvc.txt"), name)
}

fn service() -> WkssvcService {
    WkssvcService::new("FS1", "EXAMPLE")
}

#[test]
fn netr_wksta_get_info_matches_samba() {
    let mut srv = service();
    for (tag, server, level) in [
        ("100", Some(r"\\FS1"), 100),
        ("null_server", None, 100),
        ("102", Some(r"\\FS1"), 102),
    ] {
        let name = format!("wksta_get_info_{tag}");
        let wire = reference(&format!("{name}_in"));
        let request = NetrWkstaGetInfoRequest {
            server_name: server.map(WideString::new),
            level,
        };
        check(&name, &wire, &request);
        let out = reference(&format!("{name}_out"));
        assert_eq!(srv.call(0, &wire), Ok(out.clone()), "{name}");
        check(
            &name,
            &out,
            &NetrWkstaGetInfoResponse::from_stub(&out).unwrap(),
        );
    }
    let resp = NetrWkstaGetInfoResponse::from_stub(&reference("wksta_get_info_100_out")).unwrap();
    let WkstaInfo::Level100(Some(info)) = resp.wksta_info else {
        panic!("{resp:?}");
    };
    assert_eq!(info.langroup, Some(WideString::new("EXAMPLE")));
    assert_eq!(info.platform_id, PLATFORM_ID_NT);
}

#[test]
fn unknown_levels_and_bad_calls() {
    let mut srv = service();
    assert_eq!(srv.syntax(), SyntaxId::WKSSVC);
    assert_eq!(srv.name(), "wkssvc");
    // A level with no arm in any IDL: the discriminant alone.
    let stub = NetrWkstaGetInfoRequest {
        server_name: None,
        level: 7,
    }
    .to_stub();
    assert_eq!(srv.call(0, &stub), Ok(vec![7, 0, 0, 0, 124, 0, 0, 0]));
    let wire = reference("wksta_get_info_100_in");
    assert_eq!(srv.call(1, &wire), Err(FaultStatus::OP_RNG_ERROR));
    for len in 0..wire.len() {
        assert_eq!(srv.call(0, &wire[..len]), Err(FaultStatus::NDR), "{len}");
    }
    // An unsupported arm must be a null pointer.
    let mut reply = reference("wksta_get_info_102_out");
    reply[4] = 1;
    assert!(NetrWkstaGetInfoResponse::from_stub(&reply).is_err());
}

proptest! {
    /// No stub makes the service panic: it answers or faults.
    #[test]
    fn call_never_panics(opnum in 0u16..4, stub in prop::collection::vec(any::<u8>(), 0..128)) {
        let _ = service().call(opnum, &stub);
    }
}
