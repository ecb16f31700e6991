//! MS-FSCC 2.4 file information classes that QUERY_INFO returns (and the few
//! integers SET_INFO also carries), each filled from a [`FileStat`].

use adjoin_rpc::codec::{Codec, Reader};

use super::{FileStat, Information, len32, next_entry, read_utf16};
use crate::error::SmbError;
use crate::proto::{patch_u32, utf16};

/// Declares an information class that is a single little-endian integer.
macro_rules! scalar_information {
    ($(
        $(#[$meta:meta])*
        $name:ident { $(#[$fmeta:meta])* $field:ident: $ty:ty }
    )*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name {
            $(#[$fmeta])*
            pub $field: $ty,
        }

        impl Information for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                self.$field.encode(out);
            }

            fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
                r.set_what(stringify!($name));
                Ok(Self { $field: <$ty as Codec>::read(r)? })
            }
        }
    )*};
}

scalar_information! {
    /// MS-FSCC 2.4 FileInternalInformation: `IndexNumber(8)`.
    FileInternalInformation {
        /// `IndexNumber`: the file's 64-bit id.
        index_number: u64
    }
    /// MS-FSCC 2.4 FileEaInformation: `EaSize(4)`.
    FileEaInformation {
        /// `EaSize`: the bytes the file's extended attributes take.
        ea_size: u32
    }
    /// MS-FSCC 2.4 FileAccessInformation: `AccessFlags(4)`.
    FileAccessInformation {
        /// `AccessFlags`: the access mask the open was granted.
        access_flags: u32
    }
    /// MS-FSCC 2.4 FilePositionInformation: `CurrentByteOffset(8)`.
    FilePositionInformation {
        /// `CurrentByteOffset`.
        current_byte_offset: u64
    }
    /// MS-FSCC 2.4 FileModeInformation: `Mode(4)`.
    FileModeInformation {
        /// `Mode`: the open's FILE_WRITE_THROUGH, FILE_SEQUENTIAL_ONLY, ... options.
        mode: u32
    }
    /// MS-FSCC 2.4 FileAlignmentInformation: `AlignmentRequirement(4)`.
    FileAlignmentInformation {
        /// `AlignmentRequirement` (0: FILE_BYTE_ALIGNMENT).
        alignment_requirement: u32
    }
    /// MS-FSCC 2.4 FileAllocationInformation: `AllocationSize(8)`.
    FileAllocationInformation {
        /// `AllocationSize`.
        allocation_size: u64
    }
    /// MS-FSCC 2.4 FileEndOfFileInformation: `EndOfFile(8)`.
    FileEndOfFileInformation {
        /// `EndOfFile`: the new size.
        end_of_file: u64
    }
    /// MS-FSCC 2.4 FileDispositionInformationEx: `Flags(4)`.
    FileDispositionInformationEx {
        /// `Flags` (`FileDispositionInformationEx::DELETE`, ...).
        flags: u32
    }
}

impl FileModeInformation {
    /// FILE_WRITE_THROUGH.
    pub const WRITE_THROUGH: u32 = 0x0000_0002;
    /// FILE_SEQUENTIAL_ONLY.
    pub const SEQUENTIAL_ONLY: u32 = 0x0000_0004;
    /// FILE_NO_INTERMEDIATE_BUFFERING.
    pub const NO_INTERMEDIATE_BUFFERING: u32 = 0x0000_0008;
    /// FILE_SYNCHRONOUS_IO_ALERT.
    pub const SYNCHRONOUS_IO_ALERT: u32 = 0x0000_0010;
    /// FILE_SYNCHRONOUS_IO_NONALERT.
    pub const SYNCHRONOUS_IO_NONALERT: u32 = 0x0000_0020;
    /// FILE_DELETE_ON_CLOSE.
    pub const DELETE_ON_CLOSE: u32 = 0x0000_1000;
}

