//! RFC 4120 3.1 AS exchange: `AsExchange::step` on any KDC reply (KRB-ERROR or AS-REP), in
//! both states a client is in when a reply comes: before and after pre-authentication.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use adjoin_auth::crypto::{EncryptionType, Key};
use adjoin_auth::krb::{AsExchange, AsOptions, ClientSecret};
use adjoin_auth::principal::PrincipalName;
use libfuzzer_sys::fuzz_target;

/// alice's AES256 key in the lab: the captured AS-REP seed decrypts with it.
const ALICE_AES256: &[u8] = include_bytes!("../../../auth/testdata/kdc-alice-aes256-key.bin");
/// The KDC's first answer, which moves a fresh exchange into "pre-authentication sent".
const PREAUTH_REQUIRED: &[u8] =
    include_bytes!("../../../auth/testdata/kdc-as-preauth-required.bin");

/// Long-term keys, not a password: string-to-key with the reply's s2kparams would spend
/// up to 2^24 PBKDF2 iterations on one input (capped in `crypto::s2k`, covered there).
fn exchange() -> AsExchange {
    let keys = EncryptionType::SUPPORTED
        .iter()
        .map(|&e| match e {
            EncryptionType::AES256_CTS_HMAC_SHA1_96 => Key::new(e, ALICE_AES256),
            _ => Key::new(e, &[0x5a; 32][..e.key_length().unwrap_or(0)]),
        })
        .collect::<Result<Vec<_>, _>>()
        .expect("fixed keys have the right lengths");
    let options = AsOptions {
        etypes: EncryptionType::SUPPORTED.to_vec(),
        ..AsOptions::default()
    };
    let alice = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST");
    AsExchange::new(alice, ClientSecret::Keys(keys), options)
}

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let _ = exchange().step(data, now);

    let mut after_preauth = exchange();
    if after_preauth.step(PREAUTH_REQUIRED, now).is_ok() {
        let _ = after_preauth.step(data, now);
    }
});
