//! An SMB2/3 server for a domain member, as far as IPC$: NEGOTIATE (2.0.2 to 3.1.1, signing
//! required), SESSION_SETUP through SPNEGO with Kerberos (the member's keytab) or NTLMSSP
//! verified by the DC (pass-through over the NETLOGON secure channel), TREE_CONNECT to IPC$, and the srvsvc and wkssvc
//! named pipes served by rpc's [`ServerBinding`](adjoin_rpc::server::ServerBinding) — what
//! `smbclient -L`, `net view` and Explorer need to list a server's shares. Session setup
//! also takes Kerberos when the server has a keytab. Disk shares and encryption are not
//! served yet.
//!
//! [`ServerConnection`] is the protocol core without I/O: messages in, messages out, and
//! a [`Step::Logon`] when the DC must verify a logon; [`serve`] is its tokio driver.

mod pipe;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use adjoin_auth::gss::GssError;
use adjoin_auth::gss::spnego::{self, SpnegoNtlmAcceptor, SpnegoNtlmPending, SpnegoNtlmSelected};
use adjoin_auth::krb::Acceptor;
use adjoin_auth::ntlm::{ServerIdentity, ServerNonces, filetime_now};
use adjoin_rpc::codec::Codec;
use adjoin_rpc::netlogon::UserFlags;
use adjoin_rpc::netlogon::channel::{LogonOutcome, NetworkLogon};
use adjoin_rpc::netlogon::pool::LogonPool;
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::srvsvc::{Share, SrvsvcService};
use adjoin_rpc::wkssvc::WkssvcService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use self::pipe::PipeOpen;
use crate::error::SmbError;
use crate::proto::{
    Body, Capabilities, CloseRequest, CloseResponse, Command, CreateRequest, CreateResponse,
    Dialect, EchoResponse, ErrorResponse, FSCTL_PIPE_TRANSCEIVE, FSCTL_VALIDATE_NEGOTIATE_INFO,
    FileId, HashAlgorithm, Header, HeaderFlags, IoctlRequest, IoctlResponse, LogoffResponse,
    MAX_IO, NegotiateContext, NegotiateRequest, NegotiateResponse, ReadRequest, ReadResponse,
    SecurityMode, SessionFlags, SessionSetupRequest, SessionSetupResponse, TreeConnectRequest,
    TreeConnectResponse, TreeDisconnectResponse, ValidateNegotiateInfoRequest,
    ValidateNegotiateInfoResponse, WriteRequest, WriteResponse, frame, frame_len, split_compound,
};
use crate::signing::{PreauthHash, Signer};

/// What NEGOTIATE announces and VALIDATE_NEGOTIATE_INFO repeats: signing required, no
/// optional capabilities.
const SECURITY_MODE: SecurityMode =
    SecurityMode::SIGNING_ENABLED.union(SecurityMode::SIGNING_REQUIRED);
const CAPABILITIES: Capabilities = Capabilities::empty();

/// How long a connection may stay without an authenticated session.
const AUTH_DEADLINE: Duration = Duration::from_secs(60);

/// The largest message (or compound) accepted from a client: a 64 KiB write and its
/// headers, with room for a compound of a few small requests.
const MAX_MESSAGE_IN: usize = 256 * 1024;

/// Who this server is and what it offers.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The member's names (NTLM's TargetInfo, srvsvc's server name).
    pub identity: ServerIdentity,
    /// `ServerGuid`.
    pub server_guid: [u8; 16],
    /// The server comment srvsvc reports.
    pub comment: String,
    /// The shares srvsvc lists (IPC$ is always there).
    pub shares: Vec<Share>,
    /// Kerberos: the acceptor over this member's keytab (shared by every connection, for
    /// its replay cache); `None` offers NTLM only.
    pub kerberos: Option<Arc<std::sync::Mutex<Acceptor>>>,
}

/// What the core needs next.
#[derive(Debug)]
pub enum Step {
    /// Send this message (or nothing).
    Reply(Option<Vec<u8>>),
    /// The DC must verify this logon; answer with [`ServerConnection::resume_logon`].
    Logon(NetworkLogon),
}

#[derive(Debug)]
enum Auth {
    /// NTLMSSP selected from the client's list; waiting for its NEGOTIATE_MESSAGE.
    Selected(SpnegoNtlmSelected),
    /// Waiting for the AUTHENTICATE_MESSAGE.
    Challenged(SpnegoNtlmAcceptor),
    /// The DC is verifying the AUTHENTICATE_MESSAGE.
    Verifying,
    /// Authenticated; messages are signed with this.
    Valid(Signer),
}

#[derive(Debug)]
struct Session {
    auth: Auth,
    preauth: PreauthHash,
    trees: HashSet<u32>,
    opens: HashMap<u64, PipeOpen>,
}

impl Session {
    fn new(auth: Auth, preauth: PreauthHash) -> Self {
        Self {
            auth,
            preauth,
            trees: HashSet::new(),
            opens: HashMap::new(),
        }
    }

    /// The signing key, once the session has authenticated.
    fn signer(&self) -> Option<&Signer> {
        match &self.auth {
            Auth::Valid(signer) => Some(signer),
            _ => None,
        }
    }
}

