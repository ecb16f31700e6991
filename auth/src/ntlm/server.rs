//! The server side of an NTLMSSP exchange (MS-NLMP 3.2.5) for a domain member, sans-IO:
//! NEGOTIATE in, CHALLENGE out, AUTHENTICATE in — and then the member cannot check the
//! response itself (it does not know the user's password). The DC does, over NETLOGON
//! (NetrLogonSamLogonEx, pass-through authentication, MS-APDS 3.1.5), and answers with
//! the SessionBaseKey; [`PendingLogon::complete`] turns that into the session key,
//! checks the MIC and returns the signing and sealing context.

use super::av_pair::{AvFlags, AvId, AvPair, AvPairs};
use super::client::CLIENT_FLAGS;
use super::crypto::{SessionKey, exported_session_key, verify_mic};
use super::error::NtlmError;
use super::flags::NegotiateFlags;
use super::messages::{AuthenticateMessage, ChallengeMessage, NegotiateMessage};
use super::session::{NtlmSession, Role};

/// Who the server says it is in the CHALLENGE_MESSAGE's TargetInfo (MS-NLMP 2.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    /// The domain's NetBIOS name (also the TargetName).
    pub netbios_domain: String,
    /// This computer's NetBIOS name.
    pub netbios_computer: String,
    /// The domain's DNS name.
    pub dns_domain: String,
    /// This computer's FQDN.
    pub dns_computer: String,
}

/// What the server brings that is random or time-dependent (kept out of the exchange
/// so it stays deterministic under test).
#[derive(Debug, Clone, Copy)]
pub struct ServerNonces {
    /// The 8-byte server challenge.
    pub server_challenge: [u8; 8],
    /// Now, as a FILETIME (MsvAvTimestamp).
    pub timestamp: u64,
}

impl ServerNonces {
    /// A random challenge and the time now.
    pub fn fresh() -> Result<Self, getrandom::Error> {
        let mut server_challenge = [0; 8];
        getrandom::fill(&mut server_challenge)?;
        Ok(Self {
            server_challenge,
            timestamp: super::client::filetime_now(),
        })
    }
}

/// A server's exchange after its CHALLENGE_MESSAGE was sent.
#[derive(Debug)]
pub struct NtlmServer {
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    flags: NegotiateFlags,
    server_challenge: [u8; 8],
}

impl NtlmServer {
    /// Reads the client's NEGOTIATE_MESSAGE and answers with a CHALLENGE_MESSAGE.
    ///
    /// The flags are what the client asked for among those Adjoin speaks; extended
    /// session security (NTLMv2 session security) is required.
    pub fn challenge(
        negotiate: &[u8],
        identity: &ServerIdentity,
        nonces: ServerNonces,
    ) -> Result<(Self, Vec<u8>), NtlmError> {
        let neg = NegotiateMessage::decode(negotiate)?;
        if !neg
            .flags
            .contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY)
        {
            return Err(NtlmError::ExtendedSessionSecurityRequired);
        }
        if neg.flags.contains(NegotiateFlags::NEGOTIATE_DATAGRAM) {
            return Err(NtlmError::DatagramNotSupported);
        }
        let flags = (neg.flags & CLIENT_FLAGS)
            | NegotiateFlags::NEGOTIATE_TARGET_INFO
            | NegotiateFlags::TARGET_TYPE_DOMAIN;
        let mut info = AvPairs::new();
        info.push(AvPair::string(
            AvId::NB_DOMAIN_NAME,
            &identity.netbios_domain,
        )?);
        info.push(AvPair::string(
            AvId::NB_COMPUTER_NAME,
            &identity.netbios_computer,
        )?);
        info.push(AvPair::string(AvId::DNS_DOMAIN_NAME, &identity.dns_domain)?);
        info.push(AvPair::string(
            AvId::DNS_COMPUTER_NAME,
            &identity.dns_computer,
        )?);
        info.push(AvPair::timestamp(nonces.timestamp));
        let challenge = ChallengeMessage {
            flags,
            target_name: identity.netbios_domain.clone(),
            server_challenge: nonces.server_challenge,
            target_info: info,
            version: neg.version,
        }
        .encode()?;
        let server = Self {
            negotiate: negotiate.to_vec(),
            challenge: challenge.clone(),
            flags,
            server_challenge: nonces.server_challenge,
        };
        Ok((server, challenge))
    }

    /// Reads the client's AUTHENTICATE_MESSAGE: who it claims to be and the responses
    /// the DC must verify.
    pub fn authenticate(self, authenticate: &[u8]) -> Result<PendingLogon, NtlmError> {
        let auth = AuthenticateMessage::decode(authenticate)?;
        // MS-NLMP 3.2.5.1.2: an anonymous AUTHENTICATE has an empty user name and
        // NtChallengeResponse and an LmChallengeResponse empty or Z(1). There is nothing
        // for the DC to verify and no session key; the caller decides whether it serves
        // anonymous users at all.
        let anonymous = auth.user_name.is_empty()
            && auth.nt_challenge_response.is_empty()
            && matches!(auth.lm_challenge_response.as_slice(), [] | [0]);
        // An NtChallengeResponse of 24 bytes is NTLMv1, which AD members should not accept.
        if !anonymous && auth.nt_challenge_response.len() <= 24 {
            return Err(NtlmError::ResponseTooShort {
                len: auth.nt_challenge_response.len(),
                min: 48,
            });
        }
        let mic_expected = !anonymous && {
            let client = super::crypto::Ntlmv2ClientChallenge::decode(&auth.nt_challenge_response)
                .and_then(|client| client.av_pairs.flags())
                .map_err(|e| NtlmError::MalformedClientChallenge(Box::new(e)))?;
            client.is_some_and(|f| f.contains(AvFlags::MIC_PRESENT))
        };
        Ok(PendingLogon {
            anonymous,
            user: auth.user_name,
            domain: auth.domain_name,
            workstation: auth.workstation,
            server_challenge: self.server_challenge,
            nt_response: auth.nt_challenge_response,
            lm_response: auth.lm_challenge_response,
            flags: self.flags & auth.flags,
            encrypted_session_key: auth.encrypted_random_session_key,
            mic_expected,
            messages: [self.negotiate, self.challenge, authenticate.to_vec()],
        })
    }
}

