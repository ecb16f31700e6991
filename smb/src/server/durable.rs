//! Durable handles (MS-SMB2 3.3.5.9.6, 3.3.5.9.7, 3.3.5.9.10, 3.3.5.9.12): an open granted
//! one outlives its connection and its session, so a client whose connection dropped
//! reconnects and carries on with the same open (its position, byte-range locks, oplock
//! or lease, share modes and delete-on-close).
//!
//! An open is granted a durable handle when the client asks (`DHnQ`, or `DH2Q` on 3.x)
//! and it holds a batch oplock or a lease with handle caching. While its session lives
//! it is *attached*; when the connection drops, the session logs off or a new session
//! names it as its `PreviousSessionId`, the open is *parked* here, still holding the file
//! in the server-wide table, until a reconnect (`DHnC`, `DH2C`) from the same user takes
//! it back, or:
//! - its timeout passes (version 1: 60 s; version 2: as asked, 60 s for 0, at most
//!   300 s), then it is closed (a sweep runs on every CREATE and from the server's timer);
//! - another client opens the file in a way that would break its caching (any open but
//!   a "stat open"): it is closed first, as Windows and Samba do, and that open goes on;
//! - its tree is disconnected (TREE_DISCONNECT closes it as any open).
//!
//! Bounds: at most [`MAX_PARKED`] opens wait here; past that a durable open is closed
//! when its connection goes, as an open without a durable handle is.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use adjoin_rpc::ntstatus::NtStatus;

use super::backend::CreateAction;
use super::backend::SharePath;
use super::files::{Created, FileOpen};
use super::open_files::{FileKey, OpenFiles};
use super::oplock::{Holder, Notifier};
use super::share::DiskShare;
use super::{Open, Refusal, ServerConnection};
use crate::proto::durable::{DurableAsk, grant_v1, grant_v2};
use crate::proto::oplock::{CONTEXT_LEASE, CreateContext, LeaseContext};
use crate::proto::{Dialect, FileId, Header, HeaderFlags};

/// How long a version 1 durable open waits for its client (Samba's figure; Windows
/// keeps one for 16 minutes).
pub(super) const V1_TIMEOUT: Duration = Duration::from_secs(60);
/// A version 2 open asking for no particular time gets this.
const V2_DEFAULT: Duration = Duration::from_secs(60);
/// The longest a version 2 open may ask for (as Windows and Samba cap it).
const V2_MAX: Duration = Duration::from_secs(300);
/// How long a reconnect waits for the open's old session to let it go (a session
/// reconnect on another connection tells the old one, which parks its opens).
const HANDOVER: Duration = Duration::from_secs(2);
/// Parked opens the server keeps at most.
pub(super) const MAX_PARKED: usize = 4096;

/// What makes an open durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Durability {
    /// How long it is kept once its session is gone.
    pub(super) timeout: Duration,
    /// Version 2: the client's `CreateGuid`, which a `DH2C` must repeat.
    pub(super) create_guid: Option<[u8; 16]>,
    /// The client's `ClientGuid` (a lease's reconnect must come from it).
    pub(super) client: [u8; 16],
    /// The open's lease key, when it holds a lease.
    pub(super) lease: Option<[u8; 16]>,
}

/// A durable open, by its persistent id.
#[derive(Debug)]
enum Slot {
    /// Held by a session; `going` once a newer session of the same user replaced it.
    Attached {
        session_id: u64,
        notify: Notifier,
        key: FileKey,
        going: bool,
    },
    /// Its session is gone: kept until this time.
    Parked {
        open: Box<FileOpen>,
        deadline: Instant,
    },
}

/// The kept opens (one per process; tests make their own).
#[derive(Debug, Default)]
pub(super) struct Table {
    slots: HashMap<u64, Slot>,
    /// The parked opens of each file (a new open of a file finds its own at once).
    by_file: HashMap<FileKey, Vec<u64>>,
    parked: usize,
    /// The earliest parked deadline (a sweep before it finds nothing).
    next_deadline: Option<Instant>,
}