/// A SESSION_SETUP waiting for the DC.
#[derive(Debug)]
struct PendingLogon {
    /// The AUTHENTICATE's request header (its session id is the session's).
    header: Header,
    spnego: SpnegoNtlmPending,
}

/// One client connection's protocol state.
#[derive(Debug)]
pub struct ServerConnection {
    config: Arc<ServerConfig>,
    dialect: Option<Dialect>,
    /// What the client's NEGOTIATE said, for VALIDATE_NEGOTIATE_INFO.
    client: Option<ValidateNegotiateInfoRequest>,
    preauth: PreauthHash,
    sessions: HashMap<u64, Session>,
    next_id: u64,
    pending: Option<PendingLogon>,
    window: CreditWindow,
}

/// MS-SMB2 3.3.1.1 the connection's CommandSequenceWindow: the message ids a client may
/// use, each once; it grows by the credits granted.
#[derive(Debug)]
struct CreditWindow {
    /// The lowest id not yet used.
    low: u64,
    /// One past the highest id granted.
    high: u64,
    /// Ids at or above `low` already used (out of order).
    used: std::collections::BTreeSet<u64>,
}

/// What one connection may hold at once: a client past these limits is refused with
/// STATUS_INSUFFICIENT_RESOURCES rather than growing the server's memory.
const MAX_SESSIONS: usize = 16;
const MAX_TREES: usize = 16;
const MAX_OPENS: usize = 64;

/// Credits granted per response at most, and outstanding at most.
const MAX_CREDITS: u16 = 64;
const MAX_OUTSTANDING: u64 = 512;

impl CreditWindow {
    /// MS-SMB2 3.3.5.2.3: the ids `id..id+charge` must lie in the window and be unused.
    fn consume(&mut self, id: u64, charge: u16) -> Result<(), SmbError> {
        let charge = u64::from(charge.max(1));
        let end = id.saturating_add(charge);
        if id < self.low || end > self.high || (id..end).any(|i| self.used.contains(&i)) {
            return Err(SmbError::Malformed {
                what: "SMB2 request",
                why: "a message id outside the credits granted, or used twice",
            });
        }
        self.used.extend(id..end);
        while self.used.remove(&self.low) {
            self.low += 1;
        }
        Ok(())
    }

    /// Grants up to `asked` more ids (at least one, so the client can go on).
    fn grant(&mut self, asked: u16) -> u16 {
        let room = (self.low + MAX_OUTSTANDING).saturating_sub(self.high);
        let granted = u64::from(asked.clamp(1, MAX_CREDITS)).min(room).max(1);
        self.high += granted;
        u16::try_from(granted).unwrap_or(1)
    }
}

/// How a request is refused.
enum Refusal {
    /// An error reply: the status, with the request's header.
    Status(NtStatus),
    /// Not a reply: the connection is dropped (MS-SMB2's "terminate the connection").
    Disconnect,
}

impl From<SmbError> for Refusal {
    fn from(e: SmbError) -> Self {
        tracing::debug!(error = %e, "a request that does not decode");
        Self::Status(NtStatus::INVALID_PARAMETER)
    }
}

impl ServerConnection {
    /// A connection before NEGOTIATE.
    pub fn new(config: Arc<ServerConfig>) -> Self {
        Self {
            config,
            dialect: None,
            client: None,
            preauth: PreauthHash::default(),
            sessions: HashMap::new(),
            next_id: 1,
            pending: None,
            window: CreditWindow {
                low: 0,
                high: 1,
                used: std::collections::BTreeSet::new(),
            },
        }
    }

