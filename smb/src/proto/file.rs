//! MS-SMB2 2.2.2 and 2.2.13-2.2.32: the error response and the calls on an
//! open (CREATE, CLOSE, READ, WRITE, IOCTL) plus ECHO.

use adjoin_rpc::codec::{Codec, Reader};

use super::{
    Body, Command, Header, align8, buffer, from_utf16, offset_here_u16, offset_here_u32, patch_u16,
    patch_u32, utf16,
};
use super::{Capabilities, Dialect, NegotiateRequest, SecurityMode};
use crate::error::SmbError;

/// FSCTL_PIPE_TRANSCEIVE (MS-FSCC 2.3.49): write a message to a pipe and read its reply.
pub const FSCTL_PIPE_TRANSCEIVE: u32 = 0x0011_c017;

/// FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 2.2.31): secure dialect negotiation for 3.0.x.
pub const FSCTL_VALIDATE_NEGOTIATE_INFO: u32 = 0x0014_0204;

/// MS-SMB2 2.2.31.4 VALIDATE_NEGOTIATE_INFO Request: the client's NEGOTIATE, repeated
/// under the session's signature.
///
/// ```text
/// Capabilities(4) Guid(16) SecurityMode(2) DialectCount(2) Dialects(2*n)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidateNegotiateInfoRequest {
    /// The client's `Capabilities`.
    pub capabilities: Capabilities,
    /// The client's `ClientGuid`.
    pub guid: [u8; 16],
    /// The client's `SecurityMode`.
    pub security_mode: SecurityMode,
    /// The dialects the client offered.
    pub dialects: Vec<Dialect>,
}

impl From<&NegotiateRequest> for ValidateNegotiateInfoRequest {
    /// What the client's NEGOTIATE said, as the FSCTL repeats it.
    fn from(req: &NegotiateRequest) -> Self {
        Self {
            capabilities: req.capabilities,
            guid: req.client_guid,
            security_mode: req.security_mode,
            dialects: req.dialects.clone(),
        }
    }
}

impl Codec for ValidateNegotiateInfoRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.capabilities.bits().encode(out);
        out.extend_from_slice(&self.guid);
        self.security_mode.bits().encode(out);
        u16::try_from(self.dialects.len())
            .unwrap_or(u16::MAX)
            .encode(out);
        for d in &self.dialects {
            d.value().encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, adjoin_rpc::DecodeError> {
        r.set_what("VALIDATE_NEGOTIATE_INFO request");
        let capabilities = Capabilities::from_bits_retain(r.u32()?);
        let guid = r.array()?;
        let security_mode = SecurityMode::from_bits_retain(r.u16()?);
        let n = r.u16()?;
        let dialects = (0..n)
            .map(|_| r.u16().map(Dialect::new))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            capabilities,
            guid,
            security_mode,
            dialects,
        })
    }
}

/// MS-SMB2 2.2.32.6 VALIDATE_NEGOTIATE_INFO Response: the server's side of NEGOTIATE.
///
/// ```text
/// Capabilities(4) Guid(16) SecurityMode(2) Dialect(2)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValidateNegotiateInfoResponse {
    /// The server's `Capabilities`.
    pub capabilities: Capabilities,
    /// The server's `ServerGuid`.
    pub guid: [u8; 16],
    /// The server's `SecurityMode`.
    pub security_mode: SecurityMode,
    /// The dialect in use.
    pub dialect: Dialect,
}

impl Codec for ValidateNegotiateInfoResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        self.capabilities.bits().encode(out);
        out.extend_from_slice(&self.guid);
        self.security_mode.bits().encode(out);
        self.dialect.value().encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, adjoin_rpc::DecodeError> {
        r.set_what("VALIDATE_NEGOTIATE_INFO response");
        Ok(Self {
            capabilities: Capabilities::from_bits_retain(r.u32()?),
            guid: r.array()?,
            security_mode: SecurityMode::from_bits_retain(r.u16()?),
            dialect: Dialect::new(r.u16()?),
        })
    }
}

