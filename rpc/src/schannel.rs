//! MS-NRPC 3.3 the Netlogon security support provider ("Schannel" in
//! Samba's words, auth_type 68): per-packet signing and sealing of DCE/RPC
//! calls with the secure channel's session key, AES variant (3.3.4.2).
//!
//! ```text
//! NL_AUTH_SHA2_SIGNATURE (56 bytes, the PDU's auth value):
//! SignatureAlgorithm u16 (0x0013 HMAC-SHA256) | SealAlgorithm u16 (0x001A AES-128 or 0xFFFF)
//! Pad u16 (0xFFFF) | Flags u16 (0) | SequenceNumber [8] (encrypted)
//! Checksum [8] | Confounder [8] (encrypted; zero when not sealing) | 24 zero bytes
//! ```
//!
//! MS-NRPC 2.2.1.3.3 gives Checksum 32 bytes and the confounder after it;
//! Windows (and so Samba, `netsec_offset_and_sizes`) put the 8 used
//! checksum bytes and then the confounder at offset 24, and pad the
//! structure to 56 bytes. Interoperability wins.
//!
//! One sequence counter counts the packets of both directions; the
//! initiator's sequence numbers carry the 0x80 flag in byte 4
//! (MS-NRPC 3.3.4.2.1 step 3).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::netlogon::credential::{SessionKey, aes_cfb8_decrypt, aes_cfb8_encrypt};

/// Length of the AES signature (the auth value of every protected PDU).
pub const SIGNATURE_LEN: usize = 56;

/// Where the confounder sits in the signature.
const CONFOUNDER_AT: usize = 24;

const SIGN_HMAC_SHA256: u16 = 0x0013;
const SEAL_AES128: u16 = 0x001a;
const SEAL_NONE: u16 = 0xffff;

/// MS-NRPC 2.2.1.3.1 NL_AUTH_MESSAGE flags: which names follow.
const NL_FLAG_OEM_NETBIOS_DOMAIN_NAME: u32 = 0x1;
const NL_FLAG_OEM_NETBIOS_COMPUTER_NAME: u32 = 0x2;

/// A protected PDU that fails its checks (the binding must be dropped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchannelError {
    /// The auth value is not a 32-byte AES signature.
    #[error("Netlogon signature of {len} bytes (expected {SIGNATURE_LEN})")]
    SignatureLength {
        /// Its length.
        len: usize,
    },
    /// The algorithms named are not the ones negotiated.
    #[error("Netlogon signature names algorithms {sign:#06x}/{seal:#06x}, not AES")]
    Algorithm {
        /// SignatureAlgorithm.
        sign: u16,
        /// SealAlgorithm.
        seal: u16,
    },
    /// The checksum does not match the data: tampered, or another key.
    #[error("Netlogon signature checksum does not match (tampered or wrong session key)")]
    Checksum,
    /// The sequence number is not the next expected one (replay or loss).
    #[error("Netlogon signature has the wrong sequence number (replayed or reordered packet)")]
    Sequence,
    /// The bind reply's NL_AUTH_MESSAGE is not a negotiate response.
    #[error("the DC's Netlogon bind reply is malformed")]
    BindReply,
}

/// MS-NRPC 2.2.1.3.1 NL_AUTH_MESSAGE, the bind's auth value: a negotiate
/// request naming the NetBIOS domain and computer (OEM, NUL-terminated).
pub fn negotiate_message(netbios_domain: &str, netbios_computer: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + netbios_domain.len() + netbios_computer.len());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(
        &(NL_FLAG_OEM_NETBIOS_DOMAIN_NAME | NL_FLAG_OEM_NETBIOS_COMPUTER_NAME).to_le_bytes(),
    );
    for name in [netbios_domain, netbios_computer] {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
    }
    out
}

/// Checks the bind_ack's NL_AUTH_MESSAGE: MessageType 1 (negotiate
/// response).
pub fn check_negotiate_reply(token: &[u8]) -> Result<(), SchannelError> {
    match token.get(..4) {
        Some([1, 0, 0, 0]) => Ok(()),
        _ => Err(SchannelError::BindReply),
    }
}

/// One side of a Schannel-protected binding.
pub struct Schannel {
    key: SessionKey,
    seal_key: SessionKey,
    sequence: u64,
    initiator: bool,
    seal: bool,
}

