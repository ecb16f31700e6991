//! MS-FSCC 2.4 and 2.5: the file and file system information classes that the
//! buffers of QUERY_INFO, SET_INFO and QUERY_DIRECTORY hold (MS-SMB2 2.2.37-2.2.40,
//! 2.2.34), as plain structures with an [`Information`] codec.
//!
//! A server fills a [`FileStat`] from its file system and turns it into the class
//! asked for (`FileBasicInformation::from(&stat)`), a listing with
//! [`DirectoryListing`], or reads what SET_INFO carries with [`SetFileInfo::decode`].
//!
//! MS-FSCC renumbers its subsections from one revision to the next (the SMB2 form of
//! FileRenameInformation has been 2.4.37.2, 2.4.41.2 and 2.4.42.2), so the doc comments
//! name each class by its section (2.4 file, 2.5 file system) and its name.

mod directory;
mod file;
mod fs;
mod notify;
mod set;

use adjoin_rpc::codec::Reader;
use adjoin_rpc::open_enum;

use super::from_utf16;
use crate::error::SmbError;

pub use directory::{DirectoryListing, decode_directory, directory_entry};
pub use file::{
    FileAccessInformation, FileAlignmentInformation, FileAllInformation, FileAllocationInformation,
    FileAttributeTagInformation, FileBasicInformation, FileCompressionInformation,
    FileDispositionInformationEx, FileEaInformation, FileEndOfFileInformation, FileIdInformation,
    FileInternalInformation, FileModeInformation, FileNameInformation, FileNetworkOpenInformation,
    FilePositionInformation, FileStandardInformation, FileStreamInformation, StreamEntry,
};
pub use fs::{
    FILE_CASE_PRESERVED_NAMES, FILE_CASE_SENSITIVE_SEARCH, FILE_DEVICE_DISK,
    FILE_DEVICE_IS_MOUNTED, FILE_NAMED_STREAMS, FILE_PERSISTENT_ACLS, FILE_READ_ONLY_DEVICE,
    FILE_READ_ONLY_VOLUME, FILE_REMOTE_DEVICE, FILE_SUPPORTS_HARD_LINKS, FILE_SUPPORTS_OBJECT_IDS,
    FILE_SUPPORTS_REPARSE_POINTS, FILE_SUPPORTS_SPARSE_FILES, FILE_UNICODE_ON_DISK,
    FileFsAttributeInformation, FileFsControlInformation, FileFsDeviceInformation,
    FileFsFullSizeInformation, FileFsObjectIdInformation, FileFsSectorSizeInformation,
    FileFsSizeInformation, FileFsVolumeInformation, SSINFO_FLAGS_ALIGNED_DEVICE,
    SSINFO_FLAGS_NO_SEEK_PENALTY, SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE, SSINFO_OFFSET_UNKNOWN,
};
pub use notify::{FileNotifyInformation, NotifyAction};
pub use set::{
    FileDispositionInformation, FileLinkInformation, FileRenameInformation, SetFileInfo,
};

open_enum! {
    /// MS-FSCC 2.4 file information classes: `FileInformationClass` of
    /// QUERY_DIRECTORY and `FileInfoClass` of QUERY_INFO/SET_INFO with
    /// SMB2_0_INFO_FILE.
    pub struct FileInfoClass(u8) {
        /// FileDirectoryInformation (directory listing).
        DIRECTORY = 1 => "FileDirectoryInformation",
        /// FileFullDirectoryInformation (directory listing).
        FULL_DIRECTORY = 2 => "FileFullDirectoryInformation",
        /// FileBothDirectoryInformation (directory listing).
        BOTH_DIRECTORY = 3 => "FileBothDirectoryInformation",
        /// FileBasicInformation (query, set).
        BASIC = 4 => "FileBasicInformation",
        /// FileStandardInformation (query).
        STANDARD = 5 => "FileStandardInformation",
        /// FileInternalInformation (query).
        INTERNAL = 6 => "FileInternalInformation",
        /// FileEaInformation (query).
        EA = 7 => "FileEaInformation",
        /// FileAccessInformation (query).
        ACCESS = 8 => "FileAccessInformation",
        /// FileNameInformation (query).
        NAME = 9 => "FileNameInformation",
        /// FileRenameInformation (set).
        RENAME = 10 => "FileRenameInformation",
        /// FileLinkInformation (set).
        LINK = 11 => "FileLinkInformation",
        /// FileNamesInformation (directory listing).
        NAMES = 12 => "FileNamesInformation",
        /// FileDispositionInformation (set).
        DISPOSITION = 13 => "FileDispositionInformation",
        /// FilePositionInformation (query, set).
        POSITION = 14 => "FilePositionInformation",
        /// FileFullEaInformation (query, set).
        FULL_EA = 15 => "FileFullEaInformation",
        /// FileModeInformation (query, set).
        MODE = 16 => "FileModeInformation",
        /// FileAlignmentInformation (query).
        ALIGNMENT = 17 => "FileAlignmentInformation",
        /// FileAllInformation (query).
        ALL = 18 => "FileAllInformation",
        /// FileAllocationInformation (set).
        ALLOCATION = 19 => "FileAllocationInformation",
        /// FileEndOfFileInformation (set).
        END_OF_FILE = 20 => "FileEndOfFileInformation",
        /// FileAlternateNameInformation (query).
        ALTERNATE_NAME = 21 => "FileAlternateNameInformation",
        /// FileStreamInformation (query).
        STREAM = 22 => "FileStreamInformation",
        /// FileCompressionInformation (query).
        COMPRESSION = 28 => "FileCompressionInformation",
        /// FileNetworkOpenInformation (query).
        NETWORK_OPEN = 34 => "FileNetworkOpenInformation",
        /// FileAttributeTagInformation (query).
        ATTRIBUTE_TAG = 35 => "FileAttributeTagInformation",
        /// FileIdBothDirectoryInformation (directory listing).
        ID_BOTH_DIRECTORY = 37 => "FileIdBothDirectoryInformation",
        /// FileIdFullDirectoryInformation (directory listing).
        ID_FULL_DIRECTORY = 38 => "FileIdFullDirectoryInformation",
        /// FileNormalizedNameInformation (query).
        NORMALIZED_NAME = 48 => "FileNormalizedNameInformation",
        /// FileIdInformation (query).
        ID = 59 => "FileIdInformation",
        /// FileDispositionInformationEx (set).
        DISPOSITION_EX = 64 => "FileDispositionInformationEx",
    }
}

