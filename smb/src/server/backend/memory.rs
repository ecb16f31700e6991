//! A share held in memory, for deterministic tests and fuzzing of the file commands: the
//! same [`Backend`] contract as the POSIX backend (dispositions, kinds, renames, removal
//! of empty directories only), no permissions, a clock that only moves when told.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use adjoin_rpc::ntstatus::NtStatus;

use super::{
    Backend, CreateAction, DirEntry, Disposition, FsStat, Handle, Kind, OpenHow, SetTimes,
    SharePath, Stat,
};

/// Device numbers of memory shares (far from real ones).
static NEXT_DEVICE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1 << 40);

/// The most bytes one file may hold (a test share, not a disk).
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// The block size of a sparse file's holes: a block of zeros holds no data.
const HOLE_BLOCK: u64 = 4096;

#[derive(Debug, Clone)]
struct Node {
    directory: bool,
    data: Vec<u8>,
    created: u64,
    accessed: u64,
    written: u64,
    /// The permission bits (no write bit: FILE_ATTRIBUTE_READONLY).
    mode: u32,
    /// Bytes reserved beyond the data (`reserve`).
    reserved: u64,
    /// FILE_ATTRIBUTE_SPARSE_FILE: its 4 KiB blocks of zeros count as holes.
    sparse: bool,
}

#[derive(Debug)]
struct Tree {
    /// Path (as [`SharePath::as_str`]) to inode.
    paths: HashMap<String, u64>,
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    /// FILETIME now.
    now: u64,
    /// This share's device number: unique per backend, so the server-wide open-file table
    /// (keyed by device and inode) never confuses two memory shares.
    device: u64,
}

impl Tree {
    fn node(&self, path: &str) -> Option<&Node> {
        self.paths.get(path).and_then(|ino| self.nodes.get(ino))
    }

    fn parent_is_dir(&self, path: &SharePath) -> bool {
        match path.split_last() {
            None => true,
            Some((parent, _)) => self.node(parent.as_str()).is_some_and(|n| n.directory),
        }
    }

    fn stat(&self, ino: u64) -> Result<Stat, NtStatus> {
        let node = self.nodes.get(&ino).ok_or(NtStatus::FILE_CLOSED)?;
        let size = node.data.len() as u64;
        Ok(Stat {
            creation: node.created,
            last_access: node.accessed,
            last_write: node.written,
            change: node.written,
            allocation_size: size.max(node.reserved).next_multiple_of(4096),
            end_of_file: if node.directory { 0 } else { size },
            directory: node.directory,
            read_only: node.mode & 0o222 == 0,
            file_index: ino,
            links: 1,
            device: self.device,
            // Every file is the process's: the memory share has no owners.
            uid: 0,
            gid: 0,
            mode: node.mode,
            sparse: node.sparse,
        })
    }

    /// An entry of `path`'s directory was added or removed: the directory was written
    /// (as a POSIX directory's times move).
    fn touch_parent(&mut self, path: &SharePath) {
        let now = self.now;
        let parent = path
            .split_last()
            .map(|(parent, _)| parent)
            .unwrap_or_default();
        if let Some(node) = self
            .paths
            .get(parent.as_str())
            .and_then(|ino| self.nodes.get_mut(ino))
        {
            node.written = now;
        }
    }

    fn children(&self, dir: &str) -> impl Iterator<Item = (&str, u64)> {
        self.paths.iter().filter_map(move |(path, ino)| {
            let (parent, leaf) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            (!path.is_empty() && parent == dir).then_some((leaf, *ino))
        })
    }
}

