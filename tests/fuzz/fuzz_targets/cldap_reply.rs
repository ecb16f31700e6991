//! MS-ADTS 6.3.3 LDAP ping reply: BER LDAP messages, then the netlogon blob inside.
#![no_main]

use adjoin_join::discover::cldap;
use adjoin_join::discover::netlogon::{NtVersion, SamLogonResponseEx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(blob) = cldap::ping_response(data, 1) {
        let _ = SamLogonResponseEx::decode(&blob, NtVersion::PING);
    }
});
