//! The server-wide table of open files, shared by every connection: who has a file open
//! with which access and sharing (MS-FSA 2.1.5.1.2 share access checks), its byte-range
//! locks (MS-FSA 2.1.5.7), and whether it is to be deleted when its last open closes.
//!
//! Files are keyed by device and inode, so two names of one file, and two shares over one
//! directory, meet in the same entry. The table lives as long as the process (one per
//! adjoind, as the kernel's file table is one per system).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use std::time::Instant;

use adjoin_rpc::ntstatus::NtStatus;

use super::oplock::{Caching, Granted, Holder, Notifier, Opening, Verdict, oplock_stat_open};
use super::token::UserToken;

/// MS-SMB2 2.2.13 ShareAccess.
pub const FILE_SHARE_READ: u32 = 0x1;
/// FILE_SHARE_WRITE.
pub const FILE_SHARE_WRITE: u32 = 0x2;
/// FILE_SHARE_DELETE.
pub const FILE_SHARE_DELETE: u32 = 0x4;

/// The access bits share modes are about (MS-FSA 2.1.5.1.2.1): data read, data write,
/// delete.
const READ_BITS: u32 = 0x0000_0001 | 0x0000_0020; // FILE_READ_DATA | FILE_EXECUTE
const WRITE_BITS: u32 = 0x0000_0002 | 0x0000_0004; // FILE_WRITE_DATA | FILE_APPEND_DATA
const DELETE_BIT: u32 = 0x0001_0000;

/// Locks one file may hold; past this a LOCK is refused (a client cannot grow the table
/// without bound).
const MAX_LOCKS_PER_FILE: usize = 4096;

/// A file: device and inode.
pub type FileKey = (u64, u64);

#[derive(Debug, Clone, Copy)]
struct OpenRecord {
    id: u64,
    access: u32,
    share: u32,
    /// The access asked, before share modes' view of it (a "stat open" breaks and holds
    /// no oplock).
    asked: u32,
}

/// One byte-range lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteLock {
    owner: u64,
    offset: u64,
    length: u64,
    exclusive: bool,
}

impl ByteLock {
    /// Whether this lock and a lock request overlap (Samba's and Windows' rule, MS-FSA
    /// 2.1.5.8): the half-open ranges `[offset, offset + length)` meet, so a zero-length
    /// range overlaps a lock only strictly inside it, and two zero-length ranges never.
    /// Computed in 128 bits: a range may end at 2^64.
    fn overlaps(&self, offset: u64, length: u64) -> bool {
        let end = u128::from(self.offset) + u128::from(self.length);
        let other_end = u128::from(offset) + u128::from(length);
        u128::from(self.offset) < other_end && u128::from(offset) < end
    }

    /// Whether this lock stands in the way of `owner`'s request for `range`: an
    /// exclusive request conflicts with every overlapping lock, its own open's included;
    /// a shared one with another open's exclusive lock (a shared lock stacks on the same
    /// open's exclusive one).
    fn conflicts(&self, owner: u64, range: &LockRange) -> bool {
        self.overlaps(range.offset, range.length)
            && (range.exclusive || (self.exclusive && self.owner != owner))
    }

    /// MS-FSA 2.1.4.10 for I/O: another open's exclusive lock blocks reads and writes;
    /// any shared lock, the writer's own included, blocks writes. Zero bytes of I/O
    /// conflict with nothing.
    fn blocks_io(&self, owner: u64, offset: u64, length: u64, write: bool) -> bool {
        length != 0
            && self.overlaps(offset, length)
            && if self.exclusive {
                self.owner != owner
            } else {
                write
            }
    }
}

#[derive(Debug, Default)]
struct Entry {
    opens: Vec<OpenRecord>,
    locks: Vec<ByteLock>,
    /// Marked for deletion, by this user: the file is removed with the credentials of
    /// whoever asked (who had the right to), not of whoever closes last.
    delete_pending: Option<Arc<UserToken>>,
    /// The file's name, `share/path` (see [`OpenFiles::name`]), so a directory's rename
    /// can tell whether anything below it is open.
    name: Option<String>,
    /// Oplocks, leases and who waits for their breaks.
    caching: Caching,
}

