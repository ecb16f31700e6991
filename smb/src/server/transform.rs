//! Encryption on the server: MS-SMB2 3.3.5.2.1.1 decrypting a request that comes in a
//! TRANSFORM_HEADER, and 3.3.4.1.4 deciding which responses are encrypted (the others
//! are signed, 3.3.4.1.1). Bytes in, bytes out: the driver hands each received frame to
//! [`ServerConnection::receive`] before splitting a compound.

use std::cell::Cell;

use super::session::Session;
use super::{ServerConnection, Step};
use crate::error::SmbError;
use crate::proto::{Cipher, Command, Header, SigningAlgorithm, TransformHeader, read_transform};
use crate::signing::Signer;

/// The connection's transport security: what NEGOTIATE settled, and whether the message
/// being handled came encrypted.
#[derive(Debug)]
pub(super) struct Crypto {
    /// `Connection.CipherId`: `None` when the connection has no encryption (before 3.0,
    /// a 3.0.x client that did not announce it, a 3.1.1 client without a common cipher).
    pub(super) cipher: Option<Cipher>,
    /// `Connection.SigningAlgorithmId` (3.1.1; AES-CMAC unless negotiated).
    pub(super) signing: SigningAlgorithm,
    /// `Request.IsEncrypted`: the SessionId of the TRANSFORM_HEADER the frame being
    /// handled came in, `None` for a plain frame.
    pub(super) encrypted: Option<u64>,
    /// A response could not be sealed (the nonce space of 2^64 messages is spent): the
    /// connection ends rather than answering in the clear.
    pub(super) seal_failed: Cell<bool>,
    /// The driver signs READ responses on its writer task, off the core
    /// ([`ServerConnection::sign_reads_later`]).
    pub(super) sign_reads_later: bool,
    /// The key the reply just built is to be signed with on its way out.
    pub(super) sign_later: Option<Signer>,
}

impl Default for Crypto {
    fn default() -> Self {
        Self {
            cipher: None,
            signing: SigningAlgorithm::AES_CMAC,
            encrypted: None,
            seal_failed: Cell::new(false),
            sign_reads_later: false,
            sign_later: None,
        }
    }
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.2.1.1: one received frame, plain or encrypted; returns the plain
    /// message (or compound) to split and handle. An encrypted frame must name an
    /// established session that has encryption keys and must decrypt under them; anything
    /// else is an error, and the driver drops the connection. The frame's buffer is
    /// decrypted in place.
    pub fn receive(&mut self, frame: Vec<u8>) -> Result<Vec<u8>, SmbError> {
        self.crypto.encrypted = None;
        if !TransformHeader::is_transform(&frame) {
            return Ok(frame);
        }
        let (header, _) = read_transform(&frame)?;
        let malformed = |why| SmbError::Malformed {
            what: "SMB2 TRANSFORM_HEADER",
            why,
        };
        let session = self
            .sessions
            .get_mut(&header.session_id)
            .filter(|s| s.signer().is_some())
            .ok_or(malformed("an encrypted message for no established session"))?;
        let encryptor = session.encryptor.as_ref().ok_or(malformed(
            "an encrypted message on a session without encryption",
        ))?;
        let plain = encryptor.open_owned(header.session_id, frame)?;
        session.encrypt_data = true;
        self.crypto.encrypted = Some(header.session_id);
        Ok(plain)
    }

    /// MS-SMB2 3.3.5.2.1.1: each message of a decrypted frame must belong to the session
    /// the TRANSFORM_HEADER names (a related member's inherited id included).
    pub(super) fn check_encrypted(&self, header: &Header) -> Result<(), SmbError> {
        match self.crypto.encrypted {
            Some(id) if id != header.session_id => Err(SmbError::Malformed {
                what: "SMB2 TRANSFORM_HEADER",
                why: "a message of another session inside an encrypted frame",
            }),
            _ => Ok(()),
        }
    }

    /// Whether the request being handled came encrypted.
    pub(super) fn request_encrypted(&self) -> bool {
        self.crypto.encrypted.is_some()
    }

