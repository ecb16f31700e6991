//! MS-NRPC 3.1.4.3-3.1.4.5: the secure channel's session key and the
//! credential chain, AES variant (the only one Adjoin negotiates).

use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::{Authenticator, Credential};

/// The 16-byte session key of a secure channel; zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey(Zeroizing<[u8; 16]>);

impl core::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

impl SessionKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// MS-NRPC 3.1.4.3.1 (AES): HMAC-SHA256 keyed with the NT hash of the
    /// machine password over ClientChallenge || ServerChallenge, first 16
    /// bytes.
    pub fn compute(nt_hash: &[u8; 16], client: &[u8; 8], server: &[u8; 8]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(nt_hash)
            .expect("HMAC accepts keys of any length");
        mac.update(client);
        mac.update(server);
        let mut full = mac.finalize().into_bytes();
        let mut key = [0; 16];
        key.copy_from_slice(&full[..16]);
        full.as_mut_slice().zeroize();
        Self::from_bytes(key)
    }

    /// The 128-bit AES cipher keyed with this session key.
    pub(crate) fn cipher(&self) -> Aes128 {
        Aes128::new_from_slice(&self.0[..]).expect("16-byte AES key")
    }
}

/// AES-128 in 8-bit cipher feedback mode (NIST SP 800-38A 6.3), encrypting
/// `data` in place from `iv`.
pub(crate) fn aes_cfb8_encrypt(cipher: &Aes128, iv: &[u8; 16], data: &mut [u8]) {
    let mut register = *iv;
    for byte in data {
        let mut block = register.into();
        cipher.encrypt_block(&mut block);
        *byte ^= block[0];
        register.copy_within(1.., 0);
        register[15] = *byte;
    }
    register.zeroize();
}

/// AES-128-CFB8 decryption in place (the inverse of [`aes_cfb8_encrypt`]).
pub(crate) fn aes_cfb8_decrypt(cipher: &Aes128, iv: &[u8; 16], data: &mut [u8]) {
    let mut register = *iv;
    for byte in data {
        let mut block = register.into();
        cipher.encrypt_block(&mut block);
        let ciphertext = *byte;
        *byte ^= block[0];
        register.copy_within(1.., 0);
        register[15] = ciphertext;
    }
    register.zeroize();
}

/// MS-NRPC 3.1.4.4.1 ComputeNetlogonCredential (AES): AES-128-CFB8 of the
/// 8-byte input with the session key and a zero IV.
pub fn compute_credential(input: &[u8; 8], key: &SessionKey) -> [u8; 8] {
    let mut out = *input;
    aes_cfb8_encrypt(&key.cipher(), &[0; 16], &mut out);
    out
}

/// The client side of the credential chain (MS-NRPC 3.1.4.5): the stored
/// credential that each authenticator advances.
#[derive(Clone)]
pub struct CredentialChain {
    key: SessionKey,
    stored: Zeroizing<[u8; 8]>,
}

impl core::fmt::Debug for CredentialChain {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CredentialChain(<redacted>)")
    }
}

/// The server's credential did not match what the session key predicts:
/// the DC holds another machine password (or is not the DC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the DC's credential does not match: it holds a different machine password")]
pub struct CredentialMismatch;

impl CredentialChain {
    /// MS-NRPC 3.1.4.1: from the machine password's NT hash and both
    /// challenges, the session key and the client credential to send.
    pub fn new(nt_hash: &[u8; 16], client: &[u8; 8], server: &[u8; 8]) -> (Self, Credential) {
        let key = SessionKey::compute(nt_hash, client, server);
        let credential = compute_credential(client, &key);
        let chain = Self {
            key,
            stored: Zeroizing::new(credential),
        };
        (chain, Credential { data: credential })
    }

    /// Checks the ServerCredential of NetrServerAuthenticate3 against the
    /// server challenge.
    pub fn verify_server(
        &self,
        server_challenge: &[u8; 8],
        received: &Credential,
    ) -> Result<(), CredentialMismatch> {
        matches(&compute_credential(server_challenge, &self.key), received)
    }

    /// The session key.
    pub fn session_key(&self) -> &SessionKey {
        &self.key
    }

