//! MS-SMB2 3.1.4.3 encryption and 3.2.5.1.1.1 / 3.3.5.2.1.1 decryption of whole
//! messages in a TRANSFORM_HEADER, with AES-128-CCM or AES-128-GCM (and, for 3.1.1,
//! AES-256-CCM or AES-256-GCM) under keys derived per direction (3.1.4.2): from a fixed
//! context for 3.0/3.0.2, from the session's pre-authentication hash for 3.1.1.

use std::sync::atomic::{AtomicU64, Ordering};

use adjoin_rpc::codec::Codec;
use aes::{Aes128, Aes256};
use aes_gcm::aead::{AeadCore, AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use ccm::Ccm;
use ccm::consts::{U11, U16};
use zeroize::Zeroizing;

use crate::error::SmbError;
use crate::proto::{
    Cipher, Dialect, TRANSFORM_AAD_AT, TRANSFORM_HEADER_LEN, TransformHeader, read_transform,
};
use crate::signing::{PreauthHash, kdf, kdf_256, key_16};

/// AES-128-CCM with SMB's 11-byte nonce and 16-byte tag.
type Aes128Ccm = Ccm<Aes128, U16, U11>;
/// AES-256-CCM, likewise.
type Aes256Ccm = Ccm<Aes256, U16, U11>;

/// Which side of the connection this is: the keys for sending and receiving swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client (encrypts with the client-to-server key).
    Client,
    /// The server.
    Server,
}

/// One session's encryption state. Sealing takes `&self` (the nonce counter is atomic),
/// so a server can seal a reply while it reads the session.
pub struct Encryptor {
    cipher: Cipher,
    /// 16 bytes for the AES-128 ciphers, 32 for AES-256.
    seal_key: Zeroizing<Vec<u8>>,
    open_key: Zeroizing<Vec<u8>>,
    /// Nonces are a per-key counter after a random prefix: never repeated under one key.
    nonce_prefix: [u8; 4],
    counter: AtomicU64,
}