/// MS-FSA 2.1.5.1.2.1: an open without data or delete access takes no part in share
/// modes, either way.
fn share_view(access: u32, share: u32) -> (u32, u32) {
    if access & (READ_BITS | WRITE_BITS | DELETE_BIT) == 0 {
        (0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
    } else {
        (access, share)
    }
}

impl Entry {
    /// The opens whose share modes refuse a new open with `access` and `share`, or
    /// whose access the new open's sharing refuses.
    fn conflicts(&self, access: u32, share: u32) -> Vec<u64> {
        let (access, share) = share_view(access, share);
        let denies = |wanted: u32, sharing: u32| {
            (wanted & READ_BITS != 0 && sharing & FILE_SHARE_READ == 0)
                || (wanted & WRITE_BITS != 0 && sharing & FILE_SHARE_WRITE == 0)
                || (wanted & DELETE_BIT != 0 && sharing & FILE_SHARE_DELETE == 0)
        };
        self.opens
            .iter()
            .filter(|held| denies(access, held.share) || denies(held.access, share))
            .map(|held| held.id)
            .collect()
    }
}

/// One byte-range lock request element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRange {
    /// First byte.
    pub offset: u64,
    /// Bytes.
    pub length: u64,
    /// Exclusive (write) or shared (read).
    pub exclusive: bool,
}

/// A lease: the client's `ClientGuid` and the lease key.
type LeaseId = ([u8; 16], [u8; 16]);

/// What `OpenFiles::open` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Admitted: the open's id in the table, and what it may cache.
    Admitted(u64, Granted),
    /// Breaks are out; try again when woken or at this time.
    Wait(Instant),
}

impl LockRange {
    /// MS-FSA 2.1.5.8: a range's last byte must not lie past the largest 64-bit offset
    /// (a zero-length range may start anywhere).
    fn valid(&self) -> bool {
        self.length == 0 || self.offset.checked_add(self.length - 1).is_some()
    }
}

/// The table.
#[derive(Debug, Default)]
pub struct OpenFiles {
    files: Mutex<HashMap<FileKey, Entry>>,
    /// Which file each lease is on (a lease key names one file; locked after `files`).
    leases: Mutex<HashMap<LeaseId, FileKey>>,
    next_id: AtomicU64,
}

impl OpenFiles {
    /// The process's table.
    pub fn global() -> &'static Self {
        static TABLE: OnceLock<OpenFiles> = OnceLock::new();
        TABLE.get_or_init(Self::default)
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<FileKey, Entry>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// MS-FSA 2.1.5.1.2: admits an open of `key` with `access` (the granted mask) and
    /// `share` (ShareAccess) against the file's other opens; its id for the later calls.
    /// No oplock or lease is granted or broken (see `OpenFiles::open`).
    pub fn admit(&self, key: FileKey, access: u32, share: u32) -> Result<u64, NtStatus> {
        let mut files = self.files();
        let entry = files.entry(key).or_default();
        if entry.delete_pending.is_some() {
            return Err(NtStatus::DELETE_PENDING);
        }
        if !entry.conflicts(access, share).is_empty() {
            return Err(NtStatus::SHARING_VIOLATION);
        }
        Ok(self.push(entry, access, share))
    }

    /// [`Self::admit`] with caching: first the breaks the open sets off (a batch oplock
    /// or a handle lease of an open whose share modes refuse it; else exclusive and
    /// batch oplocks and write caching), waited for when they need the client's
    /// acknowledgment; then the share check; then what the open may cache.
    pub(super) fn open(
        &self,
        key: FileKey,
        access: u32,
        share: u32,
        opening: &Opening<'_>,
        now: Instant,
    ) -> Result<Admission, NtStatus> {
        let mut files = self.files();
        let entry = files.entry(key).or_default();
        let admission = self.open_entry(entry, key, access, share, opening, now);
        // A refused first open leaves no record of the file behind (the table holds only
        // files that are open, so a peer's refused opens cannot grow it).
        if admission.is_err() && entry.opens.is_empty() && entry.locks.is_empty() {
            files.remove(&key);
        }
        admission
    }