    /// MS-NRPC 3.1.4.5 step 1: the next authenticator for a call at
    /// `timestamp` (seconds since 1970).
    pub fn next_authenticator(&mut self, timestamp: u32) -> Authenticator {
        let advanced = u32::from_le_bytes([
            self.stored[0],
            self.stored[1],
            self.stored[2],
            self.stored[3],
        ])
        .wrapping_add(timestamp);
        self.stored[..4].copy_from_slice(&advanced.to_le_bytes());
        Authenticator {
            credential: Credential {
                data: compute_credential(&self.stored, &self.key),
            },
            timestamp,
        }
    }

    /// MS-NRPC 3.1.4.5 step 2: checks the ReturnAuthenticator (the stored
    /// credential + 1) and advances the chain.
    pub fn verify_return(&mut self, ret: &Authenticator) -> Result<(), CredentialMismatch> {
        let mut next = *self.stored;
        let low = u32::from_le_bytes([next[0], next[1], next[2], next[3]]).wrapping_add(1);
        next[..4].copy_from_slice(&low.to_le_bytes());
        matches(&compute_credential(&next, &self.key), &ret.credential)?;
        *self.stored = next;
        Ok(())
    }
}

/// Compares a computed credential with a received one in constant time.
fn matches(expected: &[u8; 8], received: &Credential) -> Result<(), CredentialMismatch> {
    if bool::from(subtle::ConstantTimeEq::ct_eq(
        &expected[..],
        &received.data[..],
    )) {
        Ok(())
    } else {
        Err(CredentialMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NIST SP 800-38A F.3.7 CFB8-AES128.Encrypt.
    #[test]
    fn aes_cfb8_matches_nist_sp800_38a() {
        let key = SessionKey::from_bytes(
            *b"\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c",
        );
        let iv = *b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f";
        let mut data = *b"\x6b\xc1\xbe\xe2\x2e\x40\x9f\x96\xe9\x3d\x7e\x11\x73\x93\x17\x2a\xae\x2d";
        aes_cfb8_encrypt(&key.cipher(), &iv, &mut data);
        assert_eq!(
            data,
            *b"\x3b\x79\x42\x4c\x9c\x0d\xd4\x36\xba\xce\x9e\x0e\xd4\x58\x6a\x4f\x32\xb9"
        );
        aes_cfb8_decrypt(&key.cipher(), &iv, &mut data);
        assert_eq!(data[..2], [0x6b, 0xc1]);
        assert_eq!(data[16..], [0xae, 0x2d]);
    }

    #[test]
    fn chain_round_trip_between_client_and_server_views() {
        let hash = adjoin_auth::ntlm::nt_hash("machine password");
        let (client_c, server_c) = ([1; 8], [2; 8]);
        let (mut chain, cred) = CredentialChain::new(hash.as_bytes(), &client_c, &server_c);
        let key = SessionKey::compute(hash.as_bytes(), &client_c, &server_c);
        assert_eq!(cred.data, compute_credential(&client_c, &key));
        let server_cred = Credential {
            data: compute_credential(&server_c, &key),
        };
        chain.verify_server(&server_c, &server_cred).unwrap();
        assert_eq!(
            chain.verify_server(&server_c, &Credential { data: [0; 8] }),
            Err(CredentialMismatch)
        );
        // The server's view of the chain: stored + timestamp, then +1 back.
        let mut server_stored = cred.data;
        let auth = chain.next_authenticator(1000);
        let low = u32::from_le_bytes(server_stored[..4].try_into().unwrap()).wrapping_add(1000);
        server_stored[..4].copy_from_slice(&low.to_le_bytes());
        assert_eq!(
            auth.credential.data,
            compute_credential(&server_stored, &key)
        );
        let low = low.wrapping_add(1);
        server_stored[..4].copy_from_slice(&low.to_le_bytes());
        let ret = Authenticator {
            credential: Credential {
                data: compute_credential(&server_stored, &key),
            },
            timestamp: 0,
        };
        chain.verify_return(&ret).unwrap();
        assert!(chain.verify_return(&ret).is_err());
    }
}
