//! CHANGE_NOTIFY (MS-SMB2 3.3.5.19; MS-FSA 2.1.5.10, 2.1.4.17): a client watches a
//! directory it has open and is told what changed in it (or below it, with
//! SMB2_WATCH_TREE) as FILE_NOTIFY_INFORMATION entries (MS-FSCC 2.7.1).
//!
//! One table for the whole process, as for oplocks (`oplock`): each watched open has a
//! [`Watch`] keyed by the directory's local path; every change made through the server
//! (any connection, any share over the same directory) is offered to the watches of its
//! directory and of the directories above it. A watch buffers what it is told; when a
//! request may be waiting, its connection is woken with an [`Event::Notify`] and its core
//! takes the buffer and answers (`pending`). Changes made by local processes are not seen.
//!
//! The watch is made by an open's first CHANGE_NOTIFY, with that request's filter, tree
//! flag and OutputBufferLength, as smbd does; later requests on the open share it.
//!
//! Bounds: a watch buffers at most [`MAX_CHANGES`] entries and [`MAX_BUFFER`] bytes (or
//! the first request's OutputBufferLength when smaller); past that it drops them and the
//! next answer is STATUS_NOTIFY_ENUM_DIR (as is an answer that would not fit the
//! request's OutputBufferLength). A connection watches at most [`MAX_WATCHES`] opens
//! (more are STATUS_INSUFFICIENT_RESOURCES). At most one wake-up per watch is in a
//! connection's queue at a time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use adjoin_rpc::ntstatus::NtStatus;

use super::backend::{CreateAction, SharePath};
use super::files::access;
use super::oplock::{Event, Notifier};
use super::pending::Waiting;
use super::share::DiskShare;
use super::{Refusal, ServerConnection};
use crate::proto::info::{FileNotifyInformation, NotifyAction};
use crate::proto::{
    Body, ChangeNotifyFlags, ChangeNotifyRequest, ChangeNotifyResponse, CompletionFilter, Header,
};

/// Entries one watch buffers.
pub(super) const MAX_CHANGES: usize = 1000;
/// Bytes (encoded) one watch buffers; Windows, too, answers a remote watch with at most
/// 64 KiB.
pub(super) const MAX_BUFFER: usize = 64 * 1024;
/// Opens one connection may watch.
pub(super) const MAX_WATCHES: usize = 256;
/// A waiting CHANGE_NOTIFY has no deadline; its timer is re-armed this often.
const REARM: Duration = Duration::from_secs(3600);

/// What happened to a name, as the file operations report it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Change<'a> {
    /// Opened by a CREATE that did this.
    Opened {
        action: CreateAction,
        directory: bool,
    },
    /// Created.
    Added { directory: bool },
    /// Removed (delete on close).
    Removed { directory: bool },
    /// Renamed to this name.
    Renamed { to: &'a SharePath, directory: bool },
    /// Its data or metadata changed, as the filter bits say.
    Modified(CompletionFilter),
}

/// One watched open.
#[derive(Debug)]
struct Watch {
    owner: u64,
    dir: String,
    tree: bool,
    filter: CompletionFilter,
    /// The buffer's bound: the first request's OutputBufferLength, at most MAX_BUFFER.
    max_len: usize,
    changes: Vec<FileNotifyInformation>,
    bytes: usize,
    overflowed: bool,
    /// The directory was marked for deletion: every answer is STATUS_DELETE_PENDING.
    deleted: bool,
    /// A wake-up is in the connection's queue (or was taken and not yet answered).
    signalled: bool,
    notify: Notifier,
}

impl Watch {
    fn push(&mut self, id: u64, entry: FileNotifyInformation) {
        if !self.overflowed && self.changes.last() != Some(&entry) {
            let len = entry.wire_len();
            if self.changes.len() >= MAX_CHANGES || self.bytes + len > self.max_len {
                self.overflowed = true;
                self.changes = Vec::new();
                self.bytes = 0;
            } else {
                self.bytes += len;
                self.changes.push(entry);
            }
        }
        self.wake(id);
    }

