//! Oplocks and leases (MS-SMB2 3.3.1.4 lease table, 3.3.4.6/3.3.4.7 breaks, 3.3.5.9.8
//! grants, 3.3.5.22 acknowledgments; the object-store side after MS-FSA 2.1.5.17): what
//! each open of a file may cache, which breaks a new open, a write or a close sets off, and
//! when an open has to wait for a break's acknowledgment.
//!
//! This is the per-file part of the server-wide [`OpenFiles`](super::open_files) table and
//! runs under its lock. It decides; it does no I/O. A break is an [`Event`] put on the
//! holding connection's queue ([`Notifier`]); that connection's core turns it into the
//! notification (signed or sealed with its own keys). A CREATE that must wait is told the
//! deadline; the connections waiting on a file are woken ([`Event::Wake`]) whenever one of
//! its breaks ends (acknowledged, the open closed, or the deadline passed).
//!
//! Bounds: a break not acknowledged within [`BREAK_TIMEOUT`] is taken as acknowledged at
//! the level it asked for (MS-SMB2 3.3.2.1's oplock break acknowledgment timer); each
//! connection's queue is bounded, and a break that does not fit is not lost: its
//! deadline still ends it. The waiters kept per file are bounded (`MAX_WAITERS`); a
//! waiter not kept still retries at its deadline.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use adjoin_rpc::ntstatus::NtStatus;

use crate::proto::FileId;
use crate::proto::oplock::{
    LEASE_BREAK_ACK_REQUIRED, LEASE_FLAG_BREAK_IN_PROGRESS, LEASE_FLAG_PARENT_LEASE_KEY_SET,
    LEASE_HANDLE, LEASE_READ, LEASE_WRITE, LeaseContext, OPLOCK_BATCH, OPLOCK_EXCLUSIVE, OPLOCK_II,
    OPLOCK_LEASE, OPLOCK_NONE,
};

/// How long a break waits for the client's acknowledgment.
pub const BREAK_TIMEOUT: Duration = Duration::from_secs(35);

/// Connections remembered as waiting on one file.
const MAX_WAITERS: usize = 256;

/// What a connection's core is told by the rest of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Send an oplock break notification for the open `file_id` of `session_id`.
    OplockBreak {
        /// The session the open belongs to (for encryption).
        session_id: u64,
        /// The open.
        file_id: FileId,
        /// The level broken to.
        level: u8,
    },
    /// Send a lease break notification.
    LeaseBreak {
        /// A session of the lease's last open (for encryption).
        session_id: u64,
        /// The lease.
        key: [u8; 16],
        /// `NewEpoch` (version 2 leases).
        epoch: u16,
        /// [`LEASE_BREAK_ACK_REQUIRED`] or nothing.
        flags: u32,
        /// What the client held.
        current: u32,
        /// What it may keep.
        new: u32,
    },
    /// A break on this file ended: CREATEs waiting on it try again.
    Wake(super::open_files::FileKey),
    /// A watched directory changed: a CHANGE_NOTIFY waiting on this watch is answered.
    Notify(u64),
    /// A newer session of its user replaced this session (MS-SMB2 3.3.5.5.3
    /// `PreviousSessionId`): it ends.
    SessionGone(u64),
}

/// A connection's event queue.
pub type Notifier = tokio::sync::mpsc::Sender<Event>;

/// Where an open's breaks go: its connection, and the ids its client knows it by.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The connection's queue.
    pub notify: Notifier,
    /// The open's session.
    pub session_id: u64,
    /// The open.
    pub file_id: FileId,
    /// The client's `ClientGuid` (leases are the client's, across its connections).
    pub client: [u8; 16],
}

impl Holder {
    fn send(&self, event: Event) {
        // A full queue (a client that does not read) loses the notification, not the
        // break: its deadline ends it.
        if self.notify.try_send(event).is_err() {
            tracing::debug!("a break notification did not fit its connection's queue");
        }
    }
}

/// The connections of each client (by `ClientGuid`), oldest first: a lease is the
/// client's, and its breaks go to the client's oldest connection still there
/// (MS-SMB2 3.3.4.7; smb2.lease.v2_complex1). A connection joins at NEGOTIATE and
/// leaves when it ends, so the table holds what is connected and nothing more.
fn clients() -> MutexGuard<'static, HashMap<[u8; 16], Vec<Notifier>>> {
    static CLIENTS: OnceLock<Mutex<HashMap<[u8; 16], Vec<Notifier>>>> = OnceLock::new();
    CLIENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// A connection of client `guid` negotiated a dialect with leases.
pub(super) fn client_connected(guid: [u8; 16], notify: &Notifier) {
    let mut clients = clients();
    let list = clients.entry(guid).or_default();
    list.retain(|n| !n.is_closed());
    if !list.iter().any(|n| n.same_channel(notify)) {
        list.push(notify.clone());
    }
}

/// That connection ended.
pub(super) fn client_gone(guid: [u8; 16], notify: &Notifier) {
    let mut clients = clients();
    if let Some(list) = clients.get_mut(&guid) {
        list.retain(|n| !n.same_channel(notify) && !n.is_closed());
        if list.is_empty() {
            clients.remove(&guid);
        }
    }
}