impl core::fmt::Debug for Schannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Schannel")
            .field("sequence", &self.sequence)
            .field("initiator", &self.initiator)
            .field("seal", &self.seal)
            .finish_non_exhaustive()
    }
}

impl Schannel {
    /// A context for the client (`initiator`) or server side; `seal` for
    /// auth level privacy, otherwise integrity only.
    pub fn new(key: SessionKey, initiator: bool, seal: bool) -> Self {
        let mut xored = Zeroizing::new(*key.as_bytes());
        for b in xored.iter_mut() {
            *b ^= 0xf0;
        }
        let seal_key = SessionKey::from_bytes(*xored);
        Self {
            key,
            seal_key,
            sequence: 0,
            initiator,
            seal,
        }
    }

    fn sequence_bytes(&self, from_initiator: bool) -> [u8; 8] {
        let mut out = [0; 8];
        out[..4].copy_from_slice(&(self.sequence as u32).to_be_bytes());
        let mut high = (self.sequence >> 32) as u32;
        if from_initiator {
            high |= 0x8000_0000;
        }
        out[4..].copy_from_slice(&high.to_be_bytes());
        out
    }

    fn header(&self) -> [u8; 8] {
        let seal = if self.seal { SEAL_AES128 } else { SEAL_NONE };
        let mut h = [0; 8];
        h[..2].copy_from_slice(&SIGN_HMAC_SHA256.to_le_bytes());
        h[2..4].copy_from_slice(&seal.to_le_bytes());
        h[4..6].copy_from_slice(&0xffffu16.to_le_bytes());
        h
    }

    fn checksum(&self, header: &[u8; 8], confounder: Option<&[u8; 8]>, data: &[u8]) -> [u8; 8] {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(self.key.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(header);
        if let Some(c) = confounder {
            mac.update(c);
        }
        mac.update(data);
        let full = mac.finalize().into_bytes();
        let mut out = [0; 8];
        out.copy_from_slice(&full[..8]);
        out
    }

    fn seal_iv(sequence: &[u8; 8]) -> [u8; 16] {
        let mut iv = [0; 16];
        iv[..8].copy_from_slice(sequence);
        iv[8..].copy_from_slice(sequence);
        iv
    }

    /// Signs `data` (the stub and its padding) and, at privacy level,
    /// encrypts it in place; returns the signature for the auth value.
    pub fn protect(&mut self, data: &mut [u8]) -> Result<[u8; SIGNATURE_LEN], getrandom::Error> {
        let mut confounder = Zeroizing::new([0u8; 8]);
        if self.seal {
            getrandom::fill(&mut confounder[..])?;
        }
        Ok(self.protect_with_confounder(data, &mut confounder))
    }

    fn protect_with_confounder(
        &mut self,
        data: &mut [u8],
        confounder: &mut [u8; 8],
    ) -> [u8; SIGNATURE_LEN] {
        let header = self.header();
        let mut sequence = self.sequence_bytes(self.initiator);
        let checksum = self.checksum(&header, self.seal.then_some(&*confounder), data);
        if self.seal {
            // MS-NRPC 3.3.4.2.1 step 8: the confounder, then the data, as
            // one AES-CFB8 stream from the sequence-number IV (checked
            // against Samba 4.17's DC, which refuses anything else).
            let mut stream = Zeroizing::new(Vec::with_capacity(8 + data.len()));
            stream.extend_from_slice(&confounder[..]);
            stream.extend_from_slice(data);
            aes_cfb8_encrypt(
                &self.seal_key.cipher(),
                &Self::seal_iv(&sequence),
                &mut stream,
            );
            confounder.copy_from_slice(&stream[..8]);
            data.copy_from_slice(&stream[8..]);
        }
        aes_cfb8_encrypt(&self.key.cipher(), &Self::seal_iv(&checksum), &mut sequence);
        self.sequence += 1;
        let mut sig = [0; SIGNATURE_LEN];
        sig[..8].copy_from_slice(&header);
        sig[8..16].copy_from_slice(&sequence);
        sig[16..24].copy_from_slice(&checksum);
        if self.seal {
            sig[CONFOUNDER_AT..CONFOUNDER_AT + 8].copy_from_slice(confounder);
        }
        sig
    }

    /// Checks a received signature over `data` and, at privacy level,
    /// decrypts `data` in place first (MS-NRPC 3.3.4.2.2).
    pub fn unprotect(&mut self, data: &mut [u8], signature: &[u8]) -> Result<(), SchannelError> {
        let sig: &[u8; SIGNATURE_LEN] =
            signature
                .try_into()
                .map_err(|_| SchannelError::SignatureLength {
                    len: signature.len(),
                })?;
        let header = self.header();
        if sig[..4] != header[..4] {
            return Err(SchannelError::Algorithm {
                sign: u16::from_le_bytes([sig[0], sig[1]]),
                seal: u16::from_le_bytes([sig[2], sig[3]]),
            });
        }
        let expected_sequence = self.sequence_bytes(!self.initiator);
        let mut confounder = Zeroizing::new([0u8; 8]);
        if self.seal {
            let mut stream = Zeroizing::new(Vec::with_capacity(8 + data.len()));
            stream.extend_from_slice(&sig[CONFOUNDER_AT..CONFOUNDER_AT + 8]);
            stream.extend_from_slice(data);
            aes_cfb8_decrypt(
                &self.seal_key.cipher(),
                &Self::seal_iv(&expected_sequence),
                &mut stream,
            );
            confounder.copy_from_slice(&stream[..8]);
            data.copy_from_slice(&stream[8..]);
        }
        let checksum = self.checksum(&header, self.seal.then_some(&*confounder), data);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&checksum[..], &sig[16..24])) {
            return Err(SchannelError::Checksum);
        }
        let mut sequence = [0; 8];
        sequence.copy_from_slice(&sig[8..16]);
        aes_cfb8_decrypt(&self.key.cipher(), &Self::seal_iv(&checksum), &mut sequence);
        if sequence != expected_sequence {
            return Err(SchannelError::Sequence);
        }
        self.sequence += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(seal: bool) -> (Schannel, Schannel) {
        let key = SessionKey::from_bytes([7; 16]);
        (
            Schannel::new(key.clone(), true, seal),
            Schannel::new(key, false, seal),
        )
    }

