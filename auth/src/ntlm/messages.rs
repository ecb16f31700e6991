//! MS-NLMP 2.2.1 NTLMSSP messages: NEGOTIATE, CHALLENGE and AUTHENTICATE.
//!
//! Each message is a fixed header of `*Fields` descriptors (Len, MaxLen,
//! BufferOffset) followed by a payload. Decoding checks every offset and
//! length against the message and the fixed header; the optional Version
//! (and in AUTHENTICATE the MIC) is recognised from where the payload starts.

use super::av_pair::AvPairs;
use super::error::NtlmError;
use super::flags::{NegotiateFlags, Version};
use super::wire::{Payload, PayloadField, Reader, decode_string, encode_string, payload_start};

/// 2.2.1 Signature: `"NTLMSSP\0"`.
const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Reads Signature and MessageType.
fn read_header(r: &mut Reader<'_>, expected: u32) -> Result<(), NtlmError> {
    // 2.2.1.1: Signature MUST contain the ASCII string "NTLMSSP\0".
    if r.take(SIGNATURE.len())? != SIGNATURE {
        return Err(NtlmError::NotNtlmssp);
    }
    match r.u32()? {
        got if got == expected => Ok(()),
        got => Err(NtlmError::WrongMessageType { expected, got }),
    }
}

fn write_header(out: &mut Vec<u8>, message_type: u32) {
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&message_type.to_le_bytes());
}

/// Reads the Version field when the payload leaves room for it; keeps it
/// only when NEGOTIATE_VERSION says it is meaningful.
fn read_version(
    r: &mut Reader<'_>,
    flags: NegotiateFlags,
    payload_start: usize,
) -> Result<Option<Version>, NtlmError> {
    if payload_start < r.position() + Version::LEN {
        return Ok(None);
    }
    let version = Version::read(r)?;
    Ok(flags
        .contains(NegotiateFlags::NEGOTIATE_VERSION)
        .then_some(version))
}

/// MS-NLMP 2.2.1.1 NEGOTIATE_MESSAGE, client to server.
///
/// ```text
/// 0  Signature "NTLMSSP\0" (8)    8  MessageType = 1 (4)
/// 12 NegotiateFlags (4)           16 DomainNameFields (8)
/// 24 WorkstationFields (8)        32 Version (8, with NEGOTIATE_VERSION)
/// 40 Payload: DomainName, WorkstationName (OEM strings)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateMessage {
    /// The client's NegotiateFlags.
    pub flags: NegotiateFlags,
    /// DomainName, with NEGOTIATE_OEM_DOMAIN_SUPPLIED (empty otherwise).
    pub domain_name: String,
    /// WorkstationName, with NEGOTIATE_OEM_WORKSTATION_SUPPLIED (empty otherwise).
    pub workstation: String,
    /// Version; encoders send it exactly when NEGOTIATE_VERSION is set.
    pub version: Option<Version>,
}

impl NegotiateMessage {
    const MESSAGE_TYPE: u32 = 1;
    const FIXED_LEN: usize = 32;

    /// Decodes a NEGOTIATE_MESSAGE.
    pub fn decode(bytes: &[u8]) -> Result<Self, NtlmError> {
        let mut r = Reader::new("NEGOTIATE_MESSAGE", bytes);
        read_header(&mut r, Self::MESSAGE_TYPE)?;
        let flags = NegotiateFlags::read(&mut r)?;
        let domain = PayloadField::read("DomainName", &mut r)?;
        let workstation = PayloadField::read("WorkstationName", &mut r)?;
        let start = payload_start(&[domain, workstation], bytes.len());
        let version = read_version(&mut r, flags, start)?;
        let header_len = r.position();
        let string = |f: PayloadField| decode_string(f.name, f.slice(bytes, header_len)?, false);
        Ok(Self {
            flags,
            domain_name: string(domain)?,
            workstation: string(workstation)?,
            version,
        })
    }

