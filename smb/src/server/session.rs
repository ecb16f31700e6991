//! MS-SMB2 3.3.5.5 SESSION_SETUP and 3.3.5.6 LOGOFF: SPNEGO with Kerberos (one leg,
//! checked with the member's keytab) or NTLMSSP (the AUTHENTICATE verified by the DC
//! through [`Step::Logon`]).

use std::collections::HashMap;
use std::sync::Arc;

use adjoin_auth::gss::GssError;
use adjoin_auth::gss::krb5::SecurityContext;
use adjoin_auth::gss::spnego::{self, SpnegoNtlmAcceptor, SpnegoNtlmPending, SpnegoNtlmSelected};
use adjoin_auth::ntlm::ServerNonces;
use adjoin_auth::ntlm::{NtlmError, NtlmSession};
use adjoin_rpc::ndr::Sid;
use adjoin_rpc::netlogon::channel::{LogonOutcome, NetworkLogon};
use adjoin_rpc::netlogon::{UserFlags, ValidationSamInfo2};
use adjoin_rpc::ntstatus::NtStatus;

use super::binding::{self, Channel, Known};
use super::durable;
use super::oplock::Event;
use super::token::{LogonIdentity, UserToken};
use super::tree::Tree;
use super::{MAX_SESSIONS, Open, Refusal, ServerConnection, Step};
use crate::encryption::{Encryptor, Side};
use crate::error::SmbError;
use crate::proto::{
    Body, Dialect, ErrorResponse, Header, HeaderFlags, LogoffResponse, SessionFlags,
    SessionSetupRequest, SessionSetupResponse, SigningAlgorithm,
};

/// MS-SMB2 2.2.5 SMB2_SESSION_FLAG_BINDING.
const SESSION_FLAG_BINDING: u8 = 0x01;
use crate::signing::{PreauthHash, Signer};

#[derive(Debug)]
pub(super) enum Auth {
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
pub(super) struct Session {
    pub(super) auth: Auth,
    pub(super) preauth: PreauthHash,
    pub(super) trees: HashMap<u32, Tree>,
    pub(super) opens: HashMap<u64, Open>,
    /// Who the session's file operations run as; `None` when the logon has no Unix ids
    /// here (the session may still use IPC$).
    pub(super) token: Option<Arc<UserToken>>,
    /// The session's encryption keys, when the connection negotiated a cipher.
    pub(super) encryptor: Option<Encryptor>,
    /// MS-SMB2 3.3.1.8 `Session.EncryptData`: set at logon when the server requires
    /// encryption, else once the client encrypts a request on the session; from then on
    /// every response but NEGOTIATE and SESSION_SETUP is encrypted (3.3.4.1.4).
    pub(super) encrypt_data: bool,
    /// The session's entry in the server-wide table (kept alive with the session).
    pub(super) channel: Option<Arc<Known>>,
    /// A re-authentication in progress (MS-SMB2 3.3.5.5.3): the exchange's state, while
    /// `auth` keeps the session's keys and the session keeps serving.
    pub(super) reauth: Option<Auth>,
}

impl Session {
    pub(super) fn new(auth: Auth, preauth: PreauthHash) -> Self {
        Self {
            auth,
            preauth,
            trees: HashMap::new(),
            opens: HashMap::new(),
            token: None,
            encryptor: None,
            encrypt_data: false,
            channel: None,
            reauth: None,
        }
    }

