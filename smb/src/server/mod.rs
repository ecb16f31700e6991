//! An SMB2/3 server for a domain member: NEGOTIATE (2.0.2 to 3.1.1, signing required; an
//! SMB1 NEGOTIATE that lists SMB2 dialects is answered in SMB2), SESSION_SETUP through
//! SPNEGO with Kerberos (the member's keytab) or NTLMSSP verified by the DC (pass-through
//! over the NETLOGON secure channel), IPC$ with the srvsvc and wkssvc named pipes served by
//! rpc's [`ServerBinding`](adjoin_rpc::server::ServerBinding), and disk shares whose file
//! operations run as the logged-on user (see docs/smb-server.md for what is served and
//! what is not yet).
//!
//! [`ServerConnection`] is the protocol core without I/O: messages in, messages out, and
//! a [`Step::Logon`] when the DC must verify a logon; [`serve`] is its tokio driver.
//!
//! The parts: `credits` (the message-id window), `negotiate`, `session` (SESSION_SETUP and
//! LOGOFF; `reauth`: re-authentication of an established session), `tree`
//! (TREE_CONNECT/DISCONNECT), `ipc` (the pipe opens on IPC$ and their READ/WRITE/IOCTL),
//! `pipe` (one open pipe's RPC binding) and `driver` (the tokio task).

pub mod backend;
mod binding;
mod create_contexts;
mod credits;
mod driver;
mod durable;
mod files;
mod fsctl;
mod ipc;
pub mod limits;
mod negotiate;
mod notify;
pub mod open_files;
pub mod oplock;
mod outbox;
mod pending;
mod pipe;
mod query;
mod reauth;
mod security;
mod session;
pub mod share;
mod sparse;
pub mod stats;
pub mod tables;
#[cfg(any(test, feature = "fuzzing"))]
pub mod testing;
pub mod token;
mod transform;
mod tree;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use adjoin_auth::krb::Acceptor;
use adjoin_auth::ntlm::ServerIdentity;
use adjoin_rpc::netlogon::channel::NetworkLogon;
use adjoin_rpc::ntstatus::NtStatus;

use self::credits::CreditWindow;
use self::files::FileOpen;
use self::pipe::PipeOpen;
use self::session::{PendingLogon, Session};
use self::share::Shares;
use self::stats::{Held, ServerStats};
use self::token::TokenMapper;
use self::tree::Tree;
use crate::error::SmbError;
use crate::proto::{
    Body, Capabilities, Command, Dialect, EchoResponse, ErrorResponse, FileId, Header, HeaderFlags,
    SecurityMode, ValidateNegotiateInfoRequest,
};
use crate::signing::{PreauthHash, Signer};

pub use self::driver::serve;
pub use self::pending::{Outgoing, Resume};

/// What NEGOTIATE announces and VALIDATE_NEGOTIATE_INFO repeats: signing required, and
/// (the 3.0.x answer; `negotiate` has each dialect's) large MTU, encryption and leases.
const SECURITY_MODE: SecurityMode =
    SecurityMode::SIGNING_ENABLED.union(SecurityMode::SIGNING_REQUIRED);
const CAPABILITIES: Capabilities = Capabilities::LARGE_MTU
    .union(Capabilities::ENCRYPTION)
    .union(Capabilities::LEASING);

/// How long a connection may stay without an authenticated session.
const AUTH_DEADLINE: Duration = Duration::from_secs(60);

/// The largest message (or compound, or encrypted frame) accepted from an authenticated
/// client: an 8 MiB write (the MaxWriteSize announced with LARGE_MTU) and its headers,
/// with room for a compound of a few small requests. The driver reads one frame at a
/// time and buffers no more than the client has sent, so this (and a response of at
/// most as much) bounds what one connection makes the server hold; before a session is
/// established the bound is the driver's smaller one.
const MAX_MESSAGE_IN: usize = 8 * 1024 * 1024 + 256 * 1024;