    /// Encodes the message: fixed header, Version when set, then the payload.
    pub fn encode(&self) -> Result<Vec<u8>, NtlmError> {
        let version_len = self.version.map_or(0, |_| Version::LEN);
        let header_len = Self::FIXED_LEN + version_len;
        let mut payload = Payload::new(header_len);
        let domain = payload.push("DomainName", &encode_string(&self.domain_name, false))?;
        let workstation =
            payload.push("WorkstationName", &encode_string(&self.workstation, false))?;
        let mut out = Vec::with_capacity(header_len);
        write_header(&mut out, Self::MESSAGE_TYPE);
        out.extend_from_slice(&self.flags.bits().to_le_bytes());
        domain.write(&mut out);
        workstation.write(&mut out);
        if let Some(version) = &self.version {
            version.write(&mut out);
        }
        Ok(payload.finish(out))
    }
}

/// MS-NLMP 2.2.1.2 CHALLENGE_MESSAGE, server to client.
///
/// ```text
/// 0  Signature "NTLMSSP\0" (8)    8  MessageType = 2 (4)
/// 12 TargetNameFields (8)         20 NegotiateFlags (4)
/// 24 ServerChallenge (8)          32 Reserved (8)
/// 40 TargetInfoFields (8)         48 Version (8, with NEGOTIATE_VERSION)
/// 56 Payload: TargetName, TargetInfo
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeMessage {
    /// The server's NegotiateFlags: what the client and server both support.
    pub flags: NegotiateFlags,
    /// TargetName: the server's domain or computer name (UTF-16LE with
    /// NEGOTIATE_UNICODE, else OEM).
    pub target_name: String,
    /// ServerChallenge: the server's 8-byte nonce.
    pub server_challenge: [u8; 8],
    /// TargetInfo (with NEGOTIATE_TARGET_INFO); an empty list is sent as an
    /// empty field.
    pub target_info: AvPairs,
    /// Version; encoders send it exactly when NEGOTIATE_VERSION is set.
    pub version: Option<Version>,
}

impl ChallengeMessage {
    const MESSAGE_TYPE: u32 = 2;
    const FIXED_LEN: usize = 48;

    /// Decodes a CHALLENGE_MESSAGE.
    pub fn decode(bytes: &[u8]) -> Result<Self, NtlmError> {
        let mut r = Reader::new("CHALLENGE_MESSAGE", bytes);
        read_header(&mut r, Self::MESSAGE_TYPE)?;
        let target_name = PayloadField::read("TargetName", &mut r)?;
        let flags = NegotiateFlags::read(&mut r)?;
        let server_challenge = r.array()?;
        r.take(8)?;
        let target_info = PayloadField::read("TargetInfo", &mut r)?;
        let start = payload_start(&[target_name, target_info], bytes.len());
        let version = read_version(&mut r, flags, start)?;
        let header_len = r.position();
        let name = target_name.slice(bytes, header_len)?;
        let info = target_info.slice(bytes, header_len)?;
        Ok(Self {
            flags,
            target_name: decode_string(target_name.name, name, flags.unicode())?,
            server_challenge,
            target_info: match info {
                [] => AvPairs::new(),
                info => AvPairs::decode(info)?,
            },
            version,
        })
    }

    /// Encodes the message: fixed header, Version when set, then the payload.
    pub fn encode(&self) -> Result<Vec<u8>, NtlmError> {
        let version_len = self.version.map_or(0, |_| Version::LEN);
        let header_len = Self::FIXED_LEN + version_len;
        let mut payload = Payload::new(header_len);
        let name = encode_string(&self.target_name, self.flags.unicode());
        let target_name = payload.push("TargetName", &name)?;
        let info = match self.target_info.is_empty() {
            true => Vec::new(),
            false => self.target_info.encode(),
        };
        let target_info = payload.push("TargetInfo", &info)?;
        let mut out = Vec::with_capacity(header_len);
        write_header(&mut out, Self::MESSAGE_TYPE);
        target_name.write(&mut out);
        out.extend_from_slice(&self.flags.bits().to_le_bytes());
        out.extend_from_slice(&self.server_challenge);
        out.extend_from_slice(&[0; 8]);
        target_info.write(&mut out);
        if let Some(version) = &self.version {
            version.write(&mut out);
        }
        Ok(payload.finish(out))
    }
}

