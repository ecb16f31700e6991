//! MS-SMB2 3.1.4.1 message signing and 3.1.4.2 key derivation: HMAC-SHA256 for
//! dialects 2.0.2/2.1, AES-128-CMAC with SP800-108 derived keys for 3.x, and the
//! SMB 3.1.1 pre-authentication integrity hash (3.2.5.2, 3.3.5.4) those keys bind to.

use aes::Aes128;
use cmac::Cmac;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::error::SmbError;
use crate::proto::{Dialect, HEADER_LEN, HeaderFlags, SIGNATURE_AT};

/// SP800-108 KDF in counter mode with HMAC-SHA256, r = 32, L = 128 (MS-SMB2 3.1.4.2):
/// `HMAC(Ki, [1]_4 || Label || 0x00 || Context || [128]_4)`, first 16 bytes.
pub fn kdf(key: &[u8], label: &[u8], context: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(&1u32.to_be_bytes());
    mac.update(label);
    mac.update(&[0]);
    mac.update(context);
    mac.update(&128u32.to_be_bytes());
    let mut full = mac.finalize().into_bytes();
    let mut out = Zeroizing::new([0; 16]);
    out.copy_from_slice(&full[..16]);
    full.as_mut_slice().zeroize();
    out
}

/// SMB 3.1.1 pre-authentication integrity: SHA-512 over the connection's NEGOTIATE
/// pair and then each SESSION_SETUP exchanged before the session is established.
#[derive(Clone)]
pub struct PreauthHash([u8; 64]);

impl core::fmt::Debug for PreauthHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PreauthHash(..)")
    }
}

impl Default for PreauthHash {
    fn default() -> Self {
        Self([0; 64])
    }
}

impl PreauthHash {
    /// `H(i) = SHA-512(H(i-1) || message)`.
    pub fn update(&mut self, message: &[u8]) {
        let mut h = Sha512::new();
        h.update(self.0);
        h.update(message);
        self.0.copy_from_slice(&h.finalize());
    }

    /// The current value.
    pub fn value(&self) -> &[u8; 64] {
        &self.0
    }
}

/// A session's signing key with its algorithm.
#[derive(Clone)]
pub enum Signer {
    /// Dialects 2.0.2 and 2.1: HMAC-SHA256 keyed with the session key.
    HmacSha256(Zeroizing<[u8; 16]>),
    /// Dialects 3.x: AES-128-CMAC keyed with the derived signing key.
    AesCmac(Zeroizing<[u8; 16]>),
}

impl core::fmt::Debug for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::HmacSha256(_) => f.write_str("Signer::HmacSha256(<redacted>)"),
            Self::AesCmac(_) => f.write_str("Signer::AesCmac(<redacted>)"),
        }
    }
}

impl Signer {
    /// The signer for a session of `dialect` whose GSS session key is `session_key`
    /// (only its first 16 bytes count: MS-SMB2 3.2.5.3.1 truncates longer Kerberos keys
    /// and pads shorter ones with zeros). `preauth` is the session's pre-authentication
    /// hash, used by 3.1.1 only.
    pub fn derive(dialect: Dialect, session_key: &[u8], preauth: &PreauthHash) -> Self {
        let mut key = Zeroizing::new([0u8; 16]);
        let n = session_key.len().min(16);
        key[..n].copy_from_slice(&session_key[..n]);
        if dialect == Dialect::SMB311 {
            Self::AesCmac(kdf(&key[..], b"SMBSigningKey\0", preauth.value()))
        } else if dialect.is_smb3() {
            Self::AesCmac(kdf(&key[..], b"SMB2AESCMAC\0", b"SmbSign\0"))
        } else {
            Self::HmacSha256(key)
        }
    }

    fn mac(&self, message: &[u8]) -> [u8; 16] {
        let zero = [0u8; 16];
        let (head, rest) = message.split_at(SIGNATURE_AT);
        let tail = &rest[16..];
        let mut out = [0; 16];
        match self {
            Self::HmacSha256(key) => {
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key[..])
                    .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
                mac.update(head);
                mac.update(&zero);
                mac.update(tail);
                out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
            }
            Self::AesCmac(key) => {
                let mut mac = <Cmac<Aes128> as KeyInit>::new_from_slice(&key[..])
                    .unwrap_or_else(|_| unreachable!("the key is 16 bytes"));
                mac.update(head);
                mac.update(&zero);
                mac.update(tail);
                out.copy_from_slice(&mac.finalize().into_bytes());
            }
        }
        out
    }

    /// Sets SMB2_FLAGS_SIGNED in `message` (one whole message, header first) and
    /// writes its signature (MS-SMB2 3.1.4.1).
    pub fn sign(&self, message: &mut [u8]) {
        if message.len() < HEADER_LEN {
            return;
        }
        let flags = u32::from_le_bytes([message[16], message[17], message[18], message[19]])
            | HeaderFlags::SIGNED.bits();
        message[16..20].copy_from_slice(&flags.to_le_bytes());
        let sig = self.mac(message);
        message[SIGNATURE_AT..SIGNATURE_AT + 16].copy_from_slice(&sig);
    }

    /// Checks the signature of a received message (MS-SMB2 3.2.5.1.3).
    pub fn verify(&self, message: &[u8]) -> Result<(), SmbError> {
        if message.len() < HEADER_LEN {
            return Err(SmbError::Signature("message shorter than its header"));
        }
        let expected = self.mac(message);
        let got = &message[SIGNATURE_AT..SIGNATURE_AT + 16];
        if subtle::ConstantTimeEq::ct_eq(&expected[..], got).into() {
            Ok(())
        } else {
            Err(SmbError::Signature("the signature does not verify"))
        }
    }
}

#[cfg(test)]
mod tests {
    use adjoin_rpc::codec::Codec;

    use super::*;
    use crate::proto::{Command, Header};

    fn message() -> Vec<u8> {
        let mut h = Header::request(Command::ECHO);
        h.message_id = 5;
        h.session_id = 0x1000_0000_0001;
        let mut m = h.to_bytes();
        m.extend_from_slice(&[4, 0, 0, 0]);
        m
    }

    #[test]
    fn signatures_verify_and_tampering_is_caught() {
        for dialect in [Dialect::SMB210, Dialect::SMB300, Dialect::SMB311] {
            let signer = Signer::derive(dialect, &[0x42; 16], &PreauthHash::default());
            let mut m = message();
            signer.sign(&mut m);
            assert_ne!(m[16] & 8, 0, "SIGNED flag set");
            signer.verify(&m).unwrap();
            let mut bad = m.clone();
            *bad.last_mut().unwrap() ^= 1;
            assert!(signer.verify(&bad).is_err(), "{dialect}");
            let other = Signer::derive(dialect, &[0x43; 16], &PreauthHash::default());
            assert!(other.verify(&m).is_err());
        }
        assert!(Signer::derive(Dialect::SMB300, &[1; 16], &PreauthHash::default())
            .verify(&[0; 10])
            .is_err());
    }

    #[test]
    fn preauth_hash_chains_sha512() {
        let mut h = PreauthHash::default();
        h.update(b"abc");
        let mut expect = Sha512::new();
        expect.update([0u8; 64]);
        expect.update(b"abc");
        assert_eq!(&h.value()[..], &expect.finalize()[..]);
    }
}
