use proptest::prelude::*;

use super::*;

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
    let null = whole(&UnicodeString::NULL);
    assert_eq!(null, [0, 0, 0, 0, 0, 0, 0, 0]);
    let empty = whole(&UnicodeString::new(""));
    assert_eq!(
        empty,
        [0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(read::<UnicodeString>(&null).unwrap(), UnicodeString::NULL);
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

/// C706 chapter 14, embedded pointers: an embedded structure's referents
/// are deferred to the end of the enclosing structure, after all of its
/// scalars, so a structure that embeds a prefix (KERB_VALIDATION_INFO
/// embedding NETLOGON_VALIDATION_SAM_INFO2) has the NDR of the flat list.
#[test]
fn embedded_structures_defer_to_the_enclosing_structure() {
    crate::ndr_struct! {
        struct Prefix {
            a: Option<u32>,
            n: u16,
        }
    }
    crate::ndr_struct! {
        struct Nested {
            prefix: Prefix,
            b: Option<u32>,
        }
    }
    crate::ndr_struct! {
        struct Flat {
            a: Option<u32>,
            n: u16,
            b: Option<u32>,
        }
    }
    let nested = whole(&Nested {
        prefix: Prefix { a: Some(7), n: 1 },
        b: Some(9),
    });
    let flat = whole(&Flat {
        a: Some(7),
        n: 1,
        b: Some(9),
    });
    assert_eq!(nested, flat);
    // a's referent id, n and padding, b's referent id, then 7 and 9.
    assert_eq!(
        nested,
        [0, 0, 2, 0, 1, 0, 0, 0, 4, 0, 2, 0, 7, 0, 0, 0, 9, 0, 0, 0]
    );
    assert_eq!(read::<Nested>(&flat).unwrap().b, Some(9));
}

crate::ndr_struct! {
    /// A count and the array it sizes, as MS-SAMR's SAMPR_ULONG_ARRAY.
    struct Counted {
        count: u32,
        element: Option<ConformantArray<u32>>,
    }
    size_is { element: count, }
}

fn counted(values: &[u32]) -> Counted {
    Counted {
        count: values.len() as u32,
        element: Some(ConformantArray(values.to_vec())),
    }
}

/// C706 14.3.3.2: the conformance on the wire is the `size_is` count.
#[test]
fn size_is_count_must_equal_the_conformance() {
    let bytes = whole(&counted(&[7, 9]));
    assert_eq!(
        bytes,
        [2, 0, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0]
    );
    assert_eq!(read::<Counted>(&bytes).unwrap(), counted(&[7, 9]));
    let mut bad = bytes;
    bad[0] = 5;
    assert_eq!(
        read::<Counted>(&bad),
        Err(DecodeError::SizeIs {
            what: "Counted",
            array: "element",
            field: "count",
            count: 5,
            wire: 2,
        })
    );
    assert_eq!(
        bad_message(&bad),
        "Counted: count is 5 but element carries 2 elements"
    );
}

fn bad_message(bytes: &[u8]) -> String {
    read::<Counted>(bytes).unwrap_err().to_string()
}

/// A null array goes with a count of 0.
#[test]
fn size_is_null_array_needs_count_zero() {
    let null = Counted::default();
    let bytes = whole(&null);
    assert_eq!(read::<Counted>(&bytes).unwrap(), null);
    let mut bad = bytes;
    bad[0] = 1;
    assert!(matches!(
        read::<Counted>(&bad),
        Err(DecodeError::SizeIs {
            count: 1,
            wire: 0,
            ..
        })
    ));
}

/// Encoding does not derive the count: a hand-built value whose count
/// disagrees trips the debug assertion.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "encoding a count that disagrees with its array")]
fn size_is_encoding_an_inconsistent_count_panics_in_debug() {
    let mut v = counted(&[1, 2, 3]);
    v.count = 2;
    whole(&v);
}

crate::ndr_params! {
    /// A top-level `[in, size_is(Count)]` array.
    struct CountedParams {
        count: u32,
        names: ConformantArray<u32>,
    }
    size_is { names: count }
}

#[test]
fn size_is_in_argument_lists() {
    let params = CountedParams {
        count: 1,
        names: ConformantArray(vec![4]),
    };
    let mut stub = params.to_stub();
    assert_eq!(CountedParams::from_stub(&stub).unwrap(), params);
    stub[0] = 0;
    assert!(matches!(
        CountedParams::from_stub(&stub),
        Err(DecodeError::SizeIs {
            what: "CountedParams",
            count: 0,
            wire: 1,
            ..
        })
    ));
}

/// An aligned u8, u16, u32 and FILETIME (two u32 halves) in a row (moved
/// from the PAC's reader).
#[test]
fn primitives_are_aligned_to_their_size() {
    let body = [
        7, 0, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0, 2, 0, 0, 0,
    ];
    let mut r = NdrReader::new(&body);
    assert_eq!(r.bytes(1).unwrap(), [7]);
    assert_eq!(r.u16().unwrap(), 0x1234);
    assert_eq!(r.u32().unwrap(), 0x1234_5678);
    assert_eq!(
        OldLargeInteger::decode_ndr(&mut r).unwrap(),
        OldLargeInteger((2 << 32) | 1)
    );
    r.finish().unwrap();
}

/// MS-DTYP 2.3.10: the characters follow as a deferred conformant varying
/// array `[size_is(MaximumLength/2), length_is(Length/2)]`.
#[test]
fn unicode_string_with_deferred_characters() {
    let mut body = vec![4, 0, 6, 0, 0, 0, 2, 0]; // Length 4, Max 6, ptr
    body.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
    body.extend_from_slice(&[b'h', 0, b'i', 0]);
    assert_eq!(read::<UnicodeString>(&body).unwrap(), "hi");
}

#[test]
fn unicode_string_counts_must_match_the_lengths() {
    let mut body = vec![4, 0, 6, 0, 0, 0, 2, 0];
    body.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]); // actual 3 != 2
    body.extend_from_slice(&[b'h', 0, b'i', 0, b'!', 0]);
    assert_eq!(
        read::<UnicodeString>(&body),
        Err(DecodeError::SizeIs {
            what: "RPC_UNICODE_STRING",
            array: "Buffer",
            field: "Length / 2",
            count: 2,
            wire: 3,
        })
    );
    // The conformance is MaximumLength / 2.
    body[8] = 2;
    assert!(matches!(
        read::<UnicodeString>(&body),
        Err(DecodeError::SizeIs {
            field: "MaximumLength / 2",
            count: 3,
            wire: 2,
            ..
        })
    ));
    // An odd Length, or one above MaximumLength.
    for (length, maximum) in [(3, 6), (8, 6)] {
        let bad = [length, 0, maximum, 0, 0, 0, 0, 0];
        assert!(matches!(
            read::<UnicodeString>(&bad),
            Err(DecodeError::Invalid { .. })
        ));
    }
}