/// MS-SMB2 2.2.14.1 SMB2_FILEID: `Persistent(8) Volatile(8)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileId {
    /// `Persistent`.
    pub persistent: u64,
    /// `Volatile`.
    pub volatile: u64,
}

impl Codec for FileId {
    fn encode(&self, out: &mut Vec<u8>) {
        self.persistent.encode(out);
        self.volatile.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, adjoin_rpc::DecodeError> {
        Ok(Self {
            persistent: r.u64()?,
            volatile: r.u64()?,
        })
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// MS-SMB2 2.2.2 ERROR Response.
///
/// ```text
/// StructureSize(2)=9 ErrorContextCount(1) Reserved(1) ByteCount(4) ErrorData(ByteCount, min 1)
/// ```
/// It answers any command, so it is read by [`ErrorResponse::from_message`] whatever
/// the header's command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorResponse {
    /// `ErrorContextCount` (3.1.1).
    pub error_context_count: u8,
    /// `ErrorData`.
    pub data: Vec<u8>,
}

impl ErrorResponse {
    /// `StructureSize` of an error response.
    pub const STRUCTURE_SIZE: u16 = 9;

    /// The whole message answering `header`'s request with this error.
    pub fn to_message(&self, header: &Header) -> Vec<u8> {
        let mut out = header.to_bytes();
        Self::STRUCTURE_SIZE.encode(&mut out);
        out.push(self.error_context_count);
        out.push(0);
        len32(self.data.len()).encode(&mut out);
        // MS-SMB2 2.2.2: ErrorData is at least one byte even when ByteCount is 0.
        if self.data.is_empty() {
            out.push(0);
        } else {
            out.extend_from_slice(&self.data);
        }
        out
    }

    /// Reads an error response of any command.
    pub fn from_message(msg: &[u8]) -> Result<(Header, Self), SmbError> {
        let mut r = Reader::new("SMB2 ERROR response", msg);
        let header = Header::read(&mut r)?;
        let size = r.u16()?;
        if size != Self::STRUCTURE_SIZE {
            return Err(SmbError::StructureSize {
                command: header.command,
                expected: Self::STRUCTURE_SIZE,
                got: size,
            });
        }
        let error_context_count = r.u8()?;
        r.u8()?;
        // A ByteCount that runs past the message is malformed, not something to trim.
        let n = r.u32()? as usize;
        let data = r.take(n)?.to_vec();
        Ok((
            header,
            Self {
                error_context_count,
                data,
            },
        ))
    }
}

/// MS-SMB2 2.2.13 CREATE Request.
///
/// ```text
/// StructureSize(2)=57 SecurityFlags(1) RequestedOplockLevel(1) ImpersonationLevel(4)
/// SmbCreateFlags(8) Reserved(8) DesiredAccess(4) FileAttributes(4) ShareAccess(4)
/// CreateDisposition(4) CreateOptions(4) NameOffset(2) NameLength(2)
/// CreateContextsOffset(4) CreateContextsLength(4) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateRequest {
    /// `RequestedOplockLevel`.
    pub oplock_level: u8,
    /// `ImpersonationLevel` (2 = Impersonation).
    pub impersonation_level: u32,
    /// `DesiredAccess`.
    pub desired_access: u32,
    /// `FileAttributes`.
    pub file_attributes: u32,
    /// `ShareAccess`.
    pub share_access: u32,
    /// `CreateDisposition`.
    pub create_disposition: u32,
    /// `CreateOptions`.
    pub create_options: u32,
    /// The name, relative to the share (no leading backslash).
    pub name: String,
    /// The raw CREATE context chain (MS-SMB2 2.2.13.2), empty when none.
    pub contexts: Vec<u8>,
}

impl CreateRequest {
    /// FILE_OPEN.
    pub const FILE_OPEN: u32 = 1;
    /// SMB2_IMPERSONATION_IMPERSONATION.
    pub const IMPERSONATION: u32 = 2;
}

impl Body for CreateRequest {
    const COMMAND: Command = Command::CREATE;
    const STRUCTURE_SIZE: u16 = 57;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(0);
        out.push(self.oplock_level);
        self.impersonation_level.encode(out);
        0u64.encode(out);
        0u64.encode(out);
        self.desired_access.encode(out);
        self.file_attributes.encode(out);
        self.share_access.encode(out);
        self.create_disposition.encode(out);
        self.create_options.encode(out);
        let name_at = out.len();
        0u32.encode(out);
        let ctx_at = out.len();
        0u64.encode(out);
        let name = utf16(&self.name);
        offset_here_u16(out, name_at);
        patch_u16(out, name_at + 2, name.len());
        // MS-SMB2 2.2.13: the buffer is at least one byte even for an empty name.
        if name.is_empty() && self.contexts.is_empty() {
            out.push(0);
        }
        out.extend_from_slice(&name);
        if !self.contexts.is_empty() {
            align8(out);
            offset_here_u32(out, ctx_at);
            patch_u32(out, ctx_at + 4, self.contexts.len());
            out.extend_from_slice(&self.contexts);
        }
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("CREATE request");
        r.u8()?;
        let oplock_level = r.u8()?;
        let impersonation_level = r.u32()?;
        r.u64()?;
        r.u64()?;
        let desired_access = r.u32()?;
        let file_attributes = r.u32()?;
        let share_access = r.u32()?;
        let create_disposition = r.u32()?;
        let create_options = r.u32()?;
        let name_offset = usize::from(r.u16()?);
        let name_len = usize::from(r.u16()?);
        let ctx_offset = r.u32()? as usize;
        let ctx_len = r.u32()? as usize;
        let name = from_utf16(
            buffer(msg, name_offset, name_len, "CREATE name")?,
            "CREATE name",
        )?;
        let contexts = buffer(msg, ctx_offset, ctx_len, "CREATE contexts")?.to_vec();
        Ok(Self {
            oplock_level,
            impersonation_level,
            desired_access,
            file_attributes,
            share_access,
            create_disposition,
            create_options,
            name,
            contexts,
        })
    }
}

