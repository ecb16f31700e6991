//! Byte-exact checks against Samba's pidl-generated marshalling: the stubs
//! in `rpc/testdata/ndr/netlogon.txt` come from
//! `rpc/testdata/ndr/gen-netlogon.py` (python3-samba), built from the same
//! values as below.

use super::*;
use crate::error::DecodeError;
use crate::ndr::{ConformantArray, NdrParams, OldLargeInteger, Sid};

fn reference(name: &str) -> Vec<u8> {
    crate::testdata::reference(include_str!("../../testdata/ndr/netlogon.txt"), name)
}

fn cred(start: u8) -> Credential {
    let mut data = [0; 8];
    for (i, b) in data.iter_mut().enumerate() {
        *b = start + i as u8;
    }
    Credential { data }
}

fn bytes(start: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| start + i as u8).collect()
}

fn check<T: NdrParams + PartialEq + core::fmt::Debug>(name: &str, value: &T) {
    crate::testdata::check(name, &reference(name), value);
}

#[test]
fn netr_server_req_challenge_matches_samba() {
    check(
        "req_challenge_in",
        &ServerReqChallengeRequest {
            primary_name: Some(WideString::new(r"\\dc1.example.test")),
            computer_name: WideString::new("FOO"),
            client_challenge: cred(1),
        },
    );
    check(
        "req_challenge_out",
        &ServerReqChallengeResponse {
            server_challenge: cred(0xa0),
            status: NtStatus::SUCCESS,
        },
    );
}

#[test]
fn netr_server_authenticate3_matches_samba() {
    check(
        "authenticate3_in",
        &ServerAuthenticate3Request {
            primary_name: None,
            account_name: WideString::new("FOO$"),
            secure_channel_type: SecureChannelType::WORKSTATION,
            computer_name: WideString::new("FOO"),
            client_credential: cred(0x10),
            negotiate_flags: NegotiateFlags::from_bits_retain(0x612f_ffff),
        },
    );
    check(
        "authenticate3_out",
        &ServerAuthenticate3Response {
            server_credential: cred(0x20),
            negotiate_flags: NegotiateFlags::from_bits_retain(0x610f_ffff),
            account_rid: 1105,
            status: NtStatus::ACCESS_DENIED,
        },
    );
}

#[test]
fn netr_logon_sam_logon_ex_request_matches_samba() {
    let info = NetworkInfo {
        identity: LogonIdentityInfo {
            logon_domain_name: UnicodeString::new("EXAMPLE"),
            parameter_control: 0x820,
            reserved_low: 0,
            reserved_high: 0,
            user_name: UnicodeString::new("alice"),
            workstation: UnicodeString::new("FOO"),
        },
        lm_challenge: [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37],
        nt_response: NetlogonString(Some(bytes(0x40, 29))),
        lm_response: NetlogonString(Some(bytes(0x80, 24))),
    };
    check(
        "sam_logon_ex_in",
        &LogonSamLogonExRequest {
            logon_server: Some(WideString::new(r"\\dc1.example.test")),
            computer_name: Some(WideString::new("FOO")),
            logon_level: 2,
            logon_information: LogonLevel::Network(Box::new(info)),
            validation_level: VALIDATION_SAM_INFO2,
            extra_flags: 0,
        },
    );
}

#[test]
fn netr_logon_sam_logon_ex_response_decodes_samba_validation() {
    let wire = reference("sam_logon_ex_out");
    let resp = LogonSamLogonExResponse::from_stub(&wire).unwrap();
    assert_eq!(resp.status, NtStatus::SUCCESS);
    assert_eq!(resp.authoritative, 1);
    let Validation::SamInfo2(info) = &resp.validation else {
        panic!("no SAM_INFO2: {resp:?}");
    };
    assert_eq!(info.logon_time, OldLargeInteger(0x01d9_0000_1111_2222));
    assert_eq!(info.password_must_change, OldLargeInteger::NEVER);
    assert_eq!(info.effective_name.as_str(), "alice");
    assert_eq!(info.full_name.as_str(), "Alice Lab");
    assert_eq!(info.logon_script, UnicodeString::new(""));
    assert_eq!(info.logon_count, 3);
    assert_eq!(info.user_id, 1103);
    assert_eq!(info.primary_group_id, 513);
    assert_eq!(info.group_count, 2);
    assert_eq!(
        info.group_ids,
        Some(ConformantArray(vec![
            GroupMembership {
                relative_id: 513,
                attributes: GroupAttributes::from_bits_retain(7)
            },
            GroupMembership {
                relative_id: 1105,
                attributes: GroupAttributes::from_bits_retain(7)
            },
        ]))
    );
    assert_eq!(info.user_flags, UserFlags::EXTRA_SIDS);
    assert_eq!(info.user_session_key.to_vec(), bytes(0x50, 16));
    assert_eq!(info.logon_server.as_str(), "DC1");
    assert_eq!(info.logon_domain_name.as_str(), "EXAMPLE");
    let domain: Sid = "S-1-5-21-1-2-3".parse().unwrap();
    assert_eq!(info.logon_domain_id, Some(domain.clone()));
    assert_eq!(info.lm_session_key[..4].to_vec(), bytes(0x60, 4));
    assert_eq!(info.user_account_control, 0x10);
    assert_eq!(info.user_sid(), domain.with_rid(1103).ok());
    assert_eq!(
        info.group_sids(),
        vec![
            domain.with_rid(513).unwrap(),
            domain.with_rid(1105).unwrap(),
            "S-1-18-1".parse().unwrap()
        ]
    );
    // Our encoding reads back the same (Samba writes StringLarge sizes
    // with room for a terminator, so the bytes themselves may differ).
    let again = LogonSamLogonExResponse::from_stub(&resp.to_stub()).unwrap();
    assert_eq!(again, resp);
}