impl Table {
    /// Keeps durable `open` until its timeout passes, unless `cap` opens are kept
    /// already (then it is given back, to be closed).
    pub(super) fn park(
        &mut self,
        open: FileOpen,
        now: Instant,
        cap: usize,
    ) -> Result<(), Box<FileOpen>> {
        let Some(durable) = &open.durable else {
            return Err(Box::new(open));
        };
        if self.parked >= cap {
            tracing::info!(file = %open.path.as_str(), "too many durable opens kept; this one is closed");
            self.slots.remove(&open.persistent);
            return Err(Box::new(open));
        }
        let deadline = now + durable.timeout;
        tracing::debug!(file = %open.path.as_str(), timeout = ?durable.timeout, "durable open kept");
        self.parked += 1;
        self.next_deadline = Some(self.next_deadline.map_or(deadline, |d| d.min(deadline)));
        self.by_file
            .entry(open.key)
            .or_default()
            .push(open.persistent);
        self.slots.insert(
            open.persistent,
            Slot::Parked {
                open: Box::new(open),
                deadline,
            },
        );
        Ok(())
    }

    /// Takes parked opens out: those past their deadline, and those of file `key`.
    pub(super) fn take(&mut self, key: Option<FileKey>, now: Instant) -> Vec<FileOpen> {
        let due = self.next_deadline.is_some_and(|d| d <= now);
        let mut ids = key
            .and_then(|k| self.by_file.get(&k))
            .cloned()
            .unwrap_or_default();
        // Only when a deadline has passed are all the kept opens looked at.
        if due {
            ids.extend(self.slots.iter().filter_map(|(id, slot)| match slot {
                Slot::Parked { deadline, .. } if *deadline <= now => Some(*id),
                _ => None,
            }));
            ids.sort_unstable();
            ids.dedup();
        }
        let out = ids
            .into_iter()
            .filter_map(|id| self.unpark(id))
            .map(|open| *open)
            .collect();
        if due {
            self.next_deadline = self
                .slots
                .values()
                .filter_map(|s| match s {
                    Slot::Parked { deadline, .. } => Some(*deadline),
                    Slot::Attached { .. } => None,
                })
                .min();
        }
        out
    }
}

impl Table {
    /// Takes parked open `id` out (`None`, and nothing changed, when it is not parked).
    fn unpark(&mut self, id: u64) -> Option<Box<FileOpen>> {
        if !matches!(self.slots.get(&id), Some(Slot::Parked { .. })) {
            return None;
        }
        let Some(Slot::Parked { open, .. }) = self.slots.remove(&id) else {
            return None;
        };
        self.parked -= 1;
        if let Some(ids) = self.by_file.get_mut(&open.key) {
            ids.retain(|i| *i != id);
            if ids.is_empty() {
                self.by_file.remove(&open.key);
            }
        }
        Some(open)
    }
}

fn table() -> MutexGuard<'static, Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// A persistent file id no other open of this process has had (MS-SMB2
/// `Open.DurableFileId`, which names the open across connections).
pub(super) fn new_persistent_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Durable open `persistent` of file `key` is held by `session_id` on the connection
/// behind `notify`.
pub(super) fn attach(persistent: u64, session_id: u64, notify: &Notifier, key: FileKey) {
    table().slots.insert(
        persistent,
        Slot::Attached {
            session_id,
            notify: notify.clone(),
            key,
            going: false,
        },
    );
}

/// Durable open `persistent` is closed.
pub(super) fn forget(persistent: u64) {
    let mut table = table();
    if table.unpark(persistent).is_none() {
        table.slots.remove(&persistent);
    }
}

/// Session `session_id` is being replaced by a newer one of its user (on another
/// connection): a reconnect to its opens waits for them to be parked.
pub(super) fn session_going(session_id: u64) {
    for slot in table().slots.values_mut() {
        if let Slot::Attached {
            session_id: s,
            going,
            ..
        } = slot
            && *s == session_id
        {
            *going = true;
        }
    }
}

/// Keeps durable `open` for its timeout; gives it back when the table is full.
pub(super) fn park(mut open: FileOpen, now: Instant) -> Result<(), Box<FileOpen>> {
    // Its CHANGE_NOTIFY watch and directory listing were its connection's.
    if let Some(watch) = open.watch.take() {
        super::notify::unwatch(watch);
    }
    open.listing = None;
    let key = open.key;
    table().park(open, now, MAX_PARKED)?;
    // A reconnect waiting for this open tries again.
    OpenFiles::global().wake(key);
    Ok(())
}

