//! The POSIX backend: a directory of the local file system as a share, reached only through
//! `openat2(RESOLVE_BENEATH)` from the share root's descriptor, so no name — `..`, an
//! absolute symlink, a symlink pointing out — resolves outside the root. Every call runs
//! with the caller's credentials (see [`creds`](super::creds)); the kernel checks the
//! permissions.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use adjoin_rpc::ntstatus::NtStatus;
use rustix::fs::{
    AtFlags, Dir, FileType, Mode, OFlags, RenameFlags, ResolveFlags, StatxFlags, Timespec,
    Timestamps, UTIME_OMIT,
};
use rustix::io::Errno;

use super::errno::from_errno;
use super::{
    Backend, CreateAction, DirEntry, Disposition, FsStat, Handle, Kind, OpenHow, SetTimes,
    SharePath, Stat,
};
use crate::server::limits::{Descriptors, HeldDescriptor};

/// The extended attribute that keeps the NT attributes POSIX has no place for: 4 bytes,
/// little-endian, of which only FILE_ATTRIBUTE_SPARSE_FILE is used (absent: none).
const ATTRIBUTES_XATTR: &str = "user.adjoin.attributes";

/// FILE_ATTRIBUTE_SPARSE_FILE in [`ATTRIBUTES_XATTR`].
const SPARSE: u32 = 0x0000_0200;

/// `fd`'s file by name, for the extended-attribute calls: they take no path descriptor
/// (O_PATH, an open for attributes only), but the descriptor's /proc link reaches the
/// file as the calling user.
fn proc_path(fd: &impl AsFd) -> String {
    format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd())
}

/// The NT attributes kept in [`ATTRIBUTES_XATTR`] (none when it is absent or the file
/// system keeps no extended attributes).
fn kept_attributes(fd: &impl AsFd) -> u32 {
    let mut value = [0u8; 4];
    // Every stat asks, so the descriptor itself first (no path to build and resolve); a
    // path descriptor answers EBADF and is asked through its /proc link.
    let got = match rustix::fs::fgetxattr(fd, ATTRIBUTES_XATTR, &mut value[..]) {
        Err(Errno::BADF) => {
            rustix::fs::getxattr(proc_path(fd).as_str(), ATTRIBUTES_XATTR, &mut value[..])
        }
        other => other,
    };
    match got {
        Ok(4) => u32::from_le_bytes(value),
        _ => 0,
    }
}

/// 1601-01-01 to 1970-01-01 in 100 ns units.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// The largest read or write in one call (the server caps requests below this).
const MAX_IO: usize = 8 * 1024 * 1024;

/// How every name is resolved: beneath the root, no /proc magic links.
fn resolve() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS
}

fn status(e: Errno) -> NtStatus {
    from_errno(e.raw_os_error())
}

/// A directory served as a share.
#[derive(Debug)]
pub struct PosixBackend {
    root: Arc<OwnedFd>,
    path: PathBuf,
    /// Descriptors of open files, shared by the opens of one file with the same flags
    /// under the same credentials (the kernel would grant each of them the same): 10,000
    /// clients holding one file open cost one descriptor, not 10,000.
    shared: Mutex<HashMap<SharedKey, Weak<HeldFd>>>,
    /// The budget every open file's descriptor is counted against.
    descriptors: &'static Descriptors,
}

/// An open file's descriptor, counted against the file server's descriptor budget
/// while it lives.
struct HeldFd {
    fd: OwnedFd,
    _held: HeldDescriptor,
}

fn held_fd(fd: OwnedFd, held: HeldDescriptor) -> Arc<HeldFd> {
    Arc::new(HeldFd { fd, _held: held })
}

impl AsFd for HeldFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl std::fmt::Debug for HeldFd {
    /// The descriptor alone (`OwnedFd { fd: N }`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.fd.fmt(f)
    }
}

/// A shareable descriptor: device, inode, open flags, effective uid and gid, and a hash of
/// the supplementary groups.
type SharedKey = (u64, u64, u32, u32, u32, u64);

impl PosixBackend {
    /// Opens the share root (as the daemon, once). Open files' descriptors count
    /// against the process's file-server budget ([`Descriptors::global`]).
    pub fn new(path: &Path) -> std::io::Result<Self> {
        Self::with_descriptors(path, Descriptors::global())
    }