    /// Wakes the connection to answer a waiting request. A full queue loses the wake-up,
    /// not what the watch holds: the next change or request finds it.
    fn wake(&mut self, id: u64) {
        if !self.signalled && self.notify.try_send(Event::Notify(id)).is_ok() {
            self.signalled = true;
        }
    }
}

#[derive(Debug, Default)]
struct Table {
    watches: HashMap<u64, Watch>,
    by_dir: HashMap<String, Vec<u64>>,
    per_owner: HashMap<u64, usize>,
    next: u64,
}

fn table() -> MutexGuard<'static, Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// A connection's id in the table.
pub(super) fn new_owner() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The local path of `path` on `share`, as the table names directories.
fn local(share: &DiskShare, path: &SharePath) -> String {
    let root = share.path.trim_end_matches('/');
    if path.is_root() {
        root.to_owned()
    } else {
        format!("{root}/{}", path.as_str())
    }
}

/// Starts watching `dir` for connection `owner`.
fn watch(
    owner: u64,
    dir: String,
    req: &ChangeNotifyRequest,
    notify: Notifier,
) -> Result<u64, NtStatus> {
    let mut t = table();
    let count = t.per_owner.entry(owner).or_default();
    if *count >= MAX_WATCHES {
        return Err(NtStatus::INSUFFICIENT_RESOURCES);
    }
    *count += 1;
    t.next += 1;
    let id = t.next;
    t.by_dir.entry(dir.clone()).or_default().push(id);
    t.watches.insert(
        id,
        Watch {
            owner,
            dir,
            tree: req.flags.contains(ChangeNotifyFlags::WATCH_TREE),
            filter: req.completion_filter,
            max_len: (req.output_buffer_length as usize).min(MAX_BUFFER),
            changes: Vec::new(),
            bytes: 0,
            overflowed: false,
            deleted: false,
            signalled: false,
            notify,
        },
    );
    Ok(id)
}

/// Ends watch `id` (its open closed).
pub(super) fn unwatch(id: u64) {
    let mut t = table();
    let Some(watch) = t.watches.remove(&id) else {
        return;
    };
    if let Some(ids) = t.by_dir.get_mut(&watch.dir) {
        ids.retain(|w| *w != id);
        if ids.is_empty() {
            t.by_dir.remove(&watch.dir);
        }
    }
    if let Some(count) = t.per_owner.get_mut(&watch.owner) {
        *count -= 1;
        if *count == 0 {
            t.per_owner.remove(&watch.owner);
        }
    }
}

/// Ends every watch of connection `owner` (it ended).
pub(super) fn forget_owner(owner: u64) {
    let ids: Vec<u64> = table()
        .watches
        .iter()
        .filter(|(_, w)| w.owner == owner)
        .map(|(id, _)| *id)
        .collect();
    for id in ids {
        unwatch(id);
    }
}

/// What a watch holds for a request.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Taken {
    /// Nothing yet: the request waits.
    Nothing,
    /// The response buffer.
    Changes(Vec<u8>),
    /// Too much: STATUS_NOTIFY_ENUM_DIR.
    EnumDir,
    /// The directory is marked for deletion: STATUS_DELETE_PENDING.
    DeletePending,
}

/// Takes what watch `id` buffered, for a request with OutputBufferLength `len`.
fn take(id: u64, len: u32) -> Taken {
    let mut t = table();
    let Some(watch) = t.watches.get_mut(&id) else {
        return Taken::Nothing;
    };
    watch.signalled = false;
    if watch.deleted {
        return Taken::DeletePending;
    }
    let changes = std::mem::take(&mut watch.changes);
    watch.bytes = 0;
    if std::mem::take(&mut watch.overflowed) {
        return Taken::EnumDir;
    }
    if changes.is_empty() {
        return Taken::Nothing;
    }
    let bytes = FileNotifyInformation::encode_chain(&changes);
    // MS-SMB2 3.3.5.19 / smbd: what does not fit the client's buffer is not sent.
    if bytes.len() > (len as usize).min(watch.max_len) {
        return Taken::EnumDir;
    }
    Taken::Changes(bytes)
}

