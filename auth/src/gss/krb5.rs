//! The Kerberos V5 GSS-API mechanism (RFC 4121, framing from RFC 2743 3.1 and RFC 1964
//! 1.1), sans-IO: context establishment from byte tokens, then MIC and wrap tokens.
//!
//! ```text
//! InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {
//!         thisMech MechType,            -- 1.2.840.113554.1.2.2
//!         innerContextToken ANY }        -- TOK_ID (2 bytes) || KRB_AP_REQ / KRB_AP_REP / KRB_ERROR
//!
//! Authenticator checksum, type 0x8003 (RFC 4121 4.1.1):
//!         Lgth (4, LE) = 16 | Bnd (16) | Flags (4, LE) [| DlgOpt | Dlgth | Deleg]
//! ```
//! Per-message tokens use the RFC 4121 4.2.6 formats with the AES (and RFC 8009)
//! enctypes; the older RC4 token format of RFC 4757 is not implemented.

use std::time::SystemTime;

use bitflags::bitflags;

use super::GssError;
use crate::crypto::{EncryptionType, Key, KeyUsage};
use crate::krb::acceptor::{Accepted, Acceptor};
use crate::krb::ap_req::{self, ApReqParts, ap_options};
use crate::krb::{Credentials, wire};

/// The Kerberos V5 mechanism OID 1.2.840.113554.1.2.2, DER body.
pub const KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// The checksum type of the GSS authenticator checksum (RFC 4121 4.1.1).
const GSS_CHECKSUM: i32 = 0x8003;

/// RFC 1964 1.1 token identifiers.
const TOK_AP_REQ: [u8; 2] = [0x01, 0x00];
const TOK_AP_REP: [u8; 2] = [0x02, 0x00];
const TOK_ERROR: [u8; 2] = [0x03, 0x00];
/// RFC 4121 4.2.6 token identifiers.
const TOK_MIC: [u8; 2] = [0x04, 0x04];
const TOK_WRAP: [u8; 2] = [0x05, 0x04];

bitflags! {
    /// RFC 4121 4.1.1.1 context flags carried in the authenticator checksum.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct GssFlags: u32 {
        /// GSS_C_DELEG_FLAG.
        const DELEG = 1;
        /// GSS_C_MUTUAL_FLAG.
        const MUTUAL = 2;
        /// GSS_C_REPLAY_FLAG.
        const REPLAY = 4;
        /// GSS_C_SEQUENCE_FLAG.
        const SEQUENCE = 8;
        /// GSS_C_CONF_FLAG.
        const CONF = 16;
        /// GSS_C_INTEG_FLAG.
        const INTEG = 32;
        /// MS-KILE 3.2.5.2: DCE-style (three-leg) context.
        const DCE_STYLE = 0x1000;
        const _ = !0;
    }
}

bitflags! {
    /// RFC 4121 4.2.2 flags of MIC and wrap tokens.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct TokenFlags: u8 {
        const SENT_BY_ACCEPTOR = 1;
        const SEALED = 2;
        const ACCEPTOR_SUBKEY = 4;
    }
}

/// Wraps a Kerberos message and its token id in the RFC 2743 3.1 framing.
pub fn frame(tok_id: [u8; 2], message: &[u8]) -> Vec<u8> {
    let mut inner = tok_id.to_vec();
    inner.extend_from_slice(message);
    super::frame_initial(KRB5_OID, &inner)
}

/// Removes the RFC 2743 framing: the token id and the Kerberos message.
pub fn unframe(token: &[u8]) -> Result<([u8; 2], &[u8]), GssError> {
    let inner = super::unframe_initial(KRB5_OID, token)?;
    let (id, message) = inner.split_at_checked(2).ok_or(GssError::Malformed {
        reason: "no token id".into(),
    })?;
    Ok(([id[0], id[1]], message))
}

/// The RFC 4121 4.1.1 authenticator checksum: no channel bindings, the given flags.
fn gss_checksum(flags: GssFlags) -> Vec<u8> {
    let mut v = 16u32.to_le_bytes().to_vec();
    v.extend_from_slice(&[0; 16]);
    v.extend_from_slice(&flags.bits().to_le_bytes());
    v
}

/// An established security context: keys and sequence numbers for per-message tokens.
#[derive(Debug)]
pub struct SecurityContext {
    initiator: bool,
    key: Key,
    acceptor_subkey: bool,
    send_seq: u64,
    recv_seq: u64,
    /// The flags both sides agreed on.
    pub flags: GssFlags,
}

