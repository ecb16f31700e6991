//! An SMB2/3 client over Direct TCP: negotiate, authenticate (SPNEGO with
//! Kerberos or NTLM), sign, connect to a share and open, read, write and
//! transact on files and named pipes. [`pipe::NamedPipe`] carries DCE/RPC
//! (`ncacn_np`) on it; [`file`](mod@file) opens files on disk shares and moves their data with
//! several requests in flight; [`dir`] lists directories, reads attributes, renames,
//! deletes and creates directories.
//!
//! [`ClientCore`] holds the protocol state without I/O; [`SmbClient`] is the thin
//! tokio driver around it.

pub mod dir;
pub mod file;
pub mod pipe;
mod state;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use adjoin_auth::gss::krb5::GssFlags;
use adjoin_auth::gss::spnego::{SpnegoInitiator, SpnegoNtlmInitiator, SpnegoStep};
use adjoin_auth::krb::Credentials;
use adjoin_auth::ntlm::{ClientNonces, NtlmClient};
use adjoin_rpc::codec::Codec as _;
use adjoin_rpc::ntstatus::NtStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zeroize::Zeroizing;

pub use self::file::{OpenFile, OpenOptions, Pipeline, Transfer};
pub use self::state::{CREDIT_SIZE, ClientCore, MAX_LARGE_IO, Negotiated, credit_charge};
use crate::encryption::{Encryptor, Side};
use crate::error::SmbError;
pub use crate::proto::DIALECTS;
use crate::proto::dfs::{self, FSCTL_DFS_GET_REFERRALS, ReferralResponse};
use crate::proto::{
    Body, CloseRequest, CloseResponse, CreateRequest, CreateResponse, Dialect, EchoRequest,
    EchoResponse, ErrorResponse, FSCTL_PIPE_TRANSCEIVE, FSCTL_VALIDATE_NEGOTIATE_INFO, FileId,
    HashAlgorithm, Header, IoctlRequest, IoctlResponse, LogoffRequest, LogoffResponse, MAX_IO,
    NegotiateContext, NegotiateRequest, NegotiateResponse, ReadRequest, ReadResponse, SecurityMode,
    SessionFlags, SessionSetupRequest, SessionSetupResponse, TreeConnectRequest,
    TreeConnectResponse, TreeDisconnectRequest, TreeDisconnectResponse,
    ValidateNegotiateInfoRequest, ValidateNegotiateInfoResponse, WriteRequest, WriteResponse,
    frame, frame_len,
};
use crate::signing::Signer;
use crate::{random, random_failed};

/// Who the session authenticates as.
pub enum SessionAuth {
    /// NTLMv2 through SPNEGO, with a password.
    Ntlm {
        /// The account name.
        user: String,
        /// Its NetBIOS domain.
        domain: String,
        /// The password.
        password: Zeroizing<String>,
        /// This computer's name, as NTLM reports it.
        workstation: String,
    },
    /// Kerberos through SPNEGO, with a service ticket for `cifs/<server>`.
    Kerberos(Box<Credentials>),
}

impl core::fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Ntlm { user, domain, .. } => write!(f, "Ntlm({domain}\\{user})"),
            Self::Kerberos(c) => write!(f, "Kerberos({:?})", c.server),
        }
    }
}

/// An established session, as the server described it.
#[derive(Debug, Clone, Copy)]
pub struct SessionInfo {
    /// The session id.
    pub session_id: u64,
    /// `SessionFlags` (guest, null, encryption required).
    pub flags: SessionFlags,
}

/// A connected share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tree {
    /// The tree id.
    pub id: u32,
    /// `ShareType`.
    pub share_type: u8,
    /// `ShareFlags` (MS-SMB2 2.2.10).
    pub share_flags: u32,
}