    /// MS-SMB2 3.3.4.1.4: a response of a session with encryption keys is encrypted
    /// when its request was, when the session encrypts (`EncryptData`; not NEGOTIATE or
    /// SESSION_SETUP), or when its tree's share requires encryption (not TREE_CONNECT).
    pub(super) fn encrypts(&self, response: &Header, session: &Session) -> bool {
        if session.encryptor.is_none() {
            return false;
        }
        if self.request_encrypted() {
            return true;
        }
        let command = response.command;
        if command == Command::NEGOTIATE || command == Command::SESSION_SETUP {
            return false;
        }
        session.encrypt_data
            || (command != Command::TREE_CONNECT
                && session
                    .trees
                    .get(&response.tree_id)
                    .is_some_and(|t| t.requires_encryption()))
    }

    /// Makes `msg`, a response whose header is `response`, ready to send: encrypted
    /// (3.1.4.3) when [`Self::encrypts`] says so, which replaces signing (3.3.4.1.1), or
    /// else signed with its session's key once the session has one.
    pub(super) fn protect(&self, response: &Header, mut msg: Vec<u8>) -> Vec<u8> {
        let Some(session) = self.sessions.get(&response.session_id) else {
            return msg;
        };
        if self.encrypts(response, session)
            && let Some(encryptor) = &session.encryptor
        {
            return encryptor
                .seal(response.session_id, &msg)
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "a response could not be encrypted");
                    self.crypto.seal_failed.set(true);
                    Vec::new()
                });
        }
        if let Some(signer) = session.signer() {
            signer.sign(&mut msg);
        }
        msg
    }

    /// [`Self::protect`] for a READ response, whose signing (a GMAC or CMAC over up to
    /// 8 MiB) the driver may do on its writer task while the core serves the next
    /// request: then the message is returned unsigned and the key is kept for
    /// [`Self::take_sign_later`]. Encrypted responses are sealed here as always.
    pub(super) fn protect_data(&mut self, response: &Header, msg: Vec<u8>) -> Vec<u8> {
        if self.crypto.sign_reads_later
            && let Some(session) = self.sessions.get(&response.session_id)
            && !self.encrypts(response, session)
            && let Some(signer) = session.signer()
        {
            self.crypto.sign_later = Some(signer.clone());
            return msg;
        }
        self.protect(response, msg)
    }

    /// Lets READ responses leave the core unsigned, their key given with them
    /// ([`Self::take_sign_later`]): for a driver that signs each before it is sent.
    pub fn sign_reads_later(&mut self) {
        self.crypto.sign_reads_later = true;
    }

    /// The key the reply just built must be signed with before it is sent, if its
    /// signing was left to the caller.
    pub fn take_sign_later(&mut self) -> Option<Signer> {
        self.crypto.sign_later.take()
    }

    /// Ends the connection when a response of this step could not be sealed.
    pub(super) fn check_sealed(&self, step: Step) -> Result<Step, SmbError> {
        if self.crypto.seal_failed.get() {
            return Err(SmbError::Signature(
                "a response could not be encrypted (nonces exhausted)",
            ));
        }
        Ok(step)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use adjoin_auth::ntlm::ServerIdentity;
    use adjoin_rpc::ntstatus::NtStatus;

    use super::super::ServerConfig;
    use super::super::backend::memory::MemoryBackend;
    use super::super::session::{Auth, Session};
    use super::super::share::{DiskShare, Shares};
    use super::super::testing::alice;
    use super::*;
    use crate::encryption::{Encryptor, Side};
    use crate::proto::{
        Body, Capabilities, CloseRequest, Dialect, EchoRequest, FileId, HashAlgorithm, HeaderFlags,
        NegotiateContext, NegotiateRequest, NegotiateResponse, ReadRequest, SessionSetupRequest,
        TreeConnectRequest, TreeConnectResponse,
    };
    use crate::signing::{PreauthHash, Signer};

    pub(in super::super) const SESSION: u64 = 7;
    const KEY: [u8; 16] = [0x42; 16];

    /// A server with IPC$ and `secret`, an in-memory share that requires encryption.
    pub(in super::super) fn config() -> Arc<ServerConfig> {
        Arc::new(ServerConfig {
            identity: ServerIdentity {
                netbios_domain: "EXAMPLE".into(),
                netbios_computer: "FILES".into(),
                dns_domain: "example.test".into(),
                dns_computer: "files.example.test".into(),
            },
            server_guid: [1; 16],
            comment: String::new(),
            shares: Shares::new(vec![DiskShare {
                name: "secret".into(),
                comment: String::new(),
                path: "/secret".into(),
                read_only: false,
                allowed_gids: None,
                encrypt: true,
                backend: Arc::new(MemoryBackend::new()),
            }]),
            tokens: None,
            kerberos: None,
            ipc: Default::default(),
            encrypt_data: false,
        })
    }

    /// `body` as request `id` of session [`SESSION`] on `tree`, charged one credit.
    pub(in super::super) fn request<B: Body>(id: u64, tree: u32, body: &B) -> Vec<u8> {
        body.to_message(&Header {
            credit_charge: 1,
            credits: 32,
            message_id: id,
            tree_id: tree,
            session_id: SESSION,
            ..Header::request(B::COMMAND)
        })
    }

    /// A connection past NEGOTIATE at `dialect` (offering `cipher` for 3.1.1), with
    /// session [`SESSION`] established as SESSION_SETUP leaves it (keys from [`KEY`]),
    /// and the client's encryption keys, when the connection has a cipher.
    pub(in super::super) fn established(
        dialect: Dialect,
        cipher: Cipher,
    ) -> (ServerConnection, Option<Encryptor>) {
        established_with(config(), dialect, cipher)
    }

    /// [`config`] with the server's `EncryptData`: every session must encrypt.
    fn requiring_encryption() -> Arc<ServerConfig> {
        let mut config = (*config()).clone();
        config.encrypt_data = true;
        Arc::new(config)
    }

    /// [`established`] on a server configured as `config`.
    fn established_with(
        config: Arc<ServerConfig>,
        dialect: Dialect,
        cipher: Cipher,
    ) -> (ServerConnection, Option<Encryptor>) {
        let mut server = ServerConnection::new(config);
        let negotiate = NegotiateRequest {
            capabilities: Capabilities::ENCRYPTION,
            dialects: vec![dialect],
            contexts: vec![
                NegotiateContext::PreauthIntegrity {
                    hash_algorithms: vec![HashAlgorithm::SHA512],
                    salt: vec![0; 32],
                },
                NegotiateContext::Encryption(vec![cipher]),
            ],
            ..NegotiateRequest::default()
        };
        let msg = negotiate.to_message(&Header {
            credits: 64,
            ..Header::request(Command::NEGOTIATE)
        });
        let out = reply(server.handle(&msg).unwrap());
        NegotiateResponse::from_message(&out).unwrap();
        let preauth = PreauthHash::default();
        let (signer, encryptor) = server.session_keys(&KEY, &preauth);
        let mut session = Session::new(Auth::Valid(signer), preauth.clone());
        session.encryptor = encryptor;
        session.encrypt_data = server.config.encrypt_data;
        session.token = Some(Arc::new(alice()));
        server.sessions.insert(SESSION, session);
        let client = server.crypto.cipher.map(|cipher| {
            Encryptor::derive(dialect, cipher, &KEY, &preauth, Side::Client, [9; 4]).unwrap()
        });
        (server, client)
    }

    pub(in super::super) fn reply(step: Step) -> Vec<u8> {
        match step {
            Step::Reply(Some(bytes)) => bytes,
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    /// Sends one frame through `receive` and `handle`, as the driver does.
    fn exchange(server: &mut ServerConnection, frame: Vec<u8>) -> Result<Vec<u8>, SmbError> {
        let plain = server.receive(frame)?;
        server.handle(&plain).map(reply)
    }

    fn signer(dialect: Dialect) -> Signer {
        Signer::derive(dialect, &KEY, &PreauthHash::default())
    }

    #[test]
    fn ms_smb2_3_3_4_1_4_encrypted_requests_are_answered_encrypted() {
        for (dialect, cipher) in [
            (Dialect::SMB300, Cipher::AES128_CCM),
            (Dialect::SMB311, Cipher::AES128_GCM),
            (Dialect::SMB311, Cipher::AES256_GCM),
            (Dialect::SMB311, Cipher::AES256_CCM),
        ] {
            let (mut server, client) = established(dialect, cipher);
            let client = client.expect("a cipher");
            // A plain, signed request before the client encrypts: a signed reply.
            let mut echo = request(1, 0, &EchoRequest);
            signer(dialect).sign(&mut echo);
            let out = exchange(&mut server, echo).unwrap();
            assert!(!TransformHeader::is_transform(&out));
            signer(dialect).verify(&out).unwrap();
            // An encrypted one: an encrypted reply, not signed (3.3.4.1.1).
            let sealed = client.seal(SESSION, &request(2, 0, &EchoRequest)).unwrap();
            let out = exchange(&mut server, sealed).unwrap();
            assert!(TransformHeader::is_transform(&out), "{dialect} {cipher}");
            let plain = client.open(SESSION, &out).unwrap();
            let header = Header::from_message(&plain).unwrap();
            assert_eq!((header.status, header.message_id), (NtStatus::SUCCESS, 2));
            assert!(!header.flags.contains(HeaderFlags::SIGNED));
            // From then on the session encrypts (EncryptData): a plain signed request
            // gets an encrypted reply too.
            let mut echo = request(3, 0, &EchoRequest);
            signer(dialect).sign(&mut echo);
            let out = exchange(&mut server, echo).unwrap();
            assert!(client.open(SESSION, &out).is_ok(), "{dialect} {cipher}");
        }
    }

    #[test]
    fn ms_smb2_3_3_5_2_9_a_server_that_requires_encryption_takes_only_encrypted_requests() {
        // 2.1 cannot encrypt: its SESSION_SETUP is refused before any logon (3.3.5.5).
        let (mut old, _) =
            established_with(requiring_encryption(), Dialect::SMB210, Cipher::AES128_GCM);
        let setup = SessionSetupRequest {
            security_buffer: vec![0x60, 0x00],
            ..SessionSetupRequest::default()
        }
        .to_message(&Header {
            credits: 1,
            message_id: 1,
            ..Header::request(Command::SESSION_SETUP)
        });
        let out = exchange(&mut old, setup.clone()).unwrap();
        let refused = Header::from_message(&out).unwrap();
        assert_eq!(refused.status, NtStatus::ACCESS_DENIED);
        // Without the setting the same request reaches the logon (a malformed token).
        let (mut plain, _) = established(Dialect::SMB210, Cipher::AES128_GCM);
        let out = exchange(&mut plain, setup).unwrap();
        assert_ne!(
            Header::from_message(&out).unwrap().status,
            NtStatus::ACCESS_DENIED
        );

        for dialect in [Dialect::SMB300, Dialect::SMB311] {
            let (mut server, client) =
                established_with(requiring_encryption(), dialect, Cipher::AES128_GCM);
            let client = client.expect("a cipher");
            let ipc = TreeConnectRequest {
                flags: 0,
                path: r"\\files\IPC$".into(),
            };
            // A plain, signed request is refused, and the refusal is encrypted.
            let mut msg = request(1, 0, &ipc);
            signer(dialect).sign(&mut msg);
            let out = exchange(&mut server, msg).unwrap();
            let opened = client.open(SESSION, &out).expect("an encrypted refusal");
            let header = Header::from_message(&opened).unwrap();
            assert_eq!(header.status, NtStatus::ACCESS_DENIED, "{dialect}");
            // The same request encrypted is served.
            let sealed = client.seal(SESSION, &request(2, 0, &ipc)).unwrap();
            let out = exchange(&mut server, sealed).unwrap();
            let opened = client.open(SESSION, &out).unwrap();
            let header = Header::from_message(&opened).unwrap();
            assert_eq!(header.status, NtStatus::SUCCESS, "{dialect}");
        }
    }

    #[test]
    fn ms_smb2_3_3_5_2_1_1_a_frame_that_does_not_decrypt_drops_the_connection() {
        let (mut server, client) = established(Dialect::SMB311, Cipher::AES128_GCM);
        let client = client.unwrap();
        let sealed = client.seal(SESSION, &request(1, 0, &EchoRequest)).unwrap();
        for at in [8, 25, 45, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(server.receive(bad).is_err(), "byte {at}");
        }
        // A TRANSFORM_HEADER naming a session that does not exist.
        let other = client
            .seal(SESSION + 1, &request(1, 0, &EchoRequest))
            .unwrap();
        assert!(server.receive(other).is_err());
        // A message of another session inside this session's frame.
        let mut inner = request(1, 0, &EchoRequest);
        inner[40..48].copy_from_slice(&(SESSION + 1).to_le_bytes());
        let sealed = client.seal(SESSION, &inner).unwrap();
        assert!(exchange(&mut server, sealed).is_err());
        // The untampered frame still decrypts.
        let sealed = client.seal(SESSION, &request(2, 0, &EchoRequest)).unwrap();
        assert!(exchange(&mut server, sealed).is_ok());
        // Before 3.0 a session has no keys: an encrypted frame ends the connection.
        let (mut old, none) = established(Dialect::SMB210, Cipher::AES128_GCM);
        assert!(none.is_none());
        let stray = client.seal(SESSION, &request(1, 0, &EchoRequest)).unwrap();
        assert!(old.receive(stray).is_err());
    }

    #[test]
    fn ms_smb2_3_3_5_2_11_a_share_that_requires_encryption_takes_only_encrypted_requests() {
        let path = TreeConnectRequest {
            flags: 0,
            path: r"\\files\secret".into(),
        };
        // A 2.1 session cannot encrypt: the share refuses it (3.3.5.7).
        let (mut old, _) = established(Dialect::SMB210, Cipher::AES128_GCM);
        let mut msg = request(1, 0, &path);
        signer(Dialect::SMB210).sign(&mut msg);
        let out = exchange(&mut old, msg).unwrap();
        assert_eq!(
            Header::from_message(&out).unwrap().status,
            NtStatus::ACCESS_DENIED
        );

        let (mut server, client) = established(Dialect::SMB311, Cipher::AES128_GCM);
        let client = client.unwrap();
        let mut msg = request(1, 0, &path);
        signer(Dialect::SMB311).sign(&mut msg);
        let out = exchange(&mut server, msg).unwrap();
        // TREE_CONNECT is answered signed, with SMB2_SHAREFLAG_ENCRYPT_DATA.
        signer(Dialect::SMB311).verify(&out).unwrap();
        let (header, resp) = TreeConnectResponse::from_message(&out).unwrap();
        assert_eq!(header.status, NtStatus::SUCCESS);
        assert_eq!(resp.share_flags & 0x8000, 0x8000);
        let tree = header.tree_id;
        // A CLOSE of a file never opened: no open is made (the open-file table is the
        // whole server's), and the status says whether the tree let it through.
        let close = CloseRequest {
            flags: 0,
            file_id: FileId {
                persistent: 1,
                volatile: 1,
            },
        };
        // A plain request on the tree is refused, and the refusal is encrypted.
        let mut msg = request(2, tree, &close);
        signer(Dialect::SMB311).sign(&mut msg);
        let out = exchange(&mut server, msg).unwrap();
        let plain = client.open(SESSION, &out).unwrap();
        assert_eq!(
            Header::from_message(&plain).unwrap().status,
            NtStatus::ACCESS_DENIED
        );
        // An encrypted one is served.
        let sealed = client.seal(SESSION, &request(3, tree, &close)).unwrap();
        let plain = client
            .open(SESSION, &exchange(&mut server, sealed).unwrap())
            .unwrap();
        assert_eq!(
            Header::from_message(&plain).unwrap().status,
            NtStatus::FILE_CLOSED
        );
    }

    #[test]
    fn ms_smb2_3_3_5_2_5_large_requests_must_be_charged_for() {
        let (mut server, client) = established(Dialect::SMB311, Cipher::AES128_GCM);
        let client = client.unwrap();
        let read = |id, length, charge| {
            let msg = ReadRequest {
                length,
                ..ReadRequest::default()
            }
            .to_message(&Header {
                credit_charge: charge,
                credits: 32,
                message_id: id,
                session_id: SESSION,
                ..Header::request(Command::READ)
            });
            client.seal(SESSION, &msg).unwrap()
        };
        let status = |server: &mut ServerConnection, frame| {
            let out = exchange(server, frame).unwrap();
            Header::from_message(&client.open(SESSION, &out).unwrap())
                .unwrap()
                .status
        };
        // 1 MiB takes 16 credits: charged 1 it is refused, charged 16 it reaches the
        // tree check (there is no tree 0).
        assert_eq!(
            status(&mut server, read(1, 1 << 20, 1)),
            NtStatus::INVALID_PARAMETER
        );
        assert_eq!(
            status(&mut server, read(2, 1 << 20, 16)),
            NtStatus::NETWORK_NAME_DELETED
        );
        assert_eq!(
            status(&mut server, read(18, 65536, 0)),
            NtStatus::NETWORK_NAME_DELETED
        );
    }
}
