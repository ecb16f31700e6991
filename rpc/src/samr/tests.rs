//! Byte-exact checks against Samba's pidl marshalling: the stubs in
//! `rpc/testdata/ndr/samr.txt` come from `rpc/testdata/ndr/gen-samr.py`
//! (python3-samba), built from the same values as below.

use proptest::prelude::*;

use super::*;
use crate::ndr::NdrParams;
use crate::netlogon::GroupAttributes;
use crate::uuid::Uuid;

fn reference(name: &str) -> Vec<u8> {
    crate::testdata::reference(include_str!("../../testdata/ndr/samr.txt"), name)
}

fn check<T: NdrParams + PartialEq + core::fmt::Debug>(name: &str, value: &T) {
    crate::testdata::check(name, &reference(name), value);
}

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

fn handle(last: u8) -> ContextHandle {
    let mut node = [0x9c, 0x8d, 0x01, 0x23, 0x45, 0x67, 0x89, 0xa0];
    node[7] = last;
    ContextHandle {
        attributes: 0,
        uuid: Uuid::from_fields(0x5f0f_7c3a, 0x2d1e, 0x4b6a, node),
    }
}

fn connect() -> ContextHandle {
    handle(0xa1)
}

fn domain() -> ContextHandle {
    handle(0xa2)
}

fn user() -> ContextHandle {
    handle(0xa3)
}

fn group() -> ContextHandle {
    handle(0xa4)
}

fn alias() -> ContextHandle {
    handle(0xa5)
}

fn enumeration(entries: &[(u32, &str)]) -> EnumerationBuffer {
    EnumerationBuffer {
        entries_read: entries.len() as u32,
        buffer: Some(ConformantArray(
            entries
                .iter()
                .map(|(rid, name)| RidEnumeration {
                    relative_id: *rid,
                    name: UnicodeString::new(*name),
                })
                .collect(),
        )),
    }
}

#[test]
fn context_handle_is_20_bytes_and_null_is_all_zero() {
    let mut w = NdrWriter::new();
    connect().encode_ndr(&mut w);
    let bytes = w.into_bytes();
    assert_eq!(bytes.len(), 20);
    assert_eq!(&bytes[4..8], &[0x3a, 0x7c, 0x0f, 0x5f]);
    assert!(!connect().is_null());
    assert!(ContextHandle::default().is_null());
    assert_eq!(ContextHandle::default(), ContextHandle::NULL);
}

#[test]
fn samr_connect5_matches_samba() {
    let request = Connect5Request::new(
        Some(r"\\dc1.example.test"),
        SAM_SERVER_CONNECT | SAM_SERVER_ENUMERATE_DOMAINS | SAM_SERVER_LOOKUP_DOMAIN,
    );
    check("connect5_in", &request);
    check(
        "connect5_out",
        &Connect5Response {
            out_version: 1,
            out_revision_info: RevisionInfo::V1(RevisionInfoV1 {
                revision: 3,
                supported_features: 0,
            }),
            server_handle: connect(),
            status: NtStatus::SUCCESS,
        },
    );
}

#[test]
fn samr_connect5_unknown_revision_arm_is_typed() {
    let mut wire = reference("connect5_out");
    // OutVersion, then the union's own discriminant.
    wire[4] = 2;
    assert_eq!(
        Connect5Response::from_stub(&wire),
        Err(DecodeError::UnknownArm {
            what: "SAMPR_REVISION_INFO",
            level: 2
        })
    );
}

#[test]
fn samr_close_handle_matches_samba() {
    check("close_in", &CloseHandleRequest { handle: domain() });
    let out = CloseHandleResponse {
        handle: ContextHandle::NULL,
        status: NtStatus::SUCCESS,
    };
    check("close_out", &out);
    assert!(out.handle.is_null());
}

#[test]
fn samr_lookup_domain_in_sam_server_matches_samba() {
    check(
        "lookup_domain_in",
        &LookupDomainInSamServerRequest {
            server_handle: connect(),
            name: UnicodeString::new("EXAMPLE"),
        },
    );
    check(
        "lookup_domain_out",
        &LookupDomainInSamServerResponse {
            domain_id: Some(sid("S-1-5-21-1-2-3")),
            status: NtStatus::SUCCESS,
        },
    );
    check(
        "lookup_domain_out_no_such_domain",
        &LookupDomainInSamServerResponse {
            domain_id: None,
            status: NtStatus::NO_SUCH_DOMAIN,
        },
    );
}

