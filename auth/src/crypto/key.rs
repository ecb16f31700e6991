//! A Kerberos protocol key and the RFC 3961 section 3 operations on it:
//! encrypt, decrypt, get_mic, verify_mic, pseudo-random, random-to-key.

use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::cts::BLOCK;
use super::error::CryptoError;
use super::primitives::{macs_equal, os_random};
use super::types::{ChecksumType, EncryptionType, KeyUsage, Profile};
use super::{aes_sha1, aes_sha2, rc4_hmac};

/// A protocol key (RFC 3961 section 3): the encryption type and its bytes.
///
/// The bytes are zeroized on drop and never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key {
    #[zeroize(skip)]
    etype: EncryptionType,
    bytes: Vec<u8>,
}

impl Key {
    /// Wraps key bytes (for example from a keytab or an EncryptionKey),
    /// checking their length against the encryption type.
    pub fn new(etype: EncryptionType, bytes: &[u8]) -> Result<Self, CryptoError> {
        let expected = etype
            .key_length()
            .ok_or(CryptoError::UnsupportedEtype { etype })?;
        if bytes.len() != expected {
            return Err(CryptoError::BadKeyLength {
                etype,
                len: bytes.len(),
                expected,
            });
        }
        Ok(Self {
            etype,
            bytes: bytes.to_vec(),
        })
    }

    /// RFC 3961 section 3 `random-to-key`: the identity for every etype
    /// here (RFC 3962 section 6, RFC 8009 section 5, RFC 4757), so the
    /// random input must be exactly one key long.
    pub fn from_random(etype: EncryptionType, random: &[u8]) -> Result<Self, CryptoError> {
        Self::new(etype, random)
    }

    /// A fresh random key (session keys, subkeys) from the OS random source.
    pub fn generate(etype: EncryptionType) -> Result<Self, CryptoError> {
        let mut random = vec![
            0u8;
            etype
                .key_length()
                .ok_or(CryptoError::UnsupportedEtype { etype })?
        ];
        os_random(&mut random)?;
        let key = Self::new(etype, &random);
        random.zeroize();
        key
    }

    /// A fresh random key drawn from `rng`.
    pub fn generate_with_rng<R: CryptoRng + ?Sized>(
        etype: EncryptionType,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let mut random = vec![
            0u8;
            etype
                .key_length()
                .ok_or(CryptoError::UnsupportedEtype { etype })?
        ];
        rng.fill_bytes(&mut random);
        let key = Self::new(etype, &random);
        random.zeroize();
        key
    }

    /// The key's encryption type.
    pub fn etype(&self) -> EncryptionType {
        self.etype
    }

    /// The raw key bytes (for keytab and ccache files).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Encrypts with a confounder from the operating system's random source.
    pub fn encrypt(&self, usage: KeyUsage, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut confounder = [0u8; BLOCK];
        let confounder = &mut confounder[..self.confounder_length()?];
        os_random(confounder)?;
        self.encrypt_with_confounder(usage, confounder, plaintext)
    }

    /// Encrypts with a confounder drawn from `rng` (sans-IO callers and
    /// deterministic tests).
    pub fn encrypt_with_rng<R: CryptoRng + ?Sized>(
        &self,
        usage: KeyUsage,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut confounder = [0u8; BLOCK];
        let confounder = &mut confounder[..self.confounder_length()?];
        rng.fill_bytes(confounder);
        self.encrypt_with_confounder(usage, confounder, plaintext)
    }

    /// Encrypts with the given confounder (16 bytes for AES, 8 for RC4).
    ///
    /// Only for known-answer tests: reusing a confounder weakens RC4 badly.
    pub fn encrypt_with_confounder(
        &self,
        usage: KeyUsage,
        confounder: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let expected = self.confounder_length()?;
        if confounder.len() != expected {
            return Err(CryptoError::BadConfounderLength {
                len: confounder.len(),
                expected,
            });
        }
        let (etype, key) = (self.etype, self.bytes.as_slice());
        match self.profile()? {
            Profile::AesSha1 => aes_sha1::encrypt(etype, key, usage, confounder, plaintext),
            Profile::AesSha2 => aes_sha2::encrypt(etype, key, usage, confounder, plaintext),
            Profile::Rc4Hmac => Ok(rc4_hmac::encrypt(key, usage, confounder, plaintext)),
        }
    }

