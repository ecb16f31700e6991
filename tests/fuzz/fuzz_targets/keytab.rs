//! MIT keytab files (0x501/0x502): `Keytab::parse`; what parses serializes without panic
//! and parses back to the same entries.
#![no_main]

use adjoin_auth::keytab::Keytab;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(keytab) = Keytab::parse(data) else {
        return;
    };
    let Ok(bytes) = keytab.to_bytes() else { return };
    let again = Keytab::parse(&bytes).expect("a written keytab parses");
    assert_eq!(again, keytab, "keytab round trip");
});
