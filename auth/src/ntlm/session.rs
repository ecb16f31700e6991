//! MS-NLMP 3.4 session security with extended session security (NTLMv2):
//! SIGNKEY and SEALKEY (3.4.5.2, 3.4.5.3), MAC (3.4.4.2) and SEAL (3.4.3), as
//! DCE/RPC packet integrity and privacy and LDAP SASL wrapping use them.
//!
//! ```text
//! SignKey  = MD5(ConcatenationOf(ExportedSessionKey, "session key to <dir> signing key magic constant\0"))
//! SealKey  = MD5(ConcatenationOf(ExportedSessionKey[..16 | ..7 | ..5], "session key to <dir> sealing key magic constant\0"))
//! Checksum = HMAC_MD5(SignKey, ConcatenationOf(SeqNum, Message))[0..7]
//!            then RC4(Handle, Checksum) with NEGOTIATE_KEY_EXCH
//! NTLMSSP_MESSAGE_SIGNATURE = Version (4) = 1 | Checksum (8) | SeqNum (4)
//! SEAL: SealedMessage = RC4(Handle, Message), then the signature, from the same RC4 stream
//! ```
//! Each direction has one RC4 handle for the whole session (connection-oriented
//! NTLM), so messages must be sealed and unsealed in sequence order.

use core::fmt;

use rc4::{KeyInit as _, Rc4, StreamCipher as _};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::crypto::{SessionKey, hmac_md5, md5};
use super::error::NtlmError;
use super::flags::NegotiateFlags;

/// The length of an NTLMSSP_MESSAGE_SIGNATURE (2.2.2.9.1).
pub const SIGNATURE_LEN: usize = 16;

const CLIENT_SIGN: &[u8] = b"session key to client-to-server signing key magic constant\0";
const SERVER_SIGN: &[u8] = b"session key to server-to-client signing key magic constant\0";
const CLIENT_SEAL: &[u8] = b"session key to client-to-server sealing key magic constant\0";
const SERVER_SEAL: &[u8] = b"session key to server-to-client sealing key magic constant\0";
/// 2.2.2.9.1: NTLMSSP_MESSAGE_SIGNATURE Version.
const SIGNATURE_VERSION: u32 = 1;

/// Which end of the authentication this session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The client: sends with the client-to-server keys.
    Client,
    /// The server: sends with the server-to-client keys.
    Server,
}

/// One direction's keys and state.
struct Direction {
    sign_key: Zeroizing<[u8; 16]>,
    seal: Rc4,
    seq: u32,
}

impl Direction {
    fn new(exported: &SessionKey, flags: NegotiateFlags, sign: &[u8], seal: &[u8]) -> Self {
        let seal_key = Zeroizing::new(seal_key(exported, flags, seal));
        Self {
            sign_key: Zeroizing::new(md5(&[exported.as_bytes(), sign])),
            // rc4 accepts keys of 1 to 256 bytes; this one is an MD5 output.
            seal: Rc4::new_from_slice(seal_key.as_slice()).expect("16-byte RC4 key"),
            seq: 0,
        }
    }

    /// `HMAC_MD5(SignKey, ConcatenationOf(SeqNum, Message))[0..7]`, Message being `parts`.
    fn checksum(&self, parts: &[&[u8]]) -> [u8; 8] {
        let seq = self.seq.to_le_bytes();
        let mut all = Vec::with_capacity(parts.len() + 1);
        all.push(seq.as_slice());
        all.extend_from_slice(parts);
        let mac = Zeroizing::new(hmac_md5(self.sign_key.as_slice(), &all));
        let mut out = [0u8; 8];
        out.copy_from_slice(&mac[..8]);
        out
    }