/// The oldest connection of client `guid` still there.
fn oldest_connection(guid: &[u8; 16]) -> Option<Notifier> {
    clients()
        .get(guid)?
        .iter()
        .find(|n| !n.is_closed())
        .cloned()
}

/// What a CREATE asks to cache.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// `RequestedOplockLevel`.
    pub level: u8,
    /// The lease context, when `level` is [`OPLOCK_LEASE`] and the dialect has leases.
    pub lease: Option<LeaseContext>,
}

/// What a CREATE was granted: the response's `OplockLevel` and lease context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Granted {
    /// `OplockLevel`.
    pub level: u8,
    /// The lease response context (same version as asked).
    pub lease: Option<LeaseContext>,
}

/// One oplock held by an open.
#[derive(Debug)]
struct Oplock {
    open: u64,
    /// What the open holds; while a break is out, still the level it had.
    level: u8,
    /// Breaking to this level, acknowledged by this time.
    breaking: Option<(u8, Instant)>,
    holder: Holder,
}

/// A lease break under way (MS-SMB2 3.3.1.4 `Lease.Breaking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Breaking {
    /// What the notification offered: the acknowledgment keeps at most this.
    requested: u32,
    /// What the break has to reach. A conflict while the break is out lowers it
    /// without a further notification; the acknowledgment then sets off the next step.
    required: u32,
    deadline: Instant,
}

/// One lease on the file: the client's, shared by its opens with the same key.
#[derive(Debug)]
struct Lease {
    client: [u8; 16],
    key: [u8; 16],
    state: u32,
    breaking: Option<Breaking>,
    /// Version 2: the epoch, advanced at each state change; `None` for version 1.
    epoch: Option<u16>,
    parent: Option<[u8; 16]>,
    /// The lease's opens, oldest first, with where each came from: a break goes to the
    /// oldest connection still there (MS-SMB2 3.3.4.7).
    opens: Vec<(u64, Holder)>,
}

impl Lease {
    /// The lease as a CREATE response reports it.
    fn granted(&self) -> Granted {
        let mut flags = 0;
        if self.breaking.is_some() {
            flags |= LEASE_FLAG_BREAK_IN_PROGRESS;
        }
        if self.parent.is_some() {
            flags |= LEASE_FLAG_PARENT_LEASE_KEY_SET;
        }
        Granted {
            level: OPLOCK_LEASE,
            lease: Some(LeaseContext {
                key: self.key,
                state: self.state,
                flags,
                v2: self.epoch.map(|e| (self.parent.unwrap_or_default(), e)),
            }),
        }
    }

    fn holds(&self, open: u64) -> bool {
        self.opens.iter().any(|(id, _)| *id == open)
    }

    /// Sends a break notification from `current` to `new`: to the client's oldest
    /// connection, else to the connection of the lease's oldest open still there.
    fn notify(&self, current: u32, new: u32, flags: u32) {
        let holder = self
            .opens
            .iter()
            .map(|(_, h)| h)
            .find(|h| !h.notify.is_closed())
            .or_else(|| self.opens.first().map(|(_, h)| h));
        let Some(holder) = holder else {
            return;
        };
        let mut target = holder.clone();
        if let Some(oldest) = oldest_connection(&self.client) {
            target.notify = oldest;
        }
        target.send(Event::LeaseBreak {
            session_id: holder.session_id,
            key: self.key,
            epoch: self.epoch.unwrap_or(0),
            flags,
            current,
            new,
        });
    }
}

/// The file's caching state: the oplocks and leases of its opens, and who waits.
#[derive(Debug, Default)]
pub(super) struct Caching {
    oplocks: Vec<Oplock>,
    leases: Vec<Lease>,
    waiters: Vec<Notifier>,
}

/// An open about to be admitted, as caching sees it.
#[derive(Debug)]
pub(super) struct Opening<'a> {
    /// The access asked (for "stat opens", which break nothing).
    pub(super) access: u32,
    /// The disposition truncates (overwrite, supersede): read caching goes too.
    pub(super) truncates: bool,
    /// The open is a directory (no oplocks; no leases yet).
    pub(super) directory: bool,
    /// The open created the file (a stat open that creates it may get an oplock).
    pub(super) created: bool,
    /// The open deletes the file when it closes: other leases' handle caching goes
    /// too, as for a rename or a disposition set.
    pub(super) deletes: bool,
    /// Not a retry after waiting for a break (a retry also waits for breaks that
    /// are out on leases it would not break further).
    pub(super) first_attempt: bool,
    pub(super) wanted: &'a Wanted,
    pub(super) holder: &'a Holder,
}

/// What stands between a CREATE and its open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Admit it.
    Proceed,
    /// Breaks are out: try again when woken, or at this time at the latest.
    Wait(Instant),
}

const SYNCHRONIZE: u32 = 0x0010_0000;
const READ_ATTRIBUTES: u32 = 0x0000_0080;
const WRITE_ATTRIBUTES: u32 = 0x0000_0100;
const READ_CONTROL: u32 = 0x0002_0000;

/// An open that only reads or writes attributes breaks no oplock.
pub(super) fn oplock_stat_open(access: u32) -> bool {
    access & !(SYNCHRONIZE | READ_ATTRIBUTES | WRITE_ATTRIBUTES) == 0
}

