//! MS-SMB2 2.2.17/2.2.18, 2.2.26/2.2.27 and 2.2.33-2.2.40: the calls a file server
//! answers on an open besides CREATE, CLOSE, READ, WRITE and IOCTL: FLUSH, LOCK, QUERY_DIRECTORY, CHANGE_NOTIFY,
//! QUERY_INFO and SET_INFO. Their buffers hold MS-FSCC structures, which
//! [`super::info`] encodes and decodes.
//!
//! Every variable buffer is written right after its body's fixed part, with its
//! offset pointing there even when it is empty; an empty buffer still takes the one
//! byte that the odd `StructureSize` counts (as CREATE does). Decoders find buffers
//! by offset and length only.

use adjoin_rpc::codec::{Codec, Reader};
use adjoin_rpc::open_enum;

use super::info::{FileInfoClass, FsInfoClass};
use super::{
    Body, Command, FileId, buffer, from_utf16, offset_here_u16, patch_u16, patch_u32, utf16,
};
use crate::error::SmbError;

open_enum! {
    /// MS-SMB2 2.2.37 `InfoType`: which kind of information QUERY_INFO or SET_INFO
    /// carries.
    pub struct InfoType(u8) {
        /// SMB2_0_INFO_FILE: an MS-FSCC 2.4 file information class.
        FILE = 0x01 => "SMB2_0_INFO_FILE",
        /// SMB2_0_INFO_FILESYSTEM: an MS-FSCC 2.5 file system information class.
        FILESYSTEM = 0x02 => "SMB2_0_INFO_FILESYSTEM",
        /// SMB2_0_INFO_SECURITY: a security descriptor (MS-DTYP 2.4.6).
        SECURITY = 0x03 => "SMB2_0_INFO_SECURITY",
        /// SMB2_0_INFO_QUOTA: FILE_QUOTA_INFORMATION entries (MS-FSCC 2.4).
        QUOTA = 0x04 => "SMB2_0_INFO_QUOTA",
    }
}

impl Default for InfoType {
    fn default() -> Self {
        Self::FILE
    }
}

bitflags::bitflags! {
    /// MS-SMB2 2.2.33 QUERY_DIRECTORY `Flags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct QueryDirectoryFlags: u8 {
        /// SMB2_RESTART_SCANS: start the enumeration again from the first entry.
        const RESTART_SCANS = 0x01;
        /// SMB2_RETURN_SINGLE_ENTRY: return at most one entry.
        const RETURN_SINGLE_ENTRY = 0x02;
        /// SMB2_INDEX_SPECIFIED: resume at `FileIndex`.
        const INDEX_SPECIFIED = 0x04;
        /// SMB2_REOPEN: restart with a new search pattern.
        const REOPEN = 0x10;
    }
}

bitflags::bitflags! {
    /// MS-SMB2 2.2.26.1 SMB2_LOCK_ELEMENT `Flags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct LockFlags: u32 {
        /// SMB2_LOCKFLAG_SHARED_LOCK.
        const SHARED_LOCK = 0x0000_0001;
        /// SMB2_LOCKFLAG_EXCLUSIVE_LOCK.
        const EXCLUSIVE_LOCK = 0x0000_0002;
        /// SMB2_LOCKFLAG_UNLOCK.
        const UNLOCK = 0x0000_0004;
        /// SMB2_LOCKFLAG_FAIL_IMMEDIATELY: do not wait for a conflicting lock.
        const FAIL_IMMEDIATELY = 0x0000_0010;
    }
}

bitflags::bitflags! {
    /// MS-SMB2 2.2.35 CHANGE_NOTIFY `Flags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct ChangeNotifyFlags: u16 {
        /// SMB2_WATCH_TREE: watch the subdirectories too.
        const WATCH_TREE = 0x0001;
    }
}

