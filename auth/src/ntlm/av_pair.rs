//! MS-NLMP 2.2.2.1 AV_PAIR and the lists of them that CHALLENGE_MESSAGE.TargetInfo
//! and the NTLMv2 client challenge carry.

use bitflags::bitflags;

use super::error::NtlmError;
use super::wire::{Reader, decode_string, encode_string};

adjoin_ndr::open_enum! {
    decimal
    /// MS-NLMP 2.2.2.1 AV_PAIR AvId.
    pub struct AvId(u16) {
        /// The last pair of a list.
        EOL = 0 => "MsvAvEOL",
        /// The server's NetBIOS computer name (UTF-16LE).
        NB_COMPUTER_NAME = 1 => "MsvAvNbComputerName",
        /// The server's NetBIOS domain name (UTF-16LE).
        NB_DOMAIN_NAME = 2 => "MsvAvNbDomainName",
        /// The server's FQDN (UTF-16LE).
        DNS_COMPUTER_NAME = 3 => "MsvAvDnsComputerName",
        /// The domain's FQDN (UTF-16LE).
        DNS_DOMAIN_NAME = 4 => "MsvAvDnsDomainName",
        /// The forest's FQDN (UTF-16LE).
        DNS_TREE_NAME = 5 => "MsvAvDnsTreeName",
        /// A 32-bit [`AvFlags`] value.
        FLAGS = 6 => "MsvAvFlags",
        /// A FILETIME: the server's local time.
        TIMESTAMP = 7 => "MsvAvTimestamp",
        /// A 48-byte Single_Host_Data structure (2.2.2.2).
        SINGLE_HOST = 8 => "MsvAvSingleHost",
        /// The SPN of the target server (UTF-16LE).
        TARGET_NAME = 9 => "MsvAvTargetName",
        /// MD5 of the gss_channel_bindings_struct, 16 bytes.
        CHANNEL_BINDINGS = 10 => "MsvAvChannelBindings",
    }
}

bitflags! {
    /// MS-NLMP 2.2.2.1 MsvAvFlags value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AvFlags: u32 {
        /// The client's account authentication is constrained.
        const CONSTRAINED = 0x0000_0001;
        /// The AUTHENTICATE_MESSAGE carries a MIC.
        const MIC_PRESENT = 0x0000_0002;
        /// The SPN in MsvAvTargetName came from an untrusted source.
        const UNTRUSTED_SPN_SOURCE = 0x0000_0004;
        // Keep bits this list does not name.
        const _ = !0;
    }
}

/// MS-NLMP 2.2.2.1 AV_PAIR.
///
/// ```text
/// AvId (2 bytes) | AvLen (2 bytes) | Value (AvLen bytes)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AvPair {
    id: AvId,
    value: Vec<u8>,
}

impl AvPair {
    /// A pair with a raw value, which must fit the 16-bit AvLen.
    pub fn new(id: AvId, value: Vec<u8>) -> Result<Self, NtlmError> {
        if value.len() > usize::from(u16::MAX) {
            return Err(NtlmError::FieldTooLong {
                field: "AV_PAIR Value",
                len: value.len(),
            });
        }
        Ok(Self { id, value })
    }

    /// A name pair (NetBIOS and DNS names, MsvAvTargetName): UTF-16LE, no terminator.
    pub fn string(id: AvId, text: &str) -> Result<Self, NtlmError> {
        Self::new(id, encode_string(text, true))
    }

    /// MsvAvFlags.
    pub fn flags(flags: AvFlags) -> Self {
        Self {
            id: AvId::FLAGS,
            value: flags.bits().to_le_bytes().to_vec(),
        }
    }

    /// MsvAvTimestamp: a FILETIME (100 ns units since 1601-01-01 UTC).
    pub fn timestamp(filetime: u64) -> Self {
        Self {
            id: AvId::TIMESTAMP,
            value: filetime.to_le_bytes().to_vec(),
        }
    }

    /// MsvAvChannelBindings: the MD5 hash of the gss_channel_bindings_struct.
    pub fn channel_bindings(hash: [u8; 16]) -> Self {
        Self {
            id: AvId::CHANNEL_BINDINGS,
            value: hash.to_vec(),
        }
    }

    /// The pair's AvId.
    pub fn id(&self) -> AvId {
        self.id
    }

    /// The raw value.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The value as a UTF-16LE name.
    pub fn as_string(&self) -> Result<String, NtlmError> {
        decode_string("AV_PAIR Value", &self.value, true)
    }

    /// The value as MsvAvFlags.
    pub fn as_flags(&self) -> Result<AvFlags, NtlmError> {
        self.fixed::<4>()
            .map(|b| AvFlags::from_bits_retain(u32::from_le_bytes(b)))
    }

    /// The value as an MsvAvTimestamp FILETIME.
    pub fn as_timestamp(&self) -> Result<u64, NtlmError> {
        self.fixed::<8>().map(u64::from_le_bytes)
    }

    fn fixed<const N: usize>(&self) -> Result<[u8; N], NtlmError> {
        self.value
            .as_slice()
            .try_into()
            .map_err(|_| NtlmError::BadAvPairLength {
                id: self.id,
                len: self.value.len(),
                expected: N,
            })
    }
}

/// A list of AV_PAIRs, without its MsvAvEOL terminator (encoding adds it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AvPairs(Vec<AvPair>);

