//! RFC 8009: aes128-cts-hmac-sha256-128 and aes256-cts-hmac-sha384-192.
//!
//! ```text
//! KDF-HMAC-SHA2(key, label, [context,] k):
//!     k-truncate(HMAC-SHA-256/384(key, 00 00 00 01 | label | 00 | context | k))
//! string-to-key:  saltp = enctype-name | 00 | salt
//!                 tkey = random-to-key(PBKDF2-HMAC-SHA2(passphrase, saltp, iter_count, keylength))
//!                 base-key = random-to-key(KDF-HMAC-SHA2(tkey, "kerberos", keylength))
//! encryption:     C = E(Ke, N | plaintext, cipherstate)
//!                 H = HMAC(Ki, IV | C)
//!                 ciphertext = C | k-truncate(H, h)
//! checksum:       k-truncate(HMAC(Kc, message), h)
//! PRF:            KDF-HMAC-SHA2(input-key, "prf", octet-string, 256 or 384)
//! ```
//!
//! Ke = KDF(base-key, usage | 0xAA, 128 or 256), Ki = KDF(base-key, usage |
//! 0x55, 128 or 192), Kc = KDF(base-key, usage | 0x99, 128 or 192); the
//! cipher state IV is the all-zero block (section 5).

use sha2::{Sha256, Sha384};
use zeroize::Zeroizing;

use super::aes_sha1::usage_constant;
use super::cts::{self, Aes, BLOCK};
use super::error::CryptoError;
use super::primitives::{hmac, macs_equal};
use super::types::{EncryptionType, KeyUsage};

const KC: u8 = 0x99;
const KE: u8 = 0xAA;
const KI: u8 = 0x55;

/// The section 5 parameters of one of the two encryption types.
#[derive(Clone, Copy)]
struct Params {
    /// SHA-384 rather than SHA-256.
    sha384: bool,
    /// Protocol key length in bytes.
    key_len: usize,
    /// Truncated HMAC length h in bytes.
    mac_len: usize,
    /// Untruncated HMAC output, the PRF length.
    hash_len: usize,
}

fn params(etype: EncryptionType) -> Result<Params, CryptoError> {
    match etype {
        EncryptionType::AES128_CTS_HMAC_SHA256_128 => Ok(Params {
            sha384: false,
            key_len: 16,
            mac_len: 16,
            hash_len: 32,
        }),
        EncryptionType::AES256_CTS_HMAC_SHA384_192 => Ok(Params {
            sha384: true,
            key_len: 32,
            mac_len: 24,
            hash_len: 48,
        }),
        _ => Err(CryptoError::UnsupportedEtype { etype }),
    }
}

/// HMAC-SHA-256 or HMAC-SHA-384 of the concatenated parts.
fn mac(p: Params, key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    if p.sha384 {
        hmac::<Sha384>(key, parts)
    } else {
        hmac::<Sha256>(key, parts)
    }
}

/// Section 3: KDF-HMAC-SHA2 producing `len` bytes (at most one HMAC output).
fn kdf(p: Params, key: &[u8], label: &[u8], context: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let bits = u32::try_from(len * 8).unwrap_or(u32::MAX).to_be_bytes();
    let mut out = mac(p, key, &[&1u32.to_be_bytes(), label, &[0], context, &bits]);
    out.truncate(len);
    out
}

/// Section 4: string-to-key with the iteration count already decided.
pub(crate) fn string_to_key(
    etype: EncryptionType,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let p = params(etype)?;
    let name = etype.name().unwrap_or_default().as_bytes();
    let saltp = [name, &[0], salt].concat();
    let mut tkey = Zeroizing::new(vec![0u8; p.key_len]);
    if p.sha384 {
        pbkdf2::pbkdf2_hmac::<Sha384>(password, &saltp, iterations, &mut tkey);
    } else {
        pbkdf2::pbkdf2_hmac::<Sha256>(password, &saltp, iterations, &mut tkey);
    }
    Ok(kdf(p, &tkey, b"kerberos", &[], p.key_len))
}

/// Section 5: encrypts `confounder | plaintext`; `confounder` is one block.
pub(crate) fn encrypt(
    etype: EncryptionType,
    key: &[u8],
    usage: KeyUsage,
    confounder: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let p = params(etype)?;
    let ke = kdf(p, key, &usage_constant(usage, KE), &[], p.key_len);
    let ki = kdf(p, key, &usage_constant(usage, KI), &[], p.mac_len);
    let mut data = Zeroizing::new(Vec::with_capacity(confounder.len() + plaintext.len()));
    data.extend_from_slice(confounder);
    data.extend_from_slice(plaintext);
    let mut out = cts::encrypt(&Aes::for_etype(etype, &ke)?, &data)?;
    let h = mac(p, &ki, &[&[0; BLOCK], &out]);
    out.extend_from_slice(&h[..p.mac_len]);
    Ok(out)
}