bitflags::bitflags! {
    /// MS-SMB2 2.2.35 CHANGE_NOTIFY `CompletionFilter`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct CompletionFilter: u32 {
        /// FILE_NOTIFY_CHANGE_FILE_NAME.
        const FILE_NAME = 0x0000_0001;
        /// FILE_NOTIFY_CHANGE_DIR_NAME.
        const DIR_NAME = 0x0000_0002;
        /// FILE_NOTIFY_CHANGE_ATTRIBUTES.
        const ATTRIBUTES = 0x0000_0004;
        /// FILE_NOTIFY_CHANGE_SIZE.
        const SIZE = 0x0000_0008;
        /// FILE_NOTIFY_CHANGE_LAST_WRITE.
        const LAST_WRITE = 0x0000_0010;
        /// FILE_NOTIFY_CHANGE_LAST_ACCESS.
        const LAST_ACCESS = 0x0000_0020;
        /// FILE_NOTIFY_CHANGE_CREATION.
        const CREATION = 0x0000_0040;
        /// FILE_NOTIFY_CHANGE_EA.
        const EA = 0x0000_0080;
        /// FILE_NOTIFY_CHANGE_SECURITY.
        const SECURITY = 0x0000_0100;
        /// FILE_NOTIFY_CHANGE_STREAM_NAME.
        const STREAM_NAME = 0x0000_0200;
        /// FILE_NOTIFY_CHANGE_STREAM_SIZE.
        const STREAM_SIZE = 0x0000_0400;
        /// FILE_NOTIFY_CHANGE_STREAM_WRITE.
        const STREAM_WRITE = 0x0000_0800;
    }
}

/// Appends a variable buffer at the end of `out`; an empty one still takes one byte.
fn push_buffer(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        out.push(0);
    } else {
        out.extend_from_slice(data);
    }
}

/// MS-SMB2 2.2.17 FLUSH Request.
///
/// ```text
/// StructureSize(2)=24 Reserved1(2) Reserved2(4) FileId(16)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlushRequest {
    /// `FileId`.
    pub file_id: FileId,
}

impl Body for FlushRequest {
    const COMMAND: Command = Command::FLUSH;
    const STRUCTURE_SIZE: u16 = 24;

    fn encode_body(&self, out: &mut Vec<u8>) {
        0u16.encode(out);
        0u32.encode(out);
        self.file_id.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("FLUSH request");
        r.u16()?;
        r.u32()?;
        Ok(Self {
            file_id: FileId::read(r)?,
        })
    }
}

/// MS-SMB2 2.2.18 FLUSH Response: `StructureSize(2)=4 Reserved(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlushResponse;

impl Body for FlushResponse {
    const COMMAND: Command = Command::FLUSH;
    const STRUCTURE_SIZE: u16 = 4;

    fn encode_body(&self, out: &mut Vec<u8>) {
        0u16.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.u16()?;
        Ok(Self)
    }
}

/// MS-SMB2 2.2.26.1 SMB2_LOCK_ELEMENT.
///
/// ```text
/// Offset(8) Length(8) Flags(4) Reserved(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockElement {
    /// `Offset`: the first byte of the range.
    pub offset: u64,
    /// `Length`: the range's length in bytes.
    pub length: u64,
    /// `Flags`.
    pub flags: LockFlags,
}

impl LockElement {
    /// The element's length on the wire.
    pub const LEN: usize = 24;
}

impl Codec for LockElement {
    fn encode(&self, out: &mut Vec<u8>) {
        self.offset.encode(out);
        self.length.encode(out);
        self.flags.bits().encode(out);
        0u32.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, adjoin_rpc::DecodeError> {
        let offset = r.u64()?;
        let length = r.u64()?;
        let flags = LockFlags::from_bits_retain(r.u32()?);
        r.u32()?;
        Ok(Self {
            offset,
            length,
            flags,
        })
    }
}

/// MS-SMB2 2.2.26 LOCK Request.
///
/// ```text
/// StructureSize(2)=48 LockCount(2) LockSequenceNumber(4 bits) LockSequenceIndex(28 bits)
/// FileId(16) Locks(24*LockCount)
/// ```
/// `StructureSize` counts one lock element, so a request without locks still
/// carries 24 (zero) bytes; MS-SMB2 3.3.5.14 has the server refuse a `LockCount`
/// of 0 with STATUS_INVALID_PARAMETER, which is the server's decision, not the codec's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockRequest {
    /// The 32 bits of `LockSequenceNumber` (low 4) and `LockSequenceIndex` (high
    /// 28); SMB 2.0.2 leaves them zero.
    pub lock_sequence: u32,
    /// `FileId`.
    pub file_id: FileId,
    /// `Locks`.
    pub locks: Vec<LockElement>,
}

