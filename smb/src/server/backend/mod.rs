//! Where a disk share's files live: the [`Backend`] trait the file commands call, and
//! [`posix`], the only code that touches the file system. Names reach a backend already
//! checked ([`SharePath`]): relative, `/`-separated, no `.`/`..`, no streams, no NUL.
//!
//! A backend call runs on a blocking thread with the session user's credentials
//! ([`creds::as_user`]), so the kernel applies Unix permissions to the user, not the daemon.

pub mod creds;
pub mod errno;
pub mod memory;
pub mod path;
#[cfg(target_os = "linux")]
pub mod posix;

use std::fmt;

use adjoin_rpc::ntstatus::NtStatus;

pub use self::path::SharePath;

/// What a file looks like to the protocol: sizes, times as FILETIME, the NT attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    /// `CreationTime` (FILETIME; the change time on file systems without a birth time).
    pub creation: u64,
    /// `LastAccessTime`.
    pub last_access: u64,
    /// `LastWriteTime`.
    pub last_write: u64,
    /// `ChangeTime`.
    pub change: u64,
    /// `AllocationSize`: the blocks the file holds.
    pub allocation_size: u64,
    /// `EndOfFile`: the file's length (0 for a directory).
    pub end_of_file: u64,
    /// A directory.
    pub directory: bool,
    /// No write permission for anyone (shown as FILE_ATTRIBUTE_READONLY).
    pub read_only: bool,
    /// The inode: `IndexNumber` / FileId.
    pub file_index: u64,
    /// `NumberOfLinks`.
    pub links: u32,
    /// The device, for the volume serial number.
    pub device: u64,
    /// The owner's uid (a security descriptor's owner).
    pub uid: u32,
    /// The group's gid (its group).
    pub gid: u32,
    /// The permission bits (`0o7777`; its DACL).
    pub mode: u32,
    /// FILE_ATTRIBUTE_SPARSE_FILE: set by FSCTL_SET_SPARSE (kept with the file; on POSIX
    /// in the `user.adjoin.attributes` extended attribute).
    pub sparse: bool,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The name within the directory.
    pub name: String,
    /// Its metadata.
    pub stat: Stat,
}

/// The file system under a share, for FileFs*Information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsStat {
    /// Bytes per allocation unit.
    pub block_size: u64,
    /// Allocation units in all.
    pub total_blocks: u64,
    /// Allocation units free for anyone.
    pub free_blocks: u64,
    /// Allocation units this user may still use.
    pub available_blocks: u64,
    /// The file system's id (volume serial number).
    pub serial: u64,
}

/// MS-SMB2 2.2.13 CreateDisposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// FILE_SUPERSEDE: replace if it exists, else create.
    Supersede,
    /// FILE_OPEN: open if it exists, else fail.
    Open,
    /// FILE_CREATE: fail if it exists, else create.
    Create,
    /// FILE_OPEN_IF: open if it exists, else create.
    OpenIf,
    /// FILE_OVERWRITE: truncate if it exists, else fail.
    Overwrite,
    /// FILE_OVERWRITE_IF: truncate if it exists, else create.
    OverwriteIf,
}

impl Disposition {
    /// From the wire value; `None` past FILE_OVERWRITE_IF (5).
    pub fn from_wire(value: u32) -> Option<Self> {
        Some(match value {
            0 => Self::Supersede,
            1 => Self::Open,
            2 => Self::Create,
            3 => Self::OpenIf,
            4 => Self::Overwrite,
            5 => Self::OverwriteIf,
            _ => return None,
        })
    }

    /// Whether the file may be created.
    pub fn creates(self) -> bool {
        !matches!(self, Self::Open | Self::Overwrite)
    }

    /// Whether an existing file's data is thrown away.
    pub fn truncates(self) -> bool {
        matches!(self, Self::Supersede | Self::Overwrite | Self::OverwriteIf)
    }
}

/// MS-SMB2 2.2.14 CreateAction: what an open did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateAction {
    /// FILE_SUPERSEDED.
    Superseded = 0,
    /// FILE_OPENED.
    Opened = 1,
    /// FILE_CREATED.
    Created = 2,
    /// FILE_OVERWRITTEN.
    Overwritten = 3,
}

/// What kind of object an open wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// FILE_DIRECTORY_FILE: a directory only.
    Directory,
    /// FILE_NON_DIRECTORY_FILE: anything but a directory.
    File,
    /// Either.
    Any,
}

