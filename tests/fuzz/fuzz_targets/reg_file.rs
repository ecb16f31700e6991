//! The `.reg` parser (`regshell import`, `Registry::import`): text an admin, a script or a
//! download supplies, decoded from UTF-8 or UTF-16 first as the importer does.
#![no_main]

use adjoin_registry::{check_reg_file, decode_reg_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = decode_reg_file(data) {
        let _ = check_reg_file(&text);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = check_reg_file(text);
    }
});
