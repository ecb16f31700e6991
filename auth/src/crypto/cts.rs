//! RFC 3962 section 5: AES in CBC mode with ciphertext stealing (CBC-CTS).
//!
//! ```text
//! Ciphertext stealing, as defined in [RC5], assumes that more than one
//! block of plain text is available.  If exactly one block is to be
//! encrypted, that block is simply encrypted with AES (also known as ECB
//! mode). [...] If the data length is a multiple of the block size, this
//! is equivalent to plain CBC mode with the last two ciphertext blocks
//! swapped.
//! ```
//!
//! Kerberos always starts from the all-zero initial cipher state (RFC 3961
//! section 5.3 "initial cipher state"), so the IV is fixed at zero here.

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes256, Block};

use super::error::CryptoError;
use super::types::EncryptionType;

/// AES block size in bytes.
pub(crate) const BLOCK: usize = 16;

/// An expanded AES-128 or AES-256 key (the key schedule zeroizes on drop).
pub(crate) enum Aes {
    Aes128(Aes128),
    Aes256(Aes256),
}

impl Aes {
    /// Expands a 16- or 32-byte key; `None` for any other length.
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => Aes128::new_from_slice(key).ok().map(Self::Aes128),
            32 => Aes256::new_from_slice(key).ok().map(Self::Aes256),
            _ => None,
        }
    }

    /// Expands the key of an AES encryption type, or says its length is wrong.
    pub(crate) fn for_etype(etype: EncryptionType, key: &[u8]) -> Result<Self, CryptoError> {
        Self::new(key).ok_or(CryptoError::BadKeyLength {
            etype,
            len: key.len(),
            expected: etype.key_length().unwrap_or(0),
        })
    }

    /// E(K, block) on one block in place.
    pub(crate) fn encrypt_block(&self, block: &mut [u8; BLOCK]) {
        let mut b = Block::from(*block);
        match self {
            Self::Aes128(c) => c.encrypt_block(&mut b),
            Self::Aes256(c) => c.encrypt_block(&mut b),
        }
        block.copy_from_slice(&b);
    }

    fn decrypt_blocks(&self, blocks: &mut [Block]) {
        match self {
            Self::Aes128(c) => c.decrypt_blocks(blocks),
            Self::Aes256(c) => c.decrypt_blocks(blocks),
        }
    }
}

/// CBC-CTS encryption with a zero IV; output length equals input length.
///
/// Inputs shorter than one block never occur in Kerberos (the confounder is
/// one block) and are refused.
pub(crate) fn encrypt(aes: &Aes, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if data.len() < BLOCK {
        return Err(CryptoError::CiphertextTooShort {
            len: data.len(),
            min: BLOCK,
        });
    }
    let blocks = data.len().div_ceil(BLOCK);
    let mut out = Vec::with_capacity(blocks * BLOCK);
    let mut chain = [0u8; BLOCK];
    for chunk in data.chunks(BLOCK) {
        // A short last chunk is padded with zeros (XOR with nothing).
        for (c, p) in chain.iter_mut().zip(chunk) {
            *c ^= p;
        }
        aes.encrypt_block(&mut chain);
        out.extend_from_slice(&chain);
    }
    if blocks > 1 {
        swap_last_two(&mut out, data.len());
    }
    Ok(out)
}

/// Puts C(n) before C(n-1) and keeps only as much of C(n-1) as the last
/// plaintext block had bytes.
fn swap_last_two(out: &mut Vec<u8>, len: usize) {
    let start = out.len() - 2 * BLOCK;
    let (head, last) = out[start..].split_at_mut(BLOCK);
    head.swap_with_slice(last);
    out.truncate(len);
}

