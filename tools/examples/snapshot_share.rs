//! SDK example: an SMB backend of your own, plugged into adjoind's file server.
//!
//! `snapshot` is a read-only share held in memory: at start it copies a directory tree
//! (at most 256 MiB) into memory, and serves that copy to domain users, whatever later
//! happens to the directory. It implements [`Backend`] (the share's namespace) and
//! [`Handle`] (one open file or directory); adjoind does the rest: SMB2/3, Kerberos and
//! NTLM logons, ID mapping, signing and encryption, the registry's own shares.
//!
//! ```text
//! ADJOIN_EXAMPLE_SNAPSHOT=/srv/reports snapshot_share --listen 0.0.0.0:445
//! smbclient //member/snapshot -U 'EXAMPLE\alice' -c 'ls; get README.txt'
//! ```
//!
//! The command line is adjoind's (`--help`); the directory comes from
//! `ADJOIN_EXAMPLE_SNAPSHOT`, the share's name from `ADJOIN_EXAMPLE_SHARE` (default
//! `snapshot`). See docs/sdk.md.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Bound;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use adjoin_rpc::ntstatus::NtStatus;
use adjoin_smb::server::backend::{
    Backend, CreateAction, DirEntry, Disposition, FsStat, Handle, Kind, OpenHow, SetTimes,
    SharePath, Stat,
};
use adjoin_smb::server::share::DiskShare;
use adjoin_tools::cmd::adjoind::{Extensions, main_with};

/// The most bytes a snapshot holds.
const MAX_BYTES: u64 = 256 << 20;
/// The most files and directories it holds.
const MAX_ENTRIES: usize = 100_000;
/// What a read-only share answers to anything that would change it.
const READ_ONLY: NtStatus = NtStatus::MEDIA_WRITE_PROTECTED;

/// One name in the snapshot, with its inode number (the order it was taken in).
#[derive(Debug)]
enum Entry {
    Directory(u64),
    File(u64, Vec<u8>),
}

/// The tree, by [`SharePath`] (`dir/file`; the root is `""`), taken once.
#[derive(Debug)]
struct Snapshot {
    entries: BTreeMap<String, Entry>,
    /// When it was taken, as FILETIME: every entry's times.
    taken: u64,
    bytes: u64,
}

impl Snapshot {
    /// Copies `dir` into memory. Names a share cannot carry (a `:`, a control
    /// character) and what is neither a file nor a directory are left out.
    fn load(dir: &Path) -> Result<Self, String> {
        let mut snapshot = Self {
            entries: BTreeMap::from([(String::new(), Entry::Directory(1))]),
            taken: filetime(SystemTime::now()),
            bytes: 0,
        };
        snapshot.add_dir(dir, &SharePath::root())?;
        Ok(snapshot)
    }

    fn add_dir(&mut self, dir: &Path, at: &SharePath) -> Result<(), String> {
        let listing = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for item in listing {
            let item = item.map_err(|e| format!("{}: {e}", dir.display()))?;
            let local = item.path();
            let Some(path) = item.file_name().to_str().and_then(|n| at.join(n).ok()) else {
                eprintln!(
                    "snapshot: leaving out {} (not a name a share can carry)",
                    local.display()
                );
                continue;
            };
            if self.entries.len() >= MAX_ENTRIES {
                return Err(format!("more than {MAX_ENTRIES} names under the directory"));
            }
            let kind = item
                .file_type()
                .map_err(|e| format!("{}: {e}", local.display()))?;
            let index = self.entries.len() as u64 + 1;
            if kind.is_dir() {
                self.entries
                    .insert(path.as_str().to_owned(), Entry::Directory(index));
                self.add_dir(&local, &path)?;
            } else if kind.is_file() {
                // Read at most what the bound leaves (a file larger than that is not
                // read whole first).
                let mut data = Vec::new();
                std::fs::File::open(&local)
                    .and_then(|f| f.take(MAX_BYTES - self.bytes + 1).read_to_end(&mut data))
                    .map_err(|e| format!("{}: {e}", local.display()))?;
                self.bytes += data.len() as u64;
                if self.bytes > MAX_BYTES {
                    return Err(format!("more than {} MiB of files", MAX_BYTES >> 20));
                }
                self.entries
                    .insert(path.as_str().to_owned(), Entry::File(index, data));
            }
        }
        Ok(())
    }

    /// What the protocol sees of `path`.
    fn stat(&self, path: &str) -> Option<Stat> {
        let (index, directory, len) = match self.entries.get(path)? {
            Entry::Directory(index) => (*index, true, 0),
            Entry::File(index, data) => (*index, false, data.len() as u64),
        };
        Some(Stat {
            creation: self.taken,
            last_access: self.taken,
            last_write: self.taken,
            change: self.taken,
            allocation_size: len.next_multiple_of(4096),
            end_of_file: len,
            directory,
            read_only: true,
            file_index: index,
            links: 1,
            device: 0x534e_4150,
            uid: 0,
            gid: 0,
            mode: if directory { 0o555 } else { 0o444 },
            sparse: false,
        })
    }
}

/// The share: the snapshot, shared by every open.
#[derive(Debug, Clone)]
struct SnapshotBackend(Arc<Snapshot>);