impl FileDispositionInformationEx {
    /// FILE_DISPOSITION_DO_NOT_DELETE (no bit set).
    pub const DO_NOT_DELETE: u32 = 0x0000_0000;
    /// FILE_DISPOSITION_DELETE.
    pub const DELETE: u32 = 0x0000_0001;
    /// FILE_DISPOSITION_POSIX_SEMANTICS: unlink now, keep the data for open handles.
    pub const POSIX_SEMANTICS: u32 = 0x0000_0002;
    /// FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK.
    pub const FORCE_IMAGE_SECTION_CHECK: u32 = 0x0000_0004;
    /// FILE_DISPOSITION_ON_CLOSE: set or clear delete-on-close instead.
    pub const ON_CLOSE: u32 = 0x0000_0008;
    /// FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE.
    pub const IGNORE_READONLY_ATTRIBUTE: u32 = 0x0000_0010;
}

impl From<&FileStat> for FileInternalInformation {
    fn from(stat: &FileStat) -> Self {
        Self {
            index_number: stat.file_index,
        }
    }
}

/// MS-FSCC 2.4 FileBasicInformation (query and set).
///
/// ```text
/// CreationTime(8) LastAccessTime(8) LastWriteTime(8) ChangeTime(8) FileAttributes(4) Reserved(4)
/// ```
/// In SET_INFO a time of 0 and `FileAttributes` 0 mean "leave as is", and
/// [`Self::STOP_UPDATES`] / [`Self::RESUME_UPDATES`] switch the automatic update of
/// that time off and on for the open (MS-FSCC 2.4, MS-FSA 2.1.5.14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileBasicInformation {
    /// `CreationTime`.
    pub creation: u64,
    /// `LastAccessTime`.
    pub last_access: u64,
    /// `LastWriteTime`.
    pub last_write: u64,
    /// `ChangeTime`.
    pub change: u64,
    /// `FileAttributes`.
    pub file_attributes: u32,
}

impl FileBasicInformation {
    /// The structure's length.
    pub const LEN: usize = 40;
    /// A time of -1 in SET_INFO: stop updating this time through this open.
    pub const STOP_UPDATES: u64 = u64::MAX;
    /// A time of -2 in SET_INFO: resume updating this time.
    pub const RESUME_UPDATES: u64 = u64::MAX - 1;
}

impl From<&FileStat> for FileBasicInformation {
    fn from(stat: &FileStat) -> Self {
        Self {
            creation: stat.creation,
            last_access: stat.last_access,
            last_write: stat.last_write,
            change: stat.change,
            file_attributes: stat.attributes(),
        }
    }
}

impl Information for FileBasicInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        for time in [
            self.creation,
            self.last_access,
            self.last_write,
            self.change,
        ] {
            time.encode(out);
        }
        self.file_attributes.encode(out);
        0u32.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileBasicInformation");
        let creation = r.u64()?;
        let last_access = r.u64()?;
        let last_write = r.u64()?;
        let change = r.u64()?;
        let file_attributes = r.u32()?;
        r.u32()?;
        Ok(Self {
            creation,
            last_access,
            last_write,
            change,
            file_attributes,
        })
    }
}

/// MS-FSCC 2.4 FileStandardInformation.
///
/// ```text
/// AllocationSize(8) EndOfFile(8) NumberOfLinks(4) DeletePending(1) Directory(1) Reserved(2)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStandardInformation {
    /// `AllocationSize`.
    pub allocation_size: u64,
    /// `EndOfFile`.
    pub end_of_file: u64,
    /// `NumberOfLinks`.
    pub number_of_links: u32,
    /// `DeletePending`.
    pub delete_pending: bool,
    /// `Directory`.
    pub directory: bool,
}

impl FileStandardInformation {
    /// The structure's length.
    pub const LEN: usize = 24;
}

impl From<&FileStat> for FileStandardInformation {
    fn from(stat: &FileStat) -> Self {
        Self {
            allocation_size: stat.allocation_size,
            end_of_file: stat.end_of_file,
            number_of_links: stat.number_of_links,
            delete_pending: stat.delete_pending,
            directory: stat.directory,
        }
    }
}

