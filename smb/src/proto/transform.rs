//! MS-SMB2 2.2.41 SMB2 TRANSFORM_HEADER: what an encrypted message travels in.

use adjoin_rpc::codec::{Codec, Reader};

use crate::error::SmbError;

/// `ProtocolId` of a TRANSFORM_HEADER.
pub const TRANSFORM_PROTOCOL_ID: [u8; 4] = [0xfd, b'S', b'M', b'B'];
/// Length of the TRANSFORM_HEADER.
pub const TRANSFORM_HEADER_LEN: usize = 52;
/// Where the authenticated data starts: everything after `Signature`.
pub const TRANSFORM_AAD_AT: usize = 20;

/// MS-SMB2 2.2.41 SMB2 TRANSFORM_HEADER.
///
/// ```text
/// ProtocolId(4)=0xFD 'SMB' Signature(16) Nonce(16) OriginalMessageSize(4) Reserved(2)
/// Flags/EncryptionAlgorithm(2)=0x0001 SessionId(8)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransformHeader {
    /// `Signature`: the AEAD tag.
    pub signature: [u8; 16],
    /// `Nonce` (11 bytes for CCM, 12 for GCM, then zeros).
    pub nonce: [u8; 16],
    /// `OriginalMessageSize`.
    pub original_message_size: u32,
    /// `Flags` (3.1.1) / `EncryptionAlgorithm` (3.0.x): 1, encrypted.
    pub flags: u16,
    /// `SessionId`.
    pub session_id: u64,
}

impl TransformHeader {
    /// SMB2_TRANSFORM_HEADER_FLAG_ENCRYPTED / SMB2_ENCRYPTION_AES128_CCM.
    pub const ENCRYPTED: u16 = 0x0001;

    /// Whether `msg` starts with a TRANSFORM_HEADER.
    pub fn is_transform(msg: &[u8]) -> bool {
        msg.starts_with(&TRANSFORM_PROTOCOL_ID)
    }
}

impl Codec for TransformHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&TRANSFORM_PROTOCOL_ID);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.nonce);
        self.original_message_size.encode(out);
        0u16.encode(out);
        self.flags.encode(out);
        self.session_id.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, adjoin_rpc::DecodeError> {
        r.set_what("SMB2 TRANSFORM_HEADER");
        if r.array::<4>()? != TRANSFORM_PROTOCOL_ID {
            return Err(adjoin_rpc::DecodeError::Invalid {
                what: "SMB2 TRANSFORM_HEADER",
                why: "ProtocolId is not 0xFD 'SMB'",
            });
        }
        let signature = r.array()?;
        let nonce = r.array()?;
        let original_message_size = r.u32()?;
        r.u16()?;
        Ok(Self {
            signature,
            nonce,
            original_message_size,
            flags: r.u16()?,
            session_id: r.u64()?,
        })
    }
}

/// Splits a received encrypted message into its header and ciphertext, checking the
/// size the header announces (MS-SMB2 3.2.5.1.1.1).
pub fn read_transform(msg: &[u8]) -> Result<(TransformHeader, &[u8]), SmbError> {
    let mut r = Reader::new("SMB2 TRANSFORM_HEADER", msg);
    let header = TransformHeader::read(&mut r)?;
    let body = r.rest();
    if header.flags != TransformHeader::ENCRYPTED {
        return Err(SmbError::Malformed {
            what: "SMB2 TRANSFORM_HEADER",
            why: "Flags is not 1 (encrypted)",
        });
    }
    if header.original_message_size as usize != body.len() {
        return Err(SmbError::Malformed {
            what: "SMB2 TRANSFORM_HEADER",
            why: "OriginalMessageSize differs from the encrypted length",
        });
    }
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_header_is_52_bytes_and_checks_its_size() {
        let h = TransformHeader {
            signature: [1; 16],
            nonce: [2; 16],
            original_message_size: 3,
            flags: TransformHeader::ENCRYPTED,
            session_id: 9,
        };
        let mut msg = h.to_bytes();
        assert_eq!(msg.len(), TRANSFORM_HEADER_LEN);
        assert!(TransformHeader::is_transform(&msg));
        msg.extend_from_slice(&[7, 7, 7]);
        let (back, body) = read_transform(&msg).unwrap();
        assert_eq!((back, body), (h, &[7u8, 7, 7][..]));
        assert!(read_transform(&msg[..msg.len() - 1]).is_err());
        assert!(read_transform(&msg[..20]).is_err());
    }
}
