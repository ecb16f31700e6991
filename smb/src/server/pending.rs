//! Requests answered later (MS-SMB2 3.3.4.2 interim responses, 3.3.5.16 CANCEL), the
//! messages the server sends unasked (oplock and lease break notifications, 3.3.4.6 and
//! 3.3.4.7), and the acknowledgments of those breaks (3.3.5.22).
//!
//! A CREATE that must wait for another open's break is answered STATUS_PENDING at once
//! (with an AsyncId) and kept here; it is tried again when the file's break ends (an
//! [`Event::Wake`]) or at its deadline, and then answered in the async form. Compound
//! members after it wait with it and run once it is answered (as smbd does).
//!
//! Bounds: at most [`MAX_PENDING`] requests wait per connection (more are refused with
//! STATUS_INSUFFICIENT_RESOURCES, MS-SMB2 3.3.4.2); each has a deadline (the break
//! timeout); a session's or tree's waiting requests go with it.

use std::sync::Arc;
use std::time::Instant;

use adjoin_rpc::ntstatus::NtStatus;

use super::open_files::{FileKey, OpenFiles};
use super::oplock::Event;
use super::share::DiskShare;
use super::{Open, Refusal, ServerConnection};
use crate::proto::oplock::{LeaseBreakAck, LeaseBreakNotification, OplockBreak};
use crate::proto::{
    Body, CreateRequest, Dialect, ErrorResponse, FileId, Header, HeaderFlags, LockRequest,
};

/// Requests one connection may have waiting.
pub(super) const MAX_PENDING: usize = 64;

/// Events one connection's queue holds (breaks, wake-ups): a connection that does not
/// keep up loses notifications, never blocks the sender (see `oplock`).
pub(super) const EVENT_QUEUE: usize = 256;

/// A request waiting for something.
#[derive(Debug)]
pub(super) struct Pending {
    /// The request's header as its final response answers it: async form, no credits
    /// (MS-SMB2 3.3.4.3).
    header: Header,
    what: Waiting,
    deadline: Instant,
    /// The compound members after this one: they run once it is answered.
    rest: Option<(Arc<Vec<u8>>, usize)>,
}

/// What a pending request waits for.
#[derive(Debug)]
pub(super) enum Waiting {
    /// A CREATE, for the breaks on `key` to end.
    Create {
        req: Box<CreateRequest>,
        share: Arc<DiskShare>,
        key: FileKey,
    },
    /// A SET_INFO (rename, delete), for the handle breaks on `key` to end.
    SetInfo {
        msg: Vec<u8>,
        key: FileKey,
        /// The related-operation file when it went async (the rest of its compound
        /// goes on with it).
        chain_file: Option<Result<FileId, NtStatus>>,
    },
    /// A CHANGE_NOTIFY, for a change under `watch` (`notify`); `len` is its
    /// OutputBufferLength.
    Notify { watch: u64, len: u32 },
    /// A LOCK that may wait (no FAIL_IMMEDIATELY), for the conflicting lock on `key` to
    /// go; `owner` is the waiting open's id in the server-wide table.
    Lock {
        req: Box<LockRequest>,
        key: FileKey,
        owner: u64,
    },
}

impl Waiting {
    /// The file whose breaks this waits for.
    fn key(&self) -> Option<FileKey> {
        match self {
            Self::Create { key, .. } | Self::SetInfo { key, .. } | Self::Lock { key, .. } => {
                Some(*key)
            }
            Self::Notify { .. } => None,
        }
    }
}

impl Pending {
    /// The request's header (async form).
    pub(super) fn header(&self) -> &Header {
        &self.header
    }

    /// The watch a waiting CHANGE_NOTIFY waits on.
    pub(super) fn notify_watch(&self) -> Option<u64> {
        match self.what {
            Waiting::Notify { watch, .. } => Some(watch),
            _ => None,
        }
    }

    /// The open (its server-wide table id) a waiting LOCK would lock for.
    pub(super) fn lock_owner(&self) -> Option<u64> {
        match self.what {
            Waiting::Lock { owner, .. } => Some(owner),
            _ => None,
        }
    }

    /// What the request is answered when its open (or tree, or session) closes under
    /// it: STATUS_NOTIFY_CLEANUP for a CHANGE_NOTIFY, STATUS_RANGE_NOT_LOCKED for a
    /// LOCK (as Windows and smbd answer); the others are dropped unanswered.
    fn closing_status(&self) -> Option<NtStatus> {
        match self.what {
            Waiting::Notify { .. } => Some(NtStatus::NOTIFY_CLEANUP),
            Waiting::Lock { .. } => Some(NtStatus::RANGE_NOT_LOCKED),
            Waiting::Create { .. } | Waiting::SetInfo { .. } => None,
        }
    }
}

