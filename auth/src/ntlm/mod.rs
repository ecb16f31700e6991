//! NTLM (MS-NLMP), sans-IO: the NTLMv2 one-way functions and responses, the three
//! NTLMSSP messages, the MIC, key exchange, and NTLMv2 message signing and sealing.
//!
//! | spec | what | file |
//! |---|---|---|
//! | 2.2.1.1 – 2.2.1.3, 2.2.2.5, 2.2.2.10 | NEGOTIATE, CHALLENGE, AUTHENTICATE, flags, VERSION | `messages.rs`, `flags.rs` |
//! | 2.2.2.1 – 2.2.2.2 | AV_PAIR lists (TargetInfo) | `av_pair.rs` |
//! | 3.3.2, 3.1.5.1.2, 3.2.5.1.2 | NTOWFv2, NTLMv2 responses, KXKEY, key exchange, MIC | `crypto.rs` |
//! | 3.4.2 – 3.4.5 | SIGNKEY, SEALKEY, MAC, SEAL with extended session security | `session.rs` |
//! | 3.1.5 | the client's exchange (NEGOTIATE, AUTHENTICATE with MIC) | `client.rs` |
//! | 3.2.5 | a member server's exchange, the DC verifying (pass-through) | `server.rs` |
//!
//! Nothing here does I/O or reads the clock: the caller passes the client challenge,
//! the timestamp and the random session key in, so the same code runs in tests.
//!
//! ```
//! use adjoin_auth::ntlm::{Ntlmv2Response, nt_hash, ntowf_v2, verify_ntlmv2_response};
//!
//! let key = ntowf_v2(&nt_hash("Password"), "User", "Domain");
//! let server_challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
//! let target_info = [0u8; 4]; // just MsvAvEOL
//! let response = Ntlmv2Response::compute(&key, &server_challenge, &[0xaa; 8], 0, &target_info);
//! let verified = verify_ntlmv2_response(&key, &server_challenge, response.nt_challenge_response())?;
//! assert_eq!(verified.as_bytes(), response.session_base_key().as_bytes());
//! # Ok::<(), adjoin_auth::ntlm::NtlmError>(())
//! ```

mod av_pair;
mod client;
mod crypto;
mod error;
mod flags;
mod messages;
mod server;
mod session;
#[cfg(test)]
mod test_vectors;
mod wire;

pub use av_pair::{AvFlags, AvId, AvPair, AvPairs};
pub use client::{CLIENT_FLAGS, ClientNonces, NtlmClient, filetime_now};
pub use crypto::{
    NtHash, Ntlmv2ClientChallenge, Ntlmv2Response, SessionKey, compute_mic, decrypt_session_key,
    encrypt_session_key, exported_session_key, nt_hash, ntowf_v2, verify_mic,
    verify_ntlmv2_response,
};
pub use error::NtlmError;
pub use flags::{NegotiateFlags, Version};
pub use messages::{AuthenticateMessage, ChallengeMessage, NegotiateMessage};
#[cfg(test)]
pub(crate) use server::fixtures;
pub use server::{NtlmServer, PendingLogon, ServerIdentity, ServerNonces};
pub use session::{NtlmSession, Role, SIGNATURE_LEN};

#[cfg(test)]
mod tests {
    use super::*;
    use test_vectors::{CLIENT_CHALLENGE, RANDOM_SESSION_KEY, SERVER_CHALLENGE};

