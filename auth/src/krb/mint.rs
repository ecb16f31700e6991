//! Issuing tickets the way a KDC does, under a service key the caller holds: for unit
//! tests, benchmarks and load generators that need real AP-REQs without a network. It
//! grants nothing: only a holder of the service key can make a ticket the service accepts.

use std::time::{Duration, SystemTime};

use rasn_kerberos as k;

use super::{Credentials, KerberosError, wire};
use crate::crypto::{Key, KeyUsage};
use crate::keytab::{KeyBlock, Keytab, KeytabEntry};
use crate::principal::PrincipalName;

/// AD-IF-RELEVANT and AD-WIN2K-PAC (RFC 4120 7.5.4, MS-PAC 3).
const AD_IF_RELEVANT: i32 = 1;
const AD_WIN2K_PAC: i32 = 128;
/// FORWARDABLE | RENEWABLE | PRE-AUTHENT, as an AD KDC sets them.
const TICKET_FLAGS: u32 = 0x4081_0000;

/// What goes into a ticket.
#[derive(Debug, Clone)]
pub struct TicketSpec {
    /// The service the ticket is for.
    pub service: PrincipalName,
    /// The service's long-term key.
    pub service_key: Key,
    /// Its key version number.
    pub kvno: u32,
    /// The client.
    pub client: PrincipalName,
    /// When the client authenticated.
    pub auth_time: SystemTime,
    /// How long the ticket is valid.
    pub lifetime: Duration,
    /// A PAC to put in AD-IF-RELEVANT, if any.
    pub pac: Option<Vec<u8>>,
    /// The session key.
    pub session_key: Key,
}

/// Issues the ticket: the client's side of it, as a KDC reply would give it.
pub fn issue(spec: &TicketSpec) -> Result<Credentials, KerberosError> {
    let ad = spec.pac.as_ref().map(|p| {
        let inner: k::AuthorizationData = vec![k::AuthorizationDataValue {
            r#type: AD_WIN2K_PAC,
            data: p.clone().into(),
        }];
        vec![k::AuthorizationDataValue {
            r#type: AD_IF_RELEVANT,
            data: wire::der(&inner).into(),
        }]
    });
    let end = spec.auth_time + spec.lifetime;
    let part = k::EncTicketPart {
        flags: k::TicketFlags(wire::flags(TICKET_FLAGS)),
        key: k::EncryptionKey {
            r#type: spec.session_key.etype().value(),
            value: spec.session_key.as_bytes().to_vec().into(),
        },
        crealm: wire::kstring(&spec.client.realm),
        cname: wire::to_wire_name(&spec.client),
        transited: k::TransitedEncoding {
            r#type: 1,
            contents: Vec::new().into(),
        },
        auth_time: wire::ktime(spec.auth_time),
        start_time: None,
        end_time: wire::ktime(end),
        renew_till: None,
        caddr: None,
        authorization_data: ad,
    };
    let cipher = spec
        .service_key
        .encrypt(KeyUsage::KDC_REP_TICKET, &wire::der(&part))?;
    let ticket = k::Ticket {
        tkt_vno: 5.into(),
        realm: wire::kstring(&spec.service.realm),
        sname: wire::to_wire_name(&spec.service),
        enc_part: k::EncryptedData {
            etype: spec.service_key.etype().value(),
            kvno: Some(spec.kvno),
            cipher: cipher.into(),
        },
    };
    Ok(Credentials {
        client: spec.client.clone(),
        server: spec.service.clone(),
        session_key: spec.session_key.clone(),
        ticket: wire::der(&ticket),
        flags: TICKET_FLAGS,
        auth_time: spec.auth_time,
        start_time: None,
        end_time: end,
        renew_till: None,
        key_expiration: None,
    })
}

/// A keytab holding `spec`'s service key, as the service would have it.
pub fn keytab_for(spec: &TicketSpec) -> Keytab {
    let mut kt = Keytab::new();
    kt.add(KeytabEntry::new(
        spec.service.clone(),
        spec.kvno,
        KeyBlock::from(&spec.service_key),
        0,
    ));
    kt
}

/// Test fixtures: alice's tickets for cifs/foo.example.test under a fixed aes256 key.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::crypto::EncryptionType;

    pub(crate) fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    pub(crate) fn service() -> PrincipalName {
        PrincipalName::new(
            PrincipalName::NT_SRV_INST,
            ["cifs", "foo.example.test"],
            "EXAMPLE.TEST",
        )
    }

    pub(crate) fn service_key() -> Key {
        Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[7; 32]).unwrap()
    }

    fn spec(start: u64, pac: Option<&[u8]>) -> TicketSpec {
        TicketSpec {
            service: service(),
            service_key: service_key(),
            kvno: 3,
            client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST"),
            auth_time: t(start),
            lifetime: Duration::from_secs(36_000),
            pac: pac.map(<[u8]>::to_vec),
            session_key: Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[9; 32]).unwrap(),
        }
    }

    pub(crate) fn keytab(kvno: u32) -> Keytab {
        keytab_for(&TicketSpec {
            kvno,
            ..spec(0, None)
        })
    }

    /// Alice's ticket for cifs/foo, valid from `start` for ten hours.
    pub(crate) fn credentials(start: u64, pac: Option<&[u8]>) -> Credentials {
        issue(&spec(start, pac)).unwrap()
    }
}
