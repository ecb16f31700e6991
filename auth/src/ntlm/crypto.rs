//! MS-NLMP 3.3.2 NTLMv2: NTOWFv2 and the responses, both directions; 3.4.5.1
//! KXKEY, 3.1.5.1.2 / 3.2.5.1.2 key exchange; 3.1.5.1.2 MIC.
//!
//! ```text
//! Define NTOWFv2(Passwd, User, UserDom) as
//!     HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(ConcatenationOf(Uppercase(User), UserDom)))
//! temp = ConcatenationOf(Responserversion, HiResponserversion, Z(6), Time,
//!                        ClientChallenge, Z(4), ServerName, Z(4))
//! NTProofStr = HMAC_MD5(ResponseKeyNT, ConcatenationOf(CHALLENGE_MESSAGE.ServerChallenge, temp))
//! NtChallengeResponse = ConcatenationOf(NTProofStr, temp)
//! LmChallengeResponse = ConcatenationOf(HMAC_MD5(ResponseKeyLM,
//!                           ConcatenationOf(CHALLENGE_MESSAGE.ServerChallenge, ClientChallenge)),
//!                       ClientChallenge)
//! SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr)
//! ```
//! For NTLMv2, ResponseKeyLM = ResponseKeyNT = NTOWFv2 and KeyExchangeKey = SessionBaseKey.

use core::fmt;

use hmac::KeyInit as _;
use md4::Md4;
use md5::{Digest as _, Md5};
use rc4::{Rc4, StreamCipher as _};
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::av_pair::AvPairs;
use super::error::NtlmError;
use super::flags::NegotiateFlags;
use super::messages::AuthenticateMessage;
use super::wire::{Reader, encode_string};

/// NTProofStr and every HMAC-MD5 output: 16 bytes.
const MAC_LEN: usize = 16;
/// The fixed part of NTLMv2_CLIENT_CHALLENGE (2.2.2.7), before the AV pairs.
const CLIENT_CHALLENGE_FIXED: usize = 28;

/// Defines a 16-byte secret: zeroized on drop, compared in constant time,
/// printed as `<redacted>`.
macro_rules! secret16 {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; 16]);

        impl $name {
            /// Wraps 16 key bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// The key bytes.
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }

        impl Eq for $name {}
    };
}

secret16! {
    /// An NT one-way function output: the NT hash (NTOWFv1, MD4 of the UTF-16LE
    /// password) or the NTLMv2 response key (NTOWFv2).
    NtHash
}

secret16! {
    /// A 16-byte NTLM session key: SessionBaseKey, KeyExchangeKey or ExportedSessionKey.
    SessionKey
}

/// MS-NLMP 3.3.1 NTOWFv1: `MD4(UNICODE(Passwd))`, the NT hash.
pub fn nt_hash(password: &str) -> NtHash {
    let mut md4 = Md4::new();
    for unit in password.encode_utf16() {
        md4.update(unit.to_le_bytes());
    }
    NtHash(md4.finalize().into())
}

/// MS-NLMP 3.3.2 NTOWFv2 from the NT hash:
/// `HMAC_MD5(NT hash, UNICODE(ConcatenationOf(Uppercase(User), UserDom)))`.
///
/// Only the user name is upper-cased, one character at a time as Windows does
/// (a character whose upper case is longer, such as `ß`, stays as it is).
pub fn ntowf_v2(nt_hash: &NtHash, user: &str, domain: &str) -> NtHash {
    let upper: String = user.chars().map(simple_uppercase).collect();
    let text = Zeroizing::new(encode_string(&(upper + domain), true));
    NtHash(hmac_md5(&nt_hash.0, &[&text]))
}

fn simple_uppercase(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// The client's NTLMv2 responses (MS-NLMP 3.3.2) and the session base key they yield.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Ntlmv2Response {
    nt_challenge_response: Vec<u8>,
    lm_challenge_response: [u8; 24],
    session_base_key: SessionKey,
}