/// The compound members left to run after a pending one was answered.
#[derive(Debug)]
pub struct Resume {
    /// The compound.
    pub payload: Arc<Vec<u8>>,
    /// The member to run next.
    pub next: usize,
    chain: (u64, u32),
    chain_file: Option<Result<FileId, NtStatus>>,
}

/// A message for the client, and the compound members to run after it.
#[derive(Debug)]
pub struct Outgoing {
    /// The message, ready to frame (signed or sealed as it must be).
    pub message: Vec<u8>,
    /// The rest of a compound whose pending member this answers.
    pub resume: Option<Resume>,
}

impl ServerConnection {
    /// The queue other connections (and this one) send this connection's events to; the
    /// driver takes the receiving end once.
    pub fn take_events(&mut self) -> Option<tokio::sync::mpsc::Receiver<Event>> {
        self.events_rx.take()
    }

    /// Keeps `header`'s request until `deadline` (or until woken), answering it with an
    /// interim STATUS_PENDING response now.
    pub(super) fn go_async(
        &mut self,
        header: &Header,
        what: Waiting,
        deadline: Instant,
    ) -> Result<Vec<u8>, Refusal> {
        if self.waiting.len() >= MAX_PENDING {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        self.next_async += 1;
        let async_id = self.next_async;
        let interim = self.interim(header, async_id);
        let mut header = header.clone();
        header.flags |= HeaderFlags::ASYNC_COMMAND;
        header.async_id = async_id;
        header.credits = 0;
        self.waiting.insert(
            async_id,
            Pending {
                header,
                what,
                deadline,
                rest: None,
            },
        );
        self.went_async = Some(async_id);
        Ok(interim)
    }

    /// MS-SMB2 3.3.4.2: STATUS_PENDING in the async form, granting the request's
    /// credits; not signed (sealed when the session encrypts).
    fn interim(&self, request: &Header, async_id: u64) -> Vec<u8> {
        let mut header = self.response_header(request, NtStatus::PENDING);
        header.flags |= HeaderFlags::ASYNC_COMMAND;
        header.async_id = async_id;
        let msg = ErrorResponse::default().to_message(&header);
        match self.sessions.get(&header.session_id) {
            Some(session) if self.encrypts(&header, session) => self.protect(&header, msg),
            _ => msg,
        }
    }

    /// The request that went async while the last message was handled, if any (the
    /// driver then hands it the rest of the compound).
    pub fn take_went_async(&mut self) -> Option<u64> {
        self.went_async.take()
    }

    /// The members of a compound after the one that went async (`async_id`) wait for it.
    pub fn defer_rest(&mut self, async_id: u64, payload: Arc<Vec<u8>>, next: usize) {
        if let Some(p) = self.waiting.get_mut(&async_id) {
            p.rest = Some((payload, next));
        }
    }

    /// Sets the related-operation state a deferred compound continues with.
    pub fn resume(&mut self, resume: &Resume) {
        self.chain = Some(resume.chain);
        self.chain_file = resume.chain_file;
    }

    /// When the earliest waiting request is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.waiting.values().map(|p| p.deadline).min()
    }

