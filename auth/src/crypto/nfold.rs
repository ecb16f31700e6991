//! RFC 3961 section 5.1: n-fold.
//!
//! ```text
//! To n-fold a number X, replicate the input value to a length that
//! is the least common multiple of n and the length of X.  Before
//! each repetition, the input is rotated to the right by 13 bit
//! positions.  The successive n-bit chunks are added together using
//! 1's-complement addition (that is, with end-around carry) to yield
//! a n-bit result.
//! ```

/// Stretches or folds `input` to `out_len` bytes (RFC 3961 section 5.1).
///
/// Meant for the short constants of key derivation ("kerberos", "prf", a key
/// usage): the work grows with the least common multiple of the two lengths.
/// An empty input folds to zeros.
pub(crate) fn nfold(input: &[u8], out_len: usize) -> Vec<u8> {
    let mut out = vec![0u8; out_len];
    if input.is_empty() || out_len == 0 {
        return out;
    }
    let total = lcm(input.len(), out_len);
    // Add the replicated stream (copy c is the input rotated right by 13 * c
    // bits) into `out`, least significant byte first; the carry out of one
    // chunk flows into the next (end-around). `total` is a multiple of
    // `out_len`, so the last stream byte lands in the last output byte.
    let n = input.len();
    let mut slot = out_len;
    let mut carry = 0u32;
    for copy in (0..total / n).rev() {
        let rotation = Rotation::new(n, 13 * copy);
        for k in (0..n).rev() {
            slot = slot.checked_sub(1).unwrap_or(out_len - 1);
            carry += u32::from(out[slot]) + u32::from(rotation.byte(input, k));
            out[slot] = carry.to_le_bytes()[0];
            carry >>= 8;
        }
    }
    // The final end-around carry (one pass, as MIT krb5 does).
    for slot in out.iter_mut().rev() {
        if carry == 0 {
            break;
        }
        carry += u32::from(*slot);
        *slot = carry.to_le_bytes()[0];
        carry >>= 8;
    }
    out
}

/// A right rotation by some number of bits of an `n`-byte string taken as
/// one big-endian bit string.
struct Rotation {
    bytes: usize,
    shift: u32,
}

impl Rotation {
    fn new(n: usize, bits: usize) -> Self {
        let bits = bits % (n * 8);
        Self {
            bytes: bits / 8,
            shift: (bits % 8) as u32,
        }
    }

    /// Byte `k` of the rotated `input` (`k < input.len()`).
    fn byte(&self, input: &[u8], k: usize) -> u8 {
        let n = input.len();
        let hi = if k >= self.bytes {
            k - self.bytes
        } else {
            k + n - self.bytes
        };
        let lo = if hi == 0 { n - 1 } else { hi - 1 };
        match self.shift {
            0 => input[hi],
            s => (input[hi] >> s) | (input[lo] << (8 - s)),
        }
    }
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b) * b
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::unhex;

    /// RFC 3961 appendix A.1: (input, output bits, expected).
    const VECTORS: &[(&[u8], usize, &str)] = &[
        (b"012345", 64, "be072631276b1955"),
        (b"password", 56, "78a07b6caf85fa"),
        (b"Rough Consensus, and Running Code", 64, "bb6ed30870b7f0e0"),
        (
            b"password",
            168,
            "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e",
        ),
        (
            b"MASSACHVSETTS INSTITVTE OF TECHNOLOGY",
            192,
            "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b",
        ),
        (b"Q", 168, "518a54a2 15a8452a 518a54a2 15a8452a 518a54a2 15"),
        (
            b"ba",
            168,
            "fb25d531 ae897449 9f52fd92 ea9857c4 ba24cf29 7e",
        ),
        (b"kerberos", 64, "6b657262 65726f73"),
        (b"kerberos", 128, "6b657262 65726f73 7b9b5b2b 93132b93"),
        (
            b"kerberos",
            168,
            "8372c236 344e5f15 50cd0747 e15d62ca 7a5a3bce a4",
        ),
        (
            b"kerberos",
            256,
            "6b657262 65726f73 7b9b5b2b 93132b93 5c9bdcda d95c9899 c4cae4de e6d6cae4",
        ),
    ];

    #[test]
    fn rfc3961_a1_nfold_vectors() {
        for (input, bits, expected) in VECTORS {
            assert_eq!(
                nfold(input, bits / 8),
                unhex(expected),
                "{bits}-fold({input:?})"
            );
        }
    }

    #[test]
    fn degenerate_lengths_do_not_panic() {
        assert_eq!(nfold(b"", 16), vec![0; 16]);
        assert!(nfold(b"abc", 0).is_empty());
    }
}
