//! MS-PAC 2.8 PAC_SIGNATURE_DATA (the server signature, type 6, and the KDC
//! signature, type 7) and their checks (2.8.1, 2.8.2).

use super::PacBufferType;
use super::error::PacError;
use super::reader::Reader;
use crate::crypto::{ChecksumType, CryptoError, Key, KeyUsage};

/// MS-PAC 2.8 PAC_SIGNATURE_DATA.
///
/// ```text
/// SignatureType (i32: a keyed checksum type)
/// Signature (12 bytes for hmac-sha1-96-aes*, 16 for HMAC-MD5, ...)
/// RODCIdentifier (u16, optional: only in PACs signed by an RODC's krbtgt)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureData {
    /// The checksum type; its key is the service's (server signature) or
    /// the krbtgt's (KDC signature).
    pub signature_type: ChecksumType,
    /// The checksum value.
    pub signature: Vec<u8>,
    /// MS-PAC 2.8: the krbtgt key version number's high 16 bits of a
    /// read-only DC (which krbtgt_NNNNN account signed); absent for a
    /// writable DC.
    pub rodc_identifier: Option<u16>,
}

impl SignatureData {
    /// Decodes a signature buffer of type `ty`. The signature's length comes
    /// from its type; all that may follow is a 2-byte RODCIdentifier.
    pub fn parse(ty: PacBufferType, bytes: &[u8]) -> Result<Self, PacError> {
        let mut r = Reader::new("PAC_SIGNATURE_DATA", bytes);
        let signature_type = ChecksumType::new(r.i32()?);
        let Some(len) = signature_type.length() else {
            return Err(PacError::UnsupportedChecksum {
                cksumtype: signature_type,
            });
        };
        let bad_length = || PacError::BadSignatureLength {
            ty,
            len: bytes.len(),
            cksumtype: signature_type,
        };
        let signature = r.take(len).map_err(|_| bad_length())?.to_vec();
        let rodc_identifier = match r.remaining() {
            0 => None,
            2 => Some(r.u16()?),
            _ => return Err(bad_length()),
        };
        Ok(Self {
            signature_type,
            signature,
            rodc_identifier,
        })
    }

    /// Checks the signature over `data` with `key` (key usage 17,
    /// KERB_NON_KERB_CKSUM_SALT), with the checksum type the buffer names.
    pub(crate) fn verify(&self, ty: PacBufferType, key: &Key, data: &[u8]) -> Result<(), PacError> {
        // MS-PAC 2.8: the signature types are keyed checksums; the crypto
        // layer computes only keyed ones and refuses a key of another etype.
        let usage = KeyUsage::KERB_NON_KERB_CKSUM_SALT;
        match key.verify_mic(usage, self.signature_type, data, &self.signature) {
            Ok(()) => Ok(()),
            Err(CryptoError::ChecksumMismatch) => Err(PacError::SignatureMismatch { ty }),
            Err(source) => Err(PacError::Crypto { ty, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EncryptionType;

    const PAC: &[u8] = include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin");

    #[test]
    fn decodes_hmac_md5_signatures() {
        let server =
            SignatureData::parse(PacBufferType::SERVER_CHECKSUM, &PAC[0x240..0x254]).unwrap();
        assert_eq!(server.signature_type, ChecksumType::HMAC_MD5);
        assert_eq!(server.signature.len(), 16);
        assert_eq!(server.rodc_identifier, None);
    }

    #[test]
    fn rodc_identifier_follows_the_signature() {
        let mut bytes = 16i32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0xaa; 12]);
        bytes.extend_from_slice(&46673u16.to_le_bytes());
        let sig = SignatureData::parse(PacBufferType::KDC_CHECKSUM, &bytes).unwrap();
        assert_eq!(sig.signature_type, ChecksumType::HMAC_SHA1_96_AES256);
        assert_eq!(sig.rodc_identifier, Some(46673));
        bytes.push(0);
        assert!(matches!(
            SignatureData::parse(PacBufferType::KDC_CHECKSUM, &bytes),
            Err(PacError::BadSignatureLength { len: 19, .. })
        ));
        assert!(SignatureData::parse(PacBufferType::KDC_CHECKSUM, &bytes[..10]).is_err());
    }

    #[test]
    fn unkeyed_or_unknown_types_are_refused() {
        // 7 is RSA-MD5, unkeyed: anyone could forge it.
        let mut bytes = 7i32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(
            SignatureData::parse(PacBufferType::SERVER_CHECKSUM, &bytes),
            Err(PacError::UnsupportedChecksum {
                cksumtype: ChecksumType::new(7)
            })
        );
    }

    #[test]
    fn a_key_of_another_etype_is_a_crypto_error() {
        let sig = SignatureData::parse(PacBufferType::SERVER_CHECKSUM, &PAC[0x240..0x254]).unwrap();
        let aes = Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[0; 32]).unwrap();
        assert!(matches!(
            sig.verify(PacBufferType::SERVER_CHECKSUM, &aes, b"x"),
            Err(PacError::Crypto { .. })
        ));
    }
}
