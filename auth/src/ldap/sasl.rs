//! The receive side of LDAP over a sealed SASL GSSAPI session, without I/O (RFC 4752 3.1
//! and 3.3): the server's security-layer offer, the 4-byte length before each security-layer
//! buffer, the RFC 4121 unwrap of each buffer, and the stream of BER-encoded LDAP messages
//! the plaintext forms. [`super::Connection`] reads the bytes; this decides what they mean.
//!
//! ```text
//! buffer  = length(4, big-endian) wrap-token(length)      ; RFC 4752 3.3
//! plain   = unwrap(wrap-token) ...                        ; LDAP messages, split anywhere
//! offer   = unwrap(token) = layers(1) max-buffer(3)       ; RFC 4752 3.1
//! ```

use rasn_ldap::LdapMessage;

use crate::gss::GssError;
use crate::gss::krb5::SecurityContext;

/// The largest security-layer buffer, and LDAP message, accepted (16 MiB).
pub const MAX_PDU: usize = 16 << 20;
/// RFC 4752 3.1: the confidentiality (sealing) security layer.
pub(crate) const LAYER_CONFIDENTIALITY: u8 = 4;

/// RFC 4752 3.1: the security layers the server offers (a bit mask), from its wrap token.
pub fn read_layer_offer(ctx: &mut SecurityContext, token: &[u8]) -> Result<u8, GssError> {
    let (offer, _) = ctx.unwrap(token)?;
    Ok(offer.first().copied().unwrap_or(0))
}

/// The length of the security-layer buffer a 4-byte prefix announces; `None` past
/// [`MAX_PDU`].
pub fn buffer_len(prefix: [u8; 4]) -> Option<usize> {
    usize::try_from(u32::from_be_bytes(prefix))
        .ok()
        .filter(|len| *len <= MAX_PDU)
}

/// LDAP messages out of the plaintext of unwrapped buffers (a message may span buffers, a
/// buffer may hold several).
#[derive(Debug, Default)]
pub struct Receiver {
    plain: Vec<u8>,
}

impl Receiver {
    /// Unwraps one security-layer buffer with `ctx` and keeps its plaintext.
    pub fn push_buffer(&mut self, ctx: &mut SecurityContext, token: &[u8]) -> Result<(), GssError> {
        let (plain, _) = ctx.unwrap(token)?;
        self.push_plain(&plain);
        Ok(())
    }

    /// Keeps plaintext as it is (what a buffer unwrapped to).
    pub fn push_plain(&mut self, plain: &[u8]) {
        self.plain.extend_from_slice(plain);
    }

    /// The next complete LDAP message, if the plaintext holds one; an error names what is
    /// wrong with it (the session cannot go on).
    pub fn next_message(&mut self) -> Result<Option<LdapMessage>, String> {
        let Some(total) = ber_length(&self.plain) else {
            return Ok(None);
        };
        if total > MAX_PDU {
            return Err("an LDAP message over 16 MiB".into());
        }
        if self.plain.len() < total {
            return Ok(None);
        }
        let message = rasn::ber::decode::<LdapMessage>(&self.plain[..total]);
        self.plain.drain(..total);
        message.map(Some).map_err(|e| e.to_string())
    }
}

/// The total length of the BER element at the start of `b`, if its header is complete
/// (`usize::MAX` for a length form no LDAP message uses).
pub fn ber_length(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return Some(usize::MAX);
    }
    let bytes = b.get(2..2 + n)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte));
    Some((2 + n).saturating_add(len))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use rasn_ldap::{LdapResult, ProtocolOp, ResultCode};

    use super::*;
    use crate::crypto::{EncryptionType, Key};
    use crate::gss::krb5::{self, GssFlags, InitStep, Initiator};
    use crate::krb::Acceptor;
    use crate::krb::mint::{self, TicketSpec};
    use crate::principal::PrincipalName;

    /// The member's and the server's sides of a sealed context, in memory.
    fn contexts() -> (SecurityContext, SecurityContext) {
        let aes = EncryptionType::AES256_CTS_HMAC_SHA1_96;
        let spec = TicketSpec {
            service: PrincipalName::new(
                PrincipalName::NT_SRV_INST,
                ["ldap", "dc1.example.test"],
                "EXAMPLE.TEST",
            ),
            service_key: Key::new(aes, &[7; 32]).unwrap(),
            kvno: 2,
            client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["M1$"], "EXAMPLE.TEST"),
            auth_time: SystemTime::now(),
            lifetime: Duration::from_secs(3600),
            pac: None,
            session_key: Key::new(aes, &[9; 32]).unwrap(),
        };
        let flags = GssFlags::MUTUAL | GssFlags::INTEG | GssFlags::CONF | GssFlags::SEQUENCE;
        let ticket = mint::issue(&spec).unwrap();
        let (init, step) = Initiator::start(ticket, flags, SystemTime::now()).unwrap();
        let (Some(init), InitStep::Continue(token)) = (init, step) else {
            panic!("mutual authentication");
        };
        let mut acceptor = Acceptor::new(mint::keytab_for(&spec));
        let (server, reply, _) = krb5::accept(&mut acceptor, &token, SystemTime::now()).unwrap();
        (init.step(&reply.unwrap()).unwrap(), server)
    }

    fn delete_response(id: u32) -> Vec<u8> {
        let empty = || rasn_ldap::LdapString(String::new());
        let result = LdapResult::new(ResultCode::Success, empty(), empty());
        let op = ProtocolOp::DelResponse(rasn_ldap::DelResponse(result));
        rasn::ber::encode(&LdapMessage::new(id, op)).unwrap()
    }

    #[test]
    fn rfc4752_messages_split_across_buffers_and_two_in_one() {
        let (mut client, mut server) = contexts();
        let (a, b) = (delete_response(5), delete_response(6));
        let both: Vec<u8> = a.iter().chain(&b).copied().collect();
        let (first, second) = both.split_at(3);
        let mut received = Receiver::default();
        received
            .push_buffer(&mut client, &server.wrap(first, true).unwrap())
            .unwrap();
        assert!(received.next_message().unwrap().is_none(), "incomplete");
        received
            .push_buffer(&mut client, &server.wrap(second, true).unwrap())
            .unwrap();
        assert_eq!(received.next_message().unwrap().unwrap().message_id, 5);
        assert_eq!(received.next_message().unwrap().unwrap().message_id, 6);
        assert!(received.next_message().unwrap().is_none());
    }

    #[test]
    fn rfc4752_offer_lengths_and_garbage_are_checked() {
        let (mut client, mut server) = contexts();
        let offer = server
            .wrap(&[LAYER_CONFIDENTIALITY, 0, 0x10, 0], false)
            .unwrap();
        assert_eq!(
            read_layer_offer(&mut client, &offer).unwrap(),
            LAYER_CONFIDENTIALITY
        );
        assert_eq!(buffer_len(16u32.to_be_bytes()), Some(16));
        assert_eq!(buffer_len(u32::MAX.to_be_bytes()), None);
        let mut received = Receiver::default();
        assert!(
            received
                .push_buffer(&mut client, b"not a wrap token")
                .is_err()
        );
        received.push_plain(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]);
        assert!(received.next_message().is_err(), "over 16 MiB");
        let mut garbage = Receiver::default();
        garbage.push_plain(&[0x30, 0x03, 0x02, 0x01, 0xff]);
        assert!(garbage.next_message().is_err());
    }
}
