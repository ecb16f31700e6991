//! What a SET_INFO request with SMB2_0_INFO_FILE carries (MS-SMB2 2.2.39): the
//! classes only clients send, and [`SetFileInfo`], which reads the buffer of any
//! class a server sets.

use adjoin_rpc::codec::{Codec, Reader};

use super::{
    FileAllocationInformation, FileBasicInformation, FileDispositionInformationEx,
    FileEndOfFileInformation, FileInfoClass, FileModeInformation, FilePositionInformation,
    Information, len32, read_utf16,
};
use crate::error::SmbError;
use crate::proto::utf16;

/// MS-FSCC 2.4 FileRenameInformation, the SMB2 form (FILE_RENAME_INFORMATION_TYPE_2).
///
/// ```text
/// ReplaceIfExists(1) Reserved(7) RootDirectory(8) FileNameLength(4)
/// FileName(FileNameLength, UTF-16LE) Padding
/// ```
/// `RootDirectory` MUST be 0 for network operations; the server checks it (MS-FSCC:
/// STATUS_INVALID_PARAMETER).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileRenameInformation {
    /// `ReplaceIfExists`.
    pub replace_if_exists: bool,
    /// `RootDirectory`.
    pub root_directory: u64,
    /// `FileName`: the new name, from the share's root.
    pub file_name: String,
}

/// MS-FSCC 2.4 FileLinkInformation, the SMB2 form (FILE_LINK_INFORMATION_TYPE_2):
/// the layout of [`FileRenameInformation`], naming the new hard link.
pub type FileLinkInformation = FileRenameInformation;

impl FileRenameInformation {
    /// The length before `FileName`.
    pub const FIXED_LEN: usize = 20;
    /// The length Windows expects at least: the C structure's size with its
    /// one-character `FileName` and padding.
    const MIN_LEN: usize = 24;
}

impl Information for FileRenameInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let name = utf16(&self.file_name);
        out.push(u8::from(self.replace_if_exists));
        out.extend_from_slice(&[0; 7]);
        self.root_directory.encode(out);
        len32(name.len()).encode(out);
        out.extend_from_slice(&name);
        out.resize(out.len().max(start + Self::MIN_LEN), 0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileRenameInformation");
        let replace_if_exists = r.u8()? != 0;
        r.take(7)?;
        let root_directory = r.u64()?;
        let len = r.u32()? as usize;
        Ok(Self {
            replace_if_exists,
            root_directory,
            file_name: read_utf16(r, len, "FileRenameInformation name")?,
        })
    }
}

/// MS-FSCC 2.4 FileDispositionInformation: `DeletePending(1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileDispositionInformation {
    /// `DeletePending`: delete the file when its last handle closes (any nonzero
    /// byte is TRUE, MS-FSCC 2.1.8).
    pub delete_pending: bool,
}

impl Information for FileDispositionInformation {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.delete_pending));
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SmbError> {
        r.set_what("FileDispositionInformation");
        Ok(Self {
            delete_pending: r.u8()? != 0,
        })
    }
}

/// The buffer of a SET_INFO request with SMB2_0_INFO_FILE, by class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetFileInfo {
    /// FileBasicInformation: times and attributes.
    Basic(FileBasicInformation),
    /// FileRenameInformation.
    Rename(FileRenameInformation),
    /// FileLinkInformation: a new hard link.
    Link(FileLinkInformation),
    /// FileDispositionInformation: delete on close.
    Disposition(FileDispositionInformation),
    /// FileDispositionInformationEx: delete on close, with POSIX semantics and more.
    DispositionEx(FileDispositionInformationEx),
    /// FilePositionInformation: the open's current byte offset.
    Position(FilePositionInformation),
    /// FileModeInformation: the open's mode.
    Mode(FileModeInformation),
    /// FileAllocationInformation: the allocated size.
    Allocation(FileAllocationInformation),
    /// FileEndOfFileInformation: truncate or extend.
    EndOfFile(FileEndOfFileInformation),
}

