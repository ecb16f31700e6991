//! Kerberos cryptosystem numbers: encryption types, checksum types, key usages.
//!
//! The registries are RFC 3961 section 8 (IANA "Kerberos Encryption Type
//! Numbers" and "Kerberos Checksum Type Numbers"), extended by RFC 3962
//! section 7, RFC 8009 section 6 and RFC 4757 sections 4 and 5. The numbers
//! are quoted in decimal everywhere (MIT, Heimdal and Windows logs), so unknown
//! values print in decimal.

adjoin_ndr::open_enum! {
    decimal
    /// RFC 3961 section 8: an encryption type (`etype`, Int32 on the wire).
    pub struct EncryptionType(i32) {
        /// RFC 3962: AES-128 in CBC-CTS mode with HMAC-SHA1-96.
        AES128_CTS_HMAC_SHA1_96 = 17 => "aes128-cts-hmac-sha1-96",
        /// RFC 3962: AES-256 in CBC-CTS mode with HMAC-SHA1-96.
        AES256_CTS_HMAC_SHA1_96 = 18 => "aes256-cts-hmac-sha1-96",
        /// RFC 8009: AES-128 in CBC-CTS mode with HMAC-SHA-256-128.
        AES128_CTS_HMAC_SHA256_128 = 19 => "aes128-cts-hmac-sha256-128",
        /// RFC 8009: AES-256 in CBC-CTS mode with HMAC-SHA-384-192.
        AES256_CTS_HMAC_SHA384_192 = 20 => "aes256-cts-hmac-sha384-192",
        /// RFC 4757: RC4 with HMAC-MD5 (`KERB_ETYPE_RC4_HMAC`).
        RC4_HMAC = 23 => "arcfour-hmac",
    }
}

adjoin_ndr::open_enum! {
    decimal
    /// RFC 3961 section 8: a checksum type (`cksumtype`, Int32 on the wire).
    pub struct ChecksumType(i32) {
        /// RFC 3962: HMAC-SHA1 truncated to 96 bits, keyed from an AES-128 key.
        HMAC_SHA1_96_AES128 = 15 => "hmac-sha1-96-aes128",
        /// RFC 3962: HMAC-SHA1 truncated to 96 bits, keyed from an AES-256 key.
        HMAC_SHA1_96_AES256 = 16 => "hmac-sha1-96-aes256",
        /// RFC 8009: HMAC-SHA-256 truncated to 128 bits, AES-128 key.
        HMAC_SHA256_128_AES128 = 19 => "hmac-sha256-128-aes128",
        /// RFC 8009: HMAC-SHA-384 truncated to 192 bits, AES-256 key.
        HMAC_SHA384_192_AES256 = 20 => "hmac-sha384-192-aes256",
        /// RFC 4757 section 4: `KERB_CHECKSUM_HMAC_MD5`, used with RC4 keys.
        HMAC_MD5 = -138 => "hmac-md5-arcfour",
    }
}

