//! Codec tests against captured traffic and property-based round trips.
//!
//! The captures (see testdata/README.md) are Samba 4.17's own clients, smbclient and
//! rpcclient, talking to the lab's Samba 4.17 AD DC as EXAMPLE\alice over NTLMSSP: SMB
//! 3.1.1 and 2.0.2, signed, not encrypted. `testdata/ms-blog/` holds the Windows SMB 3.1.1
//! exchange Microsoft published with its key derivation examples (signing.rs checks the
//! keys and signatures; here only the codec).

use std::fmt::Debug;
use std::ops::Range;

use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::error::SmbError;

/// smbclient -m SMB3 //dc1.example.test/IPC$ -c ls: NEGOTIATE, two SESSION_SETUP round
/// trips, TREE_CONNECT, a CREATE of the share's root that IPC$ refuses, TREE_DISCONNECT.
mod smbclient_311 {
    macro_rules! capture {
        ($($name:ident = $file:literal;)*) => {$(
            pub(super) const $name: &[u8] =
                include_bytes!(concat!("../../testdata/smbclient-smb311/", $file, ".bin"));
        )*};
    }
    capture! {
        NEGOTIATE_REQUEST = "00-negotiate-request";
        NEGOTIATE_RESPONSE = "01-negotiate-response";
        SESSION_SETUP_REQUEST_1 = "02-session-setup-request";
        SESSION_SETUP_RESPONSE_1 = "03-session-setup-response";
        SESSION_SETUP_REQUEST_2 = "04-session-setup-request";
        SESSION_SETUP_RESPONSE_2 = "05-session-setup-response";
        TREE_CONNECT_REQUEST = "06-tree-connect-request";
        TREE_CONNECT_RESPONSE = "07-tree-connect-response";
        CREATE_REQUEST = "08-create-request";
        CREATE_ERROR_RESPONSE = "09-create-response";
        TREE_DISCONNECT_REQUEST = "10-tree-disconnect-request";
        TREE_DISCONNECT_RESPONSE = "11-tree-disconnect-response";
    }
}

/// smbclient -m SMB2_02, the same commands: a 2.0.2 NEGOTIATE and Samba's
/// FSCTL_VALIDATE_NEGOTIATE_INFO after the TREE_CONNECT.
mod smbclient_202 {
    macro_rules! capture {
        ($($name:ident = $file:literal;)*) => {$(
            pub(super) const $name: &[u8] =
                include_bytes!(concat!("../../testdata/smbclient-smb202/", $file, ".bin"));
        )*};
    }
    capture! {
        NEGOTIATE_REQUEST = "00-negotiate-request";
        NEGOTIATE_RESPONSE = "01-negotiate-response";
        VALIDATE_NEGOTIATE_REQUEST = "08-ioctl-request";
        VALIDATE_NEGOTIATE_RESPONSE = "09-ioctl-response";
        CREATE_ERROR_RESPONSE = "11-create-response";
    }
}

/// rpcclient -c lsaquery: the \lsarpc pipe opened, four FSCTL_PIPE_TRANSCEIVE calls
/// (bind, OpenPolicy, QueryInfoPolicy, Close; Samba answered OpenPolicy
/// asynchronously: an interim STATUS_PENDING response first), the pipe closed.
mod rpcclient_311 {
    macro_rules! capture {
        ($($name:ident = $file:literal;)*) => {$(
            pub(super) const $name: &[u8] =
                include_bytes!(concat!("../../testdata/rpcclient-smb311/", $file, ".bin"));
        )*};
    }
    capture! {
        CREATE_REQUEST = "08-create-request";
        CREATE_RESPONSE = "09-create-response";
        BIND_REQUEST = "10-ioctl-request";
        BIND_RESPONSE = "11-ioctl-response";
        QUERY_REQUEST = "12-ioctl-request";
        INTERIM_RESPONSE = "13-ioctl-response";
        ASYNC_RESPONSE = "14-ioctl-response";
        CLOSE_REQUEST = "19-close-request";
        CLOSE_RESPONSE = "20-close-response";
    }
    /// The FSCTL_PIPE_TRANSCEIVE requests and their final responses.
    pub(super) const TRANSCEIVE: [&[u8]; 8] = [
        BIND_REQUEST,
        BIND_RESPONSE,
        QUERY_REQUEST,
        ASYNC_RESPONSE,
        include_bytes!("../../testdata/rpcclient-smb311/15-ioctl-request.bin"),
        include_bytes!("../../testdata/rpcclient-smb311/16-ioctl-response.bin"),
        include_bytes!("../../testdata/rpcclient-smb311/17-ioctl-request.bin"),
        include_bytes!("../../testdata/rpcclient-smb311/18-ioctl-response.bin"),
    ];
}