/// Who this server is and what it offers.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The member's names (NTLM's TargetInfo, srvsvc's server name).
    pub identity: ServerIdentity,
    /// `ServerGuid`.
    pub server_guid: [u8; 16],
    /// The server comment srvsvc reports.
    pub comment: String,
    /// The disk shares (IPC$ is always there); srvsvc lists them.
    pub shares: Shares,
    /// Maps a logon's SIDs to the Unix ids its file operations run as; `None` serves
    /// IPC$ only.
    pub tokens: Option<Arc<dyn TokenMapper>>,
    /// Kerberos: the acceptor over this member's keytab (shared by every connection, for
    /// its replay cache); `None` offers NTLM only.
    pub kerberos: Option<Arc<std::sync::Mutex<Acceptor>>>,
    /// What srvsvc's administrative calls and lsarpc need: the domain's and machine's
    /// SIDs, the administrators' groups, the name translator, the live tables.
    pub ipc: tables::IpcConfig,
    /// MS-SMB2 3.3.1.5 `EncryptData` with `RejectUnencryptedAccess`: every session
    /// encrypts. A connection without a cipher (SMB 2.x, no common cipher) is refused at
    /// SESSION_SETUP (3.3.5.5), a session is set up with SMB2_SESSION_FLAG_ENCRYPT_DATA,
    /// and a plain request on it gets STATUS_ACCESS_DENIED (3.3.5.2.9).
    pub encrypt_data: bool,
}

/// What the core needs next.
#[derive(Debug)]
pub enum Step {
    /// Send this message (or nothing).
    Reply(Option<Vec<u8>>),
    /// The DC must verify this logon; answer with [`ServerConnection::resume_logon`].
    Logon(NetworkLogon),
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
    /// The session and tree of the compound member handled last (for related members).
    chain: Option<(u64, u32)>,
    /// What the last CREATE of the current compound chain opened, or how it failed.
    chain_file: Option<Result<FileId, NtStatus>>,
    /// The cipher and signing algorithm negotiated, and whether the request being
    /// handled came encrypted (`transform`).
    crypto: transform::Crypto,
    /// This connection's rows in the server-wide session and open tables (srvsvc's
    /// NetSessEnum, NetFileEnum, NetConnEnum).
    activity: tables::ConnectionActivity,
    /// This connection's event queue (breaks to send, files whose breaks ended), and its
    /// receiving end until the driver takes it.
    events: oplock::Notifier,
    events_rx: Option<tokio::sync::mpsc::Receiver<oplock::Event>>,
    /// Requests answered STATUS_PENDING and not yet finally (by AsyncId).
    waiting: HashMap<u64, pending::Pending>,
    next_async: u64,
    /// The request handled last went async (its AsyncId).
    went_async: Option<u64>,
    /// Messages ready to send besides the reply (a CANCEL's cancelled request).
    ready: Vec<Outgoing>,
    /// Messages to send before the reply (CHANGE_NOTIFYs its request cleaned up).
    before_reply: Vec<Vec<u8>>,
    /// This connection's id in the server-wide CHANGE_NOTIFY table (`notify`).
    notify_owner: u64,
    /// Tests and fuzzing: requests need no signature (see `testing`).
    #[cfg(any(test, feature = "fuzzing"))]
    unsigned: bool,
}

/// What one connection may hold at once: a client past these limits is refused with
/// STATUS_INSUFFICIENT_RESOURCES rather than growing the server's memory.
const MAX_SESSIONS: usize = 16;
const MAX_TREES: usize = 16;
const MAX_OPENS: usize = 1024;

/// An open: a named pipe on IPC$ or a file or directory on a disk share.
#[derive(Debug)]
enum Open {
    /// A pipe, and the tree it was opened on.
    Pipe(u32, PipeOpen),
    /// A file or directory.
    File(FileOpen),
}

impl Open {
    /// `FileId.Persistent` of the open found by `volatile`: a file's own (see
    /// `durable`), a pipe's the same as its volatile id.
    fn persistent(&self, volatile: u64) -> u64 {
        match self {
            Self::Pipe(..) => volatile,
            Self::File(file) => file.persistent,
        }
    }