impl Information for FileStandardInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.allocation_size.encode(out);
        self.end_of_file.encode(out);
        self.number_of_links.encode(out);
        out.push(u8::from(self.delete_pending));
        out.push(u8::from(self.directory));
        0u16.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileStandardInformation");
        let allocation_size = r.u64()?;
        let end_of_file = r.u64()?;
        let number_of_links = r.u32()?;
        let delete_pending = r.u8()? != 0;
        let directory = r.u8()? != 0;
        r.u16()?;
        Ok(Self {
            allocation_size,
            end_of_file,
            number_of_links,
            delete_pending,
            directory,
        })
    }
}

/// MS-FSCC 2.4 FileNameInformation, and FileAlternateNameInformation and
/// FileNormalizedNameInformation, which share its layout.
///
/// ```text
/// FileNameLength(4) FileName(FileNameLength, UTF-16LE)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileNameInformation {
    /// `FileName`.
    pub name: String,
}

impl From<&FileStat> for FileNameInformation {
    fn from(stat: &FileStat) -> Self {
        Self {
            name: stat.name.clone(),
        }
    }
}

impl Information for FileNameInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        let name = utf16(&self.name);
        len32(name.len()).encode(out);
        out.extend_from_slice(&name);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileNameInformation");
        let len = r.u32()? as usize;
        Ok(Self {
            name: read_utf16(r, len, "FileNameInformation name")?,
        })
    }
}

/// MS-FSCC 2.4 FileAllInformation: nine classes in one.
///
/// ```text
/// BasicInformation(40) StandardInformation(24) InternalInformation(8) EaInformation(4)
/// AccessInformation(4) PositionInformation(8) ModeInformation(4) AlignmentInformation(4)
/// NameInformation(4 + FileNameLength)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileAllInformation {
    /// `BasicInformation`.
    pub basic: FileBasicInformation,
    /// `StandardInformation`.
    pub standard: FileStandardInformation,
    /// `InternalInformation`.
    pub internal: FileInternalInformation,
    /// `EaInformation`.
    pub ea: FileEaInformation,
    /// `AccessInformation`.
    pub access: FileAccessInformation,
    /// `PositionInformation`.
    pub position: FilePositionInformation,
    /// `ModeInformation`.
    pub mode: FileModeInformation,
    /// `AlignmentInformation`.
    pub alignment: FileAlignmentInformation,
    /// `NameInformation`.
    pub name: FileNameInformation,
}

impl FileAllInformation {
    /// The length of everything before `FileName`.
    pub const FIXED_LEN: usize = 100;

    /// The structure for `stat` opened with `access_flags`, at `position`, in `mode`
    /// (no extended attributes, byte alignment).
    pub fn new(stat: &FileStat, access_flags: u32, position: u64, mode: u32) -> Self {
        Self {
            basic: stat.into(),
            standard: stat.into(),
            internal: stat.into(),
            ea: FileEaInformation::default(),
            access: FileAccessInformation { access_flags },
            position: FilePositionInformation {
                current_byte_offset: position,
            },
            mode: FileModeInformation { mode },
            alignment: FileAlignmentInformation::default(),
            name: stat.into(),
        }
    }
}

impl Information for FileAllInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.basic.encode(out);
        self.standard.encode(out);
        self.internal.encode(out);
        self.ea.encode(out);
        self.access.encode(out);
        self.position.encode(out);
        self.mode.encode(out);
        self.alignment.encode(out);
        self.name.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        Ok(Self {
            basic: FileBasicInformation::read(r)?,
            standard: FileStandardInformation::read(r)?,
            internal: FileInternalInformation::read(r)?,
            ea: FileEaInformation::read(r)?,
            access: FileAccessInformation::read(r)?,
            position: FilePositionInformation::read(r)?,
            mode: FileModeInformation::read(r)?,
            alignment: FileAlignmentInformation::read(r)?,
            name: FileNameInformation::read(r)?,
        })
    }
}

/// MS-FSCC 2.4 FileNetworkOpenInformation.
///
/// ```text
/// CreationTime(8) LastAccessTime(8) LastWriteTime(8) ChangeTime(8) AllocationSize(8)
/// EndOfFile(8) FileAttributes(4) Reserved(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileNetworkOpenInformation {
    /// `CreationTime`.
    pub creation: u64,
    /// `LastAccessTime`.
    pub last_access: u64,
    /// `LastWriteTime`.
    pub last_write: u64,
    /// `ChangeTime`.
    pub change: u64,
    /// `AllocationSize`.
    pub allocation_size: u64,
    /// `EndOfFile`.
    pub end_of_file: u64,
    /// `FileAttributes`.
    pub file_attributes: u32,
}