/// Microsoft's SMB 3.1.1 example (Windows), first channel.
mod ms_blog {
    pub(super) const NEGOTIATE_REQUEST: &[u8] =
        include_bytes!("../../testdata/ms-blog/negotiate-request.bin");
    pub(super) const NEGOTIATE_RESPONSE: &[u8] =
        include_bytes!("../../testdata/ms-blog/negotiate-response.bin");
    pub(super) const SESSION_SETUP: [&[u8]; 4] = [
        include_bytes!("../../testdata/ms-blog/session-setup-request-1.bin"),
        include_bytes!("../../testdata/ms-blog/session-setup-response-1.bin"),
        include_bytes!("../../testdata/ms-blog/session-setup-request-2.bin"),
        include_bytes!("../../testdata/ms-blog/session-setup-response-2.bin"),
    ];
    pub(super) const BINDING_SESSION_SETUP_REQUEST: &[u8] =
        include_bytes!("../../testdata/ms-blog/binding-session-setup-request-1.bin");
}

/// Decodes `msg` as a `B` and checks that encoding what was decoded gives `msg` back.
fn decode_exact<B: Body>(msg: &[u8]) -> (Header, B) {
    decode_except(msg, 0..0)
}

/// Decodes `msg` as a `B` and checks that encoding what was decoded gives `msg` back,
/// except in `unmodelled`: the bytes of a field the struct does not carry, which the
/// codec writes as zero.
fn decode_except<B: Body>(msg: &[u8], unmodelled: Range<usize>) -> (Header, B) {
    let (header, body) = B::from_message(msg).unwrap();
    assert_eq!(header.command, B::COMMAND);
    assert_eq!(u16::from_le_bytes([msg[64], msg[65]]), B::STRUCTURE_SIZE);
    let mut expected = msg.to_vec();
    expected[unmodelled].fill(0);
    assert_eq!(
        body.to_message(&header),
        expected,
        "{} re-encoded",
        B::COMMAND
    );
    (header, body)
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn negotiate_2_2_3_smb311_request_from_smbclient() {
    let (header, req) = decode_exact::<NegotiateRequest>(smbclient_311::NEGOTIATE_REQUEST);
    assert_eq!(header.message_id, 0);
    assert!(!header.is_response());
    assert_eq!(
        req.dialects,
        [
            Dialect::SMB202,
            Dialect::SMB210,
            Dialect::SMB300,
            Dialect::SMB302,
            Dialect::SMB311
        ]
    );
    assert_eq!(req.security_mode, SecurityMode::SIGNING_ENABLED);
    assert!(req.capabilities.contains(Capabilities::ENCRYPTION));
    // MS-SMB2 2.2.3: the context list starts 8-byte aligned after the dialects.
    let offset = u32::from_le_bytes(smbclient_311::NEGOTIATE_REQUEST[92..96].try_into().unwrap());
    assert_eq!(offset, 112);
    let [preauth, encryption, signing, netname] = &req.contexts[..] else {
        panic!("four contexts: {:?}", req.contexts);
    };
    let NegotiateContext::PreauthIntegrity {
        hash_algorithms,
        salt,
    } = preauth
    else {
        panic!("{preauth:?}");
    };
    assert_eq!(hash_algorithms, &[HashAlgorithm::SHA512]);
    assert_eq!(salt.len(), 32);
    assert_eq!(
        encryption,
        &NegotiateContext::Encryption(vec![
            Cipher::AES128_GCM,
            Cipher::AES128_CCM,
            Cipher::AES256_GCM,
            Cipher::AES256_CCM
        ])
    );
    // Only AES-CMAC: the capture was made with `client smb3 signing algorithms =
    // AES-128-CMAC` (Samba's default list starts with AES-GMAC, which Adjoin lacks).
    assert_eq!(
        signing,
        &NegotiateContext::Signing(vec![SigningAlgorithm::AES_CMAC])
    );
    // 2.2.3.1.4 SMB2_NETNAME_NEGOTIATE_CONTEXT_ID (5), which the codec keeps raw.
    assert_eq!(
        netname,
        &NegotiateContext::Other {
            context_type: 5,
            data: utf16le("dc1.example.test")
        }
    );
}

#[test]
fn negotiate_2_2_4_smb311_response_from_samba() {
    let (header, resp) = decode_exact::<NegotiateResponse>(smbclient_311::NEGOTIATE_RESPONSE);
    assert!(header.is_response());
    assert_eq!(header.status, NtStatus::SUCCESS);
    assert_eq!(resp.dialect, Dialect::SMB311);
    // A DC requires signing.
    assert_eq!(
        resp.security_mode,
        SecurityMode::SIGNING_ENABLED | SecurityMode::SIGNING_REQUIRED
    );
    assert_eq!(resp.max_transact_size, 8 << 20);
    assert_eq!(resp.max_read_size, 8 << 20);
    assert_eq!(resp.max_write_size, 8 << 20);
    // The security buffer is SPNEGO's NegTokenInit (an [APPLICATION 0] token).
    assert_eq!(resp.security_buffer[0], 0x60);
    let [preauth, encryption, signing] = &resp.contexts[..] else {
        panic!("three contexts: {:?}", resp.contexts);
    };
    assert!(matches!(
        preauth,
        NegotiateContext::PreauthIntegrity { hash_algorithms, salt }
            if hash_algorithms == &[HashAlgorithm::SHA512] && salt.len() == 32
    ));
    // The server answers with one cipher: the client's first it supports.
    assert_eq!(
        encryption,
        &NegotiateContext::Encryption(vec![Cipher::AES128_GCM])
    );
    assert_eq!(
        signing,
        &NegotiateContext::Signing(vec![SigningAlgorithm::AES_CMAC])
    );
}

#[test]
fn negotiate_2_2_3_and_2_2_4_smb202_from_samba() {
    let (_, req) = decode_exact::<NegotiateRequest>(smbclient_202::NEGOTIATE_REQUEST);
    assert_eq!(req.dialects, [Dialect::SMB202]);
    // Without 3.1.1 the context fields are ClientStartTime, and no list follows.
    assert!(req.contexts.is_empty());
    assert_eq!(smbclient_202::NEGOTIATE_REQUEST.len(), 64 + 36 + 2);

    let (_, resp) = decode_exact::<NegotiateResponse>(smbclient_202::NEGOTIATE_RESPONSE);
    assert_eq!(resp.dialect, Dialect::SMB202);
    assert_eq!(resp.max_transact_size, 65536);
    assert!(resp.contexts.is_empty());
    assert_eq!(resp.security_buffer[0], 0x60);
}

#[test]
fn session_setup_2_2_5_and_2_2_6_ntlmssp_from_samba() {
    use smbclient_311::*;
    let (h1, req1) = decode_exact::<SessionSetupRequest>(SESSION_SETUP_REQUEST_1);
    assert_eq!(h1.session_id, 0);
    assert_eq!(req1.flags, 0);
    assert_eq!(req1.security_mode, 1, "SMB2_NEGOTIATE_SIGNING_ENABLED");
    assert_eq!(req1.previous_session_id, 0);
    // MS-SMB2 2.2.5: the buffer follows the fixed part, at 88.
    assert_eq!(
        u16::from_le_bytes([SESSION_SETUP_REQUEST_1[76], SESSION_SETUP_REQUEST_1[77]]),
        88
    );
    assert_eq!(req1.security_buffer[0], 0x60);
    assert!(contains(&req1.security_buffer, b"NTLMSSP\0\x01\0\0\0"));

    let (r1, resp1) = decode_exact::<SessionSetupResponse>(SESSION_SETUP_RESPONSE_1);
    assert_eq!(r1.status, NtStatus::MORE_PROCESSING_REQUIRED);
    assert_ne!(r1.session_id, 0, "the server assigns the SessionId");
    assert!(contains(&resp1.security_buffer, b"NTLMSSP\0\x02\0\0\0"));

    let (h2, req2) = decode_exact::<SessionSetupRequest>(SESSION_SETUP_REQUEST_2);
    assert_eq!(h2.session_id, r1.session_id);
    assert!(contains(&req2.security_buffer, b"NTLMSSP\0\x03\0\0\0"));
    assert!(contains(&req2.security_buffer, &utf16le("alice")));

    let (r2, resp2) = decode_exact::<SessionSetupResponse>(SESSION_SETUP_RESPONSE_2);
    assert_eq!(r2.status, NtStatus::SUCCESS);
    assert_eq!(r2.session_id, r1.session_id);
    // 3.1.1: the final response is signed; not a guest or anonymous session.
    assert!(r2.flags.contains(HeaderFlags::SIGNED));
    assert_eq!(resp2.session_flags, SessionFlags::empty());
    assert_eq!(resp2.security_buffer[0], 0xa1, "NegTokenResp");
}

#[test]
fn tree_connect_2_2_9_and_2_2_10_ipc_from_samba() {
    use smbclient_311::*;
    let (h, req) = decode_exact::<TreeConnectRequest>(TREE_CONNECT_REQUEST);
    assert_eq!(req.path, r"\\dc1.example.test\IPC$");
    assert_eq!(req.flags, 0);
    assert!(h.flags.contains(HeaderFlags::SIGNED));

    let (r, resp) = decode_exact::<TreeConnectResponse>(TREE_CONNECT_RESPONSE);
    assert_ne!(r.tree_id, 0);
    assert_eq!(r.message_id, h.message_id);
    assert_eq!(resp.share_type, TreeConnectResponse::PIPE);
    assert_eq!(resp.maximal_access, 0x001f_00a9);

    decode_exact::<TreeDisconnectRequest>(TREE_DISCONNECT_REQUEST);
    decode_exact::<TreeDisconnectResponse>(TREE_DISCONNECT_RESPONSE);
}

#[test]
fn error_2_2_2_refused_create_from_samba() {
    // smbclient opens IPC$'s root directory (an empty name); Samba refuses with an
    // ERROR response under the CREATE command.
    let (_, req) = decode_exact::<CreateRequest>(smbclient_311::CREATE_REQUEST);
    assert_eq!(req.name, "");
    assert_eq!(req.create_options, 1, "FILE_DIRECTORY_FILE");

    for msg in [
        smbclient_311::CREATE_ERROR_RESPONSE,
        smbclient_202::CREATE_ERROR_RESPONSE,
    ] {
        let (header, error) = ErrorResponse::from_message(msg).unwrap();
        assert_eq!(header.command, Command::CREATE);
        assert_eq!(
            header.status,
            NtStatus::new(0xc000_0236),
            "STATUS_CONNECTION_REFUSED"
        );
        assert_eq!(error.error_context_count, 0);
        assert!(error.data.is_empty());
        // ByteCount 0 and the one byte of ErrorData MS-SMB2 requires anyway.
        assert_eq!(msg.len(), 64 + 9);
        assert_eq!(error.to_message(&header), msg);
        assert!(matches!(
            CreateResponse::from_message(msg),
            Err(SmbError::StructureSize {
                expected: 89,
                got: 9,
                ..
            })
        ));
    }
}

#[test]
fn create_ioctl_close_2_2_13_to_2_2_32_named_pipe_from_rpcclient() {
    use rpcclient_311::*;
    let (_, req) = decode_exact::<CreateRequest>(CREATE_REQUEST);
    assert_eq!(req.name, "lsarpc");
    assert_eq!(req.impersonation_level, CreateRequest::IMPERSONATION);
    assert_eq!(req.create_disposition, CreateRequest::FILE_OPEN);
    assert_eq!(req.desired_access, 0x0002_019f);
    assert_eq!(req.share_access, 3, "FILE_SHARE_READ | FILE_SHARE_WRITE");
    assert!(req.contexts.is_empty());

    let (_, resp) = decode_exact::<CreateResponse>(CREATE_RESPONSE);
    assert_eq!(resp.create_action, 1, "FILE_OPENED");
    assert_eq!(resp.file_attributes, 0x80, "FILE_ATTRIBUTE_NORMAL");
    assert!(resp.contexts.is_empty());
    let pipe = resp.file_id;

    // Samba fills in the offset of the empty buffer (OutputOffset of the request,
    // InputOffset of the response); the codec writes 0 there, as MS-SMB2 2.2.31 and
    // 2.2.32 suggest for an empty buffer, and does not keep the field.
    for (i, msg) in TRANSCEIVE.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(msg[100..104], 120u32.to_le_bytes());
            let (_, req) = decode_except::<IoctlRequest>(msg, 100..104);
            assert_eq!(req.ctl_code, FSCTL_PIPE_TRANSCEIVE);
            assert_eq!(req.flags, IoctlRequest::IS_FSCTL);
            assert_eq!(req.file_id, pipe);
            assert_eq!(req.max_output_response, 4280);
            // A DCE/RPC PDU, version 5.0; the first is a bind (PDU type 11).
            assert_eq!(req.input[..2], [5, 0]);
            assert_eq!(req.input[2], if i == 0 { 11 } else { 0 });
        } else {
            assert_eq!(msg[88..92], 112u32.to_le_bytes());
            let (header, resp) = decode_except::<IoctlResponse>(msg, 88..92);
            assert_eq!(header.status, NtStatus::SUCCESS);
            assert_eq!(resp.ctl_code, FSCTL_PIPE_TRANSCEIVE);
            assert_eq!(resp.file_id, pipe);
            // bind_ack (12), then responses (2).
            assert_eq!(resp.output[..3], [5, 0, if i == 1 { 12 } else { 2 }]);
        }
    }

    let (_, close) = decode_exact::<CloseRequest>(CLOSE_REQUEST);
    assert_eq!(close.file_id, pipe);
    assert_eq!(close.flags, 0);
    let (_, closed) = decode_exact::<CloseResponse>(CLOSE_RESPONSE);
    assert_eq!(closed, CloseResponse::default());
}