/// An AUTHENTICATE_MESSAGE waiting for the DC's verdict.
pub struct PendingLogon {
    /// The account name the client gave.
    pub user: String,
    /// The domain the client gave.
    pub domain: String,
    /// The client's workstation name.
    pub workstation: String,
    /// The challenge the responses answer.
    pub server_challenge: [u8; 8],
    /// The NTLMv2 response, for the DC.
    pub nt_response: Vec<u8>,
    /// The LMv2 response, for the DC.
    pub lm_response: Vec<u8>,
    flags: NegotiateFlags,
    encrypted_session_key: Option<[u8; 16]>,
    mic_expected: bool,
    anonymous: bool,
    messages: [Vec<u8>; 3],
}

impl core::fmt::Debug for PendingLogon {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PendingLogon")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("workstation", &self.workstation)
            .finish_non_exhaustive()
    }
}

impl PendingLogon {
    /// Whether the client said its AUTHENTICATE_MESSAGE carries a MIC (MsvAvFlags): then
    /// SPNEGO must carry a mechListMIC too (MS-SPNG 3.1.5.1).
    pub fn mic_expected(&self) -> bool {
        self.mic_expected
    }

    /// Whether this is an anonymous logon (no user, no responses): nothing for the DC to
    /// verify and no session key; [`Self::complete`] refuses it.
    pub fn is_anonymous(&self) -> bool {
        self.anonymous
    }

    /// Finishes the exchange with the SessionBaseKey the DC returned for this logon
    /// (NETLOGON's UserSessionKey): derives the ExportedSessionKey (MS-NLMP 3.2.5.1.2,
    /// KXKEY is the SessionBaseKey for NTLMv2), checks the MIC when the client said it
    /// sent one, and returns the session.
    pub fn complete(self, session_base_key: &[u8; 16]) -> Result<NtlmSession, NtlmError> {
        if self.anonymous {
            return Err(NtlmError::MissingSessionKey);
        }
        let kxkey = SessionKey::from_bytes(*session_base_key);
        let exported =
            exported_session_key(self.flags, &kxkey, self.encrypted_session_key.as_ref())?;
        if self.mic_expected {
            let [negotiate, challenge, authenticate] = &self.messages;
            verify_mic(&exported, negotiate, challenge, authenticate)?;
        }
        NtlmSession::new(&exported, self.flags, Role::Server)
    }
}

