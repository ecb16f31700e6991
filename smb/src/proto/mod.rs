//! The SMB2/3 wire codec (MS-SMB2 2.2), shared by the client and the server:
//! each message is a struct that encodes its body after a [`Header`] and
//! decodes from a whole message, checking every offset and length against the
//! bytes received. No I/O here.

pub mod dfs;
pub mod durable;
mod file;
mod fsctl;
mod header;
pub mod info;
mod negotiate;
pub mod oplock;
mod query;
pub mod security;
mod session;
mod transform;

pub use file::{
    CloseRequest, CloseResponse, CreateRequest, CreateResponse, EchoRequest, EchoResponse,
    ErrorResponse, FSCTL_PIPE_TRANSCEIVE, FSCTL_VALIDATE_NEGOTIATE_INFO, FileId, FileTimes,
    IoctlRequest, IoctlResponse, ReadRequest, ReadResponse, ValidateNegotiateInfoRequest,
    ValidateNegotiateInfoResponse, WriteRequest, WriteResponse,
};
pub use fsctl::{
    CompressionState, FSCTL_CREATE_OR_GET_OBJECT_ID, FSCTL_GET_COMPRESSION,
    FSCTL_QUERY_ALLOCATED_RANGES, FSCTL_SET_COMPRESSION, FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA,
    FSCTL_SRV_COPYCHUNK, FSCTL_SRV_COPYCHUNK_WRITE, FSCTL_SRV_REQUEST_RESUME_KEY, FileRange,
    ResumeKeyResponse, SrvCopychunk, SrvCopychunkCopy, SrvCopychunkResponse,
};
pub use header::{
    Command, HEADER_LEN, Header, HeaderFlags, MAX_MESSAGE, PROTOCOL_ID, SIGNATURE_AT, frame,
    frame_len, split_compound,
};
pub use negotiate::{
    Capabilities, Cipher, DIALECTS, Dialect, HashAlgorithm, MAX_IO, NegotiateContext,
    NegotiateRequest, NegotiateResponse, SecurityMode, SigningAlgorithm,
};
pub use query::{
    ChangeNotifyFlags, ChangeNotifyRequest, ChangeNotifyResponse, CompletionFilter, FlushRequest,
    FlushResponse, InfoType, LockElement, LockFlags, LockRequest, LockResponse,
    QueryDirectoryFlags, QueryDirectoryRequest, QueryDirectoryResponse, QueryInfoRequest,
    QueryInfoResponse, SetInfoRequest, SetInfoResponse,
};
pub use session::{
    LogoffRequest, LogoffResponse, SessionFlags, SessionSetupRequest, SessionSetupResponse,
    TreeConnectRequest, TreeConnectResponse, TreeDisconnectRequest, TreeDisconnectResponse,
};
pub use transform::{
    TRANSFORM_AAD_AT, TRANSFORM_HEADER_LEN, TRANSFORM_PROTOCOL_ID, TransformHeader, read_transform,
};

use adjoin_rpc::codec::{Codec, Reader};

use crate::error::SmbError;

/// One SMB2 message body: the part after the 64-byte header.
pub trait Body: Sized {
    /// The command whose body this is.
    const COMMAND: Command;
    /// `StructureSize` (the fixed part's length, plus one if a buffer may follow).
    const STRUCTURE_SIZE: u16;

    /// Appends the body after its `StructureSize` to `out`, which starts with this
    /// message's header (buffer offsets count from there).
    fn encode_body(&self, out: &mut Vec<u8>);

