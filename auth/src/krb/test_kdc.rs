//! A KDC in memory for unit tests: tickets for alice to cifs/foo.example.test, encrypted
//! in a fixed service key, so acceptor and GSS code can be tested without a network.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rasn_kerberos as k;

use super::{Credentials, wire};
use crate::crypto::{EncryptionType, Key, KeyUsage};
use crate::keytab::{KeyBlock, Keytab, KeytabEntry};
use crate::principal::PrincipalName;

/// AD-IF-RELEVANT and AD-WIN2K-PAC (RFC 4120 7.5.4, MS-PAC 3).
const AD_IF_RELEVANT: i32 = 1;
const AD_WIN2K_PAC: i32 = 128;

const REALM: &str = "EXAMPLE.TEST";

pub(crate) fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub(crate) fn service() -> PrincipalName {
    PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["cifs", "foo.example.test"],
        REALM,
    )
}

pub(crate) fn service_key() -> Key {
    Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[7; 32]).unwrap()
}

pub(crate) fn keytab(kvno: u32) -> Keytab {
    let mut kt = Keytab::new();
    kt.add(KeytabEntry::new(
        service(),
        kvno,
        KeyBlock::from(&service_key()),
        0,
    ));
    kt
}

/// What a KDC would issue to alice for cifs/foo, valid from `start` for ten hours.
pub(crate) fn credentials(start: u64, pac: Option<&[u8]>) -> Credentials {
    let session = Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[9; 32]).unwrap();
    let client = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], REALM);
    let ad = pac.map(|p| {
        let inner: k::AuthorizationData = vec![k::AuthorizationDataValue {
            r#type: AD_WIN2K_PAC,
            data: p.to_vec().into(),
        }];
        vec![k::AuthorizationDataValue {
            r#type: AD_IF_RELEVANT,
            data: wire::der(&inner).into(),
        }]
    });
    let part = k::EncTicketPart {
        flags: k::TicketFlags(wire::flags(0x4081_0000)),
        key: k::EncryptionKey {
            r#type: session.etype().value(),
            value: session.as_bytes().to_vec().into(),
        },
        crealm: wire::kstring(REALM),
        cname: wire::to_wire_name(&client),
        transited: k::TransitedEncoding {
            r#type: 1,
            contents: Vec::new().into(),
        },
        auth_time: wire::ktime(t(start)),
        start_time: None,
        end_time: wire::ktime(t(start + 36_000)),
        renew_till: None,
        caddr: None,
        authorization_data: ad,
    };
    let cipher = service_key()
        .encrypt(KeyUsage::KDC_REP_TICKET, &wire::der(&part))
        .unwrap();
    let ticket = k::Ticket {
        tkt_vno: 5.into(),
        realm: wire::kstring(REALM),
        sname: wire::to_wire_name(&service()),
        enc_part: k::EncryptedData {
            etype: 18,
            kvno: Some(3),
            cipher: cipher.into(),
        },
    };
    Credentials {
        client,
        server: service(),
        session_key: session,
        ticket: wire::der(&ticket),
        flags: 0,
        auth_time: t(start),
        start_time: None,
        end_time: t(start + 36_000),
        renew_till: None,
        key_expiration: None,
    }
}