/// What an initiator does next.
#[derive(Debug)]
pub enum InitStep {
    /// Send this token; the context is established when the peer replies (mutual auth).
    Continue(Vec<u8>),
    /// Established. The token, if any, still has to reach the peer.
    Done(SecurityContext, Option<Vec<u8>>),
}

/// The initiator of a Kerberos GSS context, waiting for the acceptor's AP-REP.
#[derive(Debug)]
pub struct Initiator {
    creds: Credentials,
    subkey: Key,
    seq: u32,
    flags: GssFlags,
}

impl Initiator {
    /// Builds the first token with a service ticket. With [`GssFlags::MUTUAL`], the returned
    /// initiator must be given the acceptor's reply; otherwise the context is done at once.
    pub fn start(
        creds: Credentials,
        flags: GssFlags,
        now: SystemTime,
    ) -> Result<(Option<Self>, InitStep), GssError> {
        let etype = creds.session_key.etype();
        let subkey = Key::generate(etype)?;
        let seq = crate::krb::as_exchange::random_nonce();
        let parts = ApReqParts {
            options: if flags.contains(GssFlags::MUTUAL) {
                ap_options::MUTUAL_REQUIRED
            } else {
                0
            },
            checksum: Some(rasn_kerberos::Checksum {
                r#type: GSS_CHECKSUM,
                checksum: gss_checksum(flags).into(),
            }),
            subkey: Some(subkey.clone()),
            seq_number: Some(seq),
        };
        let req = ap_req::build(&creds, &parts, KeyUsage::AP_REQ_AUTH, now)?;
        let token = frame(TOK_AP_REQ, &req);
        if flags.contains(GssFlags::MUTUAL) {
            let me = Self {
                creds,
                subkey,
                seq,
                flags,
            };
            return Ok((Some(me), InitStep::Continue(token)));
        }
        let ctx = SecurityContext::new(true, subkey, false, seq, 0, flags);
        Ok((None, InitStep::Done(ctx, Some(token))))
    }