impl Tree {
    /// SMB2_SHAREFLAG_DFS | SMB2_SHAREFLAG_DFS_ROOT: the share is in a DFS namespace, so
    /// where a path really lives is asked with [`SmbClient::dfs_referral`].
    pub const DFS_FLAGS: u32 = 0x0000_0003;

    /// Whether the share is in a DFS namespace.
    pub fn is_dfs(&self) -> bool {
        self.share_flags & Self::DFS_FLAGS != 0
    }
}

/// One SMB2 connection and (at most) one session on it.
#[derive(Debug)]
pub struct SmbClient {
    stream: TcpStream,
    peer: SocketAddr,
    server: String,
    timeout: Duration,
    core: ClientCore,
    negotiated: Negotiated,
    /// Encrypt even when the server does not require it.
    encrypt_always: bool,
    /// The session's encryption keys, derived at session setup and used once the
    /// server requires encryption for the session or a share (or always, if asked).
    encryptor: Option<Encryptor>,
    /// What this client's NEGOTIATE said, for secure dialect negotiation.
    offered: ValidateNegotiateInfoRequest,
    /// Whether secure dialect negotiation has been done (3.0 and 3.0.2).
    validated: bool,
    /// A large received message's memory, kept for the next frame ([`Self::recycle`]).
    spare: Option<Vec<u8>>,
}

/// Room past a frame's end in its buffer: reading to the end of a frame asks for 32 more
/// bytes to see that nothing follows, which would otherwise grow (copy) the buffer.
const READ_SLACK: usize = 32;

/// Received messages at least this large are kept for the next frame (READ responses).
const RECYCLE_FROM: usize = 1 << 20;

/// SMB2_SHAREFLAG_ENCRYPT_DATA (MS-SMB2 2.2.10).
const SHAREFLAG_ENCRYPT_DATA: u32 = 0x0000_8000;

impl SmbClient {
    /// Connects to `addr` (port 445) and negotiates; `server` is the name used in
    /// share paths (`\\server\share`).
    pub async fn connect(
        addr: SocketAddr,
        server: &str,
        timeout: Duration,
    ) -> Result<Self, SmbError> {
        Self::connect_with(addr, server, timeout, &DIALECTS).await
    }

    /// [`SmbClient::connect`] offering only `dialects` (a subset of [`DIALECTS`]).
    pub async fn connect_with(
        addr: SocketAddr,
        server: &str,
        timeout: Duration,
        dialects: &[Dialect],
    ) -> Result<Self, SmbError> {
        let stream = io(
            timeout,
            || format!("connecting to SMB at {addr}"),
            TcpStream::connect(addr),
        )
        .await?;
        let _ = stream.set_nodelay(true);
        let mut core = ClientCore::new();
        let request = negotiate_request(dialects)?;
        let (id, msg) = core.request(0, &request)?;
        let mut client = Self {
            stream,
            peer: addr,
            server: server.to_owned(),
            timeout,
            core,
            negotiated: Negotiated::default(),
            encrypt_always: false,
            encryptor: None,
            offered: ValidateNegotiateInfoRequest::from(&request),
            validated: false,
            spare: None,
        };
        client.send(&msg).await?;
        let (header, reply) = client.receive(id).await?;
        let resp: NegotiateResponse = expect(&header, &reply, &[])?;
        client.negotiated = Negotiated::from_response(&resp, dialects)?;
        client.core.set_negotiated(&client.negotiated);
        if resp.dialect == Dialect::SMB311 {
            check_preauth_context(&resp)?;
            client.core.connection_preauth.update(&msg);
            client.core.connection_preauth.update(&reply);
        }
        tracing::debug!(dialect = %resp.dialect, peer = %addr, "SMB2 negotiated");
        Ok(client)
    }

    /// What NEGOTIATE settled.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Asks for every message after the session setup to be encrypted, whether or not the
    /// server requires it (MS-SMB2 3.2.4.1.8 lets a client encrypt when the server
    /// supports it). Call before [`SmbClient::session_setup`]; the setup fails if the
    /// server cannot encrypt.
    pub fn encrypt_always(&mut self) {
        self.encrypt_always = true;
    }

