//! The buffers of the file-system controls a disk file answers: server-side copy
//! (MS-SMB2 2.2.31.1, 2.2.32.1, 2.2.32.3) and the compression state (MS-FSCC 2.3.9,
//! 2.3.67). They travel in an IOCTL's input or output buffer
//! ([`IoctlRequest`](super::IoctlRequest), [`IoctlResponse`](super::IoctlResponse)).

use adjoin_rpc::DecodeError;
use adjoin_rpc::codec::{Codec, Reader};

/// FSCTL_SRV_REQUEST_RESUME_KEY (MS-SMB2 2.2.31): a key naming an open as a copy source.
pub const FSCTL_SRV_REQUEST_RESUME_KEY: u32 = 0x0014_0078;
/// FSCTL_SRV_COPYCHUNK (MS-SMB2 2.2.31): copy ranges into the open (which needs read
/// access too).
pub const FSCTL_SRV_COPYCHUNK: u32 = 0x0014_40f2;
/// FSCTL_SRV_COPYCHUNK_WRITE (MS-SMB2 2.2.31): copy ranges into an open with write
/// access only.
pub const FSCTL_SRV_COPYCHUNK_WRITE: u32 = 0x0014_80f2;
/// FSCTL_GET_COMPRESSION (MS-FSCC 2.3.9).
pub const FSCTL_GET_COMPRESSION: u32 = 0x0009_003c;
/// `FSCTL_CREATE_OR_GET_OBJECT_ID` (MS-FSCC 2.3.7): the file's object id.
pub const FSCTL_CREATE_OR_GET_OBJECT_ID: u32 = 0x0009_00c0;
/// FSCTL_SET_COMPRESSION (MS-FSCC 2.3.67).
pub const FSCTL_SET_COMPRESSION: u32 = 0x0009_c040;
/// FSCTL_SET_SPARSE (MS-FSCC 2.3.76): marks a file sparse, or not.
pub const FSCTL_SET_SPARSE: u32 = 0x0009_00c4;
/// FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC 2.3.51): where a file holds data.
pub const FSCTL_QUERY_ALLOCATED_RANGES: u32 = 0x0009_40cf;
/// FSCTL_SET_ZERO_DATA (MS-FSCC 2.3.80): makes a range read as zeros.
pub const FSCTL_SET_ZERO_DATA: u32 = 0x0009_80c8;

/// MS-FSCC 2.3.52 FILE_ALLOCATED_RANGE_BUFFER, `FileOffset(8) Length(8)` (signed):
/// FSCTL_QUERY_ALLOCATED_RANGES' input (the range asked about) and each entry of its
/// output; and, with the same layout, MS-FSCC 2.3.81 FILE_ZERO_DATA_INFORMATION
/// `FileOffset(8) BeyondFinalZero(8)`, FSCTL_SET_ZERO_DATA's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileRange {
    /// `FileOffset`.
    pub offset: i64,
    /// `Length`, or `BeyondFinalZero`.
    pub second: i64,
}

impl FileRange {
    /// The encoded length.
    pub const LEN: usize = 16;
}

impl Codec for FileRange {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.second.to_le_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.set_what("FILE_ALLOCATED_RANGE_BUFFER");
        Ok(Self {
            offset: r.u64()? as i64,
            second: r.u64()? as i64,
        })
    }
}

/// MS-SMB2 2.2.32.3 SRV_REQUEST_RESUME_KEY Response.
///
/// ```text
/// ResumeKey(24) ContextLength(4) Context(variable)
/// ```
///
/// The context is unused; like Windows (MS-SMB2 <56>) the server sends four zero bytes
/// of it after a zero ContextLength, 32 bytes in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResumeKeyResponse {
    /// `ResumeKey`: what a SRV_COPYCHUNK_COPY names the source by.
    pub resume_key: [u8; 24],
}

impl ResumeKeyResponse {
    /// The encoded length.
    pub const LEN: usize = 32;
}

impl Codec for ResumeKeyResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.resume_key);
        0u32.encode(out);
        0u32.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.set_what("SRV_REQUEST_RESUME_KEY response");
        let resume_key = r.array()?;
        // ContextLength, then the unused context (four bytes from Windows whatever
        // ContextLength says).
        r.u32()?;
        r.rest();
        Ok(Self { resume_key })
    }
}