/// Tells the watches of `path`'s directory, and the tree watches above it, that `path`
/// on `share` changed. The one call the file operations make.
pub(super) fn changed(share: &DiskShare, path: &SharePath, change: Change<'_>) {
    let name_filter = |directory: bool| {
        if directory {
            CompletionFilter::DIR_NAME
        } else {
            CompletionFilter::FILE_NAME
        }
    };
    match change {
        Change::Opened { action, directory } => match action {
            CreateAction::Created => changed(share, path, Change::Added { directory }),
            CreateAction::Overwritten | CreateAction::Superseded => {
                let filter = CompletionFilter::SIZE | CompletionFilter::LAST_WRITE;
                changed(share, path, Change::Modified(filter));
            }
            _ => {}
        },
        Change::Added { directory } => {
            offer(share, path, NotifyAction::ADDED, name_filter(directory));
        }
        Change::Removed { directory } => {
            offer(share, path, NotifyAction::REMOVED, name_filter(directory));
        }
        Change::Modified(filter) => offer(share, path, NotifyAction::MODIFIED, filter),
        Change::Renamed { to, directory } => {
            let filter = name_filter(directory);
            // MS-FSA 2.1.5.15.12.1: a rename within a directory is its old and new
            // names; a move is a removal from one and an addition to the other.
            if path.split_last().map(|(p, _)| p) == to.split_last().map(|(p, _)| p) {
                offer(share, path, NotifyAction::RENAMED_OLD_NAME, filter);
                offer(share, to, NotifyAction::RENAMED_NEW_NAME, filter);
            } else {
                offer(share, path, NotifyAction::REMOVED, filter);
                offer(share, to, NotifyAction::ADDED, filter);
            }
        }
    }
}

/// Directory `path` on `share` was marked for deletion (a disposition set, or closed
/// with delete-on-close while other opens remain): CHANGE_NOTIFYs on its opens end with
/// STATUS_DELETE_PENDING, as smbd answers them, and so do later ones.
pub(super) fn delete_pending(share: &DiskShare, path: &SharePath) {
    let dir = local(share, path);
    let mut t = table();
    let ids = t.by_dir.get(&dir).cloned().unwrap_or_default();
    for id in ids {
        if let Some(watch) = t.watches.get_mut(&id) {
            watch.deleted = true;
            watch.wake(id);
        }
    }
}