    /// The signature for `checksum`; consumes the sequence number.
    fn signature(&mut self, mut checksum: [u8; 8], key_exch: bool) -> [u8; SIGNATURE_LEN] {
        if key_exch {
            self.seal.apply_keystream(&mut checksum);
        }
        let mut out = [0u8; SIGNATURE_LEN];
        out[..4].copy_from_slice(&SIGNATURE_VERSION.to_le_bytes());
        out[4..12].copy_from_slice(&checksum);
        out[12..].copy_from_slice(&self.seq.to_le_bytes());
        self.seq = self.seq.wrapping_add(1);
        out
    }
}

/// 3.4.5.3 SEALKEY with extended session security.
fn seal_key(exported: &SessionKey, flags: NegotiateFlags, magic: &[u8]) -> [u8; 16] {
    let key = exported.as_bytes();
    let len = if flags.contains(NegotiateFlags::NEGOTIATE_128) {
        16
    } else if flags.contains(NegotiateFlags::NEGOTIATE_56) {
        7
    } else {
        5
    };
    md5(&[&key[..len], magic])
}

/// An established NTLM security context's signing and sealing state.
pub struct NtlmSession {
    send: Direction,
    recv: Direction,
    key_exch: bool,
    exported_session_key: SessionKey,
}

impl NtlmSession {
    /// Derives both directions' keys from the ExportedSessionKey and the
    /// negotiated flags.
    ///
    /// Requires NEGOTIATE_EXTENDED_SESSIONSECURITY (always set with NTLMv2 by
    /// Windows and Samba) and refuses connectionless NTLM (NEGOTIATE_DATAGRAM).
    pub fn new(
        exported_session_key: &SessionKey,
        flags: NegotiateFlags,
        role: Role,
    ) -> Result<Self, NtlmError> {
        if !flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
            return Err(NtlmError::ExtendedSessionSecurityRequired);
        }
        if flags.contains(NegotiateFlags::NEGOTIATE_DATAGRAM) {
            return Err(NtlmError::DatagramNotSupported);
        }
        let client = Direction::new(exported_session_key, flags, CLIENT_SIGN, CLIENT_SEAL);
        let server = Direction::new(exported_session_key, flags, SERVER_SIGN, SERVER_SEAL);
        let (send, recv) = match role {
            Role::Client => (client, server),
            Role::Server => (server, client),
        };
        Ok(Self {
            send,
            recv,
            key_exch: flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH),
            exported_session_key: exported_session_key.clone(),
        })
    }

    /// The ExportedSessionKey: what SMB2 derives its signing keys from (MS-SMB2 3.2.5.3.1).
    pub fn exported_session_key(&self) -> &SessionKey {
        &self.exported_session_key
    }

    /// The next outgoing sequence number.
    pub fn send_sequence(&self) -> u32 {
        self.send.seq
    }

    /// The next expected incoming sequence number.
    pub fn receive_sequence(&self) -> u32 {
        self.recv.seq
    }

    /// 3.4.4 MAC: the signature of `message`, with the next send sequence number.
    pub fn sign(&mut self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let checksum = self.send.checksum(&[message]);
        self.send.signature(checksum, self.key_exch)
    }

    /// Checks a received signature of `message` against the receive sequence number.
    pub fn verify(&mut self, message: &[u8], signature: &[u8]) -> Result<(), NtlmError> {
        self.unseal_parts(&[], &mut [], message, signature)
    }

    /// 3.4.3 SEAL: encrypts `message` in place and returns its signature.
    pub fn seal(&mut self, message: &mut [u8]) -> [u8; SIGNATURE_LEN] {
        self.seal_parts(&[], message, &[])
    }

    /// Decrypts `message` in place and checks its signature.
    pub fn unseal(&mut self, message: &mut [u8], signature: &[u8]) -> Result<(), NtlmError> {
        self.unseal_parts(&[], message, &[], signature)
    }

    /// SEAL of a message of which only a part is encrypted (DCE/RPC packet
    /// privacy: the header and the security trailer are signed in the clear,
    /// the stub is sealed): the signature covers `before || data || after`
    /// with `data` in the clear, and `data` is encrypted in place.
    pub fn seal_parts(
        &mut self,
        before: &[u8],
        data: &mut [u8],
        after: &[u8],
    ) -> [u8; SIGNATURE_LEN] {
        let checksum = self.send.checksum(&[before, data, after]);
        self.send.seal.apply_keystream(data);
        self.send.signature(checksum, self.key_exch)
    }

    /// Reverse of [`Self::seal_parts`]: decrypts `data` in place, then checks the
    /// signature over `before || data || after`.
    ///
    /// After an error the context is out of step with the peer's RC4 stream
    /// and should be dropped.
    pub fn unseal_parts(
        &mut self,
        before: &[u8],
        data: &mut [u8],
        after: &[u8],
        signature: &[u8],
    ) -> Result<(), NtlmError> {
        self.check_signature_header(signature)?;
        self.recv.seal.apply_keystream(data);
        let checksum = self.recv.checksum(&[before, data, after]);
        let expected = self.recv.signature(checksum, self.key_exch);
        if bool::from(expected[4..12].ct_eq(&signature[4..12])) {
            Ok(())
        } else {
            Err(NtlmError::SignatureMismatch)
        }
    }

    /// Checks the signature's length, Version and SeqNum.
    fn check_signature_header(&self, signature: &[u8]) -> Result<(), NtlmError> {
        let field = |at: usize| {
            signature
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
        };
        let version = field(0).unwrap_or(0);
        if signature.len() != SIGNATURE_LEN || version != SIGNATURE_VERSION {
            return Err(NtlmError::BadSignature {
                len: signature.len(),
                version,
            });
        }
        let got = field(12).unwrap_or(0);
        if got != self.recv.seq {
            return Err(NtlmError::SequenceMismatch {
                expected: self.recv.seq,
                got,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for NtlmSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmSession")
            .field("send_sequence", &self.send.seq)
            .field("receive_sequence", &self.recv.seq)
            .field("key_exch", &self.key_exch)
            .field("keys", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ntlm::test_vectors::*;

    fn example_flags() -> NegotiateFlags {
        NegotiateFlags::from_bits_retain(CHALLENGE_FLAGS)
    }

    fn pair(flags: NegotiateFlags) -> (NtlmSession, NtlmSession) {
        let key = SessionKey::from_bytes(RANDOM_SESSION_KEY);
        (
            NtlmSession::new(&key, flags, Role::Client).unwrap(),
            NtlmSession::new(&key, flags, Role::Server).unwrap(),
        )
    }

    #[test]
    fn ms_nlmp_4_2_4_4_keys() {
        let key = SessionKey::from_bytes(RANDOM_SESSION_KEY);
        assert_eq!(
            seal_key(&key, example_flags(), CLIENT_SEAL),
            unhex16(CLIENT_SEAL_KEY)
        );
        let (client, server) = pair(example_flags());
        assert_eq!(*client.send.sign_key, unhex16(CLIENT_SIGN_KEY));
        assert_eq!(*server.recv.sign_key, unhex16(CLIENT_SIGN_KEY));
    }

    #[test]
    fn ms_nlmp_4_2_4_4_gss_wrap_ex() {
        let (mut client, mut server) = pair(example_flags());
        let mut data = unhex(PLAINTEXT);
        let signature = client.seal(&mut data);
        assert_eq!(data, unhex(SEALED));
        assert_eq!(signature.as_slice(), unhex(MESSAGE_SIGNATURE));
        server.unseal(&mut data, &signature).unwrap();
        assert_eq!(data, unhex(PLAINTEXT));
        assert_eq!((client.send_sequence(), server.receive_sequence()), (1, 1));
    }

    #[test]
    fn tampering_replay_and_malformed_signatures_fail() {
        let (mut client, mut server) = pair(example_flags());
        let mut data = b"stub".to_vec();
        let sig = client.seal(&mut data);
        let mut tampered = data.clone();
        tampered[0] ^= 1;
        assert_eq!(
            server.unseal(&mut tampered, &sig),
            Err(NtlmError::SignatureMismatch)
        );

        let (mut client, mut server) = pair(example_flags());
        let sig = client.sign(b"one");
        assert_eq!(server.verify(b"one", &sig), Ok(()));
        assert_eq!(
            server.verify(b"one", &sig),
            Err(NtlmError::SequenceMismatch {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            server.verify(b"one", &sig[..15]),
            Err(NtlmError::BadSignature {
                len: 15,
                version: 1
            })
        );
        assert!(matches!(
            server.verify(b"", &[]),
            Err(NtlmError::BadSignature { len: 0, .. })
        ));
    }

    #[test]
    fn flags_pick_the_algorithm() {
        let key = SessionKey::from_bytes(RANDOM_SESSION_KEY);
        let no_ess = example_flags() - NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY;
        assert_eq!(
            NtlmSession::new(&key, no_ess, Role::Client).unwrap_err(),
            NtlmError::ExtendedSessionSecurityRequired
        );
        let datagram = example_flags() | NegotiateFlags::NEGOTIATE_DATAGRAM;
        assert_eq!(
            NtlmSession::new(&key, datagram, Role::Client).unwrap_err(),
            NtlmError::DatagramNotSupported
        );
        // 56- and 40-bit seal keys use 7 and 5 bytes of the session key.
        let f56 = example_flags() - NegotiateFlags::NEGOTIATE_128;
        let f40 = f56 - NegotiateFlags::NEGOTIATE_56;
        assert_eq!(
            seal_key(&key, f56, CLIENT_SEAL),
            md5(&[&RANDOM_SESSION_KEY[..7], CLIENT_SEAL])
        );
        assert_eq!(
            seal_key(&key, f40, CLIENT_SEAL),
            md5(&[&RANDOM_SESSION_KEY[..5], CLIENT_SEAL])
        );
        // Without key exchange the checksum is sent unencrypted.
        let (mut client, _) = pair(example_flags() - NegotiateFlags::NEGOTIATE_KEY_EXCH);
        let sig = client.sign(b"msg");
        let mac = hmac_md5(&unhex16(CLIENT_SIGN_KEY), &[&[0; 4], b"msg"]);
        assert_eq!(&sig[4..12], &mac[..8]);
        assert!(format!("{client:?}").contains("<redacted>"));
    }

    proptest! {
        #[test]
        fn both_directions_round_trip_in_sequence(
            messages in prop::collection::vec(
                (prop::collection::vec(any::<u8>(), 0..40), any::<bool>(), any::<bool>()),
                1..8,
            ),
            kx in any::<bool>(),
        ) {
            let mut flags = example_flags();
            flags.set(NegotiateFlags::NEGOTIATE_KEY_EXCH, kx);
            let (mut client, mut server) = pair(flags);
            for (plain, from_client, seal) in messages {
                let (tx, rx) = match from_client {
                    true => (&mut client, &mut server),
                    false => (&mut server, &mut client),
                };
                let mut data = plain.clone();
                if seal {
                    let sig = tx.seal_parts(b"hdr", &mut data, b"trailer");
                    prop_assert_eq!(rx.unseal_parts(b"hdr", &mut data, b"trailer", &sig), Ok(()));
                } else {
                    let sig = tx.sign(&data);
                    prop_assert_eq!(rx.verify(&data, &sig), Ok(()));
                }
                prop_assert_eq!(data, plain);
            }
        }

        #[test]
        fn arbitrary_signatures_never_panic(
            mut data in prop::collection::vec(any::<u8>(), 0..40),
            sig in prop::collection::vec(any::<u8>(), 0..20),
        ) {
            let (_, mut server) = pair(example_flags());
            let _ = server.unseal(&mut data, &sig);
        }
    }
}