impl Ntlmv2Response {
    /// Computes the responses from NTOWFv2, the CHALLENGE_MESSAGE's ServerChallenge,
    /// the client's 8-byte nonce, the FILETIME `timestamp` (the server's
    /// MsvAvTimestamp when it sent one) and the AV pair bytes the client sends
    /// (ending with MsvAvEOL).
    ///
    /// When the server sent MsvAvTimestamp, MS-NLMP 3.1.5.1.2 has the client send
    /// 24 zero bytes instead of [`Self::lm_challenge_response`].
    pub fn compute(
        ntowf_v2: &NtHash,
        server_challenge: &[u8; 8],
        client_challenge: &[u8; 8],
        timestamp: u64,
        target_info: &[u8],
    ) -> Self {
        let mut temp = Vec::with_capacity(CLIENT_CHALLENGE_FIXED + target_info.len() + 4);
        temp.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
        temp.extend_from_slice(&timestamp.to_le_bytes());
        temp.extend_from_slice(client_challenge);
        temp.extend_from_slice(&[0; 4]);
        temp.extend_from_slice(target_info);
        temp.extend_from_slice(&[0; 4]);
        let nt_proof = hmac_md5(&ntowf_v2.0, &[server_challenge, &temp]);
        let mut nt_challenge_response = nt_proof.to_vec();
        nt_challenge_response.append(&mut temp);

        let mut lm_challenge_response = [0u8; 24];
        lm_challenge_response[..MAC_LEN].copy_from_slice(&hmac_md5(
            &ntowf_v2.0,
            &[server_challenge, client_challenge],
        ));
        lm_challenge_response[MAC_LEN..].copy_from_slice(client_challenge);

        Self {
            nt_challenge_response,
            lm_challenge_response,
            session_base_key: SessionKey(hmac_md5(&ntowf_v2.0, &[&nt_proof])),
        }
    }

    /// NtChallengeResponse: NTProofStr followed by the NTLMv2_CLIENT_CHALLENGE.
    pub fn nt_challenge_response(&self) -> &[u8] {
        &self.nt_challenge_response
    }

    /// NTProofStr, the first 16 bytes of the NtChallengeResponse.
    pub fn nt_proof_str(&self) -> &[u8] {
        &self.nt_challenge_response[..MAC_LEN]
    }

    /// The LMv2 LmChallengeResponse.
    pub fn lm_challenge_response(&self) -> &[u8; 24] {
        &self.lm_challenge_response
    }

    /// SessionBaseKey, which for NTLMv2 is also the KeyExchangeKey.
    pub fn session_base_key(&self) -> &SessionKey {
        &self.session_base_key
    }
}

impl fmt::Debug for Ntlmv2Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ntlmv2Response")
            .field(
                "nt_challenge_response_len",
                &self.nt_challenge_response.len(),
            )
            .field("session_base_key", &self.session_base_key)
            .finish_non_exhaustive()
    }
}

/// The server's side of MS-NLMP 3.3.2: checks the NTProofStr of a received
/// NtChallengeResponse in constant time and returns the SessionBaseKey.
///
/// The caller still checks the client challenge's timestamp and AV pairs
/// (see [`Ntlmv2ClientChallenge::decode`]) and the MIC.
pub fn verify_ntlmv2_response(
    ntowf_v2: &NtHash,
    server_challenge: &[u8; 8],
    nt_challenge_response: &[u8],
) -> Result<SessionKey, NtlmError> {
    let min = MAC_LEN + CLIENT_CHALLENGE_FIXED;
    if nt_challenge_response.len() < min {
        return Err(NtlmError::ResponseTooShort {
            len: nt_challenge_response.len(),
            min,
        });
    }
    let (nt_proof, temp) = nt_challenge_response.split_at(MAC_LEN);
    let expected = Zeroizing::new(hmac_md5(&ntowf_v2.0, &[server_challenge, temp]));
    if !bool::from(expected.ct_eq(nt_proof)) {
        return Err(NtlmError::NtProofMismatch);
    }
    Ok(SessionKey(hmac_md5(&ntowf_v2.0, &[nt_proof])))
}

/// MS-NLMP 2.2.2.7 NTLMv2_CLIENT_CHALLENGE, the part of an NtChallengeResponse
/// after the NTProofStr.
///
/// ```text
/// RespType (1) = 1 | HiRespType (1) = 1 | Reserved1 (2) | Reserved2 (4)
/// TimeStamp (8) | ChallengeFromClient (8) | Reserved3 (4) | AvPairs (variable)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ntlmv2ClientChallenge {
    /// The client's FILETIME (the server's MsvAvTimestamp when it sent one).
    pub timestamp: u64,
    /// The client's 8-byte nonce.
    pub challenge_from_client: [u8; 8],
    /// The client's AV pairs: the server's TargetInfo plus MsvAvFlags,
    /// MsvAvTargetName, MsvAvChannelBindings.
    pub av_pairs: AvPairs,
}