impl LockRequest {
    /// `LockSequenceNumber` (MS-SMB2 3.3.5.14: compared for lock replays).
    pub fn lock_sequence_number(&self) -> u8 {
        (self.lock_sequence & 0xf) as u8
    }

    /// `LockSequenceIndex`: the index into `Open.LockSequenceArray`.
    pub fn lock_sequence_index(&self) -> u32 {
        self.lock_sequence >> 4
    }
}

impl Body for LockRequest {
    const COMMAND: Command = Command::LOCK;
    const STRUCTURE_SIZE: u16 = 48;

    fn encode_body(&self, out: &mut Vec<u8>) {
        u16::try_from(self.locks.len())
            .unwrap_or(u16::MAX)
            .encode(out);
        self.lock_sequence.encode(out);
        self.file_id.encode(out);
        for lock in self.locks.iter().take(usize::from(u16::MAX)) {
            lock.encode(out);
        }
        if self.locks.is_empty() {
            out.resize(out.len() + LockElement::LEN, 0);
        }
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("LOCK request");
        let count = usize::from(r.u16()?);
        let lock_sequence = r.u32()?;
        let file_id = FileId::read(r)?;
        // Taking all the elements first bounds the allocation by the message.
        let mut elements = r.sub("LOCK elements", count * LockElement::LEN)?;
        let locks = (0..count)
            .map(|_| LockElement::read(&mut elements))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            lock_sequence,
            file_id,
            locks,
        })
    }
}

/// MS-SMB2 2.2.27 LOCK Response: `StructureSize(2)=4 Reserved(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockResponse;

impl Body for LockResponse {
    const COMMAND: Command = Command::LOCK;
    const STRUCTURE_SIZE: u16 = 4;

    fn encode_body(&self, out: &mut Vec<u8>) {
        0u16.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.u16()?;
        Ok(Self)
    }
}

/// MS-SMB2 2.2.33 QUERY_DIRECTORY Request.
///
/// ```text
/// StructureSize(2)=33 FileInformationClass(1) Flags(1) FileIndex(4) FileId(16)
/// FileNameOffset(2) FileNameLength(2) OutputBufferLength(4) Buffer(search pattern, UTF-16LE)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryDirectoryRequest {
    /// `FileInformationClass`: one of the directory classes (MS-FSCC 2.4).
    pub file_information_class: FileInfoClass,
    /// `Flags`.
    pub flags: QueryDirectoryFlags,
    /// `FileIndex`: where to resume, with [`QueryDirectoryFlags::INDEX_SPECIFIED`].
    pub file_index: u32,
    /// `FileId` of the directory.
    pub file_id: FileId,
    /// `OutputBufferLength`: the most bytes of entries the client accepts.
    pub output_buffer_length: u32,
    /// The search pattern (`*`, a name, or wildcards).
    pub file_name: String,
}

impl Body for QueryDirectoryRequest {
    const COMMAND: Command = Command::QUERY_DIRECTORY;
    const STRUCTURE_SIZE: u16 = 33;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.file_information_class.value());
        out.push(self.flags.bits());
        self.file_index.encode(out);
        self.file_id.encode(out);
        let name_at = out.len();
        0u32.encode(out);
        self.output_buffer_length.encode(out);
        let name = utf16(&self.file_name);
        offset_here_u16(out, name_at);
        patch_u16(out, name_at + 2, name.len());
        push_buffer(out, &name);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("QUERY_DIRECTORY request");
        let file_information_class = FileInfoClass::new(r.u8()?);
        let flags = QueryDirectoryFlags::from_bits_retain(r.u8()?);
        let file_index = r.u32()?;
        let file_id = FileId::read(r)?;
        let name_offset = usize::from(r.u16()?);
        let name_len = usize::from(r.u16()?);
        let output_buffer_length = r.u32()?;
        let what = "QUERY_DIRECTORY file name";
        let file_name = from_utf16(buffer(msg, name_offset, name_len, what)?, what)?;
        Ok(Self {
            file_information_class,
            flags,
            file_index,
            file_id,
            output_buffer_length,
            file_name,
        })
    }
}