/// ... and no lease (reading the security descriptor neither).
fn lease_stat_open(access: u32) -> bool {
    access & !(SYNCHRONIZE | READ_ATTRIBUTES | WRITE_ATTRIBUTES | READ_CONTROL) == 0
}

/// MS-SMB2 3.3.5.9.8: the lease states a server grants are R, RH, RW and RWH; anything
/// without read caching is none.
fn valid_lease_state(state: u32) -> u32 {
    let state = state & (LEASE_READ | LEASE_HANDLE | LEASE_WRITE);
    if state & LEASE_READ == 0 { 0 } else { state }
}

/// An oplock as the lease state it amounts to (batch caches all three).
fn oplock_as_lease(level: u8) -> u32 {
    match level {
        OPLOCK_BATCH => LEASE_READ | LEASE_WRITE | LEASE_HANDLE,
        OPLOCK_EXCLUSIVE => LEASE_READ | LEASE_WRITE,
        OPLOCK_II => LEASE_READ,
        _ => 0,
    }
}

/// ... and back.
fn lease_as_oplock(state: u32) -> u8 {
    match valid_lease_state(state) {
        s if s == LEASE_READ | LEASE_WRITE | LEASE_HANDLE => OPLOCK_BATCH,
        s if s == LEASE_READ | LEASE_WRITE => OPLOCK_EXCLUSIVE,
        0 => OPLOCK_NONE,
        _ => OPLOCK_II,
    }
}

impl Caching {
    /// Ends the breaks whose deadline passed: the client did not answer, and keeps
    /// nothing cached.
    pub(super) fn expire(&mut self, now: Instant) -> bool {
        let mut ended = false;
        for o in &mut self.oplocks {
            if o.breaking.is_some_and(|(_, deadline)| deadline <= now) {
                o.level = OPLOCK_NONE;
                o.breaking = None;
                ended = true;
            }
        }
        for l in &mut self.leases {
            if l.breaking.is_some_and(|b| b.deadline <= now) {
                l.state = 0;
                l.breaking = None;
                ended = true;
            }
        }
        ended
    }

    /// The earliest deadline of a break still out on another open than `lease` names.
    fn outstanding(&self, lease: Option<(&[u8; 16], &[u8; 16])>) -> Option<Instant> {
        let oplocks = self.oplocks.iter().filter_map(|o| o.breaking.map(|b| b.1));
        let leases = self
            .leases
            .iter()
            .filter(|l| lease != Some((&l.client, &l.key)))
            .filter_map(|l| l.breaking.map(|b| b.deadline));
        oplocks.chain(leases).min()
    }

    /// Remembers a connection to wake when a break on this file ends.
    pub(super) fn wait(&mut self, notify: &Notifier) {
        if self.waiters.len() < MAX_WAITERS && !self.waiters.iter().any(|w| w.same_channel(notify))
        {
            self.waiters.push(notify.clone());
        }
    }

    /// Wakes every waiter.
    pub(super) fn wake(&mut self, key: super::open_files::FileKey) {
        for w in self.waiters.drain(..) {
            let _ = w.try_send(Event::Wake(key));
        }
    }

    /// Breaks oplock `i` to level II (`to` has read caching) or none: level II goes at
    /// once, exclusive and batch are acknowledged (by `now + BREAK_TIMEOUT`). A break
    /// already out is not sent again.
    fn break_oplock(&mut self, i: usize, to: u32, now: Instant) {
        let o = &mut self.oplocks[i];
        let to = if to & LEASE_READ != 0 {
            OPLOCK_II
        } else {
            OPLOCK_NONE
        };
        if o.breaking.is_some() || o.level <= to {
            return;
        }
        o.holder.send(Event::OplockBreak {
            session_id: o.holder.session_id,
            file_id: o.holder.file_id,
            level: to,
        });
        if o.level == OPLOCK_II {
            o.level = OPLOCK_NONE;
        } else {
            o.breaking = Some((to, now + BREAK_TIMEOUT));
        }
    }

    /// Breaks lease `i` towards `to`. A lease already breaking only has its goal
    /// lowered; read caching alone goes at once (no acknowledgment); anything else is
    /// offered `to` and acknowledged (by `now + BREAK_TIMEOUT`). Each new break
    /// advances a version 2 lease's epoch.
    fn break_lease(&mut self, i: usize, to: u32, now: Instant) {
        let l = &mut self.leases[i];
        let to = valid_lease_state(to & l.state);
        if let Some(b) = &mut l.breaking {
            b.required &= to;
            return;
        }
        if to == l.state {
            return;
        }
        if let Some(epoch) = &mut l.epoch {
            *epoch = epoch.wrapping_add(1);
        }
        if l.state == LEASE_READ {
            l.notify(l.state, 0, 0);
            l.state = 0;
            return;
        }
        l.notify(l.state, to, LEASE_BREAK_ACK_REQUIRED);
        l.breaking = Some(Breaking {
            requested: to,
            required: to,
            deadline: now + BREAK_TIMEOUT,
        });
    }