impl core::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encryptor")
            .field("cipher", &self.cipher)
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    /// The ciphers the client offers, preferred first.
    pub const CIPHERS: [Cipher; 2] = [Cipher::AES128_GCM, Cipher::AES128_CCM];
    /// Every cipher this implementation can use (the server accepts any of them).
    pub const SUPPORTED: [Cipher; 4] = [
        Cipher::AES128_GCM,
        Cipher::AES128_CCM,
        Cipher::AES256_GCM,
        Cipher::AES256_CCM,
    ];

    /// Derives both directions' keys for a session of `dialect` with `cipher` (3.0 and
    /// 3.0.2 always use AES-128-CCM). `session_key` is the whole GSS session key: the
    /// AES-128 ciphers take its first 16 bytes (`Session.SessionKey`), the AES-256 ones
    /// all of it (`Session.FullSessionKey`, MS-SMB2 3.2.5.3.1 / 3.3.5.5.3) with L = 256.
    /// `nonce_prefix` must be random.
    pub fn derive(
        dialect: Dialect,
        cipher: Cipher,
        session_key: &[u8],
        preauth: &PreauthHash,
        side: Side,
        nonce_prefix: [u8; 4],
    ) -> Result<Self, SmbError> {
        if !Self::SUPPORTED.contains(&cipher) {
            return Err(SmbError::Negotiation(format!(
                "cipher {cipher} is not supported (AES-128/256-GCM/CCM are)"
            )));
        }
        let wide = cipher == Cipher::AES256_GCM || cipher == Cipher::AES256_CCM;
        let derive = |label: &[u8], context: &[u8]| -> Zeroizing<Vec<u8>> {
            if wide {
                Zeroizing::new(kdf_256(session_key, label, context).to_vec())
            } else {
                Zeroizing::new(kdf(&key_16(session_key)[..], label, context).to_vec())
            }
        };
        let (c2s, s2c) = if dialect == Dialect::SMB311 {
            (
                derive(b"SMBC2SCipherKey\0", preauth.value()),
                derive(b"SMBS2CCipherKey\0", preauth.value()),
            )
        } else if dialect.is_smb3() && !wide {
            (
                derive(b"SMB2AESCCM\0", b"ServerIn \0"),
                derive(b"SMB2AESCCM\0", b"ServerOut\0"),
            )
        } else {
            return Err(SmbError::Negotiation(format!(
                "{dialect} has no encryption with {cipher}"
            )));
        };
        let (seal_key, open_key) = match side {
            Side::Client => (c2s, s2c),
            Side::Server => (s2c, c2s),
        };
        Ok(Self {
            cipher,
            seal_key,
            open_key,
            nonce_prefix,
            counter: AtomicU64::new(0),
        })
    }

    /// The cipher.
    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    fn nonce_len(&self) -> usize {
        if self.cipher == Cipher::AES128_GCM || self.cipher == Cipher::AES256_GCM {
            12
        } else {
            11
        }
    }

    /// Wraps one message for `session_id` (MS-SMB2 3.1.4.3).
    pub fn seal(&self, session_id: u64, message: &[u8]) -> Result<Vec<u8>, SmbError> {
        let counter = self
            .counter
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_add(1))
            .map_err(|_| SmbError::Signature("the encryption nonce space is exhausted"))?
            + 1;
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&counter.to_le_bytes());
        nonce[8..self.nonce_len()].copy_from_slice(&self.nonce_prefix[..self.nonce_len() - 8]);
        let header = TransformHeader {
            signature: [0; 16],
            nonce,
            original_message_size: u32::try_from(message.len())
                .map_err(|_| SmbError::TooLarge { len: message.len() })?,
            flags: TransformHeader::ENCRYPTED,
            session_id,
        };
        let mut out = Vec::with_capacity(TRANSFORM_HEADER_LEN + message.len());
        header.encode(&mut out);
        out.extend_from_slice(message);
        let (head, body) = out.split_at_mut(TRANSFORM_HEADER_LEN);
        let tag = self.run(&self.seal_key, &head[TRANSFORM_AAD_AT..], body, None)?;
        head[4..20].copy_from_slice(&tag);
        Ok(out)
    }

    /// Unwraps a received TRANSFORM message; the session id must be `session_id`.
    pub fn open(&self, session_id: u64, msg: &[u8]) -> Result<Vec<u8>, SmbError> {
        self.open_owned(session_id, msg.to_vec())
    }

    /// [`Encryptor::open`] decrypting in place: `msg`'s buffer becomes the plain message,
    /// so a large message is not held twice.
    pub fn open_owned(&self, session_id: u64, mut msg: Vec<u8>) -> Result<Vec<u8>, SmbError> {
        let (header, _) = read_transform(&msg)?;
        if header.session_id != session_id {
            return Err(SmbError::Malformed {
                what: "SMB2 TRANSFORM_HEADER",
                why: "an encrypted message for another session",
            });
        }
        let (head, body) = msg.split_at_mut(TRANSFORM_HEADER_LEN);
        self.run(
            &self.open_key,
            &head[TRANSFORM_AAD_AT..],
            body,
            Some(header.signature),
        )?;
        msg.drain(..TRANSFORM_HEADER_LEN);
        Ok(msg)
    }

    /// Encrypts (`tag` None, returning the tag) or decrypts and verifies in place.
    fn run(
        &self,
        key: &[u8],
        header_aad: &[u8],
        data: &mut [u8],
        tag: Option<[u8; 16]>,
    ) -> Result<[u8; 16], SmbError> {
        let nonce = &header_aad[..self.nonce_len()];
        match self.cipher {
            Cipher::AES128_GCM => aead::<Aes128Gcm>(key, nonce, header_aad, data, tag),
            Cipher::AES256_GCM => aead::<Aes256Gcm>(key, nonce, header_aad, data, tag),
            Cipher::AES256_CCM => aead::<Aes256Ccm>(key, nonce, header_aad, data, tag),
            _ => aead::<Aes128Ccm>(key, nonce, header_aad, data, tag),
        }
    }
}