/// Declares a response that is `StructureSize(2)=9 OutputBufferOffset(2)
/// OutputBufferLength(4) Buffer`.
macro_rules! output_response {
    ($($(#[$meta:meta])* $name:ident => $command:ident, $what:literal;)*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            /// The buffer (`OutputBufferOffset`, `OutputBufferLength`).
            pub output: Vec<u8>,
        }

        impl Body for $name {
            const COMMAND: Command = Command::$command;
            const STRUCTURE_SIZE: u16 = 9;

            fn encode_body(&self, out: &mut Vec<u8>) {
                let at = out.len();
                0u16.encode(out);
                0u32.encode(out);
                offset_here_u16(out, at);
                patch_u32(out, at + 2, self.output.len());
                push_buffer(out, &self.output);
            }

            fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
                r.set_what($what);
                let offset = usize::from(r.u16()?);
                let len = r.u32()? as usize;
                Ok(Self {
                    output: buffer(msg, offset, len, $what)?.to_vec(),
                })
            }
        }
    )*};
}

output_response! {
    /// MS-SMB2 2.2.34 QUERY_DIRECTORY Response: directory entries of the requested
    /// class, chained by `NextEntryOffset` (see [`super::info::DirectoryListing`]).
    ///
    /// ```text
    /// StructureSize(2)=9 OutputBufferOffset(2) OutputBufferLength(4) Buffer
    /// ```
    QueryDirectoryResponse => QUERY_DIRECTORY, "QUERY_DIRECTORY response buffer";
    /// MS-SMB2 2.2.36 CHANGE_NOTIFY Response: FILE_NOTIFY_INFORMATION entries
    /// (MS-FSCC 2.7.1).
    ///
    /// ```text
    /// StructureSize(2)=9 OutputBufferOffset(2) OutputBufferLength(4) Buffer
    /// ```
    ChangeNotifyResponse => CHANGE_NOTIFY, "CHANGE_NOTIFY response buffer";
    /// MS-SMB2 2.2.38 QUERY_INFO Response: the MS-FSCC structure, security
    /// descriptor or quota entries asked for.
    ///
    /// ```text
    /// StructureSize(2)=9 OutputBufferOffset(2) OutputBufferLength(4) Buffer
    /// ```
    QueryInfoResponse => QUERY_INFO, "QUERY_INFO response buffer";
}

/// MS-SMB2 2.2.35 CHANGE_NOTIFY Request.
///
/// ```text
/// StructureSize(2)=32 Flags(2) OutputBufferLength(4) FileId(16) CompletionFilter(4) Reserved(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChangeNotifyRequest {
    /// `Flags`.
    pub flags: ChangeNotifyFlags,
    /// `OutputBufferLength`.
    pub output_buffer_length: u32,
    /// `FileId` of the directory to watch.
    pub file_id: FileId,
    /// `CompletionFilter`: the changes to report.
    pub completion_filter: CompletionFilter,
}

impl Body for ChangeNotifyRequest {
    const COMMAND: Command = Command::CHANGE_NOTIFY;
    const STRUCTURE_SIZE: u16 = 32;

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.flags.bits().encode(out);
        self.output_buffer_length.encode(out);
        self.file_id.encode(out);
        self.completion_filter.bits().encode(out);
        0u32.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("CHANGE_NOTIFY request");
        let flags = ChangeNotifyFlags::from_bits_retain(r.u16()?);
        let output_buffer_length = r.u32()?;
        let file_id = FileId::read(r)?;
        let completion_filter = CompletionFilter::from_bits_retain(r.u32()?);
        r.u32()?;
        Ok(Self {
            flags,
            output_buffer_length,
            file_id,
            completion_filter,
        })
    }
}