    /// Decrypts and checks integrity; returns the plaintext.
    ///
    /// Any input is safe: short or tampered ciphertext gives an error.
    pub fn decrypt(&self, usage: KeyUsage, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (etype, key) = (self.etype, self.bytes.as_slice());
        match self.profile()? {
            Profile::AesSha1 => aes_sha1::decrypt(etype, key, usage, ciphertext),
            Profile::AesSha2 => aes_sha2::decrypt(etype, key, usage, ciphertext),
            Profile::Rc4Hmac => rc4_hmac::decrypt(key, usage, ciphertext),
        }
    }

    /// RFC 3961 section 4 `get_mic`: the keyed checksum of `data`.
    ///
    /// `cksumtype` must be the one keyed from this key's etype (see
    /// [`EncryptionType::checksum_type`]).
    pub fn get_mic(
        &self,
        usage: KeyUsage,
        cksumtype: ChecksumType,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_cksumtype(cksumtype)?;
        let (etype, key) = (self.etype, self.bytes.as_slice());
        match self.profile()? {
            Profile::AesSha1 => aes_sha1::checksum(etype, key, usage, data),
            Profile::AesSha2 => aes_sha2::checksum(etype, key, usage, data),
            Profile::Rc4Hmac => Ok(rc4_hmac::checksum(key, usage, data)),
        }
    }

    /// RFC 3961 section 4 `verify_mic`, comparing in constant time.
    pub fn verify_mic(
        &self,
        usage: KeyUsage,
        cksumtype: ChecksumType,
        data: &[u8],
        mic: &[u8],
    ) -> Result<(), CryptoError> {
        let computed = self.get_mic(usage, cksumtype, data)?;
        match macs_equal(&computed, mic) {
            true => Ok(()),
            false => Err(CryptoError::ChecksumMismatch),
        }
    }

    /// RFC 3961 section 3 `pseudo-random`: 16 bytes for the AES-SHA1 etypes,
    /// 32 or 48 for the AES-SHA2 etypes, 20 for RC4.
    pub fn prf(&self, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (etype, key) = (self.etype, self.bytes.as_slice());
        match self.profile()? {
            Profile::AesSha1 => aes_sha1::prf(etype, key, input),
            Profile::AesSha2 => aes_sha2::prf(etype, key, input),
            Profile::Rc4Hmac => Ok(rc4_hmac::prf(key, input)),
        }
    }

    fn profile(&self) -> Result<Profile, CryptoError> {
        self.etype
            .profile()
            .ok_or(CryptoError::UnsupportedEtype { etype: self.etype })
    }

    fn confounder_length(&self) -> Result<usize, CryptoError> {
        let etype = self.etype;
        etype
            .confounder_length()
            .ok_or(CryptoError::UnsupportedEtype { etype })
    }

    fn check_cksumtype(&self, cksumtype: ChecksumType) -> Result<(), CryptoError> {
        match cksumtype.etype() {
            None => Err(CryptoError::UnsupportedChecksumType { cksumtype }),
            Some(etype) if etype == self.etype => Ok(()),
            Some(_) => Err(CryptoError::ChecksumKeyMismatch {
                cksumtype,
                etype: self.etype,
            }),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("etype", &self.etype)
            .field("bytes", &"<redacted>")
            .finish()
    }
}

/// Keys compare in constant time.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.etype == other.etype && bool::from(self.bytes.ct_eq(&other.bytes))
    }
}

impl Eq for Key {}

