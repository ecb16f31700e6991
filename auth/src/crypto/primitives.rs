//! Small helpers over the RustCrypto primitives shared by the profiles.

use hmac::{EagerHash, Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::error::CryptoError;

/// RFC 2104 HMAC of the concatenation of `parts`, untruncated.
pub(crate) fn hmac<D: EagerHash>(key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let mut mac = new_hmac::<D>(key);
    for part in parts {
        mac.update(part);
    }
    Zeroizing::new(mac.finalize().into_bytes().to_vec())
}

/// HMAC keyed with `key`, to feed incrementally.
pub(crate) fn new_hmac<D: EagerHash>(key: &[u8]) -> Hmac<D> {
    // RFC 2104 section 2 defines HMAC for keys of any length (longer keys
    // are hashed first), and the hmac crate implements exactly that: its
    // `new_from_slice` has no failing path. The keys here are derived keys
    // of 16 to 48 bytes, never peer-chosen lengths.
    <Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// Constant-time comparison of a computed MAC with a received one.
pub(crate) fn macs_equal(computed: &[u8], received: &[u8]) -> bool {
    computed.ct_eq(received).into()
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn os_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|e| CryptoError::RandomSourceFailed {
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::unhex;

    #[test]
    fn hmac_matches_rfc2202_test_case_2() {
        // RFC 2202 section 3, test case 2 (HMAC-SHA-1, key "Jefe").
        let mac = hmac::<sha1::Sha1>(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(*mac, unhex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
    }

    #[test]
    fn mac_comparison_rejects_length_and_content_differences() {
        assert!(macs_equal(b"abc", b"abc"));
        assert!(!macs_equal(b"abc", b"abd"));
        assert!(!macs_equal(b"abc", b"ab"));
    }
}
