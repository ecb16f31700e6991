//! RFC 3962: aes128-cts-hmac-sha1-96 and aes256-cts-hmac-sha1-96, built on
//! the RFC 3961 section 5.3 simplified profile.
//!
//! ```text
//! encryption function   conf = Random string of length c
//!                       (C1, newIV) = E(Ke, conf | plaintext | pad, oldstate.ivec)
//!                       H1 = HMAC(Ki, conf | plaintext | pad)
//!                       ciphertext =  C1 | H1[1..h]
//! pseudo-random function  tmp1 = H(octet-string)
//!                         tmp2 = truncate tmp1 to multiple of m
//!                         PRF = E(DK(protocol-key, prfconstant), tmp2, initial-cipher-state)
//! ```
//!
//! With RFC 3962's parameters: c = 16 (AES block), h = 12, m = 1 (CTS needs
//! no padding), H = SHA-1.

use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::cts::{self, Aes, BLOCK};
use super::error::CryptoError;
use super::nfold::nfold;
use super::primitives::{hmac, macs_equal};
use super::types::{EncryptionType, KeyUsage};

/// RFC 3962 section 6: HMAC output size h.
const MAC_LEN: usize = 12;

/// RFC 3961 section 5.3: the three kinds of specific keys.
const KC: u8 = 0x99;
const KE: u8 = 0xAA;
const KI: u8 = 0x55;

/// RFC 3962 section 4: `key = DK(random2key(PBKDF2(passphrase, salt,
/// iter_count, keylength)), "kerberos")`; `key_len` is 16 or 32.
pub(crate) fn string_to_key(
    etype: EncryptionType,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut tkey = Zeroizing::new(vec![0u8; key_len]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut tkey);
    dk(etype, &tkey, b"kerberos")
}

/// RFC 3961 section 5.1: `DK(Key, Constant) = random-to-key(DR(Key,
/// Constant))`; random-to-key is the identity for AES (RFC 3962 section 6).
pub(crate) fn dk(
    etype: EncryptionType,
    key: &[u8],
    constant: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    dr(etype, key, constant)
}

/// RFC 3961 section 5.1: `DR(Key, Constant) = k-truncate(K1 | K2 | ...)`
/// with `K1 = E(Key, n-fold(Constant))`, `K(i+1) = E(Key, K(i))`.
pub(crate) fn dr(
    etype: EncryptionType,
    key: &[u8],
    constant: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let aes = Aes::for_etype(etype, key)?;
    let mut block = [0u8; BLOCK];
    block.copy_from_slice(&nfold(constant, BLOCK));
    let mut out = Zeroizing::new(Vec::with_capacity(key.len() + BLOCK));
    while out.len() < key.len() {
        aes.encrypt_block(&mut block);
        out.extend_from_slice(&block);
    }
    out.truncate(key.len());
    Ok(out)
}

/// `usage | kind` as the 5-byte derivation constant (RFC 3961 section 5.3).
pub(crate) fn usage_constant(usage: KeyUsage, kind: u8) -> [u8; 5] {
    let u = usage.value().to_be_bytes();
    [u[0], u[1], u[2], u[3], kind]
}

/// Encrypts `confounder | plaintext`; `confounder` is one block.
pub(crate) fn encrypt(
    etype: EncryptionType,
    key: &[u8],
    usage: KeyUsage,
    confounder: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let ke = dk(etype, key, &usage_constant(usage, KE))?;
    let ki = dk(etype, key, &usage_constant(usage, KI))?;
    let mut data = Zeroizing::new(Vec::with_capacity(confounder.len() + plaintext.len()));
    data.extend_from_slice(confounder);
    data.extend_from_slice(plaintext);
    let mut out = cts::encrypt(&Aes::for_etype(etype, &ke)?, &data)?;
    out.extend_from_slice(&hmac::<Sha1>(&ki, &[&data])[..MAC_LEN]);
    Ok(out)
}