/// CBC-CTS decryption with a zero IV; output length equals input length.
pub(crate) fn decrypt(aes: &Aes, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if data.len() < BLOCK {
        return Err(CryptoError::CiphertextTooShort {
            len: data.len(),
            min: BLOCK,
        });
    }
    let n = data.len().div_ceil(BLOCK);
    if n == 1 {
        let mut out = data.to_vec();
        cbc_decrypt_in_place(aes, &mut out, data);
        return Ok(out);
    }
    // Layout: C1 .. C(n-2) | C(n) (full) | C(n-1) truncated to `tail` bytes.
    let tail = data.len() - (n - 1) * BLOCK;
    let last_full = (n - 2) * BLOCK;
    let prev: [u8; BLOCK] = match last_full {
        0 => [0; BLOCK],
        _ => block_at(data, last_full - BLOCK),
    };
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..last_full]);
    cbc_decrypt_in_place(aes, &mut out, data);
    // D(C(n)) = C(n-1) XOR (P(n) | 0): yields P(n) and the stolen tail of C(n-1).
    let mut dn = block_at(data, last_full);
    aes_decrypt_block(aes, &mut dn);
    let mut cn1 = dn;
    cn1[..tail].copy_from_slice(&data[last_full + BLOCK..]);
    let mut pn1 = cn1;
    aes_decrypt_block(aes, &mut pn1);
    xor_in_place(&mut pn1, &prev);
    xor_in_place(&mut dn[..tail], &cn1[..tail]);
    out.extend_from_slice(&pn1);
    out.extend_from_slice(&dn[..tail]);
    Ok(out)
}

/// Plain CBC decryption in place of `out`, which holds a copy of the whole
/// blocks of `data`; the AES work runs in parallel.
fn cbc_decrypt_in_place(aes: &Aes, out: &mut [u8], data: &[u8]) {
    let (blocks, _) = Block::slice_as_chunks_mut(out);
    aes.decrypt_blocks(blocks);
    let mut previous: &[u8] = &[0; BLOCK];
    for (p, c) in out.chunks_exact_mut(BLOCK).zip(data.chunks_exact(BLOCK)) {
        xor_in_place(p, previous);
        previous = c;
    }
}

fn aes_decrypt_block(aes: &Aes, block: &mut [u8; BLOCK]) {
    let mut b = [Block::from(*block)];
    aes.decrypt_blocks(&mut b);
    block.copy_from_slice(&b[0]);
}

/// The 16 bytes of `data` at `offset`; zeros past the end.
fn block_at(data: &[u8], offset: usize) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    if let Some(src) = data.get(offset..) {
        let n = src.len().min(BLOCK);
        block[..n].copy_from_slice(&src[..n]);
    }
    block
}

pub(crate) fn xor_in_place(a: &mut [u8], b: &[u8]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::unhex;

    const KEY: &[u8] = b"chicken teriyaki";
    const INPUT: &[u8] = b"I would like the General Gau's Chicken, please, and wonton soup.";

    /// RFC 3962 appendix B, CBC-CTS with a zero IV: (input length, output).
    const VECTORS: &[(usize, &str)] = &[
        (17, "c6353568f2bf8cb4d8a580362da7ff7f 97"),
        (
            31,
            "fc00783e0efdb2c1d445d4c8eff7ed22 97687268d6ecccc0c07b25e25ecfe5",
        ),
        (
            32,
            "39312523a78662d5be7fcbcc98ebf5a8 97687268d6ecccc0c07b25e25ecfe584",
        ),
        (
            47,
            "97687268d6ecccc0c07b25e25ecfe584 b3fffd940c16a18c1b5549d2f838029e \
             39312523a78662d5be7fcbcc98ebf5",
        ),
        (
            48,
            "97687268d6ecccc0c07b25e25ecfe584 9dad8bbb96c4cdc03bc103e1a194bbd8 \
             39312523a78662d5be7fcbcc98ebf5a8",
        ),
        (
            64,
            "97687268d6ecccc0c07b25e25ecfe584 39312523a78662d5be7fcbcc98ebf5a8 \
             4807efe836ee89a526730dbc2f7bc840 9dad8bbb96c4cdc03bc103e1a194bbd8",
        ),
    ];

    #[test]
    fn rfc3962_b_cts_vectors() {
        let aes = Aes::new(KEY).expect("16-byte key");
        let input = INPUT;
        for (len, expected) in VECTORS {
            let expected = unhex(expected);
            let out = encrypt(&aes, &input[..*len]).expect("encrypt");
            assert_eq!(out, expected, "encrypt {len}");
            assert_eq!(
                decrypt(&aes, &out).expect("decrypt"),
                &input[..*len],
                "decrypt {len}"
            );
        }
    }

    #[test]
    fn one_block_is_ecb_and_short_input_is_refused() {
        let aes = Aes::new(KEY).expect("16-byte key");
        let mut block = [7u8; BLOCK];
        let out = encrypt(&aes, &block).expect("encrypt");
        aes.encrypt_block(&mut block);
        assert_eq!(out, block);
        assert!(encrypt(&aes, &[0; 15]).is_err());
        assert!(decrypt(&aes, &[0; 15]).is_err());
    }
}
