//! MS-FSCC 2.4 directory listing classes, the buffer of a QUERY_DIRECTORY response
//! (MS-SMB2 2.2.34): entries chained by `NextEntryOffset`, each aligned on an
//! 8-byte boundary, the last with `NextEntryOffset` 0 and no padding after it.
//!
//! ```text
//! FileDirectoryInformation        common(64) FileName
//! FileFullDirectoryInformation    common(64) EaSize(4) FileName
//! FileIdFullDirectoryInformation  common(64) EaSize(4) Reserved(4) FileId(8) FileName
//! FileBothDirectoryInformation    common(64) EaSize(4) ShortNameLength(1) Reserved1(1)
//!                                 ShortName(24) FileName
//! FileIdBothDirectoryInformation  common(64) EaSize(4) ShortNameLength(1) Reserved1(1)
//!                                 ShortName(24) Reserved2(2) FileId(8) FileName
//! FileNamesInformation            NextEntryOffset(4) FileIndex(4) FileNameLength(4) FileName
//!
//! common: NextEntryOffset(4) FileIndex(4) CreationTime(8) LastAccessTime(8)
//!         LastWriteTime(8) ChangeTime(8) EndOfFile(8) AllocationSize(8)
//!         FileAttributes(4) FileNameLength(4)
//! ```
//! Adjoin sends no short names (`ShortNameLength` 0), `EaSize` 0 and `FileIndex` 0
//! (MS-FSA 2.1.5.6.3: the position in the directory is undefined on NTFS-like stores).

use adjoin_rpc::codec::{Codec, Reader};

use super::{FILE_ATTRIBUTE_DIRECTORY, FileInfoClass, FileStat, len32, next_entry, read_utf16};
use crate::error::SmbError;
use crate::proto::{patch_u32, utf16};

/// The length of an entry of `class` before its name; `None` for a class that is
/// not a directory listing.
fn fixed_len(class: FileInfoClass) -> Option<usize> {
    match class {
        FileInfoClass::DIRECTORY => Some(64),
        FileInfoClass::FULL_DIRECTORY => Some(68),
        FileInfoClass::BOTH_DIRECTORY => Some(94),
        FileInfoClass::NAMES => Some(12),
        FileInfoClass::ID_BOTH_DIRECTORY => Some(104),
        FileInfoClass::ID_FULL_DIRECTORY => Some(80),
        _ => None,
    }
}

/// Appends one entry of `class` (a directory class) with `NextEntryOffset` 0.
fn encode_entry(class: FileInfoClass, stat: &FileStat, name: &[u8], out: &mut Vec<u8>) {
    0u32.encode(out);
    0u32.encode(out);
    if class != FileInfoClass::NAMES {
        for v in [
            stat.creation,
            stat.last_access,
            stat.last_write,
            stat.change,
            stat.end_of_file,
            stat.allocation_size,
        ] {
            v.encode(out);
        }
        stat.attributes().encode(out);
    }
    len32(name.len()).encode(out);
    let ea_size = 0u32;
    match class {
        FileInfoClass::FULL_DIRECTORY => ea_size.encode(out),
        FileInfoClass::ID_FULL_DIRECTORY => {
            ea_size.encode(out);
            0u32.encode(out);
            stat.file_index.encode(out);
        }
        FileInfoClass::BOTH_DIRECTORY | FileInfoClass::ID_BOTH_DIRECTORY => {
            ea_size.encode(out);
            // ShortNameLength, Reserved1, ShortName.
            out.resize(out.len() + 26, 0);
            if class == FileInfoClass::ID_BOTH_DIRECTORY {
                0u16.encode(out);
                stat.file_index.encode(out);
            }
        }
        _ => {}
    }
    out.extend_from_slice(name);
}