    /// The signing key, once the session has authenticated.
    pub(super) fn signer(&self) -> Option<&Signer> {
        match &self.auth {
            Auth::Valid(signer) => Some(signer),
            _ => None,
        }
    }
}

/// A SESSION_SETUP waiting for the DC.
#[derive(Debug)]
pub(super) struct PendingLogon {
    /// The AUTHENTICATE's request header (its session id is the session's).
    header: Header,
    spnego: SpnegoNtlmPending,
    /// The request's `PreviousSessionId`.
    previous: u64,
    /// The logon re-authenticates an established session.
    reauth: bool,
}

/// How the first token of an exchange was taken.
pub(super) enum Started {
    /// Kerberos: done in one leg.
    Kerberos(KerberosLogon),
    /// NTLMSSP: the exchange's next state and the token to answer with.
    Ntlm(Auth, Vec<u8>),
}

/// An AP-REQ accepted.
pub(super) struct KerberosLogon {
    ctx: SecurityContext,
    /// The last SPNEGO token (with the AP-REP).
    pub(super) reply: Vec<u8>,
    pub(super) client: String,
    /// Who the PAC says the client is; `None` without a PAC this server can read.
    pub(super) identity: Option<LogonIdentity>,
}

/// Where an NTLMSSP leg after the first leads.
pub(super) enum NtlmLeg {
    /// Another round trip: the next state and the token to answer with.
    More(Auth, Vec<u8>),
    /// The AUTHENTICATE_MESSAGE, read, for the DC to verify (or anonymous).
    Authenticate(SpnegoNtlmPending),
}

/// MS-SMB2 3.3.5.5.3: the status a refused GSS token is answered with. A malformed
/// NTLMv2 response is STATUS_INVALID_PARAMETER, as Windows and Samba answer it; anything
/// else is a failed logon.
pub(super) fn refused(e: &GssError) -> NtStatus {
    match e {
        GssError::Ntlm(NtlmError::MalformedClientChallenge(_)) => NtStatus::INVALID_PARAMETER,
        _ => NtStatus::LOGON_FAILURE,
    }
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.5: the first leg creates the session and answers with the NTLM
    /// CHALLENGE (or, with Kerberos, the AP-REP); the NTLM AUTHENTICATE goes to the DC.
    /// A SESSION_SETUP on an established session re-authenticates it.
    pub(super) fn session_setup(&mut self, header: &Header, msg: &[u8]) -> Result<Step, SmbError> {
        let (_, req) = SessionSetupRequest::from_message(msg)?;
        let token = &req.security_buffer;
        if req.flags & SESSION_FLAG_BINDING != 0 {
            return Ok(Step::Reply(Some(self.refuse_binding(header))));
        }
        // MS-SMB2 3.3.5.5 (1, 2): a server that requires encryption refuses a connection
        // that cannot encrypt before any logon.
        if self.config.encrypt_data && self.crypto.cipher.is_none() {
            // At debug: a peer could send these without end.
            tracing::debug!(
                dialect = ?self.dialect,
                "SMB session refused: this server requires encryption (Smb\\EncryptData) and the client cannot encrypt (SMB 2.x, or no common cipher)"
            );
            return Ok(Step::Reply(Some(
                self.error(header, NtStatus::ACCESS_DENIED),
            )));
        }
        let established = self.signer(header.session_id).is_some();
        let step = if header.session_id == 0 {
            self.first_leg(header, msg, token, req.previous_session_id)
                .map(|out| Step::Reply(Some(out)))
        } else if established {
            return Ok(self.reauthenticate(header, token));
        } else {
            self.next_leg(header, msg, token, req.previous_session_id)
        };
        Ok(step.unwrap_or_else(|status| Step::Reply(Some(self.error(header, status)))))
    }

    /// A SESSION_SETUP without a session id: a new session.
    pub(super) fn first_leg(
        &mut self,
        header: &Header,
        msg: &[u8],
        token: &[u8],
        previous: u64,
    ) -> Result<Vec<u8>, NtStatus> {
        if self.sessions.len() >= MAX_SESSIONS {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        let (auth, out) = match self.start_auth(token)? {
            Started::Kerberos(logon) => {
                return Ok(self.kerberos_session(header, msg, logon, previous));
            }
            Started::Ntlm(auth, out) => (auth, out),
        };
        let id = binding::new_session_id();
        let mut session = Session::new(auth, self.preauth.clone());
        session.channel = Some(binding::register(id, self.channel(), None, None));
        let reply = self.more_processing(header, id, &mut session, msg, out);
        self.sessions.insert(id, session);
        Ok(reply)
    }

    /// Takes the first token of an exchange: Kerberos when the client prefers it and
    /// this server has a keytab; NTLMSSP otherwise, or when the AP-REQ fails and the
    /// client also offered NTLMSSP.
    pub(super) fn start_auth(&self, token: &[u8]) -> Result<Started, NtStatus> {
        if spnego::offers_kerberos_first(token)
            && let Some(logon) = self.kerberos_accept(token)
        {
            return Ok(Started::Kerberos(logon));
        }
        let nonces = ServerNonces::fresh().map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        match SpnegoNtlmAcceptor::accept(token, &self.config.identity, nonces) {
            Ok((acceptor, out)) => Ok(Started::Ntlm(Auth::Challenged(acceptor), out)),
            Err(GssError::WrongMechanism) => SpnegoNtlmSelected::select(token)
                .map(|(selected, out)| Started::Ntlm(Auth::Selected(selected), out))
                .map_err(|_| NtStatus::LOGON_FAILURE),
            Err(e) => {
                tracing::debug!(error = %e, "an SPNEGO first token refused");
                Err(refused(&e))
            }
        }
    }

    /// An NTLMSSP leg after the first, from the exchange's state `state`.
    pub(super) fn ntlm_leg(&self, state: Auth, token: &[u8]) -> Result<NtlmLeg, NtStatus> {
        match state {
            // The NEGOTIATE_MESSAGE after NTLMSSP was selected: answer with the CHALLENGE.
            Auth::Selected(selected) => {
                let nonces = ServerNonces::fresh().map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
                let (acceptor, out) = selected
                    .negotiate(token, &self.config.identity, nonces)
                    .map_err(|e| refused(&e))?;
                Ok(NtlmLeg::More(Auth::Challenged(acceptor), out))
            }
            // The AUTHENTICATE_MESSAGE: the DC must verify it.
            Auth::Challenged(acceptor) => acceptor
                .authenticate(token)
                .map(NtlmLeg::Authenticate)
                .map_err(|e| {
                    tracing::debug!(error = %e, "an NTLM AUTHENTICATE refused");
                    refused(&e)
                }),
            // Nothing is left to take: the exchange is over (or with the DC).
            Auth::Verifying | Auth::Valid(_) => Err(NtStatus::REQUEST_NOT_ACCEPTED),
        }
    }

    /// A SESSION_SETUP continuing the exchange of new session `header.session_id`; a
    /// failure ends the session.
    pub(super) fn next_leg(
        &mut self,
        header: &Header,
        msg: &[u8],
        token: &[u8],
        previous: u64,
    ) -> Result<Step, NtStatus> {
        let id = header.session_id;
        let mut session = self
            .sessions
            .remove(&id)
            .ok_or(NtStatus::USER_SESSION_DELETED)?;
        let state = std::mem::replace(&mut session.auth, Auth::Verifying);
        if matches!(state, Auth::Challenged(_)) && self.dialect == Some(Dialect::SMB311) {
            session.preauth.update(msg);
        }
        match self.ntlm_leg(state, token)? {
            NtlmLeg::More(auth, out) => {
                session.auth = auth;
                let reply = self.more_processing(header, id, &mut session, msg, out);
                self.sessions.insert(id, session);
                Ok(Step::Reply(Some(reply)))
            }
            NtlmLeg::Authenticate(spnego) if spnego.logon().is_anonymous() => {
                tracing::info!(
                    "an anonymous logon refused: this server serves no anonymous sessions"
                );
                Err(NtStatus::LOGON_FAILURE)
            }
            NtlmLeg::Authenticate(spnego) => {
                // Parked until the DC answers (resume_logon); the session serves nothing.
                self.sessions.insert(id, session);
                Ok(self.verify(header, spnego, previous, false))
            }
        }
    }

    /// Parks the SESSION_SETUP until the DC has verified its AUTHENTICATE_MESSAGE.
    pub(super) fn verify(
        &mut self,
        header: &Header,
        spnego: SpnegoNtlmPending,
        previous: u64,
        reauth: bool,
    ) -> Step {
        let logon = NetworkLogon::from_ntlm(spnego.logon());
        self.pending = Some(PendingLogon {
            header: header.clone(),
            spnego,
            previous,
            reauth,
        });
        Step::Logon(logon)
    }

    /// A SESSION_SETUP response carrying `token` for session `id`.
    pub(super) fn setup_reply(
        &self,
        header: &Header,
        id: u64,
        token: Vec<u8>,
        status: NtStatus,
    ) -> Vec<u8> {
        let response_header = Header {
            session_id: id,
            ..header.clone()
        };
        // MS-SMB2 3.3.5.5.3: a session set up on a server that requires encryption is
        // told so.
        let session_flags = if status == NtStatus::SUCCESS && self.config.encrypt_data {
            SessionFlags::ENCRYPT_DATA
        } else {
            SessionFlags::empty()
        };
        let resp = SessionSetupResponse {
            session_flags,
            security_buffer: token,
        };
        self.reply(&response_header, &resp, status)
    }

    /// A STATUS_MORE_PROCESSING_REQUIRED reply carrying `token` for session `id`, with the
    /// request and the reply added to the session's pre-authentication hash (3.1.1).
    pub(super) fn more_processing(
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
    /// (and its PAC's signatures). `None` when this server has no keytab or the AP-REQ
    /// is refused (the caller then tries NTLMSSP, if the client offered it).
    fn kerberos_accept(&self, token: &[u8]) -> Option<KerberosLogon> {
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
        let identity = accepted.pac.as_ref().and_then(|pac| {
            let groups = pac.group_sids().ok()?.into_iter().map(|g| g.sid).collect();
            LogonIdentity::from_validation(&pac.logon_info().sam, groups)
        });
        Some(KerberosLogon {
            ctx,
            reply,
            client: accepted.client.to_string(),
            identity,
        })
    }

    /// A new session from an accepted AP-REQ: its keys are the context's, and the final
    /// response carries the AP-REP, signed.
    fn kerberos_session(
        &mut self,
        header: &Header,
        msg: &[u8],
        logon: KerberosLogon,
        previous: u64,
    ) -> Vec<u8> {
        let mut preauth = self.preauth.clone();
        if self.dialect == Some(Dialect::SMB311) {
            preauth.update(msg);
        }
        let (signer, encryptor) = self.session_keys(logon.ctx.session_key().as_bytes(), &preauth);
        let id = binding::new_session_id();
        tracing::info!(user = %logon.client, session_id = id, cipher = ?encryptor.as_ref().map(Encryptor::cipher), "SMB session established (Kerberos)");
        let mut session = Session::new(Auth::Valid(signer), preauth);
        session.encryptor = encryptor;
        session.encrypt_data = self.config.encrypt_data;
        let user_sid = logon.identity.as_ref().map(|i| i.user_sid.clone());
        session.channel = Some(binding::register(
            id,
            self.channel(),
            session.signer().cloned(),
            self.owner(user_sid.as_ref()),
        ));
        session.token = logon.identity.and_then(|identity| self.map_token(identity));
        self.sessions.insert(id, session);
        if let Some(user) = &user_sid {
            self.replace_previous(previous, id, user);
        }
        self.setup_reply(header, id, logon.reply, NtStatus::SUCCESS)
    }

    /// MS-SMB2 3.3.5.5: a SESSION_SETUP binding a session to this connection: refused
    /// (see `binding`), signed with the session's key where the session is known, as
    /// the client verifies a signing session's answers.
    fn refuse_binding(&self, header: &Header) -> Vec<u8> {
        let signed = header.flags.contains(HeaderFlags::SIGNED);
        let (status, signer) = binding::refuse_binding(header.session_id, self.channel(), signed);
        tracing::debug!(%status, "a channel binding refused");
        let mut response = self.response_header(header, status);
        let mut message = ErrorResponse::default().to_message(&response);
        if let Some(signer) = signer {
            signer.sign(&mut message);
        } else if signed {
            response.flags |= HeaderFlags::SIGNED;
            message = ErrorResponse::default().to_message(&response);
        }
        message
    }

    /// This connection as a session set up on it is known server-wide: its dialect,
    /// signing algorithm and cipher.
    pub(super) fn channel(&self) -> Channel {
        let dialect = self.dialect.unwrap_or(Dialect::SMB202);
        Channel {
            dialect,
            signing: if dialect.is_smb3() {
                self.crypto.signing
            } else {
                SigningAlgorithm::HMAC_SHA256
            },
            cipher: self.crypto.cipher,
        }
    }

    /// Finishes the SESSION_SETUP parked by [`Step::Logon`] with the DC's verdict: the
    /// reply, or `None` when no logon is parked.
    pub fn resume_logon(&mut self, verdict: Result<LogonOutcome, String>) -> Option<Vec<u8>> {
        let pending = self.pending.take()?;
        let before = self.holdings();
        let reply = self.finish_logon(pending, verdict);
        // A refused logon removes its session: the statistics follow.
        crate::server::stats::ServerStats::global().held(before, self.holdings());
        // An NTLM logon shows in the server's session table as soon as it is established.
        self.record_activity();
        Some(reply)
    }

    pub(super) fn finish_logon(
        &mut self,
        PendingLogon {
            header,
            spnego,
            previous,
            reauth,
        }: PendingLogon,
        verdict: Result<LogonOutcome, String>,
    ) -> Vec<u8> {
        let session_id = header.session_id;
        let verified = Self::verified(spnego, verdict);
        if reauth {
            return match verified {
                Ok((info, _, token)) => {
                    let user = logon_name(&info);
                    tracing::info!(%user, session_id, "SMB session re-authenticated");
                    self.reauthenticated(
                        session_id,
                        LogonIdentity::from_validation(&info, Vec::new()),
                    );
                    self.setup_reply(&header, session_id, token, NtStatus::SUCCESS)
                }
                Err(status) => self.reauth_failed(&header, status),
            };
        }
        let Some(mut session) = self.sessions.remove(&session_id) else {
            return self.error(&header, NtStatus::USER_SESSION_DELETED);
        };
        let (info, ntlm, token) = match verified {
            Ok(done) => done,
            Err(status) => return self.error(&header, status),
        };
        let (signer, encryptor) =
            self.session_keys(ntlm.exported_session_key().as_bytes(), &session.preauth);
        let user = logon_name(&info);
        tracing::info!(%user, session_id, cipher = ?encryptor.as_ref().map(Encryptor::cipher), "SMB session established");
        let user_sid = info.user_sid();
        session.channel = Some(binding::register(
            session_id,
            self.channel(),
            Some(signer.clone()),
            self.owner(user_sid.as_ref()),
        ));
        session.auth = Auth::Valid(signer);
        session.encryptor = encryptor;
        session.encrypt_data = self.config.encrypt_data;
        session.token =
            LogonIdentity::from_validation(&info, Vec::new()).and_then(|id| self.map_token(id));
        self.sessions.insert(session_id, session);
        if let Some(user) = &user_sid {
            self.replace_previous(previous, session_id, user);
        }
        // MS-SMB2 3.3.5.5.3: the final response is signed with the new key.
        self.setup_reply(&header, session_id, token, NtStatus::SUCCESS)
    }

    /// The DC's verdict on an NTLM logon, checked: the validation information, the NTLM
    /// session and the last SPNEGO token; or the status the SESSION_SETUP is refused with.
    fn verified(
        spnego: SpnegoNtlmPending,
        verdict: Result<LogonOutcome, String>,
    ) -> Result<(Box<ValidationSamInfo2>, NtlmSession, Vec<u8>), NtStatus> {
        let info = match verdict {
            Ok(LogonOutcome::Success(info)) => info,
            Ok(LogonOutcome::Refused(status)) => {
                // Logged for the administrator, with what the client claimed cut short and
                // its control characters escaped: a client cannot write long or forged
                // lines into the log.
                let who = spnego.logon();
                tracing::info!(
                    user = %bounded(&who.user),
                    domain = %bounded(&who.domain),
                    workstation = %bounded(&who.workstation),
                    %status,
                    "SMB logon refused by the DC"
                );
                // MS-SMB2 3.3.5.5.3: a bad name or password is STATUS_LOGON_FAILURE.
                return Err(match status {
                    NtStatus::WRONG_PASSWORD | NtStatus::NO_SUCH_USER => NtStatus::LOGON_FAILURE,
                    other => other,
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "the DC could not verify a logon");
                return Err(NtStatus::NO_LOGON_SERVERS);
            }
        };
        // A guest logon, or one without a session key, would give a signed session whose
        // key anyone can compute: refused, as Windows refuses guest when signing is required.
        if info.user_flags.contains(UserFlags::GUEST) || info.user_session_key == [0; 16] {
            tracing::warn!(
                user = %info.effective_name.as_str(),
                "the DC accepted a logon as guest or without a session key; refused"
            );
            return Err(NtStatus::LOGON_FAILURE);
        }
        match spnego.complete(&info.user_session_key) {
            Ok((ntlm, token)) => Ok((info, ntlm, token)),
            Err(e) => {
                // The DC said yes but the client's MIC does not verify under its key:
                // tampering, or a key the DC and the client do not share.
                tracing::warn!(error = %e, "the session key does not agree with the client's MIC");
                Err(NtStatus::LOGON_FAILURE)
            }
        }
    }

    /// MS-SMB2 3.3.5.5.3: the session's signing key (with the connection's signing
    /// algorithm) and, when the connection negotiated a cipher, its encryption keys, from
    /// the GSS session key and (3.1.1) the session's pre-authentication hash.
    pub(super) fn session_keys(
        &self,
        session_key: &[u8],
        preauth: &PreauthHash,
    ) -> (Signer, Option<Encryptor>) {
        let dialect = self.dialect.unwrap_or_default();
        let signer = Signer::derive_with(dialect, self.crypto.signing, session_key, preauth);
        let encryptor = self.crypto.cipher.and_then(|cipher| {
            // The nonce prefix only keeps this side's nonces apart from the client's
            // (which use another key anyway); the counter makes them unique, so a failed
            // random source (which getrandom does not report on Linux once seeded)
            // weakens nothing.
            let prefix = crate::random::<4>().unwrap_or([0; 4]);
            Encryptor::derive(dialect, cipher, session_key, preauth, Side::Server, prefix)
                .inspect_err(|e| tracing::warn!(error = %e, "no encryption keys for a session"))
                .ok()
        });
        (signer, encryptor)
    }

    /// The Unix token for a logon, through the configured mapper; `None` (logged) when
    /// there is no mapper or it has no ids for the user.
    pub(super) fn map_token(&self, logon: LogonIdentity) -> Option<Arc<UserToken>> {
        let mapper = self.config.tokens.as_ref()?;
        match mapper.token(&logon) {
            Ok(token) => Some(Arc::new(token)),
            Err(e) => {
                tracing::warn!(user = %logon.user, domain = %logon.domain, error = %e, "no Unix ids for this logon: disk shares refused");
                None
            }
        }
    }

    pub(super) fn logoff(&mut self, header: &Header) -> Result<Vec<u8>, Refusal> {
        self.session(header)?;
        // The reply is signed with the session's key, then the session goes.
        let out = self.reply(header, &LogoffResponse, NtStatus::SUCCESS);
        self.end_session(header.session_id);
        Ok(out)
    }

    /// Session `id` ends (LOGOFF, or a newer session replaced it): its waiting
    /// CHANGE_NOTIFYs end with STATUS_NOTIFY_CLEANUP and its waiting LOCKs with
    /// STATUS_RANGE_NOT_LOCKED (sent before the reply, signed while the session still has
    /// its key), its opens close (the durable ones are kept for a
    /// reconnect) and its other waiting requests are dropped.
    pub(super) fn end_session(&mut self, id: u64) {
        self.cleanup_waiting(|p| p.header().session_id == id);
        if let Some(session) = self.sessions.remove(&id) {
            Self::release(session);
        }
        self.drop_pending(id, None);
    }

    /// What the server-wide session table records about who owns a session set up here.
    pub(super) fn owner(&self, user_sid: Option<&Sid>) -> Option<binding::Owner> {
        Some(binding::Owner {
            user_sid: user_sid?.clone(),
            notify: self.events.clone(),
        })
    }

    /// MS-SMB2 3.3.5.5.3: a session set up with a `PreviousSessionId` of the same user
    /// (a client reconnecting after its connection failed) ends that session, wherever
    /// it is; its durable opens wait for this client's reconnects.
    fn replace_previous(&self, previous: u64, current: u64, user: &Sid) {
        if previous == 0 || previous == current {
            return;
        }
        let Some(notify) = binding::previous_session(previous, user) else {
            return;
        };
        durable::session_going(previous);
        if notify.try_send(Event::SessionGone(previous)).is_err() {
            tracing::info!(
                session_id = previous,
                "a replaced session's connection is not taking events; it ends with that connection"
            );
        }
    }
}

/// `DOMAIN\user` as the DC names a logon it verified, for the log.
fn logon_name(info: &ValidationSamInfo2) -> String {
    format!(
        "{}\\{}",
        info.logon_domain_name.as_str(),
        info.effective_name.as_str()
    )
}

/// The longest client-supplied name written to the log, in characters.
const LOGGED_NAME: usize = 64;

/// `name` as it may appear in the log: at most [`LOGGED_NAME`] characters (then `...`),
/// control characters escaped.
fn bounded(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().take(LOGGED_NAME) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if name.chars().count() > LOGGED_NAME {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_reach_the_log_short_and_on_one_line() {
        assert_eq!(bounded("zoë"), "zoë");
        assert_eq!(bounded("a\nINFO forged line"), "a\\nINFO forged line");
        let long = "x".repeat(10_000);
        assert_eq!(bounded(&long), format!("{}...", "x".repeat(LOGGED_NAME)));
    }
}