/// Section 5: checks `HMAC(Ki, IV | C)` before decrypting `C`; returns the
/// plaintext without the confounder.
pub(crate) fn decrypt(
    etype: EncryptionType,
    key: &[u8],
    usage: KeyUsage,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let p = params(etype)?;
    let min = BLOCK + p.mac_len;
    if ciphertext.len() < min {
        return Err(CryptoError::CiphertextTooShort {
            len: ciphertext.len(),
            min,
        });
    }
    let (c, h) = ciphertext.split_at(ciphertext.len() - p.mac_len);
    let ki = kdf(p, key, &usage_constant(usage, KI), &[], p.mac_len);
    if !macs_equal(&mac(p, &ki, &[&[0; BLOCK], c])[..p.mac_len], h) {
        return Err(CryptoError::IntegrityCheckFailed);
    }
    let ke = kdf(p, key, &usage_constant(usage, KE), &[], p.key_len);
    let data = Zeroizing::new(cts::decrypt(&Aes::for_etype(etype, &ke)?, c)?);
    Ok(data[BLOCK..].to_vec())
}

/// Section 5: the keyed checksum with Kc.
pub(crate) fn checksum(
    etype: EncryptionType,
    key: &[u8],
    usage: KeyUsage,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let p = params(etype)?;
    let kc = kdf(p, key, &usage_constant(usage, KC), &[], p.mac_len);
    Ok(mac(p, &kc, &[data])[..p.mac_len].to_vec())
}

