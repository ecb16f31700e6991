//! MS-PAC 2.3 PACTYPE and its buffers: `Pac::parse`, then what an acceptor reads and checks.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use adjoin_auth::crypto::{EncryptionType, Key};
use adjoin_auth::pac::Pac;
use adjoin_auth::principal::PrincipalName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pac) = Pac::parse(data) else { return };
    let _ = pac.user_sid();
    let _ = pac.group_sids();
    let _ = pac.upn_dns_info();
    for etype in [
        EncryptionType::AES256_CTS_HMAC_SHA1_96,
        EncryptionType::RC4_HMAC,
    ] {
        let key = Key::new(etype, &[0x33; 32][..etype.key_length().unwrap_or(0)])
            .expect("fixed key has the right length");
        let _ = pac.verify_server_signature(&key);
        let _ = pac.verify_kdc_signature(&key);
    }
    let alice = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST");
    let _ = pac.check_client(&alice, UNIX_EPOCH + Duration::from_secs(1_795_000_000));
});