/// One AEAD operation of cipher `A`: encrypts `data` in place and returns the tag
/// (`tag` None), or checks `tag` and decrypts in place.
fn aead<A: KeyInit + AeadInOut + AeadCore<TagSize = U16>>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag: Option<[u8; 16]>,
) -> Result<[u8; 16], SmbError> {
    let cipher = A::new_from_slice(key).map_err(|_| SmbError::Signature("bad key length"))?;
    let nonce = nonce
        .try_into()
        .map_err(|_| SmbError::Signature("bad nonce"))?;
    let failed = |_| SmbError::Signature("the encrypted message does not authenticate");
    match tag {
        None => Ok(cipher
            .encrypt_inout_detached(nonce, aad, data.into())
            .map_err(failed)?
            .into()),
        Some(t) => cipher
            .decrypt_inout_detached(nonce, aad, data.into(), &t.into())
            .map(|()| t)
            .map_err(failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dialect: Dialect, cipher: Cipher) -> (Encryptor, Encryptor) {
        let preauth = PreauthHash::default();
        let key = [0x5a; 16];
        (
            Encryptor::derive(dialect, cipher, &key, &preauth, Side::Client, [1; 4]).unwrap(),
            Encryptor::derive(dialect, cipher, &key, &preauth, Side::Server, [2; 4]).unwrap(),
        )
    }

    #[test]
    fn both_sides_open_what_the_other_seals_and_refuse_tampering() {
        for (dialect, cipher) in [
            (Dialect::SMB300, Cipher::AES128_CCM),
            (Dialect::SMB311, Cipher::AES128_CCM),
            (Dialect::SMB311, Cipher::AES128_GCM),
            (Dialect::SMB311, Cipher::AES256_CCM),
            (Dialect::SMB311, Cipher::AES256_GCM),
        ] {
            let (client, server) = pair(dialect, cipher);
            let sealed = client.seal(7, b"\xfeSMB a message").unwrap();
            assert_eq!(sealed.len(), TRANSFORM_HEADER_LEN + 14);
            assert_ne!(&sealed[TRANSFORM_HEADER_LEN..], b"\xfeSMB a message");
            assert_eq!(server.open(7, &sealed).unwrap(), b"\xfeSMB a message");
            // Its own key does not open it: the directions differ.
            assert!(client.open(7, &sealed).is_err());
            let reply = server.seal(7, b"reply").unwrap();
            assert_eq!(client.open(7, &reply).unwrap(), b"reply");
            for at in [10, 30, 50, TRANSFORM_HEADER_LEN + 1] {
                let mut bad = sealed.clone();
                bad[at] ^= 1;
                assert!(
                    server.open(7, &bad).is_err(),
                    "{dialect} {cipher} byte {at}"
                );
            }
            assert!(server.open(8, &sealed).is_err());
        }
    }

    #[test]
    fn nonces_never_repeat() {
        let (client, _) = pair(Dialect::SMB311, Cipher::AES128_GCM);
        let a = client.seal(1, b"x").unwrap();
        let b = client.seal(1, b"x").unwrap();
        assert_ne!(a[20..36], b[20..36]);
        assert_ne!(a, b);
    }

    #[test]
    fn smb2_dialects_and_unknown_ciphers_are_refused() {
        let p = PreauthHash::default();
        let derive = |dialect, cipher| {
            Encryptor::derive(dialect, cipher, &[0; 16], &p, Side::Client, [0; 4])
        };
        assert!(derive(Dialect::SMB210, Cipher::AES128_CCM).is_err());
        // AES-256 is a 3.1.1 cipher (3.0.x negotiate no cipher, and use AES-128-CCM).
        assert!(derive(Dialect::SMB302, Cipher::AES256_GCM).is_err());
        assert!(derive(Dialect::SMB311, Cipher::new(9)).is_err());
    }

    #[test]
    fn aes_256_keys_come_from_the_full_session_key() {
        // MS-SMB2 3.3.5.5.3: Session.FullSessionKey (a Kerberos AES-256 key is 32 bytes)
        // derives the AES-256 keys with L = 256; the AES-128 keys only see 16 bytes.
        let p = PreauthHash::default();
        let mut long = [0x11; 32];
        let derive = |cipher, key: &[u8], side| {
            Encryptor::derive(Dialect::SMB311, cipher, key, &p, side, [3; 4]).unwrap()
        };
        let sealed = derive(Cipher::AES256_GCM, &long, Side::Client)
            .seal(1, b"m")
            .unwrap();
        assert_eq!(
            derive(Cipher::AES256_GCM, &long, Side::Server)
                .open(1, &sealed)
                .unwrap(),
            b"m"
        );
        let key = derive(Cipher::AES256_GCM, &long, Side::Server);
        assert_eq!(key.seal_key.len(), 32);
        long[31] ^= 1;
        assert!(
            derive(Cipher::AES256_GCM, &long, Side::Server)
                .open(1, &sealed)
                .is_err()
        );
        // For AES-128 the bytes past 16 do not count.
        let sealed = derive(Cipher::AES128_GCM, &long, Side::Client)
            .seal(1, b"m")
            .unwrap();
        long[31] ^= 1;
        assert!(
            derive(Cipher::AES128_GCM, &long, Side::Server)
                .open(1, &sealed)
                .is_ok()
        );
        // L is part of the KDF's input: the 256-bit key does not extend the 128-bit one.
        assert_ne!(
            kdf_256(&long, b"SMBS2CCipherKey\0", p.value())[..16],
            kdf(&long, b"SMBS2CCipherKey\0", p.value())[..]
        );
    }
}
