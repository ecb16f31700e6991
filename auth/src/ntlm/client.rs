//! The client side of an NTLMSSP exchange (MS-NLMP 3.1.5 with NTLMv2 and extended
//! session security), sans-IO: NEGOTIATE out, CHALLENGE in, AUTHENTICATE out, and the
//! signing/sealing context both sides then share.

use zeroize::Zeroizing;

use super::av_pair::{AvFlags, AvPair};
use super::crypto::{
    NtHash, Ntlmv2Response, SessionKey, compute_mic, encrypt_session_key, nt_hash, ntowf_v2,
};
use super::error::NtlmError;
use super::flags::{NegotiateFlags, Version};
use super::messages::{AuthenticateMessage, ChallengeMessage, NegotiateMessage};
use super::session::{NtlmSession, Role};
use crate::pac::unix_to_filetime;

/// What the client must bring that is random or time-dependent (kept out of the
/// exchange so it stays deterministic under test).
#[derive(Clone)]
pub struct ClientNonces {
    /// The 8-byte client challenge of the NTLMv2 response.
    pub client_challenge: [u8; 8],
    /// The ExportedSessionKey, sent encrypted under NEGOTIATE_KEY_EXCH.
    pub session_key: [u8; 16],
    /// The FILETIME to use when the server sent no MsvAvTimestamp.
    pub timestamp: u64,
}

impl ClientNonces {
    /// Fresh values: a random client challenge and session key, and the time now.
    pub fn fresh() -> Result<Self, getrandom::Error> {
        let mut client_challenge = [0; 8];
        let mut session_key = [0; 16];
        getrandom::fill(&mut client_challenge)?;
        getrandom::fill(&mut session_key)?;
        Ok(Self {
            client_challenge,
            session_key,
            timestamp: filetime_now(),
        })
    }
}

/// Now as a FILETIME (100 ns units since 1601-01-01).
pub fn filetime_now() -> u64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(unix)
        .ok()
        .and_then(unix_to_filetime)
        .unwrap_or(u64::MAX)
}

impl core::fmt::Debug for ClientNonces {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ClientNonces(<redacted>)")
    }
}

/// A client's NTLMSSP exchange after its NEGOTIATE_MESSAGE was sent.
pub struct NtlmClient {
    user: String,
    domain: String,
    workstation: String,
    key: NtHash,
    negotiate: Vec<u8>,
}

impl core::fmt::Debug for NtlmClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NtlmClient")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("workstation", &self.workstation)
            .finish_non_exhaustive()
    }
}

/// The flags Adjoin offers: NTLMv2 with extended session security, 128-bit keys,
/// key exchange, signing and sealing (what Windows clients send).
pub const CLIENT_FLAGS: NegotiateFlags = NegotiateFlags::NEGOTIATE_UNICODE
    .union(NegotiateFlags::REQUEST_TARGET)
    .union(NegotiateFlags::NEGOTIATE_SIGN)
    .union(NegotiateFlags::NEGOTIATE_SEAL)
    .union(NegotiateFlags::NEGOTIATE_NTLM)
    .union(NegotiateFlags::NEGOTIATE_ALWAYS_SIGN)
    .union(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY)
    .union(NegotiateFlags::NEGOTIATE_VERSION)
    .union(NegotiateFlags::NEGOTIATE_128)
    .union(NegotiateFlags::NEGOTIATE_KEY_EXCH)
    .union(NegotiateFlags::NEGOTIATE_56);

/// The VERSION Adjoin sends (MS-NLMP 2.2.2.10; the product fields are informational).
const CLIENT_VERSION: Version = Version {
    product_major: 10,
    product_minor: 0,
    product_build: 20348,
    ntlm_revision: Version::NTLMSSP_REVISION_W2K3,
};

impl NtlmClient {
    /// Starts an exchange as `domain\user` from `workstation`; returns the client and the
    /// NEGOTIATE_MESSAGE to send.
    pub fn new(
        user: &str,
        domain: &str,
        password: &str,
        workstation: &str,
    ) -> Result<(Self, Vec<u8>), NtlmError> {
        let negotiate = NegotiateMessage {
            flags: CLIENT_FLAGS,
            domain_name: String::new(),
            workstation: String::new(),
            version: Some(CLIENT_VERSION),
        }
        .encode()?;
        let client = Self {
            user: user.to_owned(),
            domain: domain.to_owned(),
            workstation: workstation.to_owned(),
            key: ntowf_v2(&nt_hash(password), user, domain),
            negotiate: negotiate.clone(),
        };
        Ok((client, negotiate))
    }