/// MS-NLMP 2.2.1.3 AUTHENTICATE_MESSAGE, client to server.
///
/// ```text
/// 0  Signature "NTLMSSP\0" (8)            8  MessageType = 3 (4)
/// 12 LmChallengeResponseFields (8)        20 NtChallengeResponseFields (8)
/// 28 DomainNameFields (8)                 36 UserNameFields (8)
/// 44 WorkstationFields (8)                52 EncryptedRandomSessionKeyFields (8)
/// 60 NegotiateFlags (4)                   64 Version (8)
/// 72 MIC (16)                             88 Payload
/// ```
/// Version and MIC are recognised on decoding by where the payload starts:
/// Windows sends both; the MS-NLMP 4.2.4.3 example has neither MIC nor room for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateMessage {
    /// The negotiated NegotiateFlags.
    pub flags: NegotiateFlags,
    /// LmChallengeResponse (LMv2, or 24 zero bytes when the server sent MsvAvTimestamp).
    pub lm_challenge_response: Vec<u8>,
    /// NtChallengeResponse (NTLMv2: NTProofStr then NTLMv2_CLIENT_CHALLENGE).
    pub nt_challenge_response: Vec<u8>,
    /// DomainName (UTF-16LE with NEGOTIATE_UNICODE, else OEM).
    pub domain_name: String,
    /// UserName.
    pub user_name: String,
    /// Workstation.
    pub workstation: String,
    /// EncryptedRandomSessionKey, with NEGOTIATE_KEY_EXCH.
    pub encrypted_random_session_key: Option<[u8; 16]>,
    /// Version; encoders send it exactly when NEGOTIATE_VERSION is set.
    pub version: Option<Version>,
    /// MIC over the three messages (see [`super::compute_mic`]); encode with
    /// `Some([0; 16])`, then patch the computed MIC in at [`Self::MIC_OFFSET`].
    pub mic: Option<[u8; 16]>,
}

impl AuthenticateMessage {
    const MESSAGE_TYPE: u32 = 3;
    const FIXED_LEN: usize = 64;
    /// Where the MIC field sits in an encoded AUTHENTICATE_MESSAGE.
    pub const MIC_OFFSET: usize = Self::FIXED_LEN + Version::LEN;
    const MIC_LEN: usize = 16;

    /// Decodes an AUTHENTICATE_MESSAGE.
    pub fn decode(bytes: &[u8]) -> Result<Self, NtlmError> {
        let mut r = Reader::new("AUTHENTICATE_MESSAGE", bytes);
        read_header(&mut r, Self::MESSAGE_TYPE)?;
        let names = [
            "LmChallengeResponse",
            "NtChallengeResponse",
            "DomainName",
            "UserName",
            "Workstation",
            "EncryptedRandomSessionKey",
        ];
        let mut fields = Vec::with_capacity(names.len());
        for name in names {
            fields.push(PayloadField::read(name, &mut r)?);
        }
        let flags = NegotiateFlags::read(&mut r)?;
        let start = payload_start(&fields, bytes.len());
        let version = read_version(&mut r, flags, start)?;
        let mic = match start >= Self::MIC_OFFSET + Self::MIC_LEN {
            true => Some(r.array()?),
            false => None,
        };
        let header_len = r.position();
        let mut slices = Vec::with_capacity(fields.len());
        for field in &fields {
            slices.push(field.slice(bytes, header_len)?);
        }
        let &[lm, nt, domain, user, workstation, key] = slices.as_slice() else {
            unreachable!("six fields were read")
        };
        let unicode = flags.unicode();
        Ok(Self {
            flags,
            lm_challenge_response: lm.to_vec(),
            nt_challenge_response: nt.to_vec(),
            domain_name: decode_string(names[2], domain, unicode)?,
            user_name: decode_string(names[3], user, unicode)?,
            workstation: decode_string(names[4], workstation, unicode)?,
            encrypted_random_session_key: match key {
                [] => None,
                key => Some(
                    key.try_into()
                        .map_err(|_| NtlmError::BadSessionKeyLength { len: key.len() })?,
                ),
            },
            version,
            mic,
        })
    }