/// MS-SMB2 2.2.37 QUERY_INFO Request.
///
/// ```text
/// StructureSize(2)=41 InfoType(1) FileInfoClass(1) OutputBufferLength(4)
/// InputBufferOffset(2) Reserved(2) InputBufferLength(4) AdditionalInformation(4)
/// Flags(4) FileId(16) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryInfoRequest {
    /// `InfoType`.
    pub info_type: InfoType,
    /// `FileInfoClass`: a file or file system class, by `info_type` (see
    /// [`Self::file_info_class`], [`Self::fs_info_class`]); 0 otherwise.
    pub info_class: u8,
    /// `OutputBufferLength`: the most bytes the client accepts.
    pub output_buffer_length: u32,
    /// `AdditionalInformation`: the security descriptor's parts for
    /// [`InfoType::SECURITY`], the EA index for FileFullEaInformation.
    pub additional_information: u32,
    /// `Flags` (SL_RESTART_SCAN, SL_RETURN_SINGLE_ENTRY, SL_INDEX_SPECIFIED for EAs).
    pub flags: u32,
    /// `FileId`.
    pub file_id: FileId,
    /// The input buffer (quota queries and EA lists), usually empty.
    pub input: Vec<u8>,
}

impl QueryInfoRequest {
    /// `FileInfoClass` as a file information class (for [`InfoType::FILE`]).
    pub fn file_info_class(&self) -> FileInfoClass {
        FileInfoClass::new(self.info_class)
    }

    /// `FileInfoClass` as a file system information class (for [`InfoType::FILESYSTEM`]).
    pub fn fs_info_class(&self) -> FsInfoClass {
        FsInfoClass::new(self.info_class)
    }
}

impl Body for QueryInfoRequest {
    const COMMAND: Command = Command::QUERY_INFO;
    const STRUCTURE_SIZE: u16 = 41;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.info_type.value());
        out.push(self.info_class);
        self.output_buffer_length.encode(out);
        let input_at = out.len();
        0u16.encode(out);
        0u16.encode(out);
        0u32.encode(out);
        self.additional_information.encode(out);
        self.flags.encode(out);
        self.file_id.encode(out);
        offset_here_u16(out, input_at);
        patch_u32(out, input_at + 4, self.input.len());
        push_buffer(out, &self.input);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("QUERY_INFO request");
        let info_type = InfoType::new(r.u8()?);
        let info_class = r.u8()?;
        let output_buffer_length = r.u32()?;
        let input_offset = usize::from(r.u16()?);
        r.u16()?;
        let input_len = r.u32()? as usize;
        let additional_information = r.u32()?;
        let flags = r.u32()?;
        let file_id = FileId::read(r)?;
        Ok(Self {
            info_type,
            info_class,
            output_buffer_length,
            additional_information,
            flags,
            file_id,
            input: buffer(msg, input_offset, input_len, "QUERY_INFO input")?.to_vec(),
        })
    }
}

/// MS-SMB2 2.2.39 SET_INFO Request.
///
/// ```text
/// StructureSize(2)=33 InfoType(1) FileInfoClass(1) BufferLength(4) BufferOffset(2)
/// Reserved(2) AdditionalInformation(4) FileId(16) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetInfoRequest {
    /// `InfoType`.
    pub info_type: InfoType,
    /// `FileInfoClass`: a file or file system class, by `info_type`; 0 otherwise.
    pub info_class: u8,
    /// `AdditionalInformation`: the security descriptor's parts for
    /// [`InfoType::SECURITY`].
    pub additional_information: u32,
    /// `FileId`.
    pub file_id: FileId,
    /// The structure to set (for files, see [`super::info::SetFileInfo::decode`]).
    pub buffer: Vec<u8>,
}

impl SetInfoRequest {
    /// `FileInfoClass` as a file information class (for [`InfoType::FILE`]).
    pub fn file_info_class(&self) -> FileInfoClass {
        FileInfoClass::new(self.info_class)
    }

