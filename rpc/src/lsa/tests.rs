//! Byte-exact checks against Samba's pidl marshalling (`rpc/testdata/ndr/lsa.txt`, made
//! by `rpc/testdata/ndr/gen-lsa.py` from the same values).

use super::*;
use crate::error::DecodeError;
use crate::ndr::{Ndr, NdrParams, NdrWriter};

fn reference(name: &str) -> Vec<u8> {
    crate::testdata::reference(include_str!("../../testdata/ndr/lsa.txt"), name)
}

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

#[test]
fn lsar_lookup_sids3_request_matches_samba() {
    let sids = [sid("S-1-5-21-1-2-3-1103"), sid("S-1-5-21-1-2-3-1107")];
    let request = LookupSids3Request::new(&sids);
    let wire = reference("lookup_sids3_in");
    assert_eq!(request.to_stub(), wire);
    assert_eq!(LookupSids3Request::from_stub(&wire).unwrap(), request);
}

#[test]
fn lsar_lookup_sids3_response_decodes_samba_translation() {
    let sids = [sid("S-1-5-21-1-2-3-1103"), sid("S-1-5-21-1-2-3-1107")];
    let resp = LookupSids3Response::from_stub(&reference("lookup_sids3_out")).unwrap();
    assert_eq!(resp.status, NtStatus::SUCCESS);
    assert_eq!(resp.mapped_count, 2);
    let t = resp.translations(&sids);
    assert_eq!(t[0].as_ref().unwrap().qualified(), r"EXAMPLE\alice");
    assert_eq!(t[0].as_ref().unwrap().sid_use, SidNameUse::USER);
    assert_eq!(t[1].as_ref().unwrap().qualified(), r"EXAMPLE\engineers");
    assert_eq!(t[1].as_ref().unwrap().sid_use, SidNameUse::GROUP);
    let domains = resp.referenced_domains.as_ref().unwrap();
    assert_eq!(domains.domain(0).unwrap().sid, Some(sid("S-1-5-21-1-2-3")));
    assert!(domains.domain(1).is_none());
}

#[test]
fn lsar_lookup_names4_matches_samba() {
    let request = LookupNames4Request::new(&[r"EXAMPLE\alice"]);
    let wire = reference("lookup_names4_in");
    assert_eq!(request.to_stub(), wire);
    let resp = LookupNames4Response::from_stub(&reference("lookup_names4_out")).unwrap();
    assert_eq!(resp.status, NtStatus::SUCCESS);
    let t = resp.translations(&[r"EXAMPLE\alice"]);
    let alice = t[0].as_ref().unwrap();
    assert_eq!(alice.sid, sid("S-1-5-21-1-2-3-1103"));
    assert_eq!(alice.sid_use, SidNameUse::USER);
    assert_eq!(alice.qualified(), r"EXAMPLE\alice");
}

fn set_u32(wire: &mut [u8], at: usize, expected: u32, value: u32) {
    assert_eq!(wire[at..at + 4], expected.to_le_bytes(), "offset {at}");
    wire[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// MS-LSAT 2.2.12 `[size_is(Entries)] PLSAPR_TRUST_INFORMATION Domains`:
/// the conformance is Entries (C706 14.3.3.2).
#[test]
fn referenced_domains_entries_must_match_the_array() {
    // ReferencedDomains referent, then Entries (1), Domains, MaxEntries.
    let mut wire = reference("lookup_sids3_out");
    set_u32(&mut wire, 4, 1, 2);
    assert_eq!(
        LookupSids3Response::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "ReferencedDomainList",
            array: "domains",
            field: "entries",
            count: 2,
            wire: 1,
        })
    );
}

/// MS-LSAT 2.2.20 and 2.2.26: the translated names and SIDs.
#[test]
fn translated_entries_must_match_the_array() {
    let resp = LookupSids3Response::from_stub(&reference("lookup_sids3_out")).unwrap();
    let mut w = NdrWriter::new();
    resp.referenced_domains.encode_ndr(&mut w);
    let mut wire = reference("lookup_sids3_out");
    set_u32(&mut wire, w.len(), 2, 3);
    assert!(matches!(
        LookupSids3Response::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "TranslatedNamesEx",
            count: 3,
            wire: 2,
            ..
        })
    ));
    let resp = LookupNames4Response::from_stub(&reference("lookup_names4_out")).unwrap();
    let mut w = NdrWriter::new();
    resp.referenced_domains.encode_ndr(&mut w);
    let mut wire = reference("lookup_names4_out");
    set_u32(&mut wire, w.len(), 1, 0);
    assert!(matches!(
        LookupNames4Response::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "TranslatedSidsEx2",
            count: 0,
            wire: 1,
            ..
        })
    ));
}

/// The request side: LSAPR_SID_ENUM_BUFFER's Entries, and LsarLookupNames4's
/// top-level `[in, size_is(Count)] PRPC_UNICODE_STRING Names`.
#[test]
fn request_counts_must_match_their_arrays() {
    let mut wire = reference("lookup_sids3_in");
    set_u32(&mut wire, 0, 2, 1);
    assert!(matches!(
        LookupSids3Request::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "SidEnumBuffer",
            count: 1,
            wire: 2,
            ..
        })
    ));
    // Count, then the array's conformance.
    let mut wire = reference("lookup_names4_in");
    set_u32(&mut wire, 0, 1, 2);
    assert_eq!(
        LookupNames4Request::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "LookupNames4Request",
            array: "names",
            field: "count",
            count: 2,
            wire: 1,
        })
    );
}

#[test]
fn truncated_replies_are_errors() {
    let wire = reference("lookup_sids3_out");
    for len in 0..wire.len() {
        assert!(
            LookupSids3Response::from_stub(&wire[..len]).is_err(),
            "{len}"
        );
    }
}

#[test]
fn lsar_get_user_name_matches_samba() {
    let wire = reference("get_user_name_in");
    assert_eq!(GetUserNameRequest::with_domain().to_stub(), wire);
    let resp = GetUserNameResponse::from_stub(&reference("get_user_name_out")).unwrap();
    assert_eq!(resp.user_name, Some(UnicodeString::new("alice")));
    assert_eq!(resp.domain_name, Some(Some(UnicodeString::new("EXAMPLE"))));
    assert_eq!(resp.status, NtStatus::SUCCESS);
}