/// The six timestamps and sizes CREATE and CLOSE responses carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileTimes {
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
    /// `EndofFile`.
    pub end_of_file: u64,
}

impl Codec for FileTimes {
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
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, adjoin_rpc::DecodeError> {
        Ok(Self {
            creation: r.u64()?,
            last_access: r.u64()?,
            last_write: r.u64()?,
            change: r.u64()?,
            allocation_size: r.u64()?,
            end_of_file: r.u64()?,
        })
    }
}

/// MS-SMB2 2.2.14 CREATE Response.
///
/// ```text
/// StructureSize(2)=89 OplockLevel(1) Flags(1) CreateAction(4) CreationTime(8)
/// LastAccessTime(8) LastWriteTime(8) ChangeTime(8) AllocationSize(8) EndofFile(8)
/// FileAttributes(4) Reserved2(4) FileId(16) CreateContextsOffset(4) CreateContextsLength(4) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateResponse {
    /// `OplockLevel`.
    pub oplock_level: u8,
    /// `Flags`.
    pub flags: u8,
    /// `CreateAction`.
    pub create_action: u32,
    /// Times and sizes.
    pub times: FileTimes,
    /// `FileAttributes`.
    pub file_attributes: u32,
    /// `FileId`.
    pub file_id: FileId,
    /// The raw CREATE context chain of the response.
    pub contexts: Vec<u8>,
}