#[test]
fn samr_enumerate_domains_matches_samba() {
    check(
        "enum_domains_in",
        &EnumerateDomainsInSamServerRequest {
            server_handle: connect(),
            enumeration_context: 0,
            prefered_maximum_length: u32::MAX,
        },
    );
    let out = EnumerateDomainsInSamServerResponse {
        enumeration_context: 2,
        buffer: Some(enumeration(&[(0, "EXAMPLE"), (1, "Builtin")])),
        count_returned: 2,
        status: NtStatus::SUCCESS,
    };
    check("enum_domains_out", &out);
    assert_eq!(out.entries()[1].name.as_str(), "Builtin");
}

#[test]
fn samr_open_domain_matches_samba() {
    check(
        "open_domain_in",
        &OpenDomainRequest {
            server_handle: connect(),
            desired_access: DOMAIN_LOOKUP | DOMAIN_LIST_ACCOUNTS,
            domain_id: sid("S-1-5-21-1-2-3"),
        },
    );
    check(
        "open_domain_out",
        &OpenDomainResponse {
            handle: domain(),
            status: NtStatus::SUCCESS,
        },
    );
}

#[test]
fn samr_enumerate_users_matches_samba() {
    check(
        "enum_users_in",
        &EnumerateUsersInDomainRequest {
            domain_handle: domain(),
            enumeration_context: 0,
            user_account_control: USER_NORMAL_ACCOUNT,
            prefered_maximum_length: 0xffff,
        },
    );
    check(
        "enum_users_out",
        &EnumerateUsersInDomainResponse {
            enumeration_context: 1104,
            buffer: Some(enumeration(&[(1103, "alice"), (1104, "bob")])),
            count_returned: 2,
            status: NtStatus::MORE_ENTRIES,
        },
    );
}

#[test]
fn samr_enumerate_aliases_matches_samba() {
    check(
        "enum_aliases_in",
        &EnumerateAliasesInDomainRequest {
            domain_handle: domain(),
            enumeration_context: 0,
            prefered_maximum_length: 0xffff,
        },
    );
    check(
        "enum_aliases_out",
        &EnumerateAliasesInDomainResponse {
            enumeration_context: 0,
            buffer: Some(enumeration(&[(1109, "web-operators")])),
            count_returned: 1,
            status: NtStatus::SUCCESS,
        },
    );
    // Samba sends an empty array behind non-null pointers.
    let empty = EnumerateAliasesInDomainResponse {
        enumeration_context: 0,
        buffer: Some(enumeration(&[])),
        count_returned: 0,
        status: NtStatus::SUCCESS,
    };
    check("enum_aliases_out_empty", &empty);
    assert!(empty.entries().is_empty());
}

#[test]
fn samr_enumerate_groups_matches_samba() {
    // Samba's pidl (python3-samba: `ndr_pack_in(samr.EnumDomainGroups())` with this
    // handle, resume handle 0 and max size 0xffff), opnum 11.
    let expected = "000000003a7c0f5f1e2d6a4b9c8d0123456789a200000000ffff0000";
    let request = EnumerateGroupsInDomainRequest {
        domain_handle: domain(),
        enumeration_context: 0,
        prefered_maximum_length: 0xffff,
    };
    let hex: String = request
        .to_stub()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, expected);
    assert_eq!(Opnum::ENUMERATE_GROUPS_IN_DOMAIN.value(), 11);
    // The reply is SAMPR_ENUMERATION_BUFFER's, as for users and aliases.
    let reply = EnumerateGroupsInDomainResponse {
        enumeration_context: 0,
        buffer: Some(enumeration(&[(1105, "engineers")])),
        count_returned: 1,
        status: NtStatus::SUCCESS,
    };
    let decoded = EnumerateGroupsInDomainResponse::from_stub(&reply.to_stub()).unwrap();
    assert_eq!(decoded.entries()[0].name.as_str(), "engineers");
}

#[test]
fn samr_get_alias_membership_matches_samba() {
    check(
        "get_alias_membership_in",
        &GetAliasMembershipRequest {
            domain_handle: domain(),
            sid_array: PsidArray::new(&[sid("S-1-5-21-1-2-3-1103"), sid("S-1-5-21-1-2-3-513")]),
        },
    );
    let out = GetAliasMembershipResponse {
        membership: UlongArray::new(&[1109]),
        status: NtStatus::SUCCESS,
    };
    check("get_alias_membership_out", &out);
    assert_eq!(out.membership.values(), [1109]);
}