impl SetFileInfo {
    /// Reads `buffer` as the structure of `class`. `Ok(None)` for a class Adjoin does
    /// not set (the server answers STATUS_INVALID_INFO_CLASS, or STATUS_NOT_SUPPORTED
    /// for FileFullEaInformation and the like); an error for a buffer too short for
    /// its class (STATUS_INFO_LENGTH_MISMATCH) or a name that is not UTF-16
    /// (STATUS_OBJECT_NAME_INVALID). Bytes past the structure are ignored.
    pub fn decode(class: FileInfoClass, buffer: &[u8]) -> Result<Option<Self>, SmbError> {
        Ok(Some(match class {
            FileInfoClass::BASIC => Self::Basic(Information::decode(buffer)?),
            FileInfoClass::RENAME => Self::Rename(Information::decode(buffer)?),
            FileInfoClass::LINK => Self::Link(Information::decode(buffer)?),
            FileInfoClass::DISPOSITION => Self::Disposition(Information::decode(buffer)?),
            FileInfoClass::DISPOSITION_EX => Self::DispositionEx(Information::decode(buffer)?),
            FileInfoClass::POSITION => Self::Position(Information::decode(buffer)?),
            FileInfoClass::MODE => Self::Mode(Information::decode(buffer)?),
            FileInfoClass::ALLOCATION => Self::Allocation(Information::decode(buffer)?),
            FileInfoClass::END_OF_FILE => Self::EndOfFile(Information::decode(buffer)?),
            _ => return Ok(None),
        }))
    }

    /// The class this structure is set with.
    pub fn class(&self) -> FileInfoClass {
        match self {
            Self::Basic(_) => FileInfoClass::BASIC,
            Self::Rename(_) => FileInfoClass::RENAME,
            Self::Link(_) => FileInfoClass::LINK,
            Self::Disposition(_) => FileInfoClass::DISPOSITION,
            Self::DispositionEx(_) => FileInfoClass::DISPOSITION_EX,
            Self::Position(_) => FileInfoClass::POSITION,
            Self::Mode(_) => FileInfoClass::MODE,
            Self::Allocation(_) => FileInfoClass::ALLOCATION,
            Self::EndOfFile(_) => FileInfoClass::END_OF_FILE,
        }
    }