impl FileNetworkOpenInformation {
    /// The structure's length.
    pub const LEN: usize = 56;
}

impl From<&FileStat> for FileNetworkOpenInformation {
    fn from(stat: &FileStat) -> Self {
        Self {
            creation: stat.creation,
            last_access: stat.last_access,
            last_write: stat.last_write,
            change: stat.change,
            allocation_size: stat.allocation_size,
            end_of_file: stat.end_of_file,
            file_attributes: stat.attributes(),
        }
    }
}

impl Information for FileNetworkOpenInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        for v in [
            self.creation,
            self.last_access,
            self.last_write,
            self.change,
            self.allocation_size,
            self.end_of_file,
        ] {
            v.encode(out);
        }
        self.file_attributes.encode(out);
        0u32.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileNetworkOpenInformation");
        let value = Self {
            creation: r.u64()?,
            last_access: r.u64()?,
            last_write: r.u64()?,
            change: r.u64()?,
            allocation_size: r.u64()?,
            end_of_file: r.u64()?,
            file_attributes: r.u32()?,
        };
        r.u32()?;
        Ok(value)
    }
}

/// MS-FSCC 2.4 FileAttributeTagInformation: `FileAttributes(4) ReparseTag(4)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileAttributeTagInformation {
    /// `FileAttributes`.
    pub file_attributes: u32,
    /// `ReparseTag` (0 unless FILE_ATTRIBUTE_REPARSE_POINT is set).
    pub reparse_tag: u32,
}

impl From<&FileStat> for FileAttributeTagInformation {
    fn from(stat: &FileStat) -> Self {
        Self {
            file_attributes: stat.attributes(),
            reparse_tag: 0,
        }
    }
}

impl Information for FileAttributeTagInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.file_attributes.encode(out);
        self.reparse_tag.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileAttributeTagInformation");
        Ok(Self {
            file_attributes: r.u32()?,
            reparse_tag: r.u32()?,
        })
    }
}

/// MS-FSCC 2.4 FileCompressionInformation.
///
/// ```text
/// CompressedFileSize(8) CompressionFormat(2) CompressionUnitShift(1) ChunkShift(1)
/// ClusterShift(1) Reserved(3)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileCompressionInformation {
    /// `CompressedFileSize`.
    pub compressed_file_size: u64,
    /// `CompressionFormat` (0: COMPRESSION_FORMAT_NONE).
    pub compression_format: u16,
    /// `CompressionUnitShift`.
    pub compression_unit_shift: u8,
    /// `ChunkShift`.
    pub chunk_shift: u8,
    /// `ClusterShift`.
    pub cluster_shift: u8,
}

impl From<&FileStat> for FileCompressionInformation {
    /// An uncompressed file: its compressed size is its size.
    fn from(stat: &FileStat) -> Self {
        Self {
            compressed_file_size: stat.end_of_file,
            ..Self::default()
        }
    }
}

impl Information for FileCompressionInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.compressed_file_size.encode(out);
        self.compression_format.encode(out);
        out.extend_from_slice(&[
            self.compression_unit_shift,
            self.chunk_shift,
            self.cluster_shift,
            0,
            0,
            0,
        ]);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileCompressionInformation");
        let value = Self {
            compressed_file_size: r.u64()?,
            compression_format: r.u16()?,
            compression_unit_shift: r.u8()?,
            chunk_shift: r.u8()?,
            cluster_shift: r.u8()?,
        };
        r.take(3)?;
        Ok(value)
    }
}

/// MS-FSCC 2.4 FileIdInformation: `VolumeSerialNumber(8) FileId(16)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileIdInformation {
    /// `VolumeSerialNumber`.
    pub volume_serial_number: u64,
    /// `FileId`: a 128-bit id, little-endian.
    pub file_id: [u8; 16],
}

