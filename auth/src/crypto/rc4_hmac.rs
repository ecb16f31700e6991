//! RFC 4757: rc4-hmac (`KERB_ETYPE_RC4_HMAC`, 23) and its checksum
//! `KERB_CHECKSUM_HMAC_MD5` (-138).
//!
//! ```text
//! String2Key:  K = MD4(UNICODE(password))
//! ENCRYPT:     K1 = HMAC(K, T); K2 = K1
//!              edata.Checksum = HMAC(K2, Confounder[8] | data)
//!              K3 = HMAC(K1, edata.Checksum)
//!              RC4(K3, Confounder | data)
//! CHKSUM:      Ksign = HMAC(K, "signaturekey")   // includes zero octet at end
//!              tmp = MD5(concat(T, data))
//!              CHKSUM = HMAC(Ksign, tmp)
//! pseudo-random(K, S) = HMAC-SHA1(K, S)
//! ```
//!
//! HMAC is HMAC-MD5 and T is the key usage after the section 3 translation,
//! as a 4-byte little-endian integer. The output is `Checksum[16] |
//! RC4(Confounder[8] | data)`.

use md4::Md4;
use md5::{Digest, Md5};
use rc4::{KeyInit, Rc4, StreamCipher};
use sha1::Sha1;
use zeroize::Zeroizing;

use super::error::CryptoError;
use super::primitives::{hmac, macs_equal};
use super::types::KeyUsage;

/// Section 5: `RC4_MDx_HEADER.Confounder` length.
const CONFOUNDER_LEN: usize = 8;
/// HMAC-MD5 output, the header checksum length.
const MAC_LEN: usize = 16;

/// Section 2: `K = MD4(UNICODE(password))`, the NT hash; the salt is unused.
pub(crate) fn string_to_key(password: &str) -> Zeroizing<Vec<u8>> {
    let mut md4 = Md4::new();
    for unit in password.encode_utf16() {
        md4.update(unit.to_le_bytes());
    }
    Zeroizing::new(md4.finalize().to_vec())
}

/// Section 3: the message type T for a key usage.
///
/// Only usage 3 (AS-REP encrypted part) changes: it is encrypted with T = 8.
/// The section 3 table also lists T = 8 for usage 9 (TGS-REP part encrypted
/// with the authenticator subkey), but Windows, MIT krb5 and Heimdal all use
/// 9 there, so 9 stays 9 for interoperability.
pub(crate) fn message_type(usage: KeyUsage) -> [u8; 4] {
    let t = match usage.value() {
        3 => 8,
        other => other,
    };
    t.to_le_bytes()
}

/// Encrypts `confounder | plaintext`; `confounder` is 8 bytes.
pub(crate) fn encrypt(key: &[u8], usage: KeyUsage, confounder: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let k1 = hmac::<Md5>(key, &[&message_type(usage)]);
    let checksum = hmac::<Md5>(&k1, &[confounder, plaintext]);
    let k3 = hmac::<Md5>(&k1, &[&checksum]);
    let mut out = Vec::with_capacity(MAC_LEN + confounder.len() + plaintext.len());
    out.extend_from_slice(&checksum);
    out.extend_from_slice(confounder);
    out.extend_from_slice(plaintext);
    rc4(&k3, &mut out[MAC_LEN..]);
    out
}

/// Decrypts and verifies the header checksum; returns the plaintext without
/// the confounder.
pub(crate) fn decrypt(
    key: &[u8],
    usage: KeyUsage,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let min = MAC_LEN + CONFOUNDER_LEN;
    if ciphertext.len() < min {
        return Err(CryptoError::CiphertextTooShort {
            len: ciphertext.len(),
            min,
        });
    }
    let (checksum, edata) = ciphertext.split_at(MAC_LEN);
    let k1 = hmac::<Md5>(key, &[&message_type(usage)]);
    let k3 = hmac::<Md5>(&k1, &[checksum]);
    let mut data = Zeroizing::new(edata.to_vec());
    rc4(&k3, &mut data);
    if !macs_equal(&hmac::<Md5>(&k1, &[&data]), checksum) {
        return Err(CryptoError::IntegrityCheckFailed);
    }
    Ok(data[CONFOUNDER_LEN..].to_vec())
}

/// Section 4: `KERB_CHECKSUM_HMAC_MD5` (usage translated as for encryption,
/// as MIT krb5 does).
pub(crate) fn checksum(key: &[u8], usage: KeyUsage, data: &[u8]) -> Vec<u8> {
    let ksign = hmac::<Md5>(key, &[b"signaturekey\0"]);
    let mut md5 = Md5::new();
    md5.update(message_type(usage));
    md5.update(data);
    hmac::<Md5>(&ksign, &[&md5.finalize()]).to_vec()
}

/// Section 5: `pseudo-random(K, S) = HMAC-SHA1(K, S)`, 20 bytes.
pub(crate) fn prf(key: &[u8], input: &[u8]) -> Vec<u8> {
    hmac::<Sha1>(key, &[input]).to_vec()
}

