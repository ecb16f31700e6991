//! Byte-exact checks against Samba's pidl marshalling (`rpc/testdata/ndr/lsa.txt`, made
//! by `rpc/testdata/ndr/gen-lsa.py` from the same values).

use super::*;
use crate::ndr::NdrParams;

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
