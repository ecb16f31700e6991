//! Offline logon verifiers: after each online logon, a salted slow hash of the password
//! (PBKDF2-HMAC-SHA256, 310,000 iterations by default) stored as a root-only registry
//! secret under `HKEY_THIS_MACHINE\Secrets\OfflineVerifiers`, named by the user's SID.
//!
//! Stored text: `pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX$PWD_LAST_SET$STORED_AT`.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The registry key of the verifiers (a secret key: root only).
pub const VERIFIERS_KEY: &str = r"HKEY_THIS_MACHINE\Secrets\OfflineVerifiers";
/// PBKDF2 iterations for new verifiers.
pub const ITERATIONS: u32 = 310_000;

/// One user's verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    iterations: u32,
    salt: [u8; 16],
    hash: Zeroizing<[u8; 32]>,
    /// The pwdLastSet the DC reported when it was made: a newer one means the password
    /// changed elsewhere and the verifier is void.
    pub pwd_last_set: u64,
    /// When it was made (unix seconds).
    pub stored_at: u64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("iterations", &self.iterations)
            .field("hash", &"<redacted>")
            .field("pwd_last_set", &self.pwd_last_set)
            .field("stored_at", &self.stored_at)
            .finish()
    }
}

fn derive(password: &str, salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, out.as_mut());
    out
}

impl Verifier {
    /// A verifier for `password` with a fresh random salt.
    pub fn new(
        password: &str,
        iterations: u32,
        pwd_last_set: u64,
        stored_at: u64,
    ) -> Result<Self, getrandom::Error> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)?;
        Ok(Self {
            iterations,
            hash: derive(password, &salt, iterations),
            salt,
            pwd_last_set,
            stored_at,
        })
    }

    /// True when `password` is the one the verifier was made from (constant-time compare).
    pub fn matches(&self, password: &str) -> bool {
        let got = derive(password, &self.salt, self.iterations);
        bool::from(got.as_slice().ct_eq(self.hash.as_slice()))
    }

    /// The stored text form.
    pub fn encode(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "pbkdf2-sha256${}${}${}${}${}",
            self.iterations,
            hex(&self.salt),
            hex(self.hash.as_slice()),
            self.pwd_last_set,
            self.stored_at
        ))
    }

    /// Parses the stored text form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('$');
        if parts.next()? != "pbkdf2-sha256" {
            return None;
        }
        let iterations: u32 = parts
            .next()?
            .parse()
            .ok()
            .filter(|n| (1_000..=10_000_000).contains(n))?;
        let salt: [u8; 16] = unhex(parts.next()?)?.try_into().ok()?;
        let hash: [u8; 32] = unhex(parts.next()?)?.try_into().ok()?;
        let pwd_last_set = parts.next()?.parse().ok()?;
        let stored_at = parts.next()?.parse().ok()?;
        parts.next().is_none().then(|| Self {
            iterations,
            salt,
            hash: Zeroizing::new(hash),
            pwd_last_set,
            stored_at,
        })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_password_and_nothing_else() {
        let v = Verifier::new("Alice-Lab-Pass1!", 1_000, 42, 7).unwrap();
        assert!(v.matches("Alice-Lab-Pass1!"));
        assert!(!v.matches("Alice-Lab-Pass1"));
        assert!(!v.matches(""));
        let back = Verifier::decode(&v.encode()).unwrap();
        assert_eq!(back, v);
        assert!(back.matches("Alice-Lab-Pass1!"));
        assert_eq!((back.pwd_last_set, back.stored_at), (42, 7));
        assert!(!format!("{v:?}").contains(&hex(v.hash.as_slice())));
    }

    #[test]
    fn rfc6070_style_vector_pbkdf2_sha256() {
        // PBKDF2-HMAC-SHA256("password", "salt", 1) from RFC 7914 section 11's companion
        // vectors (the widely published first test vector).
        let out = derive("password", b"salt", 1);
        assert_eq!(
            hex(out.as_slice()),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "",
            "md5$1$2$3$4$5",
            "pbkdf2-sha256$10$00$00$0$0",
            "pbkdf2-sha256$5000$zz$00$0$0",
        ] {
            assert!(Verifier::decode(bad).is_none(), "{bad}");
        }
        let good = Verifier::new("x", 1_000, 0, 0).unwrap().encode();
        assert!(Verifier::decode(&format!("{}$extra", good.as_str())).is_none());
    }
}