    /// The tree the open belongs to.
    fn tree_id(&self) -> u32 {
        match self {
            Self::Pipe(tree, _) => *tree,
            Self::File(file) => file.tree_id,
        }
    }
}

/// How a request is refused.
enum Refusal {
    /// An error reply: the status, with the request's header.
    Status(NtStatus),
    /// Not a reply: the connection is dropped (MS-SMB2's "terminate the connection").
    Disconnect,
}

impl Refusal {
    /// The status a request refused this way is answered with where the connection
    /// cannot be dropped (a request answered later): STATUS_INVALID_PARAMETER for
    /// [`Self::Disconnect`].
    fn status(self) -> NtStatus {
        match self {
            Self::Status(status) => status,
            Self::Disconnect => NtStatus::INVALID_PARAMETER,
        }
    }
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
        ServerStats::global().connection(1);
        let activity = tables::ConnectionActivity::new(&config.ipc.tables);
        let (events, events_rx) = tokio::sync::mpsc::channel(pending::EVENT_QUEUE);
        Self {
            activity,
            events,
            events_rx: Some(events_rx),
            waiting: HashMap::new(),
            next_async: 0,
            went_async: None,
            ready: Vec::new(),
            before_reply: Vec::new(),
            notify_owner: notify::new_owner(),
            config,
            dialect: None,
            client: None,
            preauth: PreauthHash::default(),
            sessions: HashMap::new(),
            next_id: 1,
            pending: None,
            window: CreditWindow::default(),
            chain: None,
            chain_file: None,
            crypto: transform::Crypto::default(),
            #[cfg(any(test, feature = "fuzzing"))]
            unsigned: false,
        }
    }

    /// Ends the connection: every session's opens are closed (pending deletes carried out
    /// as their users).
    pub fn shutdown(&mut self) {
        ServerStats::global().held(self.holdings(), Held::default());
        for (_, session) in self.sessions.drain() {
            Self::release(session);
        }
    }

    /// Messages ready besides the replies (a cancelled request's answer).
    pub fn take_ready(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.ready)
    }

    /// Whether the connection holds an open or a waiting request (then it is not idle,
    /// however long its client is silent).
    pub fn busy(&self) -> bool {
        !self.waiting.is_empty() || self.sessions.values().any(|s| !s.opens.is_empty())
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

    /// A new frame (a compound, or a single request) begins: nothing is related to what
    /// came before it (MS-SMB2 3.3.5.2.7: a related first member is invalid).
    pub fn begin_compound(&mut self) {
        self.chain = None;
        self.chain_file = None;
    }

    /// Brings this connection's rows in the server-wide tables up to date (cheap when
    /// nothing changed: a fingerprint compare).
    fn record_activity(&self) {
        self.activity.record(
            std::time::SystemTime::now(),
            self.holding_fingerprint(),
            || self.holding(),
        );
    }

    /// The client's address, for the server-wide tables.
    pub fn set_client(&self, client: &str) {
        self.activity.set_client(client);
    }

    /// What the connection holds now, for the statistics.
    fn holdings(&self) -> Held {
        let mut held = Held {
            sessions: self.sessions.len(),
            ..Held::default()
        };
        for session in self.sessions.values() {
            held.trees += session.trees.len();
            held.opens += session.opens.len();
        }
        held
    }

    /// Handles one request message (one member of a compound), counting it in the
    /// server's statistics.
    pub fn handle(&mut self, msg: &[u8]) -> Result<Step, SmbError> {
        let before = self.holdings();
        let step = self.dispatch(msg).and_then(|step| self.check_sealed(step));
        self.record_activity();
        let stats = ServerStats::global();
        stats.held(before, self.holdings());
        if let Ok(header) = Header::from_message(msg) {
            let out = match &step {
                Ok(Step::Reply(Some(reply))) => reply.len(),
                _ => 0,
            };
            stats.request(header.command, msg.len(), out);
        }
        step
    }

    fn dispatch(&mut self, msg: &[u8]) -> Result<Step, SmbError> {
        let header = Header::from_message(msg)?;
        // CANCEL takes no credit (MS-SMB2 3.3.5.16); every other request spends its ids.
        if header.command == Command::CANCEL {
            if let Some(cancelled) = self.cancel(&header) {
                self.ready.push(cancelled);
            }
            return Ok(Step::Reply(None));
        }
        // Only CANCEL names a request by AsyncId; the async form of anything else is
        // read as the sync one would be (its answer is never async unless it waits).
        let mut header = header;
        header.flags.remove(HeaderFlags::ASYNC_COMMAND);
        header.async_id = 0;
        self.window
            .consume(header.message_id, header.credit_charge)?;
        let granted = self.window.grant(header.credits, header.credit_charge);
        let mut header = Header {
            credits: granted,
            ..header
        };
        // MS-SMB2 3.3.5.2.7.2: a related member acts on the previous member's session,
        // tree and (through the all-ones FileId) its file.
        if header.flags.contains(HeaderFlags::RELATED_OPERATIONS) {
            let Some((session_id, tree_id)) = self.chain else {
                return Ok(Step::Reply(Some(
                    self.error(&header, NtStatus::INVALID_PARAMETER),
                )));
            };
            if header.session_id == u64::MAX {
                header.session_id = session_id;
            }
            if header.tree_id == u32::MAX {
                header.tree_id = tree_id;
            }
        } else {
            self.chain_file = None;
        }
        self.chain = Some((header.session_id, header.tree_id));
        self.check_encrypted(&header)?;
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
        if let Err(status) = self
            .check_signature(&header, msg)
            .and_then(|()| self.check_charge(&header, msg))
        {
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
            Command::FLUSH => self.flush(&header, msg),
            Command::LOCK => self.lock(&header, msg),
            Command::QUERY_DIRECTORY => self.query_directory(&header, msg),
            Command::QUERY_INFO => self.query_info(&header, msg),
            Command::SET_INFO => self.set_info(&header, msg),
            Command::IOCTL => self.ioctl(&header, msg),
            Command::ECHO => Ok(self.reply(&header, &EchoResponse, NtStatus::SUCCESS)),
            Command::OPLOCK_BREAK => self.oplock_break(&header, msg),
            Command::CHANGE_NOTIFY => self.change_notify(&header, msg),
            // MS-SMB2 3.3.5.2: a command code it does not define.
            _ => Err(Refusal::Status(NtStatus::INVALID_PARAMETER)),
        };
        if header.command == Command::CREATE
            && let Err(Refusal::Status(status)) = &reply
        {
            self.chain_file = Some(Err(*status));
        }
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
    /// An encrypted request carries no signature: decrypting it authenticated it.
    fn check_signature(&self, header: &Header, msg: &[u8]) -> Result<(), NtStatus> {
        if self.request_encrypted() {
            return Ok(());
        }
        #[cfg(any(test, feature = "fuzzing"))]
        if self.unsigned {
            return Ok(());
        }
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

    /// A response header for `request`, granting the credits asked for (at least one); in
    /// the async form for a request that went async (its final response grants none).
    fn response_header(&self, request: &Header, status: NtStatus) -> Header {
        let async_form = request.flags & HeaderFlags::ASYNC_COMMAND;
        // MS-SMB2 3.3.5.2.9: a signed request on a session that is gone (logged off, or
        // never there) is answered STATUS_USER_SESSION_DELETED, which no key can sign.
        // The answer keeps the request's SIGNED flag, as Windows and Samba answer: a client
        // that takes only signed answers on a signing session (Samba's) sees the status,
        // not a missing signature.
        let mut flags = HeaderFlags::SERVER_TO_REDIR;
        if status == NtStatus::USER_SESSION_DELETED && request.flags.contains(HeaderFlags::SIGNED) {
            flags |= HeaderFlags::SIGNED;
        }
        Header {
            credit_charge: request.credit_charge,
            status,
            command: request.command,
            // `handle` put the credits granted for this request in its header.
            credits: request.credits,
            flags: flags | async_form,
            message_id: request.message_id,
            async_id: request.async_id,
            tree_id: request.tree_id,
            session_id: request.session_id,
            ..Header::default()
        }
    }

    /// Session `id`'s signing key, if it has authenticated.
    fn signer(&self, id: u64) -> Option<&Signer> {
        self.sessions.get(&id).and_then(Session::signer)
    }

    /// A response, signed or encrypted (`transform`'s `protect`).
    fn reply<B: Body>(&self, request: &Header, body: &B, status: NtStatus) -> Vec<u8> {
        let header = self.response_header(request, status);
        self.protect(&header, body.to_message(&header))
    }

    fn error(&self, request: &Header, status: NtStatus) -> Vec<u8> {
        let header = self.response_header(request, status);
        self.protect(&header, ErrorResponse::default().to_message(&header))
    }

    fn session(&mut self, header: &Header) -> Result<&mut Session, Refusal> {
        // MS-SMB2 3.3.5.2.9: when the server requires encryption, a session takes only
        // encrypted requests.
        let plain = self.config.encrypt_data && !self.request_encrypted();
        let session = self
            .sessions
            .get_mut(&header.session_id)
            .filter(|s| s.signer().is_some())
            .ok_or(Refusal::Status(NtStatus::USER_SESSION_DELETED))?;
        if plain {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        Ok(session)
    }

    fn tree(&mut self, header: &Header) -> Result<&mut Session, Refusal> {
        let encrypted = self.request_encrypted();
        let session = self.session(header)?;
        match session.trees.get(&header.tree_id) {
            None => Err(Refusal::Status(NtStatus::NETWORK_NAME_DELETED)),
            // MS-SMB2 3.3.5.2.11: a share that requires encryption takes only encrypted
            // requests.
            Some(tree) if tree.requires_encryption() && !encrypted => {
                Err(Refusal::Status(NtStatus::ACCESS_DENIED))
            }
            Some(_) => Ok(session),
        }
    }

    /// The tree `header` names.
    fn tree_kind(&mut self, header: &Header) -> Result<Tree, Refusal> {
        let tree_id = header.tree_id;
        let session = self.tree(header)?;
        Ok(session.trees[&tree_id].clone())
    }

    /// MS-SMB2 3.3.5.2.7.2: the all-ones FileId of a related member is the file the
    /// chain's CREATE opened (or its failure).
    fn file_id(&mut self, file: FileId) -> Result<FileId, Refusal> {
        if file.persistent != u64::MAX || file.volatile != u64::MAX {
            // Any request naming a file passes it on to the related ones after it.
            self.chain_file = Some(Ok(file));
            return Ok(file);
        }
        match self.chain_file {
            Some(Ok(file)) => Ok(file),
            Some(Err(status)) => Err(Refusal::Status(status)),
            None => Err(Refusal::Status(NtStatus::FILE_CLOSED)),
        }
    }

    /// The open `file` names on `header`'s tree.
    fn open(&mut self, header: &Header, file: FileId) -> Result<&mut Open, Refusal> {
        let file = self.file_id(file)?;
        // MS-SMB2 3.3.5.x: an open is found by FileId.Volatile, and its persistent half
        // must match.
        let tree_id = header.tree_id;
        self.tree(header)?
            .opens
            .get_mut(&file.volatile)
            .filter(|o| o.tree_id() == tree_id && o.persistent(file.volatile) == file.persistent)
            .ok_or(Refusal::Status(NtStatus::FILE_CLOSED))
    }
}

impl Drop for ServerConnection {
    fn drop(&mut self) {
        notify::forget_owner(self.notify_owner);
        if let Some(client) = &self.client {
            oplock::client_gone(client.guid, &self.events);
        }
        let stats = ServerStats::global();
        stats.held(self.holdings(), Held::default());
        stats.connection(-1);
    }
}

#[cfg(test)]
mod durable_tests;
#[cfg(test)]
mod file_tests;
#[cfg(test)]
mod fsctl_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod waiting_tests;