    /// Whether messages are encrypted.
    pub fn encrypting(&self) -> bool {
        self.core.encrypting()
    }

    /// Authenticates the session; every later request is signed. After a failure the
    /// connection has no session and may try again.
    pub async fn session_setup(&mut self, auth: SessionAuth) -> Result<SessionInfo, SmbError> {
        let result = self.authenticate(auth).await;
        if result.is_err() {
            self.core.end_session();
        }
        result
    }

    async fn authenticate(&mut self, auth: SessionAuth) -> Result<SessionInfo, SmbError> {
        match auth {
            SessionAuth::Ntlm {
                user,
                domain,
                password,
                workstation,
            } => {
                self.setup_ntlm(&user, &domain, &password, &workstation)
                    .await
            }
            SessionAuth::Kerberos(creds) => self.setup_kerberos(*creds).await,
        }
    }

    async fn setup_ntlm(
        &mut self,
        user: &str,
        domain: &str,
        password: &str,
        workstation: &str,
    ) -> Result<SessionInfo, SmbError> {
        let (client, negotiate) = NtlmClient::new(user, domain, password, workstation)
            .map_err(|e| SmbError::Auth(format!("NTLM: {e}")))?;
        let (initiator, token) = SpnegoNtlmInitiator::start(client, negotiate);
        let mut setup = SessionSetup::new(&self.core);
        let (status, challenge) = self.setup_leg(&mut setup, token).await?;
        if status != NtStatus::MORE_PROCESSING_REQUIRED {
            return Err(SmbError::Auth(format!(
                "the server ended the NTLM exchange after one leg ({status})"
            )));
        }
        let nonces = ClientNonces::fresh().map_err(random_failed)?;
        let (finish, token) = initiator
            .step(&challenge.security_buffer, &nonces)
            .map_err(|e| SmbError::Auth(e.to_string()))?;
        let (status, last) = self.setup_leg(&mut setup, token).await?;
        if status != NtStatus::SUCCESS {
            return Err(SmbError::Auth(format!("NTLM: unexpected {status}")));
        }
        let session = finish
            .finish(&last.security_buffer)
            .map_err(|e| SmbError::Auth(e.to_string()))?;
        self.establish(setup, session.exported_session_key().as_bytes(), last)
    }

    async fn setup_kerberos(&mut self, creds: Credentials) -> Result<SessionInfo, SmbError> {
        let flags = GssFlags::MUTUAL | GssFlags::INTEG | GssFlags::CONF | GssFlags::SEQUENCE;
        let (initiator, token) = SpnegoInitiator::start(creds, flags, SystemTime::now())
            .map_err(|e| SmbError::Auth(format!("Kerberos: {e}")))?;
        let mut setup = SessionSetup::new(&self.core);
        let (status, resp) = self.setup_leg(&mut setup, token).await?;
        let step = initiator
            .step(&resp.security_buffer)
            .map_err(|e| SmbError::Auth(format!("Kerberos: {e}")))?;
        let SpnegoStep::Done(ctx, more) = step else {
            return Err(SmbError::Auth(
                "Kerberos: the server wants more than one round trip".into(),
            ));
        };
        let last = match (status, more) {
            (NtStatus::SUCCESS, _) => resp,
            (NtStatus::MORE_PROCESSING_REQUIRED, Some(token)) => {
                let (status, last) = self.setup_leg(&mut setup, token).await?;
                if status != NtStatus::SUCCESS {
                    return Err(SmbError::Auth(format!("Kerberos: unexpected {status}")));
                }
                last
            }
            (status, _) => {
                return Err(SmbError::Auth(format!("Kerberos: unexpected {status}")));
            }
        };
        self.establish(setup, ctx.session_key().as_bytes(), last)
    }