adjoin_ndr::open_enum! {
    decimal
    /// RFC 4120 section 7.5.1: the key usage number that separates the keys
    /// derived for each purpose (RFC 3961 section 3).
    pub struct KeyUsage(u32) {
        /// AS-REQ PA-ENC-TIMESTAMP, encrypted with the client key.
        AS_REQ_PA_ENC_TIMESTAMP = 1 => "AS-REQ PA-ENC-TIMESTAMP",
        /// AS-REP and TGS-REP ticket, encrypted with the service key.
        KDC_REP_TICKET = 2 => "ticket",
        /// AS-REP encrypted part, encrypted with the client key.
        AS_REP_ENC_PART = 3 => "AS-REP encrypted part",
        /// TGS-REQ authorization data, encrypted with the TGS session key.
        TGS_REQ_AD_SESSION_KEY = 4 => "TGS-REQ authorization data (session key)",
        /// TGS-REQ authorization data, encrypted with the authenticator subkey.
        TGS_REQ_AD_SUBKEY = 5 => "TGS-REQ authorization data (subkey)",
        /// TGS-REQ PA-TGS-REQ authenticator checksum.
        TGS_REQ_AUTH_CKSUM = 6 => "TGS-REQ authenticator checksum",
        /// TGS-REQ PA-TGS-REQ authenticator.
        TGS_REQ_AUTH = 7 => "TGS-REQ authenticator",
        /// TGS-REP encrypted part, encrypted with the TGS session key.
        TGS_REP_ENC_PART_SESSION_KEY = 8 => "TGS-REP encrypted part (session key)",
        /// TGS-REP encrypted part, encrypted with the authenticator subkey.
        TGS_REP_ENC_PART_SUBKEY = 9 => "TGS-REP encrypted part (subkey)",
        /// AP-REQ authenticator checksum.
        AP_REQ_AUTH_CKSUM = 10 => "AP-REQ authenticator checksum",
        /// AP-REQ authenticator.
        AP_REQ_AUTH = 11 => "AP-REQ authenticator",
        /// AP-REP encrypted part.
        AP_REP_ENC_PART = 12 => "AP-REP encrypted part",
        /// KRB-PRIV encrypted part.
        KRB_PRIV_ENC_PART = 13 => "KRB-PRIV encrypted part",
        /// KRB-CRED encrypted part.
        KRB_CRED_ENC_PART = 14 => "KRB-CRED encrypted part",
        /// KRB-SAFE checksum.
        KRB_SAFE_CKSUM = 15 => "KRB-SAFE checksum",
        /// MS-PAC 2.8: `KERB_NON_KERB_CKSUM_SALT`, the PAC signatures.
        KERB_NON_KERB_CKSUM_SALT = 17 => "PAC signature",
        /// RFC 4121 section 2: acceptor seal (wrap with confidentiality).
        GSS_ACCEPTOR_SEAL = 22 => "GSS acceptor seal",
        /// RFC 4121 section 2: acceptor sign (MIC, wrap without confidentiality).
        GSS_ACCEPTOR_SIGN = 23 => "GSS acceptor sign",
        /// RFC 4121 section 2: initiator seal.
        GSS_INITIATOR_SEAL = 24 => "GSS initiator seal",
        /// RFC 4121 section 2: initiator sign.
        GSS_INITIATOR_SIGN = 25 => "GSS initiator sign",
    }
}

/// How an encryption type is built: which RFC's profile it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// RFC 3961 section 5.3 simplified profile with RFC 3962's parameters.
    AesSha1,
    /// RFC 8009 (its own key derivation, HMAC over IV | C).
    AesSha2,
    /// RFC 4757.
    Rc4Hmac,
}

impl EncryptionType {
    /// Every encryption type this module implements, strongest first.
    pub const SUPPORTED: [Self; 5] = [
        Self::AES256_CTS_HMAC_SHA384_192,
        Self::AES128_CTS_HMAC_SHA256_128,
        Self::AES256_CTS_HMAC_SHA1_96,
        Self::AES128_CTS_HMAC_SHA1_96,
        Self::RC4_HMAC,
    ];

    /// Whether this module implements the encryption type.
    pub const fn is_supported(self) -> bool {
        self.profile().is_some()
    }

    /// Length in bytes of the protocol key (RFC 3961 "protocol key format").
    pub const fn key_length(self) -> Option<usize> {
        match self {
            Self::AES128_CTS_HMAC_SHA1_96 | Self::AES128_CTS_HMAC_SHA256_128 => Some(16),
            Self::AES256_CTS_HMAC_SHA1_96 | Self::AES256_CTS_HMAC_SHA384_192 => Some(32),
            Self::RC4_HMAC => Some(16),
            _ => None,
        }
    }

    /// RFC 3961 section 3 "required checksum mechanism" of the etype.
    pub const fn checksum_type(self) -> Option<ChecksumType> {
        match self {
            Self::AES128_CTS_HMAC_SHA1_96 => Some(ChecksumType::HMAC_SHA1_96_AES128),
            Self::AES256_CTS_HMAC_SHA1_96 => Some(ChecksumType::HMAC_SHA1_96_AES256),
            Self::AES128_CTS_HMAC_SHA256_128 => Some(ChecksumType::HMAC_SHA256_128_AES128),
            Self::AES256_CTS_HMAC_SHA384_192 => Some(ChecksumType::HMAC_SHA384_192_AES256),
            Self::RC4_HMAC => Some(ChecksumType::HMAC_MD5),
            _ => None,
        }
    }

    /// Length of the random confounder that encryption prepends: one AES
    /// block (RFC 3961 section 5.3 "c"), or 8 bytes for RC4 (RFC 4757
    /// section 5).
    pub const fn confounder_length(self) -> Option<usize> {
        match self.profile() {
            Some(Profile::AesSha1 | Profile::AesSha2) => Some(16),
            Some(Profile::Rc4Hmac) => Some(8),
            None => None,
        }
    }