/// Section 5: PRF, 32 bytes for aes128 and 48 for aes256.
pub(crate) fn prf(etype: EncryptionType, key: &[u8], input: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let p = params(etype)?;
    Ok(kdf(p, key, b"prf", input, p.hash_len).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::unhex;

    const AES128: EncryptionType = EncryptionType::AES128_CTS_HMAC_SHA256_128;
    const AES256: EncryptionType = EncryptionType::AES256_CTS_HMAC_SHA384_192;
    const BASE128: &str = "3705D96080C17728A0E800EAB6E0D23C";
    const BASE256: &str = "6D404D37FAF79F9DF0D33568D320669800EB4836472EA8A026D16B7182460C52";
    const MSG21: &str = "000102030405060708090A0B0C0D0E0F1011121314";

    #[test]
    fn rfc8009_a_string_to_key() {
        let salt = [
            unhex("10DF9DD783E5BC8ACEA1730E74355F61"),
            b"ATHENA.MIT.EDUraeburn".to_vec(),
        ]
        .concat();
        let key = string_to_key(AES128, b"password", &salt, 32768).expect("s2k");
        assert_eq!(*key, unhex("089BCA48B105EA6EA77CA5D2F39DC5E7"));
        let key = string_to_key(AES256, b"password", &salt, 32768).expect("s2k");
        assert_eq!(
            *key,
            unhex("45BD806DBF6A833A9CFFC1C94589A222 367A79BC21C413718906E9F578A78467")
        );
    }

    #[test]
    fn rfc8009_a_key_derivation() {
        let usage = KeyUsage::new(2);
        let p = params(AES128).expect("params");
        let base = unhex(BASE128);
        let derive = |kind, len| kdf(p, &base, &usage_constant(usage, kind), &[], len).to_vec();
        assert_eq!(derive(KC, 16), unhex("B31A018A48F54776F403E9A396325DC3"));
        assert_eq!(derive(KE, 16), unhex("9B197DD1E8C5609D6E67C3E37C62C72E"));
        assert_eq!(derive(KI, 16), unhex("9FDA0E56AB2D85E1569A688696C26A6C"));

        let p = params(AES256).expect("params");
        let base = unhex(BASE256);
        let derive = |kind, len| kdf(p, &base, &usage_constant(usage, kind), &[], len).to_vec();
        assert_eq!(
            derive(KC, 24),
            unhex("EF5718BE86CC84963D8BBB5031E9F5C4BA41F28FAF69E73D")
        );
        assert_eq!(
            derive(KE, 32),
            unhex("56AB22BEE63D82D7BC5227F6773F8EA7A5EB1C825160C38312980C442E5C7E49")
        );
        assert_eq!(
            derive(KI, 24),
            unhex("69B16514E3CD8E56B82010D5C73012B622C4D00FFC23ED1F")
        );
    }

    /// RFC 8009 appendix A sample encryptions, key usage 2:
    /// (etype, base key, plaintext, confounder, ciphertext).
    const ENCRYPTIONS: &[(EncryptionType, &str, &str, &str, &str)] = &[
        (
            AES128,
            BASE128,
            "",
            "7E5895EAF2672435BAD817F545A37148",
            "EF85FB890BB8472F4DAB20394DCA781DAD877EDA39D50C870C0D5A0A8E48C718",
        ),
        (
            AES128,
            BASE128,
            "000102030405",
            "7BCA285E2FD4130FB55B1A5C83BC5B24",
            "84D7F30754ED987BAB0BF3506BEB09CFB55402CEF7E6877CE99E247E52D16ED4421DFDF8976C",
        ),
        (
            AES128,
            BASE128,
            "000102030405060708090A0B0C0D0E0F",
            "56AB21713FF62C0A1457200F6FA9948F",
            "3517D640F50DDC8AD3628722B3569D2AE07493FA8263254080EA65C1008E8FC295FB4852E7D83E1E7C48C37EEBE6B0D3",
        ),
        (
            AES128,
            BASE128,
            MSG21,
            "A7A4E29A4728CE10664FB64E49AD3FAC",
            "720F73B18D9859CD6CCB4346115CD336C70F58EDC0C4437C5573544C31C813BCE1E6D072C186B39A413C2F92CA9B8334A287FFCBFC",
        ),
        (
            AES256,
            BASE256,
            "",
            "F764E9FA15C276478B2C7D0C4E5F58E4",
            "41F53FA5BFE7026D91FAF9BE959195A058707273A96A40F0A01960621AC612748B9BBFBE7EB4CE3C",
        ),
        (
            AES256,
            BASE256,
            "000102030405",
            "B80D3251C1F6471494256FFE712D0B9A",
            "4ED7B37C2BCAC8F74F23C1CF07E62BC7B75FB3F637B9F559C7F664F69EAB7B6092237526EA0D1F61CB20D69D10F2",
        ),
        (
            AES256,
            BASE256,
            "000102030405060708090A0B0C0D0E0F",
            "53BF8A0D105265D4E276428624CE5E63",
            "BC47FFEC7998EB91E8115CF8D19DAC4BBBE2E163E87DD37F49BECA92027764F68CF51F14D798C2273F35DF574D1F932E40C4FF255B36A266",
        ),
        (
            AES256,
            BASE256,
            MSG21,
            "763E65367E864F02F55153C7E3B58AF1",
            "40013E2DF58E8751957D2878BCD2D6FE101CCFD556CB1EAE79DB3C3EE86429F2B2A602AC86FEF6ECB647D6295FAE077A1FEB517508D2C16B4192E01F62",
        ),
    ];

    #[test]
    fn rfc8009_a_sample_encryptions() {
        let usage = KeyUsage::new(2);
        for (etype, base, plain, conf, expected) in ENCRYPTIONS {
            let (base, plain, expected) = (unhex(base), unhex(plain), unhex(expected));
            let out = encrypt(*etype, &base, usage, &unhex(conf), &plain).expect("encrypt");
            assert_eq!(out, expected, "{etype:?} encrypt of {} bytes", plain.len());
            assert_eq!(
                decrypt(*etype, &base, usage, &expected).expect("decrypt"),
                plain
            );
        }
    }

    #[test]
    fn rfc8009_a_sample_checksums() {
        let usage = KeyUsage::new(2);
        let cksum = checksum(AES128, &unhex(BASE128), usage, &unhex(MSG21)).expect("checksum");
        assert_eq!(cksum, unhex("D78367186643D67B411CBA9139FC1DEE"));
        let cksum = checksum(AES256, &unhex(BASE256), usage, &unhex(MSG21)).expect("checksum");
        assert_eq!(
            cksum,
            unhex("45EE791567EEFCA37F4AC1E0222DE80D43C3BFA06699672A")
        );
    }

    #[test]
    fn rfc8009_a_sample_prf() {
        assert_eq!(
            prf(AES128, &unhex(BASE128), b"test").expect("prf"),
            unhex("9D188616F63852FE86915BB840B4A886FF3E6BB0F819B49B893393D393854295")
        );
        assert_eq!(
            prf(AES256, &unhex(BASE256), b"test").expect("prf"),
            unhex(
                "9801F69A368C2BF675E59521E177D9A07F67EFE1CFDE8D3C8D6F6A0256E3B17D\
                 B3C1B62AD1B8553360D17367EB1514D2"
            )
        );
    }

    #[test]
    fn tampered_mac_or_ciphertext_fails() {
        let base = unhex(BASE256);
        let usage = KeyUsage::new(2);
        let good = unhex(ENCRYPTIONS[7].4);
        for i in [0, 20, good.len() - 1] {
            let mut bad = good.clone();
            bad[i] ^= 0x80;
            assert_eq!(
                decrypt(AES256, &base, usage, &bad),
                Err(CryptoError::IntegrityCheckFailed)
            );
        }
        assert_eq!(
            decrypt(AES256, &base, usage, &good[..39]),
            Err(CryptoError::CiphertextTooShort { len: 39, min: 40 })
        );
    }
}