    /// Sends one SESSION_SETUP leg; returns its status and body. Failures other than
    /// MORE_PROCESSING_REQUIRED end the exchange with [`SmbError::Status`].
    async fn setup_leg(
        &mut self,
        setup: &mut SessionSetup,
        token: Vec<u8>,
    ) -> Result<(NtStatus, SessionSetupResponse), SmbError> {
        let request = SessionSetupRequest {
            security_mode: SecurityMode::SIGNING_ENABLED.bits() as u8,
            security_buffer: token,
            ..SessionSetupRequest::default()
        };
        let (id, msg) = self.core.request(0, &request)?;
        setup.hash(self.negotiated.dialect, &msg);
        self.send(&msg).await?;
        let (header, reply) = self.receive(id).await?;
        let resp: SessionSetupResponse =
            expect(&header, &reply, &[NtStatus::MORE_PROCESSING_REQUIRED])?;
        self.core.session_id = header.session_id;
        if header.status == NtStatus::MORE_PROCESSING_REQUIRED {
            setup.hash(self.negotiated.dialect, &reply);
        } else {
            setup.last = reply;
        }
        Ok((header.status, resp))
    }

    /// Derives the signing key and checks the server's signature on the final
    /// SESSION_SETUP response (MS-SMB2 3.2.5.3.1: required for 3.1.1).
    fn establish(
        &mut self,
        setup: SessionSetup,
        session_key: &[u8],
        last: SessionSetupResponse,
    ) -> Result<SessionInfo, SmbError> {
        let flags = last.session_flags;
        let algorithm = self
            .negotiated
            .signing
            .unwrap_or(crate::proto::SigningAlgorithm::AES_CMAC);
        let signer = Signer::derive_with(
            self.negotiated.dialect,
            algorithm,
            session_key,
            &setup.preauth,
        );
        let header = Header::from_message(&setup.last)?;
        let signed = header.flags.contains(crate::proto::HeaderFlags::SIGNED);
        if signed {
            signer.verify(&setup.last)?;
        } else if self.negotiated.dialect == Dialect::SMB311
            && !flags.contains(SessionFlags::IS_GUEST)
        {
            return Err(SmbError::Signature(
                "the final SESSION_SETUP response of an SMB 3.1.1 session is not signed",
            ));
        }
        if flags.intersects(SessionFlags::IS_GUEST | SessionFlags::IS_NULL) {
            return Err(SmbError::Auth(
                "the server logged the session on as guest or anonymous".into(),
            ));
        }
        self.core.set_signer(signer);
        self.encryptor = match self.negotiated.cipher {
            Some(cipher) => Some(Encryptor::derive(
                self.negotiated.dialect,
                cipher,
                session_key,
                &setup.preauth,
                Side::Client,
                random()?,
            )?),
            None => None,
        };
        if flags.contains(SessionFlags::ENCRYPT_DATA) || self.encrypt_always {
            self.start_encrypting()?;
        }
        Ok(SessionInfo {
            session_id: self.core.session_id,
            flags,
        })
    }

    fn start_encrypting(&mut self) -> Result<(), SmbError> {
        if self.core.encrypting() {
            return Ok(());
        }
        let encryptor = self.encryptor.take().ok_or_else(|| {
            SmbError::Negotiation(format!(
                "encryption is required, but the server negotiated no cipher with {}",
                self.negotiated.dialect
            ))
        })?;
        self.core.set_encryptor(encryptor);
        Ok(())
    }