#[test]
fn netr_logon_sam_logon_ex_error_has_null_validation() {
    check(
        "sam_logon_ex_out_wrong_password",
        &LogonSamLogonExResponse {
            validation: Validation::None,
            authoritative: 1,
            extra_flags: 0,
            status: NtStatus::WRONG_PASSWORD,
        },
    );
}

#[test]
fn truncated_validation_is_an_error_at_every_length() {
    let wire = reference("sam_logon_ex_out");
    for len in 0..wire.len() {
        assert!(
            LogonSamLogonExResponse::from_stub(&wire[..len]).is_err(),
            "{len}"
        );
    }
}

fn set_u32(wire: &mut [u8], at: usize, expected: u32, value: u32) {
    assert_eq!(wire[at..at + 4], expected.to_le_bytes(), "offset {at}");
    wire[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

// NETLOGON_VALIDATION's switch and referent (8 bytes), then the structure:
// six times and six strings (96), LogonCount and BadPasswordCount (4),
// UserId, PrimaryGroupId, GroupCount at 116 ... ExpansionRoom, SidCount at 204.
const GROUP_COUNT: usize = 116;
const SID_COUNT: usize = 204;

/// MS-NRPC 2.2.1.4.11 `[size_is(GroupCount)] PGROUP_MEMBERSHIP GroupIds`:
/// C706 14.3.3.2 makes the conformance GroupCount; Samba refuses a
/// mismatch with NDR_ERR_ARRAY_SIZE, and so does the decoder.
#[test]
fn validation_group_count_must_match_group_ids() {
    let mut wire = reference("sam_logon_ex_out");
    set_u32(&mut wire, GROUP_COUNT, 2, 5);
    assert_eq!(
        LogonSamLogonExResponse::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "ValidationSamInfo2",
            array: "group_ids",
            field: "group_count",
            count: 5,
            wire: 2,
        })
    );
}

/// MS-NRPC 2.2.1.4.13 `[size_is(SidCount)] PNETLOGON_SID_AND_ATTRIBUTES ExtraSids`.
#[test]
fn validation_sid_count_must_match_extra_sids() {
    let mut wire = reference("sam_logon_ex_out");
    set_u32(&mut wire, SID_COUNT, 1, 0);
    assert_eq!(
        LogonSamLogonExResponse::from_stub(&wire),
        Err(DecodeError::SizeIs {
            what: "ValidationSamInfo2",
            array: "extra_sids",
            field: "sid_count",
            count: 0,
            wire: 1,
        })
    );
}

/// Without LOGON_EXTRA_SIDS the DC sends a null ExtraSids and SidCount 0;
/// a null array with a non-zero count is refused.
#[test]
fn validation_null_extra_sids_needs_sid_count_zero() {
    let mut resp = LogonSamLogonExResponse::from_stub(&reference("sam_logon_ex_out")).unwrap();
    let Validation::SamInfo2(info) = &mut resp.validation else {
        panic!("no SAM_INFO2");
    };
    info.user_flags = UserFlags::empty();
    info.sid_count = 0;
    info.extra_sids = None;
    let mut wire = resp.to_stub();
    assert_eq!(LogonSamLogonExResponse::from_stub(&wire).unwrap(), resp);
    set_u32(&mut wire, SID_COUNT, 0, 1);
    assert!(matches!(
        LogonSamLogonExResponse::from_stub(&wire),
        Err(DecodeError::SizeIs {
            array: "extra_sids",
            count: 1,
            wire: 0,
            ..
        })
    ));
}

#[test]
fn dsr_get_dc_name_ex2_matches_samba() {
    check(
        "dsr_get_dc_name_ex2_in",
        &DsrGetDcNameEx2Request {
            computer_name: Some(WideString::new(r"\\dc1.example.test")),
            account_name: None,
            allowable_account_control_bits: 0,
            domain_name: Some(WideString::new("example.test")),
            domain_guid: None,
            site_name: None,
            flags: DS_RETURN_DNS_NAME | 0x1000,
        },
    );
    let s = |v: &str| Some(WideString::new(v));
    check(
        "dsr_get_dc_name_ex2_out",
        &DsrGetDcNameEx2Response {
            info: Some(DomainControllerInfo {
                domain_controller_name: s(r"\\dc1.example.test"),
                domain_controller_address: s(r"\\127.0.0.2"),
                domain_controller_address_type: 1,
                domain_guid: "0f2c1b77-2b9c-4b2e-9d8e-1234567890ab".parse().unwrap(),
                domain_name: s("example.test"),
                dns_forest_name: s("example.test"),
                flags: 0xe000_13fd,
                dc_site_name: s("Default-First-Site-Name"),
                client_site_name: s("Default-First-Site-Name"),
            }),
            status: 0,
        },
    );
}

proptest::proptest! {
    /// No input makes the argument-list decoders panic (moved here with
    /// the NDR engine's own properties going to adjoin-ndr).
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let _ = LogonSamLogonExResponse::from_stub(&bytes);
        let _ = crate::epm::EptMapResponse::from_stub(&bytes);
    }
}