#[test]
fn async_2_2_1_1_interim_and_final_response_from_samba() {
    use rpcclient_311::*;
    let (request, _) = IoctlRequest::from_message(QUERY_REQUEST).unwrap();
    // MS-SMB2 3.3.4.2: an interim response is an ERROR response with STATUS_PENDING in
    // the async header form, whose AsyncId the final response repeats.
    let (interim, error) = ErrorResponse::from_message(INTERIM_RESPONSE).unwrap();
    assert!(interim.is_interim());
    assert_eq!(interim.command, Command::IOCTL);
    assert_eq!(interim.message_id, request.message_id);
    assert_ne!(interim.async_id, 0);
    assert_eq!(interim.tree_id, 0, "no TreeId in the async form");
    assert!(error.data.is_empty());
    // ByteCount 0 and the one byte of ErrorData MS-SMB2 2.2.2 requires anyway, which it
    // says SHOULD be zero; Samba sends 0x21 there. The codec does not keep it.
    let (last, rest) = INTERIM_RESPONSE.split_last().unwrap();
    assert_eq!(*last, 0x21);
    assert_eq!(error.to_message(&interim), [rest, &[0]].concat());
    assert!(IoctlResponse::from_message(INTERIM_RESPONSE).is_err());

    let (last, _) = decode_except::<IoctlResponse>(ASYNC_RESPONSE, 88..92);
    assert!(
        last.flags
            .contains(HeaderFlags::ASYNC_COMMAND | HeaderFlags::SIGNED)
    );
    assert!(!last.is_interim());
    assert_eq!(last.status, NtStatus::SUCCESS);
    assert_eq!(
        (last.message_id, last.async_id),
        (interim.message_id, interim.async_id)
    );
}