#[test]
fn samr_lookup_names_in_domain_matches_samba() {
    check(
        "lookup_names_in",
        &LookupNamesInDomainRequest::new(domain(), &["alice", "engineers"]),
    );
    check(
        "lookup_names_out",
        &LookupNamesInDomainResponse {
            relative_ids: UlongArray::new(&[1103, 1107]),
            uses: UlongArray::new(&[1, 2]),
            status: NtStatus::SUCCESS,
        },
    );
}

#[test]
fn samr_lookup_ids_in_domain_matches_samba() {
    check(
        "lookup_rids_in",
        &LookupIdsInDomainRequest::new(domain(), &[1103, 1104, 1107]),
    );
    let names = ["alice", "bob", "engineers"];
    check(
        "lookup_rids_out",
        &LookupIdsInDomainResponse {
            names: ReturnedUstringArray {
                count: 3,
                element: Some(ConformantArray(
                    names.iter().map(|n| UnicodeString::new(*n)).collect(),
                )),
            },
            uses: UlongArray::new(&[1, 1, 2]),
            status: NtStatus::SUCCESS,
        },
    );
}

fn set_u32(wire: &mut [u8], at: usize, expected: u32, value: u32) {
    assert_eq!(wire[at..at + 4], expected.to_le_bytes(), "offset {at}");
    wire[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn samr_lookup_array_refuses_an_actual_count_beyond_its_maximum() {
    let mut wire = reference("lookup_rids_in");
    // Handle (20) and Count (4), then max_count 1000, offset, actual.
    set_u32(&mut wire, 32, 3, 1001);
    assert!(matches!(
        LookupIdsInDomainRequest::from_stub(&wire),
        Err(DecodeError::Variance {
            actual: 1001,
            max: 1000,
            ..
        })
    ));
}

/// C706 14.3.3.2: the conformance of a `size_is(1000)` array is 1000.
#[test]
fn samr_lookup_array_conformance_must_be_1000() {
    let mut wire = reference("lookup_rids_in");
    set_u32(&mut wire, 24, 1000, 3);
    assert_eq!(
        LookupIdsInDomainRequest::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "[size_is(1000), length_is(Count)]",
            array: "the array",
            field: "the constant size_is",
            count: 1000,
            wire: 3,
        })
    );
}

/// `length_is(Count)`: Count is the actual count of the lookup array.
#[test]
fn samr_lookup_count_must_match_the_array() {
    let mut wire = reference("lookup_rids_in");
    set_u32(&mut wire, 20, 3, 2);
    assert_eq!(
        LookupIdsInDomainRequest::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "LookupIdsInDomainRequest",
            array: "relative_ids",
            field: "count",
            count: 2,
            wire: 3,
        })
    );
    let mut wire = reference("lookup_names_in");
    set_u32(&mut wire, 20, 2, 4);
    assert!(matches!(
        LookupNamesInDomainRequest::from_stub(&wire),
        Err(DecodeError::SizeIs {
            array: "names",
            count: 4,
            wire: 2,
            ..
        })
    ));
}

/// `size_is(Count)` pairs in the replies: a count field that disagrees with
/// its array's conformance is a malformed stub (Samba: NDR_ERR_ARRAY_SIZE).
#[test]
fn samr_reply_counts_must_match_their_arrays() {
    let size_is = |what, array, field, count, wire| DecodeError::SizeIs {
        what,
        array,
        field,
        count,
        wire,
    };
    // EnumerationContext, Buffer referent, then EntriesRead.
    let mut wire = reference("enum_domains_out");
    set_u32(&mut wire, 8, 2, 3);
    assert_eq!(
        EnumerationResponse::from_stub(&wire),
        Err(size_is("EnumerationBuffer", "buffer", "entries_read", 3, 2))
    );
    let mut wire = reference("get_alias_membership_out");
    set_u32(&mut wire, 0, 1, 0);
    assert_eq!(
        GetAliasMembershipResponse::from_stub(&wire),
        Err(size_is("UlongArray", "element", "count", 0, 1))
    );
    let mut wire = reference("lookup_rids_out");
    set_u32(&mut wire, 0, 3, 5);
    assert_eq!(
        LookupIdsInDomainResponse::from_stub(&wire),
        Err(size_is("ReturnedUstringArray", "element", "count", 5, 3))
    );
    let mut wire = reference("get_members_in_alias_out");
    set_u32(&mut wire, 0, 2, 1);
    assert_eq!(
        GetMembersInAliasResponse::from_stub(&wire),
        Err(size_is("PsidArray", "sids", "count", 1, 2))
    );
    let mut wire = reference("get_groups_for_user_out");
    set_u32(&mut wire, 4, 2, 5);
    assert_eq!(
        GetGroupsForUserResponse::from_stub(&wire),
        Err(size_is(
            "GetGroupsBuffer",
            "groups",
            "membership_count",
            5,
            2
        ))
    );
}

