//! The SMB2 client's receive path (MS-SMB2 3.2.5.1): whatever a server sends is read
//! by `ClientCore::response` on a signing session and on an encrypting one, both as
//! given and sealed genuinely by the server's key (so the bytes reach the checks past
//! decryption); negotiate responses through `Negotiated::from_response`; pipe bytes
//! through rpc's `FragmentBuffer`; DFS referral answers (MS-DFSC 2.2.4) through
//! `ReferralResponse::parse`.
#![no_main]

use adjoin_rpc::transport::FragmentBuffer;
use adjoin_smb::client::{ClientCore, DIALECTS, Negotiated};
use adjoin_smb::encryption::{Encryptor, Side};
use adjoin_smb::proto::dfs::ReferralResponse;
use adjoin_smb::proto::{Body, Cipher, Dialect, NegotiateResponse};
use adjoin_smb::signing::{PreauthHash, Signer};
use libfuzzer_sys::fuzz_target;

fn encryptor(side: Side) -> Encryptor {
    Encryptor::derive(
        Dialect::SMB311,
        Cipher::AES128_GCM,
        &[3; 16],
        &PreauthHash::default(),
        side,
        [9; 4],
    )
    .expect("a supported cipher")
}

fuzz_target!(|data: &[u8]| {
    let message_id = data.first().copied().map_or(0, u64::from);

    let mut signing = ClientCore::new();
    signing.set_signer(Signer::derive(
        Dialect::SMB311,
        &[1; 16],
        &PreauthHash::default(),
    ));
    let _ = signing.response(data.to_vec(), message_id);

    let mut encrypting = ClientCore::new();
    encrypting.set_encryptor(encryptor(Side::Client));
    let _ = encrypting.response(data.to_vec(), message_id);
    if let Ok(sealed) = encryptor(Side::Server).seal(0, data) {
        let _ = encrypting.response(sealed, message_id);
    }

    if let Ok((_, resp)) = NegotiateResponse::from_message(data) {
        let _ = Negotiated::from_response(&resp, &DIALECTS);
    }

    if let Ok(referral) = ReferralResponse::parse(data) {
        let _ = referral.targets();
    }

    let mut pipe = FragmentBuffer::default();
    for chunk in data.chunks(7) {
        pipe.extend(chunk);
        while let Ok(Some(_)) = pipe.pop() {}
    }
});