/// MS-SMB2 2.2.31.1.1 SRV_COPYCHUNK: one range to copy.
///
/// ```text
/// SourceOffset(8) TargetOffset(8) Length(4) Reserved(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SrvCopychunk {
    /// `SourceOffset`.
    pub source_offset: u64,
    /// `TargetOffset`.
    pub target_offset: u64,
    /// `Length`.
    pub length: u32,
}

impl SrvCopychunk {
    /// The encoded length.
    pub const LEN: usize = 24;
}

impl Codec for SrvCopychunk {
    fn encode(&self, out: &mut Vec<u8>) {
        self.source_offset.encode(out);
        self.target_offset.encode(out);
        self.length.encode(out);
        0u32.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let chunk = Self {
            source_offset: r.u64()?,
            target_offset: r.u64()?,
            length: r.u32()?,
        };
        r.u32()?;
        Ok(chunk)
    }
}

/// MS-SMB2 2.2.31.1 SRV_COPYCHUNK_COPY: the input of FSCTL_SRV_COPYCHUNK(_WRITE).
///
/// ```text
/// SourceKey(24) ChunkCount(4) Reserved(4) Chunks(24*ChunkCount)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SrvCopychunkCopy {
    /// `SourceKey`: a [`ResumeKeyResponse::resume_key`].
    pub source_key: [u8; 24],
    /// `Chunks`.
    pub chunks: Vec<SrvCopychunk>,
}

impl Codec for SrvCopychunkCopy {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source_key);
        u32::try_from(self.chunks.len())
            .unwrap_or(u32::MAX)
            .encode(out);
        0u32.encode(out);
        for chunk in &self.chunks {
            chunk.encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.set_what("SRV_COPYCHUNK_COPY");
        let source_key = r.array()?;
        let count = r.u32()? as usize;
        r.u32()?;
        // The array is ChunkCount entries long; a count the buffer cannot hold is
        // refused before anything is allocated for it.
        let len = count.saturating_mul(SrvCopychunk::LEN);
        let mut chunks_r = r.sub("SRV_COPYCHUNK array", len)?;
        let chunks = (0..count)
            .map(|_| SrvCopychunk::read(&mut chunks_r))
            .collect::<Result<_, _>>()?;
        Ok(Self { source_key, chunks })
    }
}

/// MS-SMB2 2.2.32.1 SRV_COPYCHUNK_RESPONSE: what was copied, or (with
/// STATUS_INVALID_PARAMETER) the server's limits.
///
/// ```text
/// ChunksWritten(4) ChunkBytesWritten(4) TotalBytesWritten(4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SrvCopychunkResponse {
    /// `ChunksWritten` (or the most chunks one request may carry).
    pub chunks_written: u32,
    /// `ChunkBytesWritten`: bytes of a chunk written in part (or the largest chunk).
    pub chunk_bytes_written: u32,
    /// `TotalBytesWritten` (or the most bytes one request may copy).
    pub total_bytes_written: u32,
}

impl SrvCopychunkResponse {
    /// The encoded length.
    pub const LEN: usize = 12;
}

impl Codec for SrvCopychunkResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        self.chunks_written.encode(out);
        self.chunk_bytes_written.encode(out);
        self.total_bytes_written.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.set_what("SRV_COPYCHUNK_RESPONSE");
        Ok(Self {
            chunks_written: r.u32()?,
            chunk_bytes_written: r.u32()?,
            total_bytes_written: r.u32()?,
        })
    }
}

/// MS-FSCC 2.3.10 / 2.3.68 COMPRESSION_STATE: FSCTL_GET_COMPRESSION's output and
/// FSCTL_SET_COMPRESSION's input, `CompressionState(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompressionState(pub u16);

impl CompressionState {
    /// COMPRESSION_FORMAT_NONE: not compressed.
    pub const NONE: Self = Self(0);
    /// COMPRESSION_FORMAT_DEFAULT: the file system's default format.
    pub const DEFAULT: Self = Self(1);
    /// COMPRESSION_FORMAT_LZNT1.
    pub const LZNT1: Self = Self(2);
    /// The encoded length.
    pub const LEN: usize = 2;
}