    /// Reads the acceptor's AP-REP (or KRB-ERROR) token.
    pub fn step(self, token: &[u8]) -> Result<SecurityContext, GssError> {
        let (id, message) = unframe(token)?;
        if id == TOK_ERROR {
            let e: rasn_kerberos::KrbError = wire::decode(message, "KRB-ERROR")?;
            return Err(GssError::Rejected {
                code: crate::krb::KrbErrorCode(e.error_code),
            });
        }
        if id != TOK_AP_REP {
            return Err(GssError::Malformed {
                reason: format!("token id {id:02x?} where an AP-REP was expected"),
            });
        }
        let rep: rasn_kerberos::ApRep = wire::decode(message, "AP-REP")?;
        let key = &self.creds.session_key;
        let plain = key
            .decrypt(KeyUsage::AP_REP_ENC_PART, &rep.enc_part.cipher)
            .map_err(|_| GssError::MutualAuthFailed)?;
        let part: rasn_kerberos::EncApRepPart = wire::decode(&plain, "EncAPRepPart")?;
        let acceptor_key = part
            .subkey
            .map(|k| Key::new(EncryptionType::new(k.r#type), &k.value))
            .transpose()?;
        let recv_seq = u64::from(part.seq_number.unwrap_or(0));

        let (key, acceptor_subkey) = match acceptor_key {
            Some(k) => (k, true),
            None => (self.subkey, false),
        };
        Ok(SecurityContext::new(
            true,
            key,
            acceptor_subkey,
            self.seq,
            recv_seq,
            self.flags,
        ))
    }
}

/// Accepts an initiator's first token with `acceptor`; returns the context, the reply token
/// to send (an AP-REP when mutual authentication was asked for), and what the AP-REQ
/// established (client, PAC, keys).
pub fn accept(
    acceptor: &mut Acceptor,
    token: &[u8],
    now: SystemTime,
) -> Result<(SecurityContext, Option<Vec<u8>>, Accepted), GssError> {
    let (id, message) = unframe(token)?;
    if id != TOK_AP_REQ {
        return Err(GssError::Malformed {
            reason: format!("token id {id:02x?} where an AP-REQ was expected"),
        });
    }
    let accepted = acceptor.accept(message, now)?;
    let flags = match &accepted.checksum {
        Some((GSS_CHECKSUM, c)) if c.len() >= 24 => {
            let word = [c[20], c[21], c[22], c[23]];
            GssFlags::from_bits_retain(u32::from_le_bytes(word))
        }
        _ => {
            return Err(GssError::Malformed {
                reason: "the authenticator has no GSS checksum (type 0x8003)".into(),
            });
        }
    };
    let key = accepted
        .subkey
        .clone()
        .unwrap_or_else(|| accepted.session_key.clone());
    let peer_seq = u64::from(accepted.seq_number.unwrap_or(0));
    let our_seq = crate::krb::as_exchange::random_nonce();
    let mutual =
        flags.contains(GssFlags::MUTUAL) || accepted.ap_options & ap_options::MUTUAL_REQUIRED != 0;
    let reply = if mutual {
        let rep = Acceptor::ap_rep(&accepted, None, Some(our_seq))?;
        Some(frame(TOK_AP_REP, &rep))
    } else {
        None
    };
    let ctx = SecurityContext::new(false, key, false, our_seq, peer_seq, flags);
    Ok((ctx, reply, accepted))
}

impl SecurityContext {
    fn new(
        initiator: bool,
        key: Key,
        acceptor_subkey: bool,
        send_seq: u32,
        recv_seq: u64,
        flags: GssFlags,
    ) -> Self {
        Self {
            initiator,
            key,
            acceptor_subkey,
            send_seq: u64::from(send_seq),
            recv_seq,
            flags,
        }
    }

    /// The context's session key (the subkey in use), e.g. for SMB signing keys.
    pub fn session_key(&self) -> &Key {
        &self.key
    }

    /// (seal, sign) key usages for tokens sent by the initiator or by the acceptor.
    /// RFC 4121 2 and 4.2.4: wrap tokens use the SEAL usage whether or not they are
    /// encrypted; only MIC tokens use SIGN (MIT, Heimdal and Windows agree).
    fn usages(&self, sending: bool) -> (KeyUsage, KeyUsage) {
        if self.initiator == sending {
            (KeyUsage::GSS_INITIATOR_SEAL, KeyUsage::GSS_INITIATOR_SIGN)
        } else {
            (KeyUsage::GSS_ACCEPTOR_SEAL, KeyUsage::GSS_ACCEPTOR_SIGN)
        }
    }

    fn send_flags(&self, sealed: bool) -> TokenFlags {
        let mut f = TokenFlags::empty();
        f.set(TokenFlags::SENT_BY_ACCEPTOR, !self.initiator);
        f.set(TokenFlags::SEALED, sealed);
        f.set(TokenFlags::ACCEPTOR_SUBKEY, self.acceptor_subkey);
        f
    }

    fn checksum_type(&self) -> Result<crate::crypto::ChecksumType, GssError> {
        self.key
            .etype()
            .checksum_type()
            .ok_or(GssError::UnsupportedEtype {
                etype: self.key.etype(),
            })
    }

    /// RFC 4121 4.2.6.1: a MIC token over `message`.
    pub fn get_mic(&mut self, message: &[u8]) -> Result<Vec<u8>, GssError> {
        let mut header = TOK_MIC.to_vec();
        header.push(self.send_flags(false).bits());
        header.extend_from_slice(&[0xff; 5]);
        header.extend_from_slice(&self.next_send_seq().to_be_bytes());
        let (_, sign) = self.usages(true);
        let mut signed = message.to_vec();
        signed.extend_from_slice(&header);
        let mic = self.key.get_mic(sign, self.checksum_type()?, &signed)?;
        header.extend_from_slice(&mic);
        Ok(header)
    }

    /// Checks a MIC token from the peer over `message`.
    pub fn verify_mic(&mut self, message: &[u8], token: &[u8]) -> Result<(), GssError> {
        let header = token.get(..16).ok_or(GssError::Malformed {
            reason: "MIC token shorter than its header".into(),
        })?;
        if header[..2] != TOK_MIC || header[3..8] != [0xff; 5] {
            return Err(GssError::Malformed {
                reason: "not a MIC token".into(),
            });
        }
        self.check_direction(header[2])?;
        let (_, sign) = self.usages(false);
        let mut signed = message.to_vec();
        signed.extend_from_slice(header);
        self.key
            .verify_mic(sign, self.checksum_type()?, &signed, &token[16..])
            .map_err(|_| GssError::BadSignature)?;
        self.check_seq(&header[8..16])
    }

    /// RFC 4121 4.2.6.2: a wrap token, sealed (encrypted) when `confidential`.
    pub fn wrap(&mut self, message: &[u8], confidential: bool) -> Result<Vec<u8>, GssError> {
        let seq = self.next_send_seq();
        let (seal, _) = self.usages(true);
        let header = |ec: u16| {
            let mut h = TOK_WRAP.to_vec();
            h.push(self.send_flags(confidential).bits());
            h.push(0xff);
            h.extend_from_slice(&ec.to_be_bytes());
            h.extend_from_slice(&0u16.to_be_bytes()); // RRC: we never rotate
            h.extend_from_slice(&seq.to_be_bytes());
            h
        };
        if confidential {
            // EC = 0: no filler. The header copy inside the ciphertext has RRC = 0.
            let h = header(0);
            let mut plain = message.to_vec();
            plain.extend_from_slice(&h);
            let sealed = self.key.encrypt(seal, &plain)?;
            let mut out = h;
            out.extend_from_slice(&sealed);
            return Ok(out);
        }
        // The checksum covers the message and the header with EC and RRC zero; the token
        // then carries EC = checksum length.
        let mut signed = message.to_vec();
        signed.extend_from_slice(&header(0));
        let mic = self.key.get_mic(seal, self.checksum_type()?, &signed)?;
        let mut out = header(u16::try_from(mic.len()).unwrap_or(u16::MAX));
        out.extend_from_slice(message);
        out.extend_from_slice(&mic);
        Ok(out)
    }

    /// Reads a wrap token from the peer; returns the message and whether it was sealed.
    pub fn unwrap(&mut self, token: &[u8]) -> Result<(Vec<u8>, bool), GssError> {
        let bad = |reason: &str| GssError::Malformed {
            reason: reason.to_owned(),
        };
        let (header, body) = token
            .split_at_checked(16)
            .ok_or_else(|| bad("wrap token too short"))?;
        if header[..2] != TOK_WRAP || header[3] != 0xff {
            return Err(bad("not a wrap token"));
        }
        let flags = TokenFlags::from_bits_retain(header[2]);
        self.check_direction(header[2])?;
        let ec = usize::from(u16::from_be_bytes([header[4], header[5]]));
        let rrc = usize::from(u16::from_be_bytes([header[6], header[7]]));
        // RFC 4121 4.2.5: undo the right rotation by RRC octets.
        let mut body = body.to_vec();
        if !body.is_empty() {
            let r = rrc % body.len();
            body.rotate_left(r);
        }
        let (seal, _) = self.usages(false);
        let sealed = flags.contains(TokenFlags::SEALED);
        let message = if sealed {
            let plain = self
                .key
                .decrypt(seal, &body)
                .map_err(|_| GssError::BadSignature)?;
            let keep = plain
                .len()
                .checked_sub(ec + 16)
                .ok_or_else(|| bad("sealed wrap token shorter than its filler"))?;
            let copy = &plain[plain.len() - 16..];
            if copy[..6] != header[..6] || copy[8..] != header[8..] {
                return Err(GssError::BadSignature);
            }
            plain[..keep].to_vec()
        } else {
            let keep = body
                .len()
                .checked_sub(ec)
                .ok_or_else(|| bad("wrap token shorter than its checksum"))?;
            let (message, mic) = body.split_at(keep);
            let mut zeroed = header.to_vec();
            zeroed[4..8].fill(0);
            let mut signed = message.to_vec();
            signed.extend_from_slice(&zeroed);
            self.key
                .verify_mic(seal, self.checksum_type()?, &signed, mic)
                .map_err(|_| GssError::BadSignature)?;
            message.to_vec()
        };
        self.check_seq(&header[8..16])?;
        Ok((message, sealed))
    }

    fn next_send_seq(&mut self) -> u64 {
        let s = self.send_seq;
        self.send_seq = self.send_seq.wrapping_add(1);
        s
    }

    fn check_direction(&self, flags: u8) -> Result<(), GssError> {
        let from_acceptor =
            TokenFlags::from_bits_retain(flags).contains(TokenFlags::SENT_BY_ACCEPTOR);
        if from_acceptor != self.initiator {
            return Err(GssError::Malformed {
                reason: "token sent in the wrong direction (reflected?)".into(),
            });
        }
        Ok(())
    }

    /// Sequence numbers must arrive in order (GSS_C_SEQUENCE_FLAG semantics, strict).
    fn check_seq(&mut self, raw: &[u8]) -> Result<(), GssError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(raw);
        let got = u64::from_be_bytes(b);
        if got != self.recv_seq {
            return Err(GssError::OutOfSequence {
                expected: self.recv_seq,
                got,
            });
        }
        self.recv_seq = self.recv_seq.wrapping_add(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::krb::mint::fixtures::{credentials, keytab, t};

    /// A context between an in-memory initiator and acceptor, mutual authentication on.
    fn pair() -> (SecurityContext, SecurityContext, Accepted) {
        let flags = GssFlags::MUTUAL | GssFlags::INTEG | GssFlags::CONF | GssFlags::SEQUENCE;
        let (init, step) =
            Initiator::start(credentials(1_000_000, None), flags, t(1_000_005)).unwrap();
        let InitStep::Continue(token) = step else {
            panic!("mutual authentication needs a reply");
        };
        let mut acceptor = Acceptor::new(keytab(3));
        let (actx, reply, accepted) = accept(&mut acceptor, &token, t(1_000_006)).unwrap();
        assert_eq!(actx.flags, flags);
        let ictx = init.unwrap().step(&reply.unwrap()).unwrap();
        (ictx, actx, accepted)
    }

    #[test]
    fn rfc4121_context_then_wrap_both_ways() {
        let (mut i, mut a, accepted) = pair();
        assert_eq!(accepted.client.to_string(), "alice@EXAMPLE.TEST");
        assert_eq!(i.session_key(), a.session_key());
        for conf in [true, false] {
            let token = i.wrap(b"hello acceptor", conf).unwrap();
            assert_eq!(
                a.unwrap(&token).unwrap(),
                (b"hello acceptor".to_vec(), conf)
            );
            let token = a.wrap(b"hello initiator", conf).unwrap();
            assert_eq!(
                i.unwrap(&token).unwrap(),
                (b"hello initiator".to_vec(), conf)
            );
        }
        let mic = i.get_mic(b"signed").unwrap();
        a.verify_mic(b"signed", &mic).unwrap();
        let mic = a.get_mic(b"signed back").unwrap();
        i.verify_mic(b"signed back", &mic).unwrap();
    }

    #[test]
    fn sealed_wrap_hides_the_message() {
        let (mut i, _, _) = pair();
        let token = i.wrap(b"secret secret secret", true).unwrap();
        assert!(!token.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn reflected_replayed_and_tampered_tokens_are_refused() {
        let (mut i, mut a, _) = pair();
        let token = i.wrap(b"one", true).unwrap();
        assert!(
            matches!(i.unwrap(&token), Err(GssError::Malformed { .. })),
            "reflection"
        );
        a.unwrap(&token).unwrap();
        assert!(
            matches!(a.unwrap(&token), Err(GssError::OutOfSequence { .. })),
            "replay"
        );
        let mut bad = i.wrap(b"two", false).unwrap();
        bad[17] ^= 1;
        assert!(matches!(a.unwrap(&bad), Err(GssError::BadSignature)));
        assert!(a.verify_mic(b"x", &i.get_mic(b"y").unwrap()).is_err());
    }

    #[test]
    fn rotated_wrap_tokens_are_read() {
        // RFC 4121 4.2.5: a sender may rotate the body right by RRC octets (Windows uses
        // 28 for DCE/RPC); the receiver must undo it.
        let (mut i, mut a, _) = pair();
        let mut token = i.wrap(b"rotated message", true).unwrap();
        let rrc = 28u16;
        token[6..8].copy_from_slice(&rrc.to_be_bytes());
        token[16..].rotate_right(usize::from(rrc));
        assert_eq!(a.unwrap(&token).unwrap().0, b"rotated message");
    }

    #[test]
    fn framing_round_trips_long_tokens() {
        let body = vec![7u8; 300];
        let framed = frame(TOK_AP_REQ, &body);
        assert_eq!(&framed[..3], &[0x60, 0x82, 0x01]);
        assert_eq!(unframe(&framed).unwrap(), (TOK_AP_REQ, &body[..]));
        assert!(matches!(
            unframe(&framed[..50]),
            Err(GssError::Malformed { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_tokens_never_panic(data: Vec<u8>) {
            let (mut i, _, _) = pair();
            let _ = i.unwrap(&data);
            let _ = i.verify_mic(b"m", &data);
            let _ = unframe(&data);
            let _ = accept(&mut Acceptor::new(keytab(3)), &data, t(1_000_000));
        }
    }
}
