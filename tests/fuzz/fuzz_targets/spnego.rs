//! RFC 4178 SPNEGO tokens as an SMB or LDAP server receives them: the NegotiationToken
//! decoder and the acceptor that picks Kerberos out of it.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use adjoin_auth::gss::spnego;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::Acceptor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = spnego::parse(data);
    let _ = spnego::mech_types_der(data);
    let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let _ = spnego::accept(&mut Acceptor::new(Keytab::new()), data, now);
});