impl Body for CreateResponse {
    const COMMAND: Command = Command::CREATE;
    const STRUCTURE_SIZE: u16 = 89;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.oplock_level);
        out.push(self.flags);
        self.create_action.encode(out);
        self.times.encode(out);
        self.file_attributes.encode(out);
        0u32.encode(out);
        self.file_id.encode(out);
        let ctx_at = out.len();
        0u64.encode(out);
        if !self.contexts.is_empty() {
            offset_here_u32(out, ctx_at);
            patch_u32(out, ctx_at + 4, self.contexts.len());
            out.extend_from_slice(&self.contexts);
        }
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("CREATE response");
        let oplock_level = r.u8()?;
        let flags = r.u8()?;
        let create_action = r.u32()?;
        let times = FileTimes::read(r)?;
        let file_attributes = r.u32()?;
        r.u32()?;
        let file_id = FileId::read(r)?;
        let ctx_offset = r.u32()? as usize;
        let ctx_len = r.u32()? as usize;
        Ok(Self {
            oplock_level,
            flags,
            create_action,
            times,
            file_attributes,
            file_id,
            contexts: buffer(msg, ctx_offset, ctx_len, "CREATE contexts")?.to_vec(),
        })
    }
}

/// MS-SMB2 2.2.15 CLOSE Request: `StructureSize(2)=24 Flags(2) Reserved(4) FileId(16)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CloseRequest {
    /// `Flags` (SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB = 1).
    pub flags: u16,
    /// `FileId`.
    pub file_id: FileId,
}

impl Body for CloseRequest {
    const COMMAND: Command = Command::CLOSE;
    const STRUCTURE_SIZE: u16 = 24;

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.flags.encode(out);
        0u32.encode(out);
        self.file_id.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("CLOSE request");
        let flags = r.u16()?;
        r.u32()?;
        Ok(Self {
            flags,
            file_id: FileId::read(r)?,
        })
    }
}

/// MS-SMB2 2.2.16 CLOSE Response:
/// `StructureSize(2)=60 Flags(2) Reserved(4) times and sizes(48) FileAttributes(4)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CloseResponse {
    /// `Flags`.
    pub flags: u16,
    /// Times and sizes (zero unless the request asked for them).
    pub times: FileTimes,
    /// `FileAttributes`.
    pub file_attributes: u32,
}

impl Body for CloseResponse {
    const COMMAND: Command = Command::CLOSE;
    const STRUCTURE_SIZE: u16 = 60;

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.flags.encode(out);
        0u32.encode(out);
        self.times.encode(out);
        self.file_attributes.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("CLOSE response");
        let flags = r.u16()?;
        r.u32()?;
        Ok(Self {
            flags,
            times: FileTimes::read(r)?,
            file_attributes: r.u32()?,
        })
    }
}

/// MS-SMB2 2.2.19 READ Request.
///
/// ```text
/// StructureSize(2)=49 Padding(1) Flags(1) Length(4) Offset(8) FileId(16) MinimumCount(4)
/// Channel(4) RemainingBytes(4) ReadChannelInfoOffset(2) ReadChannelInfoLength(2) Buffer(1)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadRequest {
    /// `Padding`: where the server should put the data, from the header's start.
    pub padding: u8,
    /// `Length`.
    pub length: u32,
    /// `Offset`.
    pub offset: u64,
    /// `FileId`.
    pub file_id: FileId,
    /// `MinimumCount`.
    pub minimum_count: u32,
}

impl Body for ReadRequest {
    const COMMAND: Command = Command::READ;
    const STRUCTURE_SIZE: u16 = 49;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.padding);
        out.push(0);
        self.length.encode(out);
        self.offset.encode(out);
        self.file_id.encode(out);
        self.minimum_count.encode(out);
        0u32.encode(out);
        0u32.encode(out);
        0u32.encode(out);
        // MS-SMB2 2.2.19: the buffer is at least one byte.
        out.push(0);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("READ request");
        let padding = r.u8()?;
        r.u8()?;
        let length = r.u32()?;
        let offset = r.u64()?;
        let file_id = FileId::read(r)?;
        let minimum_count = r.u32()?;
        Ok(Self {
            padding,
            length,
            offset,
            file_id,
            minimum_count,
        })
    }
}

