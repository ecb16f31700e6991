//! MS-SMB2 messages as a client and a server receive them: every body decoder of
//! `smb::proto` (what decodes must re-encode and decode back equal), the ERROR response,
//! compound splitting, the Direct TCP length, the VALIDATE_NEGOTIATE_INFO buffers, the
//! TRANSFORM_HEADER and decryption with either cipher, and signature checks with each
//! signer.
#![no_main]

use adjoin_rpc::codec::Codec;
use adjoin_smb::encryption::{Encryptor, Side};
use adjoin_smb::proto::{
    Body, CloseRequest, CloseResponse, CreateRequest, CreateResponse, Dialect, EchoRequest,
    EchoResponse, ErrorResponse, IoctlRequest, IoctlResponse, LogoffRequest, LogoffResponse,
    NegotiateRequest, NegotiateResponse, ReadRequest, ReadResponse, SessionSetupRequest,
    SessionSetupResponse, TreeConnectRequest, TreeConnectResponse, TreeDisconnectRequest,
    TreeDisconnectResponse, ValidateNegotiateInfoRequest, ValidateNegotiateInfoResponse,
    WriteRequest, WriteResponse, frame_len, read_transform, split_compound,
};
use adjoin_smb::signing::{PreauthHash, Signer};
use libfuzzer_sys::fuzz_target;

fn again<B: Body + PartialEq + core::fmt::Debug>(data: &[u8]) {
    if let Ok((header, body)) = B::from_message(data) {
        let msg = body.to_message(&header);
        let back = B::from_message(&msg).expect("a decoded message re-encodes");
        assert_eq!(back, (header, body));
    }
}

fuzz_target!(|data: &[u8]| {
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
        let back = ErrorResponse::from_message(&error.to_message(&header))
            .expect("a decoded ERROR response re-encodes");
        assert_eq!(back, (header, error));
    }
    if let Ok(parts) = split_compound(data) {
        assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), data.len());
        for part in parts {
            again::<CreateRequest>(part);
            again::<IoctlResponse>(part);
        }
    }
    if let Ok(info) = ValidateNegotiateInfoRequest::read_bytes("input", data) {
        assert_eq!(info.to_bytes(), data);
    }
    if let Ok(info) = ValidateNegotiateInfoResponse::read_bytes("output", data) {
        assert_eq!(info.to_bytes(), data);
    }
    if let Some(prefix) = data.first_chunk::<4>() {
        let _ = frame_len(*prefix);
    }

    if let Ok((header, _)) = read_transform(data) {
        for cipher in Encryptor::CIPHERS {
            let preauth = PreauthHash::default();
            let keys = Encryptor::derive(
                Dialect::SMB311,
                cipher,
                &[0x42; 16],
                &preauth,
                Side::Client,
                [0; 4],
            )
            .expect("a supported cipher");
            let _ = keys.open(header.session_id, data);
        }
    }

    let mut preauth = PreauthHash::default();
    preauth.update(data);
    for dialect in [Dialect::SMB210, Dialect::SMB300, Dialect::SMB311] {
        let signer = Signer::derive(dialect, &[0x42; 16], &preauth);
        let _ = signer.verify(data);
        let mut signed = data.to_vec();
        signer.sign(&mut signed);
        if data.len() >= 64 {
            signer
                .verify(&signed)
                .expect("what was just signed verifies");
        }
    }
});
