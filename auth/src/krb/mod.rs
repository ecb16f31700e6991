//! Kerberos V5 client exchanges (RFC 4120): sans-IO state machines that return a
//! [`KdcRequest`] to send and take the reply back, and a small tokio transport
//! ([`kdc::send`]) that talks to KDCs over UDP and TCP.

pub mod acceptor;
pub mod ap_req;
pub mod as_exchange;
pub mod error;
pub mod kdc;
pub mod kpasswd;
pub mod mint;
pub mod tgs_exchange;
pub(crate) mod wire;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rasn_kerberos as k;

pub use acceptor::{AcceptError, Accepted, Acceptor};
pub use as_exchange::{AsExchange, AsOptions, AsStep, ClientSecret};
pub use error::{AccountState, KerberosError, KrbErrorCode, NtStatus};
pub use tgs_exchange::{TgsAnswer, TgsExchange};

use crate::ccache;
use crate::crypto::{EncryptionType, Key};
use crate::keytab::KeyBlock;
use crate::principal::PrincipalName;

/// Bytes for a KDC of `realm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcRequest {
    /// The realm whose KDC must receive this.
    pub realm: String,
    /// The DER-encoded request.
    pub bytes: Vec<u8>,
}

/// A ticket and what goes with it: what a credential cache stores.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The client, as the KDC named it (canonical).
    pub client: PrincipalName,
    /// The service the ticket is for.
    pub server: PrincipalName,
    /// The session key.
    pub session_key: Key,
    /// The Ticket, DER-encoded, as the KDC sent it.
    pub ticket: Vec<u8>,
    /// Ticket flags, bit 0 most significant (MIT's ccache form).
    pub flags: u32,
    /// When the client authenticated.
    pub auth_time: SystemTime,
    /// When the ticket becomes valid.
    pub start_time: Option<SystemTime>,
    /// When it expires.
    pub end_time: SystemTime,
    /// Until when it may be renewed.
    pub renew_till: Option<SystemTime>,
    /// When the client's password or key expires, if the KDC said.
    pub key_expiration: Option<SystemTime>,
}

impl Credentials {
    /// The MIT ccache form of these credentials.
    pub fn to_ccache(&self) -> ccache::Credential {
        let secs = |t: SystemTime| {
            let s = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            u32::try_from(s).unwrap_or(u32::MAX)
        };
        ccache::Credential {
            client: self.client.clone(),
            server: self.server.clone(),
            key: KeyBlock::new(self.session_key.etype(), self.session_key.as_bytes()),
            authtime: secs(self.auth_time),
            starttime: self.start_time.map_or(0, secs),
            endtime: secs(self.end_time),
            renew_till: self.renew_till.map_or(0, secs),
            is_skey: false,
            flags: ccache::TicketFlags::from_bits_retain(self.flags),
            addresses: Vec::new(),
            authdata: Vec::new(),
            ticket: self.ticket.clone(),
            second_ticket: Vec::new(),
        }
    }

    /// Credentials read back from a credential cache entry.
    pub fn from_ccache(c: &ccache::Credential) -> Result<Self, KerberosError> {
        let time = |s: u32| UNIX_EPOCH + Duration::from_secs(u64::from(s));
        let nonzero = |s: u32| (s != 0).then(|| time(s));
        Ok(Self {
            client: c.client.clone(),
            server: c.server.clone(),
            session_key: c.key.to_key()?,
            ticket: c.ticket.clone(),
            flags: c.flags.bits(),
            auth_time: time(c.authtime),
            start_time: nonzero(c.starttime),
            end_time: time(c.endtime),
            renew_till: nonzero(c.renew_till),
            key_expiration: None,
        })
    }

    /// The key version number of the service key the ticket is encrypted in, if the KDC
    /// said (what MIT `kvno` prints).
    pub fn ticket_kvno(&self) -> Option<u32> {
        wire::decode::<k::Ticket>(&self.ticket, "Ticket")
            .ok()
            .and_then(|t| t.enc_part.kvno)
    }

    fn from_reply(
        client: PrincipalName,
        ticket: &k::Ticket,
        part: &k::EncKdcRepPart,
    ) -> Result<Self, KerberosError> {
        let etype = EncryptionType::new(part.key.r#type);
        Ok(Self {
            client,
            server: wire::from_wire_name(&part.sname, &part.srealm)?,
            session_key: Key::new(etype, &part.key.value)?,
            ticket: wire::der(ticket),
            flags: wire::flags_word(&part.flags.0),
            auth_time: wire::system_time(&part.auth_time),
            start_time: part.start_time.as_ref().map(wire::system_time),
            end_time: wire::system_time(&part.end_time),
            renew_till: part.renew_till.as_ref().map(wire::system_time),
            key_expiration: part.key_expiration.as_ref().map(wire::system_time),
        })
    }
}