/// RFC 3961 section 3 `random-to-key`; see [`Key::from_random`].
pub fn random_to_key(etype: EncryptionType, random: &[u8]) -> Result<Key, CryptoError> {
    Key::from_random(etype, random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::{CountingRng, unhex};

    #[test]
    fn debug_never_prints_key_bytes() {
        let key = Key::new(EncryptionType::RC4_HMAC, &[0xAB; 16]).expect("key");
        let shown = format!("{key:?}");
        assert_eq!(shown, r#"Key { etype: RC4_HMAC, bytes: "<redacted>" }"#);
        assert!(!shown.to_lowercase().contains("ab, "));
    }

    #[test]
    fn key_length_is_checked() {
        let etype = EncryptionType::AES256_CTS_HMAC_SHA1_96;
        assert_eq!(
            Key::new(etype, &[0; 16]),
            Err(CryptoError::BadKeyLength {
                etype,
                len: 16,
                expected: 32
            })
        );
        let unknown = EncryptionType::new(99);
        assert_eq!(
            Key::new(unknown, &[0; 16]),
            Err(CryptoError::UnsupportedEtype { etype: unknown })
        );
    }

    #[test]
    fn checksum_type_must_match_the_key() {
        let key = Key::new(EncryptionType::AES128_CTS_HMAC_SHA1_96, &[1; 16]).expect("key");
        assert_eq!(
            key.get_mic(KeyUsage::new(1), ChecksumType::HMAC_MD5, b"x"),
            Err(CryptoError::ChecksumKeyMismatch {
                cksumtype: ChecksumType::HMAC_MD5,
                etype: EncryptionType::AES128_CTS_HMAC_SHA1_96
            })
        );
        let odd = ChecksumType::new(7);
        assert_eq!(
            key.get_mic(KeyUsage::new(1), odd, b"x"),
            Err(CryptoError::UnsupportedChecksumType { cksumtype: odd })
        );
    }

    #[test]
    fn mit_t_cksums_aes_sha1_and_verify() {
        // MIT krb5 src/lib/crypto/crypto_tests/t_cksums.c.
        let key = Key::new(
            EncryptionType::AES128_CTS_HMAC_SHA1_96,
            &unhex("9062430C8CDA3388922E6D6A509F5B7A"),
        )
        .expect("key");
        let data = b"eight nine ten eleven twelve thirteen";
        let mic = key
            .get_mic(KeyUsage::new(3), ChecksumType::HMAC_SHA1_96_AES128, data)
            .expect("mic");
        assert_eq!(mic, unhex("01A4B088D45628F6946614E3"));
        assert_eq!(
            key.verify_mic(
                KeyUsage::new(3),
                ChecksumType::HMAC_SHA1_96_AES128,
                data,
                &mic
            ),
            Ok(())
        );
        assert_eq!(
            key.verify_mic(
                KeyUsage::new(4),
                ChecksumType::HMAC_SHA1_96_AES128,
                data,
                &mic
            ),
            Err(CryptoError::ChecksumMismatch)
        );

        let key = Key::new(
            EncryptionType::AES256_CTS_HMAC_SHA1_96,
            &unhex("B1AE4CD8462AFF1677053CC9279AAC30B796FB81CE21474DD3DDBCFEA4EC76D7"),
        )
        .expect("key");
        let mic = key
            .get_mic(
                KeyUsage::new(4),
                ChecksumType::HMAC_SHA1_96_AES256,
                b"fourteen",
            )
            .expect("mic");
        assert_eq!(mic, unhex("E08739E3279E2903EC8E3836"));
    }

    #[test]
    fn rng_and_explicit_confounder_agree() {
        let key = Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[5; 32]).expect("key");
        let usage = KeyUsage::AP_REQ_AUTH;
        let with_rng = key
            .encrypt_with_rng(usage, b"abc", &mut CountingRng(0))
            .expect("encrypt");
        let mut conf = [0u8; 16];
        CountingRng(0).fill(&mut conf);
        assert_eq!(
            key.encrypt_with_confounder(usage, &conf, b"abc")
                .expect("encrypt"),
            with_rng
        );
        assert_eq!(
            key.encrypt_with_confounder(usage, &conf[..8], b"abc"),
            Err(CryptoError::BadConfounderLength {
                len: 8,
                expected: 16
            })
        );
        let random = key.encrypt(usage, b"abc").expect("encrypt");
        assert_ne!(random, with_rng);
        assert_eq!(key.decrypt(usage, &random).expect("decrypt"), b"abc");
    }

    #[test]
    fn generated_keys_have_the_etype_length() {
        for etype in EncryptionType::SUPPORTED {
            let key = Key::generate(etype).expect("generate");
            assert_eq!(Some(key.as_bytes().len()), etype.key_length());
            let key = Key::generate_with_rng(etype, &mut CountingRng(1)).expect("generate");
            assert_eq!(random_to_key(etype, key.as_bytes()), Ok(key));
        }
    }
}