impl Ntlmv2ClientChallenge {
    /// Reads the client challenge out of a whole NtChallengeResponse.
    pub fn decode(nt_challenge_response: &[u8]) -> Result<Self, NtlmError> {
        let mut r = Reader::new("NTLMv2_RESPONSE", nt_challenge_response);
        r.take(MAC_LEN)?;
        let (resp_type, hi_resp_type) = (r.u8()?, r.u8()?);
        // 2.2.2.7: RespType and HiRespType MUST be 1.
        if (resp_type, hi_resp_type) != (1, 1) {
            return Err(NtlmError::BadResponseVersion {
                resp_type,
                hi_resp_type,
            });
        }
        r.take(6)?;
        let timestamp = r.u64()?;
        let challenge_from_client = r.array()?;
        r.take(4)?;
        let av_pairs = AvPairs::decode(r.take(r.remaining())?)?;
        Ok(Self {
            timestamp,
            challenge_from_client,
            av_pairs,
        })
    }
}

/// MS-NLMP 3.1.5.1.2: the client's EncryptedRandomSessionKey,
/// `RC4K(KeyExchangeKey, ExportedSessionKey)`, when NEGOTIATE_KEY_EXCH is set.
pub fn encrypt_session_key(
    key_exchange_key: &SessionKey,
    exported_session_key: &SessionKey,
) -> [u8; 16] {
    let mut out = exported_session_key.0;
    rc4(&key_exchange_key.0, &mut out);
    out
}

/// MS-NLMP 3.2.5.1.2: the server's ExportedSessionKey,
/// `RC4K(KeyExchangeKey, EncryptedRandomSessionKey)`.
pub fn decrypt_session_key(key_exchange_key: &SessionKey, encrypted: &[u8; 16]) -> SessionKey {
    let mut key = SessionKey(*encrypted);
    rc4(&key_exchange_key.0, &mut key.0);
    key
}

/// MS-NLMP 3.2.5.1.2: the server's ExportedSessionKey — decrypted from the
/// AUTHENTICATE_MESSAGE's EncryptedRandomSessionKey with NEGOTIATE_KEY_EXCH,
/// the KeyExchangeKey itself without.
pub fn exported_session_key(
    flags: NegotiateFlags,
    key_exchange_key: &SessionKey,
    encrypted_random_session_key: Option<&[u8; 16]>,
) -> Result<SessionKey, NtlmError> {
    if !flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH) {
        return Ok(key_exchange_key.clone());
    }
    encrypted_random_session_key
        .map(|encrypted| decrypt_session_key(key_exchange_key, encrypted))
        .ok_or(NtlmError::MissingSessionKey)
}

/// MS-NLMP 3.1.5.1.2 MIC:
/// `HMAC_MD5(ExportedSessionKey, ConcatenationOf(NEGOTIATE_MESSAGE, CHALLENGE_MESSAGE,
/// AUTHENTICATE_MESSAGE))`, with the AUTHENTICATE_MESSAGE's MIC field (bytes
/// [`AuthenticateMessage::MIC_OFFSET`]`..+16`) taken as zero, whatever it holds.
pub fn compute_mic(
    exported_session_key: &SessionKey,
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> Result<[u8; 16], NtlmError> {
    let start = AuthenticateMessage::MIC_OFFSET;
    let end = start + MAC_LEN;
    if authenticate.len() < end {
        return Err(NtlmError::Truncated {
            what: "AUTHENTICATE_MESSAGE MIC",
            offset: start,
            needed: MAC_LEN,
            available: authenticate.len().saturating_sub(start),
        });
    }
    Ok(hmac_md5(
        &exported_session_key.0,
        &[
            negotiate,
            challenge,
            &authenticate[..start],
            &[0; MAC_LEN],
            &authenticate[end..],
        ],
    ))
}

/// Checks the MIC an AUTHENTICATE_MESSAGE carries, in constant time.
pub fn verify_mic(
    exported_session_key: &SessionKey,
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> Result<(), NtlmError> {
    let expected = compute_mic(exported_session_key, negotiate, challenge, authenticate)?;
    let start = AuthenticateMessage::MIC_OFFSET;
    let received = &authenticate[start..start + MAC_LEN];
    if bool::from(expected.ct_eq(received)) {
        Ok(())
    } else {
        Err(NtlmError::MicMismatch)
    }
}

/// HMAC-MD5 of the concatenation of `parts`.
pub(super) fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&crate::crypto::primitives::hmac::<Md5>(key, parts));
    out
}