#[test]
fn null_unicode_string_is_empty_only_with_zero_length() {
    let empty = [0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(read::<UnicodeString>(&empty).unwrap(), "");
    assert_eq!(read::<UnicodeString>(&empty).unwrap(), UnicodeString::NULL);
    let bad = [2, 0, 2, 0, 0, 0, 0, 0];
    assert!(read::<UnicodeString>(&bad).is_err());
}

/// MS-DTYP 2.4.2.3: RPC_SID's conformance is its SubAuthorityCount.
#[test]
fn rpc_sid_conformance_must_equal_the_count() {
    let mut body = vec![2, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 5];
    body.extend_from_slice(&32u32.to_le_bytes());
    body.extend_from_slice(&544u32.to_le_bytes());
    assert_eq!(read::<Sid>(&body).unwrap().to_string(), "S-1-5-32-544");
    body[0] = 3;
    assert!(read::<Sid>(&body).is_err());
}

proptest! {
    #[test]
    fn size_is_pairs_round_trip_and_mismatches_are_refused(
        values in proptest::collection::vec(any::<u32>(), 0..16),
        count in 0u32..20,
    ) {
        let v = counted(&values);
        let mut bytes = whole(&v);
        prop_assert_eq!(read::<Counted>(&bytes), Ok(v));
        bytes[..4].copy_from_slice(&count.to_le_bytes());
        let decoded = read::<Counted>(&bytes);
        if count as usize == values.len() {
            prop_assert!(decoded.is_ok());
        } else {
            let is_size_is = matches!(decoded, Err(DecodeError::SizeIs { .. }));
            prop_assert!(is_size_is);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read::<crate::validation::ValidationSamInfo2>(&bytes);
        let _ = read::<UnicodeString>(&bytes);
        let _ = read::<Sid>(&bytes);
        let _ = read::<WideString>(&bytes);
    }

    #[test]
    fn strings_round_trip(s in "\\PC{0,40}") {
        prop_assert_eq!(read::<WideString>(&whole(&WideString::new(s.clone()))).unwrap(), WideString::new(s.clone()));
        prop_assert_eq!(read::<UnicodeString>(&whole(&UnicodeString::new(s.clone()))).unwrap(), UnicodeString::new(s));
    }
}