open_enum! {
    /// MS-FSCC 2.5 file system information classes: `FileInfoClass` of
    /// QUERY_INFO/SET_INFO with SMB2_0_INFO_FILESYSTEM.
    pub struct FsInfoClass(u8) {
        /// FileFsVolumeInformation.
        VOLUME = 1 => "FileFsVolumeInformation",
        /// FileFsSizeInformation.
        SIZE = 3 => "FileFsSizeInformation",
        /// FileFsDeviceInformation.
        DEVICE = 4 => "FileFsDeviceInformation",
        /// FileFsAttributeInformation.
        ATTRIBUTE = 5 => "FileFsAttributeInformation",
        /// FileFsControlInformation (quotas).
        CONTROL = 6 => "FileFsControlInformation",
        /// FileFsFullSizeInformation.
        FULL_SIZE = 7 => "FileFsFullSizeInformation",
        /// FileFsObjectIdInformation.
        OBJECT_ID = 8 => "FileFsObjectIdInformation",
        /// FileFsSectorSizeInformation.
        SECTOR_SIZE = 11 => "FileFsSectorSizeInformation",
    }
}

impl Default for FileInfoClass {
    /// 0, which names no class.
    fn default() -> Self {
        Self::new(0)
    }
}

impl Default for FsInfoClass {
    /// 0, which names no class.
    fn default() -> Self {
        Self::new(0)
    }
}

/// MS-FSCC 2.6 FILE_ATTRIBUTE_READONLY.
pub const FILE_ATTRIBUTE_READONLY: u32 = 0x0000_0001;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_HIDDEN.
pub const FILE_ATTRIBUTE_HIDDEN: u32 = 0x0000_0002;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_SYSTEM.
pub const FILE_ATTRIBUTE_SYSTEM: u32 = 0x0000_0004;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_DIRECTORY.
pub const FILE_ATTRIBUTE_DIRECTORY: u32 = 0x0000_0010;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_ARCHIVE.
pub const FILE_ATTRIBUTE_ARCHIVE: u32 = 0x0000_0020;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_NORMAL: no other attribute is set.
pub const FILE_ATTRIBUTE_NORMAL: u32 = 0x0000_0080;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_TEMPORARY.
pub const FILE_ATTRIBUTE_TEMPORARY: u32 = 0x0000_0100;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_SPARSE_FILE.
pub const FILE_ATTRIBUTE_SPARSE_FILE: u32 = 0x0000_0200;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_REPARSE_POINT.
pub const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x0000_0400;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_COMPRESSED.
pub const FILE_ATTRIBUTE_COMPRESSED: u32 = 0x0000_0800;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_OFFLINE.
pub const FILE_ATTRIBUTE_OFFLINE: u32 = 0x0000_1000;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_NOT_CONTENT_INDEXED.
pub const FILE_ATTRIBUTE_NOT_CONTENT_INDEXED: u32 = 0x0000_2000;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_ENCRYPTED.
pub const FILE_ATTRIBUTE_ENCRYPTED: u32 = 0x0000_4000;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_INTEGRITY_STREAM.
pub const FILE_ATTRIBUTE_INTEGRITY_STREAM: u32 = 0x0000_8000;
/// MS-FSCC 2.6 FILE_ATTRIBUTE_NO_SCRUB_DATA.
pub const FILE_ATTRIBUTE_NO_SCRUB_DATA: u32 = 0x0002_0000;

