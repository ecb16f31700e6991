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
    level: u8,
    /// Breaking to this level, acknowledged by this time.
    breaking: Option<(u8, Instant)>,
    holder: Holder,
}

/// One lease on the file: the client's, shared by its opens with the same key.
#[derive(Debug)]
struct Lease {
    client: [u8; 16],
    key: [u8; 16],
    state: u32,
    breaking: Option<(u32, Instant)>,
    /// Version 2: the epoch, advanced at each state change; `None` for version 1.
    epoch: Option<u16>,
    parent: Option<[u8; 16]>,
    opens: Vec<u64>,
    holder: Holder,
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

impl Caching {
    /// Ends the breaks whose deadline passed, as if acknowledged at the level asked.
    pub(super) fn expire(&mut self, now: Instant) -> bool {
        let mut ended = false;
        for o in &mut self.oplocks {
            if let Some((to, deadline)) = o.breaking
                && deadline <= now
            {
                o.level = to;
                o.breaking = None;
                ended = true;
            }
        }
        for l in &mut self.leases {
            if let Some((to, deadline)) = l.breaking
                && deadline <= now
            {
                l.state = to;
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
            .filter_map(|l| l.breaking.map(|b| b.1));
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

    /// Breaks oplock `i` to `to`: at once when no acknowledgment is due (level II to
    /// none), else marked as breaking until acknowledged or `now + BREAK_TIMEOUT`.
    /// Whether an acknowledgment is awaited.
    fn break_oplock(&mut self, i: usize, to: u8, now: Instant) -> bool {
        let o = &mut self.oplocks[i];
        if o.breaking.is_some() || o.level <= to {
            return o.breaking.is_some();
        }
        o.holder.send(Event::OplockBreak {
            session_id: o.holder.session_id,
            file_id: o.holder.file_id,
            level: if to == OPLOCK_NONE {
                OPLOCK_NONE
            } else {
                OPLOCK_II
            },
        });
        if o.level == OPLOCK_II {
            o.level = OPLOCK_NONE;
            false
        } else {
            o.breaking = Some((to, now + BREAK_TIMEOUT));
            true
        }
    }

    /// Breaks lease `i` down to `to` (a subset of what it holds): acknowledged when the
    /// lease held write or handle caching, else at once. Whether an acknowledgment is
    /// awaited.
    fn break_lease(&mut self, i: usize, to: u32, now: Instant) -> bool {
        let l = &mut self.leases[i];
        if l.breaking.is_some() {
            // Already breaking: the client acknowledges this break first; whoever waits
            // then tries again and breaks what is left (MS-SMB2 3.3.4.7).
            return true;
        }
        let to = valid_lease_state(l.state & to);
        if to == l.state {
            return false;
        }
        let ack = l.state & (LEASE_WRITE | LEASE_HANDLE) != 0;
        if let Some(epoch) = &mut l.epoch {
            *epoch = epoch.wrapping_add(1);
        }
        l.holder.send(Event::LeaseBreak {
            session_id: l.holder.session_id,
            key: l.key,
            epoch: l.epoch.unwrap_or(0),
            flags: if ack { LEASE_BREAK_ACK_REQUIRED } else { 0 },
            current: l.state,
            new: to,
        });
        if ack {
            l.breaking = Some((to, now + BREAK_TIMEOUT));
        } else {
            l.state = to;
        }
        ack
    }

    fn lease_of(&self, open: u64) -> Option<usize> {
        self.leases.iter().position(|l| l.opens.contains(&open))
    }

    /// MS-FSA 2.1.5.1.2 with caching: breaks what a new open cannot coexist with, before
    /// (`conflicts`: the opens whose share modes refuse it) or after the share check.
    /// With conflicts, only batch oplocks and handle-caching leases of the conflicting
    /// opens are broken (their client may close them); otherwise exclusive and batch
    /// oplocks break to level II and write caching goes (all read caching too when the
    /// open truncates).
    pub(super) fn plan(
        &mut self,
        opening: &Opening<'_>,
        conflicts: &[u64],
        now: Instant,
    ) -> Verdict {
        let mine = opening
            .wanted
            .lease
            .as_ref()
            .map(|l| (&opening.holder.client, &l.key));
        let mut waiting = false;
        if !conflicts.is_empty() {
            for i in 0..self.oplocks.len() {
                let o = &self.oplocks[i];
                if conflicts.contains(&o.open) && o.level == OPLOCK_BATCH {
                    waiting |= self.break_oplock(i, OPLOCK_II, now);
                }
            }
            for i in 0..self.leases.len() {
                let l = &self.leases[i];
                if Some((&l.client, &l.key)) != mine
                    && l.opens.iter().any(|o| conflicts.contains(o))
                    && l.state & LEASE_HANDLE != 0
                {
                    waiting |= self.break_lease(i, l.state & !(LEASE_HANDLE | LEASE_WRITE), now);
                }
            }
        } else if !oplock_stat_open(opening.access) || !lease_stat_open(opening.access) {
            let to = if opening.truncates {
                OPLOCK_NONE
            } else {
                OPLOCK_II
            };
            if !oplock_stat_open(opening.access) {
                for i in 0..self.oplocks.len() {
                    waiting |= self.break_oplock(i, to, now);
                }
            }
            if !lease_stat_open(opening.access) {
                for i in 0..self.leases.len() {
                    let l = &self.leases[i];
                    if Some((&l.client, &l.key)) == mine {
                        continue;
                    }
                    let keep = if opening.truncates {
                        0
                    } else {
                        l.state & !LEASE_WRITE
                    };
                    waiting |= self.break_lease(i, keep, now);
                }
            }
        }
        match (waiting, self.outstanding(mine)) {
            (true, Some(deadline)) => Verdict::Wait(deadline),
            (_, Some(deadline)) if !conflicts.is_empty() || !oplock_stat_open(opening.access) => {
                Verdict::Wait(deadline)
            }
            _ => Verdict::Proceed,
        }
    }

    /// MS-SMB2 3.3.5.9.8: what open `id` (now admitted; `others` non-stat opens of the
    /// file besides it, `all` every other open) is granted, recorded for its later
    /// breaks.
    pub(super) fn grant(
        &mut self,
        id: u64,
        opening: &Opening<'_>,
        others: usize,
        all: usize,
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
        let exclusive_elsewhere = self.oplocks.iter().any(|o| o.level >= OPLOCK_EXCLUSIVE)
            || self.leases.iter().any(|l| {
                l.state & LEASE_WRITE != 0
                    && !(wanted.lease.is_some_and(|w| w.key == l.key)
                        && l.client == opening.holder.client)
            });
        if let Some(asked) = wanted.lease {
            return Ok(self.grant_lease(id, opening, &asked, all, exclusive_elsewhere));
        }
        if oplock_stat_open(opening.access) {
            return Ok(Granted::default());
        }
        let level = match wanted.level {
            OPLOCK_BATCH | OPLOCK_EXCLUSIVE if others == 0 && !exclusive_elsewhere => wanted.level,
            OPLOCK_BATCH | OPLOCK_EXCLUSIVE | OPLOCK_II if !exclusive_elsewhere => OPLOCK_II,
            _ => OPLOCK_NONE,
        };
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

    fn grant_lease(
        &mut self,
        id: u64,
        opening: &Opening<'_>,
        asked: &LeaseContext,
        others: usize,
        exclusive_elsewhere: bool,
    ) -> Granted {
        let client = opening.holder.client;
        let requested = valid_lease_state(asked.state);
        // Opens of the file that are not this lease's (stat opens too): no write caching
        // beside them.
        let foreign = others
            - self
                .leases
                .iter()
                .find(|l| l.client == client && l.key == asked.key)
                .map_or(0, |l| l.opens.len().min(others));
        let shareable = |state: u32| {
            if exclusive_elsewhere {
                0
            } else if foreign > 0 {
                state & !LEASE_WRITE
            } else {
                state
            }
        };
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
                lease.opens.push(id);
                lease.holder = opening.holder.clone();
                // An upgrade changes the lease only to a strict superset of what it
                // holds, and only to one it can hold beside the file's other opens
                // (MS-SMB2 3.3.5.9.8; smbtorture's smb2.lease.upgrade2/upgrade3).
                let upgrade = lease.breaking.is_none()
                    && requested & lease.state == lease.state
                    && requested != lease.state
                    && shareable(requested) == requested;
                if upgrade {
                    lease.state = requested;
                    if let Some(epoch) = &mut lease.epoch {
                        *epoch = epoch.wrapping_add(1);
                    }
                }
                lease
            }
            None => {
                let state = shareable(requested);
                self.leases.push(Lease {
                    client,
                    key: asked.key,
                    state,
                    breaking: None,
                    epoch: asked.v2.map(|(_, e)| e.wrapping_add(u16::from(state != 0))),
                    parent,
                    opens: vec![id],
                    holder: opening.holder.clone(),
                });
                self.leases.last_mut().expect("just pushed")
            }
        };
        let mut flags = 0;
        if lease.breaking.is_some() {
            flags |= LEASE_FLAG_BREAK_IN_PROGRESS;
        }
        if lease.parent.is_some() {
            flags |= LEASE_FLAG_PARENT_LEASE_KEY_SET;
        }
        Granted {
            level: OPLOCK_LEASE,
            lease: Some(LeaseContext {
                key: lease.key,
                state: lease.state,
                flags,
                v2: lease.epoch.map(|e| (lease.parent.unwrap_or_default(), e)),
            }),
        }
    }

    /// A write (or a truncation, a byte-range lock) by open `by`: every other open's
    /// read caching goes, at once; nothing waits (MS-FSA 2.1.5.17).
    pub(super) fn break_for_write(&mut self, by: u64, now: Instant) {
        let own = self
            .lease_of(by)
            .map(|i| (self.leases[i].client, self.leases[i].key));
        for i in 0..self.oplocks.len() {
            if self.oplocks[i].open != by && self.oplocks[i].level == OPLOCK_II {
                self.break_oplock(i, OPLOCK_NONE, now);
            }
        }
        for i in 0..self.leases.len() {
            let l = &self.leases[i];
            if Some((l.client, l.key)) != own
                && l.state & LEASE_READ != 0
                && l.state & LEASE_WRITE == 0
            {
                self.break_lease(i, 0, now);
            }
        }
    }

    /// MS-SMB2 3.3.5.22.1: open `open` acknowledges an oplock break at `level`; the level
    /// it now holds.
    pub(super) fn ack_oplock(&mut self, open: u64, level: u8) -> Result<u8, NtStatus> {
        let Some(i) = self.oplocks.iter().position(|o| o.open == open) else {
            return Err(NtStatus::INVALID_OPLOCK_PROTOCOL);
        };
        let o = &mut self.oplocks[i];
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

    /// MS-SMB2 3.3.5.22.2: the client acknowledges a lease break, keeping `state`.
    pub(super) fn ack_lease(
        &mut self,
        client: &[u8; 16],
        key: &[u8; 16],
        state: u32,
    ) -> Result<u32, NtStatus> {
        let Some(l) = self
            .leases
            .iter_mut()
            .find(|l| &l.client == client && &l.key == key)
        else {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        };
        let Some((to, _)) = l.breaking else {
            return Err(NtStatus::UNSUCCESSFUL);
        };
        if state & !to != 0 {
            return Err(NtStatus::REQUEST_NOT_ACCEPTED);
        }
        l.state = state;
        l.breaking = None;
        Ok(state)
    }

    /// Open `open` closed: its oplock goes, and its lease when it was the lease's last
    /// open. The lease that went, if any (for the server's lease index).
    pub(super) fn close(&mut self, open: u64) -> Option<([u8; 16], [u8; 16])> {
        self.oplocks.retain(|o| o.open != open);
        let i = self.lease_of(open)?;
        let lease = &mut self.leases[i];
        lease.opens.retain(|&o| o != open);
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
            wanted,
            holder,
        }
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
        assert_eq!(c.grant(1, &first, 0, 0).unwrap().level, OPLOCK_BATCH);
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
        assert_eq!(c.grant(2, &second, 1, 1).unwrap().level, OPLOCK_II);
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
        c.grant(1, &opening(&batch, &a), 0, 0).unwrap();
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
        c.grant(1, &opening(&excl, &a), 0, 0).unwrap();
        let none = oplock(OPLOCK_NONE);
        let stat = Opening {
            access: READ_ATTRIBUTES,
            ..opening(&none, &b)
        };
        assert_eq!(c.plan(&stat, &[], now), Verdict::Proceed);
        // An exclusive (not batch) oplock is not broken for a conflicting open.
        assert_eq!(c.plan(&opening(&none, &b), &[1], now), Verdict::Proceed);
        assert!(a_rx.try_recv().is_err());
    }

    #[test]
    fn leases_lose_write_caching_to_other_opens_and_upgrade_under_the_same_key() {
        let now = Instant::now();
        let mut c = Caching::default();
        let (a, mut a_rx) = holder(1);
        let (b, _b_rx) = holder(2);
        let rwh = lease(1, LEASE_READ | LEASE_WRITE | LEASE_HANDLE);
        let g = c.grant(1, &opening(&rwh, &a), 0, 0).unwrap();
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
            c.ack_lease(&[1; 16], &[1; 16], 0x7),
            Err(NtStatus::REQUEST_NOT_ACCEPTED)
        );
        assert_eq!(c.ack_lease(&[1; 16], &[1; 16], 0x3), Ok(0x3));
        assert_eq!(c.plan(&opening(&other, &b), &[], now), Verdict::Proceed);
        let g = c.grant(2, &opening(&other, &b), 1, 1).unwrap();
        assert_eq!(g.lease.unwrap().state, LEASE_READ | LEASE_HANDLE);
        // The same key again on the same client shares the lease.
        let again = c.grant(3, &opening(&rwh, &a), 2, 2).unwrap();
        assert_eq!(again.lease.unwrap().state, LEASE_READ | LEASE_HANDLE);
        assert_eq!(c.close(1), None);
        assert_eq!(c.close(3), Some(([1; 16], [1; 16])));
        // Invalid states are none: write or handle caching without read.
        let h = lease(9, LEASE_HANDLE);
        assert_eq!(
            c.grant(4, &opening(&h, &a), 1, 1)
                .unwrap()
                .lease
                .unwrap()
                .state,
            0
        );
    }
}