/// SAMPR_GET_MEMBERS_BUFFER: one MemberCount sizes both arrays.
#[test]
fn samr_get_members_buffer_checks_both_arrays() {
    // Referent, MemberCount, two referents, then Members and Attributes.
    let mut wire = reference("get_members_in_group_out");
    set_u32(&mut wire, 4, 2, 3);
    assert!(matches!(
        GetMembersInGroupResponse::from_stub(&wire),
        Err(DecodeError::SizeIs {
            array: "members",
            count: 3,
            wire: 2,
            ..
        })
    ));
    let mut wire = reference("get_members_in_group_out");
    set_u32(&mut wire, 28, 2, 1);
    assert!(matches!(
        GetMembersInGroupResponse::from_stub(&wire),
        Err(DecodeError::SizeIs {
            array: "attributes",
            count: 2,
            wire: 1,
            ..
        })
    ));
}

/// A null array goes with a count of 0 (and Samba's empty array behind a
/// non-null pointer still decodes).
#[test]
fn samr_null_buffer_needs_a_zero_count() {
    let empty = reference("enum_aliases_out_empty");
    // Context, Buffer referent, EntriesRead, Buffer.Buffer referent, conformance 0.
    let mut wire = [&empty[..12], &[0; 4], &empty[20..]].concat();
    let null = EnumerationResponse::from_stub(&wire).unwrap();
    assert_eq!(null.buffer.as_ref().unwrap().buffer, None);
    assert_eq!(null.to_stub(), wire);
    set_u32(&mut wire, 8, 0, 1);
    assert!(matches!(
        EnumerationResponse::from_stub(&wire),
        Err(DecodeError::SizeIs {
            array: "buffer",
            count: 1,
            wire: 0,
            ..
        })
    ));
}

/// UserAllInformation's two sized referents: the security descriptor
/// (`size_is(Length)`) and the logon hours (`size_is(1260),
/// length_is((UnitsPerWeek+7)/8)`).
#[test]
fn samr_user_all_information_sizes_are_checked() {
    // Referent, switch, then the structure at 8: 6 times, 13 strings and
    // blobs, then SecurityDescriptor.Length at 160 and UnitsPerWeek at 184.
    let mut wire = reference("query_user_info2_out");
    set_u32(&mut wire, 160, 20, 21);
    assert_eq!(
        QueryInformationUser2Response::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "SrSecurityDescriptor",
            array: "security_descriptor",
            field: "length",
            count: 21,
            wire: 20,
        })
    );
    let units = |wire: &mut [u8], units: u16| {
        wire[184..186].copy_from_slice(&units.to_le_bytes());
        QueryInformationUser2Response::from_stub(wire)
    };
    let mut wire = reference("query_user_info2_out");
    assert_eq!(wire[184..186], 168u16.to_le_bytes());
    assert_eq!(
        units(&mut wire, 160),
        Err(DecodeError::SizeIs {
            what: "LogonHours",
            array: "logon_hours",
            field: "units_per_week",
            count: 160,
            wire: 21,
        })
    );
    // 21 bytes are (167+7)/8 too.
    assert!(units(&mut wire, 167).is_ok());
    // The conformance of the 21 bytes is the constant 1260.
    let mut wire = reference("query_user_info2_out");
    let hours = [1260u32, 0, 21].map(u32::to_le_bytes).concat();
    let at = wire.windows(12).position(|w| w == hours).unwrap();
    set_u32(&mut wire, at, 1260, 1261);
    assert_eq!(
        QueryInformationUser2Response::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "SAMPR_LOGON_HOURS",
            array: "LogonHours",
            field: "the constant size_is",
            count: 1260,
            wire: 1261,
        })
    );
}