impl Backend for SnapshotBackend {
    fn open(
        &self,
        path: &SharePath,
        how: &OpenHow,
    ) -> Result<(Box<dyn Handle>, CreateAction), NtStatus> {
        let Some(entry) = self.0.entries.get(path.as_str()) else {
            if how.disposition.creates() {
                return Err(READ_ONLY);
            }
            let parent = path.split_last().map(|(p, _)| p).unwrap_or_default();
            return Err(match self.0.entries.get(parent.as_str()) {
                Some(Entry::Directory(_)) => NtStatus::OBJECT_NAME_NOT_FOUND,
                _ => NtStatus::OBJECT_PATH_NOT_FOUND,
            });
        };
        match (entry, how.kind) {
            (Entry::Directory(_), Kind::File) => return Err(NtStatus::FILE_IS_A_DIRECTORY),
            (Entry::File(..), Kind::Directory) => return Err(NtStatus::NOT_A_DIRECTORY),
            _ => {}
        }
        if how.disposition == Disposition::Create {
            return Err(NtStatus::OBJECT_NAME_COLLISION);
        }
        if how.write || how.disposition.truncates() {
            return Err(READ_ONLY);
        }
        let handle = SnapshotHandle {
            snapshot: Arc::clone(&self.0),
            path: path.as_str().to_owned(),
        };
        Ok((Box::new(handle), CreateAction::Opened))
    }

    fn rename(&self, _: &SharePath, _: &SharePath, _: bool) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }

    fn remove(&self, _: &SharePath, _: bool) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }

    fn fs_stat(&self) -> Result<FsStat, NtStatus> {
        let blocks = self.0.bytes.div_ceil(4096).max(1);
        Ok(FsStat {
            block_size: 4096,
            total_blocks: blocks,
            free_blocks: 0,
            available_blocks: 0,
            serial: 0x534e_4150,
        })
    }
}

/// One open name of the snapshot.
#[derive(Debug)]
struct SnapshotHandle {
    snapshot: Arc<Snapshot>,
    path: String,
}

impl SnapshotHandle {
    fn data(&self) -> Result<&[u8], NtStatus> {
        match self.snapshot.entries.get(&self.path) {
            Some(Entry::File(_, data)) => Ok(data),
            Some(Entry::Directory(_)) => Err(NtStatus::FILE_IS_A_DIRECTORY),
            None => Err(NtStatus::FILE_CLOSED),
        }
    }
}

impl Handle for SnapshotHandle {
    fn stat(&self) -> Result<Stat, NtStatus> {
        self.snapshot.stat(&self.path).ok_or(NtStatus::FILE_CLOSED)
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, NtStatus> {
        let data = self.data()?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(len).min(data.len());
        Ok(data[start..end].to_vec())
    }

    fn write(&self, _: u64, _: &[u8]) -> Result<usize, NtStatus> {
        Err(READ_ONLY)
    }

    fn flush(&self) -> Result<(), NtStatus> {
        Ok(())
    }

    fn set_len(&self, _: u64) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }

    fn set_times(&self, _: &SetTimes) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }

    fn reserve(&self, _: u64) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }

    fn set_mode(&self, _: u32) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }

    fn set_read_only(&self, read_only: bool) -> Result<(), NtStatus> {
        if read_only { Ok(()) } else { Err(READ_ONLY) }
    }

    fn list(&self) -> Result<Vec<DirEntry>, NtStatus> {
        if !matches!(
            self.snapshot.entries.get(&self.path),
            Some(Entry::Directory(_))
        ) {
            return Err(NtStatus::NOT_A_DIRECTORY);
        }
        let prefix = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        };
        Ok(self
            .snapshot
            .entries
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(name, _)| name.starts_with(&prefix))
            .filter_map(|(name, _)| {
                let leaf = &name[prefix.len()..];
                (!leaf.is_empty() && !leaf.contains('/')).then(|| DirEntry {
                    name: leaf.to_owned(),
                    stat: self.snapshot.stat(name).expect("listed names exist"),
                })
            })
            .collect())
    }

    fn set_sparse(&self, _: bool) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }

    fn allocated_ranges(
        &self,
        offset: u64,
        end: u64,
        _max: usize,
    ) -> Result<Vec<(u64, u64)>, NtStatus> {
        let end = end.min(self.data()?.len() as u64);
        Ok(if offset < end {
            vec![(offset, end - offset)]
        } else {
            Vec::new()
        })
    }

    fn zero_range(&self, _: u64, _: u64) -> Result<(), NtStatus> {
        Err(READ_ONLY)
    }
}

/// `time` as FILETIME (100 ns since 1601).
fn filetime(time: SystemTime) -> u64 {
    const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    UNIX_EPOCH_AS_FILETIME + since.as_secs() * 10_000_000 + u64::from(since.subsec_nanos() / 100)
}

fn main() -> ExitCode {
    let Some(dir) = std::env::var_os("ADJOIN_EXAMPLE_SNAPSHOT") else {
        eprintln!("snapshot_share: set ADJOIN_EXAMPLE_SNAPSHOT to the directory to serve");
        return ExitCode::from(2);
    };
    let dir = Path::new(&dir);
    let snapshot = match Snapshot::load(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("snapshot_share: cannot take the snapshot: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name = std::env::var("ADJOIN_EXAMPLE_SHARE").unwrap_or_else(|_| "snapshot".into());
    eprintln!(
        "snapshot_share: serving {} ({} names, {} bytes) as {name}",
        dir.display(),
        snapshot.entries.len(),
        snapshot.bytes
    );
    let share = DiskShare {
        name,
        comment: format!("read-only copy of {}", dir.display()),
        path: dir.display().to_string(),
        read_only: true,
        allowed_gids: None,
        encrypt: false,
        backend: Arc::new(SnapshotBackend(Arc::new(snapshot))),
    };
    main_with(Extensions {
        shares: vec![Arc::new(share)],
        ..Extensions::default()
    })
}