/// Decrypts and checks the HMAC; returns the plaintext without confounder.
pub(crate) fn decrypt(
    etype: EncryptionType,
    key: &[u8],
    usage: KeyUsage,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let min = BLOCK + MAC_LEN;
    if ciphertext.len() < min {
        return Err(CryptoError::CiphertextTooShort {
            len: ciphertext.len(),
            min,
        });
    }
    let (c1, h1) = ciphertext.split_at(ciphertext.len() - MAC_LEN);
    let ke = dk(etype, key, &usage_constant(usage, KE))?;
    let ki = dk(etype, key, &usage_constant(usage, KI))?;
    let data = Zeroizing::new(cts::decrypt(&Aes::for_etype(etype, &ke)?, c1)?);
    // RFC 3961 section 5.3: "if (H1 != HMAC(Ki, P1)[1..h]) report error".
    if !macs_equal(&hmac::<Sha1>(&ki, &[&data])[..MAC_LEN], h1) {
        return Err(CryptoError::IntegrityCheckFailed);
    }
    Ok(data[BLOCK..].to_vec())
}

/// RFC 3961 section 5.4: `HMAC(Kc, data)[1..h]`, Kc = DK(key, usage | 0x99).
pub(crate) fn checksum(
    etype: EncryptionType,
    key: &[u8],
    usage: KeyUsage,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let kc = dk(etype, key, &usage_constant(usage, KC))?;
    Ok(hmac::<Sha1>(&kc, &[data])[..MAC_LEN].to_vec())
}