/// MD5 of the concatenation of `parts`.
pub(super) fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(part);
    }
    md5.finalize().into()
}

/// RC4 with a fresh 16-byte key, applied in place (6 RC4K).
fn rc4(key: &[u8; 16], data: &mut [u8]) {
    let mut cipher = Rc4::new_from_slice(key).expect("RC4 accepts 16-byte keys");
    cipher.apply_keystream(data);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ntlm::av_pair::{AvId, AvPair};
    use crate::ntlm::test_vectors::*;

    fn response_key() -> NtHash {
        ntowf_v2(&nt_hash(PASSWORD), USER, DOMAIN)
    }

    fn example_response() -> Ntlmv2Response {
        Ntlmv2Response::compute(
            &response_key(),
            &SERVER_CHALLENGE,
            &CLIENT_CHALLENGE,
            TIME,
            &unhex(TARGET_INFO),
        )
    }

    #[test]
    fn ms_nlmp_4_2_2_1_2_nt_hash() {
        assert_eq!(nt_hash(PASSWORD).as_bytes(), &unhex16(NT_HASH));
        // RFC 1320 A.5: MD4("").
        assert_eq!(
            nt_hash("").as_bytes(),
            &unhex16("31d6cfe0d16ae931b73c59d7e0c089c0")
        );
    }

    #[test]
    fn ms_nlmp_4_2_4_1_1_ntowf_v2() {
        assert_eq!(response_key().as_bytes(), &unhex16(NTOWFV2));
        // Only the user is upper-cased.
        let nt = nt_hash(PASSWORD);
        assert_eq!(ntowf_v2(&nt, "uSeR", DOMAIN), response_key());
        assert_ne!(ntowf_v2(&nt, USER, "DOMAIN"), response_key());
        // Windows' per-character upcase leaves ß alone; str::to_uppercase would not.
        assert_ne!(ntowf_v2(&nt, "ß", DOMAIN), ntowf_v2(&nt, "SS", DOMAIN));
    }

    #[test]
    fn ms_nlmp_4_2_4_2_responses_and_session_base_key() {
        let response = example_response();
        assert_eq!(
            response.lm_challenge_response().as_slice(),
            unhex(LMV2_RESPONSE)
        );
        assert_eq!(response.nt_challenge_response(), unhex(NTLMV2_RESPONSE));
        assert_eq!(response.nt_proof_str(), &unhex(NTLMV2_RESPONSE)[..16]);
        assert_eq!(
            response.session_base_key().as_bytes(),
            &unhex16(SESSION_BASE_KEY)
        );
    }

    #[test]
    fn ms_nlmp_4_2_4_2_3_encrypted_session_key() {
        let kxkey = SessionKey::from_bytes(unhex16(SESSION_BASE_KEY));
        let exported = SessionKey::from_bytes(RANDOM_SESSION_KEY);
        let encrypted = encrypt_session_key(&kxkey, &exported);
        assert_eq!(encrypted, unhex16(ENCRYPTED_SESSION_KEY));
        assert_eq!(decrypt_session_key(&kxkey, &encrypted), exported);
        let flags = NegotiateFlags::from_bits_retain(CHALLENGE_FLAGS);
        assert_eq!(
            exported_session_key(flags, &kxkey, Some(&encrypted)),
            Ok(exported)
        );
        assert_eq!(
            exported_session_key(flags, &kxkey, None),
            Err(NtlmError::MissingSessionKey)
        );
        let no_kx = flags - NegotiateFlags::NEGOTIATE_KEY_EXCH;
        assert_eq!(exported_session_key(no_kx, &kxkey, None), Ok(kxkey));
    }

    #[test]
    fn server_verifies_the_published_response() {
        let key =
            verify_ntlmv2_response(&response_key(), &SERVER_CHALLENGE, &unhex(NTLMV2_RESPONSE))
                .unwrap();
        assert_eq!(key.as_bytes(), &unhex16(SESSION_BASE_KEY));

        let mut tampered = unhex(NTLMV2_RESPONSE);
        tampered[40] ^= 1;
        assert_eq!(
            verify_ntlmv2_response(&response_key(), &SERVER_CHALLENGE, &tampered),
            Err(NtlmError::NtProofMismatch)
        );
        let wrong = ntowf_v2(&nt_hash("password"), USER, DOMAIN);
        assert_eq!(
            verify_ntlmv2_response(&wrong, &SERVER_CHALLENGE, &unhex(NTLMV2_RESPONSE)),
            Err(NtlmError::NtProofMismatch)
        );
        assert_eq!(
            verify_ntlmv2_response(&response_key(), &SERVER_CHALLENGE, &[0; 24]),
            Err(NtlmError::ResponseTooShort { len: 24, min: 44 })
        );
    }

    #[test]
    fn client_challenge_decodes_from_the_published_response() {
        let blob = Ntlmv2ClientChallenge::decode(&unhex(NTLMV2_RESPONSE)).unwrap();
        assert_eq!(blob.timestamp, TIME);
        assert_eq!(blob.challenge_from_client, CLIENT_CHALLENGE);
        let name = blob.av_pairs.get(AvId::NB_COMPUTER_NAME).unwrap();
        assert_eq!(
            name,
            &AvPair::string(AvId::NB_COMPUTER_NAME, SERVER).unwrap()
        );
        let mut bad = unhex(NTLMV2_RESPONSE);
        bad[16] = 2;
        assert!(matches!(
            Ntlmv2ClientChallenge::decode(&bad),
            Err(NtlmError::BadResponseVersion { .. })
        ));
    }

    #[test]
    fn mic_covers_all_three_messages_but_not_itself() {
        let key = SessionKey::from_bytes(RANDOM_SESSION_KEY);
        let mut auth = vec![7u8; 120];
        let mic = compute_mic(&key, b"neg", b"chal", &auth).unwrap();
        // The MIC field is zeroed before hashing.
        let mut zeroed = auth.clone();
        zeroed[72..88].fill(0);
        assert_eq!(mic, hmac_md5(&[0x55; 16], &[b"neg", b"chal", &zeroed]));
        auth[72..88].copy_from_slice(&mic);
        assert_eq!(verify_mic(&key, b"neg", b"chal", &auth), Ok(()));
        assert_eq!(
            verify_mic(&key, b"neg", b"chaL", &auth),
            Err(NtlmError::MicMismatch)
        );
        auth[100] ^= 1;
        assert_eq!(
            verify_mic(&key, b"neg", b"chal", &auth),
            Err(NtlmError::MicMismatch)
        );
        assert!(matches!(
            compute_mic(&key, b"", b"", &auth[..87]),
            Err(NtlmError::Truncated { .. })
        ));
    }

    #[test]
    fn secrets_are_redacted() {
        let shown = format!("{:?} {:?}", response_key(), example_response());
        assert!(shown.contains("NtHash(<redacted>)"));
        assert!(shown.contains("SessionKey(<redacted>)"));
        assert!(!shown.contains("0c"), "{shown}");
    }

    proptest! {
        #[test]
        fn server_accepts_what_the_client_computes(
            password in ".{0,20}",
            user in "[a-zA-Z0-9]{0,12}",
            challenge in any::<[u8; 8]>(),
            nonce in any::<[u8; 8]>(),
            time in any::<u64>(),
            flip in any::<prop::sample::Index>(),
        ) {
            let key = ntowf_v2(&nt_hash(&password), &user, "EXAMPLE");
            let info = unhex(TARGET_INFO);
            let response = Ntlmv2Response::compute(&key, &challenge, &nonce, time, &info);
            let verified = verify_ntlmv2_response(&key, &challenge, response.nt_challenge_response());
            prop_assert_eq!(verified.as_ref(), Ok(response.session_base_key()));
            let blob = Ntlmv2ClientChallenge::decode(response.nt_challenge_response()).unwrap();
            prop_assert_eq!(blob.timestamp, time);
            let mut tampered = response.nt_challenge_response().to_vec();
            let i = flip.index(tampered.len());
            tampered[i] ^= 0x80;
            prop_assert_eq!(
                verify_ntlmv2_response(&key, &challenge, &tampered),
                Err(NtlmError::NtProofMismatch)
            );
        }

        #[test]
        fn arbitrary_responses_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = verify_ntlmv2_response(&response_key(), &SERVER_CHALLENGE, &bytes);
            let _ = Ntlmv2ClientChallenge::decode(&bytes);
            let key = SessionKey::from_bytes([1; 16]);
            let _ = verify_mic(&key, &[], &[], &bytes);
        }
    }
}