impl FileIdInformation {
    /// The id of `stat` on the volume `volume_serial_number`: its 64-bit id widened
    /// to 128 bits.
    pub fn new(volume_serial_number: u64, stat: &FileStat) -> Self {
        let mut file_id = [0; 16];
        file_id[..8].copy_from_slice(&stat.file_index.to_le_bytes());
        Self {
            volume_serial_number,
            file_id,
        }
    }
}

impl Information for FileIdInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.volume_serial_number.encode(out);
        out.extend_from_slice(&self.file_id);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileIdInformation");
        Ok(Self {
            volume_serial_number: r.u64()?,
            file_id: r.array()?,
        })
    }
}

/// One FILE_STREAM_INFORMATION entry of [`FileStreamInformation`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamEntry {
    /// `StreamName` (`::$DATA` for the unnamed data stream).
    pub name: String,
    /// `StreamSize`.
    pub size: u64,
    /// `StreamAllocationSize`.
    pub allocation_size: u64,
}

/// MS-FSCC 2.4 FileStreamInformation: the data streams of a file, each entry
/// 8-byte aligned and chained by `NextEntryOffset` (0 in the last).
///
/// ```text
/// NextEntryOffset(4) StreamNameLength(4) StreamSize(8) StreamAllocationSize(8)
/// StreamName(StreamNameLength, UTF-16LE)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileStreamInformation {
    /// The entries.
    pub streams: Vec<StreamEntry>,
}

impl FileStreamInformation {
    /// The name of a file's unnamed data stream.
    pub const DATA_STREAM: &'static str = "::$DATA";
    /// The length of an entry before its name.
    const ENTRY_FIXED_LEN: usize = 24;
}

impl From<&FileStat> for FileStreamInformation {
    /// A file's one unnamed data stream; a directory has none.
    fn from(stat: &FileStat) -> Self {
        let streams = if stat.directory {
            Vec::new()
        } else {
            vec![StreamEntry {
                name: Self::DATA_STREAM.into(),
                size: stat.end_of_file,
                allocation_size: stat.allocation_size,
            }]
        };
        Self { streams }
    }
}