/// Test fixtures: the member FILES in EXAMPLE / example.test.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::ServerIdentity;

    /// The identity a test acceptor announces in its CHALLENGE_MESSAGE.
    pub(crate) fn identity() -> ServerIdentity {
        ServerIdentity {
            netbios_domain: "EXAMPLE".into(),
            netbios_computer: "FILES".into(),
            dns_domain: "example.test".into(),
            dns_computer: "files.example.test".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::identity;
    use super::*;
    use crate::ntlm::{ClientNonces, NtlmClient, nt_hash, ntowf_v2, verify_ntlmv2_response};

    const NONCES: ServerNonces = ServerNonces {
        server_challenge: [9, 8, 7, 6, 5, 4, 3, 2],
        timestamp: 0x01db_0000_0000_0000,
    };

    fn client_nonces() -> ClientNonces {
        ClientNonces {
            client_challenge: [1; 8],
            session_key: [2; 16],
            timestamp: 0,
        }
    }

    /// The DC's part, played locally: verify the response, return the SessionBaseKey.
    fn dc_verifies(pending: &PendingLogon, password: &str) -> Result<[u8; 16], NtlmError> {
        let key = ntowf_v2(&nt_hash(password), &pending.user, &pending.domain);
        verify_ntlmv2_response(&key, &pending.server_challenge, &pending.nt_response)
            .map(|k| *k.as_bytes())
    }

    #[test]
    fn client_and_member_server_agree_once_the_dc_answers() {
        let (client, negotiate) = NtlmClient::new("alice", "EXAMPLE", "Secret1!", "WS1").unwrap();
        let (server, challenge) = NtlmServer::challenge(&negotiate, &identity(), NONCES).unwrap();
        let (authenticate, mut client_session) =
            client.authenticate(&challenge, &client_nonces()).unwrap();
        let pending = server.authenticate(&authenticate).unwrap();
        assert_eq!(
            (pending.user.as_str(), pending.domain.as_str()),
            ("alice", "EXAMPLE")
        );
        let base = dc_verifies(&pending, "Secret1!").unwrap();
        let mut server_session = pending.complete(&base).unwrap();

        let sig = client_session.sign(b"hello");
        server_session.verify(b"hello", &sig).unwrap();
        let sig = server_session.sign(b"back");
        client_session.verify(b"back", &sig).unwrap();
    }

    #[test]
    fn a_wrong_key_from_the_dc_fails_the_mic() {
        let (client, negotiate) = NtlmClient::new("alice", "EXAMPLE", "Secret1!", "WS1").unwrap();
        let (server, challenge) = NtlmServer::challenge(&negotiate, &identity(), NONCES).unwrap();
        let (authenticate, _) = client.authenticate(&challenge, &client_nonces()).unwrap();
        let pending = server.authenticate(&authenticate).unwrap();
        assert!(matches!(
            pending.complete(&[0; 16]),
            Err(NtlmError::MicMismatch)
        ));
    }

    #[test]
    fn a_changed_authenticate_message_fails_the_mic() {
        let (client, negotiate) = NtlmClient::new("alice", "EXAMPLE", "Secret1!", "WS1").unwrap();
        let (server, challenge) = NtlmServer::challenge(&negotiate, &identity(), NONCES).unwrap();
        let (mut authenticate, _) = client.authenticate(&challenge, &client_nonces()).unwrap();
        // Flip a bit of the VERSION field: covered by the MIC, not by the NTLMv2 response.
        authenticate[AuthenticateMessage::MIC_OFFSET - 8] ^= 1;
        let pending = server.authenticate(&authenticate).unwrap();
        let base = dc_verifies(&pending, "Secret1!").unwrap();
        assert!(matches!(
            pending.complete(&base),
            Err(NtlmError::MicMismatch)
        ));
    }

    #[test]
    fn ntlmv1_and_no_extended_session_security_are_refused() {
        let mut neg =
            NegotiateMessage::decode(&NtlmClient::new("a", "B", "c", "D").unwrap().1).unwrap();
        neg.flags -= NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY;
        assert!(NtlmServer::challenge(&neg.encode().unwrap(), &identity(), NONCES).is_err());

        assert!(matches!(
            authenticate_with("alice", vec![0; 24], vec![0; 24]),
            Err(NtlmError::ResponseTooShort { len: 24, .. })
        ));
    }

    /// An AUTHENTICATE_MESSAGE from `user` with these responses, read by a server.
    fn authenticate_with(user: &str, lm: Vec<u8>, nt: Vec<u8>) -> Result<PendingLogon, NtlmError> {
        let (_, negotiate) = NtlmClient::new("alice", "EXAMPLE", "x", "WS1").unwrap();
        let (server, _) = NtlmServer::challenge(&negotiate, &identity(), NONCES).unwrap();
        let message = AuthenticateMessage {
            flags: CLIENT_FLAGS,
            lm_challenge_response: lm,
            nt_challenge_response: nt,
            domain_name: String::new(),
            user_name: user.into(),
            workstation: "WS1".into(),
            encrypted_random_session_key: None,
            version: None,
            mic: None,
        }
        .encode()
        .unwrap();
        server.authenticate(&message)
    }

    #[test]
    fn an_anonymous_logon_is_recognised_and_gets_no_key() {
        for lm in [vec![], vec![0]] {
            let pending = authenticate_with("", lm, Vec::new()).unwrap();
            assert!(pending.is_anonymous());
            assert!(!pending.mic_expected());
            assert!(matches!(
                pending.complete(&[1; 16]),
                Err(NtlmError::MissingSessionKey)
            ));
        }
        // A name, or an LM response, makes it a logon with credentials: too short here.
        assert!(authenticate_with("alice", vec![0], Vec::new()).is_err());
        assert!(authenticate_with("", vec![1; 24], Vec::new()).is_err());
    }

    #[test]
    fn a_malformed_ntlmv2_client_challenge_is_told_apart_from_wrong_credentials() {
        // NTProofStr, RespType 1.1, then an AV pair whose length runs past the end
        // (the shape of smbtorture's smb2.session.ntlmssp_bug14932).
        let mut nt = vec![0xab; 16];
        nt.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
        nt.extend_from_slice(&[0x3f; 8]);
        nt.extend_from_slice(&[0xb8; 8]);
        nt.extend_from_slice(&[0; 4]);
        nt.extend_from_slice(&[0x11, 0xa2, 0x08, 0x81, 0x50, 0x38]);
        let e = authenticate_with("alice", vec![0; 24], nt).unwrap_err();
        assert!(matches!(e, NtlmError::MalformedClientChallenge(_)), "{e}");
    }
}