    /// Reads the body from `r`, positioned just after `StructureSize`; `msg` is the whole
    /// message, for the buffers that offsets point into.
    fn decode_body(r: &mut Reader<'_>, msg: &[u8]) -> Result<Self, SmbError>;

    /// The whole message: `header` (with this body's command) and the body.
    fn to_message(&self, header: &Header) -> Vec<u8> {
        self.to_message_in(header, Vec::with_capacity(HEADER_LEN + 64))
    }

    /// [`Body::to_message`] into `out`'s memory (emptied first): a client writing a
    /// large file reuses one buffer for its WRITEs rather than faulting in a fresh one
    /// for each.
    fn to_message_in(&self, header: &Header, mut out: Vec<u8>) -> Vec<u8> {
        out.clear();
        Header {
            command: Self::COMMAND,
            ..header.clone()
        }
        .encode(&mut out);
        Self::STRUCTURE_SIZE.encode(&mut out);
        self.encode_body(&mut out);
        out
    }

    /// Reads a whole message whose body is this type.
    fn from_message(msg: &[u8]) -> Result<(Header, Self), SmbError> {
        let (header, mut r) = body_reader::<Self>(msg)?;
        let body = Self::decode_body(&mut r, msg)?;
        Ok((header, body))
    }
}

/// The header of `msg`, checked to be `B`'s command with `B`'s StructureSize, and a
/// reader just past the StructureSize.
pub(crate) fn body_reader<B: Body>(msg: &[u8]) -> Result<(Header, Reader<'_>), SmbError> {
    let mut r = Reader::new("SMB2 header", msg);
    let header = Header::read(&mut r)?;
    if header.command != B::COMMAND {
        return Err(SmbError::UnexpectedCommand {
            expected: B::COMMAND,
            got: header.command,
        });
    }
    let size = r.u16()?;
    // MS-SMB2 3.3.5.2.6 / 3.2.5.1.6: a wrong StructureSize is an invalid message.
    if size != B::STRUCTURE_SIZE {
        return Err(SmbError::StructureSize {
            command: B::COMMAND,
            expected: B::STRUCTURE_SIZE,
            got: size,
        });
    }
    Ok((header, r))
}

/// The `len` bytes at `offset` (from the header's start) of `msg`; an empty
/// buffer may have any offset.
pub(crate) fn buffer<'a>(
    msg: &'a [u8],
    offset: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], SmbError> {
    if len == 0 {
        return Ok(&[]);
    }
    offset
        .checked_add(len)
        .and_then(|end| msg.get(offset..end))
        .filter(|_| offset >= HEADER_LEN)
        .ok_or(SmbError::BufferOutOfRange {
            what,
            offset,
            len,
            message: msg.len(),
        })
}

/// Writes `value` into the little-endian `u16` at `at` of `out`.
pub(crate) fn patch_u16(out: &mut [u8], at: usize, value: usize) {
    let v = u16::try_from(value).unwrap_or(u16::MAX).to_le_bytes();
    out[at..at + 2].copy_from_slice(&v);
}

/// Writes `value` into the little-endian `u32` at `at` of `out`.
pub(crate) fn patch_u32(out: &mut [u8], at: usize, value: usize) {
    let v = u32::try_from(value).unwrap_or(u32::MAX).to_le_bytes();
    out[at..at + 4].copy_from_slice(&v);
}

/// Points the `u16` offset at `at` to the end of `out` (where a buffer starts next).
pub(crate) fn offset_here_u16(out: &mut [u8], at: usize) {
    patch_u16(out, at, out.len());
}

/// Points the `u32` offset at `at` to the end of `out`.
pub(crate) fn offset_here_u32(out: &mut [u8], at: usize) {
    patch_u32(out, at, out.len());
}

/// Pads `out` with zeros to a multiple of 8 (from the header's start).
pub(crate) fn align8(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(8), 0);
}

/// UTF-16LE bytes of `text`.
pub(crate) fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `text` from UTF-16LE bytes.
pub(crate) fn from_utf16(bytes: &[u8], what: &'static str) -> Result<String, SmbError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(SmbError::Malformed {
            what,
            why: "odd length for UTF-16",
        });
    }
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| SmbError::Malformed {
            what,
            why: "invalid UTF-16",
        })
}

#[cfg(test)]
mod tests;
