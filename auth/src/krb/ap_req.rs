//! Building a KRB_AP_REQ (RFC 4120 3.2.2, 5.5.1): a ticket plus an authenticator
//! encrypted in the ticket's session key. Used inside TGS requests (PA-TGS-REQ), kpasswd
//! requests and, wrapped by GSS-API, for LDAP and SMB.
//!
//! ```text
//! AP-REQ ::= [APPLICATION 14] SEQUENCE {
//!         pvno [0] INTEGER (5), msg-type [1] INTEGER (14), ap-options [2] APOptions,
//!         ticket [3] Ticket, authenticator [4] EncryptedData -- Authenticator }
//! Authenticator ::= [APPLICATION 2] SEQUENCE {
//!         authenticator-vno [0] INTEGER (5), crealm [1] Realm, cname [2] PrincipalName,
//!         cksum [3] Checksum OPTIONAL, cusec [4] Microseconds, ctime [5] KerberosTime,
//!         subkey [6] EncryptionKey OPTIONAL, seq-number [7] UInt32 OPTIONAL,
//!         authorization-data [8] AuthorizationData OPTIONAL }
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use rasn_kerberos as k;

use super::error::KerberosError;
use super::{Credentials, wire};
use crate::crypto::{Key, KeyUsage};

/// RFC 4120 5.5.1 AP options.
pub mod ap_options {
    /// The ticket is encrypted in the session key of the server's TGT (user-to-user).
    pub const USE_SESSION_KEY: u32 = 1 << (31 - 1);
    /// The client wants the server to prove itself with an AP-REP.
    pub const MUTUAL_REQUIRED: u32 = 1 << (31 - 2);
}

/// What goes into the authenticator besides the names and the time.
#[derive(Debug, Clone, Default)]
pub struct ApReqParts {
    /// AP options (see [`ap_options`]).
    pub options: u32,
    /// The authenticator checksum (e.g. the RFC 4121 GSS checksum, or the TGS body checksum).
    pub checksum: Option<k::Checksum>,
    /// A subkey proposed for the session.
    pub subkey: Option<Key>,
    /// The initial sequence number.
    pub seq_number: Option<u32>,
}

/// Builds a DER-encoded AP-REQ for `creds`, its authenticator encrypted with `usage`
/// (7 inside a TGS request, 11 otherwise).
pub fn build(
    creds: &Credentials,
    parts: &ApReqParts,
    usage: KeyUsage,
    now: SystemTime,
) -> Result<Vec<u8>, KerberosError> {
    let ticket: k::Ticket = wire::decode(&creds.ticket, "Ticket")?;
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let authenticator = k::Authenticator {
        authenticator_vno: 5.into(),
        crealm: wire::kstring(&creds.client.realm),
        cname: wire::to_wire_name(&creds.client),
        cksum: parts.checksum.clone(),
        cusec: since.subsec_micros().into(),
        ctime: wire::ktime(now),
        subkey: parts.subkey.as_ref().map(|k| k::EncryptionKey {
            r#type: k.etype().value(),
            value: k.as_bytes().to_vec().into(),
        }),
        seq_number: parts.seq_number,
        authorization_data: None,
    };
    let cipher = creds
        .session_key
        .encrypt(usage, &wire::der(&authenticator))?;
    let req = k::ApReq {
        pvno: 5.into(),
        msg_type: 14.into(),
        ap_options: k::ApOptions(wire::flags(parts.options)),
        ticket,
        authenticator: k::EncryptedData {
            etype: creds.session_key.etype().value(),
            kvno: None,
            cipher: cipher.into(),
        },
    };
    Ok(wire::der(&req))
}