    /// Encodes the message. With a MIC, the Version field is written too (as
    /// zeros when `version` is `None`), since the MIC sits after it.
    pub fn encode(&self) -> Result<Vec<u8>, NtlmError> {
        let (version_len, mic_len) = match (self.version, self.mic) {
            (_, Some(_)) => (Version::LEN, Self::MIC_LEN),
            (Some(_), None) => (Version::LEN, 0),
            (None, None) => (0, 0),
        };
        let header_len = Self::FIXED_LEN + version_len + mic_len;
        let unicode = self.flags.unicode();
        let mut payload = Payload::new(header_len);
        let domain = payload.push("DomainName", &encode_string(&self.domain_name, unicode))?;
        let user = payload.push("UserName", &encode_string(&self.user_name, unicode))?;
        let workstation =
            payload.push("Workstation", &encode_string(&self.workstation, unicode))?;
        let lm = payload.push("LmChallengeResponse", &self.lm_challenge_response)?;
        let nt = payload.push("NtChallengeResponse", &self.nt_challenge_response)?;
        let key = self.encrypted_random_session_key;
        let key = payload.push("EncryptedRandomSessionKey", key.as_ref().map_or(&[], |k| k))?;

        let mut out = Vec::with_capacity(header_len);
        write_header(&mut out, Self::MESSAGE_TYPE);
        for field in [lm, nt, domain, user, workstation, key] {
            field.write(&mut out);
        }
        out.extend_from_slice(&self.flags.bits().to_le_bytes());
        match (&self.version, version_len) {
            (Some(version), _) => version.write(&mut out),
            (None, 0) => {}
            (None, _) => out.extend_from_slice(&[0; Version::LEN]),
        }
        if let Some(mic) = &self.mic {
            out.extend_from_slice(mic);
        }
        Ok(payload.finish(out))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ntlm::av_pair::{AvId, AvPair};
    use crate::ntlm::test_vectors::*;

    fn example_challenge() -> ChallengeMessage {
        ChallengeMessage {
            flags: NegotiateFlags::from_bits_retain(CHALLENGE_FLAGS),
            target_name: SERVER.into(),
            server_challenge: SERVER_CHALLENGE,
            target_info: AvPairs::decode(&unhex(TARGET_INFO)).unwrap(),
            version: Some(Version {
                product_major: 6,
                product_minor: 0,
                product_build: 6000,
                ntlm_revision: 15,
            }),
        }
    }

    fn example_authenticate() -> AuthenticateMessage {
        AuthenticateMessage {
            flags: NegotiateFlags::from_bits_retain(0xe288_8235),
            lm_challenge_response: unhex(LMV2_RESPONSE),
            nt_challenge_response: unhex(NTLMV2_RESPONSE),
            domain_name: DOMAIN.into(),
            user_name: USER.into(),
            workstation: WORKSTATION.into(),
            encrypted_random_session_key: Some(unhex16(ENCRYPTED_SESSION_KEY)),
            version: Some(Version {
                product_major: 5,
                product_minor: 1,
                product_build: 2600,
                ntlm_revision: 15,
            }),
            mic: None,
        }
    }

    #[test]
    fn ms_nlmp_4_2_4_3_challenge_message() {
        let bytes = unhex(CHALLENGE_MESSAGE);
        let decoded = ChallengeMessage::decode(&bytes).unwrap();
        assert_eq!(decoded, example_challenge());
        let computer = decoded.target_info.get(AvId::NB_COMPUTER_NAME).unwrap();
        assert_eq!(computer.as_string().unwrap(), SERVER);
        assert_eq!(example_challenge().encode().unwrap(), bytes);
    }

    #[test]
    fn ms_nlmp_4_2_4_3_authenticate_message() {
        let bytes = unhex(AUTHENTICATE_MESSAGE);
        assert_eq!(
            AuthenticateMessage::decode(&bytes).unwrap(),
            example_authenticate()
        );
        assert_eq!(example_authenticate().encode().unwrap(), bytes);
    }

    #[test]
    fn authenticate_with_mic_has_the_windows_layout() {
        let msg = AuthenticateMessage {
            mic: Some([0x11; 16]),
            ..example_authenticate()
        };
        let bytes = msg.encode().unwrap();
        assert_eq!(bytes.len(), unhex(AUTHENTICATE_MESSAGE).len() + 16);
        assert_eq!(&bytes[72..88], &[0x11; 16]);
        // The first payload item, DomainName, starts right after the MIC.
        assert_eq!(&bytes[28..36], &[12, 0, 12, 0, 88, 0, 0, 0]);
        assert_eq!(AuthenticateMessage::decode(&bytes).unwrap(), msg);
        // Without Version, the MIC still sits at 72.
        let bare = AuthenticateMessage {
            version: None,
            flags: msg.flags - NegotiateFlags::NEGOTIATE_VERSION,
            ..msg
        };
        let bytes = bare.encode().unwrap();
        assert_eq!(&bytes[64..72], &[0; 8]);
        assert_eq!(AuthenticateMessage::decode(&bytes).unwrap(), bare);
    }

    /// 2.2.1.1 laid out by hand: Unicode, OEM domain "Domain", Version 10.0.20348.
    const NEGOTIATE_MESSAGE: &str = "
        4e544c4d53535000 01000000 01100002 0600060028000000 000000002e000000
        0a007c4f0000000f 446f6d61696e";

    #[test]
    fn negotiate_layout() {
        let msg = NegotiateMessage {
            flags: NegotiateFlags::NEGOTIATE_UNICODE
                | NegotiateFlags::NEGOTIATE_OEM_DOMAIN_SUPPLIED
                | NegotiateFlags::NEGOTIATE_VERSION,
            domain_name: DOMAIN.into(),
            workstation: String::new(),
            version: Some(Version {
                product_major: 10,
                product_minor: 0,
                product_build: 20348,
                ntlm_revision: 15,
            }),
        };
        let bytes = msg.encode().unwrap();
        let expected = unhex(NEGOTIATE_MESSAGE);
        assert_eq!(bytes, expected);
        assert_eq!(NegotiateMessage::decode(&bytes).unwrap(), msg);
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        let mut bytes = unhex(CHALLENGE_MESSAGE);
        assert_eq!(
            AuthenticateMessage::decode(&bytes),
            Err(NtlmError::WrongMessageType {
                expected: 3,
                got: 2
            })
        );
        bytes[0] = b'X';
        assert_eq!(ChallengeMessage::decode(&bytes), Err(NtlmError::NotNtlmssp));
        let mut bytes = unhex(CHALLENGE_MESSAGE);
        bytes[44] = 0xff; // TargetInfo offset
        assert!(matches!(
            ChallengeMessage::decode(&bytes),
            Err(NtlmError::PayloadOutOfBounds {
                field: "TargetInfo",
                ..
            })
        ));
        bytes[44] = 0x10; // into the header
        assert!(matches!(
            ChallengeMessage::decode(&bytes),
            Err(NtlmError::PayloadOverlapsHeader { .. })
        ));
        let mut bytes = unhex(AUTHENTICATE_MESSAGE);
        bytes[52] = 15; // EncryptedRandomSessionKey Len
        assert_eq!(
            AuthenticateMessage::decode(&bytes),
            Err(NtlmError::BadSessionKeyLength { len: 15 })
        );
        let long = NegotiateMessage {
            flags: NegotiateFlags::empty(),
            domain_name: "d".repeat(70_000),
            workstation: String::new(),
            version: None,
        };
        assert!(matches!(long.encode(), Err(NtlmError::FieldTooLong { .. })));
    }

    #[test]
    fn truncations_of_the_examples_fail_cleanly() {
        for message in [CHALLENGE_MESSAGE, AUTHENTICATE_MESSAGE] {
            let bytes = unhex(message);
            for cut in 0..bytes.len() {
                assert!(ChallengeMessage::decode(&bytes[..cut]).is_err());
                assert!(AuthenticateMessage::decode(&bytes[..cut]).is_err());
            }
        }
    }

    // Strings each character set round-trips.
    fn text(unicode: bool) -> BoxedStrategy<String> {
        match unicode {
            true => ".{0,12}".boxed(),
            false => "[\u{0}-\u{ff}]{0,12}".boxed(),
        }
    }

    fn version() -> impl Strategy<Value = Option<Version>> {
        prop::option::of(any::<(u8, u8, u16, u8)>().prop_map(|(a, b, c, d)| Version {
            product_major: a,
            product_minor: b,
            product_build: c,
            ntlm_revision: d,
        }))
    }

    /// Flags that agree with whether Version is present.
    fn flags_for(bits: u32, version: Option<Version>) -> NegotiateFlags {
        let mut flags = NegotiateFlags::from_bits_retain(bits);
        flags.set(NegotiateFlags::NEGOTIATE_VERSION, version.is_some());
        flags
    }

    fn arb_negotiate() -> impl Strategy<Value = NegotiateMessage> {
        (any::<u32>(), text(false), text(false), version()).prop_map(|(bits, d, w, version)| {
            NegotiateMessage {
                flags: flags_for(bits, version),
                domain_name: d,
                workstation: w,
                version,
            }
        })
    }

    fn arb_challenge() -> impl Strategy<Value = ChallengeMessage> {
        let pairs =
            prop::collection::vec((1u16.., prop::collection::vec(any::<u8>(), 0..12)), 0..4);
        (any::<u32>(), version(), any::<[u8; 8]>(), pairs).prop_flat_map(
            |(bits, version, server_challenge, pairs)| {
                let flags = flags_for(bits, version);
                text(flags.unicode()).prop_map(move |target_name| ChallengeMessage {
                    flags,
                    target_name,
                    server_challenge,
                    target_info: pairs
                        .iter()
                        .map(|(id, v)| AvPair::new(AvId::new(*id), v.clone()).unwrap())
                        .collect(),
                    version,
                })
            },
        )
    }

    fn arb_authenticate() -> impl Strategy<Value = AuthenticateMessage> {
        let bytes = || prop::collection::vec(any::<u8>(), 0..60);
        let fixed = (
            any::<u32>(),
            version(),
            any::<Option<[u8; 16]>>(),
            any::<Option<[u8; 16]>>(),
            bytes(),
            bytes(),
        );
        fixed.prop_flat_map(|(bits, version, key, mic, lm, nt)| {
            let flags = flags_for(bits, version);
            let unicode = flags.unicode();
            (text(unicode), text(unicode), text(unicode)).prop_map(move |(d, u, w)| {
                AuthenticateMessage {
                    flags,
                    lm_challenge_response: lm.clone(),
                    nt_challenge_response: nt.clone(),
                    domain_name: d,
                    user_name: u,
                    workstation: w,
                    encrypted_random_session_key: key,
                    version,
                    mic,
                }
            })
        })
    }

    /// Every decoder, fed the same bytes: no panic, and what decodes re-encodes
    /// and decodes back equal.
    fn decode_all(bytes: &[u8]) {
        if let Ok(msg) = NegotiateMessage::decode(bytes) {
            let again = NegotiateMessage::decode(&msg.encode().unwrap());
            assert_eq!(again, Ok(msg));
        }
        if let Ok(msg) = ChallengeMessage::decode(bytes) {
            let again = ChallengeMessage::decode(&msg.encode().unwrap());
            assert_eq!(again, Ok(msg));
        }
        if let Ok(msg) = AuthenticateMessage::decode(bytes) {
            let again = AuthenticateMessage::decode(&msg.encode().unwrap());
            assert_eq!(again, Ok(msg));
        }
    }

    /// A published message with some bytes overwritten, inserted or cut.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let bases = [NEGOTIATE_MESSAGE, CHALLENGE_MESSAGE, AUTHENTICATE_MESSAGE];
        crate::crypto::test_util::mutated(bases.map(unhex).to_vec(), 6)
    }

    proptest! {
        #[test]
        fn negotiate_round_trips(msg in arb_negotiate()) {
            prop_assert_eq!(NegotiateMessage::decode(&msg.encode().unwrap()).unwrap(), msg);
        }

        #[test]
        fn challenge_round_trips(msg in arb_challenge()) {
            prop_assert_eq!(ChallengeMessage::decode(&msg.encode().unwrap()).unwrap(), msg);
        }

        #[test]
        fn authenticate_round_trips(msg in arb_authenticate()) {
            prop_assert_eq!(AuthenticateMessage::decode(&msg.encode().unwrap()).unwrap(), msg);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            decode_all(&bytes);
            for message_type in 1u32..=3 {
                let mut with_header = SIGNATURE.to_vec();
                with_header.extend_from_slice(&message_type.to_le_bytes());
                with_header.extend_from_slice(&bytes);
                decode_all(&with_header);
            }
        }

        #[test]
        fn mutated_examples_never_panic(bytes in mutated()) {
            decode_all(&bytes);
        }
    }
}