/// MS-SMB2 2.2.20 READ Response.
///
/// ```text
/// StructureSize(2)=17 DataOffset(1) Reserved(1) DataLength(4) DataRemaining(4) Reserved2(4) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadResponse {
    /// `DataRemaining`.
    pub data_remaining: u32,
    /// The data read.
    pub data: Vec<u8>,
}

impl ReadResponse {
    /// Sets `DataLength` in `msg`, a READ response encoded with no data to which `len`
    /// bytes of data were then appended (the server's way of reading straight into the
    /// response).
    pub fn set_data_length(msg: &mut [u8], len: usize) {
        let at = super::HEADER_LEN + 4;
        if let Some(field) = msg.get_mut(at..at + 4) {
            field.copy_from_slice(&len32(len).to_le_bytes());
        }
    }
}

impl Body for ReadResponse {
    const COMMAND: Command = Command::READ;
    const STRUCTURE_SIZE: u16 = 17;

    fn encode_body(&self, out: &mut Vec<u8>) {
        // The data follows the 16 fixed bytes: offset 80 always fits the one-byte field.
        out.push(80);
        out.push(0);
        len32(self.data.len()).encode(out);
        self.data_remaining.encode(out);
        0u32.encode(out);
        out.extend_from_slice(&self.data);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        let (data, data_remaining) = read_body(r, msg)?;
        Ok(Self {
            data_remaining,
            data: data.to_vec(),
        })
    }
}

impl ReadResponse {
    /// The data of the READ response `msg` (a whole message), checked as
    /// [`Body::from_message`] checks it, without copying: what a client reading a large
    /// file hands on.
    pub fn data_of(msg: &[u8]) -> Result<&[u8], SmbError> {
        let (_, mut r) = super::body_reader::<Self>(msg)?;
        Ok(read_body(&mut r, msg)?.0)
    }
}

/// A READ response's data (in `msg`) and `DataRemaining`.
fn read_body<'a>(r: &mut Reader<'_>, msg: &'a [u8]) -> Result<(&'a [u8], u32), SmbError> {
    r.set_what("READ response");
    let offset = usize::from(r.u8()?);
    r.u8()?;
    let len = r.u32()? as usize;
    let data_remaining = r.u32()?;
    r.u32()?;
    Ok((buffer(msg, offset, len, "READ data")?, data_remaining))
}

/// MS-SMB2 2.2.21 WRITE Request.
///
/// ```text
/// StructureSize(2)=49 DataOffset(2) Length(4) Offset(8) FileId(16) Channel(4)
/// RemainingBytes(4) WriteChannelInfoOffset(2) WriteChannelInfoLength(2) Flags(4) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WriteRequest {
    /// `Offset`.
    pub offset: u64,
    /// `FileId`.
    pub file_id: FileId,
    /// `Flags`.
    pub flags: u32,
    /// The data to write.
    pub data: Vec<u8>,
}

impl Body for WriteRequest {
    const COMMAND: Command = Command::WRITE;
    const STRUCTURE_SIZE: u16 = 49;

    fn encode_body(&self, out: &mut Vec<u8>) {
        // The data follows the 48 fixed bytes, at 64 + 48 = 112.
        112u16.encode(out);
        len32(self.data.len()).encode(out);
        self.offset.encode(out);
        self.file_id.encode(out);
        0u32.encode(out);
        0u32.encode(out);
        0u32.encode(out);
        self.flags.encode(out);
        out.extend_from_slice(&self.data);
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        let (mut req, data) = Self::fields(r, msg)?;
        req.data = data.to_vec();
        Ok(req)
    }
}