    /// A whole NTLMv2 exchange as Windows runs it (MIC, key exchange, server
    /// timestamp), client and server in memory, then sealed traffic both ways.
    #[test]
    fn client_and_server_complete_an_exchange() {
        let flags = NegotiateFlags::NEGOTIATE_UNICODE
            | NegotiateFlags::REQUEST_TARGET
            | NegotiateFlags::NEGOTIATE_SIGN
            | NegotiateFlags::NEGOTIATE_SEAL
            | NegotiateFlags::NEGOTIATE_NTLM
            | NegotiateFlags::NEGOTIATE_ALWAYS_SIGN
            | NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY
            | NegotiateFlags::NEGOTIATE_VERSION
            | NegotiateFlags::NEGOTIATE_128
            | NegotiateFlags::NEGOTIATE_KEY_EXCH
            | NegotiateFlags::NEGOTIATE_56;
        let version = Some(Version {
            product_major: 10,
            product_minor: 0,
            product_build: 20348,
            ntlm_revision: Version::NTLMSSP_REVISION_W2K3,
        });
        let negotiate = NegotiateMessage {
            flags,
            domain_name: String::new(),
            workstation: String::new(),
            version,
        }
        .encode()
        .unwrap();

        // Server: CHALLENGE with a timestamp.
        let now = 0x01d9_0000_0000_0000;
        let mut info = AvPairs::new();
        info.push(AvPair::string(AvId::NB_DOMAIN_NAME, "EXAMPLE").unwrap());
        info.push(AvPair::string(AvId::NB_COMPUTER_NAME, "DC1").unwrap());
        info.push(AvPair::timestamp(now));
        let challenge = ChallengeMessage {
            flags: NegotiateMessage::decode(&negotiate).unwrap().flags
                | NegotiateFlags::NEGOTIATE_TARGET_INFO
                | NegotiateFlags::TARGET_TYPE_DOMAIN,
            target_name: "EXAMPLE".into(),
            server_challenge: SERVER_CHALLENGE,
            target_info: info,
            version,
        }
        .encode()
        .unwrap();

        // Client: AUTHENTICATE with MsvAvFlags MIC_PRESENT and a MIC.
        let chal = ChallengeMessage::decode(&challenge).unwrap();
        let key = ntowf_v2(&nt_hash("Secret1!"), "alice", "EXAMPLE");
        let mut pairs = chal.target_info.clone();
        pairs.set(AvPair::flags(AvFlags::MIC_PRESENT));
        pairs.set(AvPair::string(AvId::TARGET_NAME, "cifs/dc1.example.test").unwrap());
        let stamp = pairs.timestamp().unwrap().unwrap();
        let response = Ntlmv2Response::compute(
            &key,
            &chal.server_challenge,
            &CLIENT_CHALLENGE,
            stamp,
            &pairs.encode(),
        );
        let exported = SessionKey::from_bytes(RANDOM_SESSION_KEY);
        let mut authenticate = AuthenticateMessage {
            flags: chal.flags,
            lm_challenge_response: vec![0; 24],
            nt_challenge_response: response.nt_challenge_response().to_vec(),
            domain_name: "EXAMPLE".into(),
            user_name: "alice".into(),
            workstation: "WS1".into(),
            encrypted_random_session_key: Some(encrypt_session_key(
                response.session_base_key(),
                &exported,
            )),
            version,
            mic: Some([0; 16]),
        }
        .encode()
        .unwrap();
        let mic = compute_mic(&exported, &negotiate, &challenge, &authenticate).unwrap();
        let at = AuthenticateMessage::MIC_OFFSET;
        authenticate[at..at + 16].copy_from_slice(&mic);

        // Server: verify the response, recover the key, check the MIC.
        let auth = AuthenticateMessage::decode(&authenticate).unwrap();
        let server_key = ntowf_v2(&nt_hash("Secret1!"), &auth.user_name, &auth.domain_name);
        let base =
            verify_ntlmv2_response(&server_key, &SERVER_CHALLENGE, &auth.nt_challenge_response)
                .unwrap();
        let blob = Ntlmv2ClientChallenge::decode(&auth.nt_challenge_response).unwrap();
        assert_eq!(blob.timestamp, now);
        assert_eq!(blob.av_pairs.flags(), Ok(Some(AvFlags::MIC_PRESENT)));
        let server_exported = exported_session_key(
            auth.flags,
            &base,
            auth.encrypted_random_session_key.as_ref(),
        )
        .unwrap();
        assert_eq!(server_exported, exported);
        verify_mic(&server_exported, &negotiate, &challenge, &authenticate).unwrap();

        // Sealed traffic both ways.
        let mut client = NtlmSession::new(&exported, auth.flags, Role::Client).unwrap();
        let mut server = NtlmSession::new(&server_exported, auth.flags, Role::Server).unwrap();
        let mut request = b"request".to_vec();
        let sig = client.seal(&mut request);
        server.unseal(&mut request, &sig).unwrap();
        assert_eq!(request, b"request");
        let mut reply = b"reply".to_vec();
        let sig = server.seal(&mut reply);
        client.unseal(&mut reply, &sig).unwrap();
        assert_eq!(reply, b"reply");
    }
}
