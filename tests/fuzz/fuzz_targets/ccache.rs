//! MIT credential caches (0x503/0x504): `CredentialCache::parse`; what parses serializes
//! without panic and parses back to the same cache; each ticket converts to `Credentials`.
#![no_main]

use adjoin_auth::ccache::CredentialCache;
use adjoin_auth::krb::Credentials;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cache) = CredentialCache::parse(data) else {
        return;
    };
    let _ = cache.tgt();
    let _ = cache.kdc_time_offset();
    for c in cache.credentials.iter().filter(|c| !c.is_config()) {
        if let Ok(creds) = Credentials::from_ccache(c) {
            let _ = creds.ticket_kvno();
        }
    }
    let Ok(bytes) = cache.to_bytes() else { return };
    let again = CredentialCache::parse(&bytes).expect("a written ccache parses");
    assert_eq!(again, cache, "ccache round trip");
});