impl WriteRequest {
    /// [`Body::from_message`] without copying the data (up to 8 MiB a request): it is
    /// returned as a slice of `msg`, and the request's own `data` is left empty.
    pub fn from_message_borrowed(msg: &[u8]) -> Result<(Header, Self, &[u8]), SmbError> {
        let (header, mut r) = super::body_reader::<Self>(msg)?;
        let (req, data) = Self::fields(&mut r, msg)?;
        Ok((header, req, data))
    }

    /// The fixed fields (with `data` empty) and the data, in `msg`.
    fn fields<'a>(r: &mut Reader<'_>, msg: &'a [u8]) -> Result<(Self, &'a [u8]), SmbError> {
        r.set_what("WRITE request");
        let data_offset = usize::from(r.u16()?);
        let len = r.u32()? as usize;
        let offset = r.u64()?;
        let file_id = FileId::read(r)?;
        r.u32()?;
        r.u32()?;
        r.u32()?;
        let flags = r.u32()?;
        let req = Self {
            offset,
            file_id,
            flags,
            data: Vec::new(),
        };
        Ok((req, buffer(msg, data_offset, len, "WRITE data")?))
    }
}

/// MS-SMB2 2.2.22 WRITE Response.
///
/// ```text
/// StructureSize(2)=17 Reserved(2) Count(4) Remaining(4) WriteChannelInfoOffset(2)
/// WriteChannelInfoLength(2)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteResponse {
    /// `Count`: bytes written.
    pub count: u32,
}

impl Body for WriteResponse {
    const COMMAND: Command = Command::WRITE;
    const STRUCTURE_SIZE: u16 = 17;

    fn encode_body(&self, out: &mut Vec<u8>) {
        0u16.encode(out);
        self.count.encode(out);
        0u32.encode(out);
        0u32.encode(out);
    }

    fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("WRITE response");
        r.u16()?;
        Ok(Self { count: r.u32()? })
    }
}

/// MS-SMB2 2.2.31 IOCTL Request.
///
/// ```text
/// StructureSize(2)=57 Reserved(2) CtlCode(4) FileId(16) InputOffset(4) InputCount(4)
/// MaxInputResponse(4) OutputOffset(4) OutputCount(4) MaxOutputResponse(4) Flags(4)
/// Reserved2(4) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IoctlRequest {
    /// `CtlCode`.
    pub ctl_code: u32,
    /// `FileId`.
    pub file_id: FileId,
    /// `MaxInputResponse`.
    pub max_input_response: u32,
    /// `MaxOutputResponse`.
    pub max_output_response: u32,
    /// `Flags` (SMB2_0_IOCTL_IS_FSCTL = 1).
    pub flags: u32,
    /// The input buffer.
    pub input: Vec<u8>,
}

impl IoctlRequest {
    /// SMB2_0_IOCTL_IS_FSCTL.
    pub const IS_FSCTL: u32 = 1;
}

impl Body for IoctlRequest {
    const COMMAND: Command = Command::IOCTL;
    const STRUCTURE_SIZE: u16 = 57;

    fn encode_body(&self, out: &mut Vec<u8>) {
        0u16.encode(out);
        self.ctl_code.encode(out);
        self.file_id.encode(out);
        let input_at = out.len();
        0u64.encode(out);
        self.max_input_response.encode(out);
        0u64.encode(out);
        self.max_output_response.encode(out);
        self.flags.encode(out);
        0u32.encode(out);
        if !self.input.is_empty() {
            offset_here_u32(out, input_at);
            patch_u32(out, input_at + 4, self.input.len());
            out.extend_from_slice(&self.input);
        }
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("IOCTL request");
        r.u16()?;
        let ctl_code = r.u32()?;
        let file_id = FileId::read(r)?;
        let input_offset = r.u32()? as usize;
        let input_len = r.u32()? as usize;
        let max_input_response = r.u32()?;
        r.u64()?;
        let max_output_response = r.u32()?;
        let flags = r.u32()?;
        Ok(Self {
            ctl_code,
            file_id,
            max_input_response,
            max_output_response,
            flags,
            input: buffer(msg, input_offset, input_len, "IOCTL input")?.to_vec(),
        })
    }
}