#[test]
fn samr_group_members_match_samba() {
    check(
        "open_group_in",
        &OpenGroupRequest {
            domain_handle: domain(),
            desired_access: GROUP_READ_INFORMATION | GROUP_LIST_MEMBERS,
            rid: 1107,
        },
    );
    check(
        "open_group_out",
        &OpenGroupResponse {
            handle: group(),
            status: NtStatus::SUCCESS,
        },
    );
    check(
        "get_members_in_group_in",
        &GetMembersInGroupRequest { handle: group() },
    );
    check(
        "get_members_in_group_out",
        &GetMembersInGroupResponse {
            members: Some(GetMembersBuffer {
                member_count: 2,
                members: Some(ConformantArray(vec![1103, 1104])),
                attributes: Some(ConformantArray(vec![SE_GROUP_DEFAULT; 2])),
            }),
            status: NtStatus::SUCCESS,
        },
    );
}

#[test]
fn samr_alias_members_match_samba() {
    check(
        "open_alias_in",
        &OpenAliasRequest {
            domain_handle: domain(),
            desired_access: ALIAS_LIST_MEMBERS | ALIAS_READ_INFORMATION,
            rid: 1109,
        },
    );
    check(
        "open_alias_out",
        &OpenAliasResponse {
            handle: alias(),
            status: NtStatus::SUCCESS,
        },
    );
    check(
        "get_members_in_alias_in",
        &GetMembersInAliasRequest { handle: alias() },
    );
    let members = [sid("S-1-5-21-1-2-3-1103"), sid("S-1-5-21-1-2-3-1107")];
    let out = GetMembersInAliasResponse {
        members: PsidArray::new(&members),
        status: NtStatus::SUCCESS,
    };
    check("get_members_in_alias_out", &out);
    assert_eq!(out.members.to_sids(), members);
}

#[test]
fn samr_open_user_matches_samba() {
    check(
        "open_user_in",
        &OpenUserRequest {
            domain_handle: domain(),
            desired_access: MAXIMUM_ALLOWED,
            rid: 1103,
        },
    );
    check(
        "open_user_out",
        &OpenUserResponse {
            handle: user(),
            status: NtStatus::SUCCESS,
        },
    );
}

fn alice() -> UserAllInformation {
    let mut sd = vec![0x01, 0x00, 0x04, 0x80];
    sd.resize(20, 0);
    UserAllInformation {
        last_logon: OldLargeInteger(0x01d9_0000_1111_2222),
        last_logoff: OldLargeInteger(0),
        password_last_set: OldLargeInteger(0x01d9_0000_3333_4444),
        account_expires: OldLargeInteger::NEVER,
        password_can_change: OldLargeInteger(0x01d9_0000_5555_6666),
        password_must_change: OldLargeInteger::NEVER,
        user_name: UnicodeString::new("alice"),
        full_name: UnicodeString::new("Alice Lab"),
        home_directory: UnicodeString::new(r"\\fs1\home\alice"),
        home_directory_drive: UnicodeString::new("H:"),
        script_path: UnicodeString::new("logon.cmd"),
        profile_path: UnicodeString::new(""),
        admin_comment: UnicodeString::new("Lab user"),
        work_stations: UnicodeString::new(""),
        user_comment: UnicodeString::new(""),
        parameters: ShortBlob(Some(vec![0x20, 0x50])),
        lm_owf_password: ShortBlob(None),
        nt_owf_password: ShortBlob(None),
        private_data: UnicodeString::NULL,
        security_descriptor: SrSecurityDescriptor {
            length: 20,
            security_descriptor: Some(ConformantArray(sd)),
        },
        user_id: 1103,
        primary_group_id: 513,
        user_account_control: USER_NORMAL_ACCOUNT,
        which_fields: 0x00ff_ffff,
        logon_hours: LogonHours {
            units_per_week: 168,
            logon_hours: Some(LogonHoursBits(vec![0xff; 21])),
        },
        bad_password_count: 0,
        logon_count: 3,
        country_code: 0,
        code_page: 0,
        lm_password_present: 0,
        nt_password_present: 1,
        password_expired: 0,
        private_data_sensitive: 0,
    }
}

#[test]
fn samr_query_information_user2_all_matches_samba() {
    check(
        "query_user_info2_in",
        &QueryInformationUser2Request {
            user_handle: user(),
            user_information_class: UserInformationClass::ALL,
        },
    );
    let out = QueryInformationUser2Response {
        buffer: Some(UserInfoBuffer::All(Box::new(alice()))),
        status: NtStatus::SUCCESS,
    };
    check("query_user_info2_out", &out);
    let info = out.all().unwrap();
    assert_eq!(info.user_name.as_str(), "alice");
    assert_eq!(info.primary_group_id, 513);
}