    /// `FileInfoClass` as a file system information class (for [`InfoType::FILESYSTEM`]).
    pub fn fs_info_class(&self) -> FsInfoClass {
        FsInfoClass::new(self.info_class)
    }
}

impl Body for SetInfoRequest {
    const COMMAND: Command = Command::SET_INFO;
    const STRUCTURE_SIZE: u16 = 33;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.info_type.value());
        out.push(self.info_class);
        let buffer_at = out.len();
        0u32.encode(out);
        0u16.encode(out);
        0u16.encode(out);
        self.additional_information.encode(out);
        self.file_id.encode(out);
        patch_u32(out, buffer_at, self.buffer.len());
        offset_here_u16(out, buffer_at + 4);
        push_buffer(out, &self.buffer);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("SET_INFO request");
        let info_type = InfoType::new(r.u8()?);
        let info_class = r.u8()?;
        let len = r.u32()? as usize;
        let offset = usize::from(r.u16()?);
        r.u16()?;
        let additional_information = r.u32()?;
        let file_id = FileId::read(r)?;
        Ok(Self {
            info_type,
            info_class,
            additional_information,
            file_id,
            buffer: buffer(msg, offset, len, "SET_INFO buffer")?.to_vec(),
        })
    }
}

/// MS-SMB2 2.2.40 SET_INFO Response: `StructureSize(2)=2` and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetInfoResponse;

impl Body for SetInfoResponse {
    const COMMAND: Command = Command::SET_INFO;
    const STRUCTURE_SIZE: u16 = 2;

    fn encode_body(&self, _out: &mut Vec<u8>) {}