    /// [`Self::new`] with descriptors counted against `descriptors`.
    pub fn with_descriptors(
        path: &Path,
        descriptors: &'static Descriptors,
    ) -> std::io::Result<Self> {
        let root = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self {
            root: Arc::new(root),
            path: path.to_owned(),
            shared: Mutex::new(HashMap::new()),
            descriptors,
        })
    }

    /// Counts a descriptor about to be opened against the budget, before anything is
    /// created or truncated: STATUS_TOO_MANY_OPENED_FILES when the file server holds all
    /// the descriptors it may (the rest are the daemon's).
    fn reserve(&self) -> Result<HeldDescriptor, NtStatus> {
        self.descriptors
            .take()
            .ok_or(NtStatus::TOO_MANY_OPENED_FILES)
    }

    /// The root's path on this host.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path` (the root itself for the empty path) opened with `flags`.
    fn open_at(&self, path: &SharePath, flags: OFlags, mode: u32) -> Result<OwnedFd, Errno> {
        let name = if path.is_root() { "." } else { path.as_str() };
        rustix::fs::openat2(
            self.root.as_fd(),
            name,
            flags | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
            resolve(),
        )
    }

    /// The directory holding `path`'s last component, and that component.
    fn parent<'p>(&self, path: &'p SharePath) -> Result<(OwnedFd, &'p str), NtStatus> {
        let (parent, leaf) = path.split_last().ok_or(NtStatus::ACCESS_DENIED)?;
        let fd = self
            .open_at(&parent, OFlags::PATH | OFlags::DIRECTORY, 0)
            .map_err(|e| match e {
                Errno::NOENT | Errno::NOTDIR => NtStatus::OBJECT_PATH_NOT_FOUND,
                other => status(other),
            })?;
        Ok((fd, leaf))
    }

    /// Opens an existing object: a directory for reading its entries, a file with the
    /// access asked for, truncated when the disposition says so.
    fn open_existing(
        &self,
        path: &SharePath,
        probe: OwnedFd,
        how: &OpenHow,
    ) -> Result<(PosixHandle, CreateAction), NtStatus> {
        let found = stat_fd(&probe)?;
        let directory = found.directory;
        match (how.kind, directory) {
            (Kind::Directory, false) => return Err(NtStatus::NOT_A_DIRECTORY),
            (Kind::File, true) => return Err(NtStatus::FILE_IS_A_DIRECTORY),
            _ => {}
        }
        if how.disposition == Disposition::Create {
            return Err(NtStatus::OBJECT_NAME_COLLISION);
        }
        if directory {
            if how.disposition.truncates() {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            // Reading the entries needs read permission; a directory opened only for its
            // attributes keeps the path descriptor.
            let held = self.reserve()?;
            let fd = self
                .open_at(path, OFlags::RDONLY | OFlags::DIRECTORY, 0)
                .unwrap_or(probe);
            return Ok((self.handle(fd, held, path), CreateAction::Opened));
        }
        let mut flags = data_flags(how);
        if how.disposition.truncates() {
            flags |= OFlags::TRUNC;
            if !how.write {
                flags = (flags - OFlags::PATH) | OFlags::WRONLY;
            }
        }
        let fd = if flags.contains(OFlags::TRUNC) {
            // Counted before the open truncates anything.
            let held = self.reserve()?;
            held_fd(self.open_at(path, flags, 0).map_err(status)?, held)
        } else {
            let key = shared_key(&found, flags);
            match self.shared_fd(&key) {
                // Shared: no new descriptor.
                Some(fd) => fd,
                None => {
                    let held = self.reserve()?;
                    let fd = if flags.contains(OFlags::PATH) {
                        probe
                    } else {
                        self.open_at(path, flags, 0).map_err(status)?
                    };
                    self.share(key, held_fd(fd, held))
                }
            }
        };
        let action = match how.disposition {
            Disposition::Supersede => CreateAction::Superseded,
            Disposition::Overwrite | Disposition::OverwriteIf => CreateAction::Overwritten,
            _ => CreateAction::Opened,
        };
        Ok((self.handle_of(fd, path), action))
    }

    /// Creates `path`: a directory with `mkdirat`, a file with `O_CREAT | O_EXCL`.
    fn create(&self, path: &SharePath, how: &OpenHow) -> Result<PosixHandle, NtStatus> {
        let held = self.reserve()?;
        let (parent, leaf) = self.parent(path)?;
        if how.kind == Kind::Directory {
            rustix::fs::mkdirat(&parent, leaf, Mode::from_raw_mode(how.mode)).map_err(status)?;
            let fd = self
                .open_at(path, OFlags::RDONLY | OFlags::DIRECTORY, 0)
                .map_err(status)?;
            return Ok(self.handle(fd, held, path));
        }
        let mut flags = data_flags(how) | OFlags::CREATE | OFlags::EXCL;
        if flags.contains(OFlags::PATH) {
            // O_PATH ignores O_CREAT: a file created for its attributes only opens read-only.
            flags = (flags - OFlags::PATH) | OFlags::RDONLY;
        }
        let fd = rustix::fs::openat(
            &parent,
            leaf,
            flags | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(how.mode),
        )
        .map_err(status)?;
        Ok(self.handle(fd, held, path))
    }

    /// A live descriptor for `key`, if an open holds one.
    fn shared_fd(&self, key: &SharedKey) -> Option<Arc<HeldFd>> {
        let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.get(key).and_then(Weak::upgrade)
    }

    /// Makes `fd` shareable under `key`.
    fn share(&self, key: SharedKey, fd: Arc<HeldFd>) -> Arc<HeldFd> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        // Entries of closed files go now and then, so the map stays as large as what is open.
        if shared.len() >= 1024 && shared.len().is_power_of_two() {
            shared.retain(|_, weak| weak.strong_count() > 0);
        }
        shared.insert(key, Arc::downgrade(&fd));
        fd
    }

    /// A handle on `fd`, a descriptor just opened and counted by `held`.
    fn handle(&self, fd: OwnedFd, held: HeldDescriptor, path: &SharePath) -> PosixHandle {
        self.handle_of(held_fd(fd, held), path)
    }

    fn handle_of(&self, fd: Arc<HeldFd>, path: &SharePath) -> PosixHandle {
        PosixHandle {
            fd,
            root: Arc::clone(&self.root),
            path: path.clone(),
        }
    }
}