    /// Connects to `share` on the server.
    pub async fn tree_connect(&mut self, share: &str) -> Result<Tree, SmbError> {
        let request = TreeConnectRequest {
            flags: 0,
            path: format!(r"\\{}\{share}", self.server),
        };
        let (header, resp): (_, TreeConnectResponse) = self.call(0, &request, &[]).await?;
        // MS-SMB2 3.2.5.5: a share that requires encryption gets only encrypted requests.
        if resp.share_flags & SHAREFLAG_ENCRYPT_DATA != 0 {
            self.start_encrypting()?;
        }
        let tree = Tree {
            id: header.tree_id,
            share_type: resp.share_type,
            share_flags: resp.share_flags,
        };
        let dialect = self.negotiated.dialect;
        if (dialect == Dialect::SMB300 || dialect == Dialect::SMB302) && !self.validated {
            self.validate_negotiate(tree).await?;
        }
        Ok(tree)
    }

    /// MS-SMB2 3.2.5.5 / 3.2.5.14.12 secure dialect negotiation (3.0 and 3.0.2; 3.1.1
    /// has the pre-authentication hash instead): the client repeats its NEGOTIATE in a
    /// signed FSCTL and the server's signed answer must match what NEGOTIATE said, or a
    /// man in the middle changed it.
    async fn validate_negotiate(&mut self, tree: Tree) -> Result<(), SmbError> {
        let request = IoctlRequest {
            ctl_code: FSCTL_VALIDATE_NEGOTIATE_INFO,
            file_id: FileId {
                persistent: u64::MAX,
                volatile: u64::MAX,
            },
            max_input_response: 0,
            max_output_response: 24,
            flags: IoctlRequest::IS_FSCTL,
            input: self.offered.to_bytes(),
        };
        // The response is signed or encrypted: the core refuses it otherwise.
        let (_, resp): (_, IoctlResponse) = self.call(tree.id, &request, &[]).await?;
        let info =
            ValidateNegotiateInfoResponse::read_bytes("VALIDATE_NEGOTIATE_INFO", &resp.output)?;
        self.negotiated.validate(&info)?;
        self.validated = true;
        Ok(())
    }

    /// MS-DFSC 3.1.4.1 a DFS referral for `path` (`\domain\share`, `\server\share\dir`,
    /// `\domain` for its DCs, or empty for the domains), asked on IPC$ with
    /// FSCTL_DFS_GET_REFERRALS. A server without DFS answers STATUS_NOT_FOUND or
    /// STATUS_FS_DRIVER_REQUIRED ([`SmbError::Status`]).
    pub async fn dfs_referral(&mut self, path: &str) -> Result<ReferralResponse, SmbError> {
        let ipc = self.tree_connect("IPC$").await?;
        let request = IoctlRequest {
            ctl_code: FSCTL_DFS_GET_REFERRALS,
            file_id: FileId {
                persistent: u64::MAX,
                volatile: u64::MAX,
            },
            max_input_response: 0,
            max_output_response: self.negotiated.max_transact.min(64 * 1024),
            flags: IoctlRequest::IS_FSCTL,
            input: dfs::request(path),
        };
        let answer = self.call::<_, IoctlResponse>(ipc.id, &request, &[]).await;
        let _ = self.tree_disconnect(ipc).await;
        ReferralResponse::parse(&answer?.1.output)
    }

    /// Disconnects a share.
    pub async fn tree_disconnect(&mut self, tree: Tree) -> Result<(), SmbError> {
        let _: (_, TreeDisconnectResponse) =
            self.call(tree.id, &TreeDisconnectRequest, &[]).await?;
        Ok(())
    }

    /// Opens the named pipe `name` (such as `lsarpc`) on an IPC$ tree.
    pub async fn open_pipe(&mut self, tree: Tree, name: &str) -> Result<FileId, SmbError> {
        let request = CreateRequest {
            impersonation_level: CreateRequest::IMPERSONATION,
            // FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_READ_EA |
            // FILE_WRITE_EA | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | READ_CONTROL |
            // SYNCHRONIZE: what Windows asks for on a pipe.
            desired_access: 0x0012_019f,
            share_access: 0x3,
            create_disposition: CreateRequest::FILE_OPEN,
            name: name.to_owned(),
            ..CreateRequest::default()
        };
        let (_, resp): (_, CreateResponse) = self.call(tree.id, &request, &[]).await?;
        Ok(resp.file_id)
    }