#[test]
fn ioctl_2_2_31_validate_negotiate_from_smbclient() {
    // FSCTL_VALIDATE_NEGOTIATE_INFO on no file (all-ones FileId), which Samba's client
    // sends on 2.0.2 too; same unmodelled offsets as for the pipe calls.
    let (_, req) =
        decode_except::<IoctlRequest>(smbclient_202::VALIDATE_NEGOTIATE_REQUEST, 100..104);
    assert_eq!(req.ctl_code, FSCTL_VALIDATE_NEGOTIATE_INFO);
    assert_eq!(
        req.file_id,
        FileId {
            persistent: u64::MAX,
            volatile: u64::MAX
        }
    );
    let (_, resp) =
        decode_except::<IoctlResponse>(smbclient_202::VALIDATE_NEGOTIATE_RESPONSE, 88..92);
    assert_eq!(resp.ctl_code, FSCTL_VALIDATE_NEGOTIATE_INFO);

    // MS-SMB2 2.2.31.4 and 2.2.32.6: the request repeats the NEGOTIATE request's fields,
    // the answer the NEGOTIATE response's.
    let (_, negotiate) = NegotiateRequest::from_message(smbclient_202::NEGOTIATE_REQUEST).unwrap();
    let info = ValidateNegotiateInfoRequest::read_bytes("input", &req.input).unwrap();
    assert_eq!(info.to_bytes(), req.input);
    assert_eq!(info.dialects, negotiate.dialects);
    assert_eq!(info.guid, negotiate.client_guid);
    assert_eq!(info.security_mode, negotiate.security_mode);
    assert_eq!(info.capabilities, negotiate.capabilities);

    let (_, negotiated) =
        NegotiateResponse::from_message(smbclient_202::NEGOTIATE_RESPONSE).unwrap();
    let info = ValidateNegotiateInfoResponse::read_bytes("output", &resp.output).unwrap();
    assert_eq!(info.to_bytes(), resp.output);
    assert_eq!(info.dialect, Dialect::SMB202);
    assert_eq!(info.guid, negotiated.server_guid);
    assert_eq!(info.security_mode, negotiated.security_mode);
    assert_eq!(info.capabilities, negotiated.capabilities);
}

