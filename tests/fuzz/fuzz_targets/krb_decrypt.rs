//! RFC 3961/3962/4757/8009 decryption: `Key::decrypt` on any ciphertext, with every
//! supported etype. The first byte is the key usage.
#![no_main]

use std::sync::LazyLock;

use adjoin_auth::crypto::{EncryptionType, Key, KeyUsage};
use libfuzzer_sys::fuzz_target;

/// alice's AES256 key in the lab: the seed (an AS-REP enc-part, usage 3) decrypts with it.
const ALICE_AES256: &[u8] = include_bytes!("../../../auth/testdata/kdc-alice-aes256-key.bin");

static KEYS: LazyLock<Vec<Key>> = LazyLock::new(|| {
    EncryptionType::SUPPORTED
        .iter()
        .map(|&e| match e {
            EncryptionType::AES256_CTS_HMAC_SHA1_96 => Key::new(e, ALICE_AES256),
            _ => Key::new(e, &[0xa5; 32][..e.key_length().unwrap_or(0)]),
        })
        .collect::<Result<_, _>>()
        .expect("fixed keys have the right lengths")
});

fuzz_target!(|data: &[u8]| {
    let Some((&usage, ciphertext)) = data.split_first() else {
        return;
    };
    for key in KEYS.iter() {
        let _ = key.decrypt(KeyUsage::from(u32::from(usage)), ciphertext);
    }
});