/// The parked opens past their deadline, and (`key`) those of a file about to be opened
/// in a way that breaks them: the caller closes them.
pub(super) fn take(key: Option<FileKey>, now: Instant) -> Vec<FileOpen> {
    table().take(key, now)
}

/// How often the server looks for parked opens whose time is up.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Starts (once per process) the thread that closes parked opens whose time is up, so
/// a durable open left behind holds its file no longer than its timeout and
/// [`SWEEP_EVERY`], whether or not anything else happens on the server. A thread of its
/// own: closing may delete a file, with its user's credentials, on a thread that does
/// nothing else.
pub(super) fn start_sweeper() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("smb-durable-sweep".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(SWEEP_EVERY);
                    sweep();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no thread to close expired durable opens; they close at the next CREATE");
        }
    });
}

/// Closes the parked opens whose time is up.
fn sweep() {
    for open in take(None, Instant::now()) {
        tracing::debug!(file = %open.path.as_str(), "durable open not reclaimed in time; closed");
        ServerConnection::finish(open);
    }
}

/// What a reconnect finds.
enum Reclaim {
    /// The open, taken back.
    Open(Box<FileOpen>),
    /// Its old session is on its way out: wait for it to be parked.
    Wait(FileKey),
}

/// Takes parked open `persistent` back if `check` admits the reconnect.
fn reclaim(
    persistent: u64,
    first_attempt: bool,
    check: impl FnOnce(&FileOpen) -> Result<(), NtStatus>,
) -> Result<Reclaim, NtStatus> {
    let mut table = table();
    match table.slots.get(&persistent) {
        None => Err(NtStatus::OBJECT_NAME_NOT_FOUND),
        // MS-SMB2 3.3.5.9.7: an open still held by a session is not found, unless that
        // session is being replaced or its connection has just gone.
        Some(Slot::Attached {
            notify, going, key, ..
        }) => {
            if first_attempt && (*going || notify.is_closed()) {
                Ok(Reclaim::Wait(*key))
            } else {
                Err(NtStatus::OBJECT_NAME_NOT_FOUND)
            }
        }
        Some(Slot::Parked { open, .. }) => {
            check(open)?;
            table
                .unpark(persistent)
                .map(Reclaim::Open)
                .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)
        }
    }
}

/// Whether CREATE name `name` names `path` (compared as SMB compares names, without
/// regard to case).
fn same_name(path: &SharePath, name: &str) -> bool {
    SharePath::parse(name).is_ok_and(|n| n.as_str().to_lowercase() == path.as_str().to_lowercase())
}

/// The durable handle a CREATE asks for, as granted: `DHnQ` on any dialect, `DH2Q` on
/// 3.x; the timeout and the `CreateGuid`.
pub(super) fn asked_timeout(
    ask: &DurableAsk,
    dialect: Option<Dialect>,
) -> Option<(Duration, Option<[u8; 16]>)> {
    match *ask {
        DurableAsk::V1 => Some((V1_TIMEOUT, None)),
        DurableAsk::V2 {
            timeout_ms,
            create_guid,
            ..
        } if dialect.is_some_and(Dialect::is_smb3) => {
            let asked = if timeout_ms == 0 {
                V2_DEFAULT
            } else {
                Duration::from_millis(u64::from(timeout_ms))
            };
            Some((asked.min(V2_MAX), Some(create_guid)))
        }
        _ => None,
    }
}

/// The response context granting `durable`.
pub(super) fn grant_context(durable: &Durability) -> CreateContext {
    match durable.create_guid {
        None => grant_v1(),
        Some(_) => grant_v2(
            u32::try_from(durable.timeout.as_millis()).unwrap_or(u32::MAX),
            0,
        ),
    }
}