/// MS-SMB2 2.2.32 IOCTL Response.
///
/// ```text
/// StructureSize(2)=49 Reserved(2) CtlCode(4) FileId(16) InputOffset(4) InputCount(4)
/// OutputOffset(4) OutputCount(4) Flags(4) Reserved2(4) Buffer
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IoctlResponse {
    /// `CtlCode`.
    pub ctl_code: u32,
    /// `FileId`.
    pub file_id: FileId,
    /// The output buffer.
    pub output: Vec<u8>,
}

impl Body for IoctlResponse {
    const COMMAND: Command = Command::IOCTL;
    const STRUCTURE_SIZE: u16 = 49;

    fn encode_body(&self, out: &mut Vec<u8>) {
        0u16.encode(out);
        self.ctl_code.encode(out);
        self.file_id.encode(out);
        0u64.encode(out);
        let output_at = out.len();
        0u64.encode(out);
        0u64.encode(out);
        if !self.output.is_empty() {
            offset_here_u32(out, output_at);
            patch_u32(out, output_at + 4, self.output.len());
            out.extend_from_slice(&self.output);
        }
    }

    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError> {
        r.set_what("IOCTL response");
        r.u16()?;
        let ctl_code = r.u32()?;
        let file_id = FileId::read(r)?;
        r.u64()?;
        let output_offset = r.u32()? as usize;
        let output_len = r.u32()? as usize;
        Ok(Self {
            ctl_code,
            file_id,
            output: buffer(msg, output_offset, output_len, "IOCTL output")?.to_vec(),
        })
    }
}

/// MS-SMB2 2.2.28 ECHO Request: `StructureSize(2)=4 Reserved(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EchoRequest;

/// MS-SMB2 2.2.29 ECHO Response: `StructureSize(2)=4 Reserved(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EchoResponse;

macro_rules! echo_body {
    ($($name:ident),*) => {$(
        impl Body for $name {
            const COMMAND: Command = Command::ECHO;
            const STRUCTURE_SIZE: u16 = 4;

            fn encode_body(&self, out: &mut Vec<u8>) {
                0u16.encode(out);
            }

            fn decode_body(r: &mut Reader<'_>, _msg: &[u8]) -> Result<Self, SmbError> {
                r.u16()?;
                Ok(Self)
            }
        }
    )*};
}