    /// Whether a session on this connection has authenticated.
    pub fn authenticated(&self) -> bool {
        self.sessions.values().any(|s| s.signer().is_some())
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Handles one request message (one member of a compound).
    pub fn handle(&mut self, msg: &[u8]) -> Result<Step, SmbError> {
        let header = Header::from_message(msg)?;
        // CANCEL takes no credit (MS-SMB2 3.3.5.16); every other request spends its ids.
        if header.command == Command::CANCEL {
            return Ok(Step::Reply(None));
        }
        self.window
            .consume(header.message_id, header.credit_charge)?;
        let granted = self.window.grant(header.credits);
        let header = Header {
            credits: granted,
            ..header
        };
        if header.is_response() {
            return Err(SmbError::Malformed {
                what: "SMB2 request",
                why: "a response sent to the server",
            });
        }
        if self.dialect.is_none() && header.command != Command::NEGOTIATE {
            return Err(SmbError::Malformed {
                what: "SMB2 request",
                why: "a request before NEGOTIATE",
            });
        }
        if let Err(status) = self.check_signature(&header, msg) {
            return Ok(Step::Reply(Some(self.error(&header, status))));
        }
        let reply = match header.command {
            Command::NEGOTIATE => self.negotiate(&header, msg),
            Command::SESSION_SETUP => return self.session_setup(&header, msg),
            Command::LOGOFF => self.logoff(&header),
            Command::TREE_CONNECT => self.tree_connect(&header, msg),
            Command::TREE_DISCONNECT => self.tree_disconnect(&header),
            Command::CREATE => self.create(&header, msg),
            Command::CLOSE => self.close(&header, msg),
            Command::WRITE => self.write(&header, msg),
            Command::READ => self.read(&header, msg),
            Command::IOCTL => self.ioctl(&header, msg),
            Command::ECHO => Ok(self.reply(&header, &EchoResponse, NtStatus::SUCCESS)),
            _ => Err(Refusal::Status(NtStatus::NOT_SUPPORTED)),
        };
        match reply {
            Ok(bytes) => Ok(Step::Reply(Some(bytes))),
            Err(Refusal::Disconnect) => Err(SmbError::Malformed {
                what: "SMB2 request",
                why: "a request MS-SMB2 answers by dropping the connection",
            }),
            Err(Refusal::Status(status)) => Ok(Step::Reply(Some(self.error(&header, status)))),
        }
    }

    /// MS-SMB2 3.3.5.2.4: once a session signs, its requests must be signed and verify.
    fn check_signature(&self, header: &Header, msg: &[u8]) -> Result<(), NtStatus> {
        let Some(signer) = self.signer(header.session_id) else {
            return Ok(());
        };
        if header.flags.contains(HeaderFlags::SIGNED) {
            signer.verify(msg).map_err(|_| NtStatus::ACCESS_DENIED)
        } else if header.command == Command::SESSION_SETUP {
            Ok(())
        } else {
            Err(NtStatus::ACCESS_DENIED)
        }
    }

    /// A response header for `request`, granting the credits asked for (at least one).
    fn response_header(&self, request: &Header, status: NtStatus) -> Header {
        Header {
            credit_charge: request.credit_charge,
            status,
            command: request.command,
            // `handle` put the credits granted for this request in its header.
            credits: request.credits,
            flags: HeaderFlags::SERVER_TO_REDIR,
            message_id: request.message_id,
            tree_id: request.tree_id,
            session_id: request.session_id,
            ..Header::default()
        }
    }

    /// Session `id`'s signing key, if it has authenticated.
    fn signer(&self, id: u64) -> Option<&Signer> {
        self.sessions.get(&id).and_then(Session::signer)
    }

    /// Signs `msg` with its session's key, if the session has one.
    fn sign(&self, session_id: u64, msg: &mut [u8]) {
        if let Some(signer) = self.signer(session_id) {
            signer.sign(msg);
        }
    }

    fn reply<B: Body>(&self, request: &Header, body: &B, status: NtStatus) -> Vec<u8> {
        let header = self.response_header(request, status);
        let mut msg = body.to_message(&header);
        self.sign(request.session_id, &mut msg);
        msg
    }

    fn error(&self, request: &Header, status: NtStatus) -> Vec<u8> {
        let header = self.response_header(request, status);
        let mut msg = ErrorResponse::default().to_message(&header);
        self.sign(request.session_id, &mut msg);
        msg
    }

    fn session(&mut self, header: &Header) -> Result<&mut Session, Refusal> {
        self.sessions
            .get_mut(&header.session_id)
            .filter(|s| s.signer().is_some())
            .ok_or(Refusal::Status(NtStatus::USER_SESSION_DELETED))
    }

    fn tree(&mut self, header: &Header) -> Result<&mut Session, Refusal> {
        let session = self.session(header)?;
        if session.trees.contains(&header.tree_id) {
            Ok(session)
        } else {
            Err(Refusal::Status(NtStatus::NETWORK_NAME_DELETED))
        }
    }

    /// MS-SMB2 3.3.5.4.
    fn negotiate(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        // MS-SMB2 3.3.5.4: a second NEGOTIATE ends the connection; 3.3.5.2.4: a signed one
        // is invalid.
        if self.dialect.is_some() {
            return Err(Refusal::Disconnect);
        }
        if header.flags.contains(HeaderFlags::SIGNED) {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        let (_, req) = NegotiateRequest::from_message(msg)?;
        let dialect = Dialect::highest_common(&req.dialects)
            .ok_or(Refusal::Status(NtStatus::NOT_SUPPORTED))?;
        let mut contexts = Vec::new();
        if dialect == Dialect::SMB311 {
            let sha512 = req.contexts.iter().any(|c| {
                matches!(c, NegotiateContext::PreauthIntegrity { hash_algorithms, .. }
                    if hash_algorithms.contains(&HashAlgorithm::SHA512))
            });
            if !sha512 {
                return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
            }
            contexts.push(NegotiateContext::PreauthIntegrity {
                hash_algorithms: vec![HashAlgorithm::SHA512],
                // A failed system random source leaves zeros; getrandom does not fail on
                // Linux once the pool is initialised, which it is by the time a daemon serves.
                salt: crate::random::<32>().unwrap_or([0; 32]).to_vec(),
            });
        }
        let resp = NegotiateResponse {
            security_mode: SECURITY_MODE,
            dialect,
            server_guid: self.config.server_guid,
            capabilities: CAPABILITIES,
            max_transact_size: MAX_IO,
            max_read_size: MAX_IO,
            max_write_size: MAX_IO,
            system_time: filetime_now(),
            server_start_time: 0,
            security_buffer: spnego::acceptor_hints(self.config.kerberos.is_some()),
            contexts,
        };
        let out = self.reply(header, &resp, NtStatus::SUCCESS);
        if dialect == Dialect::SMB311 {
            self.preauth.update(msg);
            self.preauth.update(&out);
        }
        self.dialect = Some(dialect);
        self.client = Some(ValidateNegotiateInfoRequest::from(&req));
        Ok(out)
    }

    /// MS-SMB2 3.3.5.5: the first leg creates the session and answers with the NTLM
    /// CHALLENGE (or, with Kerberos, the AP-REP); the NTLM AUTHENTICATE goes to the DC.
    fn session_setup(&mut self, header: &Header, msg: &[u8]) -> Result<Step, SmbError> {
        let (_, req) = SessionSetupRequest::from_message(msg)?;
        let token = &req.security_buffer;
        let step = if header.session_id == 0 {
            self.first_leg(header, msg, token)
                .map(|out| Step::Reply(Some(out)))
        } else {
            self.next_leg(header, msg, token)
        };
        Ok(step.unwrap_or_else(|status| Step::Reply(Some(self.error(header, status)))))
    }

    /// A SESSION_SETUP without a session id: a new session.
    fn first_leg(
        &mut self,
        header: &Header,
        msg: &[u8],
        token: &[u8],
    ) -> Result<Vec<u8>, NtStatus> {
        if self.sessions.len() >= MAX_SESSIONS {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        // Kerberos when the client prefers it and this server has a keytab; NTLMSSP
        // otherwise, or when the AP-REQ fails and the client also offered NTLMSSP.
        if spnego::offers_kerberos_first(token)
            && let Some(out) = self.kerberos_setup(header, msg, token)
        {
            return Ok(out);
        }
        let nonces = ServerNonces::fresh().map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        let (auth, out) = match SpnegoNtlmAcceptor::accept(token, &self.config.identity, nonces) {
            Ok((acceptor, out)) => (Auth::Challenged(acceptor), out),
            Err(GssError::WrongMechanism) => SpnegoNtlmSelected::select(token)
                .map(|(selected, out)| (Auth::Selected(selected), out))
                .map_err(|_| NtStatus::LOGON_FAILURE)?,
            Err(e) => {
                tracing::debug!(error = %e, "an SPNEGO first token refused");
                return Err(NtStatus::LOGON_FAILURE);
            }
        };
        let id = self.id();
        let mut session = Session::new(auth, self.preauth.clone());
        let reply = self.more_processing(header, id, &mut session, msg, out);
        self.sessions.insert(id, session);
        Ok(reply)
    }

    /// A SESSION_SETUP continuing session `header.session_id`.
    fn next_leg(&mut self, header: &Header, msg: &[u8], token: &[u8]) -> Result<Step, NtStatus> {
        let mut session = self
            .sessions
            .remove(&header.session_id)
            .ok_or(NtStatus::USER_SESSION_DELETED)?;
        match std::mem::replace(&mut session.auth, Auth::Verifying) {
            // The NEGOTIATE_MESSAGE after NTLMSSP was selected: answer with the CHALLENGE.
            Auth::Selected(selected) => {
                let nonces = ServerNonces::fresh().map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
                let (acceptor, out) = selected
                    .negotiate(token, &self.config.identity, nonces)
                    .map_err(|_| NtStatus::LOGON_FAILURE)?;
                session.auth = Auth::Challenged(acceptor);
                let reply = self.more_processing(header, header.session_id, &mut session, msg, out);
                self.sessions.insert(header.session_id, session);
                Ok(Step::Reply(Some(reply)))
            }
            // The AUTHENTICATE_MESSAGE: the DC must verify it.
            Auth::Challenged(acceptor) => {
                if self.dialect == Some(Dialect::SMB311) {
                    session.preauth.update(msg);
                }
                let spnego = acceptor.authenticate(token).map_err(|e| {
                    tracing::debug!(error = %e, "an NTLM AUTHENTICATE refused");
                    NtStatus::LOGON_FAILURE
                })?;
                let logon = NetworkLogon::from_ntlm(spnego.logon());
                // Parked until the DC answers (resume_logon); the session serves nothing.
                self.sessions.insert(header.session_id, session);
                self.pending = Some(PendingLogon {
                    header: header.clone(),
                    spnego,
                });
                Ok(Step::Logon(logon))
            }
            // Re-authentication of an established session is not offered.
            other => {
                session.auth = other;
                self.sessions.insert(header.session_id, session);
                Err(NtStatus::NOT_SUPPORTED)
            }
        }
    }

    /// A SESSION_SETUP response carrying `token` for session `id`.
    fn setup_reply(&self, header: &Header, id: u64, token: Vec<u8>, status: NtStatus) -> Vec<u8> {
        let response_header = Header {
            session_id: id,
            ..header.clone()
        };
        let resp = SessionSetupResponse {
            session_flags: SessionFlags::empty(),
            security_buffer: token,
        };
        self.reply(&response_header, &resp, status)
    }

    /// A STATUS_MORE_PROCESSING_REQUIRED reply carrying `token` for session `id`, with the
    /// request and the reply added to the session's pre-authentication hash (3.1.1).
    fn more_processing(
        &self,
        header: &Header,
        id: u64,
        session: &mut Session,
        msg: &[u8],
        token: Vec<u8>,
    ) -> Vec<u8> {
        let out = self.setup_reply(header, id, token, NtStatus::MORE_PROCESSING_REQUIRED);
        if self.dialect == Some(Dialect::SMB311) {
            session.preauth.update(msg);
            session.preauth.update(&out);
        }
        out
    }

    /// MS-SMB2 3.3.5.5 with Kerberos: one leg. The AP-REQ is checked against the keytab
    /// (and its PAC's signatures), the session key is the context's, and the final
    /// response carries the AP-REP, signed.
    /// `None` when this server has no keytab or the AP-REQ is refused (the caller then
    /// tries NTLMSSP, if the client offered it).
    fn kerberos_setup(&mut self, header: &Header, msg: &[u8], token: &[u8]) -> Option<Vec<u8>> {
        let acceptor = self.config.kerberos.clone()?;
        let accepted = {
            let mut acceptor = acceptor.lock().unwrap_or_else(|p| p.into_inner());
            spnego::accept(&mut acceptor, token, std::time::SystemTime::now())
        };
        let (ctx, reply, accepted) = match accepted {
            Ok(done) => done,
            Err(e) => {
                tracing::info!(error = %e, "Kerberos session setup refused");
                return None;
            }
        };
        let dialect = self.dialect.unwrap_or_default();
        let mut preauth = self.preauth.clone();
        if dialect == Dialect::SMB311 {
            preauth.update(msg);
        }
        let signer = Signer::derive(dialect, ctx.session_key().as_bytes(), &preauth);
        let id = self.id();
        tracing::info!(user = %accepted.client, session_id = id, "SMB session established (Kerberos)");
        self.sessions
            .insert(id, Session::new(Auth::Valid(signer), preauth));
        Some(self.setup_reply(header, id, reply, NtStatus::SUCCESS))
    }

    /// Finishes the SESSION_SETUP parked by [`Step::Logon`] with the DC's verdict: the
    /// reply, or `None` when no logon is parked.
    pub fn resume_logon(&mut self, verdict: Result<LogonOutcome, String>) -> Option<Vec<u8>> {
        let pending = self.pending.take()?;
        Some(self.finish_logon(pending, verdict))
    }

    fn finish_logon(
        &mut self,
        PendingLogon { header, spnego }: PendingLogon,
        verdict: Result<LogonOutcome, String>,
    ) -> Vec<u8> {
        let session_id = header.session_id;
        let Some(mut session) = self.sessions.remove(&session_id) else {
            return self.error(&header, NtStatus::USER_SESSION_DELETED);
        };
        let info = match verdict {
            Ok(LogonOutcome::Success(info)) => info,
            Ok(LogonOutcome::Refused(status)) => {
                // MS-SMB2 3.3.5.5.3: a bad name or password is STATUS_LOGON_FAILURE.
                let status = match status {
                    NtStatus::WRONG_PASSWORD | NtStatus::NO_SUCH_USER => NtStatus::LOGON_FAILURE,
                    other => other,
                };
                return self.error(&header, status);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the DC could not verify a logon");
                return self.error(&header, NtStatus::NO_LOGON_SERVERS);
            }
        };
        // A guest logon, or one without a session key, would give a signed session whose
        // key anyone can compute: refused, as Windows refuses guest when signing is required.
        if info.user_flags.contains(UserFlags::GUEST) || info.user_session_key == [0; 16] {
            tracing::warn!(
                user = %info.effective_name.as_str(),
                "the DC accepted a logon as guest or without a session key; refused"
            );
            return self.error(&header, NtStatus::LOGON_FAILURE);
        }
        let (ntlm, token) = match spnego.complete(&info.user_session_key) {
            Ok(done) => done,
            Err(e) => {
                // The DC said yes but the client's MIC does not verify under its key:
                // tampering, or a key the DC and the client do not share.
                tracing::warn!(error = %e, "the session key does not agree with the client's MIC");
                return self.error(&header, NtStatus::LOGON_FAILURE);
            }
        };
        let dialect = self.dialect.unwrap_or_default();
        let signer = Signer::derive(
            dialect,
            ntlm.exported_session_key().as_bytes(),
            &session.preauth,
        );
        let user = format!(
            "{}\\{}",
            info.logon_domain_name.as_str(),
            info.effective_name.as_str()
        );
        tracing::info!(%user, session_id, "SMB session established");
        session.auth = Auth::Valid(signer);
        self.sessions.insert(session_id, session);
        // MS-SMB2 3.3.5.5.3: the final response is signed with the new key.
        self.setup_reply(&header, session_id, token, NtStatus::SUCCESS)
    }

    fn logoff(&mut self, header: &Header) -> Result<Vec<u8>, Refusal> {
        self.session(header)?;
        // The reply is signed with the session's key, then the session goes.
        let out = self.reply(header, &LogoffResponse, NtStatus::SUCCESS);
        self.sessions.remove(&header.session_id);
        Ok(out)
    }

    /// MS-SMB2 3.3.5.7: only IPC$ is served.
    fn tree_connect(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = TreeConnectRequest::from_message(msg)?;
        let share = req.path.rsplit('\\').next().unwrap_or_default();
        if !share.eq_ignore_ascii_case("IPC$") {
            return Err(Refusal::Status(NtStatus::BAD_NETWORK_NAME));
        }
        let id = u32::try_from(self.id()).unwrap_or(u32::MAX);
        let session = self.session(header)?;
        if session.trees.len() >= MAX_TREES {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        session.trees.insert(id);
        let resp = TreeConnectResponse {
            share_type: TreeConnectResponse::PIPE,
            share_flags: 0,
            capabilities: 0,
            maximal_access: 0x001f_01ff,
        };
        Ok(self.reply(
            &Header {
                tree_id: id,
                ..header.clone()
            },
            &resp,
            NtStatus::SUCCESS,
        ))
    }

    fn tree_disconnect(&mut self, header: &Header) -> Result<Vec<u8>, Refusal> {
        let session = self.tree(header)?;
        session.trees.remove(&header.tree_id);
        Ok(self.reply(header, &TreeDisconnectResponse, NtStatus::SUCCESS))
    }

    /// Opens `srvsvc` or `wkssvc`.
    fn create(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = CreateRequest::from_message(msg)?;
        let name = req.name.trim_start_matches('\\').to_ascii_lowercase();
        let config = Arc::clone(&self.config);
        let service: Box<dyn adjoin_rpc::server::Service> = match name.as_str() {
            "srvsvc" => {
                let mut shares = vec![Share::ipc("IPC Service")];
                shares.extend(config.shares.iter().cloned());
                Box::new(SrvsvcService::new(
                    &config.identity.netbios_computer,
                    &config.comment,
                    shares,
                ))
            }
            "wkssvc" => Box::new(WkssvcService::new(
                &config.identity.netbios_computer,
                &config.identity.netbios_domain,
            )),
            _ => return Err(Refusal::Status(NtStatus::OBJECT_NAME_NOT_FOUND)),
        };
        let volatile = self.id();
        let session = self.tree(header)?;
        if session.opens.len() >= MAX_OPENS {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        session
            .opens
            .insert(volatile, PipeOpen::new(service, &name));
        let resp = CreateResponse {
            create_action: 1,
            file_attributes: 0x80,
            file_id: FileId {
                persistent: volatile,
                volatile,
            },
            ..CreateResponse::default()
        };
        Ok(self.reply(header, &resp, NtStatus::SUCCESS))
    }

    fn open(&mut self, header: &Header, file: FileId) -> Result<&mut PipeOpen, Refusal> {
        self.tree(header)?
            .opens
            .get_mut(&file.volatile)
            .ok_or(Refusal::Status(NtStatus::FILE_CLOSED))
    }

    fn close(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = CloseRequest::from_message(msg)?;
        self.tree(header)?
            .opens
            .remove(&req.file_id.volatile)
            .ok_or(Refusal::Status(NtStatus::FILE_CLOSED))?;
        Ok(self.reply(header, &CloseResponse::default(), NtStatus::SUCCESS))
    }

    fn write(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = WriteRequest::from_message(msg)?;
        let open = self.open(header, req.file_id)?;
        if !open.write(&req.data) {
            return Err(Refusal::Status(NtStatus::PIPE_BROKEN));
        }
        let count = u32::try_from(req.data.len()).unwrap_or(u32::MAX);
        Ok(self.reply(header, &WriteResponse { count }, NtStatus::SUCCESS))
    }

    fn read(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = ReadRequest::from_message(msg)?;
        let max = req.length.min(MAX_IO) as usize;
        let (data, more) = self
            .open(header, req.file_id)?
            .read(max)
            .ok_or(Refusal::Status(NtStatus::PIPE_EMPTY))?;
        let resp = ReadResponse {
            data_remaining: 0,
            data,
        };
        Ok(self.reply(header, &resp, pipe_read_status(more)))
    }

    fn ioctl(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = IoctlRequest::from_message(msg)?;
        match req.ctl_code {
            FSCTL_PIPE_TRANSCEIVE => {
                let open = self.open(header, req.file_id)?;
                if !open.write(&req.input) {
                    return Err(Refusal::Status(NtStatus::PIPE_BROKEN));
                }
                let max = req.max_output_response.min(MAX_IO) as usize;
                let (output, more) = open.read(max).unwrap_or_default();
                let resp = IoctlResponse {
                    ctl_code: req.ctl_code,
                    file_id: req.file_id,
                    output,
                };
                Ok(self.reply(header, &resp, pipe_read_status(more)))
            }
            // MS-SMB2 3.3.5.15.12: the signed answer a 3.0.x client checks.
            FSCTL_VALIDATE_NEGOTIATE_INFO => {
                self.session(header)?;
                if !self.validate_negotiate(&req) {
                    return Err(Refusal::Disconnect);
                }
                let info = ValidateNegotiateInfoResponse {
                    capabilities: CAPABILITIES,
                    guid: self.config.server_guid,
                    security_mode: SECURITY_MODE,
                    dialect: self.dialect.unwrap_or_default(),
                };
                let resp = IoctlResponse {
                    ctl_code: req.ctl_code,
                    file_id: req.file_id,
                    output: info.to_bytes(),
                };
                Ok(self.reply(header, &resp, NtStatus::SUCCESS))
            }
            _ => Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST)),
        }
    }
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.15.12: the request must repeat this client's NEGOTIATE exactly (so its
    /// dialects lead to the same choice) on a 3.0.x connection, with room for the answer.
    fn validate_negotiate(&self, req: &IoctlRequest) -> bool {
        let (Some(dialect), Some(client)) = (self.dialect, &self.client) else {
            return false;
        };
        let Ok(info) =
            ValidateNegotiateInfoRequest::read_bytes("VALIDATE_NEGOTIATE_INFO", &req.input)
        else {
            return false;
        };
        dialect != Dialect::SMB311 && req.max_output_response >= 24 && info == *client
    }
}

/// A pipe read's status: STATUS_BUFFER_OVERFLOW when more of the message remains
/// (message mode), success otherwise.
fn pipe_read_status(more: bool) -> NtStatus {
    if more {
        NtStatus::BUFFER_OVERFLOW
    } else {
        NtStatus::SUCCESS
    }
}

/// Serves one client connection until it closes: frames in, the core's replies out,
/// logons verified by the DC through `pool`.
pub async fn serve(
    mut stream: TcpStream,
    config: Arc<ServerConfig>,
    pool: Arc<LogonPool>,
    idle: Duration,
) -> Result<(), SmbError> {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "an SMB client".to_owned(), |a| a.to_string());
    let io = |doing: &str, error: std::io::Error| SmbError::Io {
        context: format!("{doing} {peer}"),
        error,
    };
    let mut core = ServerConnection::new(config);
    // A connection that has not logged anyone on within this time is dropped, so idle
    // unauthenticated clients cannot hold the daemon's connection slots.
    let deadline = tokio::time::Instant::now() + AUTH_DEADLINE;
    loop {
        if !core.authenticated() && tokio::time::Instant::now() > deadline {
            return Err(SmbError::Timeout(format!("{peer} did not log on")));
        }
        let mut prefix = [0u8; 4];
        match tokio::time::timeout(idle, stream.read_exact(&mut prefix)).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(io("reading from", e)),
            Ok(Ok(_)) => {}
        }
        // The server announced 64 KiB reads, writes and transactions: a message much larger
        // than that is not a conforming client's, and is not buffered.
        let len = frame_len(prefix)?;
        if len > MAX_MESSAGE_IN {
            return Err(SmbError::TooLarge { len });
        }
        let mut payload = vec![0; len];
        match tokio::time::timeout(idle, stream.read_exact(&mut payload)).await {
            Err(_) => return Err(SmbError::Timeout(format!("{peer} stopped mid-message"))),
            Ok(Err(e)) => return Err(io("reading from", e)),
            Ok(Ok(_)) => {}
        }
        for msg in split_compound(&payload)? {
            let reply = match core.handle(msg)? {
                Step::Reply(reply) => reply,
                Step::Logon(logon) => {
                    let verdict = pool.logon_network(&logon).await.map_err(|e| e.to_string());
                    core.resume_logon(verdict)
                }
            };
            if let Some(reply) = reply {
                stream
                    .write_all(&frame(&reply)?)
                    .await
                    .map_err(|e| io("writing to", e))?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientCore;
    use crate::proto::{EchoRequest, TreeConnectRequest};

    fn config() -> Arc<ServerConfig> {
        Arc::new(ServerConfig {
            identity: ServerIdentity {
                netbios_domain: "EXAMPLE".into(),
                netbios_computer: "FILES".into(),
                dns_domain: "example.test".into(),
                dns_computer: "files.example.test".into(),
            },
            server_guid: [1; 16],
            comment: String::new(),
            shares: Vec::new(),
            kerberos: None,
        })
    }

    fn reply(step: Step) -> Vec<u8> {
        match step {
            Step::Reply(Some(bytes)) => bytes,
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    fn status(msg: &[u8]) -> NtStatus {
        Header::from_message(msg).unwrap().status
    }

    fn negotiated(dialects: &[Dialect]) -> (ServerConnection, ClientCore) {
        let mut server = ServerConnection::new(config());
        let mut client = ClientCore::new();
        let request = NegotiateRequest {
            security_mode: SecurityMode::SIGNING_ENABLED,
            dialects: dialects.to_vec(),
            contexts: vec![NegotiateContext::PreauthIntegrity {
                hash_algorithms: vec![HashAlgorithm::SHA512],
                salt: vec![0; 32],
            }],
            ..NegotiateRequest::default()
        };
        let (id, msg) = client.request(0, &request).unwrap();
        let out = reply(server.handle(&msg).unwrap());
        let (header, resp) = client.response(out, id).unwrap().unwrap();
        assert_eq!(header.status, NtStatus::SUCCESS);
        let (_, resp) = NegotiateResponse::from_message(&resp).unwrap();
        client.set_dialect(resp.dialect);
        (server, client)
    }

    #[test]
    fn negotiate_picks_the_highest_common_dialect_and_requires_signing() {
        let (server, _) = negotiated(&[Dialect::SMB202, Dialect::SMB302]);
        assert_eq!(server.dialect, Some(Dialect::SMB302));
        let (server, _) = negotiated(&[Dialect::SMB210, Dialect::SMB311]);
        assert_eq!(server.dialect, Some(Dialect::SMB311));
    }

    #[test]
    fn requests_without_a_session_or_before_negotiate_are_refused() {
        let mut fresh = ServerConnection::new(config());
        let (_, echo) = ClientCore::new().request(0, &EchoRequest).unwrap();
        assert!(fresh.handle(&echo).is_err(), "a request before NEGOTIATE");

        let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
        let tree = TreeConnectRequest {
            flags: 0,
            path: r"\\files\IPC$".into(),
        };
        let (_, msg) = client.request(0, &tree).unwrap();
        assert_eq!(
            status(&reply(server.handle(&msg).unwrap())),
            NtStatus::USER_SESSION_DELETED
        );
        // A session setup whose token is not SPNEGO/NTLMSSP is a logon failure.
        let setup = SessionSetupRequest {
            security_buffer: b"not a token".to_vec(),
            ..SessionSetupRequest::default()
        };
        let (_, msg) = client.request(0, &setup).unwrap();
        assert_eq!(
            status(&reply(server.handle(&msg).unwrap())),
            NtStatus::LOGON_FAILURE
        );
        // A second NEGOTIATE on the connection is refused.
        let (_, msg) = client
            .request(
                0,
                &NegotiateRequest {
                    dialects: vec![Dialect::SMB311],
                    ..NegotiateRequest::default()
                },
            )
            .unwrap();
        assert!(
            server.handle(&msg).is_err(),
            "a second NEGOTIATE drops the connection"
        );
    }

    #[test]
    fn a_connection_holds_a_bounded_number_of_sessions() {
        let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
        let (ntlm, negotiate) =
            adjoin_auth::ntlm::NtlmClient::new("alice", "EXAMPLE", "pw", "WS").unwrap();
        let (_, init) = spnego::SpnegoNtlmInitiator::start(ntlm, negotiate);
        let setup = SessionSetupRequest {
            security_buffer: init,
            ..SessionSetupRequest::default()
        };
        let mut statuses = Vec::new();
        for _ in 0..MAX_SESSIONS + 1 {
            let (id, msg) = client.request(0, &setup).unwrap();
            let out = reply(server.handle(&msg).unwrap());
            statuses.push(status(&out));
            client.response(out, id).unwrap();
        }
        assert!(
            statuses[..MAX_SESSIONS]
                .iter()
                .all(|s| *s == NtStatus::MORE_PROCESSING_REQUIRED)
        );
        assert_eq!(statuses[MAX_SESSIONS], NtStatus::INSUFFICIENT_RESOURCES);
    }

    /// A session set up to the point where the DC must answer (NTLM, second leg).
    fn awaiting_the_dc() -> ServerConnection {
        let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
        let (ntlm, negotiate) =
            adjoin_auth::ntlm::NtlmClient::new("alice", "EXAMPLE", "pw", "WS").unwrap();
        let (initiator, init) = spnego::SpnegoNtlmInitiator::start(ntlm, negotiate);
        let first = SessionSetupRequest {
            security_buffer: init,
            ..SessionSetupRequest::default()
        };
        let (id, msg) = client.request(0, &first).unwrap();
        let (header, out) = client
            .response(reply(server.handle(&msg).unwrap()), id)
            .unwrap()
            .unwrap();
        let (_, resp) = SessionSetupResponse::from_message(&out).unwrap();
        let nonces = adjoin_auth::ntlm::ClientNonces::fresh().unwrap();
        let (_, token) = initiator.step(&resp.security_buffer, &nonces).unwrap();
        client.session_id = header.session_id;
        let second = SessionSetupRequest {
            security_buffer: token,
            ..SessionSetupRequest::default()
        };
        let (_, msg) = client.request(0, &second).unwrap();
        assert!(matches!(server.handle(&msg).unwrap(), Step::Logon(_)));
        server
    }

    #[test]
    fn guest_logons_and_logons_without_a_key_are_refused() {
        use adjoin_rpc::netlogon::ValidationSamInfo2;
        let guest = ValidationSamInfo2 {
            user_flags: UserFlags::GUEST,
            user_session_key: [7; 16],
            ..ValidationSamInfo2::default()
        };
        let keyless = ValidationSamInfo2::default();
        for info in [guest, keyless] {
            let mut server = awaiting_the_dc();
            let out = server
                .resume_logon(Ok(LogonOutcome::Success(Box::new(info))))
                .unwrap();
            assert_eq!(status(&out), NtStatus::LOGON_FAILURE);
        }
        // The DC's refusals: a wrong password is a logon failure, an unreachable DC says so.
        let mut server = awaiting_the_dc();
        let out = server
            .resume_logon(Ok(LogonOutcome::Refused(NtStatus::WRONG_PASSWORD)))
            .unwrap();
        assert_eq!(status(&out), NtStatus::LOGON_FAILURE);
        let mut server = awaiting_the_dc();
        let out = server.resume_logon(Err("no DC".into())).unwrap();
        assert_eq!(status(&out), NtStatus::NO_LOGON_SERVERS);
    }

    #[test]
    fn message_ids_must_be_granted_and_fresh() {
        let (mut server, mut client) = negotiated(&[Dialect::SMB311]);
        let (_, echo) = client.request(0, &EchoRequest).unwrap();
        // Unauthenticated ECHO is answered (it needs no session)...
        assert_eq!(
            status(&reply(server.handle(&echo).unwrap())),
            NtStatus::SUCCESS
        );
        // ...but the same message id again ends the connection, as does one never granted.
        assert!(server.handle(&echo).is_err());
        let far = Header {
            message_id: 10_000,
            ..Header::request(Command::ECHO)
        };
        assert!(server.handle(&EchoRequest.to_message(&far)).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_messages_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let mut fresh = ServerConnection::new(config());
            let _ = fresh.handle(&data);
            let (mut server, _) = negotiated(&[Dialect::SMB311]);
            let _ = server.handle(&data);
            let _ = server.resume_logon(Err("no DC".into()));
        }
    }
}