impl Information for FileStreamInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        let base = out.len();
        let mut previous: Option<usize> = None;
        for stream in &self.streams {
            // MS-FSCC 2.4: each entry is aligned on an 8-byte boundary.
            out.resize(base + (out.len() - base).next_multiple_of(8), 0);
            let start = out.len();
            if let Some(prev) = previous {
                patch_u32(out, prev, start - prev);
            }
            let name = utf16(&stream.name);
            0u32.encode(out);
            len32(name.len()).encode(out);
            stream.size.encode(out);
            stream.allocation_size.encode(out);
            out.extend_from_slice(&name);
            previous = Some(start);
        }
    }

    /// Reads the entries up to the one whose `NextEntryOffset` is 0, or to the end.
    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        let bytes = r.rest();
        let mut streams = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let mut entry = Reader::new("FileStreamInformation", &bytes[at..]);
            let next = entry.u32()? as usize;
            let name_len = entry.u32()? as usize;
            let size = entry.u64()?;
            let allocation_size = entry.u64()?;
            let name = read_utf16(&mut entry, name_len, "FileStreamInformation name")?;
            streams.push(StreamEntry {
                name,
                size,
                allocation_size,
            });
            at = match next {
                0 => break,
                next => next_entry(
                    at,
                    next,
                    Self::ENTRY_FIXED_LEN,
                    bytes.len(),
                    "FileStreamInformation",
                )?,
            };
        }
        Ok(Self { streams })
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::proto::info::tests::stat;

    fn round_trip<T: Information + PartialEq + std::fmt::Debug>(value: &T) -> Vec<u8> {
        let bytes = value.to_bytes();
        assert_eq!(&T::decode(&bytes).unwrap(), value);
        bytes
    }

    #[test]
    fn basic_information_is_40_bytes_with_4_reserved_at_the_end() {
        let bytes = round_trip(&FileBasicInformation::from(&stat()));
        let mut expected = Vec::new();
        for t in 1..=4u64 {
            expected.extend_from_slice(&(0x01d0_0000_0000_0000 | t).to_le_bytes());
        }
        expected.extend_from_slice(&[0x20, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), FileBasicInformation::LEN);
        assert!(FileBasicInformation::decode(&bytes[..39]).is_err());
    }

    #[test]
    fn standard_information_is_24_bytes() {
        let mut s = stat();
        s.delete_pending = true;
        let bytes = round_trip(&FileStandardInformation::from(&s));
        assert_eq!(
            bytes,
            [
                0x00, 0x10, 0, 0, 0, 0, 0, 0, // AllocationSize 4096
                0xd2, 0x04, 0, 0, 0, 0, 0, 0, // EndOfFile 1234
                1, 0, 0, 0, // NumberOfLinks
                1, 0, // DeletePending, Directory
                0, 0, // Reserved
            ]
        );
        assert_eq!(bytes.len(), FileStandardInformation::LEN);
    }

    #[test]
    fn network_open_information_is_56_bytes() {
        let bytes = round_trip(&FileNetworkOpenInformation::from(&stat()));
        assert_eq!(bytes.len(), FileNetworkOpenInformation::LEN);
        assert_eq!(&bytes[32..40], &4096u64.to_le_bytes());
        assert_eq!(&bytes[40..48], &1234u64.to_le_bytes());
        assert_eq!(bytes[48..], [0x20, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn all_information_has_a_100_byte_fixed_part() {
        let all = FileAllInformation::new(
            &stat(),
            0x0012_019f,
            77,
            FileModeInformation::SEQUENTIAL_ONLY,
        );
        let bytes = round_trip(&all);
        let name = utf16("dir\\file.txt");
        assert_eq!(bytes.len(), FileAllInformation::FIXED_LEN + name.len());
        // Each part sits at the sum of the lengths before it.
        assert_eq!(bytes[..40], FileBasicInformation::from(&stat()).to_bytes());
        assert_eq!(
            bytes[40..64],
            FileStandardInformation::from(&stat()).to_bytes()
        );
        assert_eq!(&bytes[64..72], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(bytes[72..76], [0, 0, 0, 0]);
        assert_eq!(bytes[76..80], [0x9f, 0x01, 0x12, 0x00]);
        assert_eq!(&bytes[80..88], &77u64.to_le_bytes());
        assert_eq!(bytes[88..92], [4, 0, 0, 0]);
        assert_eq!(bytes[92..96], [0, 0, 0, 0]);
        assert_eq!(&bytes[96..100], &(name.len() as u32).to_le_bytes());
        assert_eq!(bytes[100..], name);
    }

    #[test]
    fn small_classes_have_their_sizes() {
        let s = stat();
        assert_eq!(
            round_trip(&FileInternalInformation::from(&s)),
            0x0102_0304_0506_0708u64.to_le_bytes()
        );
        assert_eq!(round_trip(&FileEaInformation { ea_size: 0 }).len(), 4);
        assert_eq!(
            round_trip(&FileAccessInformation {
                access_flags: 0x1f01ff
            }),
            [0xff, 0x01, 0x1f, 0]
        );
        assert_eq!(
            round_trip(&FilePositionInformation {
                current_byte_offset: 9
            })
            .len(),
            8
        );
        assert_eq!(round_trip(&FileModeInformation { mode: 0x20 }).len(), 4);
        assert_eq!(round_trip(&FileAlignmentInformation::default()).len(), 4);
        assert_eq!(
            round_trip(&FileAttributeTagInformation::from(&s)),
            [0x20, 0, 0, 0, 0, 0, 0, 0]
        );
        let compression = round_trip(&FileCompressionInformation::from(&s));
        assert_eq!(compression.len(), 16);
        assert_eq!(&compression[..8], &1234u64.to_le_bytes());
        let id = round_trip(&FileIdInformation::new(0xaabb, &s));
        assert_eq!(id.len(), 24);
        assert_eq!(&id[..8], &0xaabbu64.to_le_bytes());
        assert_eq!(&id[8..16], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(id[16..], [0; 8]);
    }

    #[test]
    fn name_information_counts_bytes_not_characters() {
        let bytes = round_trip(&FileNameInformation {
            name: "\\é".into()
        });
        assert_eq!(bytes, [4, 0, 0, 0, b'\\', 0, 0xe9, 0]);
        // A length past the buffer, or odd, is refused.
        assert!(FileNameInformation::decode(&[6, 0, 0, 0, b'a', 0]).is_err());
        assert!(FileNameInformation::decode(&[1, 0, 0, 0, b'a', 0]).is_err());
    }

    #[test]
    fn stream_information_lists_data_for_files_only() {
        let bytes = round_trip(&FileStreamInformation::from(&stat()));
        let name = utf16("::$DATA");
        assert_eq!(bytes.len(), 24 + name.len());
        assert_eq!(bytes[..8], [0, 0, 0, 0, 14, 0, 0, 0]);
        assert_eq!(&bytes[8..16], &1234u64.to_le_bytes());
        assert_eq!(&bytes[16..24], &4096u64.to_le_bytes());
        assert_eq!(bytes[24..], name);

        let dir = FileStat {
            directory: true,
            ..stat()
        };
        assert!(round_trip(&FileStreamInformation::from(&dir)).is_empty());

        // Two entries: the second starts 8-byte aligned, and the first points to it.
        let two = FileStreamInformation {
            streams: vec![
                StreamEntry {
                    name: "::$DATA".into(),
                    size: 1,
                    allocation_size: 8,
                },
                StreamEntry {
                    name: ":x:$DATA".into(),
                    size: 2,
                    allocation_size: 8,
                },
            ],
        };
        let bytes = round_trip(&two);
        assert_eq!(bytes[..4], [40, 0, 0, 0]);
        // A NextEntryOffset back into the entry is refused rather than looped on.
        let mut looping = bytes.clone();
        looping[0] = 4;
        assert!(FileStreamInformation::decode(&looping).is_err());
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in vec(any::<u8>(), 0..200)) {
            let _ = FileBasicInformation::decode(&bytes);
            let _ = FileStandardInformation::decode(&bytes);
            let _ = FileInternalInformation::decode(&bytes);
            let _ = FileEaInformation::decode(&bytes);
            let _ = FileAccessInformation::decode(&bytes);
            let _ = FilePositionInformation::decode(&bytes);
            let _ = FileModeInformation::decode(&bytes);
            let _ = FileAlignmentInformation::decode(&bytes);
            let _ = FileNameInformation::decode(&bytes);
            let _ = FileAllInformation::decode(&bytes);
            let _ = FileNetworkOpenInformation::decode(&bytes);
            let _ = FileAttributeTagInformation::decode(&bytes);
            let _ = FileCompressionInformation::decode(&bytes);
            let _ = FileIdInformation::decode(&bytes);
            let _ = FileStreamInformation::decode(&bytes);
            let _ = FileAllocationInformation::decode(&bytes);
            let _ = FileEndOfFileInformation::decode(&bytes);
            let _ = FileDispositionInformationEx::decode(&bytes);
        }

        #[test]
        fn all_information_round_trips(
            times in any::<[u64; 6]>(),
            (attributes, links, index) in (any::<u32>(), any::<u32>(), any::<u64>()),
            (pending, directory) in (any::<bool>(), any::<bool>()),
            name in "\\PC{0,40}",
            (access, position, mode) in (any::<u32>(), any::<u64>(), any::<u32>()),
        ) {
            let s = FileStat {
                creation: times[0],
                last_access: times[1],
                last_write: times[2],
                change: times[3],
                allocation_size: times[4],
                end_of_file: times[5],
                file_attributes: attributes,
                file_index: index,
                number_of_links: links,
                delete_pending: pending,
                directory,
                name,
            };
            let all = FileAllInformation::new(&s, access, position, mode);
            prop_assert_eq!(FileAllInformation::decode(&all.to_bytes()).unwrap(), all);
            let streams = FileStreamInformation::from(&s);
            prop_assert_eq!(FileStreamInformation::decode(&streams.to_bytes()).unwrap(), streams);
        }
    }
}