    fn decode_body(_r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        Ok(Self)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::proto::Header;

    fn id() -> FileId {
        FileId {
            persistent: 0x1111,
            volatile: 0x2222,
        }
    }

    fn u16_at(msg: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([msg[at], msg[at + 1]])
    }

    fn u32_at(msg: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(msg[at..at + 4].try_into().unwrap())
    }

    /// Encodes, decodes, compares, and encodes again to the same bytes.
    fn round_trip<B: Body + PartialEq + Debug>(body: &B) -> Vec<u8> {
        let msg = body.to_message(&Header::default());
        let (h, back) = B::from_message(&msg).unwrap();
        assert_eq!(&back, body);
        assert_eq!(back.to_message(&h), msg);
        msg
    }

    #[test]
    fn query_directory_request_puts_the_pattern_at_96() {
        let req = QueryDirectoryRequest {
            file_information_class: FileInfoClass::ID_BOTH_DIRECTORY,
            flags: QueryDirectoryFlags::RESTART_SCANS,
            file_index: 0,
            file_id: id(),
            output_buffer_length: 65536,
            file_name: "*".into(),
        };
        let msg = round_trip(&req);
        // 64 + 32 fixed bytes; the pattern is "*" in UTF-16LE.
        assert_eq!(msg[64..66], [33, 0]);
        assert_eq!(msg[66], 37);
        assert_eq!(msg[67], 0x01);
        assert_eq!(u16_at(&msg, 88), 96);
        assert_eq!(u16_at(&msg, 90), 2);
        assert_eq!(u32_at(&msg, 92), 65536);
        assert_eq!(&msg[96..], b"*\0");

        // An empty pattern keeps the one-byte buffer.
        let empty = QueryDirectoryRequest {
            file_name: String::new(),
            ..req
        };
        assert_eq!(round_trip(&empty).len(), 97);
    }

    #[test]
    fn query_info_request_layout() {
        let req = QueryInfoRequest {
            info_type: InfoType::FILE,
            info_class: FileInfoClass::ALL.value(),
            output_buffer_length: 4096,
            file_id: id(),
            ..Default::default()
        };
        let msg = round_trip(&req);
        assert_eq!(msg.len(), 64 + 41);
        assert_eq!(msg[64..68], [41, 0, 1, 18]);
        assert_eq!(u32_at(&msg, 68), 4096);
        assert_eq!(u16_at(&msg, 72), 104);
        assert_eq!(u32_at(&msg, 76), 0);
        assert_eq!(&msg[88..96], &0x1111u64.to_le_bytes());
        let (_, back) = QueryInfoRequest::from_message(&msg).unwrap();
        assert_eq!(back.file_info_class(), FileInfoClass::ALL);

        let quota = QueryInfoRequest {
            info_type: InfoType::QUOTA,
            info_class: 0,
            input: vec![7; 16],
            ..req
        };
        let msg = round_trip(&quota);
        assert_eq!(u32_at(&msg, 76), 16);
        assert_eq!(&msg[104..], &[7; 16]);
    }

    #[test]
    fn set_info_request_has_length_before_offset() {
        let req = SetInfoRequest {
            info_type: InfoType::FILE,
            info_class: FileInfoClass::DISPOSITION.value(),
            additional_information: 0,
            file_id: id(),
            buffer: vec![1],
        };
        let msg = round_trip(&req);
        assert_eq!(msg[64..68], [33, 0, 1, 13]);
        assert_eq!(u32_at(&msg, 68), 1);
        assert_eq!(u16_at(&msg, 72), 96);
        assert_eq!(msg[96..], [1]);
        assert_eq!(msg.len(), 97);
    }

    #[test]
    fn responses_put_their_buffer_at_72() {
        let resp = QueryInfoResponse {
            output: vec![0xaa; 40],
        };
        let msg = round_trip(&resp);
        assert_eq!(msg[64..66], [9, 0]);
        assert_eq!(u16_at(&msg, 66), 72);
        assert_eq!(u32_at(&msg, 68), 40);
        assert_eq!(&msg[72..], &[0xaa; 40]);

        let empty = ChangeNotifyResponse::default();
        let msg = round_trip(&empty);
        assert_eq!(msg.len(), 73);
        assert_eq!(u32_at(&msg, 68), 0);
        round_trip(&QueryDirectoryResponse { output: vec![1; 9] });

        let msg = round_trip(&SetInfoResponse);
        assert_eq!(msg.len(), 66);
        assert_eq!(msg[64..], [2, 0]);
    }

    #[test]
    fn lock_request_carries_its_elements() {
        let req = LockRequest {
            lock_sequence: (5 << 4) | 3,
            file_id: id(),
            locks: vec![
                LockElement {
                    offset: 0,
                    length: 100,
                    flags: LockFlags::EXCLUSIVE_LOCK | LockFlags::FAIL_IMMEDIATELY,
                },
                LockElement {
                    offset: 200,
                    length: 1,
                    flags: LockFlags::UNLOCK,
                },
            ],
        };
        let msg = round_trip(&req);
        assert_eq!(msg.len(), 64 + 24 + 2 * 24);
        assert_eq!(msg[64..68], [48, 0, 2, 0]);
        // The first element at 64 + 24: Offset, Length, Flags.
        assert_eq!(&msg[88..96], &0u64.to_le_bytes());
        assert_eq!(&msg[96..104], &100u64.to_le_bytes());
        assert_eq!(u32_at(&msg, 104), 0x12);
        assert_eq!(&msg[112..120], &200u64.to_le_bytes());
        assert_eq!(req.lock_sequence_number(), 3);
        assert_eq!(req.lock_sequence_index(), 5);

        // LockCount 0 still carries the element StructureSize counts.
        let none = LockRequest {
            locks: Vec::new(),
            ..req.clone()
        };
        assert_eq!(round_trip(&none).len(), 64 + 48);

        // A LockCount past the message is refused.
        let mut msg = req.to_message(&Header::default());
        msg[66] = 3;
        assert!(LockRequest::from_message(&msg).is_err());
    }

    #[test]
    fn flush_and_change_notify_layouts() {
        let msg = round_trip(&FlushRequest { file_id: id() });
        assert_eq!(msg.len(), 64 + 24);
        assert_eq!(&msg[72..80], &0x1111u64.to_le_bytes());
        assert_eq!(round_trip(&FlushResponse).len(), 68);
        assert_eq!(round_trip(&LockResponse).len(), 68);

        let req = ChangeNotifyRequest {
            flags: ChangeNotifyFlags::WATCH_TREE,
            output_buffer_length: 4096,
            file_id: id(),
            completion_filter: CompletionFilter::FILE_NAME | CompletionFilter::DIR_NAME,
        };
        let msg = round_trip(&req);
        assert_eq!(msg.len(), 64 + 32);
        assert_eq!(msg[64..68], [32, 0, 1, 0]);
        assert_eq!(u32_at(&msg, 88), 3);
    }

    #[test]
    fn info_type_prints_unknown_values_in_hex() {
        assert_eq!(format!("{:?}", InfoType::SECURITY), "SECURITY");
        assert_eq!(format!("{:?}", InfoType::new(9)), "InfoType(0x9)");
    }

    fn file_id_strategy() -> impl Strategy<Value = FileId> {
        (any::<u64>(), any::<u64>()).prop_map(|(persistent, volatile)| FileId {
            persistent,
            volatile,
        })
    }

    prop_compose! {
        fn lock_element()(offset in any::<u64>(), length in any::<u64>(), flags in any::<u32>())
            -> LockElement
        {
            LockElement { offset, length, flags: LockFlags::from_bits_retain(flags) }
        }
    }

    /// Reads `body` as the body of a `B`, after a header and `StructureSize` that fit.
    fn decode_as<B: Body>(body: &[u8]) {
        let mut msg = Header::request(B::COMMAND).to_bytes();
        B::STRUCTURE_SIZE.encode(&mut msg);
        msg.extend_from_slice(body);
        let _ = B::from_message(&msg);
    }

    proptest! {
        #[test]
        fn bodies_round_trip(
            (class, flags, file_index, output_buffer_length) in
                (any::<u8>(), any::<u8>(), any::<u32>(), any::<u32>()),
            file_id in file_id_strategy(),
            file_name in "\\PC{0,30}",
            (info_type, additional_information, query_flags) in
                (any::<u8>(), any::<u32>(), any::<u32>()),
            data in vec(any::<u8>(), 0..200),
            (lock_sequence, locks) in (any::<u32>(), vec(lock_element(), 0..5)),
            (notify_flags, completion_filter) in (any::<u16>(), any::<u32>()),
        ) {
            round_trip(&QueryDirectoryRequest {
                file_information_class: FileInfoClass::new(class),
                flags: QueryDirectoryFlags::from_bits_retain(flags),
                file_index,
                file_id,
                output_buffer_length,
                file_name,
            });
            round_trip(&QueryInfoRequest {
                info_type: InfoType::new(info_type),
                info_class: class,
                output_buffer_length,
                additional_information,
                flags: query_flags,
                file_id,
                input: data.clone(),
            });
            round_trip(&SetInfoRequest {
                info_type: InfoType::new(info_type),
                info_class: class,
                additional_information,
                file_id,
                buffer: data.clone(),
            });
            round_trip(&QueryInfoResponse { output: data.clone() });
            round_trip(&QueryDirectoryResponse { output: data.clone() });
            round_trip(&ChangeNotifyResponse { output: data });
            round_trip(&LockRequest { lock_sequence, file_id, locks });
            round_trip(&ChangeNotifyRequest {
                flags: ChangeNotifyFlags::from_bits_retain(notify_flags),
                output_buffer_length,
                file_id,
                completion_filter: CompletionFilter::from_bits_retain(completion_filter),
            });
            round_trip(&FlushRequest { file_id });
        }

        #[test]
        fn decoders_never_panic(body in vec(any::<u8>(), 0..160)) {
            decode_as::<FlushRequest>(&body);
            decode_as::<FlushResponse>(&body);
            decode_as::<LockRequest>(&body);
            decode_as::<LockResponse>(&body);
            decode_as::<QueryDirectoryRequest>(&body);
            decode_as::<QueryDirectoryResponse>(&body);
            decode_as::<ChangeNotifyRequest>(&body);
            decode_as::<ChangeNotifyResponse>(&body);
            decode_as::<QueryInfoRequest>(&body);
            decode_as::<QueryInfoResponse>(&body);
            decode_as::<SetInfoRequest>(&body);
            decode_as::<SetInfoResponse>(&body);
        }
    }
}