    /// Closes an open.
    pub async fn close(&mut self, tree: Tree, file: FileId) -> Result<(), SmbError> {
        let request = CloseRequest {
            flags: 0,
            file_id: file,
        };
        let _: (_, CloseResponse) = self.call(tree.id, &request, &[]).await?;
        Ok(())
    }

    /// Writes `data` at `offset`; returns the count written.
    pub async fn write(
        &mut self,
        tree: Tree,
        file: FileId,
        offset: u64,
        data: &[u8],
    ) -> Result<u32, SmbError> {
        let request = self.write_request(file, offset, data.to_vec())?;
        let charge = credit_charge(request.data.len() as u32, 0);
        let (_, resp): (_, WriteResponse) =
            self.call_charged(tree.id, &request, charge, &[]).await?;
        Ok(resp.count)
    }

    /// A WRITE of `data` at `offset`, refused when it is longer than the server takes
    /// ([`Negotiated::write_size`]).
    fn write_request(
        &self,
        file: FileId,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<WriteRequest, SmbError> {
        if data.len() > self.negotiated.write_size() as usize {
            return Err(SmbError::TooLarge { len: data.len() });
        }
        Ok(WriteRequest {
            offset,
            file_id: file,
            flags: 0,
            data,
        })
    }

    /// Reads up to `len` bytes at `offset`. For a message-mode pipe, `more` says
    /// the message continues (STATUS_BUFFER_OVERFLOW).
    pub async fn read(
        &mut self,
        tree: Tree,
        file: FileId,
        offset: u64,
        len: u32,
    ) -> Result<(Vec<u8>, bool), SmbError> {
        let request = self.read_request(file, offset, len);
        let charge = credit_charge(0, request.length);
        let (header, resp): (_, ReadResponse) = self
            .call_charged(tree.id, &request, charge, &[NtStatus::BUFFER_OVERFLOW])
            .await?;
        Ok((resp.data, header.status == NtStatus::BUFFER_OVERFLOW))
    }

    /// A READ of up to `len` bytes at `offset`, cut to what the server returns at once
    /// ([`Negotiated::read_size`]).
    fn read_request(&self, file: FileId, offset: u64, len: u32) -> ReadRequest {
        ReadRequest {
            length: len.min(self.negotiated.read_size()),
            offset,
            file_id: file,
            ..ReadRequest::default()
        }
    }

    /// FSCTL_PIPE_TRANSCEIVE: writes a message to a pipe and reads the reply
    /// (`more` as for [`SmbClient::read`]).
    pub async fn transceive(
        &mut self,
        tree: Tree,
        file: FileId,
        input: &[u8],
    ) -> Result<(Vec<u8>, bool), SmbError> {
        let request = IoctlRequest {
            ctl_code: FSCTL_PIPE_TRANSCEIVE,
            file_id: file,
            max_input_response: 0,
            max_output_response: self.negotiated.max_transact.min(MAX_IO),
            flags: IoctlRequest::IS_FSCTL,
            input: input.to_vec(),
        };
        let (header, resp): (_, IoctlResponse) = self
            .call(tree.id, &request, &[NtStatus::BUFFER_OVERFLOW])
            .await?;
        Ok((resp.output, header.status == NtStatus::BUFFER_OVERFLOW))
    }

    /// MS-SMB2 3.2.4.20 ECHO: the server answers if the connection is alive (and counts
    /// the connection as active, which keeps an idle timeout away).
    pub async fn echo(&mut self) -> Result<(), SmbError> {
        let _: (_, EchoResponse) = self.call(0, &EchoRequest, &[]).await?;
        Ok(())
    }

    /// Ends the session; the connection stays and may set up another
    /// ([`SmbClient::session_setup`]).
    pub async fn logoff(&mut self) -> Result<(), SmbError> {
        let result = self.call::<_, LogoffResponse>(0, &LogoffRequest, &[]).await;
        self.core.end_session();
        self.encryptor = None;
        result.map(|_| ())
    }

    /// Sends `body` on `tree_id` and decodes the reply as `R`; statuses other than
    /// success and `also_ok` become [`SmbError::Status`].
    async fn call<B: Body, R: Body>(
        &mut self,
        tree_id: u32,
        body: &B,
        also_ok: &[NtStatus],
    ) -> Result<(Header, R), SmbError> {
        self.call_charged(tree_id, body, 1, also_ok).await
    }

    /// [`SmbClient::call`] for a request that costs `charge` credits.
    async fn call_charged<B: Body, R: Body>(
        &mut self,
        tree_id: u32,
        body: &B,
        charge: u16,
        also_ok: &[NtStatus],
    ) -> Result<(Header, R), SmbError> {
        let (id, msg) = self.core.request_charged(tree_id, body, charge)?;
        self.send(&msg).await?;
        let (header, reply) = self.receive(id).await?;
        let resp = expect(&header, &reply, also_ok)?;
        Ok((header, resp))
    }

    async fn send(&mut self, msg: &[u8]) -> Result<(), SmbError> {
        let framed = frame(msg)?;
        let peer = self.peer;
        io(
            self.timeout,
            || format!("sending to {peer}"),
            self.stream.write_all(&framed),
        )
        .await
    }

    /// Reads messages until the final response to `message_id`.
    async fn receive(&mut self, message_id: u64) -> Result<(Header, Vec<u8>), SmbError> {
        loop {
            let raw = self.read_frame().await?;
            if let Some(reply) = self.core.response(raw, message_id)? {
                return Ok(reply);
            }
        }
    }

    /// Reads messages until the final response to any request in flight.
    async fn receive_any(&mut self) -> Result<(Header, Vec<u8>), SmbError> {
        loop {
            let raw = self.read_frame().await?;
            if let Some(reply) = self.core.response_any(raw)? {
                return Ok(reply);
            }
        }
    }

    async fn read_frame(&mut self) -> Result<Vec<u8>, SmbError> {
        let peer = self.peer;
        let context = || format!("reading from {peer}");
        let mut prefix = [0u8; 4];
        io(self.timeout, context, self.stream.read_exact(&mut prefix)).await?;
        let len = frame_len(prefix)?;
        let mut msg = match self.spare.take() {
            Some(mut spare) if spare.capacity() >= len + READ_SLACK => {
                spare.clear();
                spare
            }
            _ => Vec::with_capacity(len + READ_SLACK),
        };
        // Read into the buffer's spare capacity (no zeroing of memory about to be
        // overwritten); the frame's length bounds what is read.
        let mut limited = (&mut self.stream).take(len as u64);
        let got = io(self.timeout, context, limited.read_to_end(&mut msg)).await?;
        if got != len {
            return Err(SmbError::Io {
                context: context(),
                error: std::io::ErrorKind::UnexpectedEof.into(),
            });
        }
        Ok(msg)
    }

    /// Keeps a large received message's memory for the next frame.
    fn recycle(&mut self, msg: Vec<u8>) {
        if msg.capacity() >= RECYCLE_FROM {
            self.spare = Some(msg);
        }
    }
}

/// The SESSION_SETUP exchange's running state: its pre-authentication hash
/// (3.1.1) and the final response, whose signature is checked once the key exists.
struct SessionSetup {
    preauth: crate::signing::PreauthHash,
    last: Vec<u8>,
}

impl SessionSetup {
    fn new(core: &ClientCore) -> Self {
        Self {
            preauth: core.connection_preauth.clone(),
            last: Vec::new(),
        }
    }