/// One entry of `class` for `stat` under `name`, with `NextEntryOffset` 0; `None`
/// when `class` is not a directory listing class (the server answers
/// STATUS_INVALID_INFO_CLASS).
pub fn directory_entry(class: FileInfoClass, stat: &FileStat, name: &str) -> Option<Vec<u8>> {
    let fixed = fixed_len(class)?;
    let name = utf16(name);
    let mut out = Vec::with_capacity(fixed + name.len());
    encode_entry(class, stat, &name, &mut out);
    Some(out)
}

/// Builds a QUERY_DIRECTORY output buffer: appends entries of one class while they
/// fit in the client's `OutputBufferLength`, chaining and aligning them.
///
/// An entry that does not fit is left out whole, and so are the ones after it; the
/// server keeps its place there and resumes with it on the next QUERY_DIRECTORY
/// (MS-SMB2 3.3.5.18). An empty listing whose first entry did not fit is the
/// server's STATUS_BUFFER_OVERFLOW or STATUS_INFO_LENGTH_MISMATCH to decide.
#[derive(Debug, Clone)]
pub struct DirectoryListing {
    class: FileInfoClass,
    fixed_len: usize,
    limit: usize,
    out: Vec<u8>,
    last: Option<usize>,
    count: usize,
}

impl DirectoryListing {
    /// A listing of `class` holding at most `output_buffer_length` bytes; `None`
    /// when `class` is not a directory listing class.
    pub fn new(class: FileInfoClass, output_buffer_length: u32) -> Option<Self> {
        Some(Self {
            class,
            fixed_len: fixed_len(class)?,
            limit: usize::try_from(output_buffer_length).unwrap_or(usize::MAX),
            out: Vec::new(),
            last: None,
            count: 0,
        })
    }

    /// The length of an entry before its name (MS-FSA 2.1.5.6.3: an output buffer
    /// shorter than this gets STATUS_INFO_LENGTH_MISMATCH).
    pub fn fixed_len(&self) -> usize {
        self.fixed_len
    }

    /// Appends the entry for `stat` under `name` if it fits; returns whether it did
    /// (when not, the listing is unchanged).
    pub fn push(&mut self, stat: &FileStat, name: &str) -> bool {
        let name = utf16(name);
        // MS-FSCC 2.4: each entry starts on an 8-byte boundary; the buffer itself
        // starts at offset 72 of the response, a multiple of 8.
        let start = self.out.len().next_multiple_of(8);
        let end = start + self.fixed_len + name.len();
        if end > self.limit {
            return false;
        }
        self.out.resize(start, 0);
        if let Some(previous) = self.last {
            patch_u32(&mut self.out, previous, start - previous);
        }
        encode_entry(self.class, stat, &name, &mut self.out);
        self.last = Some(start);
        self.count += 1;
        true
    }

    /// Appends the entries of `stats` (under their own names) in order until one
    /// does not fit; returns how many were appended, so the rest starts there.
    pub fn push_all<'a>(&mut self, stats: impl IntoIterator<Item = &'a FileStat>) -> usize {
        let mut pushed = 0;
        for stat in stats {
            if !self.push(stat, &stat.name) {
                break;
            }
            pushed += 1;
        }
        pushed
    }

    /// The number of entries appended.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no entry was appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The output buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }
}

/// Reads the entries of a QUERY_DIRECTORY output buffer of `class` (the client's
/// side), as far as the stat structure holds them: times, sizes, attributes, the
/// 64-bit `FileId` of the Id classes and the name. Entries past a
/// `NextEntryOffset` of 0 are not read.
pub fn decode_directory(class: FileInfoClass, bytes: &[u8]) -> Result<Vec<FileStat>, SmbError> {
    let what = "directory listing";
    let fixed = fixed_len(class).ok_or(SmbError::Malformed {
        what,
        why: "not a directory information class",
    })?;
    let mut entries = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let mut r = Reader::new(what, &bytes[at..]);
        let next = r.u32()? as usize;
        entries.push(read_entry(class, &mut r)?);
        at = match next {
            0 => break,
            next => next_entry(at, next, fixed, bytes.len(), what)?,
        };
    }
    Ok(entries)
}