#[test]
fn negotiate_and_session_setup_from_windows() {
    // Windows puts 0xFEFF (a process id) in the sync header's Reserved field, which
    // MS-SMB2 2.2.1.2 says to ignore and the codec does not keep: bytes 32..36.
    const RESERVED: Range<usize> = 32..36;
    assert_eq!(ms_blog::NEGOTIATE_REQUEST[RESERVED], [0xff, 0xfe, 0, 0]);
    let (_, req) = decode_except::<NegotiateRequest>(ms_blog::NEGOTIATE_REQUEST, RESERVED);
    assert_eq!(req.dialects.len(), 5);
    assert_eq!(req.security_mode, SecurityMode::empty());
    assert_eq!(
        req.contexts[1],
        NegotiateContext::Encryption(vec![Cipher::AES128_GCM, Cipher::AES128_CCM])
    );
    assert!(matches!(
        &req.contexts[0],
        NegotiateContext::PreauthIntegrity { salt, .. } if salt[..4] == [0xfa, 0x49, 0xe6, 0x57]
    ));

    let (_, resp) = decode_except::<NegotiateResponse>(ms_blog::NEGOTIATE_RESPONSE, RESERVED);
    assert_eq!(resp.dialect, Dialect::SMB311);
    assert_eq!(resp.security_buffer.len(), 0x140);
    assert_eq!(
        resp.contexts[1],
        NegotiateContext::Encryption(vec![Cipher::AES128_GCM])
    );

    let [req1, resp1, req2, resp2] = ms_blog::SESSION_SETUP;
    decode_except::<SessionSetupRequest>(req1, RESERVED);
    let (h, _) = decode_except::<SessionSetupResponse>(resp1, RESERVED);
    assert_eq!(h.status, NtStatus::MORE_PROCESSING_REQUIRED);
    assert_eq!(h.session_id, 0x1000_0000_0019);
    decode_except::<SessionSetupRequest>(req2, RESERVED);
    let (h, _) = decode_except::<SessionSetupResponse>(resp2, RESERVED);
    assert_eq!(h.status, NtStatus::SUCCESS);

    let (h, binding) =
        decode_except::<SessionSetupRequest>(ms_blog::BINDING_SESSION_SETUP_REQUEST, RESERVED);
    assert_eq!(binding.flags, 1, "SMB2_SESSION_FLAG_BINDING");
    assert_eq!(h.session_id, 0x1000_0000_0019);
    assert!(h.flags.contains(HeaderFlags::SIGNED));
}

#[test]
fn captured_messages_are_not_compounds() {
    for msg in [
        smbclient_311::NEGOTIATE_RESPONSE,
        smbclient_311::SESSION_SETUP_REQUEST_2,
        rpcclient_311::CREATE_RESPONSE,
        ms_blog::NEGOTIATE_RESPONSE,
    ] {
        assert_eq!(split_compound(msg).unwrap(), [msg]);
    }
}