fn offer(share: &DiskShare, path: &SharePath, action: NotifyAction, filter: CompletionFilter) {
    let Some((parent, name)) = path.split_last() else {
        return;
    };
    let mut dir = local(share, &parent);
    let mut rel = name.to_owned();
    let mut t = table();
    if t.watches.is_empty() {
        return;
    }
    let mut direct = true;
    loop {
        let ids = t.by_dir.get(&dir).cloned().unwrap_or_default();
        for id in ids {
            if let Some(watch) = t.watches.get_mut(&id)
                && (direct || watch.tree)
                && watch.filter.intersects(filter)
            {
                let entry = FileNotifyInformation {
                    action,
                    name: rel.clone(),
                };
                watch.push(id, entry);
            }
        }
        let Some(slash) = dir.rfind('/') else {
            break;
        };
        rel = format!("{}\\{rel}", &dir[slash + 1..]);
        dir.truncate(slash);
        direct = false;
    }
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.19 CHANGE_NOTIFY.
    pub(super) fn change_notify(
        &mut self,
        header: &Header,
        msg: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let (_, req) = ChangeNotifyRequest::from_message(msg)?;
        // MS-SMB2 3.3.5.19: an OutputBufferLength past MaxTransactSize is invalid.
        if req.output_buffer_length > self.max_io() {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        let (owner, events) = (self.notify_owner, self.events.clone());
        let open = self.file(header, req.file_id)?;
        // MS-SMB2 3.3.5.19: only a directory can be watched.
        if !open.directory {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        // MS-FSA 2.1.5.10: watching needs FILE_LIST_DIRECTORY.
        if open.access & access::READ_DATA == 0 {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        let id = match open.watch {
            Some(id) => id,
            None => {
                let dir = local(&open.share, &open.path);
                let id = watch(owner, dir, &req, events).map_err(Refusal::Status)?;
                open.watch = Some(id);
                id
            }
        };
        match self.notify_answer(header, id, req.output_buffer_length) {
            Some(reply) => Ok(reply),
            // MS-SMB2 <159>/<162> (Windows, and smbd after it; smb2.compound.interim2):
            // a CHANGE_NOTIFY that would wait but is not the last request of a compound
            // is refused with STATUS_INTERNAL_ERROR rather than left waiting in the
            // middle of the chain (its other checks come first: compound.related7/8).
            None if header.next_command != 0 => Err(Refusal::Status(NtStatus::INTERNAL_ERROR)),
            None => self.go_async(
                header,
                Waiting::Notify {
                    watch: id,
                    len: req.output_buffer_length,
                },
                Instant::now() + REARM,
            ),
        }
    }

    /// The answer to a CHANGE_NOTIFY on watch `id`, or `None` while nothing changed.
    pub(super) fn notify_answer(&self, header: &Header, id: u64, len: u32) -> Option<Vec<u8>> {
        match take(id, len) {
            Taken::Nothing => None,
            Taken::Changes(output) => {
                Some(self.reply(header, &ChangeNotifyResponse { output }, NtStatus::SUCCESS))
            }
            Taken::EnumDir => Some(self.error(header, NtStatus::NOTIFY_ENUM_DIR)),
            Taken::DeletePending => Some(self.error(header, NtStatus::DELETE_PENDING)),
        }
    }

    /// A waiting CHANGE_NOTIFY is due again (its timer): it goes on waiting.
    pub(super) fn notify_deadline() -> Instant {
        Instant::now() + REARM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(path: &str) -> DiskShare {
        DiskShare {
            name: "n".into(),
            comment: String::new(),
            path: path.into(),
            read_only: false,
            allowed_gids: None,
            encrypt: false,
            backend: std::sync::Arc::new(super::super::backend::memory::MemoryBackend::new()),
        }
    }

    fn request(tree: bool, len: u32) -> ChangeNotifyRequest {
        ChangeNotifyRequest {
            flags: if tree {
                ChangeNotifyFlags::WATCH_TREE
            } else {
                ChangeNotifyFlags::empty()
            },
            output_buffer_length: len,
            completion_filter: CompletionFilter::all(),
            ..ChangeNotifyRequest::default()
        }
    }

    fn names(taken: Taken) -> Vec<(NotifyAction, String)> {
        let Taken::Changes(bytes) = taken else {
            panic!("no changes: {taken:?}");
        };
        FileNotifyInformation::decode_chain(&bytes)
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.name))
            .collect()
    }

    #[test]
    fn changes_reach_the_directory_and_tree_watches_above_it() {
        let owner = new_owner();
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let s = share("/unit-notify-a/");
        let flat = watch(
            owner,
            "/unit-notify-a".into(),
            &request(false, 4096),
            tx.clone(),
        );
        let tree = watch(owner, "/unit-notify-a".into(), &request(true, 4096), tx);
        let (flat, tree) = (flat.unwrap(), tree.unwrap());
        let deep = SharePath::parse(r"d\e\f.txt").unwrap();
        changed(&s, &deep, Change::Added { directory: false });
        let top = SharePath::parse("g").unwrap();
        let to = SharePath::parse("h").unwrap();
        let renamed = Change::Renamed {
            to: &to,
            directory: true,
        };
        changed(&s, &top, renamed);
        // One wake-up per watch, however many changes.
        assert_eq!(rx.try_recv().unwrap(), Event::Notify(tree));
        assert_eq!(rx.try_recv().unwrap(), Event::Notify(flat));
        assert!(rx.try_recv().is_err());
        assert_eq!(
            names(take(tree, 4096)),
            [
                (NotifyAction::ADDED, r"d\e\f.txt".into()),
                (NotifyAction::RENAMED_OLD_NAME, "g".into()),
                (NotifyAction::RENAMED_NEW_NAME, "h".into()),
            ]
        );
        assert_eq!(
            names(take(flat, 4096)),
            [
                (NotifyAction::RENAMED_OLD_NAME, "g".into()),
                (NotifyAction::RENAMED_NEW_NAME, "h".into()),
            ]
        );
        assert_eq!(take(flat, 4096), Taken::Nothing);
        forget_owner(owner);
        assert!(!table().watches.contains_key(&flat));
        assert!(!table().per_owner.contains_key(&owner));
    }

    #[test]
    fn a_directory_marked_for_deletion_ends_its_watches_with_delete_pending() {
        let owner = new_owner();
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let s = share("/unit-notify-d/");
        let gone = watch(
            owner,
            "/unit-notify-d/gone".into(),
            &request(false, 4096),
            tx.clone(),
        );
        let other = watch(owner, "/unit-notify-d".into(), &request(false, 4096), tx);
        let (gone, other) = (gone.unwrap(), other.unwrap());
        delete_pending(&s, &SharePath::parse("gone").unwrap());
        assert_eq!(rx.try_recv().unwrap(), Event::Notify(gone));
        assert!(rx.try_recv().is_err(), "only the directory's own watches");
        assert_eq!(take(gone, 4096), Taken::DeletePending);
        assert_eq!(
            take(gone, 4096),
            Taken::DeletePending,
            "and every later answer"
        );
        assert_eq!(take(other, 4096), Taken::Nothing);
        forget_owner(owner);
    }

    #[test]
    fn a_watch_keeps_at_most_max_changes_then_asks_for_an_enumeration() {
        let owner = new_owner();
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        let s = share("/unit-notify-b");
        let id = watch(owner, "/unit-notify-b".into(), &request(false, 8 << 20), tx).unwrap();
        for i in 0..MAX_CHANGES {
            let p = SharePath::parse(&format!("{i}")).unwrap();
            changed(&s, &p, Change::Added { directory: false });
        }
        assert_eq!(names(take(id, 8 << 20)).len(), MAX_CHANGES);
        for i in 0..=MAX_CHANGES {
            let p = SharePath::parse(&format!("{i}")).unwrap();
            changed(&s, &p, Change::Added { directory: false });
        }
        assert_eq!(take(id, 8 << 20), Taken::EnumDir);
        assert_eq!(take(id, 8 << 20), Taken::Nothing);
        // The bytes, too: MAX_BUFFER at most, whatever the request allowed.
        let long = "x".repeat(4000);
        for i in 0..(MAX_BUFFER / 8000 + 1) {
            let p = SharePath::parse(&format!("{long}{i}")).unwrap();
            changed(&s, &p, Change::Added { directory: false });
        }
        assert_eq!(take(id, 8 << 20), Taken::EnumDir);
        unwatch(id);
    }

    #[test]
    fn a_connection_watches_at_most_max_watches_opens() {
        let owner = new_owner();
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        let ids: Vec<u64> = (0..MAX_WATCHES)
            .map(|_| {
                watch(
                    owner,
                    "/unit-notify-c".into(),
                    &request(false, 10),
                    tx.clone(),
                )
            })
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            watch(
                owner,
                "/unit-notify-c".into(),
                &request(false, 10),
                tx.clone()
            ),
            Err(NtStatus::INSUFFICIENT_RESOURCES)
        );
        unwatch(ids[0]);
        let again = watch(owner, "/unit-notify-c".into(), &request(false, 10), tx).unwrap();
        unwatch(again);
        forget_owner(owner);
        assert!(!table().by_dir.contains_key("/unit-notify-c"));
    }
}