impl AvPairs {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads pairs up to MsvAvEOL; bytes after it are ignored (the NTLMv2
    /// client challenge has four zero bytes there).
    pub fn decode(bytes: &[u8]) -> Result<Self, NtlmError> {
        let mut r = Reader::new("AV_PAIR", bytes);
        let mut pairs = Vec::new();
        loop {
            // MS-NLMP 2.2.2.1: the list MUST end with MsvAvEOL.
            if r.remaining() == 0 {
                return Err(NtlmError::MissingAvEol);
            }
            let id = AvId::new(r.u16()?);
            let len = r.u16()?;
            let value = r.take(usize::from(len))?;
            if id == AvId::EOL {
                return Ok(Self(pairs));
            }
            pairs.push(AvPair {
                id,
                value: value.to_vec(),
            });
        }
    }

    /// The pairs, then MsvAvEOL; MsvAvEOL pairs in the list are left out.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for pair in self.0.iter().filter(|p| p.id != AvId::EOL) {
            out.extend_from_slice(&pair.id.value().to_le_bytes());
            // AvPair::new keeps values within u16.
            let len = u16::try_from(pair.value.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&pair.value);
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    /// Appends a pair.
    pub fn push(&mut self, pair: AvPair) {
        self.0.push(pair);
    }

    /// Replaces the first pair with the same AvId, or appends.
    pub fn set(&mut self, pair: AvPair) {
        match self.0.iter_mut().find(|p| p.id == pair.id) {
            Some(existing) => *existing = pair,
            None => self.0.push(pair),
        }
    }

    /// The first pair with this AvId.
    pub fn get(&self, id: AvId) -> Option<&AvPair> {
        self.0.iter().find(|p| p.id == id)
    }

    /// The MsvAvTimestamp value, if the list has one.
    pub fn timestamp(&self) -> Result<Option<u64>, NtlmError> {
        self.get(AvId::TIMESTAMP)
            .map(AvPair::as_timestamp)
            .transpose()
    }

    /// The MsvAvFlags value, if the list has one.
    pub fn flags(&self) -> Result<Option<AvFlags>, NtlmError> {
        self.get(AvId::FLAGS).map(AvPair::as_flags).transpose()
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = &AvPair> {
        self.0.iter()
    }

    /// Number of pairs (MsvAvEOL not counted).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list has no pair besides MsvAvEOL.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<AvPair>> for AvPairs {
    fn from(pairs: Vec<AvPair>) -> Self {
        Self(pairs)
    }
}

impl FromIterator<AvPair> for AvPairs {
    fn from_iter<I: IntoIterator<Item = AvPair>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ntlm::test_vectors::{TARGET_INFO, unhex};

    fn example_pairs() -> AvPairs {
        [
            AvPair::string(AvId::NB_DOMAIN_NAME, "Domain").unwrap(),
            AvPair::string(AvId::NB_COMPUTER_NAME, "Server").unwrap(),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn ms_nlmp_4_2_4_target_info() {
        // 4.2.4: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL.
        let bytes = unhex(TARGET_INFO);
        assert_eq!(example_pairs().encode(), bytes);
        let pairs = AvPairs::decode(&bytes).unwrap();
        assert_eq!(pairs, example_pairs());
        let name = pairs.get(AvId::NB_COMPUTER_NAME).unwrap();
        assert_eq!(name.as_string().unwrap(), "Server");
        assert_eq!(pairs.timestamp(), Ok(None));
    }

    #[test]
    fn typed_values() {
        let mut pairs = example_pairs();
        pairs.set(AvPair::timestamp(0x01c3_34b7_36d3_9000));
        pairs.set(AvPair::flags(AvFlags::MIC_PRESENT));
        pairs.set(AvPair::flags(AvFlags::MIC_PRESENT | AvFlags::CONSTRAINED));
        assert_eq!(pairs.len(), 4);
        let back = AvPairs::decode(&pairs.encode()).unwrap();
        assert_eq!(back.timestamp(), Ok(Some(0x01c3_34b7_36d3_9000)));
        assert_eq!(back.flags(), Ok(Some(AvFlags::from_bits_retain(3))));
        let bad = AvPair::new(AvId::TIMESTAMP, vec![0; 7]).unwrap();
        assert_eq!(
            bad.as_timestamp(),
            Err(NtlmError::BadAvPairLength {
                id: AvId::TIMESTAMP,
                len: 7,
                expected: 8
            })
        );
        assert_eq!(format!("{:?} {}", AvId::FLAGS, AvId::new(42)), "FLAGS 42");
    }

    #[test]
    fn truncated_and_unterminated_lists_are_rejected() {
        let bytes = unhex(TARGET_INFO);
        for cut in 0..bytes.len() {
            let err = AvPairs::decode(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(err, NtlmError::Truncated { .. } | NtlmError::MissingAvEol),
                "{cut}: {err:?}"
            );
        }
        assert!(AvPair::new(AvId::TARGET_NAME, vec![0; 65_536]).is_err());
    }

    fn arb_pair() -> impl Strategy<Value = AvPair> {
        (1u16.., prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(id, value)| AvPair::new(AvId::new(id), value).unwrap())
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(pairs in prop::collection::vec(arb_pair(), 0..8)) {
            let pairs = AvPairs::from(pairs);
            prop_assert_eq!(AvPairs::decode(&pairs.encode()).unwrap(), pairs);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(pairs) = AvPairs::decode(&bytes) {
                for pair in pairs.iter() {
                    let _ = (pair.as_string(), pair.as_flags(), pair.as_timestamp());
                }
            }
        }
    }
}
