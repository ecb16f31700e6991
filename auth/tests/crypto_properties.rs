//! Property tests of the Kerberos cryptosystems through the public API:
//! round trips for every etype, tamper detection, and no panics on
//! arbitrary ciphertext.

use adjoin_auth::crypto::{CryptoError, EncryptionType, Key, KeyUsage};
use proptest::prelude::*;

fn etype() -> impl Strategy<Value = EncryptionType> {
    prop::sample::select(EncryptionType::SUPPORTED.to_vec())
}

/// A key of the etype built from 32 random bytes.
fn key(etype: EncryptionType, seed: &[u8; 32]) -> Key {
    let len = etype.key_length().expect("supported etype");
    Key::new(etype, &seed[..len]).expect("key of the right length")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encrypt_then_decrypt_round_trips(
        etype in etype(),
        seed in any::<[u8; 32]>(),
        usage in any::<u32>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..100),
        confounder in any::<[u8; 16]>(),
    ) {
        let key = key(etype, &seed);
        let usage = KeyUsage::new(usage);
        let conf = &confounder[..etype.confounder_length().expect("confounder length")];
        let sealed = key.encrypt_with_confounder(usage, conf, &plaintext).expect("encrypt");
        prop_assert_eq!(sealed.len(), plaintext.len() + etype.overhead().expect("overhead"));
        prop_assert_eq!(key.decrypt(usage, &sealed).expect("decrypt"), plaintext.clone());
        let random = key.encrypt(usage, &plaintext).expect("encrypt");
        prop_assert_eq!(key.decrypt(usage, &random).expect("decrypt"), plaintext);
    }

    #[test]
    fn any_flipped_bit_fails_integrity(
        etype in etype(),
        seed in any::<[u8; 32]>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..100),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = key(etype, &seed);
        let usage = KeyUsage::AP_REQ_AUTH;
        let mut sealed = key.encrypt(usage, &plaintext).expect("encrypt");
        let i = position.index(sealed.len());
        sealed[i] ^= 1 << bit;
        prop_assert_eq!(key.decrypt(usage, &sealed), Err(CryptoError::IntegrityCheckFailed));
    }

    #[test]
    fn decrypting_arbitrary_bytes_never_panics(
        etype in etype(),
        seed in any::<[u8; 32]>(),
        usage in any::<u32>(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let key = key(etype, &seed);
        match key.decrypt(KeyUsage::new(usage), &bytes) {
            Err(CryptoError::IntegrityCheckFailed | CryptoError::CiphertextTooShort { .. }) => {}
            other => prop_assert!(false, "unexpected result {:?}", other),
        }
    }

    #[test]
    fn checksums_verify_and_detect_changes(
        etype in etype(),
        seed in any::<[u8; 32]>(),
        usage in any::<u32>(),
        data in prop::collection::vec(any::<u8>(), 1..100),
    ) {
        let key = key(etype, &seed);
        let usage = KeyUsage::new(usage);
        let cksumtype = etype.checksum_type().expect("checksum type");
        let mic = key.get_mic(usage, cksumtype, &data).expect("get_mic");
        prop_assert_eq!(Some(mic.len()), cksumtype.length());
        prop_assert_eq!(key.verify_mic(usage, cksumtype, &data, &mic), Ok(()));
        let mut changed = data.clone();
        changed[0] ^= 1;
        prop_assert_eq!(
            key.verify_mic(usage, cksumtype, &changed, &mic),
            Err(CryptoError::ChecksumMismatch)
        );
    }
}