#[test]
fn captured_messages_make_a_compound() {
    // CLOSE then TREE_DISCONNECT in one compound: the first padded to 8 bytes, its
    // NextCommand pointing past the padding (MS-SMB2 3.2.4.1.4).
    let close = rpcclient_311::CLOSE_REQUEST;
    let disconnect = smbclient_311::TREE_DISCONNECT_REQUEST;
    let mut payload = close.to_vec();
    payload.resize(close.len().next_multiple_of(8), 0);
    let next = u32::try_from(payload.len()).unwrap();
    payload[20..24].copy_from_slice(&next.to_le_bytes());
    payload.extend_from_slice(disconnect);
    let parts = split_compound(&payload).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1], disconnect);
    let (h, req) = CloseRequest::from_message(parts[0]).unwrap();
    assert_eq!(h.next_command, next);
    assert_eq!(req, CloseRequest::from_message(close).unwrap().1);
    TreeDisconnectRequest::from_message(parts[1]).unwrap();
}

// Property tests.

fn header() -> impl Strategy<Value = Header> {
    (
        (any::<u16>(), any::<u32>(), any::<u16>(), any::<u32>()),
        (any::<u32>(), any::<u64>(), any::<u64>(), any::<u32>()),
        (any::<u64>(), any::<[u8; 16]>()),
    )
        .prop_map(
            |(
                (credit_charge, status, credits, flags),
                (next_command, message_id, async_id, tree_id),
                (session_id, signature),
            )| {
                let flags = HeaderFlags::from_bits_retain(flags);
                // One of AsyncId and TreeId is on the wire, as the flag says.
                let is_async = flags.contains(HeaderFlags::ASYNC_COMMAND);
                Header {
                    credit_charge,
                    status: NtStatus::new(status),
                    command: Command::new(0xffff),
                    credits,
                    flags,
                    next_command,
                    message_id,
                    async_id: if is_async { async_id } else { 0 },
                    tree_id: if is_async { 0 } else { tree_id },
                    session_id,
                    signature,
                }
            },
        )
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn file_id() -> impl Strategy<Value = FileId> {
    (any::<u64>(), any::<u64>()).prop_map(|(persistent, volatile)| FileId {
        persistent,
        volatile,
    })
}

fn times() -> impl Strategy<Value = FileTimes> {
    any::<[u64; 6]>().prop_map(|t| FileTimes {
        creation: t[0],
        last_access: t[1],
        last_write: t[2],
        change: t[3],
        allocation_size: t[4],
        end_of_file: t[5],
    })
}

fn negotiate_context() -> impl Strategy<Value = NegotiateContext> {
    prop_oneof![
        (vec(any::<u16>(), 0..4), bytes(40)).prop_map(|(algorithms, salt)| {
            NegotiateContext::PreauthIntegrity {
                hash_algorithms: algorithms.into_iter().map(HashAlgorithm::new).collect(),
                salt,
            }
        }),
        vec(any::<u16>(), 0..6)
            .prop_map(|c| NegotiateContext::Encryption(c.into_iter().map(Cipher::new).collect())),
        vec(any::<u16>(), 0..6).prop_map(|s| NegotiateContext::Signing(
            s.into_iter().map(SigningAlgorithm::new).collect()
        )),
        // Any type the codec does not interpret (1, 2 and 8 it does).
        (any::<u16>(), bytes(40))
            .prop_filter("an uninterpreted type", |(t, _)| ![1, 2, 8].contains(t))
            .prop_map(|(context_type, data)| NegotiateContext::Other { context_type, data }),
    ]
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::SMB311), any::<u16>().prop_map(Dialect::new)]
}

prop_compose! {
    fn negotiate_request()(
        security_mode in any::<u16>(),
        capabilities in any::<u32>(),
        client_guid in any::<[u8; 16]>(),
        dialects in vec(dialect(), 1..6),
        contexts in vec(negotiate_context(), 0..5),
    ) -> NegotiateRequest {
        // Contexts exist only when 3.1.1 is offered (otherwise ClientStartTime).
        let contexts = if dialects.contains(&Dialect::SMB311) { contexts } else { Vec::new() };
        NegotiateRequest {
            security_mode: SecurityMode::from_bits_retain(security_mode),
            capabilities: Capabilities::from_bits_retain(capabilities),
            client_guid,
            dialects,
            contexts,
        }
    }
}

prop_compose! {
    fn negotiate_response()(
        (security_mode, dialect, server_guid, capabilities) in
            (any::<u16>(), dialect(), any::<[u8; 16]>(), any::<u32>()),
        sizes in any::<[u32; 3]>(),
        (system_time, server_start_time) in (any::<u64>(), any::<u64>()),
        security_buffer in bytes(300),
        contexts in vec(negotiate_context(), 0..5),
    ) -> NegotiateResponse {
        NegotiateResponse {
            security_mode: SecurityMode::from_bits_retain(security_mode),
            dialect,
            server_guid,
            capabilities: Capabilities::from_bits_retain(capabilities),
            max_transact_size: sizes[0],
            max_read_size: sizes[1],
            max_write_size: sizes[2],
            system_time,
            server_start_time,
            security_buffer,
            // Contexts exist only in a 3.1.1 response.
            contexts: if dialect == Dialect::SMB311 { contexts } else { Vec::new() },
        }
    }
}