echo_body!(EchoRequest, EchoResponse);

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> FileId {
        FileId {
            persistent: 0x11,
            volatile: 0x22,
        }
    }

    #[test]
    fn create_round_trips_and_places_the_name_at_120() {
        let req = CreateRequest {
            impersonation_level: CreateRequest::IMPERSONATION,
            desired_access: 0x0012_019f,
            share_access: 7,
            create_disposition: CreateRequest::FILE_OPEN,
            name: "lsarpc".into(),
            ..Default::default()
        };
        let msg = req.to_message(&Header::default());
        assert_eq!(u16::from_le_bytes([msg[108], msg[109]]), 120);
        assert_eq!(u16::from_le_bytes([msg[110], msg[111]]), 12);
        assert_eq!(CreateRequest::from_message(&msg).unwrap().1, req);

        let resp = CreateResponse {
            create_action: 1,
            file_id: id(),
            contexts: vec![0; 24],
            ..Default::default()
        };
        let msg = resp.to_message(&Header::default());
        assert_eq!(&msg[128..136], &0x11u64.to_le_bytes());
        assert_eq!(CreateResponse::from_message(&msg).unwrap().1, resp);
    }

    #[test]
    fn read_write_ioctl_round_trip() {
        let w = WriteRequest {
            file_id: id(),
            data: vec![5; 100],
            ..Default::default()
        };
        let msg = w.to_message(&Header::default());
        assert_eq!(msg.len(), 112 + 100);
        assert_eq!(WriteRequest::from_message(&msg).unwrap().1, w);
        let (_, fields, data) = WriteRequest::from_message_borrowed(&msg).unwrap();
        assert_eq!(
            (fields.offset, fields.file_id, data),
            (w.offset, w.file_id, &w.data[..])
        );

        let r = ReadRequest {
            length: 4280,
            file_id: id(),
            ..Default::default()
        };
        assert_eq!(
            ReadRequest::from_message(&r.to_message(&Header::default()))
                .unwrap()
                .1,
            r
        );
        let rr = ReadResponse {
            data_remaining: 0,
            data: vec![1, 2, 3],
        };
        let msg = rr.to_message(&Header::default());
        assert_eq!(ReadResponse::from_message(&msg).unwrap().1, rr);

        let io = IoctlRequest {
            ctl_code: FSCTL_PIPE_TRANSCEIVE,
            file_id: id(),
            max_output_response: 4280,
            flags: IoctlRequest::IS_FSCTL,
            input: vec![9; 10],
            ..Default::default()
        };
        let msg = io.to_message(&Header::default());
        assert_eq!(u32::from_le_bytes(msg[88..92].try_into().unwrap()), 120);
        assert_eq!(IoctlRequest::from_message(&msg).unwrap().1, io);
        let resp = IoctlResponse {
            ctl_code: FSCTL_PIPE_TRANSCEIVE,
            file_id: id(),
            output: vec![8; 7],
        };
        let msg = resp.to_message(&Header::default());
        assert_eq!(IoctlResponse::from_message(&msg).unwrap().1, resp);
    }

    #[test]
    fn data_offsets_past_the_end_are_errors() {
        let rr = ReadResponse {
            data_remaining: 0,
            data: vec![1, 2, 3],
        };
        let mut msg = rr.to_message(&Header::default());
        msg[68] = 200;
        assert!(matches!(
            ReadResponse::from_message(&msg),
            Err(SmbError::BufferOutOfRange { .. })
        ));
        // An offset into the header is refused too.
        let mut msg = rr.to_message(&Header::default());
        msg[66] = 10;
        assert!(ReadResponse::from_message(&msg).is_err());
    }

    #[test]
    fn validate_negotiate_info_round_trips() {
        let req = ValidateNegotiateInfoRequest {
            capabilities: Capabilities::ENCRYPTION,
            guid: [4; 16],
            security_mode: SecurityMode::SIGNING_ENABLED,
            dialects: vec![Dialect::SMB300, Dialect::SMB302],
        };
        let bytes = req.to_bytes();
        assert_eq!(bytes.len(), 4 + 16 + 2 + 2 + 4);
        assert_eq!(
            ValidateNegotiateInfoRequest::read_bytes("v", &bytes).unwrap(),
            req
        );
        let resp = ValidateNegotiateInfoResponse {
            dialect: Dialect::SMB302,
            ..Default::default()
        };
        let bytes = resp.to_bytes();
        assert_eq!(bytes.len(), 24);
        assert_eq!(
            ValidateNegotiateInfoResponse::read_bytes("v", &bytes).unwrap(),
            resp
        );
        assert!(ValidateNegotiateInfoResponse::read_bytes("v", &bytes[..23]).is_err());
    }

    #[test]
    fn error_response_reads_for_any_command() {
        let mut h = Header::request(Command::TREE_CONNECT);
        h.status = adjoin_rpc::ntstatus::NtStatus::BAD_NETWORK_NAME;
        let msg = ErrorResponse::default().to_message(&h);
        assert_eq!(msg.len(), 64 + 9);
        let (back, e) = ErrorResponse::from_message(&msg).unwrap();
        assert_eq!(back.status, h.status);
        assert!(e.data.is_empty());
        assert!(ErrorResponse::from_message(&msg[..66]).is_err());
    }
}