    /// Tries again the requests whose deadline passed.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Outgoing> {
        let due: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        due.into_iter().filter_map(|id| self.retry(id)).collect()
    }

    /// Handles an event from the server: a break to notify the client of, or a file whose
    /// breaks ended.
    pub fn on_event(&mut self, event: Event) -> Vec<Outgoing> {
        match event {
            Event::Wake(key) => {
                let ids: Vec<u64> = self
                    .waiting
                    .iter()
                    .filter(|(_, p)| p.what.key() == Some(key))
                    .map(|(id, _)| *id)
                    .collect();
                ids.into_iter().filter_map(|id| self.retry(id)).collect()
            }
            // The oldest request waiting on the watch takes what it buffered.
            Event::Notify(watch) => self
                .waiting
                .iter()
                .filter(|(_, p)| p.notify_watch() == Some(watch))
                .map(|(id, _)| *id)
                .min()
                .and_then(|id| self.retry(id))
                .into_iter()
                .collect(),
            Event::SessionGone(session_id) => {
                self.end_session(session_id);
                tracing::debug!(session_id, "session replaced by a reconnect; ended");
                std::mem::take(&mut self.before_reply)
                    .into_iter()
                    .map(|message| Outgoing {
                        message,
                        resume: None,
                    })
                    .collect()
            }
            Event::OplockBreak {
                session_id,
                file_id,
                level,
            } => {
                let open = self
                    .sessions
                    .get(&session_id)
                    .and_then(|s| s.opens.get(&file_id.volatile));
                let Some(Open::File(open)) = open else {
                    return Vec::new();
                };
                let tree_id = open.tree_id;
                let body = OplockBreak {
                    oplock_level: level,
                    file_id,
                };
                self.notification(session_id, tree_id, &body)
            }
            Event::LeaseBreak {
                session_id,
                key,
                epoch,
                flags,
                current,
                new,
            } => {
                let body = LeaseBreakNotification {
                    new_epoch: if self.dialect.is_some_and(|d| d >= Dialect::SMB300) {
                        epoch
                    } else {
                        0
                    },
                    flags,
                    lease_key: key,
                    current,
                    new,
                };
                self.notification(session_id, 0, &body)
            }
        }
    }

    /// MS-SMB2 3.3.4.6/3.3.4.7: a break notification: MessageId all ones, no session or
    /// tree, not signed; sealed with the open's session when that session (or the
    /// open's share) encrypts, or with one of this connection's sessions that encrypts.
    fn notification<B: Body>(&self, session_id: u64, tree_id: u32, body: &B) -> Vec<Outgoing> {
        let header = Header {
            command: B::COMMAND,
            flags: HeaderFlags::SERVER_TO_REDIR,
            message_id: u64::MAX,
            ..Header::default()
        };
        let msg = body.to_message(&header);
        // A lease break may come to another connection of the client than the open's:
        // there, a session that encrypts seals it.
        let (session_id, session) = match self.sessions.get(&session_id) {
            Some(session) => (session_id, Some(session)),
            None => self
                .sessions
                .iter()
                .find(|(_, s)| s.encrypt_data)
                .map_or((session_id, None), |(id, s)| (*id, Some(s))),
        };
        let message = match session {
            Some(session)
                if session.encrypt_data
                    || session
                        .trees
                        .get(&tree_id)
                        .is_some_and(|t| t.requires_encryption()) =>
            {
                match &session.encryptor {
                    Some(encryptor) => match encryptor.seal(session_id, &msg) {
                        Ok(sealed) => sealed,
                        Err(e) => {
                            tracing::error!(error = %e, "a break notification could not be encrypted");
                            return Vec::new();
                        }
                    },
                    None => msg,
                }
            }
            _ => msg,
        };
        vec![Outgoing {
            message,
            resume: None,
        }]
    }

    /// Tries pending request `id` again: its final answer, or nothing while it waits on.
    fn retry(&mut self, id: u64) -> Option<Outgoing> {
        let Pending {
            header, what, rest, ..
        } = self.waiting.remove(&id)?;
        // The answer, or what to wait for again and until when.
        let done: Result<Vec<u8>, (Waiting, Instant)> = match what {
            Waiting::Create { req, share, .. } => {
                self.chain_file = None;
                match self.create_file(&header, &req, Arc::clone(&share)) {
                    Ok(super::files::Created::Reply(message)) => Ok(message),
                    Ok(super::files::Created::Wait(deadline, key)) => {
                        Err((Waiting::Create { req, share, key }, deadline))
                    }
                    Err(refusal) => {
                        let status = refusal.status();
                        self.chain_file = Some(Err(status));
                        Ok(self.error(&header, status))
                    }
                }
            }
            Waiting::Notify { watch, len } => match self.notify_answer(&header, watch, len) {
                Some(message) => Ok(message),
                None => Err((Waiting::Notify { watch, len }, Self::notify_deadline())),
            },
            Waiting::Lock { req, .. } => match self.lock_now(&header, &req) {
                Ok(super::files::Locked::Reply(message)) => Ok(message),
                Ok(super::files::Locked::Wait { key, owner }) => Err((
                    Waiting::Lock { req, key, owner },
                    Instant::now() + super::files::LOCK_RETRY,
                )),
                Err(refusal) => Ok(self.error(&header, refusal.status())),
            },
            Waiting::SetInfo {
                msg, chain_file, ..
            } => {
                let done = match self.set_info_now(&header, &msg) {
                    Ok(super::query::SetInfoDone::Reply(message)) => Ok(message),
                    Ok(super::query::SetInfoDone::Wait(deadline, key)) => Err((
                        Waiting::SetInfo {
                            msg,
                            key,
                            chain_file,
                        },
                        deadline,
                    )),
                    Err(refusal) => Ok(self.error(&header, refusal.status())),
                };
                // The rest of its compound goes on with the file it went async with.
                if done.is_ok() {
                    self.chain_file = chain_file;
                }
                done
            }
        };
        match done {
            Err((what, deadline)) => {
                let pending = Pending {
                    header,
                    what,
                    deadline,
                    rest,
                };
                self.waiting.insert(id, pending);
                None
            }
            Ok(message) => {
                let resume = rest.map(|(payload, next)| Resume {
                    payload,
                    next,
                    chain: (header.session_id, header.tree_id),
                    chain_file: self.chain_file,
                });
                Some(Outgoing { message, resume })
            }
        }
    }

    /// MS-SMB2 3.3.5.16: a CANCEL names a waiting request by AsyncId (or, before its
    /// interim response, by MessageId); it is answered STATUS_CANCELLED. A CANCEL has no
    /// response of its own.
    pub(super) fn cancel(&mut self, header: &Header) -> Option<Outgoing> {
        let id = if header.flags.contains(HeaderFlags::ASYNC_COMMAND) {
            Some(header.async_id).filter(|id| self.waiting.contains_key(id))
        } else {
            self.waiting
                .iter()
                .find(|(_, p)| {
                    p.header.message_id == header.message_id
                        && p.header.session_id == header.session_id
                })
                .map(|(id, _)| *id)
        }?;
        let pending = self.waiting.remove(&id)?;
        if pending.header.session_id != header.session_id {
            self.waiting.insert(id, pending);
            return None;
        }
        let message = self.error(&pending.header, NtStatus::CANCELLED);
        let resume = pending.rest.map(|(payload, next)| Resume {
            payload,
            next,
            chain: (pending.header.session_id, pending.header.tree_id),
            chain_file: Some(Err(NtStatus::CANCELLED)),
        });
        Some(Outgoing { message, resume })
    }

    /// Answers the waiting requests `which` picks whose open is closing under them (see
    /// [`Pending::closing_status`]), before the reply to the request that closes it and
    /// while their session is still there to sign them.
    pub(super) fn cleanup_waiting(&mut self, which: impl Fn(&Pending) -> bool) {
        let mut ids: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, p)| p.closing_status().is_some() && which(p))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(p) = self.waiting.remove(&id)
                && let Some(status) = p.closing_status()
            {
                let message = self.error(p.header(), status);
                self.before_reply.push(message);
            }
        }
    }

    /// The messages to send before the reply to the request just handled.
    pub fn take_before_reply(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.before_reply)
    }

    /// Forgets the waiting requests of a session (LOGOFF) or of one of its trees.
    pub(super) fn drop_pending(&mut self, session_id: u64, tree_id: Option<u32>) {
        self.waiting.retain(|_, p| {
            p.header.session_id != session_id || tree_id.is_some_and(|t| t != p.header.tree_id)
        });
    }

    /// MS-SMB2 3.3.5.22: an oplock break acknowledgment (24 bytes) or a lease break
    /// acknowledgment (36 bytes).
    pub(super) fn oplock_break(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let size = msg
            .get(crate::proto::HEADER_LEN..crate::proto::HEADER_LEN + 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
        match size {
            24 => {
                let (_, ack) = OplockBreak::from_message(msg)?;
                let open = self.file(header, ack.file_id)?;
                let (key, table_id) = (open.key, open.table_id);
                let level = OpenFiles::global()
                    .ack_oplock(key, table_id, ack.oplock_level)
                    .map_err(Refusal::Status)?;
                let resp = OplockBreak {
                    oplock_level: level,
                    file_id: ack.file_id,
                };
                Ok(self.reply(header, &resp, NtStatus::SUCCESS))
            }
            36 => {
                let (_, ack) = LeaseBreakAck::from_message(msg)?;
                self.session(header)?;
                if self.dialect.is_none_or(|d| d < Dialect::SMB210) {
                    return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
                }
                let client = self.client.as_ref().map(|c| c.guid).unwrap_or_default();
                let state = OpenFiles::global()
                    .ack_lease(&client, &ack.lease_key, ack.state)
                    .map_err(Refusal::Status)?;
                let resp = LeaseBreakAck {
                    lease_key: ack.lease_key,
                    state,
                };
                Ok(self.reply(header, &resp, NtStatus::SUCCESS))
            }
            _ => Err(Refusal::Status(NtStatus::INVALID_PARAMETER)),
        }
    }
}
