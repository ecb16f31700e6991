//! Kerberos cryptosystems (RFC 3961 framework), sans-IO and pure Rust on the
//! RustCrypto primitives.
//!
//! | etype | spec | file |
//! |---|---|---|
//! | aes256/aes128-cts-hmac-sha1-96 (18, 17) | RFC 3961 section 5.3 + RFC 3962 | `aes_sha1.rs` |
//! | aes128-cts-hmac-sha256-128 (19), aes256-cts-hmac-sha384-192 (20) | RFC 8009 | `aes_sha2.rs` |
//! | rc4-hmac (23) | RFC 4757 | `rc4_hmac.rs` |
//!
//! Shared pieces: n-fold (RFC 3961 section 5.1) in `nfold.rs`, AES CBC-CTS
//! (RFC 3962 section 5) in `cts.rs`, string-to-key parameters in `s2k.rs`.
//!
//! ```
//! use adjoin_auth::crypto::{string_to_key, EncryptionType, KeyUsage};
//!
//! let key = string_to_key(
//!     EncryptionType::AES256_CTS_HMAC_SHA1_96,
//!     "password",
//!     b"EXAMPLE.TESTalice",
//!     None,
//! )?;
//! let sealed = key.encrypt(KeyUsage::AP_REQ_AUTH, b"authenticator")?;
//! assert_eq!(key.decrypt(KeyUsage::AP_REQ_AUTH, &sealed)?, b"authenticator");
//! # Ok::<(), adjoin_auth::crypto::CryptoError>(())
//! ```

mod aes_sha1;
mod aes_sha2;
mod cts;
mod error;
mod key;
mod nfold;
pub(crate) mod primitives;
mod rc4_hmac;
mod s2k;
#[cfg(test)]
pub(crate) mod test_util;
mod types;

pub use error::CryptoError;
pub use key::{Key, random_to_key};
pub use s2k::{MAX_ITERATIONS, string_to_key};
pub use types::{ChecksumType, EncryptionType, KeyUsage};
