//! MS-NLMP 2.2.2.5 NEGOTIATE flags and 2.2.2.10 VERSION.

use bitflags::bitflags;

use super::error::NtlmError;
use super::wire::Reader;

bitflags! {
    /// MS-NLMP 2.2.2.5 NEGOTIATE: the NegotiateFlags of all three messages.
    ///
    /// Unnamed (reserved) bits read off the wire are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NegotiateFlags: u32 {
        /// A: strings are UTF-16LE.
        const NEGOTIATE_UNICODE = 0x0000_0001;
        /// B: strings are in the OEM code page.
        const NEGOTIATE_OEM = 0x0000_0002;
        /// C: the server must return TargetName.
        const REQUEST_TARGET = 0x0000_0004;
        /// D: message integrity (signing).
        const NEGOTIATE_SIGN = 0x0000_0010;
        /// E: message confidentiality (sealing).
        const NEGOTIATE_SEAL = 0x0000_0020;
        /// F: connectionless authentication.
        const NEGOTIATE_DATAGRAM = 0x0000_0040;
        /// G: LAN Manager session key computation.
        const NEGOTIATE_LM_KEY = 0x0000_0080;
        /// H: NTLM v1 session security (always set by Windows).
        const NEGOTIATE_NTLM = 0x0000_0200;
        /// J: anonymous connection.
        const ANONYMOUS = 0x0000_0800;
        /// K: the NEGOTIATE_MESSAGE carries a domain name.
        const NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x0000_1000;
        /// L: the NEGOTIATE_MESSAGE carries a workstation name.
        const NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x0000_2000;
        /// M: sign with a dummy signature even when signing was not negotiated.
        const NEGOTIATE_ALWAYS_SIGN = 0x0000_8000;
        /// N: TargetName is a domain name.
        const TARGET_TYPE_DOMAIN = 0x0001_0000;
        /// O: TargetName is a server name.
        const TARGET_TYPE_SERVER = 0x0002_0000;
        /// P: NTLM v2 session security (extended session security).
        const NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x0008_0000;
        /// Q: identify-level token.
        const NEGOTIATE_IDENTIFY = 0x0010_0000;
        /// R: LMOWF-based session key.
        const REQUEST_NON_NT_SESSION_KEY = 0x0040_0000;
        /// S: the CHALLENGE_MESSAGE carries TargetInfo.
        const NEGOTIATE_TARGET_INFO = 0x0080_0000;
        /// T: the Version field is present.
        const NEGOTIATE_VERSION = 0x0200_0000;
        /// U: 128-bit session key.
        const NEGOTIATE_128 = 0x2000_0000;
        /// V: explicit key exchange (EncryptedRandomSessionKey).
        const NEGOTIATE_KEY_EXCH = 0x4000_0000;
        /// W: 56-bit encryption.
        const NEGOTIATE_56 = 0x8000_0000;
        // Reserved bits are kept as received.
        const _ = !0;
    }
}

impl NegotiateFlags {
    /// Reads the 4-byte field.
    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, NtlmError> {
        r.u32().map(Self::from_bits_retain)
    }

    /// Whether strings are UTF-16LE rather than OEM.
    pub(super) fn unicode(self) -> bool {
        self.contains(Self::NEGOTIATE_UNICODE)
    }
}

/// MS-NLMP 2.2.2.10 VERSION: the sender's OS version, for debugging only.
///
/// ```text
/// ProductMajorVersion (1) | ProductMinorVersion (1) | ProductBuild (2)
/// Reserved (3) | NTLMRevisionCurrent (1)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    /// ProductMajorVersion, e.g. 10.
    pub product_major: u8,
    /// ProductMinorVersion, e.g. 0.
    pub product_minor: u8,
    /// ProductBuild.
    pub product_build: u16,
    /// NTLMRevisionCurrent, [`Version::NTLMSSP_REVISION_W2K3`] today.
    pub ntlm_revision: u8,
}

impl Version {
    /// NTLMSSP_REVISION_W2K3, the current NTLMRevisionCurrent.
    pub const NTLMSSP_REVISION_W2K3: u8 = 0x0f;
    /// The field's size.
    pub(super) const LEN: usize = 8;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, NtlmError> {
        let (product_major, product_minor) = (r.u8()?, r.u8()?);
        let product_build = r.u16()?;
        r.take(3)?;
        Ok(Self {
            product_major,
            product_minor,
            product_build,
            ntlm_revision: r.u8()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.product_major, self.product_minor]);
        out.extend_from_slice(&self.product_build.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, self.ntlm_revision]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ntlm::test_vectors::CHALLENGE_FLAGS;

    #[test]
    fn ms_nlmp_4_2_4_challenge_flags() {
        // 4.2.4 lists the flags behind 33 82 8a e2.
        let named = NegotiateFlags::NEGOTIATE_KEY_EXCH
            | NegotiateFlags::NEGOTIATE_56
            | NegotiateFlags::NEGOTIATE_128
            | NegotiateFlags::NEGOTIATE_VERSION
            | NegotiateFlags::NEGOTIATE_TARGET_INFO
            | NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY
            | NegotiateFlags::TARGET_TYPE_SERVER
            | NegotiateFlags::NEGOTIATE_ALWAYS_SIGN
            | NegotiateFlags::NEGOTIATE_NTLM
            | NegotiateFlags::NEGOTIATE_SEAL
            | NegotiateFlags::NEGOTIATE_SIGN
            | NegotiateFlags::NEGOTIATE_OEM
            | NegotiateFlags::NEGOTIATE_UNICODE;
        assert_eq!(named.bits(), CHALLENGE_FLAGS);
        let reserved = NegotiateFlags::from_bits_retain(0x0000_0108);
        assert_eq!(reserved.bits(), 0x108);
    }

    #[test]
    fn version_round_trips() {
        // 4.2.4.3 CHALLENGE_MESSAGE Version: 6.0 build 6000, revision 15.
        let bytes = [0x06, 0x00, 0x70, 0x17, 0, 0, 0, 0x0f];
        let v = Version::read(&mut Reader::new("VERSION", &bytes)).unwrap();
        assert_eq!(
            v,
            Version {
                product_major: 6,
                product_minor: 0,
                product_build: 6000,
                ntlm_revision: Version::NTLMSSP_REVISION_W2K3
            }
        );
        let mut out = Vec::new();
        v.write(&mut out);
        assert_eq!(out, bytes);
    }
}
