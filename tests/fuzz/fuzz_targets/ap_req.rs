//! RFC 4120 3.2.3 AP-REQ acceptance and the RFC 4121 context token around it: what an SMB
//! or LDAP server reads from an unauthenticated peer. The keytab holds one aes256 key; the
//! seeds include a real AP-REQ under it (made with `adjoin_auth::krb::mint`), so inputs
//! get past decryption.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use adjoin_auth::crypto::{EncryptionType, Key};
use adjoin_auth::gss::krb5;
use adjoin_auth::krb::Acceptor;
use adjoin_auth::krb::mint::{self, TicketSpec};
use adjoin_auth::principal::PrincipalName;
use libfuzzer_sys::fuzz_target;

fn spec() -> TicketSpec {
    TicketSpec {
        service: PrincipalName::new(
            PrincipalName::NT_SRV_INST,
            ["cifs", "foo.example.test"],
            "EXAMPLE.TEST",
        ),
        service_key: Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[7; 32]).expect("key"),
        kvno: 3,
        client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST"),
        auth_time: UNIX_EPOCH + Duration::from_secs(1_000_000),
        lifetime: Duration::from_secs(36_000),
        pac: None,
        session_key: Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[9; 32]).expect("key"),
    }
}

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(1_000_010);
    let mut acceptor = Acceptor::new(mint::keytab_for(&spec()));
    let _ = acceptor.accept(data, now);
    let _ = krb5::accept(&mut acceptor, data, now);
});