    /// Whether open `open` holds an oplock or a lease on the file.
    pub(super) fn holds(&self, open: u64) -> bool {
        self.oplocks.iter().any(|o| o.open == open) || self.lease_of(open).is_some()
    }

    fn lease_of(&self, open: u64) -> Option<usize> {
        self.leases.iter().position(|l| l.holds(open))
    }

    /// MS-FSA 2.1.5.1.2 with caching: breaks what a new open cannot coexist with, and
    /// says whether it waits. With a sharing violation (`conflicts` not empty) handle
    /// caching goes, else write caching, and read caching too when the open truncates;
    /// the open waits while what goes needs the client's acknowledgment (handle or
    /// write caching), or while a break on the file is still out.
    pub(super) fn plan(
        &mut self,
        opening: &Opening<'_>,
        conflicts: &[u64],
        now: Instant,
    ) -> Verdict {
        if oplock_stat_open(opening.access) {
            return Verdict::Proceed;
        }
        let mine = opening
            .wanted
            .lease
            .as_ref()
            .map(|l| (&opening.holder.client, &l.key));
        let delay_mask = if !conflicts.is_empty() {
            LEASE_HANDLE
        } else if opening.deletes {
            LEASE_WRITE | LEASE_HANDLE
        } else {
            LEASE_WRITE
        };
        // What the open leaves an open caching `held`, and then what a break sends.
        let keeps = |held: u32| {
            let mut to = held & !delay_mask;
            if opening.truncates {
                to &= !(LEASE_HANDLE | LEASE_READ);
            }
            to
        };
        let mut delay = false;
        for i in 0..self.oplocks.len() {
            let held = oplock_as_lease(self.oplocks[i].level);
            let to = keeps(held);
            if held & !to == 0 {
                continue;
            }
            self.break_oplock(i, to, now);
            delay |= held & delay_mask != 0;
        }
        if !lease_stat_open(opening.access) {
            for i in 0..self.leases.len() {
                let l = &self.leases[i];
                if Some((&l.client, &l.key)) == mine {
                    continue;
                }
                let (held, breaking) = (l.state, l.breaking.is_some());
                let to = keeps(held);
                if held & !to == 0 {
                    delay |= breaking;
                    continue;
                }
                // A truncation breaks to none at once rather than through read.
                let to = if opening.truncates { 0 } else { to };
                self.break_lease(i, to, now);
                delay |= held & delay_mask != 0 || (breaking && !opening.first_attempt);
            }
        }
        match self.outstanding(mine) {
            Some(deadline) if delay => Verdict::Wait(deadline),
            _ => Verdict::Proceed,
        }
    }

    /// MS-SMB2 3.3.5.9.8: what open `id` (now admitted; `others` the file's other
    /// opens, stat opens without a lease left out) is granted, recorded for its later breaks. No write
    /// caching beside another open (of another lease); no handle lease beside an open
    /// without one; no oplock beside a handle lease.
    pub(super) fn grant(
        &mut self,
        id: u64,
        opening: &Opening<'_>,
        others: &[u64],
    ) -> Result<Granted, NtStatus> {
        let wanted = opening.wanted;
        if opening.directory {
            // No directory leases yet: a lease request is answered with no caching.
            return Ok(Granted {
                level: if wanted.lease.is_some() {
                    OPLOCK_LEASE
                } else {
                    OPLOCK_NONE
                },
                lease: wanted.lease.map(|l| LeaseContext {
                    state: 0,
                    flags: 0,
                    ..l
                }),
            });
        }
        if let Some(asked) = wanted.lease {
            let mine = |open: &u64| {
                self.leases.iter().any(|l| {
                    l.client == opening.holder.client && l.key == asked.key && l.holds(*open)
                })
            };
            // A stat open counts when it holds a lease (smb2.lease.statopen/statopen3).
            let other_open = others.iter().any(|o| !mine(o))
                || self
                    .leases
                    .iter()
                    .any(|l| l.client != opening.holder.client || l.key != asked.key);
            let plain_open = others.iter().any(|o| self.lease_of(*o).is_none());
            let mut granted = valid_lease_state(asked.state);
            if other_open {
                granted &= !LEASE_WRITE;
            }
            if plain_open {
                granted &= !LEASE_HANDLE;
            }
            return Ok(self.grant_lease(id, opening, &asked, granted));
        }
        // A stat open of an existing file gets no oplock (it breaks none either); one
        // that creates the file may, as smbd grants it (smb2.oplock.batch9), and it then
        // counts as an open for the ones after it.
        if oplock_stat_open(opening.access) && !opening.created {
            return Ok(Granted::default());
        }
        let mut granted = oplock_as_lease(wanted.level);
        if !others.is_empty() {
            granted &= !LEASE_WRITE;
        }
        if self.leases.iter().any(|l| l.state & LEASE_HANDLE != 0) {
            granted = 0;
        }
        let level = lease_as_oplock(granted);
        if level != OPLOCK_NONE {
            self.oplocks.push(Oplock {
                open: id,
                level,
                breaking: None,
                holder: opening.holder.clone(),
            });
        }
        Ok(Granted { level, lease: None })
    }