/// How to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenHow {
    /// What to do whether or not the name exists.
    pub disposition: Disposition,
    /// What the name must be.
    pub kind: Kind,
    /// Read access to the data.
    pub read: bool,
    /// Write access to the data (or to the attributes and times).
    pub write: bool,
    /// Unix mode bits for a new file or directory (the daemon's umask still applies).
    pub mode: u32,
}

/// The times SET_INFO FileBasicInformation may change (FILETIME; `None` leaves one alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetTimes {
    /// `LastAccessTime`.
    pub last_access: Option<u64>,
    /// `LastWriteTime`.
    pub last_write: Option<u64>,
}

/// A share's file system.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Opens (or creates) `path` as `how` says.
    fn open(
        &self,
        path: &SharePath,
        how: &OpenHow,
    ) -> Result<(Box<dyn Handle>, CreateAction), NtStatus>;

    /// Renames `from` to `to`, replacing an existing `to` only when `replace`.
    fn rename(&self, from: &SharePath, to: &SharePath, replace: bool) -> Result<(), NtStatus>;

    /// Gives the file `from` a second name `to` (a hard link, MS-FSCC FileLinkInformation),
    /// replacing an existing `to` only when `replace`. A backend without hard links keeps
    /// this default: STATUS_NOT_SUPPORTED.
    fn link(&self, from: &SharePath, to: &SharePath, replace: bool) -> Result<(), NtStatus> {
        let _ = (from, to, replace);
        Err(NtStatus::NOT_SUPPORTED)
    }

    /// Whether [`Backend::link`] makes hard links (announced to clients as
    /// FILE_SUPPORTS_HARD_LINKS); `false` unless a backend says otherwise.
    fn hard_links(&self) -> bool {
        false
    }

    /// Removes `path` (a file, or an empty directory).
    fn remove(&self, path: &SharePath, directory: bool) -> Result<(), NtStatus>;

    /// The file system's sizes.
    fn fs_stat(&self) -> Result<FsStat, NtStatus>;
}

/// One open file or directory.
pub trait Handle: Send + fmt::Debug {
    /// Its metadata now.
    fn stat(&self) -> Result<Stat, NtStatus>;
    /// Up to `len` bytes at `offset` (fewer at the end of the file).
    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, NtStatus>;
    /// Appends up to `len` bytes at `offset` to `out` (a response being built, so the
    /// data is copied once); the bytes appended.
    fn read_into(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> Result<usize, NtStatus> {
        let data = self.read(offset, len)?;
        out.extend_from_slice(&data);
        Ok(data.len())
    }
    /// Writes `data` at `offset`; the bytes written.
    fn write(&self, offset: u64, data: &[u8]) -> Result<usize, NtStatus>;
    /// Makes written data durable.
    fn flush(&self) -> Result<(), NtStatus>;
    /// Sets the length.
    fn set_len(&self, len: u64) -> Result<(), NtStatus>;
    /// Sets times.
    fn set_times(&self, times: &SetTimes) -> Result<(), NtStatus>;
    /// Reserves space for `len` bytes without changing the length (a CREATE's
    /// AllocationSize, FileAllocationInformation growing); a file system that cannot
    /// reserve reserves nothing.
    fn reserve(&self, len: u64) -> Result<(), NtStatus>;
    /// Sets the permission bits (`0o7777`): a security descriptor's DACL, mapped.
    fn set_mode(&self, mode: u32) -> Result<(), NtStatus>;
    /// Sets or clears FILE_ATTRIBUTE_READONLY: on POSIX, takes away every write
    /// permission bit, or gives the owner's back.
    fn set_read_only(&self, read_only: bool) -> Result<(), NtStatus>;
    /// A directory's entries (without `.` and `..`).
    fn list(&self) -> Result<Vec<DirEntry>, NtStatus>;
    /// Sets or clears the file's sparse attribute (FSCTL_SET_SPARSE). Nothing in the
    /// data changes.
    fn set_sparse(&self, sparse: bool) -> Result<(), NtStatus>;
    /// The ranges holding data (offset, length) between `offset` and `end`, cut at the
    /// end of the file, in order; at most `max` of them (one more says there are more).
    /// A file that is not sparse holds data everywhere it has bytes.
    fn allocated_ranges(
        &self,
        offset: u64,
        end: u64,
        max: usize,
    ) -> Result<Vec<(u64, u64)>, NtStatus>;
    /// Makes the bytes from `offset` to `end` (cut at the end of the file) read as
    /// zeros, the length unchanged (FSCTL_SET_ZERO_DATA); a sparse file's whole blocks
    /// in the range are given back to the file system.
    fn zero_range(&self, offset: u64, end: u64) -> Result<(), NtStatus>;
}
