use proptest::prelude::*;

use super::*;
use crate::netlogon::LogonSamLogonExResponse;

fn whole<T: Ndr>(v: &T) -> Vec<u8> {
    let mut w = NdrWriter::new();
    v.encode_ndr(&mut w);
    w.into_bytes()
}

fn read<T: Ndr>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = NdrReader::new(bytes);
    let v = T::decode_ndr(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// C706 14.3.4 / MS-RPCE 2.2.5.3.4.1: a `[string] wchar_t*` referent is a
/// conformant varying array with the terminator counted.
#[test]
fn wide_string_layout() {
    let bytes = whole(&WideString::new("AB"));
    assert_eq!(
        bytes,
        [3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, b'A', 0, b'B', 0, 0, 0]
    );
    assert_eq!(read::<WideString>(&bytes).unwrap(), WideString::new("AB"));
    // Without the terminator, or with an offset, it is refused.
    let mut bad = bytes.clone();
    bad[16] = b'C';
    assert!(read::<WideString>(&bad).is_err());
    let mut bad = bytes;
    bad[4] = 1;
    assert!(matches!(
        read::<WideString>(&bad),
        Err(DecodeError::Variance { offset: 1, .. })
    ));
}

#[test]
fn unicode_string_null_and_empty_differ() {
    let null = whole(&UnicodeString(None));
    assert_eq!(null, [0, 0, 0, 0, 0, 0, 0, 0]);
    let empty = whole(&UnicodeString::new(""));
    assert_eq!(
        empty,
        [0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(read::<UnicodeString>(&null).unwrap(), UnicodeString(None));
    assert_eq!(
        read::<UnicodeString>(&empty).unwrap(),
        UnicodeString::new("")
    );
}

#[test]
fn sid_text_and_wire_forms() {
    let sid: Sid = "S-1-5-21-1-2-3-1103".parse().unwrap();
    assert_eq!(sid.to_string(), "S-1-5-21-1-2-3-1103");
    assert_eq!(sid.rid(), Some(1103));
    let bytes = whole(&sid);
    assert_eq!(&bytes[..12], &[5, 0, 0, 0, 1, 5, 0, 0, 0, 0, 0, 5]);
    assert_eq!(read::<Sid>(&bytes).unwrap(), sid);
    // Conformance and count must agree.
    let mut bad = bytes;
    bad[0] = 4;
    assert!(matches!(read::<Sid>(&bad), Err(DecodeError::BadSid { .. })));
}

#[test]
fn huge_counts_are_truncation_errors_not_allocations() {
    let bytes = [0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0];
    assert!(matches!(
        read::<ConformantArray<u32>>(&bytes),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn embedded_pointers_are_deferred_after_the_structure() {
    crate::ndr_struct! {
        struct Pair {
            a: Option<u32>,
            b: Option<u32>,
        }
    }
    let bytes = whole(&Pair {
        a: Some(7),
        b: Some(9),
    });
    // Two referent ids, then the referents in order.
    assert_eq!(bytes, [0, 0, 2, 0, 4, 0, 2, 0, 7, 0, 0, 0, 9, 0, 0, 0]);
    assert_eq!(
        read::<Pair>(&bytes).unwrap(),
        Pair {
            a: Some(7),
            b: Some(9)
        }
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = LogonSamLogonExResponse::from_stub(&bytes);
        let _ = crate::epm::EptMapResponse::from_stub(&bytes);
        let _ = read::<Sid>(&bytes);
        let _ = read::<WideString>(&bytes);
    }

    #[test]
    fn strings_round_trip(s in "\\PC{0,40}") {
        prop_assert_eq!(read::<WideString>(&whole(&WideString::new(s.clone()))).unwrap(), WideString::new(s.clone()));
        prop_assert_eq!(read::<UnicodeString>(&whole(&UnicodeString::new(s.clone()))).unwrap(), UnicodeString::new(s));
    }
}