prop_compose! {
    fn session_setup_request()(
        flags in any::<u8>(),
        security_mode in any::<u8>(),
        capabilities in any::<u32>(),
        previous_session_id in any::<u64>(),
        security_buffer in bytes(300),
    ) -> SessionSetupRequest {
        SessionSetupRequest { flags, security_mode, capabilities, previous_session_id, security_buffer }
    }
}

prop_compose! {
    fn create_request()(
        (oplock_level, impersonation_level, desired_access, file_attributes) in
            (any::<u8>(), any::<u32>(), any::<u32>(), any::<u32>()),
        (share_access, create_disposition, create_options) in
            (any::<u32>(), any::<u32>(), any::<u32>()),
        name in "\\PC{0,30}",
        contexts in bytes(100),
    ) -> CreateRequest {
        CreateRequest {
            oplock_level, impersonation_level, desired_access, file_attributes, share_access,
            create_disposition, create_options, name, contexts,
        }
    }
}

prop_compose! {
    fn create_response()(
        (oplock_level, flags, create_action, file_attributes) in
            (any::<u8>(), any::<u8>(), any::<u32>(), any::<u32>()),
        times in times(),
        file_id in file_id(),
        contexts in bytes(100),
    ) -> CreateResponse {
        CreateResponse { oplock_level, flags, create_action, times, file_attributes, file_id, contexts }
    }
}

prop_compose! {
    fn ioctl_request()(
        (ctl_code, max_input_response, max_output_response, flags) in
            (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
        file_id in file_id(),
        input in bytes(200),
    ) -> IoctlRequest {
        IoctlRequest { ctl_code, file_id, max_input_response, max_output_response, flags, input }
    }
}

/// Encodes `body` after `header`, decodes it back, and checks that both come back
/// equal and that encoding them again gives the same bytes.
fn round_trip<B: Body + PartialEq + Debug>(header: &Header, body: &B) -> Result<(), TestCaseError> {
    let msg = body.to_message(header);
    let (h, b) = B::from_message(&msg).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        &h,
        &Header {
            command: B::COMMAND,
            ..header.clone()
        }
    );
    prop_assert_eq!(&b, body);
    prop_assert_eq!(b.to_message(&h), msg);
    Ok(())
}