    /// The lease part of [`Self::grant`]: `granted` is what the file's other opens
    /// leave a new lease.
    fn grant_lease(
        &mut self,
        id: u64,
        opening: &Opening<'_>,
        asked: &LeaseContext,
        granted: u32,
    ) -> Granted {
        let client = opening.holder.client;
        let requested = asked.state;
        let parent = asked
            .v2
            .filter(|_| asked.flags & LEASE_FLAG_PARENT_LEASE_KEY_SET != 0)
            .map(|(p, _)| p);
        let lease = match self
            .leases
            .iter_mut()
            .find(|l| l.client == client && l.key == asked.key)
        {
            Some(lease) => {
                lease.opens.push((id, opening.holder.clone()));
                // An upgrade changes the lease only to a strict superset of what it
                // holds, and only to one it can hold beside the file's other opens
                // (MS-SMB2 3.3.5.9.8; smbtorture's smb2.lease.upgrade2/upgrade3).
                let upgrade = lease.breaking.is_none()
                    && requested & lease.state == lease.state
                    && granted != lease.state
                    && granted == requested;
                if upgrade {
                    lease.state = granted;
                    if let Some(epoch) = &mut lease.epoch {
                        *epoch = epoch.wrapping_add(1);
                    }
                }
                lease
            }
            None => {
                self.leases.push(Lease {
                    client,
                    key: asked.key,
                    state: granted,
                    breaking: None,
                    epoch: asked
                        .v2
                        .map(|(_, e)| e.wrapping_add(u16::from(granted != 0))),
                    parent,
                    opens: vec![(id, opening.holder.clone())],
                });
                self.leases.last_mut().expect("just pushed")
            }
        };
        lease.granted()
    }

    /// A durable open came back on another connection (MS-SMB2 3.3.5.9.7): its breaks
    /// go to `holder` from now on. What it holds, as CREATE reports it.
    pub(super) fn rehome(&mut self, open: u64, holder: &Holder) -> Granted {
        if let Some(o) = self.oplocks.iter_mut().find(|o| o.open == open) {
            o.holder = holder.clone();
            return Granted {
                level: o.level,
                lease: None,
            };
        }
        let Some(i) = self.lease_of(open) else {
            return Granted::default();
        };
        let lease = &mut self.leases[i];
        for (id, h) in &mut lease.opens {
            if *id == open {
                *h = holder.clone();
            }
        }
        lease.granted()
    }

    /// A write (or a truncation, a byte-range lock) by open `by`: the read caching of
    /// every level II oplock and of the other leases goes; nothing waits (MS-FSA
    /// 2.1.5.17). A handle lease is still acknowledged.
    pub(super) fn break_for_write(&mut self, by: u64, now: Instant) {
        let own = self.lease_of(by);
        for i in 0..self.oplocks.len() {
            // The writer's own level II oplock too (MS-FSA 2.1.5.3; smb2.oplock.batch1).
            if self.oplocks[i].level == OPLOCK_II {
                self.break_oplock(i, 0, now);
            }
        }
        for i in 0..self.leases.len() {
            let l = &self.leases[i];
            if Some(i) != own && l.state & LEASE_READ != 0 && l.state & LEASE_WRITE == 0 {
                self.break_lease(i, 0, now);
            }
        }
    }