    /// Bytes that encryption adds to a plaintext (confounder and checksum).
    pub const fn overhead(self) -> Option<usize> {
        match self.profile() {
            Some(Profile::AesSha1) => Some(16 + 12),
            Some(Profile::AesSha2) => match self.mac_length() {
                Some(h) => Some(16 + h),
                None => None,
            },
            Some(Profile::Rc4Hmac) => Some(16 + 8),
            None => None,
        }
    }

    pub(crate) const fn profile(self) -> Option<Profile> {
        match self {
            Self::AES128_CTS_HMAC_SHA1_96 | Self::AES256_CTS_HMAC_SHA1_96 => Some(Profile::AesSha1),
            Self::AES128_CTS_HMAC_SHA256_128 | Self::AES256_CTS_HMAC_SHA384_192 => {
                Some(Profile::AesSha2)
            }
            Self::RC4_HMAC => Some(Profile::Rc4Hmac),
            _ => None,
        }
    }

    /// RFC 8009 section 5: HMAC output length `h` in bytes.
    const fn mac_length(self) -> Option<usize> {
        match self {
            Self::AES128_CTS_HMAC_SHA256_128 => Some(16),
            Self::AES256_CTS_HMAC_SHA384_192 => Some(24),
            _ => None,
        }
    }
}

impl ChecksumType {
    /// The encryption type whose keys this checksum is computed with.
    pub const fn etype(self) -> Option<EncryptionType> {
        match self {
            Self::HMAC_SHA1_96_AES128 => Some(EncryptionType::AES128_CTS_HMAC_SHA1_96),
            Self::HMAC_SHA1_96_AES256 => Some(EncryptionType::AES256_CTS_HMAC_SHA1_96),
            Self::HMAC_SHA256_128_AES128 => Some(EncryptionType::AES128_CTS_HMAC_SHA256_128),
            Self::HMAC_SHA384_192_AES256 => Some(EncryptionType::AES256_CTS_HMAC_SHA384_192),
            Self::HMAC_MD5 => Some(EncryptionType::RC4_HMAC),
            _ => None,
        }
    }

    /// Length in bytes of the checksum value.
    pub const fn length(self) -> Option<usize> {
        match self {
            Self::HMAC_SHA1_96_AES128 | Self::HMAC_SHA1_96_AES256 => Some(12),
            Self::HMAC_SHA256_128_AES128 | Self::HMAC_MD5 => Some(16),
            Self::HMAC_SHA384_192_AES256 => Some(24),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_known_values_and_prints_unknown_ones() {
        assert_eq!(
            format!("{:?}", EncryptionType::AES256_CTS_HMAC_SHA1_96),
            "AES256_CTS_HMAC_SHA1_96"
        );
        assert_eq!(
            format!("{:?}", EncryptionType::new(25)),
            "EncryptionType(25)"
        );
        assert_eq!(format!("{:?}", ChecksumType::new(-138)), "HMAC_MD5");
        assert_eq!(format!("{:?}", ChecksumType::new(-1)), "ChecksumType(-1)");
        assert_eq!(EncryptionType::RC4_HMAC.to_string(), "arcfour-hmac");
        assert_eq!(EncryptionType::new(3).to_string(), "3");
    }

    #[test]
    fn values_match_the_registries() {
        assert_eq!(i32::from(EncryptionType::AES128_CTS_HMAC_SHA1_96), 17);
        assert_eq!(i32::from(EncryptionType::AES256_CTS_HMAC_SHA1_96), 18);
        assert_eq!(i32::from(EncryptionType::AES128_CTS_HMAC_SHA256_128), 19);
        assert_eq!(i32::from(EncryptionType::AES256_CTS_HMAC_SHA384_192), 20);
        assert_eq!(i32::from(EncryptionType::RC4_HMAC), 23);
        assert_eq!(ChecksumType::HMAC_MD5.value(), -138);
        assert_eq!(KeyUsage::from(3), KeyUsage::AS_REP_ENC_PART);
    }

    #[test]
    fn every_supported_etype_has_a_checksum_of_its_own_keys() {
        for etype in EncryptionType::SUPPORTED {
            let cksum = etype
                .checksum_type()
                .expect("supported etype has a checksum");
            assert_eq!(cksum.etype(), Some(etype));
            assert!(etype.key_length().is_some() && etype.overhead().is_some());
        }
        assert!(!EncryptionType::new(1).is_supported());
    }
}