/// A share in memory.
#[derive(Debug, Clone)]
pub struct MemoryBackend {
    tree: Arc<Mutex<Tree>>,
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBackend {
    /// An empty share (its root directory only), the clock at 2026-01-01.
    pub fn new() -> Self {
        let now = 134_116_992_000_000_000;
        let root = Node {
            directory: true,
            data: Vec::new(),
            created: now,
            accessed: now,
            written: now,
            mode: 0o755,
            reserved: 0,
            sparse: false,
        };
        Self {
            tree: Arc::new(Mutex::new(Tree {
                paths: HashMap::from([(String::new(), 1)]),
                nodes: HashMap::from([(1, root)]),
                next_ino: 2,
                now,
                device: NEXT_DEVICE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            })),
        }
    }

    fn tree(&self) -> std::sync::MutexGuard<'_, Tree> {
        self.tree.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the clock on by `ticks` (100 ns units).
    pub fn advance(&self, ticks: u64) {
        self.tree().now += ticks;
    }

    /// The contents of file `path` (for checks in tests).
    pub fn contents(&self, path: &str) -> Option<Vec<u8>> {
        let tree = self.tree();
        tree.node(path)
            .filter(|n| !n.directory)
            .map(|n| n.data.clone())
    }

    /// Whether `path` exists.
    pub fn exists(&self, path: &str) -> bool {
        self.tree().paths.contains_key(path)
    }
}

impl Backend for MemoryBackend {
    fn open(
        &self,
        path: &SharePath,
        how: &OpenHow,
    ) -> Result<(Box<dyn Handle>, CreateAction), NtStatus> {
        let mut tree = self.tree();
        let now = tree.now;
        let action = match tree.paths.get(path.as_str()).copied() {
            Some(ino) => {
                let node = tree.nodes.get_mut(&ino).ok_or(NtStatus::INTERNAL_ERROR)?;
                match (how.kind, node.directory) {
                    (Kind::Directory, false) => return Err(NtStatus::NOT_A_DIRECTORY),
                    (Kind::File, true) => return Err(NtStatus::FILE_IS_A_DIRECTORY),
                    _ => {}
                }
                // As a POSIX open for writing of a file without write permission.
                if how.write && node.mode & 0o222 == 0 {
                    return Err(NtStatus::ACCESS_DENIED);
                }
                match how.disposition {
                    Disposition::Create => return Err(NtStatus::OBJECT_NAME_COLLISION),
                    d if d.truncates() && node.directory => {
                        return Err(NtStatus::INVALID_PARAMETER);
                    }
                    d if d.truncates() => {
                        node.data.clear();
                        node.reserved = 0;
                        node.written = now;
                    }
                    _ => {}
                }
                let action = match how.disposition {
                    Disposition::Supersede => CreateAction::Superseded,
                    Disposition::Overwrite | Disposition::OverwriteIf => CreateAction::Overwritten,
                    _ => CreateAction::Opened,
                };
                (ino, action)
            }
            None if !tree.parent_is_dir(path) => return Err(NtStatus::OBJECT_PATH_NOT_FOUND),
            None if !how.disposition.creates() => return Err(NtStatus::OBJECT_NAME_NOT_FOUND),
            None => {
                let ino = tree.next_ino;
                tree.next_ino += 1;
                let node = Node {
                    directory: how.kind == Kind::Directory,
                    data: Vec::new(),
                    created: now,
                    accessed: now,
                    written: now,
                    mode: how.mode & 0o7777,
                    reserved: 0,
                    sparse: false,
                };
                tree.nodes.insert(ino, node);
                tree.paths.insert(path.as_str().to_owned(), ino);
                tree.touch_parent(path);
                (ino, CreateAction::Created)
            }
        };
        let handle = MemoryHandle {
            tree: Arc::clone(&self.tree),
            ino: action.0,
        };
        Ok((Box::new(handle), action.1))
    }

