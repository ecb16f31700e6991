//! MS-ADTS 6.3.1.9 NETLOGON_SAM_LOGON_RESPONSE_EX decoder: any bytes, any requested NtVer.
#![no_main]

use adjoin_join::discover::netlogon::{NtVersion, SamLogonResponseEx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let requested = NtVersion::from_bits_retain(u32::from(first) & 0x1f);
    let _ = SamLogonResponseEx::decode(rest, requested);
});