    /// The SET_INFO buffer (the client's side).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Basic(v) => v.to_bytes(),
            Self::Rename(v) | Self::Link(v) => v.to_bytes(),
            Self::Disposition(v) => v.to_bytes(),
            Self::DispositionEx(v) => v.to_bytes(),
            Self::Position(v) => v.to_bytes(),
            Self::Mode(v) => v.to_bytes(),
            Self::Allocation(v) => v.to_bytes(),
            Self::EndOfFile(v) => v.to_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rename_reads_the_smb2_form() {
        // A rename to b\c: ReplaceIfExists 0, RootDirectory 0, 6 bytes of name, padding.
        let mut bytes = vec![0; 8];
        bytes[1..8].copy_from_slice(&[0xcc; 7]); // Reserved may hold anything.
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&[6, 0, 0, 0]);
        bytes.extend_from_slice(b"b\0\\\0c\0");
        bytes.extend_from_slice(&[0, 0]); // padding
        let info = SetFileInfo::decode(FileInfoClass::RENAME, &bytes)
            .unwrap()
            .unwrap();
        assert_eq!(
            info,
            SetFileInfo::Rename(FileRenameInformation {
                replace_if_exists: false,
                root_directory: 0,
                file_name: "b\\c".into(),
            })
        );
        assert_eq!(info.class(), FileInfoClass::RENAME);
        // Encoding writes zero reserved bytes and pads to 24.
        let encoded = info.to_bytes();
        assert_eq!(encoded.len(), 26);
        assert_eq!(encoded[..8], [0; 8]);
        let short = FileRenameInformation {
            replace_if_exists: true,
            root_directory: 0,
            file_name: "x".into(),
        };
        let encoded = short.to_bytes();
        assert_eq!(encoded.len(), 24);
        assert_eq!(encoded[0], 1);
        assert_eq!(FileRenameInformation::decode(&encoded).unwrap(), short);
    }

    #[test]
    fn short_buffers_are_errors_not_panics() {
        assert!(SetFileInfo::decode(FileInfoClass::BASIC, &[0; 39]).is_err());
        assert!(SetFileInfo::decode(FileInfoClass::END_OF_FILE, &[0; 7]).is_err());
        assert!(SetFileInfo::decode(FileInfoClass::DISPOSITION, &[]).is_err());
        assert!(SetFileInfo::decode(FileInfoClass::DISPOSITION_EX, &[1, 0, 0]).is_err());
        // A FileNameLength past the buffer.
        let mut rename = vec![0; 16];
        rename.extend_from_slice(&[8, 0, 0, 0, b'a', 0]);
        assert!(SetFileInfo::decode(FileInfoClass::LINK, &rename).is_err());
        // An odd FileNameLength.
        let mut odd = vec![0; 16];
        odd.extend_from_slice(&[1, 0, 0, 0, b'a', 0]);
        assert!(matches!(
            SetFileInfo::decode(FileInfoClass::RENAME, &odd),
            Err(SmbError::Malformed { .. })
        ));
    }

    #[test]
    fn each_class_decodes_to_its_variant() {
        let cases = [
            SetFileInfo::Basic(FileBasicInformation {
                last_write: FileBasicInformation::STOP_UPDATES,
                file_attributes: 0x20,
                ..Default::default()
            }),
            SetFileInfo::Link(FileLinkInformation {
                replace_if_exists: true,
                root_directory: 0,
                file_name: "hard".into(),
            }),
            SetFileInfo::Disposition(FileDispositionInformation {
                delete_pending: true,
            }),
            SetFileInfo::DispositionEx(FileDispositionInformationEx {
                flags: FileDispositionInformationEx::DELETE
                    | FileDispositionInformationEx::POSIX_SEMANTICS,
            }),
            SetFileInfo::Position(FilePositionInformation {
                current_byte_offset: 10,
            }),
            SetFileInfo::Mode(FileModeInformation {
                mode: FileModeInformation::WRITE_THROUGH,
            }),
            SetFileInfo::Allocation(FileAllocationInformation {
                allocation_size: 1 << 20,
            }),
            SetFileInfo::EndOfFile(FileEndOfFileInformation { end_of_file: 0 }),
        ];
        for case in cases {
            let bytes = case.to_bytes();
            assert_eq!(
                SetFileInfo::decode(case.class(), &bytes).unwrap(),
                Some(case)
            );
        }
        assert_eq!(
            SetFileInfo::decode(FileInfoClass::DISPOSITION, &[7]).unwrap(),
            Some(SetFileInfo::Disposition(FileDispositionInformation {
                delete_pending: true
            }))
        );
        assert_eq!(
            SetFileInfo::decode(FileInfoClass::STANDARD, &[0; 24]).unwrap(),
            None
        );
        assert_eq!(
            SetFileInfo::decode(FileInfoClass::FULL_EA, &[]).unwrap(),
            None
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(class in any::<u8>(), bytes in vec(any::<u8>(), 0..120)) {
            let _ = SetFileInfo::decode(FileInfoClass::new(class), &bytes);
        }

        #[test]
        fn rename_round_trips(replace in any::<bool>(), root in any::<u64>(), name in "\\PC{0,40}") {
            let info = FileRenameInformation { replace_if_exists: replace, root_directory: root, file_name: name };
            prop_assert_eq!(FileRenameInformation::decode(&info.to_bytes()).unwrap(), info);
        }
    }
}