    /// A rename or delete of the file through open `by`: the other leases' handle
    /// caching goes (their clients may hold a handle open that would stop it). The
    /// deadline to wait until, while any other lease's break is out.
    pub(super) fn break_handles(&mut self, by: u64, now: Instant) -> Option<Instant> {
        let own = self.lease_of(by);
        for i in 0..self.leases.len() {
            let l = &self.leases[i];
            if Some(i) != own && l.state & LEASE_HANDLE != 0 {
                self.break_lease(i, l.state & !LEASE_HANDLE, now);
            }
        }
        self.leases
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != own)
            .filter_map(|(_, l)| l.breaking.map(|b| b.deadline))
            .min()
    }

    /// MS-SMB2 3.3.5.22.1: open `open` acknowledges an oplock break at `level`; the level
    /// it now holds.
    pub(super) fn ack_oplock(&mut self, open: u64, level: u8) -> Result<u8, NtStatus> {
        let Some(i) = self.oplocks.iter().position(|o| o.open == open) else {
            return Err(NtStatus::INVALID_OPLOCK_PROTOCOL);
        };
        let o = &mut self.oplocks[i];
        // A level II oplock broken to none asked for no acknowledgment (and holds none).
        if o.level == OPLOCK_NONE {
            return Err(NtStatus::INVALID_OPLOCK_PROTOCOL);
        }
        let Some((to, _)) = o.breaking else {
            return Err(NtStatus::INVALID_DEVICE_STATE);
        };
        o.breaking = None;
        if level == OPLOCK_LEASE || level > to {
            o.level = OPLOCK_NONE;
            self.oplocks.remove(i);
            return Err(NtStatus::INVALID_OPLOCK_PROTOCOL);
        }
        o.level = level;
        if level == OPLOCK_NONE {
            self.oplocks.remove(i);
        }
        Ok(level)
    }

    /// MS-SMB2 3.3.5.22.2: the client acknowledges a lease break, keeping `state`. When
    /// that is still above what the break has to reach, the next step goes out (from a
    /// handle or write lease to read, then to none), with the same epoch.
    pub(super) fn ack_lease(
        &mut self,
        client: &[u8; 16],
        key: &[u8; 16],
        state: u32,
        now: Instant,
    ) -> Result<u32, NtStatus> {
        let Some(l) = self
            .leases
            .iter_mut()
            .find(|l| &l.client == client && &l.key == key)
        else {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        };
        let Some(b) = l.breaking else {
            return Err(NtStatus::UNSUCCESSFUL);
        };
        if state & !b.requested != 0 {
            return Err(NtStatus::REQUEST_NOT_ACCEPTED);
        }
        l.state = state;
        l.breaking = None;
        if state & !b.required != 0 {
            if state & (LEASE_WRITE | LEASE_HANDLE) != 0 {
                let next = b.required | LEASE_READ;
                l.notify(state, next, LEASE_BREAK_ACK_REQUIRED);
                l.breaking = Some(Breaking {
                    requested: next,
                    required: b.required,
                    deadline: now + BREAK_TIMEOUT,
                });
            } else {
                l.notify(state, b.required, 0);
                l.state = 0;
            }
        }
        Ok(state)
    }

    /// Open `open` closed: its oplock goes, and its lease when it was the lease's last
    /// open. The lease that went, if any (for the server's lease index).
    pub(super) fn close(&mut self, open: u64) -> Option<([u8; 16], [u8; 16])> {
        self.oplocks.retain(|o| o.open != open);
        let i = self.lease_of(open)?;
        let lease = &mut self.leases[i];
        lease.opens.retain(|(o, _)| *o != open);
        if lease.opens.is_empty() {
            let gone = self.leases.remove(i);
            return Some((gone.client, gone.key));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(client: u8) -> (Holder, tokio::sync::mpsc::Receiver<Event>) {
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        (
            Holder {
                notify: tx,
                session_id: 1,
                file_id: FileId {
                    persistent: 1,
                    volatile: u64::from(client),
                },
                client: [client; 16],
            },
            rx,
        )
    }

    const RW: u32 = 0x3; // FILE_READ_DATA | FILE_WRITE_DATA

    fn oplock(level: u8) -> Wanted {
        Wanted { level, lease: None }
    }

    fn lease(key: u8, state: u32) -> Wanted {
        Wanted {
            level: OPLOCK_LEASE,
            lease: Some(LeaseContext {
                key: [key; 16],
                state,
                flags: 0,
                v2: None,
            }),
        }
    }

    fn opening<'a>(wanted: &'a Wanted, holder: &'a Holder) -> Opening<'a> {
        Opening {
            access: RW,
            truncates: false,
            directory: false,
            created: false,
            deletes: false,
            first_attempt: true,
            wanted,
            holder,
        }
    }

    /// MS-SMB2 3.3.5.9.8: a lease key names one file. Opening a second file under it is
    /// refused, and the refusal leaves no record of that file in the table (a peer
    /// repeating it over many files cannot grow the table).
    #[test]
    fn a_refused_first_open_leaves_no_record_of_the_file() {
        use super::super::open_files::{Admission, OpenFiles};
        let now = Instant::now();
        let table = OpenFiles::default();
        let (a, _a_rx) = holder(1);
        let rwh = lease(5, LEASE_READ | LEASE_WRITE | LEASE_HANDLE);
        let first = table.open((9, 1), RW, 7, &opening(&rwh, &a), now).unwrap();
        let Admission::Admitted(id, _) = first else {
            panic!("the first open waits: {first:?}");
        };
        assert_eq!(table.tracked(), 1);
        for file in 2..50 {
            assert_eq!(
                table.open((9, file), RW, 7, &opening(&rwh, &a), now).err(),
                Some(NtStatus::INVALID_PARAMETER)
            );
        }
        assert_eq!(table.tracked(), 1, "refused opens left records behind");
        assert!(table.close((9, 1), id).is_none());
        assert_eq!(table.tracked(), 0);
    }

    #[test]
    fn a_batch_oplock_breaks_to_level_ii_and_the_second_open_waits_for_the_ack() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let batch = oplock(OPLOCK_BATCH);
        let first = opening(&batch, &a);
        assert_eq!(c.plan(&first, &[], now), Verdict::Proceed);
        assert_eq!(c.grant(1, &first, &[]).unwrap().level, OPLOCK_BATCH);
        let second = opening(&batch, &b);
        assert_eq!(
            c.plan(&second, &[], now),
            Verdict::Wait(now + BREAK_TIMEOUT)
        );
        assert_eq!(
            a_rx.try_recv().unwrap(),
            Event::OplockBreak {
                session_id: 1,
                file_id: a.file_id,
                level: OPLOCK_II
            }
        );
        // Acknowledging above the level asked is a protocol error.
        assert_eq!(c.ack_oplock(1, OPLOCK_II), Ok(OPLOCK_II));
        assert_eq!(
            c.ack_oplock(1, OPLOCK_II),
            Err(NtStatus::INVALID_DEVICE_STATE)
        );
        assert_eq!(c.plan(&second, &[], now), Verdict::Proceed);
        assert_eq!(c.grant(2, &second, &[1]).unwrap().level, OPLOCK_II);
        // A write by the second breaks the first's level II at once, without waiting.
        c.break_for_write(2, now);
        assert!(matches!(
            a_rx.try_recv().unwrap(),
            Event::OplockBreak {
                level: OPLOCK_NONE,
                ..
            }
        ));
        assert_eq!(c.outstanding(None), None);
    }

    #[test]
    fn an_unacknowledged_break_ends_at_its_deadline() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, _a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let batch = oplock(OPLOCK_BATCH);
        c.grant(1, &opening(&batch, &a), &[]).unwrap();
        let Verdict::Wait(deadline) = c.plan(&opening(&batch, &b), &[], now) else {
            panic!("waits");
        };
        assert!(!c.expire(deadline - Duration::from_secs(1)));
        assert!(c.expire(deadline));
        assert_eq!(
            c.plan(&opening(&batch, &b), &[], deadline),
            Verdict::Proceed
        );
    }

    #[test]
    fn stat_opens_break_nothing_and_a_sharing_conflict_breaks_only_batch() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let excl = oplock(OPLOCK_EXCLUSIVE);
        c.grant(1, &opening(&excl, &a), &[]).unwrap();
        let none = oplock(OPLOCK_NONE);
        let stat = Opening {
            access: READ_ATTRIBUTES,
            ..opening(&none, &b)
        };
        assert_eq!(c.plan(&stat, &[], now), Verdict::Proceed);
        // A stat open of an existing file is granted no oplock, whatever it asks.
        let batch = oplock(OPLOCK_BATCH);
        let stat_batch = Opening {
            access: READ_ATTRIBUTES,
            ..opening(&batch, &b)
        };
        assert_eq!(c.grant(3, &stat_batch, &[]).unwrap().level, OPLOCK_NONE);
        assert!(!c.holds(3));
        // An exclusive (not batch) oplock is not broken for a conflicting open.
        assert_eq!(c.plan(&opening(&none, &b), &[1], now), Verdict::Proceed);
        assert!(a_rx.try_recv().is_err());
    }

    #[test]
    fn a_stat_open_that_creates_the_file_gets_its_oplock_and_is_broken_like_any() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let batch = oplock(OPLOCK_BATCH);
        let creating = Opening {
            access: READ_ATTRIBUTES | WRITE_ATTRIBUTES | SYNCHRONIZE,
            created: true,
            ..opening(&batch, &a)
        };
        assert_eq!(c.grant(1, &creating, &[]).unwrap().level, OPLOCK_BATCH);
        assert!(c.holds(1));
        // A plain open breaks it to level II, and gets level II beside it.
        assert!(matches!(
            c.plan(&opening(&batch, &b), &[], now),
            Verdict::Wait(_)
        ));
        assert!(matches!(
            a_rx.try_recv(),
            Ok(Event::OplockBreak {
                level: OPLOCK_II,
                ..
            })
        ));
        assert_eq!(c.ack_oplock(1, OPLOCK_II), Ok(OPLOCK_II));
        assert_eq!(
            c.grant(2, &opening(&batch, &b), &[1]).unwrap().level,
            OPLOCK_II
        );
    }

    #[test]
    fn leases_lose_write_caching_to_other_opens_and_upgrade_under_the_same_key() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let rwh = lease(1, LEASE_READ | LEASE_WRITE | LEASE_HANDLE);
        let g = c.grant(1, &opening(&rwh, &a), &[]).unwrap();
        assert_eq!(g.lease.unwrap().state, 0x7);
        let other = lease(2, LEASE_READ | LEASE_WRITE | LEASE_HANDLE);
        assert!(matches!(
            c.plan(&opening(&other, &b), &[], now),
            Verdict::Wait(_)
        ));
        let Event::LeaseBreak {
            current,
            new,
            flags,
            ..
        } = a_rx.try_recv().unwrap()
        else {
            panic!("a lease break");
        };
        assert_eq!((current, new, flags), (0x7, 0x3, LEASE_BREAK_ACK_REQUIRED));
        // Acknowledging more than offered is refused; the offered state is taken.
        assert_eq!(
            c.ack_lease(&[1; 16], &[1; 16], 0x7, now),
            Err(NtStatus::REQUEST_NOT_ACCEPTED)
        );
        assert_eq!(c.ack_lease(&[1; 16], &[1; 16], 0x3, now), Ok(0x3));
        assert_eq!(c.plan(&opening(&other, &b), &[], now), Verdict::Proceed);
        let g = c.grant(2, &opening(&other, &b), &[1]).unwrap();
        assert_eq!(g.lease.unwrap().state, LEASE_READ | LEASE_HANDLE);
        // The same key again on the same client shares the lease.
        let again = c.grant(3, &opening(&rwh, &a), &[1, 2]).unwrap();
        assert_eq!(again.lease.unwrap().state, LEASE_READ | LEASE_HANDLE);
        assert_eq!(c.close(1), None);
        assert_eq!(c.close(3), Some(([1; 16], [1; 16])));
        // Invalid states are none: write or handle caching without read.
        let h = lease(9, LEASE_HANDLE);
        assert_eq!(
            c.grant(4, &opening(&h, &a), &[3])
                .unwrap()
                .lease
                .unwrap()
                .state,
            0
        );
    }

    fn lease_break(rx: &mut tokio::sync::mpsc::Receiver<Event>) -> (u32, u32, u32, u16) {
        match rx.try_recv() {
            Ok(Event::LeaseBreak {
                current,
                new,
                flags,
                epoch,
                ..
            }) => (current, new, flags, epoch),
            other => panic!("expected a lease break, got {other:?}"),
        }
    }

    const R: u32 = LEASE_READ;
    const RH: u32 = LEASE_READ | LEASE_HANDLE;
    const RWH: u32 = LEASE_READ | LEASE_WRITE | LEASE_HANDLE;

    #[test]
    fn a_break_lowered_while_out_goes_on_in_steps_after_each_acknowledgment() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let rwh = lease(1, RWH);
        c.grant(1, &opening(&rwh, &a), &[]).unwrap();
        // A plain open breaks write caching and waits.
        let plain = oplock(OPLOCK_NONE);
        assert!(matches!(
            c.plan(&opening(&plain, &b), &[], now),
            Verdict::Wait(_)
        ));
        assert_eq!(
            lease_break(&mut a_rx),
            (RWH, RH, LEASE_BREAK_ACK_REQUIRED, 0)
        );
        // An overwrite while that break is out lowers its goal to none, silently.
        let overwrite = Opening {
            truncates: true,
            first_attempt: false,
            ..opening(&plain, &b)
        };
        assert!(matches!(c.plan(&overwrite, &[], now), Verdict::Wait(_)));
        assert!(a_rx.try_recv().is_err());
        // Acknowledging RH sets off RH -> R (acknowledged), then R -> none (at once).
        assert_eq!(c.ack_lease(&[1; 16], &[1; 16], RH, now), Ok(RH));
        assert_eq!(lease_break(&mut a_rx), (RH, R, LEASE_BREAK_ACK_REQUIRED, 0));
        assert_eq!(c.ack_lease(&[1; 16], &[1; 16], R, now), Ok(R));
        assert_eq!(lease_break(&mut a_rx), (R, 0, 0, 0));
        assert_eq!(c.plan(&overwrite, &[], now), Verdict::Proceed);
        // A late acknowledgment is refused.
        assert_eq!(
            c.ack_lease(&[1; 16], &[1; 16], 0, now),
            Err(NtStatus::UNSUCCESSFUL)
        );
    }

    #[test]
    fn an_overwrite_breaks_a_handle_lease_to_none_without_waiting_and_a_timeout_leaves_none() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let rh = lease(1, RH);
        c.grant(1, &opening(&rh, &a), &[]).unwrap();
        let plain = oplock(OPLOCK_NONE);
        let overwrite = Opening {
            truncates: true,
            ..opening(&plain, &b)
        };
        assert_eq!(c.plan(&overwrite, &[], now), Verdict::Proceed);
        assert_eq!(lease_break(&mut a_rx), (RH, 0, LEASE_BREAK_ACK_REQUIRED, 0));
        // Nobody acknowledges: at the deadline the lease keeps nothing.
        assert!(c.expire(now + BREAK_TIMEOUT));
        assert_eq!(c.leases[0].state, 0);
        assert_eq!(c.leases[0].breaking, None);
    }

    #[test]
    fn a_sharing_violation_breaks_only_handle_caching_and_an_oplock_bars_handle_leases() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let rwh = lease(1, RWH);
        c.grant(1, &opening(&rwh, &a), &[]).unwrap();
        let plain = oplock(OPLOCK_NONE);
        assert!(matches!(
            c.plan(&opening(&plain, &b), &[1], now),
            Verdict::Wait(_)
        ));
        assert_eq!(
            lease_break(&mut a_rx),
            (RWH, LEASE_READ | LEASE_WRITE, LEASE_BREAK_ACK_REQUIRED, 0)
        );
        // A lease asked beside an open without one gets no handle caching.
        let mut c = Caching::default();
        let level2 = oplock(OPLOCK_II);
        assert_eq!(
            c.grant(1, &opening(&level2, &a), &[]).unwrap().level,
            OPLOCK_II
        );
        let g = c.grant(2, &opening(&rwh, &b), &[1]).unwrap();
        assert_eq!(g.lease.unwrap().state, R);
    }

    #[test]
    fn a_lease_break_goes_to_the_oldest_connection_still_there() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (mut a2, mut a2_rx) = holder(1);
        a2.file_id.volatile = 7;
        let (b, _b_rx) = holder(2);
        let rwh = lease(1, RWH);
        c.grant(1, &opening(&rwh, &a), &[]).unwrap();
        c.grant(2, &opening(&rwh, &a2), &[1]).unwrap();
        let plain = oplock(OPLOCK_NONE);
        c.plan(&opening(&plain, &b), &[], now);
        lease_break(&mut a_rx);
        assert!(a2_rx.try_recv().is_err());
        // With the first connection gone, the next one hears.
        assert_eq!(c.ack_lease(&[1; 16], &[1; 16], RH, now), Ok(RH));
        drop(a_rx);
        c.plan(&opening(&plain, &b), &[1, 2], now);
        assert_eq!(lease_break(&mut a2_rx).1, LEASE_READ);
    }
}
