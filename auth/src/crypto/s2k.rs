//! RFC 3961 section 3 string-to-key, with each etype's parameters:
//! RFC 3962 section 4, RFC 8009 section 4 and RFC 4757 section 2.

use super::error::CryptoError;
use super::key::Key;
use super::types::{EncryptionType, Profile};
use super::{aes_sha1, aes_sha2, rc4_hmac};

/// Largest PBKDF2 iteration count accepted from s2kparams (2^24, MIT krb5's
/// limit; RFC 3962 section 4 asks that a limit be no less than 50,000).
/// The count comes from an unauthenticated ETYPE-INFO2, so a spoofed reply
/// could otherwise cost the client hours of CPU.
pub const MAX_ITERATIONS: u32 = 1 << 24;

/// RFC 3962 section 4: default iteration count of the AES-SHA1 etypes.
const DEFAULT_ITERATIONS_SHA1: u32 = 4096;
/// RFC 8009 section 4: default iteration count of the AES-SHA2 etypes.
const DEFAULT_ITERATIONS_SHA2: u32 = 32768;

/// Derives a long-term key from a password (RFC 3961 section 3
/// `string-to-key`).
///
/// `salt` is the principal's salt (by default the realm followed by the
/// name components; from ETYPE-INFO2 when the KDC sends one). `params` are
/// the raw s2kparams: for AES a 4-byte big-endian iteration count
/// (`None` means the etype's default; 0 means 2^32 and is refused as too
/// large); RC4 takes none and ignores the salt.
pub fn string_to_key(
    etype: EncryptionType,
    password: &str,
    salt: &[u8],
    params: Option<&[u8]>,
) -> Result<Key, CryptoError> {
    let bytes = match etype.profile() {
        Some(Profile::AesSha1) => {
            let iterations = iterations(etype, params, DEFAULT_ITERATIONS_SHA1)?;
            let len = etype.key_length().unwrap_or_default();
            aes_sha1::string_to_key(etype, password.as_bytes(), salt, iterations, len)?
        }
        Some(Profile::AesSha2) => {
            let iterations = iterations(etype, params, DEFAULT_ITERATIONS_SHA2)?;
            aes_sha2::string_to_key(etype, password.as_bytes(), salt, iterations)?
        }
        Some(Profile::Rc4Hmac) => {
            if let Some(p) = params.filter(|p| !p.is_empty()) {
                return Err(CryptoError::BadS2kParams {
                    etype,
                    len: p.len(),
                });
            }
            rc4_hmac::string_to_key(password)
        }
        None => return Err(CryptoError::UnsupportedEtype { etype }),
    };
    Key::new(etype, &bytes)
}

/// RFC 3962 section 4: "The parameter string is four octets indicating an
/// unsigned number in big-endian order. [...] If the value is 00 00 00 00,
/// the number of iterations to be performed is 4,294,967,296 (2**32)."
fn iterations(
    etype: EncryptionType,
    params: Option<&[u8]>,
    default: u32,
) -> Result<u32, CryptoError> {
    let Some(params) = params else {
        return Ok(default);
    };
    let bytes: [u8; 4] = params.try_into().map_err(|_| CryptoError::BadS2kParams {
        etype,
        len: params.len(),
    })?;
    let count = match u32::from_be_bytes(bytes) {
        0 => 1u64 << 32,
        n => u64::from(n),
    };
    match u32::try_from(count) {
        Ok(n) if n <= MAX_ITERATIONS => Ok(n),
        _ => Err(CryptoError::IterationCountTooLarge {
            iterations: count,
            max: u64::from(MAX_ITERATIONS),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::unhex;

    #[test]
    fn params_select_the_iteration_count() {
        let aes = EncryptionType::AES256_CTS_HMAC_SHA1_96;
        assert_eq!(iterations(aes, None, 4096), Ok(4096));
        assert_eq!(iterations(aes, Some(&[0, 0, 0x04, 0xb0]), 4096), Ok(1200));
        assert_eq!(
            iterations(aes, Some(&[0, 0, 0]), 4096),
            Err(CryptoError::BadS2kParams { etype: aes, len: 3 })
        );
        assert_eq!(
            iterations(aes, Some(&[0, 0, 0, 0]), 4096),
            Err(CryptoError::IterationCountTooLarge {
                iterations: 1 << 32,
                max: 1 << 24
            })
        );
        assert_eq!(
            iterations(aes, Some(&[0xff, 0xff, 0xff, 0xff]), 4096),
            Err(CryptoError::IterationCountTooLarge {
                iterations: 0xffff_ffff,
                max: 1 << 24
            })
        );
    }

    #[test]
    fn rfc3962_b_vector_through_the_public_api() {
        let key = string_to_key(
            EncryptionType::AES128_CTS_HMAC_SHA1_96,
            "password",
            b"ATHENA.MIT.EDUraeburn",
            Some(&[0, 0, 0, 2]),
        )
        .expect("s2k");
        assert_eq!(key.as_bytes(), unhex("c651bf29e2300ac27fa469d693bdda13"));
    }

    #[test]
    fn rc4_ignores_salt_and_refuses_params() {
        let etype = EncryptionType::RC4_HMAC;
        let key = string_to_key(etype, "foo", b"EXAMPLE.COMfoo", None).expect("s2k");
        assert_eq!(key.as_bytes(), unhex("ac8e657f83df82beea5d43bdaf7800cc"));
        assert_eq!(
            string_to_key(etype, "foo", b"", Some(&[0, 0, 16, 0])),
            Err(CryptoError::BadS2kParams { etype, len: 4 })
        );
    }

    #[test]
    fn unknown_etype_is_refused() {
        let etype = EncryptionType::new(16);
        assert_eq!(
            string_to_key(etype, "x", b"", None),
            Err(CryptoError::UnsupportedEtype { etype })
        );
    }
}