    /// [`Self::open`] on the file's record.
    fn open_entry(
        &self,
        entry: &mut Entry,
        key: FileKey,
        access: u32,
        share: u32,
        opening: &Opening<'_>,
        now: Instant,
    ) -> Result<Admission, NtStatus> {
        if entry.caching.expire(now) {
            entry.caching.wake(key);
        }
        if entry.delete_pending.is_some() {
            return Err(NtStatus::DELETE_PENDING);
        }
        // MS-SMB2 3.3.5.9.8: a lease key names one file.
        let lease = opening
            .wanted
            .lease
            .as_ref()
            .map(|l| (opening.holder.client, l.key));
        if let Some(lease) = &lease
            && self.lease_index().get(lease).is_some_and(|k| *k != key)
        {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        let conflicts = entry.conflicts(access, share);
        if let Verdict::Wait(deadline) = entry.caching.plan(opening, &conflicts, now) {
            entry.caching.wait(&opening.holder.notify);
            return Ok(Admission::Wait(deadline));
        }
        if !conflicts.is_empty() {
            return Err(NtStatus::SHARING_VIOLATION);
        }
        // Stat opens count only when they hold an oplock or lease.
        let others: Vec<u64> = entry
            .opens
            .iter()
            .filter(|o| !oplock_stat_open(o.asked) || entry.caching.holds(o.id))
            .map(|o| o.id)
            .collect();
        let id = self.push(entry, access, share);
        if let Some(record) = entry.opens.last_mut() {
            record.asked = opening.access;
        }
        let granted = match entry.caching.grant(id, opening, &others) {
            Ok(granted) => granted,
            Err(status) => {
                entry.opens.retain(|o| o.id != id);
                return Err(status);
            }
        };
        if let Some(lease) = lease
            && granted.lease.is_some()
        {
            self.lease_index().insert(lease, key);
        }
        Ok(Admission::Admitted(id, granted))
    }

    /// How many files the table holds a record of.
    #[cfg(test)]
    pub(super) fn tracked(&self) -> usize {
        self.files().len()
    }

    fn lease_index(&self) -> std::sync::MutexGuard<'_, HashMap<LeaseId, FileKey>> {
        self.leases.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a new open of `entry`, already admitted.
    fn push(&self, entry: &mut Entry, access: u32, share: u32) -> u64 {
        let (access, share) = share_view(access, share);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        entry.opens.push(OpenRecord {
            id,
            access,
            share,
            asked: access,
        });
        id
    }

    /// MS-SMB2 3.3.5.22.1: open `id` of `key` acknowledges an oplock break at `level`.
    pub(super) fn ack_oplock(&self, key: FileKey, id: u64, level: u8) -> Result<u8, NtStatus> {
        let mut files = self.files();
        let entry = files
            .get_mut(&key)
            .ok_or(NtStatus::INVALID_OPLOCK_PROTOCOL)?;
        let acked = entry.caching.ack_oplock(id, level);
        entry.caching.wake(key);
        acked
    }

    /// MS-SMB2 3.3.5.22.2: the client acknowledges a lease break.
    pub(super) fn ack_lease(
        &self,
        client: &[u8; 16],
        lease: &[u8; 16],
        state: u32,
    ) -> Result<u32, NtStatus> {
        let mut files = self.files();
        let key = *self
            .lease_index()
            .get(&(*client, *lease))
            .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        let entry = files.get_mut(&key).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        let acked = entry
            .caching
            .ack_lease(client, lease, state, Instant::now());
        entry.caching.wake(key);
        acked
    }

    /// Open `id` changed the data (a write, a truncation, a byte-range lock): the other
    /// opens' read caching goes (MS-FSA 2.1.5.17; nothing waits).
    pub(super) fn break_for_write(&self, key: FileKey, id: u64) {
        if let Some(entry) = self.files().get_mut(&key) {
            entry.caching.break_for_write(id, Instant::now());
        }
    }

    /// Open `id` of `key` is about to rename or delete the file: other clients' handle
    /// leases are broken first. The deadline to wait until (the connection behind
    /// `notify` is woken sooner when the breaks end), or `None` to go ahead.
    pub(super) fn break_handles(
        &self,
        key: FileKey,
        id: u64,
        notify: &Notifier,
        now: Instant,
    ) -> Option<Instant> {
        let mut files = self.files();
        let entry = files.get_mut(&key)?;
        if entry.caching.expire(now) {
            entry.caching.wake(key);
        }
        let deadline = entry.caching.break_handles(id, now)?;
        entry.caching.wait(notify);
        Some(deadline)
    }

    /// Open `id` of `key` (a durable open reconnected) answers on `holder`'s
    /// connection from now on; what it caches, or `None` if the table does not know it.
    pub(super) fn rehome(&self, key: FileKey, id: u64, holder: &Holder) -> Option<Granted> {
        let mut files = self.files();
        let entry = files.get_mut(&key)?;
        if !entry.opens.iter().any(|o| o.id == id) {
            return None;
        }
        Some(entry.caching.rehome(id, holder))
    }

    /// Wakes (with [`Event::Wake`](super::oplock::Event::Wake)) the connection behind
    /// `notify` at the next change to `key`'s opens.
    pub(super) fn wait_for(&self, key: FileKey, notify: &Notifier) {
        if let Some(entry) = self.files().get_mut(&key) {
            entry.caching.wait(notify);
        }
    }

    /// Wakes the connections waiting on `key`.
    pub(super) fn wake(&self, key: FileKey) {
        if let Some(entry) = self.files().get_mut(&key) {
            entry.caching.wake(key);
        }
    }

    /// Names open file `key` `share/path` (at its open, and again when it is renamed).
    pub fn name(&self, key: FileKey, name: String) {
        if let Some(entry) = self.files().get_mut(&key) {
            entry.name = Some(name);
        }
    }

    /// Whether a file is open by the table name `name` (`share/path`).
    pub fn open_named(&self, name: &str) -> bool {
        self.files()
            .values()
            .any(|e| e.name.as_deref() == Some(name))
    }

    /// MS-FSA 2.1.5.15.12: whether a file below directory `share/path` is open (such a
    /// directory cannot be renamed).
    pub fn open_below(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.files()
            .values()
            .any(|e| e.name.as_ref().is_some_and(|n| n.starts_with(&prefix)))
    }

    /// Whether a rename may put a name into directory `key`: not while another open of
    /// the directory holds DELETE access (STATUS_SHARING_VIOLATION, as Windows and Samba
    /// answer: the rename opens the destination's parent, which cannot go while renamed
    /// into).
    pub fn check_rename_parent(&self, key: FileKey) -> Result<(), NtStatus> {
        let files = self.files();
        let Some(entry) = files.get(&key) else {
            return Ok(());
        };
        if entry.opens.iter().any(|o| o.access & DELETE_BIT != 0) {
            Err(NtStatus::SHARING_VIOLATION)
        } else {
            Ok(())
        }
    }

    /// Marks `key` for deletion at its last close by `by` (`None` clears the mark).
    pub fn set_delete_pending(&self, key: FileKey, by: Option<Arc<UserToken>>) {
        if let Some(entry) = self.files().get_mut(&key) {
            entry.delete_pending = by;
        }
    }

    /// Whether `key` is marked for deletion.
    pub fn delete_pending(&self, key: FileKey) -> bool {
        self.files()
            .get(&key)
            .is_some_and(|e| e.delete_pending.is_some())
    }

    /// Ends open `id`: its locks go. When it was the file's last open and the file is
    /// marked for deletion: the user who marked it, who deletes it now.
    pub fn close(&self, key: FileKey, id: u64) -> Option<Arc<UserToken>> {
        let mut files = self.files();
        let entry = files.get_mut(&key)?;
        entry.opens.retain(|o| o.id != id);
        entry.locks.retain(|l| l.owner != id);
        if let Some(lease) = entry.caching.close(id) {
            self.lease_index().remove(&lease);
        }
        entry.caching.wake(key);
        if entry.opens.is_empty() {
            return files.remove(&key).and_then(|e| e.delete_pending);
        }
        None
    }

    /// MS-FSA 2.1.5.8: takes every range for open `owner`, or none. A conflict is
    /// STATUS_LOCK_NOT_GRANTED with nothing taken, so the caller decides: a request that
    /// may not wait fails with it; one that may wait gives `waiter`, which is woken
    /// ([`Event::Wake`](super::oplock::Event::Wake)) when a lock of the file goes (an
    /// unlock or a close), to try again.
    pub fn lock(
        &self,
        key: FileKey,
        owner: u64,
        ranges: &[LockRange],
        waiter: Option<&Notifier>,
    ) -> Result<(), NtStatus> {
        if ranges.iter().any(|r| !r.valid()) {
            return Err(NtStatus::INVALID_LOCK_RANGE);
        }
        let mut files = self.files();
        let entry = files.entry(key).or_default();
        if entry.locks.len() + ranges.len() > MAX_LOCKS_PER_FILE {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        let mut taken = Vec::with_capacity(ranges.len());
        for range in ranges {
            let conflict = entry
                .locks
                .iter()
                .chain(&taken)
                .any(|held| held.conflicts(owner, range));
            if conflict {
                if let Some(waiter) = waiter {
                    entry.caching.wait(waiter);
                }
                return Err(NtStatus::LOCK_NOT_GRANTED);
            }
            taken.push(ByteLock {
                owner,
                offset: range.offset,
                length: range.length,
                exclusive: range.exclusive,
            });
        }
        entry.locks.extend(taken);
        Ok(())
    }

    /// MS-FSA 2.1.5.9: removes one lock of `owner` over exactly `range` (an exclusive one
    /// before a shared one); none is STATUS_RANGE_NOT_LOCKED.
    pub fn unlock(&self, key: FileKey, owner: u64, range: &LockRange) -> Result<(), NtStatus> {
        if !range.valid() {
            return Err(NtStatus::INVALID_LOCK_RANGE);
        }
        let mut files = self.files();
        let entry = files.get_mut(&key).ok_or(NtStatus::RANGE_NOT_LOCKED)?;
        let mine =
            |l: &ByteLock| l.owner == owner && l.offset == range.offset && l.length == range.length;
        let at = entry
            .locks
            .iter()
            .position(|l| mine(l) && l.exclusive)
            .or_else(|| entry.locks.iter().rposition(mine))
            .ok_or(NtStatus::RANGE_NOT_LOCKED)?;
        entry.locks.remove(at);
        // A LOCK waiting for this range may now take it.
        entry.caching.wake(key);
        Ok(())
    }

    /// MS-FSA 2.1.4.10: whether open `owner` may read (`write == false`) or write the
    /// range: another open's exclusive lock blocks both, any shared lock blocks writes.
    pub fn check_io(
        &self,
        key: FileKey,
        owner: u64,
        offset: u64,
        length: u64,
        write: bool,
    ) -> Result<(), NtStatus> {
        let files = self.files();
        let Some(entry) = files.get(&key) else {
            return Ok(());
        };
        let blocked = entry
            .locks
            .iter()
            .any(|l| l.blocks_io(owner, offset, length, write));
        if blocked {
            Err(NtStatus::FILE_LOCK_CONFLICT)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::alice;
    use super::*;

    const ALL_SHARE: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

    #[test]
    fn share_modes_conflict_both_ways() {
        let t = OpenFiles::default();
        let key = (1, 1);
        // A reader that shares only reading...
        let a = t.admit(key, READ_BITS, FILE_SHARE_READ).unwrap();
        // ...admits another reader, refuses a writer.
        t.admit(key, READ_BITS, ALL_SHARE).unwrap();
        assert_eq!(
            t.admit(key, WRITE_BITS, ALL_SHARE),
            Err(NtStatus::SHARING_VIOLATION)
        );
        // A reader that does not share writing is refused while a writer holds it open.
        let other = (1, 2);
        t.admit(other, WRITE_BITS, ALL_SHARE).unwrap();
        assert_eq!(
            t.admit(other, READ_BITS, FILE_SHARE_READ),
            Err(NtStatus::SHARING_VIOLATION)
        );
        // Attribute-only opens never conflict.
        t.admit(key, 0x80, 0).unwrap();
        assert!(t.close(key, a).is_none());
    }

    #[test]
    fn delete_happens_at_the_last_close() {
        let t = OpenFiles::default();
        let key = (2, 2);
        let a = t.admit(key, READ_BITS, ALL_SHARE).unwrap();
        let b = t.admit(key, DELETE_BIT, ALL_SHARE).unwrap();
        let alice = Arc::new(alice());
        t.set_delete_pending(key, Some(Arc::clone(&alice)));
        assert!(t.delete_pending(key));
        assert_eq!(
            t.admit(key, READ_BITS, ALL_SHARE),
            Err(NtStatus::DELETE_PENDING)
        );
        assert!(t.close(key, b).is_none());
        assert_eq!(
            t.close(key, a),
            Some(alice),
            "the last close deletes, as the marker"
        );
    }

    #[test]
    fn byte_range_locks_conflict_and_unlock_exactly() {
        let t = OpenFiles::default();
        let key = (3, 3);
        let range = |offset, length, exclusive| LockRange {
            offset,
            length,
            exclusive,
        };
        t.lock(key, 1, &[range(0, 10, true)], None).unwrap();
        assert_eq!(
            t.lock(key, 2, &[range(5, 10, false)], None),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        // Shared locks coexist; a zero-length range at a lock's end conflicts with nothing.
        t.lock(key, 2, &[range(10, 10, false), range(10, 0, true)], None)
            .unwrap();
        t.lock(key, 3, &[range(12, 2, false)], None).unwrap();
        // All or nothing: the second range conflicts, so the first is not kept.
        assert_eq!(
            t.lock(key, 3, &[range(100, 1, true), range(0, 1, false)], None),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        t.lock(key, 4, &[range(100, 1, true)], None).unwrap();
        // I/O: others' exclusive locks block reads; any other lock blocks writes.
        assert_eq!(
            t.check_io(key, 2, 0, 4, false),
            Err(NtStatus::FILE_LOCK_CONFLICT)
        );
        assert_eq!(t.check_io(key, 1, 0, 4, true), Ok(()));
        assert_eq!(t.check_io(key, 1, 12, 1, false), Ok(()));
        assert_eq!(
            t.check_io(key, 1, 12, 1, true),
            Err(NtStatus::FILE_LOCK_CONFLICT)
        );
        // Unlock must name the range exactly.
        assert_eq!(
            t.unlock(key, 1, &range(0, 5, true)),
            Err(NtStatus::RANGE_NOT_LOCKED)
        );
        t.unlock(key, 1, &range(0, 10, true)).unwrap();
        assert_eq!(t.check_io(key, 2, 0, 4, false), Ok(()));
        // Overlap arithmetic at the top of the range does not wrap; a range past the
        // largest offset is refused.
        t.lock(key, 5, &[range(u64::MAX - 1, 2, true)], None)
            .unwrap();
        assert_eq!(
            t.lock(key, 6, &[range(u64::MAX - 2, 2, true)], None),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        assert_eq!(
            t.lock(key, 6, &[range(u64::MAX, u64::MAX, true)], None),
            Err(NtStatus::INVALID_LOCK_RANGE)
        );
    }

    #[test]
    fn locks_stack_on_one_open_and_zero_length_ranges_meet_inside_locks() {
        let t = OpenFiles::default();
        let key = (4, 4);
        let range = |offset, length, exclusive| LockRange {
            offset,
            length,
            exclusive,
        };
        // A shared lock stacks on the same open's exclusive one, not on another's; an
        // exclusive lock stacks on nothing, the open's own locks included.
        t.lock(key, 1, &[range(0, 10, true)], None).unwrap();
        t.lock(key, 1, &[range(0, 10, false)], None).unwrap();
        t.lock(key, 1, &[range(0, 10, false)], None).unwrap();
        assert_eq!(
            t.lock(key, 2, &[range(0, 10, false)], None),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        assert_eq!(
            t.lock(key, 1, &[range(5, 1, true)], None),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        // Three locks, three unlocks (the exclusive one first: another open may then
        // share the range); the fourth finds nothing.
        t.unlock(key, 1, &range(0, 10, false)).unwrap();
        t.lock(key, 2, &[range(0, 10, false)], None).unwrap();
        t.unlock(key, 2, &range(0, 10, false)).unwrap();
        t.unlock(key, 1, &range(0, 10, false)).unwrap();
        t.unlock(key, 1, &range(0, 10, false)).unwrap();
        assert_eq!(
            t.unlock(key, 1, &range(0, 10, false)),
            Err(NtStatus::RANGE_NOT_LOCKED)
        );
        // A zero-length range conflicts with a lock it lies strictly inside, never with
        // one it starts or ends, nor with another zero-length range.
        t.lock(key, 1, &[range(10, 0, true)], None).unwrap();
        t.lock(key, 2, &[range(10, 0, true)], None).unwrap();
        t.lock(key, 2, &[range(9, 1, true), range(10, 2, true)], None)
            .unwrap();
        assert_eq!(
            t.lock(key, 2, &[range(9, 2, true)], None),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        assert_eq!(
            t.lock(key, 1, &[range(10, 0, true)], None),
            Ok(()),
            "zero-length locks never meet"
        );
        assert_eq!(
            t.lock(key, 1, &[range(11, 0, true)], None),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        // I/O: an open's own shared lock blocks its writes, its exclusive lock nothing;
        // zero bytes of I/O meet no lock.
        t.lock(key, 3, &[range(100, 10, false), range(200, 10, true)], None)
            .unwrap();
        assert_eq!(
            t.check_io(key, 3, 100, 5, true),
            Err(NtStatus::FILE_LOCK_CONFLICT)
        );
        assert_eq!(t.check_io(key, 3, 100, 5, false), Ok(()));
        assert_eq!(t.check_io(key, 3, 200, 5, true), Ok(()));
        assert_eq!(t.check_io(key, 4, 205, 0, false), Ok(()));
    }
}