/// What a CREATE's contexts ask about durability, as this connection's dialect reads
/// them (version 2 contexts are 3.x's).
pub(super) fn durable_ask(
    contexts: &[CreateContext],
    dialect: Option<Dialect>,
) -> Result<DurableAsk, Refusal> {
    let ask = match DurableAsk::from_contexts(contexts) {
        Ok(ask) => ask,
        Err(None) => return Err(Refusal::Status(NtStatus::INVALID_PARAMETER)),
        Err(Some(e)) => return Err(e.into()),
    };
    let v2 = matches!(ask, DurableAsk::V2 { .. } | DurableAsk::ReconnectV2 { .. });
    if v2 && !dialect.is_some_and(Dialect::is_smb3) {
        return Ok(DurableAsk::None);
    }
    Ok(ask)
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.9.7 / 3.3.5.9.12: a reconnect to a durable open. Only the contexts
    /// count; the name, disposition, access and the rest of the request are ignored.
    pub(super) fn reconnect(
        &mut self,
        header: &Header,
        name: &str,
        contexts: &[CreateContext],
        share: &Arc<DiskShare>,
        ask: DurableAsk,
    ) -> Result<Created, Refusal> {
        let token = self.token(header)?;
        let (file, create_guid) = match ask {
            DurableAsk::ReconnectV1(file) => (file, None),
            DurableAsk::ReconnectV2 {
                file, create_guid, ..
            } => (file, Some(create_guid)),
            _ => return Err(Refusal::Status(NtStatus::INVALID_PARAMETER)),
        };
        let lease = match CreateContext::find(contexts, CONTEXT_LEASE) {
            Some(ctx) => Some(LeaseContext::parse(&ctx.data)?),
            None => None,
        };
        let client = self.client.as_ref().map(|c| c.guid).unwrap_or_default();
        let not_found = Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        let check = |open: &FileOpen| {
            let Some(durable) = &open.durable else {
                return not_found;
            };
            // A version 2 reconnect repeats the open's CreateGuid (all zeros for a
            // version 1 open, as Samba compares it); a version 1 reconnect names only
            // the id.
            if create_guid.is_some_and(|g| g != durable.create_guid.unwrap_or_default()) {
                return not_found;
            }
            // A leased open comes back with its lease key, from the client that holds
            // the lease; an oplocked one without a lease.
            let lease_matches = match (durable.lease, &lease) {
                (Some(key), Some(asked)) => key == asked.key && durable.client == client,
                (None, None) => true,
                _ => false,
            };
            if !lease_matches || open.share.name != share.name {
                return not_found;
            }
            // A leased open is reconnected under its name (smbtorture's reopen2-lease:
            // Windows answers another name so, where an oplocked open ignores it).
            if durable.lease.is_some() && !same_name(&open.path, name) {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            // MS-SMB2 3.3.5.9.7: only the user who opened it.
            if open.token.user_sid != token.user_sid {
                return Err(NtStatus::ACCESS_DENIED);
            }
            Ok(())
        };
        let first_attempt = !header.flags.contains(HeaderFlags::ASYNC_COMMAND);
        let mut open =
            match reclaim(file.persistent, first_attempt, check).map_err(Refusal::Status)? {
                Reclaim::Open(open) => open,
                Reclaim::Wait(key) => {
                    OpenFiles::global().wait_for(key, &self.events);
                    return Ok(Created::Wait(Instant::now() + HANDOVER, key));
                }
            };
        let volatile = self.id();
        let file_id = FileId {
            persistent: open.persistent,
            volatile,
        };
        let holder = Holder {
            notify: self.events.clone(),
            session_id: header.session_id,
            file_id,
            client,
        };
        let cached = OpenFiles::global()
            .rehome(open.key, open.table_id, &holder)
            .unwrap_or_default();
        open.tree_id = header.tree_id;
        open.token = Arc::clone(&token);
        attach(open.persistent, header.session_id, &self.events, open.key);
        let stat = open.as_user(|h| h.stat());
        tracing::debug!(file = %open.path.as_str(), "durable open reconnected");
        self.tree(header)?.opens.insert(volatile, Open::File(*open));
        let stat = stat?;
        self.chain_file = Some(Ok(file_id));
        let contexts = cached
            .lease
            .map(|mut granted| {
                // Answered in the version asked.
                if lease.is_some_and(|l| l.v2.is_none()) {
                    granted.v2 = None;
                }
                CreateContext::encode_chain(&[CreateContext {
                    name: CONTEXT_LEASE.to_vec(),
                    data: granted.to_bytes(),
                }])
            })
            .unwrap_or_default();
        Ok(Created::Reply(self.created(
            header,
            &stat,
            cached.level,
            CreateAction::Opened,
            file_id,
            contexts,
        )))
    }
}
