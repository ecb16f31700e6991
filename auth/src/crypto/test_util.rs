//! Test helpers: hex decoding, a deterministic RNG, and mutated copies of
//! real messages for the decoders' no-panic properties.

use core::convert::Infallible;

use proptest::prelude::*;
use rand_core::{TryCryptoRng, TryRng};

/// Decodes hex, ignoring whitespace, so vectors paste straight from the RFCs.
pub(crate) fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => panic!("not a hex digit: {:?}", char::from(b)),
        })
        .collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd number of hex digits in {text:?}"
    );
    digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
}

/// One of `bases` with up to `max_edits` bytes overwritten, bit-flipped,
/// inserted or cut off.
pub(crate) fn mutated(bases: Vec<Vec<u8>>, max_edits: usize) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec(
        (any::<prop::sample::Index>(), any::<u8>(), 0u8..4),
        1..max_edits,
    );
    (prop::sample::select(bases), edits).prop_map(|(mut bytes, edits)| {
        for (at, value, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = value,
                1 => bytes[i] ^= 1 << (value % 8),
                2 => bytes.insert(i, value),
                _ => bytes.truncate(i),
            }
        }
        bytes
    })
}

/// An RNG that returns 0, 1, 2, ... (wrapping), starting at its seed.
pub(crate) struct CountingRng(pub(crate) u8);

impl CountingRng {
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.0;
            self.0 = self.0.wrapping_add(1);
        }
    }
}

impl TryRng for CountingRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for CountingRng {}