    #[test]
    fn sealed_round_trip_both_directions() {
        let (mut client, mut server) = pair(true);
        for round in 0..3u8 {
            let plain = vec![round; 40];
            let mut data = plain.clone();
            let sig = client.protect(&mut data).unwrap();
            assert_ne!(data, plain);
            assert_eq!(sig[..8], [0x13, 0, 0x1a, 0, 0xff, 0xff, 0, 0]);
            server.unprotect(&mut data, &sig).unwrap();
            assert_eq!(data, plain);
            let sig = server.protect(&mut data).unwrap();
            client.unprotect(&mut data, &sig).unwrap();
            assert_eq!(data, plain);
        }
    }

    #[test]
    fn signed_only_leaves_data_in_clear() {
        let (mut client, mut server) = pair(false);
        let mut data = b"stub data".to_vec();
        let sig = client.protect(&mut data).unwrap();
        assert_eq!(data, b"stub data");
        assert_eq!(sig[24..], [0; 32]);
        server.unprotect(&mut data, &sig).unwrap();
    }

    #[test]
    fn tampering_replay_and_reflection_are_refused() {
        let (mut client, mut server) = pair(true);
        let mut data = vec![1; 16];
        let sig = client.protect(&mut data).unwrap();
        let mut tampered = data.clone();
        tampered[3] ^= 1;
        let mut s2 = Schannel::new(SessionKey::from_bytes([7; 16]), false, true);
        assert_eq!(
            s2.unprotect(&mut tampered, &sig),
            Err(SchannelError::Checksum)
        );
        let mut copy = data.clone();
        server.unprotect(&mut copy, &sig).unwrap();
        // The same packet again is out of sequence.
        let mut again = data.clone();
        assert!(server.unprotect(&mut again, &sig).is_err());
        // A client packet reflected back to the client fails the direction flag.
        let mut c2 = Schannel::new(SessionKey::from_bytes([7; 16]), true, true);
        let mut reflected = data;
        assert!(c2.unprotect(&mut reflected, &sig).is_err());
        assert_eq!(
            server.unprotect(&mut [0; 4], &[0; 8]),
            Err(SchannelError::SignatureLength { len: 8 })
        );
    }

    #[test]
    fn negotiate_message_layout() {
        assert_eq!(
            negotiate_message("EXAMPLE", "FOO"),
            b"\0\0\0\0\x03\0\0\0EXAMPLE\0FOO\0".to_vec()
        );
        check_negotiate_reply(&[1, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert!(check_negotiate_reply(&[0, 0]).is_err());
    }
}