/// What a server knows of one file or directory, as it fills it from its file
/// system; each information class takes the fields it reports. Times are FILETIMEs
/// (100 ns since 1601-01-01 UTC, MS-FSCC 2.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileStat {
    /// `CreationTime` (Unix has no birth time everywhere; the server picks).
    pub creation: u64,
    /// `LastAccessTime`.
    pub last_access: u64,
    /// `LastWriteTime`.
    pub last_write: u64,
    /// `ChangeTime` (the inode change time).
    pub change: u64,
    /// `AllocationSize`: bytes allocated on disk.
    pub allocation_size: u64,
    /// `EndOfFile`: the file's size.
    pub end_of_file: u64,
    /// `FileAttributes` (`FILE_ATTRIBUTE_*`); see [`FileStat::attributes`].
    pub file_attributes: u32,
    /// The file's 64-bit id (the inode number): `IndexNumber`, `FileId`.
    pub file_index: u64,
    /// `NumberOfLinks`.
    pub number_of_links: u32,
    /// `DeletePending`.
    pub delete_pending: bool,
    /// `Directory`.
    pub directory: bool,
    /// The name reported by FileNameInformation and directory listings.
    pub name: String,
}

impl FileStat {
    /// `FileAttributes` as MS-FSA 2.1.5.12 reports them: with
    /// FILE_ATTRIBUTE_DIRECTORY for a directory, and FILE_ATTRIBUTE_NORMAL when no
    /// attribute is set.
    pub fn attributes(&self) -> u32 {
        let attributes = if self.directory {
            self.file_attributes | FILE_ATTRIBUTE_DIRECTORY
        } else {
            self.file_attributes
        };
        if attributes == 0 {
            FILE_ATTRIBUTE_NORMAL
        } else {
            attributes
        }
    }
}

/// An MS-FSCC information structure: the buffer of a QUERY_INFO response, of a
/// SET_INFO request, or part of one.
pub trait Information: Sized {
    /// Appends the wire form to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one structure from the front of `r`.
    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError>;

    /// The wire form as a new buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Reads the structure at the front of `bytes`. Bytes after it are ignored:
    /// MS-FSA 2.1.5.14 refuses only a buffer shorter than the class needs (with
    /// STATUS_INFO_LENGTH_MISMATCH, which a [`SmbError::Decode`] here maps to).
    fn decode(bytes: &[u8]) -> Result<Self, SmbError> {
        Self::read(&mut Reader::new("MS-FSCC information", bytes))
    }
}

/// `len` bytes of `r` as a UTF-16LE name.
fn read_utf16(r: &mut Reader<'_>, len: usize, what: &'static str) -> Result<String, SmbError> {
    from_utf16(r.take(len)?, what)
}

/// A length as a `u32` field.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Where the entry after the one at `at` starts, given its `NextEntryOffset`, in a
/// chain of `len` bytes. An offset that does not move past the entry's fixed part
/// (so walking a chain always ends), or points past the chain, is refused.
fn next_entry(
    at: usize,
    next: usize,
    fixed_len: usize,
    len: usize,
    what: &'static str,
) -> Result<usize, SmbError> {
    if next < fixed_len {
        return Err(SmbError::Malformed {
            what,
            why: "NextEntryOffset points inside the entry",
        });
    }
    match at.checked_add(next) {
        Some(start) if start < len => Ok(start),
        _ => Err(SmbError::Malformed {
            what,
            why: "NextEntryOffset points past the buffer",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn stat() -> FileStat {
        FileStat {
            creation: 0x01d0_0000_0000_0001,
            last_access: 0x01d0_0000_0000_0002,
            last_write: 0x01d0_0000_0000_0003,
            change: 0x01d0_0000_0000_0004,
            allocation_size: 4096,
            end_of_file: 1234,
            file_attributes: FILE_ATTRIBUTE_ARCHIVE,
            file_index: 0x0102_0304_0506_0708,
            number_of_links: 1,
            delete_pending: false,
            directory: false,
            name: "dir\\file.txt".into(),
        }
    }

    #[test]
    fn attributes_follow_ms_fsa() {
        let mut s = FileStat::default();
        assert_eq!(s.attributes(), FILE_ATTRIBUTE_NORMAL);
        s.directory = true;
        assert_eq!(s.attributes(), FILE_ATTRIBUTE_DIRECTORY);
        s.file_attributes = FILE_ATTRIBUTE_HIDDEN;
        assert_eq!(
            s.attributes(),
            FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_HIDDEN
        );
    }

    #[test]
    fn classes_print_unknown_values_in_hex() {
        assert_eq!(
            format!("{:?}", FileInfoClass::ID_BOTH_DIRECTORY),
            "ID_BOTH_DIRECTORY"
        );
        assert_eq!(
            FileInfoClass::ID_BOTH_DIRECTORY.to_string(),
            "FileIdBothDirectoryInformation"
        );
        assert_eq!(
            format!("{:?}", FileInfoClass::new(0x63)),
            "FileInfoClass(0x63)"
        );
        assert_eq!(format!("{:?}", FsInfoClass::new(0x2a)), "FsInfoClass(0x2a)");
        assert_eq!(FsInfoClass::SECTOR_SIZE.value(), 11);
    }
}