    fn rename(&self, from: &SharePath, to: &SharePath, replace: bool) -> Result<(), NtStatus> {
        let mut tree = self.tree();
        let ino = *tree
            .paths
            .get(from.as_str())
            .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        if !tree.parent_is_dir(to) {
            return Err(NtStatus::OBJECT_PATH_NOT_FOUND);
        }
        if to.as_str().starts_with(&format!("{}/", from.as_str())) {
            // A directory cannot move inside itself.
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if let Some(existing) = tree.paths.get(to.as_str()).copied() {
            if !replace {
                return Err(NtStatus::OBJECT_NAME_COLLISION);
            }
            if tree.nodes.get(&existing).is_some_and(|n| n.directory) {
                return Err(NtStatus::ACCESS_DENIED);
            }
            tree.nodes.remove(&existing);
        }
        let prefix = format!("{}/", from.as_str());
        let moved: Vec<(String, u64)> = tree
            .paths
            .iter()
            .filter(|(p, _)| p.as_str() == from.as_str() || p.starts_with(&prefix))
            .map(|(p, i)| (p.clone(), *i))
            .collect();
        for (old, child) in moved {
            tree.paths.remove(&old);
            let new = format!("{}{}", to.as_str(), &old[from.as_str().len()..]);
            tree.paths.insert(new, child);
        }
        debug_assert!(tree.paths.get(to.as_str()) == Some(&ino));
        tree.touch_parent(from);
        tree.touch_parent(to);
        Ok(())
    }

    fn remove(&self, path: &SharePath, directory: bool) -> Result<(), NtStatus> {
        let mut tree = self.tree();
        let ino = *tree
            .paths
            .get(path.as_str())
            .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        let is_dir = tree.nodes.get(&ino).is_some_and(|n| n.directory);
        if path.is_root() || is_dir != directory {
            return Err(NtStatus::ACCESS_DENIED);
        }
        if is_dir && tree.children(path.as_str()).next().is_some() {
            return Err(NtStatus::DIRECTORY_NOT_EMPTY);
        }
        tree.paths.remove(path.as_str());
        tree.nodes.remove(&ino);
        tree.touch_parent(path);
        Ok(())
    }

    fn fs_stat(&self) -> Result<FsStat, NtStatus> {
        Ok(FsStat {
            block_size: 4096,
            total_blocks: 1 << 20,
            free_blocks: 1 << 19,
            available_blocks: 1 << 19,
            serial: 0x4d45_4d31,
        })
    }
}

/// An open of a [`MemoryBackend`] file: it follows its inode through renames; once the
/// file is removed, calls fail with STATUS_FILE_CLOSED.
#[derive(Debug)]
struct MemoryHandle {
    tree: Arc<Mutex<Tree>>,
    ino: u64,
}

impl MemoryHandle {
    fn with<T>(&self, f: impl FnOnce(&mut Tree) -> Result<T, NtStatus>) -> Result<T, NtStatus> {
        f(&mut self.tree.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Handle for MemoryHandle {
    fn stat(&self) -> Result<Stat, NtStatus> {
        self.with(|t| t.stat(self.ino))
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, NtStatus> {
        self.with(|t| {
            let now = t.now;
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            node.accessed = now;
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(node.data.len());
            let end = start.saturating_add(len).min(node.data.len());
            Ok(node.data[start..end].to_vec())
        })
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<usize, NtStatus> {
        self.with(|t| {
            let now = t.now;
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            let end = offset
                .checked_add(data.len() as u64)
                .filter(|e| *e <= MAX_FILE)
                .ok_or(NtStatus::DISK_FULL)?;
            let (start, end) = (offset as usize, end as usize);
            if node.data.len() < end {
                node.data.resize(end, 0);
            }
            node.data[start..end].copy_from_slice(data);
            node.written = now;
            Ok(data.len())
        })
    }

    fn flush(&self) -> Result<(), NtStatus> {
        self.with(|t| t.stat(self.ino).map(|_| ()))
    }

    fn set_len(&self, len: u64) -> Result<(), NtStatus> {
        if len > MAX_FILE {
            return Err(NtStatus::DISK_FULL);
        }
        self.with(|t| {
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            node.data.resize(len as usize, 0);
            node.reserved = node.reserved.min(len);
            Ok(())
        })
    }

    fn set_times(&self, times: &SetTimes) -> Result<(), NtStatus> {
        self.with(|t| {
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            if let Some(a) = times.last_access {
                node.accessed = a;
            }
            if let Some(w) = times.last_write {
                node.written = w;
            }
            Ok(())
        })
    }

    fn reserve(&self, len: u64) -> Result<(), NtStatus> {
        if len > MAX_FILE {
            return Err(NtStatus::DISK_FULL);
        }
        self.with(|t| {
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            node.reserved = node.reserved.max(len);
            Ok(())
        })
    }

    fn set_mode(&self, mode: u32) -> Result<(), NtStatus> {
        self.with(|t| {
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            node.mode = mode & 0o7777;
            Ok(())
        })
    }

    fn set_read_only(&self, read_only: bool) -> Result<(), NtStatus> {
        self.with(|t| {
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            if read_only {
                node.mode &= !0o222;
            } else if node.mode & 0o222 == 0 {
                node.mode |= 0o200;
            }
            Ok(())
        })
    }

    fn set_sparse(&self, sparse: bool) -> Result<(), NtStatus> {
        self.with(|t| {
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            node.sparse = sparse;
            Ok(())
        })
    }

    fn allocated_ranges(
        &self,
        offset: u64,
        end: u64,
        max: usize,
    ) -> Result<Vec<(u64, u64)>, NtStatus> {
        self.with(|t| {
            let node = t.nodes.get(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            let end = end.min(node.data.len() as u64);
            if offset >= end {
                return Ok(Vec::new());
            }
            if !node.sparse {
                return Ok(vec![(offset, end - offset)]);
            }
            // Runs of blocks holding a byte other than zero, cut to the range.
            let mut ranges: Vec<(u64, u64)> = Vec::new();
            let first = offset / HOLE_BLOCK * HOLE_BLOCK;
            for start in (first..end).step_by(HOLE_BLOCK as usize) {
                let block = &node.data[start as usize..(start + HOLE_BLOCK).min(end) as usize];
                if block.iter().all(|b| *b == 0) {
                    continue;
                }
                let (from, to) = (start.max(offset), (start + HOLE_BLOCK).min(end));
                let count = ranges.len();
                match ranges.last_mut() {
                    Some((at, len)) if *at + *len == from => *len = to - *at,
                    _ if count > max => break,
                    _ => ranges.push((from, to - from)),
                }
            }
            Ok(ranges)
        })
    }

    fn zero_range(&self, offset: u64, end: u64) -> Result<(), NtStatus> {
        self.with(|t| {
            let node = t.nodes.get_mut(&self.ino).ok_or(NtStatus::FILE_CLOSED)?;
            let len = node.data.len() as u64;
            let (from, to) = (offset.min(len) as usize, end.min(len) as usize);
            node.data[from..to].fill(0);
            Ok(())
        })
    }

    fn list(&self) -> Result<Vec<DirEntry>, NtStatus> {
        self.with(|t| {
            let path = t
                .paths
                .iter()
                .find(|(_, i)| **i == self.ino)
                .map(|(p, _)| p.clone())
                .ok_or(NtStatus::FILE_CLOSED)?;
            if !t.nodes.get(&self.ino).is_some_and(|n| n.directory) {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            let mut entries: Vec<DirEntry> = t
                .children(&path)
                .filter_map(|(name, ino)| {
                    Some(DirEntry {
                        name: name.to_owned(),
                        stat: t.stat(ino).ok()?,
                    })
                })
                .collect();
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(entries)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn how(disposition: Disposition, kind: Kind) -> OpenHow {
        OpenHow {
            disposition,
            kind,
            read: true,
            write: true,
            mode: 0o644,
        }
    }

    #[test]
    fn behaves_like_a_file_system() {
        let share = MemoryBackend::new();
        let p = |s: &str| SharePath::parse(s).unwrap();
        let (dir, action) = share
            .open(&p("d"), &how(Disposition::Create, Kind::Directory))
            .unwrap();
        assert_eq!(action, CreateAction::Created);
        let (f, _) = share
            .open(&p(r"d\f.txt"), &how(Disposition::OpenIf, Kind::File))
            .unwrap();
        f.write(3, b"abc").unwrap();
        assert_eq!(f.read(0, 10).unwrap(), b"\0\0\0abc");
        assert_eq!(dir.list().unwrap()[0].name, "f.txt");
        assert_eq!(
            share
                .open(&p(r"nope\f"), &how(Disposition::OpenIf, Kind::File))
                .map(|_| ())
                .unwrap_err(),
            NtStatus::OBJECT_PATH_NOT_FOUND
        );
        assert_eq!(
            share.remove(&p("d"), true),
            Err(NtStatus::DIRECTORY_NOT_EMPTY)
        );
        share.rename(&p("d"), &p("e"), false).unwrap();
        assert_eq!(share.contents("e/f.txt").unwrap(), b"\0\0\0abc");
        assert_eq!(
            f.stat().unwrap().end_of_file,
            6,
            "the open follows the rename"
        );
        share.remove(&p(r"e\f.txt"), false).unwrap();
        assert_eq!(f.read(0, 1), Err(NtStatus::FILE_CLOSED));
        share.remove(&p("e"), true).unwrap();
        assert!(!share.exists("e"));
    }
}