#[test]
fn samr_query_information_user2_error_has_null_buffer() {
    check(
        "query_user_info2_out_denied",
        &QueryInformationUser2Response {
            buffer: None,
            status: NtStatus::ACCESS_DENIED,
        },
    );
}

#[test]
fn samr_query_information_user2_other_arms_are_typed_errors() {
    // Samba's UserGeneralInformation (1) reply: an arm we do not decode.
    assert_eq!(
        QueryInformationUser2Response::from_stub(&reference("query_user_info2_out_general")),
        Err(DecodeError::UnknownArm {
            what: "SAMPR_USER_INFO_BUFFER",
            level: 1
        })
    );
}

#[test]
fn samr_get_groups_for_user_matches_samba() {
    check(
        "get_groups_for_user_in",
        &GetGroupsForUserRequest { handle: user() },
    );
    let groups = [513, 1107].map(|relative_id| GroupMembership {
        relative_id,
        attributes: GroupAttributes::from_bits_retain(SE_GROUP_DEFAULT),
    });
    check(
        "get_groups_for_user_out",
        &GetGroupsForUserResponse {
            groups: Some(GetGroupsBuffer {
                membership_count: 2,
                groups: Some(ConformantArray(groups.to_vec())),
            }),
            status: NtStatus::SUCCESS,
        },
    );
}

fn decode_response(name: &str, bytes: &[u8]) -> Result<(), DecodeError> {
    match name {
        "connect5_out" => Connect5Response::from_stub(bytes).map(drop),
        "close_out" | "open_domain_out" | "open_group_out" | "open_alias_out" | "open_user_out" => {
            HandleResponse::from_stub(bytes).map(drop)
        }
        "lookup_domain_out" => LookupDomainInSamServerResponse::from_stub(bytes).map(drop),
        "enum_domains_out" | "enum_users_out" | "enum_aliases_out" => {
            EnumerationResponse::from_stub(bytes).map(drop)
        }
        "get_alias_membership_out" => GetAliasMembershipResponse::from_stub(bytes).map(drop),
        "lookup_names_out" => LookupNamesInDomainResponse::from_stub(bytes).map(drop),
        "lookup_rids_out" => LookupIdsInDomainResponse::from_stub(bytes).map(drop),
        "get_members_in_group_out" => GetMembersInGroupResponse::from_stub(bytes).map(drop),
        "get_members_in_alias_out" => GetMembersInAliasResponse::from_stub(bytes).map(drop),
        "query_user_info2_out" => QueryInformationUser2Response::from_stub(bytes).map(drop),
        "get_groups_for_user_out" => GetGroupsForUserResponse::from_stub(bytes).map(drop),
        _ => panic!("no decoder for {name}"),
    }
}

const RESPONSES: [&str; 16] = [
    "connect5_out",
    "close_out",
    "open_domain_out",
    "open_group_out",
    "open_alias_out",
    "open_user_out",
    "lookup_domain_out",
    "enum_domains_out",
    "enum_users_out",
    "enum_aliases_out",
    "get_alias_membership_out",
    "lookup_names_out",
    "lookup_rids_out",
    "get_members_in_group_out",
    "get_members_in_alias_out",
    "query_user_info2_out",
];

#[test]
fn truncated_replies_are_errors_at_every_length() {
    for name in RESPONSES.iter().chain(&["get_groups_for_user_out"]) {
        let wire = reference(name);
        decode_response(name, &wire).unwrap();
        for len in 0..wire.len() {
            assert!(decode_response(name, &wire[..len]).is_err(), "{name} {len}");
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_response_decoders(
        bytes in proptest::collection::vec(any::<u8>(), 0..768),
    ) {
        for name in RESPONSES.iter().chain(&["get_groups_for_user_out"]) {
            let _ = decode_response(name, &bytes);
        }
    }

    #[test]
    fn user_all_information_survives_mutation(
        at in 0usize..512,
        byte in any::<u8>(),
    ) {
        // A valid reply with one byte changed: an error or a value, never a panic.
        let mut wire = reference("query_user_info2_out");
        let at = at % wire.len();
        wire[at] = byte;
        if let Ok(v) = QueryInformationUser2Response::from_stub(&wire) {
            let again = QueryInformationUser2Response::from_stub(&v.to_stub());
            prop_assert!(again.is_ok());
        }
    }
}