/// The key under which an open of `stat`'s file with `flags` may share a descriptor: the
/// calling thread's effective credentials are part of it (the open runs as the user).
fn shared_key(stat: &Stat, flags: OFlags) -> SharedKey {
    use std::hash::{Hash, Hasher};
    let mut groups = std::collections::hash_map::DefaultHasher::new();
    rustix::process::getgroups()
        .unwrap_or_default()
        .iter()
        .map(|g| g.as_raw())
        .collect::<Vec<_>>()
        .hash(&mut groups);
    (
        stat.device,
        stat.file_index,
        flags.bits(),
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
        groups.finish(),
    )
}

/// The open flags for the data access asked for; `O_PATH` when none.
fn data_flags(how: &OpenHow) -> OFlags {
    match (how.read, how.write) {
        (true, true) => OFlags::RDWR,
        (false, true) => OFlags::WRONLY,
        (true, false) => OFlags::RDONLY,
        (false, false) => OFlags::PATH,
    }
}

impl Backend for PosixBackend {
    fn open(
        &self,
        path: &SharePath,
        how: &OpenHow,
    ) -> Result<(Box<dyn Handle>, CreateAction), NtStatus> {
        // A file that appears between the probe and O_EXCL is opened on the next round.
        for _ in 0..3 {
            match self.open_at(path, OFlags::PATH, 0) {
                Ok(probe) => {
                    let (handle, action) = self.open_existing(path, probe, how)?;
                    return Ok((Box::new(handle), action));
                }
                Err(Errno::NOENT) if how.disposition.creates() && !path.is_root() => {
                    match self.create(path, how) {
                        Ok(handle) => return Ok((Box::new(handle), CreateAction::Created)),
                        Err(NtStatus::OBJECT_NAME_COLLISION)
                            if how.disposition != Disposition::Create => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(Errno::NOENT) => {
                    // MS-FSCC: a missing directory on the way is a path, not a name, error.
                    return Err(match path.split_last() {
                        Some((parent, _)) if self.open_at(&parent, OFlags::PATH, 0).is_err() => {
                            NtStatus::OBJECT_PATH_NOT_FOUND
                        }
                        _ => NtStatus::OBJECT_NAME_NOT_FOUND,
                    });
                }
                Err(e) => return Err(status(e)),
            }
        }
        Err(NtStatus::SHARING_VIOLATION)
    }

    fn rename(&self, from: &SharePath, to: &SharePath, replace: bool) -> Result<(), NtStatus> {
        let (from_dir, from_leaf) = self.parent(from)?;
        let (to_dir, to_leaf) = self.parent(to)?;
        let flags = if replace {
            RenameFlags::empty()
        } else {
            RenameFlags::NOREPLACE
        };
        rustix::fs::renameat_with(&from_dir, from_leaf, &to_dir, to_leaf, flags).map_err(status)
    }

    fn link(&self, from: &SharePath, to: &SharePath, replace: bool) -> Result<(), NtStatus> {
        let (from_dir, from_leaf) = self.parent(from)?;
        let (to_dir, to_leaf) = self.parent(to)?;
        // Without AT_SYMLINK_FOLLOW: a symlink is linked as itself, never what it names.
        match rustix::fs::linkat(&from_dir, from_leaf, &to_dir, to_leaf, AtFlags::empty()) {
            Err(Errno::EXIST) if replace => {}
            done => return done.map_err(status),
        }
        // POSIX link() never replaces: link under a temporary name beside `to`, then
        // rename that over it, so the name is the old file or the new link, never missing.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = format!(".adjoin-link-{}-{n}", std::process::id());
        rustix::fs::linkat(&from_dir, from_leaf, &to_dir, &temporary, AtFlags::empty())
            .map_err(status)?;
        let renamed = rustix::fs::renameat(&to_dir, &temporary, &to_dir, to_leaf);
        // Gone after a rename, except when `to` already was this file (rename() then does
        // nothing) or the rename failed.
        let _ = rustix::fs::unlinkat(&to_dir, &temporary, AtFlags::empty());
        renamed.map_err(status)
    }

    fn hard_links(&self) -> bool {
        true
    }

    fn remove(&self, path: &SharePath, directory: bool) -> Result<(), NtStatus> {
        let (dir, leaf) = self.parent(path)?;
        let flags = if directory {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        rustix::fs::unlinkat(&dir, leaf, flags).map_err(status)
    }

    fn fs_stat(&self) -> Result<FsStat, NtStatus> {
        let vfs = rustix::fs::fstatvfs(self.root.as_fd()).map_err(status)?;
        Ok(FsStat {
            block_size: vfs.f_frsize.max(1),
            total_blocks: vfs.f_blocks,
            free_blocks: vfs.f_bfree,
            available_blocks: vfs.f_bavail,
            serial: vfs.f_fsid,
        })
    }
}

/// An open file or directory of a [`PosixBackend`].
#[derive(Debug)]
pub struct PosixHandle {
    fd: Arc<HeldFd>,
    root: Arc<OwnedFd>,
    path: SharePath,
}

fn filetime(sec: i64, nsec: u32) -> u64 {
    let since_1970 = i128::from(sec) * 10_000_000 + i128::from(nsec / 100);
    u64::try_from(i128::from(FILETIME_UNIX_EPOCH) + since_1970).unwrap_or(0)
}

fn timespec(filetime: u64) -> Timespec {
    let units = i128::from(filetime) - i128::from(FILETIME_UNIX_EPOCH);
    Timespec {
        tv_sec: i64::try_from(units.div_euclid(10_000_000)).unwrap_or(0),
        tv_nsec: i64::try_from(units.rem_euclid(10_000_000) * 100).unwrap_or(0),
    }
}

/// The protocol's view of what `fd` refers to.
fn stat_fd(fd: &impl AsFd) -> Result<Stat, NtStatus> {
    let x = rustix::fs::statx(
        fd,
        "",
        AtFlags::EMPTY_PATH,
        StatxFlags::BASIC_STATS | StatxFlags::BTIME,
    )
    .map_err(status)?;
    let directory = FileType::from_raw_mode(u32::from(x.stx_mode)) == FileType::Directory;
    let change = filetime(x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec);
    let creation = if x.stx_mask & StatxFlags::BTIME.bits() != 0 {
        filetime(x.stx_btime.tv_sec, x.stx_btime.tv_nsec)
    } else {
        change.min(filetime(x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec))
    };
    Ok(Stat {
        creation,
        last_access: filetime(x.stx_atime.tv_sec, x.stx_atime.tv_nsec),
        last_write: filetime(x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec),
        change,
        allocation_size: x.stx_blocks * 512,
        end_of_file: if directory { 0 } else { x.stx_size },
        directory,
        read_only: u32::from(x.stx_mode) & 0o222 == 0,
        file_index: x.stx_ino,
        links: x.stx_nlink,
        device: (u64::from(x.stx_dev_major) << 32) | u64::from(x.stx_dev_minor),
        uid: x.stx_uid,
        gid: x.stx_gid,
        mode: u32::from(x.stx_mode) & 0o7777,
        sparse: !directory && kept_attributes(fd) & SPARSE != 0,
    })
}

/// A read or write on a descriptor opened without that access.
fn io_status(e: Errno) -> NtStatus {
    if e == Errno::BADF {
        NtStatus::ACCESS_DENIED
    } else {
        status(e)
    }
}

impl Handle for PosixHandle {
    fn stat(&self) -> Result<Stat, NtStatus> {
        stat_fd(&self.fd)
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, NtStatus> {
        let mut buf = Vec::new();
        self.read_into(offset, len, &mut buf)?;
        Ok(buf)
    }

    fn read_into(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> Result<usize, NtStatus> {
        let want = len.min(MAX_IO);
        let start = out.len();
        out.reserve_exact(want);
        while out.len() - start < want {
            let at = offset.saturating_add((out.len() - start) as u64);
            // Into the unused capacity (rustix extends the vector by what it read):
            // nothing is zeroed first, and the data lands where the response carries it.
            match rustix::io::pread(&self.fd, rustix::buffer::spare_capacity(out), at) {
                Ok(0) => break,
                Ok(_) => {}
                Err(Errno::INTR) => {}
                Err(e) => return Err(io_status(e)),
            }
        }
        // The capacity may have held more than was asked for.
        out.truncate(start + want);
        Ok(out.len() - start)
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<usize, NtStatus> {
        let mut done = 0;
        while done < data.len() {
            let at = offset.saturating_add(done as u64);
            match rustix::io::pwrite(&self.fd, &data[done..], at) {
                Ok(0) => return Err(NtStatus::DISK_FULL),
                Ok(n) => done += n,
                Err(Errno::INTR) => {}
                Err(e) => return Err(io_status(e)),
            }
        }
        Ok(done)
    }

    fn flush(&self) -> Result<(), NtStatus> {
        rustix::fs::fsync(&self.fd).map_err(io_status)
    }

    fn set_len(&self, len: u64) -> Result<(), NtStatus> {
        rustix::fs::ftruncate(&self.fd, len).map_err(io_status)
    }

    fn set_times(&self, times: &SetTimes) -> Result<(), NtStatus> {
        let omit = Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_OMIT,
        };
        let pick = |t: Option<u64>| t.map_or(omit, timespec);
        let stamps = Timestamps {
            last_access: pick(times.last_access),
            last_modification: pick(times.last_write),
        };
        match rustix::fs::futimens(&self.fd, &stamps) {
            Err(Errno::BADF) => rustix::fs::futimens(&self.reopen()?, &stamps).map_err(status),
            other => other.map_err(status),
        }
    }

    fn reserve(&self, len: u64) -> Result<(), NtStatus> {
        if len == 0 {
            return Ok(());
        }
        match rustix::fs::fallocate(&self.fd, rustix::fs::FallocateFlags::KEEP_SIZE, 0, len) {
            Ok(()) | Err(Errno::OPNOTSUPP) => Ok(()),
            Err(e) => Err(io_status(e)),
        }
    }

    fn set_read_only(&self, read_only: bool) -> Result<(), NtStatus> {
        let mode = rustix::fs::fstat(&self.fd).map_err(io_status)?.st_mode & 0o7777;
        let new = if read_only {
            mode & !0o222
        } else if mode & 0o222 == 0 {
            mode | 0o200
        } else {
            mode
        };
        if new == mode {
            return Ok(());
        }
        self.set_mode(new)
    }

    fn set_mode(&self, mode: u32) -> Result<(), NtStatus> {
        let mode = Mode::from_raw_mode(mode & 0o7777);
        match rustix::fs::fchmod(&self.fd, mode) {
            Err(Errno::BADF) => rustix::fs::fchmod(&self.reopen()?, mode).map_err(status),
            other => other.map_err(status),
        }
    }

    fn set_sparse(&self, sparse: bool) -> Result<(), NtStatus> {
        let path = proc_path(&self.fd);
        let kept = kept_attributes(&self.fd);
        let new = if sparse {
            kept | SPARSE
        } else {
            kept & !SPARSE
        };
        if new == kept {
            return Ok(());
        }
        let result = if new == 0 {
            rustix::fs::removexattr(path.as_str(), ATTRIBUTES_XATTR)
        } else {
            rustix::fs::setxattr(
                path.as_str(),
                ATTRIBUTES_XATTR,
                &new.to_le_bytes(),
                rustix::fs::XattrFlags::empty(),
            )
        };
        result.map_err(status)
    }

    fn allocated_ranges(
        &self,
        offset: u64,
        end: u64,
        max: usize,
    ) -> Result<Vec<(u64, u64)>, NtStatus> {
        use rustix::fs::SeekFrom;
        let x = stat_fd(&self.fd)?;
        let end = end.min(x.end_of_file);
        if offset >= end {
            return Ok(Vec::new());
        }
        if !x.sparse {
            return Ok(vec![(offset, end - offset)]);
        }
        // SEEK_DATA and SEEK_HOLE walk the file's data (the descriptor's offset moves,
        // which nothing else uses: reads and writes give theirs).
        let mut ranges = Vec::new();
        let mut at = offset;
        while at < end && ranges.len() <= max {
            let data = match rustix::fs::seek(&self.fd, SeekFrom::Data(at)) {
                Ok(data) => data,
                Err(Errno::NXIO) => break,
                Err(e) => return Err(io_status(e)),
            };
            if data >= end {
                break;
            }
            let hole = rustix::fs::seek(&self.fd, SeekFrom::Hole(data))
                .map_err(io_status)?
                .min(end);
            ranges.push((data, hole - data));
            at = hole;
        }
        Ok(ranges)
    }

    fn zero_range(&self, offset: u64, end: u64) -> Result<(), NtStatus> {
        use rustix::fs::FallocateFlags;
        let x = stat_fd(&self.fd)?;
        let end = end.min(x.end_of_file);
        if offset >= end {
            return Ok(());
        }
        // A sparse file gives its blocks back; another keeps them, zeroed.
        let mode = if x.sparse {
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE
        } else {
            FallocateFlags::ZERO_RANGE | FallocateFlags::KEEP_SIZE
        };
        match rustix::fs::fallocate(&self.fd, mode, offset, end - offset) {
            Ok(()) => Ok(()),
            // A file system without them: zeros written.
            Err(Errno::OPNOTSUPP) => {
                let zeros = vec![0u8; (end - offset).min(1 << 20) as usize];
                let mut at = offset;
                while at < end {
                    let n = (end - at).min(zeros.len() as u64) as usize;
                    self.write(at, &zeros[..n])?;
                    at += n as u64;
                }
                Ok(())
            }
            Err(e) => Err(io_status(e)),
        }
    }

    fn list(&self) -> Result<Vec<DirEntry>, NtStatus> {
        let mut dir = Dir::read_from(&self.fd).map_err(io_status)?;
        let mut out = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(status)?;
            let Ok(name) = entry.file_name().to_str() else {
                // A name that is not UTF-8 cannot be spelled in UTF-16 for the client.
                tracing::debug!(dir = %self.path.as_str(), "skipping a name that is not UTF-8");
                continue;
            };
            if name == "." || name == ".." {
                continue;
            }
            let Some(stat) = self.entry_stat(name, entry.file_type()) else {
                continue;
            };
            out.push(DirEntry {
                name: name.to_owned(),
                stat,
            });
        }
        Ok(out)
    }
}

impl PosixHandle {
    /// The file again, by name beneath the share's root, as a descriptor that can change
    /// its metadata: this handle's may be a path descriptor (opened for attributes only).
    fn reopen(&self) -> Result<OwnedFd, NtStatus> {
        let name = if self.path.is_root() {
            "."
        } else {
            self.path.as_str()
        };
        rustix::fs::openat2(
            self.root.as_fd(),
            name,
            OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::empty(),
            resolve(),
        )
        .or_else(|_| {
            rustix::fs::openat2(
                self.root.as_fd(),
                name,
                OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
                resolve(),
            )
        })
        .map_err(status)
    }

    /// An entry's metadata; a symlink's target's when it resolves inside the share, `None`
    /// (the entry is not listed) when it does not or the entry vanished.
    fn entry_stat(&self, name: &str, kind: FileType) -> Option<Stat> {
        if kind != FileType::Symlink && kind != FileType::Unknown {
            let x = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
            if FileType::from_raw_mode(x.st_mode) != FileType::Symlink {
                let fd = rustix::fs::openat(
                    &self.fd,
                    name,
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .ok()?;
                return stat_fd(&fd).ok();
            }
        }
        let path = self.path.join(name).ok()?;
        let fd = rustix::fs::openat2(
            self.root.as_fd(),
            path.as_str(),
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            resolve(),
        )
        .ok()?;
        stat_fd(&fd).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetimes_round_trip() {
        let t = filetime(1_700_000_000, 123_456_700);
        let back = timespec(t);
        assert_eq!((back.tv_sec, back.tv_nsec), (1_700_000_000, 123_456_700));
        assert_eq!(filetime(0, 0), FILETIME_UNIX_EPOCH);
    }

    fn how(disposition: Disposition, kind: Kind) -> OpenHow {
        OpenHow {
            disposition,
            kind,
            read: true,
            write: true,
            mode: 0o644,
        }
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("adjoin-posix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn dispositions_create_open_and_overwrite() {
        let dir = tempdir("dispositions");
        let share = PosixBackend::new(&dir).unwrap();
        let name = SharePath::parse("a.txt").unwrap();
        let open = |d| share.open(&name, &how(d, Kind::File)).map(|(_, a)| a);
        assert_eq!(
            open(Disposition::Open).unwrap_err(),
            NtStatus::OBJECT_NAME_NOT_FOUND
        );
        assert_eq!(open(Disposition::Create).unwrap(), CreateAction::Created);
        assert_eq!(
            open(Disposition::Create).unwrap_err(),
            NtStatus::OBJECT_NAME_COLLISION
        );
        let (h, _) = share
            .open(&name, &how(Disposition::Open, Kind::File))
            .unwrap();
        assert_eq!(h.write(0, b"hello world").unwrap(), 11);
        assert_eq!(h.read(6, 100).unwrap(), b"world");
        assert_eq!(open(Disposition::OpenIf).unwrap(), CreateAction::Opened);
        assert_eq!(
            open(Disposition::Overwrite).unwrap(),
            CreateAction::Overwritten
        );
        assert_eq!(h.stat().unwrap().end_of_file, 0);
        assert_eq!(
            share
                .open(
                    &SharePath::parse(r"missing\a").unwrap(),
                    &how(Disposition::Open, Kind::Any)
                )
                .unwrap_err(),
            NtStatus::OBJECT_PATH_NOT_FOUND
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The sparse mark is kept in the file's extended attribute (seen by another open,
    /// through a path descriptor, and in a listing); a sparse file's allocated ranges are
    /// its data extents, and zeroing gives whole blocks back; a file that is not sparse
    /// holds data everywhere and keeps its blocks when zeroed.
    #[test]
    fn sparse_files_keep_their_mark_and_report_and_punch_holes() {
        let dir = tempdir("sparse");
        let share = PosixBackend::new(&dir).unwrap();
        let name = SharePath::parse("s.bin").unwrap();
        let (h, _) = share
            .open(&name, &how(Disposition::Create, Kind::File))
            .unwrap();
        let block = vec![7u8; 64 * 1024];
        h.write(0, &block).unwrap();
        h.write(1 << 20, &block).unwrap();
        let size = (1 << 20) + block.len() as u64;
        // Not sparse: one range, cut to the request and the end of the file.
        assert!(!h.stat().unwrap().sparse);
        assert_eq!(h.allocated_ranges(0, u64::MAX, 8).unwrap(), [(0, size)]);
        assert_eq!(h.allocated_ranges(size, size + 10, 8).unwrap(), []);
        h.set_sparse(true).unwrap();
        let attrs = OpenHow {
            read: false,
            write: false,
            ..how(Disposition::Open, Kind::File)
        };
        let (path_only, _) = share.open(&name, &attrs).unwrap();
        assert!(path_only.stat().unwrap().sparse);
        let (root, _) = share
            .open(
                &SharePath::parse("").unwrap(),
                &how(Disposition::Open, Kind::Directory),
            )
            .unwrap();
        assert!(
            root.list()
                .unwrap()
                .iter()
                .any(|e| e.name == "s.bin" && e.stat.sparse)
        );
        // Sparse: the two extents (the hole between them, written by nobody, is none).
        let ranges = h.allocated_ranges(0, u64::MAX, 8).unwrap();
        assert_eq!(ranges.len(), 2, "{ranges:?}");
        assert_eq!(ranges[0].0, 0);
        assert!(ranges[0].1 >= block.len() as u64 && ranges[0].1 < 1 << 20);
        assert_eq!(ranges[1], (1 << 20, block.len() as u64));
        // At most `max` + 1 are walked.
        assert_eq!(h.allocated_ranges(0, u64::MAX, 0).unwrap().len(), 1);
        // Zeroing the first extent punches it out; the length stays.
        h.zero_range(0, block.len() as u64).unwrap();
        assert_eq!(h.allocated_ranges(0, u64::MAX, 8).unwrap(), [ranges[1]]);
        assert_eq!(h.stat().unwrap().end_of_file, size);
        assert_eq!(h.read(0, 4).unwrap(), [0; 4]);
        // Past the end nothing is written.
        h.zero_range(size, size + 4096).unwrap();
        assert_eq!(h.stat().unwrap().end_of_file, size);
        // Cleared: the attribute goes.
        path_only.set_sparse(false).unwrap();
        assert!(!h.stat().unwrap().sparse);
        assert!(
            rustix::fs::getxattr(
                dir.join("s.bin").as_path(),
                ATTRIBUTES_XATTR,
                &mut [0u8; 4][..]
            )
            .is_err()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_read_only_attribute_is_the_write_permission_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempdir("read-only");
        let share = PosixBackend::new(&dir).unwrap();
        let name = SharePath::parse("ro.txt").unwrap();
        let ro = OpenHow {
            mode: 0o444,
            ..how(Disposition::Create, Kind::File)
        };
        let (h, _) = share.open(&name, &ro).unwrap();
        assert!(h.stat().unwrap().read_only);
        // The creating handle still writes.
        assert_eq!(h.write(0, b"x").unwrap(), 1);
        let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("ro.txt"), 0o444);
        h.set_read_only(false).unwrap();
        assert_eq!(mode("ro.txt"), 0o644);
        h.set_read_only(true).unwrap();
        assert_eq!(mode("ro.txt"), 0o444);
        // Through a descriptor opened for attributes only, too.
        let attrs = OpenHow {
            read: false,
            write: false,
            ..how(Disposition::Open, Kind::File)
        };
        let (path_only, _) = share.open(&name, &attrs).unwrap();
        path_only.set_read_only(false).unwrap();
        assert_eq!(mode("ro.txt"), 0o644);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directories_list_rename_and_remove() {
        let dir = tempdir("directories");
        let share = PosixBackend::new(&dir).unwrap();
        let sub = SharePath::parse("sub").unwrap();
        let (_, action) = share
            .open(&sub, &how(Disposition::Create, Kind::Directory))
            .unwrap();
        assert_eq!(action, CreateAction::Created);
        std::fs::write(dir.join("sub/x"), b"12345").unwrap();
        let (h, _) = share
            .open(&sub, &how(Disposition::Open, Kind::Directory))
            .unwrap();
        let entries = h.list().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, "x");
        assert_eq!(entries[0].stat.end_of_file, 5);
        assert_eq!(
            share
                .open(&sub, &how(Disposition::Open, Kind::File))
                .unwrap_err(),
            NtStatus::FILE_IS_A_DIRECTORY
        );
        let (x, y) = (
            SharePath::parse(r"sub\x").unwrap(),
            SharePath::parse("y").unwrap(),
        );
        share.rename(&x, &y, false).unwrap();
        assert!(dir.join("y").exists());
        std::fs::write(dir.join("z"), b"").unwrap();
        assert_eq!(
            share
                .rename(&y, &SharePath::parse("z").unwrap(), false)
                .unwrap_err(),
            NtStatus::OBJECT_NAME_COLLISION
        );
        assert_eq!(
            share.remove(&SharePath::root().join("sub").unwrap(), true),
            Ok(())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hard_links_name_the_same_file_and_replace_only_when_asked() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempdir("links");
        let share = PosixBackend::new(&dir).unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a"), b"first").unwrap();
        std::fs::write(dir.join("taken"), b"other").unwrap();
        let path = |p: &str| SharePath::parse(p).unwrap();
        let ino = |p: &str| std::fs::metadata(dir.join(p)).unwrap().ino();
        share.link(&path("a"), &path(r"sub\b"), false).unwrap();
        assert_eq!(ino("sub/b"), ino("a"));
        assert_eq!(std::fs::metadata(dir.join("a")).unwrap().nlink(), 2);
        assert_eq!(
            share.link(&path("a"), &path("taken"), false),
            Err(NtStatus::OBJECT_NAME_COLLISION)
        );
        assert_eq!(std::fs::read(dir.join("taken")).unwrap(), b"other");
        share.link(&path("a"), &path("taken"), true).unwrap();
        assert_eq!(ino("taken"), ino("a"));
        // Onto a name that already is this file: nothing changes, nothing is left over.
        share.link(&path("a"), &path(r"sub\b"), true).unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            !names.iter().any(|n| n.starts_with(".adjoin-link")),
            "{names:?}"
        );
        assert_eq!(std::fs::metadata(dir.join("a")).unwrap().nlink(), 3);
        assert_eq!(
            share.link(&path("missing"), &path("c"), false),
            Err(NtStatus::OBJECT_NAME_NOT_FOUND)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlinks_out_of_the_share_do_not_resolve() {
        let dir = tempdir("symlinks");
        let outside = tempdir("symlinks-outside");
        std::fs::write(outside.join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), dir.join("abs")).unwrap();
        std::os::unix::fs::symlink("../adjoin-posix-symlinks-outside", dir.join("rel")).unwrap();
        std::fs::write(dir.join("inside"), b"ok").unwrap();
        std::os::unix::fs::symlink("inside", dir.join("fine")).unwrap();
        let share = PosixBackend::new(&dir).unwrap();
        let open = |n: &str| {
            share
                .open(
                    &SharePath::parse(n).unwrap(),
                    &how(Disposition::Open, Kind::Any),
                )
                .map(|_| ())
        };
        assert_eq!(open("abs"), Err(NtStatus::ACCESS_DENIED));
        assert_eq!(open(r"rel\secret"), Err(NtStatus::ACCESS_DENIED));
        assert_eq!(open("fine"), Ok(()));
        let (root, _) = share
            .open(&SharePath::root(), &how(Disposition::Open, Kind::Directory))
            .unwrap();
        let mut names: Vec<_> = root.list().unwrap().into_iter().map(|e| e.name).collect();
        names.sort();
        assert_eq!(
            names,
            ["fine", "inside"],
            "links out of the share are not listed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }

    /// Each descriptor an open holds is counted against the budget (a descriptor shared
    /// by opens once); past it an open is STATUS_TOO_MANY_OPENED_FILES, and a closed one
    /// gives its descriptor back.
    #[test]
    fn open_files_descriptors_are_bounded_by_the_budget() {
        let dir = tempdir("budget");
        std::fs::write(dir.join("a"), b"a").unwrap();
        std::fs::write(dir.join("b"), b"b").unwrap();
        let descriptors: &'static Descriptors = Box::leak(Box::new(Descriptors::new(1)));
        let share = PosixBackend::with_descriptors(&dir, descriptors).unwrap();
        let read = OpenHow {
            write: false,
            ..how(Disposition::Open, Kind::File)
        };
        let (a, b) = (
            SharePath::parse("a").unwrap(),
            SharePath::parse("b").unwrap(),
        );
        let (first, _) = share.open(&a, &read).unwrap();
        assert_eq!(descriptors.held(), 1);
        // Another open of `a` shares the descriptor: no more counted.
        let (second, _) = share.open(&a, &read).unwrap();
        assert_eq!(descriptors.held(), 1);
        assert_eq!(
            share.open(&b, &read).err(),
            Some(NtStatus::TOO_MANY_OPENED_FILES)
        );
        let create = how(Disposition::Create, Kind::File);
        let c = SharePath::parse("c").unwrap();
        assert_eq!(
            share.open(&c, &create).err(),
            Some(NtStatus::TOO_MANY_OPENED_FILES)
        );
        drop((first, second));
        assert_eq!(descriptors.held(), 0);
        let (b_open, _) = share.open(&b, &read).unwrap();
        assert_eq!(b_open.read(0, 1).unwrap(), b"b");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn opens_of_one_file_with_the_same_access_share_a_descriptor() {
        let dir = tempdir("sharing");
        std::fs::write(dir.join("f"), b"data").unwrap();
        let share = PosixBackend::new(&dir).unwrap();
        let name = SharePath::parse("f").unwrap();
        let read = OpenHow {
            write: false,
            ..how(Disposition::Open, Kind::File)
        };
        // A handle's Debug form names its descriptor (`OwnedFd { fd: N }`).
        let fd_of = |h: &dyn Handle| format!("{h:?}");
        let (a, _) = share.open(&name, &read).unwrap();
        let (b, _) = share.open(&name, &read).unwrap();
        assert_eq!(
            fd_of(a.as_ref()),
            fd_of(b.as_ref()),
            "one descriptor for both"
        );
        let (c, _) = share
            .open(&name, &how(Disposition::Open, Kind::File))
            .unwrap();
        assert_ne!(
            fd_of(a.as_ref()),
            fd_of(c.as_ref()),
            "read-write is another descriptor"
        );
        assert_eq!(b.read(0, 4).unwrap(), b"data");
        // Once every open is gone the descriptor is closed, and the next open opens anew.
        let shared = share.shared.lock().unwrap().len();
        drop((a, b, c));
        assert!(
            share
                .shared
                .lock()
                .unwrap()
                .values()
                .all(|w| w.strong_count() == 0)
        );
        assert_eq!(share.shared.lock().unwrap().len(), shared);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