proptest! {
    #[test]
    fn negotiate_round_trips(h in header(), req in negotiate_request(), resp in negotiate_response()) {
        round_trip(&h, &req)?;
        round_trip(&h, &resp)?;
    }

    #[test]
    fn session_and_tree_bodies_round_trip(
        h in header(),
        req in session_setup_request(),
        (session_flags, security_buffer) in (any::<u16>(), bytes(300)),
        (tree_flags, path) in (any::<u16>(), "\\PC{0,40}"),
        (share_type, share_flags, capabilities, maximal_access) in
            (any::<u8>(), any::<u32>(), any::<u32>(), any::<u32>()),
    ) {
        round_trip(&h, &req)?;
        round_trip(&h, &SessionSetupResponse {
            session_flags: SessionFlags::from_bits_retain(session_flags),
            security_buffer,
        })?;
        round_trip(&h, &TreeConnectRequest { flags: tree_flags, path })?;
        round_trip(&h, &TreeConnectResponse { share_type, share_flags, capabilities, maximal_access })?;
        round_trip(&h, &LogoffRequest)?;
        round_trip(&h, &LogoffResponse)?;
        round_trip(&h, &TreeDisconnectRequest)?;
        round_trip(&h, &TreeDisconnectResponse)?;
        round_trip(&h, &EchoRequest)?;
        round_trip(&h, &EchoResponse)?;
    }

    #[test]
    fn file_bodies_round_trip(
        h in header(),
        create in create_request(),
        created in create_response(),
        (close_flags, file_id, times, file_attributes) in
            (any::<u16>(), file_id(), times(), any::<u32>()),
        (padding, length, offset, minimum_count) in
            (any::<u8>(), any::<u32>(), any::<u64>(), any::<u32>()),
        (data_remaining, data, write_flags, count) in
            (any::<u32>(), bytes(200), any::<u32>(), any::<u32>()),
        ioctl in ioctl_request(),
        output in bytes(200),
    ) {
        round_trip(&h, &create)?;
        round_trip(&h, &created)?;
        round_trip(&h, &CloseRequest { flags: close_flags, file_id })?;
        round_trip(&h, &CloseResponse { flags: close_flags, times, file_attributes })?;
        round_trip(&h, &ReadRequest { padding, length, offset, file_id, minimum_count })?;
        round_trip(&h, &ReadResponse { data_remaining, data: data.clone() })?;
        round_trip(&h, &WriteRequest { offset, file_id, flags: write_flags, data })?;
        round_trip(&h, &WriteResponse { count })?;
        round_trip(&h, &ioctl)?;
        round_trip(&h, &IoctlResponse { ctl_code: ioctl.ctl_code, file_id, output })?;
    }

    #[test]
    fn error_response_round_trips(h in header(), command in any::<u16>(), count in any::<u8>(), data in bytes(100)) {
        let h = Header { command: Command::new(command), ..h };
        let error = ErrorResponse { error_context_count: count, data };
        let msg = error.to_message(&h);
        let (back_h, back) = ErrorResponse::from_message(&msg).unwrap();
        prop_assert_eq!(back_h, h);
        prop_assert_eq!(back, error);
    }

    #[test]
    fn transform_header_round_trips(
        (signature, nonce) in (any::<[u8; 16]>(), any::<[u8; 16]>()),
        session_id in any::<u64>(),
        body in bytes(200),
    ) {
        let header = TransformHeader {
            signature,
            nonce,
            original_message_size: u32::try_from(body.len()).unwrap(),
            flags: TransformHeader::ENCRYPTED,
            session_id,
        };
        let mut msg = header.to_bytes();
        msg.extend_from_slice(&body);
        prop_assert_eq!(read_transform(&msg).unwrap(), (header, &body[..]));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in bytes(600)) {
        decode_everything(&data);
    }

    #[test]
    fn arbitrary_bodies_behind_a_valid_header_never_panic(
        h in header(),
        command in 0u16..0x13,
        size in prop_oneof![
            prop::sample::select(vec![4u16, 9, 16, 17, 24, 25, 36, 49, 57, 60, 65, 89]),
            any::<u16>(),
        ],
        body in bytes(600),
    ) {
        let mut msg = Header { command: Command::new(command), ..h }.to_bytes();
        msg.extend_from_slice(&size.to_le_bytes());
        msg.extend_from_slice(&body);
        decode_everything(&msg);
    }

    #[test]
    fn mutated_captures_never_panic(
        which in 0usize..CAPTURES.len(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut msg = CAPTURES[which].to_vec();
        for (at, byte) in edits {
            let i = at.index(msg.len());
            msg[i] = byte;
        }
        decode_everything(&msg);
        decode_everything(&msg[..cut.index(msg.len() + 1)]);
    }
}

/// Some of the real messages, for mutation.
const CAPTURES: [&[u8]; 10] = [
    smbclient_311::NEGOTIATE_REQUEST,
    smbclient_311::NEGOTIATE_RESPONSE,
    smbclient_311::SESSION_SETUP_REQUEST_2,
    smbclient_311::TREE_CONNECT_REQUEST,
    smbclient_311::CREATE_ERROR_RESPONSE,
    rpcclient_311::CREATE_REQUEST,
    rpcclient_311::CREATE_RESPONSE,
    rpcclient_311::BIND_REQUEST,
    rpcclient_311::BIND_RESPONSE,
    ms_blog::NEGOTIATE_RESPONSE,
];

/// Runs every decoder on `data`; what decodes must encode and decode back equal.
fn decode_everything(data: &[u8]) {
    fn again<B: Body + PartialEq + Debug>(data: &[u8]) {
        if let Ok((header, body)) = B::from_message(data) {
            let msg = body.to_message(&header);
            let (h, b) = B::from_message(&msg).unwrap_or_else(|e| {
                panic!(
                    "{} decoded from {data:02x?} re-encodes to {msg:02x?}, which fails: {e}",
                    B::COMMAND
                )
            });
            assert_eq!((h, b), (header, body));
        }
    }
    again::<NegotiateRequest>(data);
    again::<NegotiateResponse>(data);
    again::<SessionSetupRequest>(data);
    again::<SessionSetupResponse>(data);
    again::<LogoffRequest>(data);
    again::<LogoffResponse>(data);
    again::<TreeConnectRequest>(data);
    again::<TreeConnectResponse>(data);
    again::<TreeDisconnectRequest>(data);
    again::<TreeDisconnectResponse>(data);
    again::<CreateRequest>(data);
    again::<CreateResponse>(data);
    again::<CloseRequest>(data);
    again::<CloseResponse>(data);
    again::<ReadRequest>(data);
    again::<ReadResponse>(data);
    again::<WriteRequest>(data);
    again::<WriteResponse>(data);
    again::<IoctlRequest>(data);
    again::<IoctlResponse>(data);
    again::<EchoRequest>(data);
    again::<EchoResponse>(data);
    if let Ok((header, error)) = ErrorResponse::from_message(data) {
        let back = ErrorResponse::from_message(&error.to_message(&header)).unwrap();
        assert_eq!(back, (header, error));
    }
    if let Ok(parts) = split_compound(data) {
        assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), data.len());
    }
    if let Ok((header, body)) = read_transform(data) {
        let mut again = header.to_bytes();
        again.extend_from_slice(body);
        assert_eq!(read_transform(&again).unwrap(), (header, body));
    }
    if let Ok(info) = ValidateNegotiateInfoRequest::read_bytes("input", data) {
        let back = ValidateNegotiateInfoRequest::read_bytes("input", &info.to_bytes());
        assert_eq!(back.unwrap(), info);
    }
    if let Ok(info) = ValidateNegotiateInfoResponse::read_bytes("output", data) {
        assert_eq!(info.to_bytes(), data);
    }
    let _ = Header::read_bytes("SMB2 header", data);
}