impl Codec for CompressionState {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.set_what("COMPRESSION_STATE");
        Ok(Self(r.u16()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-FSCC 2.3.52: two signed 64-bit little-endian values.
    #[test]
    fn a_file_range_is_two_signed_little_endian_values() {
        let range = FileRange {
            offset: 0x1000,
            second: -1,
        };
        let bytes = range.to_bytes();
        assert_eq!(bytes.len(), FileRange::LEN);
        assert_eq!(bytes[..8], 0x1000u64.to_le_bytes());
        assert_eq!(bytes[8..], [0xff; 8]);
        assert_eq!(FileRange::read_bytes("input", &bytes).unwrap(), range);
        assert!(FileRange::read_bytes("input", &bytes[..15]).is_err());
    }

    /// The MS-SMB2 2.2.31.1 layout: key, count, reserved, then 24-byte chunks with the
    /// offsets and length little-endian.
    #[test]
    fn copychunk_copy_matches_the_published_layout() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&[0xab; 24]);
        wire.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0]);
        wire.extend_from_slice(&[0x00, 0x10, 0, 0, 0, 0, 0, 0]); // source 4096
        wire.extend_from_slice(&[0x00, 0x20, 0, 0, 0, 0, 0, 0]); // target 8192
        wire.extend_from_slice(&[0x00, 0x10, 0, 0, 0, 0, 0, 0]); // length 4096
        wire.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]); // source 1
        wire.extend_from_slice(&[0xff; 8]); // target: end of file
        wire.extend_from_slice(&[0x32, 0, 0, 0, 0, 0, 0, 0]); // length 50
        let copy = SrvCopychunkCopy::read_bytes("input", &wire).unwrap();
        assert_eq!(copy.source_key, [0xab; 24]);
        assert_eq!(
            copy.chunks,
            [
                SrvCopychunk {
                    source_offset: 4096,
                    target_offset: 8192,
                    length: 4096
                },
                SrvCopychunk {
                    source_offset: 1,
                    target_offset: u64::MAX,
                    length: 50
                },
            ]
        );
        assert_eq!(copy.to_bytes(), wire);
    }

    #[test]
    fn copychunk_copy_refuses_a_count_its_buffer_cannot_hold() {
        let mut wire = vec![0; 24];
        wire.extend_from_slice(&u32::MAX.to_le_bytes());
        wire.extend_from_slice(&[0; 4]);
        wire.extend_from_slice(&[0; 24]);
        assert!(SrvCopychunkCopy::read_bytes("input", &wire).is_err());
        // Shorter than the fixed part.
        assert!(SrvCopychunkCopy::read_bytes("input", &[0; 31]).is_err());
        // No chunks at all is well formed.
        let empty = SrvCopychunkCopy::read_bytes("input", &[0; 32]).unwrap();
        assert!(empty.chunks.is_empty());
    }

    /// MS-SMB2 2.2.32.1 (the values 3.3.5.15.6.2 sends as limits) and 2.2.32.3.
    #[test]
    fn responses_match_the_published_layouts() {
        let limits = SrvCopychunkResponse {
            chunks_written: 256,
            chunk_bytes_written: 1024 * 1024,
            total_bytes_written: 16 * 1024 * 1024,
        };
        let wire = [0, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1];
        assert_eq!(limits.to_bytes(), wire);
        assert_eq!(
            SrvCopychunkResponse::read_bytes("output", &wire).unwrap(),
            limits
        );

        let key = ResumeKeyResponse {
            resume_key: core::array::from_fn(|i| i as u8),
        };
        let bytes = key.to_bytes();
        assert_eq!(bytes.len(), ResumeKeyResponse::LEN);
        assert_eq!(&bytes[..24], &key.resume_key);
        assert_eq!(&bytes[24..], &[0; 8], "ContextLength 0, then 4 zero bytes");
        assert_eq!(
            ResumeKeyResponse::read_bytes("output", &bytes).unwrap(),
            key
        );
    }

    #[test]
    fn compression_state_is_one_little_endian_ushort() {
        assert_eq!(CompressionState::LZNT1.to_bytes(), [2, 0]);
        assert_eq!(
            CompressionState::read_bytes("input", &[1, 0]).unwrap(),
            CompressionState::DEFAULT
        );
        assert!(CompressionState::read_bytes("input", &[0]).is_err());
    }
}