    fn hash(&mut self, dialect: Dialect, msg: &[u8]) {
        if dialect == Dialect::SMB311 {
            self.preauth.update(msg);
        }
    }
}

/// Decodes a reply as `R` when its status is success or in `also_ok`; otherwise
/// the status becomes the error (after checking the error body is well-formed).
fn expect<R: Body>(header: &Header, msg: &[u8], also_ok: &[NtStatus]) -> Result<R, SmbError> {
    let ok = header.status == NtStatus::SUCCESS || also_ok.contains(&header.status);
    // A READ or IOCTL answered with STATUS_BUFFER_OVERFLOW carries a normal body;
    // any other status carries the ERROR body.
    if ok {
        return Ok(R::from_message(msg)?.1);
    }
    ErrorResponse::from_message(msg)?;
    Err(SmbError::Status {
        command: header.command,
        status: header.status,
    })
}

fn negotiate_request(dialects: &[Dialect]) -> Result<NegotiateRequest, SmbError> {
    if dialects.is_empty() || dialects.iter().any(|d| !DIALECTS.contains(d)) {
        return Err(SmbError::Negotiation(format!(
            "cannot offer {dialects:?}: the client speaks {DIALECTS:?}"
        )));
    }
    // Negotiate contexts go only with 3.1.1 (MS-SMB2 2.2.3).
    let contexts = if dialects.contains(&Dialect::SMB311) {
        vec![
            NegotiateContext::PreauthIntegrity {
                hash_algorithms: vec![HashAlgorithm::SHA512],
                salt: random::<32>()?.to_vec(),
            },
            NegotiateContext::Encryption(Encryptor::CIPHERS.to_vec()),
            // MS-SMB2 2.2.3.1.7: AES-GMAC first, as Windows and Samba ask.
            NegotiateContext::Signing(Signer::SMB311_ALGORITHMS.to_vec()),
        ]
    } else {
        Vec::new()
    };
    // 3.0 and 3.0.2 announce encryption (AES-128-CCM) as a capability; every dialect
    // after 2.0.2 can send multi-credit requests (MS-SMB2 2.2.3: LARGE_MTU).
    let mut capabilities = crate::proto::Capabilities::empty();
    if dialects.iter().any(|d| d.is_smb3()) {
        capabilities |= crate::proto::Capabilities::ENCRYPTION;
    }
    if dialects.iter().any(|d| *d != Dialect::SMB202) {
        capabilities |= crate::proto::Capabilities::LARGE_MTU;
    }
    Ok(NegotiateRequest {
        security_mode: SecurityMode::SIGNING_ENABLED,
        capabilities,
        client_guid: random()?,
        dialects: dialects.to_vec(),
        contexts,
    })
}

/// MS-SMB2 3.2.5.2: a 3.1.1 response must carry exactly one preauth integrity
/// context naming SHA-512.
fn check_preauth_context(resp: &NegotiateResponse) -> Result<(), SmbError> {
    let mut preauth = resp.contexts.iter().filter_map(|c| match c {
        NegotiateContext::PreauthIntegrity {
            hash_algorithms, ..
        } => Some(hash_algorithms),
        _ => None,
    });
    match (preauth.next(), preauth.next()) {
        (Some(algs), None) if algs.as_slice() == [HashAlgorithm::SHA512] => Ok(()),
        _ => Err(SmbError::Negotiation(
            "the SMB 3.1.1 response lacks a single SHA-512 pre-authentication integrity context"
                .into(),
        )),
    }
}

/// Runs one transport operation under `timeout`; errors name `context`.
async fn io<T>(
    timeout: Duration,
    context: impl Fn() -> String,
    operation: impl Future<Output = std::io::Result<T>>,
) -> Result<T, SmbError> {
    match tokio::time::timeout(timeout, operation).await {
        Err(_) => Err(SmbError::Timeout(context())),
        Ok(Err(error)) => Err(SmbError::Io {
            context: context(),
            error,
        }),
        Ok(Ok(v)) => Ok(v),
    }
}