    /// Answers the server's CHALLENGE_MESSAGE: the AUTHENTICATE_MESSAGE to send (with
    /// a MIC over the three messages) and the session for signing and sealing.
    pub fn authenticate(
        self,
        challenge: &[u8],
        nonces: &ClientNonces,
    ) -> Result<(Vec<u8>, NtlmSession), NtlmError> {
        let chal = ChallengeMessage::decode(challenge)?;
        let flags = chal.flags & CLIENT_FLAGS;
        // MS-NLMP 3.1.5.1.2: without extended session security there is no NTLMv2
        // session security to speak of; refuse rather than fall back.
        if !flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
            return Err(NtlmError::ExtendedSessionSecurityRequired);
        }
        let server_time = chal.target_info.timestamp()?;
        let mut pairs = chal.target_info.clone();
        pairs.set(AvPair::flags(AvFlags::MIC_PRESENT));
        let response = Ntlmv2Response::compute(
            &self.key,
            &chal.server_challenge,
            &nonces.client_challenge,
            server_time.unwrap_or(nonces.timestamp),
            &pairs.encode(),
        );
        // MS-NLMP 3.1.5.1.2: with a server timestamp the LM response is all zeros.
        let lm = match server_time {
            Some(_) => vec![0; 24],
            None => response.lm_challenge_response().to_vec(),
        };
        let (exported, encrypted) = if flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH) {
            let exported = SessionKey::from_bytes(nonces.session_key);
            let encrypted = encrypt_session_key(response.session_base_key(), &exported);
            (exported, Some(encrypted))
        } else {
            (response.session_base_key().clone(), None)
        };
        let mut authenticate = Zeroizing::new(
            AuthenticateMessage {
                flags,
                lm_challenge_response: lm,
                nt_challenge_response: response.nt_challenge_response().to_vec(),
                domain_name: self.domain.clone(),
                user_name: self.user.clone(),
                workstation: self.workstation.clone(),
                encrypted_random_session_key: encrypted,
                version: Some(CLIENT_VERSION),
                mic: Some([0; 16]),
            }
            .encode()?,
        );
        let mic = compute_mic(&exported, &self.negotiate, challenge, &authenticate)?;
        let at = AuthenticateMessage::MIC_OFFSET;
        authenticate[at..at + 16].copy_from_slice(&mic);
        let session = NtlmSession::new(&exported, flags, Role::Client)?;
        Ok((authenticate.to_vec(), session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ntlm::{
        AvId, AvPairs, Ntlmv2ClientChallenge, exported_session_key, verify_mic,
        verify_ntlmv2_response,
    };

    fn nonces() -> ClientNonces {
        ClientNonces {
            client_challenge: [0xaa; 8],
            session_key: [0x55; 16],
            timestamp: 0x01d9_0000_1234_5678,
        }
    }

    /// The server's side, with the helper functions a server uses: the response and
    /// the MIC verify, and both ends derive the same sealing keys.
    #[test]
    fn a_server_accepts_what_the_client_sends() {
        let (client, negotiate) = NtlmClient::new("alice", "EXAMPLE", "Secret1!", "WS1").unwrap();
        let neg = NegotiateMessage::decode(&negotiate).unwrap();
        assert_eq!(neg.flags, CLIENT_FLAGS);
        let mut info = AvPairs::new();
        info.push(AvPair::string(AvId::NB_DOMAIN_NAME, "EXAMPLE").unwrap());
        info.push(AvPair::timestamp(0x01d9_0000_0000_0001));
        let challenge = ChallengeMessage {
            flags: neg.flags | NegotiateFlags::NEGOTIATE_TARGET_INFO,
            target_name: "EXAMPLE".into(),
            server_challenge: [1, 2, 3, 4, 5, 6, 7, 8],
            target_info: info,
            version: None,
        }
        .encode()
        .unwrap();
        let (authenticate, mut client_session) =
            client.authenticate(&challenge, &nonces()).unwrap();

        let auth = AuthenticateMessage::decode(&authenticate).unwrap();
        assert_eq!(
            auth.lm_challenge_response,
            vec![0; 24],
            "server sent a timestamp"
        );
        let key = ntowf_v2(&nt_hash("Secret1!"), &auth.user_name, &auth.domain_name);
        let base =
            verify_ntlmv2_response(&key, &[1, 2, 3, 4, 5, 6, 7, 8], &auth.nt_challenge_response)
                .unwrap();
        let blob = Ntlmv2ClientChallenge::decode(&auth.nt_challenge_response).unwrap();
        assert_eq!(
            blob.timestamp, 0x01d9_0000_0000_0001,
            "the server's time is echoed"
        );
        let exported = exported_session_key(
            auth.flags,
            &base,
            auth.encrypted_random_session_key.as_ref(),
        )
        .unwrap();
        assert_eq!(exported.as_bytes(), &[0x55; 16]);
        verify_mic(&exported, &negotiate, &challenge, &authenticate).unwrap();

        let mut server = NtlmSession::new(&exported, auth.flags, Role::Server).unwrap();
        let mut data = b"stub".to_vec();
        let sig = client_session.seal_parts(b"header", &mut data, b"trailer");
        server
            .unseal_parts(b"header", &mut data, b"trailer", &sig)
            .unwrap();
        assert_eq!(data, b"stub");
    }

    #[test]
    fn a_server_without_extended_session_security_is_refused() {
        let (client, _) = NtlmClient::new("alice", "EXAMPLE", "x", "WS1").unwrap();
        let challenge = ChallengeMessage {
            flags: NegotiateFlags::NEGOTIATE_UNICODE | NegotiateFlags::NEGOTIATE_NTLM,
            target_name: "EXAMPLE".into(),
            server_challenge: [0; 8],
            target_info: AvPairs::new(),
            version: None,
        }
        .encode()
        .unwrap();
        assert!(matches!(
            client.authenticate(&challenge, &nonces()),
            Err(NtlmError::ExtendedSessionSecurityRequired)
        ));
        let (client, _) = NtlmClient::new("alice", "EXAMPLE", "x", "WS1").unwrap();
        assert!(client.authenticate(b"garbage", &nonces()).is_err());
    }
}