/// RC4 keystream applied in place; `key` is a 16-byte HMAC-MD5 output.
fn rc4(key: &[u8], data: &mut [u8]) {
    // rc4 accepts keys of 1 to 256 bytes; K3 is always 16.
    let mut cipher = Rc4::new_from_slice(key).expect("16-byte RC4 key is in range");
    cipher.apply_keystream(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::unhex;

    #[test]
    fn rfc4757_string_to_key() {
        // Section 2 example, String2Key("foo").
        assert_eq!(
            *string_to_key("foo"),
            unhex("ac8e657f83df82beea5d43bdaf7800cc")
        );
        // MS-NLMP 4.2.2.1.2: NTOWFv1("Password").
        assert_eq!(
            *string_to_key("Password"),
            unhex("a4f49c406510bdcab6824ee7c30fd852")
        );
        // MD4 of the empty string (RFC 1320 appendix A.5).
        assert_eq!(
            *string_to_key(""),
            unhex("31d6cfe0d16ae931b73c59d7e0c089c0")
        );
    }

    #[test]
    fn usage_3_is_sent_as_8() {
        assert_eq!(message_type(KeyUsage::AS_REP_ENC_PART), 8u32.to_le_bytes());
        assert_eq!(
            message_type(KeyUsage::TGS_REP_ENC_PART_SESSION_KEY),
            8u32.to_le_bytes()
        );
        assert_eq!(message_type(KeyUsage::AP_REQ_AUTH), 11u32.to_le_bytes());
        // So usage 3 and 8 produce the same ciphertext for the same confounder.
        let key = [9u8; 16];
        let a = encrypt(&key, KeyUsage::new(3), &[1; 8], b"reply");
        let b = encrypt(&key, KeyUsage::new(8), &[1; 8], b"reply");
        assert_eq!(a, b);
        assert_eq!(
            decrypt(&key, KeyUsage::new(8), &a).expect("decrypt"),
            b"reply"
        );
    }

    /// MIT krb5 t_decrypt.c known answers for arcfour-hmac:
    /// (plaintext, usage, key, ciphertext).
    const MIT_DECRYPT: &[(&[u8], u32, &str, &str)] = &[
        (
            b"",
            0,
            "F81FEC39255F5784E850C4377C88BD85",
            "02C1EB15586144122EC717763DD348BF00434DDC6585954C",
        ),
        (
            b"1",
            1,
            "67D1300D281223867F9647FF48721273",
            "6156E0CC04E0A0874F9FDA008F498A7ADBBC80B70B14DDDBC0",
        ),
        (
            b"9 bytesss",
            2,
            "3E40AB6093695281B3AC1A9304224D98",
            "0F9AD121D99D4A09448E4F1F718C4F5CBE6096262C66F29DF232A87C9F98755D55",
        ),
        (
            b"13 bytes byte",
            3,
            "4BA2FBF0379FAED87A254D3B353D5A7E",
            "612C57568B17A70352BAE8CF26FB9459A6F3353CD35FD439DB3107CBEC765D326DFC04C1DD",
        ),
        (
            b"30 bytes bytes bytes bytes byt",
            4,
            "68F263DB3FCE15D031C9EAB02D67107A",
            "95F9047C3AD75891C2E9B04B16566DC8B6EB9CE4231AFB2542EF87A7B5A0F260A99F0460508DE0CECC632D07C354124E46C5D2234EB8",
        ),
    ];

    #[test]
    fn mit_t_decrypt_known_answers() {
        for (plain, usage, key, ct) in MIT_DECRYPT {
            let (key, ct) = (unhex(key), unhex(ct));
            let usage = KeyUsage::new(*usage);
            assert_eq!(
                decrypt(&key, usage, &ct).expect("decrypt"),
                *plain,
                "usage {usage:?}"
            );
            // Re-encrypting with the recovered confounder gives the same bytes.
            let mut data = ct[MAC_LEN..].to_vec();
            rc4(
                &hmac::<Md5>(
                    &hmac::<Md5>(&key, &[&message_type(usage)]),
                    &[&ct[..MAC_LEN]],
                ),
                &mut data,
            );
            assert_eq!(encrypt(&key, usage, &data[..CONFOUNDER_LEN], plain), ct);
        }
    }

    #[test]
    fn mit_t_cksums_hmac_md5() {
        // MIT krb5 t_cksums.c: CKSUMTYPE_HMAC_MD5_ARCFOUR, usage 6.
        let key = unhex("F7D3A155AF5E238A0B7A871A96BA2AB2");
        let cksum = checksum(
            &key,
            KeyUsage::new(6),
            b"seventeen eighteen nineteen twenty",
        );
        assert_eq!(cksum, unhex("EB38CC97E2230F59DA4117DC5859D7EC"));
    }

    #[test]
    fn tampering_and_short_input_fail() {
        let key = [3u8; 16];
        let mut ct = encrypt(&key, KeyUsage::new(2), &[0; 8], b"ticket");
        ct[20] ^= 1;
        assert_eq!(
            decrypt(&key, KeyUsage::new(2), &ct),
            Err(CryptoError::IntegrityCheckFailed)
        );
        assert_eq!(
            decrypt(&key, KeyUsage::new(2), &ct[..23]),
            Err(CryptoError::CiphertextTooShort { len: 23, min: 24 })
        );
    }
}