/// RFC 3962 / RFC 3961 section 5.3 PRF: 16 bytes.
///
/// The SHA-1 hash is truncated to a whole number of AES blocks (16 bytes),
/// as MIT krb5 and Heimdal do and as their published PRF outputs show.
pub(crate) fn prf(etype: EncryptionType, key: &[u8], input: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let kp = dk(etype, key, b"prf")?;
    let hash = Sha1::digest(input);
    let mut block = [0u8; BLOCK];
    block.copy_from_slice(&hash[..BLOCK]);
    Aes::for_etype(etype, &kp)?.encrypt_block(&mut block);
    Ok(block.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::unhex;

    const AES128: EncryptionType = EncryptionType::AES128_CTS_HMAC_SHA1_96;
    const AES256: EncryptionType = EncryptionType::AES256_CTS_HMAC_SHA1_96;

    /// RFC 3962 appendix B: (iterations, password, salt, AES-128 key, AES-256 key).
    type S2kVector = (
        u32,
        &'static [u8],
        &'static [u8],
        &'static str,
        &'static str,
    );

    const S2K_VECTORS: &[S2kVector] = &[
        (
            1,
            b"password",
            b"ATHENA.MIT.EDUraeburn",
            "42263c6e89f4fc28b8df68ee09799f15",
            "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161",
        ),
        (
            2,
            b"password",
            b"ATHENA.MIT.EDUraeburn",
            "c651bf29e2300ac27fa469d693bdda13",
            "a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff",
        ),
        (
            1200,
            b"password",
            b"ATHENA.MIT.EDUraeburn",
            "4c01cd46d632d01e6dbe230a01ed642a",
            "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a",
        ),
        (
            5,
            b"password",
            &[0x12, 0x34, 0x56, 0x78, 0x78, 0x56, 0x34, 0x12],
            "e9b23d52273747dd5c35cb55be619d8e",
            "97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31",
        ),
        (
            1200,
            &[b'X'; 64],
            b"pass phrase equals block size",
            "59d1bb789a828b1aa54ef9c2883f69ed",
            "89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34",
        ),
        (
            1200,
            &[b'X'; 65],
            b"pass phrase exceeds block size",
            "cb8005dc5f90179a7f02104c0018751d",
            "d78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b",
        ),
        (
            50,
            // g-clef (U+1D11E) in UTF-8.
            &[0xf0, 0x9d, 0x84, 0x9e],
            b"EXAMPLE.COMpianist",
            "f149c1f2e154a73452d43e7fe62a56e5",
            "4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e",
        ),
    ];

    /// RFC 3962 appendix B: the intermediate PBKDF2 outputs (first vector).
    #[test]
    fn rfc3962_b_pbkdf2_output() {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha1>(b"password", b"ATHENA.MIT.EDUraeburn", 1, &mut out);
        assert_eq!(
            out.to_vec(),
            unhex("cdedb5281bb2f801565a1122b2563515 0ad1f7a04bb9f3a333ecc0e2e1f70837")
        );
        pbkdf2::pbkdf2_hmac::<Sha1>(b"password", b"ATHENA.MIT.EDUraeburn", 1200, &mut out);
        assert_eq!(
            out.to_vec(),
            unhex("5c08eb61fdf71e4e4ec3cf6ba1f5512b a7e52ddbc5e5142f708a31e2e62b1e13")
        );
    }

    #[test]
    fn rfc3962_b_string_to_key() {
        for &(iterations, password, salt, k128, k256) in S2K_VECTORS {
            let key = string_to_key(AES128, password, salt, iterations, 16).expect("s2k");
            assert_eq!(*key, unhex(k128), "aes128 iterations {iterations}");
            let key = string_to_key(AES256, password, salt, iterations, 32).expect("s2k");
            assert_eq!(*key, unhex(k256), "aes256 iterations {iterations}");
        }
    }

    #[test]
    fn mit_t_prf_known_answers() {
        // MIT krb5 src/lib/crypto/crypto_tests/t_prf.c.
        let cases = [
            (
                "ae272e7cdec86ac5138cdb196d8e297d",
                "0161",
                "77b39a37a868920f2a51f9dd150c5717",
            ),
            (
                "67ab1cfef35e4c27ffdeac60385a3e9c",
                "0162",
                "e06c0dd31ff02091994f2ef5178bfe3d",
            ),
            (
                "c01f157211f7b77eaaf457c3e156690127ee127d810ba6392e97baa243eb0616",
                "0161",
                "b2628c788e2e9c4a9bb4644678c29f2f",
            ),
            (
                "c01f157211f7b77eaaf457c3e156690127ee127d810ba6392e97baa243eb0616",
                "0261",
                "b406373350cee8a6126f4a9b65a0cd21",
            ),
            (
                "9d520d2d980aa7cb6b693682b62da258b333867951642ce647ae62b1e5e0b5e9",
                "0162",
                "ff0e289ea756c0559a0e911856961a49",
            ),
            (
                "9d520d2d980aa7cb6b693682b62da258b333867951642ce647ae62b1e5e0b5e9",
                "0262",
                "0d674dd0f9a6806525a4d92e828bd15a",
            ),
        ];
        for (key, input, expected) in cases {
            let key = unhex(key);
            let etype = if key.len() == 16 { AES128 } else { AES256 };
            assert_eq!(
                prf(etype, &key, &unhex(input)).expect("prf"),
                unhex(expected)
            );
        }
    }

    /// MIT krb5 src/lib/crypto/crypto_tests/t_decrypt.c known answers:
    /// (etype, plaintext, usage, key, ciphertext).
    const MIT_DECRYPT: &[(EncryptionType, &[u8], u32, &str, &str)] = &[
        (
            AES128,
            b"",
            0,
            "5A5C0F0BA54F3828B2195E66CA24A289",
            "49FF8E11C173D9583A3254FBE7B1F1DF36C538E8416784A1672E6676",
        ),
        (
            AES128,
            b"1",
            1,
            "98450E3F3BAA13F5C99BEB936981B06F",
            "F86742F537B35DC2174A4DBAA920FAF9042090B065E1EBB1CAD9A65394",
        ),
        (
            AES128,
            b"9 bytesss",
            2,
            "9062430C8CDA3388922E6D6A509F5B7A",
            "68FB9679601F45C78857B2BF820FD6E53ECA8D42FD4B1D7024A09205ABB7CD2EC26C355D2F",
        ),
        (
            AES128,
            b"13 bytes byte",
            3,
            "033EE6502C54FD23E27791E987983827",
            "EC366D0327A933BF49330E650E49BC6B974637FE80BF532FE51795B4809718E6194724DB948D1FD637",
        ),
        (
            AES128,
            b"30 bytes bytes bytes bytes byt",
            4,
            "DCEEB70B3DE76562E689226C76429148",
            "C96081032D5D8EEB7E32B4089F789D0FAA481DEA74C0F97CBF3146DDFCF8E800156ECB532FC203E30FF600B63B350939FECE510F02D7FF1E7BAC",
        ),
        (
            AES256,
            b"",
            0,
            "17F275F2954F2ED1F90C377BA7F4D6A369AA0136E0BF0C927AD6133C693759A9",
            "E5094C55EE7B38262E2B044280B069379A95BF95BD8376FB3281B435",
        ),
        (
            AES256,
            b"1",
            1,
            "B9477E1FF0329C0050E20CE6C72D2DFF27E8FE541AB0954429A9CB5B4F7B1E2A",
            "406150B97AEB76D43B36B62CC1ECDFBE6F40E95755E0BEB5C27825F3A4",
        ),
        (
            AES256,
            b"9 bytesss",
            2,
            "B1AE4CD8462AFF1677053CC9279AAC30B796FB81CE21474DD3DDBCFEA4EC76D7",
            "09957AA25FCAF88F7B39E4406E633012D5FEA21853F6478DA7065CAEF41FD454A40824EEC5",
        ),
        (
            AES256,
            b"13 bytes byte",
            3,
            "E5A72BE9B7926C1225BAFEF9C1872E7BA4CDB2B17893D84ABD90ACDD8764D966",
            "D8F1AAFEEC84587CC3E700A774E56651A6D693E174EC4473B5E6D96F80297A653FB818AD893E719F96",
        ),
        (
            AES256,
            b"30 bytes bytes bytes bytes byt",
            4,
            "F1C795E9248A09338D82C3F8D5B567040B0110736845041347235B1404231398",
            "D1137A4D634CFECE924DBC3BF6790648BD5CFF7DE0E7B99460211D0DAEF3D79A295C688858F3B34B9CBD6EEBAE81DAF6B734D4D498B6714F1C1D",
        ),
    ];

    #[test]
    fn mit_t_decrypt_known_answers() {
        for (etype, plain, usage, key, ct) in MIT_DECRYPT {
            let (key, ct, usage) = (unhex(key), unhex(ct), KeyUsage::new(*usage));
            assert_eq!(decrypt(*etype, &key, usage, &ct).expect("decrypt"), *plain);
            // Re-encrypting with the recovered confounder gives the same bytes.
            let ke = dk(*etype, &key, &usage_constant(usage, KE)).expect("ke");
            let aes = Aes::for_etype(*etype, &ke).expect("aes");
            let conf = cts::decrypt(&aes, &ct[..ct.len() - MAC_LEN]).expect("cts");
            let again = encrypt(*etype, &key, usage, &conf[..BLOCK], plain).expect("encrypt");
            assert_eq!(again, ct);
        }
    }

    #[test]
    fn tampering_is_detected_and_short_input_refused() {
        let key = [0x42u8; 32];
        let mut ct = encrypt(AES256, &key, KeyUsage::new(7), &[1; 16], b"hello").expect("encrypt");
        assert_eq!(
            decrypt(AES256, &key, KeyUsage::new(7), &ct).expect("decrypt"),
            b"hello"
        );
        assert_eq!(
            decrypt(AES256, &key, KeyUsage::new(8), &ct),
            Err(CryptoError::IntegrityCheckFailed)
        );
        ct[3] ^= 1;
        assert_eq!(
            decrypt(AES256, &key, KeyUsage::new(7), &ct),
            Err(CryptoError::IntegrityCheckFailed)
        );
        assert_eq!(
            decrypt(AES256, &key, KeyUsage::new(7), &ct[..27]),
            Err(CryptoError::CiphertextTooShort { len: 27, min: 28 })
        );
    }
}