/// Reads one entry after its `NextEntryOffset`.
fn read_entry(class: FileInfoClass, r: &mut Reader<'_>) -> Result<FileStat, SmbError> {
    let what = "directory entry name";
    r.u32()?;
    if class == FileInfoClass::NAMES {
        let len = r.u32()? as usize;
        return Ok(FileStat {
            name: read_utf16(r, len, what)?,
            ..FileStat::default()
        });
    }
    let mut stat = FileStat {
        creation: r.u64()?,
        last_access: r.u64()?,
        last_write: r.u64()?,
        change: r.u64()?,
        end_of_file: r.u64()?,
        allocation_size: r.u64()?,
        file_attributes: r.u32()?,
        ..FileStat::default()
    };
    stat.directory = stat.file_attributes & FILE_ATTRIBUTE_DIRECTORY != 0;
    let len = r.u32()? as usize;
    match class {
        FileInfoClass::FULL_DIRECTORY => {
            r.u32()?;
        }
        FileInfoClass::ID_FULL_DIRECTORY => {
            r.u64()?;
            stat.file_index = r.u64()?;
        }
        FileInfoClass::BOTH_DIRECTORY => {
            r.take(30)?;
        }
        FileInfoClass::ID_BOTH_DIRECTORY => {
            r.take(32)?;
            stat.file_index = r.u64()?;
        }
        _ => {}
    }
    stat.name = read_utf16(r, len, what)?;
    Ok(stat)
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::proto::info::tests::stat;

    const CLASSES: [FileInfoClass; 6] = [
        FileInfoClass::DIRECTORY,
        FileInfoClass::FULL_DIRECTORY,
        FileInfoClass::BOTH_DIRECTORY,
        FileInfoClass::NAMES,
        FileInfoClass::ID_BOTH_DIRECTORY,
        FileInfoClass::ID_FULL_DIRECTORY,
    ];

    #[test]
    fn names_follow_each_class_fixed_part() {
        for (class, fixed) in CLASSES.into_iter().zip([64, 68, 94, 12, 104, 80]) {
            let entry = directory_entry(class, &stat(), "a").unwrap();
            assert_eq!(entry.len(), fixed + 2, "{class:?}");
            assert_eq!(entry[fixed..], [b'a', 0], "{class:?}");
            // FileNameLength: at 8 in FileNamesInformation, at 60 in the others.
            let at = if class == FileInfoClass::NAMES { 8 } else { 60 };
            assert_eq!(entry[at..at + 4], [2, 0, 0, 0], "{class:?}");
        }
        assert!(directory_entry(FileInfoClass::BASIC, &stat(), "a").is_none());
        assert!(DirectoryListing::new(FileInfoClass::ALL, 100).is_none());
    }

    #[test]
    fn id_both_directory_entry_is_byte_exact() {
        let entry = directory_entry(FileInfoClass::ID_BOTH_DIRECTORY, &stat(), "f").unwrap();
        let mut expected = vec![0; 8];
        for t in 1..=4u64 {
            expected.extend_from_slice(&(0x01d0_0000_0000_0000 | t).to_le_bytes());
        }
        expected.extend_from_slice(&1234u64.to_le_bytes()); // EndOfFile
        expected.extend_from_slice(&4096u64.to_le_bytes()); // AllocationSize
        expected.extend_from_slice(&[0x20, 0, 0, 0]); // FileAttributes
        expected.extend_from_slice(&[2, 0, 0, 0]); // FileNameLength
        expected.extend_from_slice(&[0; 4]); // EaSize
        expected.extend_from_slice(&[0; 26]); // ShortNameLength, Reserved1, ShortName
        expected.extend_from_slice(&[0; 2]); // Reserved2
        expected.extend_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes()); // FileId
        expected.extend_from_slice(b"f\0");
        assert_eq!(entry, expected);
    }

    #[test]
    fn entries_chain_on_8_byte_boundaries() {
        let mut listing = DirectoryListing::new(FileInfoClass::BOTH_DIRECTORY, 65536).unwrap();
        assert!(listing.push(&stat(), "."));
        assert!(listing.push(&stat(), ".."));
        assert!(listing.push(&stat(), "abc"));
        assert_eq!(listing.len(), 3);
        let bytes = listing.into_bytes();
        // 94 + 2 = 96; 96 + 94 + 4 = 194 -> next at 200; last 200 + 94 + 6 = 300.
        assert_eq!(bytes[..4], [96, 0, 0, 0]);
        assert_eq!(bytes[96..100], [104, 0, 0, 0]);
        assert_eq!(bytes[200..204], [0, 0, 0, 0]);
        assert_eq!(bytes.len(), 300);
        assert_eq!(bytes[194..200], [0; 6]);
        let back = decode_directory(FileInfoClass::BOTH_DIRECTORY, &bytes).unwrap();
        let names: Vec<_> = back.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [".", "..", "abc"]);
        assert_eq!(back[2].end_of_file, 1234);
    }

    #[test]
    fn the_limit_leaves_out_what_does_not_fit() {
        let stats: Vec<FileStat> = (0..5)
            .map(|i| FileStat {
                name: format!("file{i}"),
                ..stat()
            })
            .collect();
        // Each FileNamesInformation entry is 12 + 10 = 22 bytes, 24 with padding.
        let mut listing = DirectoryListing::new(FileInfoClass::NAMES, 70).unwrap();
        assert_eq!(listing.push_all(&stats), 3);
        let bytes = listing.into_bytes();
        assert_eq!(bytes.len(), 48 + 22);
        let back = decode_directory(FileInfoClass::NAMES, &bytes).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[2].name, "file2");

        let mut tiny = DirectoryListing::new(FileInfoClass::ID_FULL_DIRECTORY, 81).unwrap();
        assert_eq!(tiny.fixed_len(), 80);
        assert!(!tiny.push(&stat(), "x"));
        assert!(tiny.is_empty());
        assert!(tiny.into_bytes().is_empty());
    }

    #[test]
    fn id_classes_carry_the_file_id() {
        for class in CLASSES {
            let mut listing = DirectoryListing::new(class, 4096).unwrap();
            let dir = FileStat {
                directory: true,
                file_attributes: 0,
                name: "sub".into(),
                ..stat()
            };
            assert_eq!(listing.push_all([&stat(), &dir]), 2);
            let back = decode_directory(class, &listing.into_bytes()).unwrap();
            assert_eq!(back[1].name, "sub");
            if class == FileInfoClass::NAMES {
                continue;
            }
            assert!(back[1].directory);
            assert_eq!(back[1].file_attributes, FILE_ATTRIBUTE_DIRECTORY);
            let id_class = [
                FileInfoClass::ID_BOTH_DIRECTORY,
                FileInfoClass::ID_FULL_DIRECTORY,
            ]
            .contains(&class);
            assert_eq!(
                back[0].file_index == stat().file_index,
                id_class,
                "{class:?}"
            );
        }
    }

    #[test]
    fn broken_chains_are_refused() {
        let mut listing = DirectoryListing::new(FileInfoClass::DIRECTORY, 4096).unwrap();
        listing.push_all([&stat(), &stat()]);
        let bytes = listing.into_bytes();
        let mut short = bytes.clone();
        short[0] = 8;
        assert!(decode_directory(FileInfoClass::DIRECTORY, &short).is_err());
        let mut past = bytes.clone();
        past[1] = 0x10;
        assert!(decode_directory(FileInfoClass::DIRECTORY, &past).is_err());
        assert!(decode_directory(FileInfoClass::BASIC, &bytes).is_err());
    }

    proptest! {
        #[test]
        fn decode_directory_never_panics(class in 0u8..64, bytes in vec(any::<u8>(), 0..400)) {
            let _ = decode_directory(FileInfoClass::new(class), &bytes);
        }
    }
}
