//! RFC 2930/3645 TKEY replies and RFC 2136 UPDATE replies, as the DNS server (the DC, or
//! whoever answers on port 53) sends them to a member registering its name.
#![no_main]

use adjoin_join::dns_update::{read_tkey_reply, read_update_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_tkey_reply(data);
    let _ = read_update_reply(data, "m1.example.test");
});
