//! File-system controls on disk files (MS-SMB2 3.3.5.15): the server-side copy
//! (FSCTL_SRV_REQUEST_RESUME_KEY and FSCTL_SRV_COPYCHUNK(_WRITE), 3.3.5.15.6) and the
//! compression state of a file system that does not compress (FSCTL_GET_COMPRESSION,
//! FSCTL_SET_COMPRESSION), and a file's object id made from its inode and device
//! (FSCTL_CREATE_OR_GET_OBJECT_ID); sparse files in `sparse`. Any other control on a
//! file is STATUS_INVALID_DEVICE_REQUEST (network interfaces are not served).
//!
//! A resume key names an open without the server storing anything: the open's volatile
//! id, then an HMAC-SHA256 under a random per-process secret of the session, the open
//! and its id in the server-wide open table, cut to 16 bytes. A key is found only among
//! the opens of the session that asked for it (any of its trees), and stops naming
//! anything once its open closes: the table id is never reused.
//!
//! The copy goes through the shares' backends as the opens' users, one chunk (at most
//! 1 MiB) at a time, under the byte-range locks of the server-wide open table.

use std::sync::OnceLock;

use adjoin_rpc::codec::{Codec, Reader};
use adjoin_rpc::ntstatus::NtStatus;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::backend::Handle;
use super::backend::creds::as_user;
use super::files::{FileOpen, access};
use super::open_files::OpenFiles;
use super::session::Session;
use super::{Open, Refusal, ServerConnection};
use crate::proto::{
    CompressionState, FSCTL_CREATE_OR_GET_OBJECT_ID, FSCTL_GET_COMPRESSION,
    FSCTL_QUERY_ALLOCATED_RANGES, FSCTL_SET_COMPRESSION, FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA,
    FSCTL_SRV_COPYCHUNK, FSCTL_SRV_COPYCHUNK_WRITE, FSCTL_SRV_REQUEST_RESUME_KEY, FileId, Header,
    IoctlRequest, IoctlResponse, ResumeKeyResponse, SrvCopychunk, SrvCopychunkCopy,
    SrvCopychunkResponse,
};

/// MS-SMB2 3.3.1.5 ServerSideCopyMaxNumberofChunks, ServerSideCopyMaxChunkSize and
/// ServerSideCopyMaxDataSize (Windows' values, which Samba uses too).
const MAX_CHUNKS: u32 = 256;
const MAX_CHUNK_SIZE: u32 = 1024 * 1024;
const MAX_DATA_SIZE: u32 = 16 * 1024 * 1024;

/// MS-SMB2 3.3.5.15.6.2: the limits, sent with STATUS_INVALID_PARAMETER.
const LIMITS: SrvCopychunkResponse = SrvCopychunkResponse {
    chunks_written: MAX_CHUNKS,
    chunk_bytes_written: MAX_CHUNK_SIZE,
    total_bytes_written: MAX_DATA_SIZE,
};

impl ServerConnection {
    /// MS-SMB2 3.3.5.15: what every IOCTL must satisfy, whatever its control.
    pub(super) fn check_ioctl(&self, req: &IoctlRequest) -> Result<(), Refusal> {
        // "If the Flags field of the request is not SMB2_0_IOCTL_IS_FSCTL, the server MUST
        // fail the request with STATUS_NOT_SUPPORTED."
        if req.flags != IoctlRequest::IS_FSCTL {
            return Err(Refusal::Status(NtStatus::NOT_SUPPORTED));
        }
        // The input fits in one transaction, and the two responses asked for add up.
        let oversize = req.input.len() > self.max_io() as usize
            || req
                .max_input_response
                .checked_add(req.max_output_response)
                .is_none();
        if oversize {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        Ok(())
    }

    /// A control on an open disk file or directory.
    pub(super) fn fsctl(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
    ) -> Result<Vec<u8>, Refusal> {
        let file = self.file_id(req.file_id)?;
        self.file(header, file)?;
        match req.ctl_code {
            FSCTL_SRV_REQUEST_RESUME_KEY => self.request_resume_key(header, req, file),
            FSCTL_SRV_COPYCHUNK | FSCTL_SRV_COPYCHUNK_WRITE => self.copychunk(header, req, file),
            FSCTL_GET_COMPRESSION => self.get_compression(header, req, file),
            FSCTL_SET_COMPRESSION => self.set_compression(header, req, file),
            FSCTL_CREATE_OR_GET_OBJECT_ID => self.object_id(header, req, file),
            FSCTL_SET_SPARSE => self.set_sparse(header, req, file),
            FSCTL_QUERY_ALLOCATED_RANGES => self.query_allocated_ranges(header, req, file),
            FSCTL_SET_ZERO_DATA => self.set_zero_data(header, req, file),
            _ => Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST)),
        }
    }

    /// The IOCTL response carrying `output`; an output longer than MaxOutputResponse is
    /// STATUS_BUFFER_TOO_SMALL instead (MS-SMB2 3.3.5.15, as Samba answers).
    pub(super) fn ioctl_output(
        &self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
        output: Vec<u8>,
        status: NtStatus,
    ) -> Result<Vec<u8>, Refusal> {
        if output.len() > req.max_output_response as usize {
            return Err(Refusal::Status(NtStatus::BUFFER_TOO_SMALL));
        }
        let resp = IoctlResponse {
            ctl_code: req.ctl_code,
            file_id: file,
            output,
        };
        Ok(self.reply(header, &resp, status))
    }

    /// MS-SMB2 3.3.5.15.5: the open's resume key.
    fn request_resume_key(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        let table_id = self.file(header, file)?.table_id;
        let resume_key = resume_key(header.session_id, file.volatile, table_id)
            .ok_or(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES))?;
        let output = ResumeKeyResponse { resume_key }.to_bytes();
        self.ioctl_output(header, req, file, output, NtStatus::SUCCESS)
    }

    /// MS-SMB2 3.3.5.15.6: copies the chunks from the open the source key names into
    /// `file`, in order, stopping at the first that fails (3.3.5.15.6.1: the response
    /// then says how far the copy got, under the failure's status).
    fn copychunk(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        // "If the MaxOutputResponse value in the SMB2 IOCTL Request is less than the size
        // of the SRV_COPYCHUNK_RESPONSE structure, the server MUST fail the SMB2 IOCTL
        // Request with STATUS_INVALID_PARAMETER."
        if (req.max_output_response as usize) < SrvCopychunkResponse::LEN {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        // 3.3.5.15.6.2: a short input, or one past the limits, is answered with them.
        let Some(copy) = within_limits(&req.input) else {
            let limits = LIMITS.to_bytes();
            return self.ioctl_output(header, req, file, limits, NtStatus::INVALID_PARAMETER);
        };
        let session_id = header.session_id;
        let session: &Session = self.tree(header)?;
        let source = find_source(session, session_id, &copy.source_key)
            .ok_or(Refusal::Status(NtStatus::OBJECT_NAME_NOT_FOUND))?;
        let Some(Open::File(target)) = session.opens.get(&file.volatile) else {
            return Err(Refusal::Status(NtStatus::FILE_CLOSED));
        };
        check_copy_access(source, target, req.ctl_code == FSCTL_SRV_COPYCHUNK)?;
        let (done, status) = copy_chunks(source, target, &copy.chunks);
        tracing::debug!(
            from = %source.path.as_str(),
            to = %target.path.as_str(),
            chunks = done.chunks_written,
            bytes = done.total_bytes_written,
            %status,
            "server-side copy"
        );
        self.ioctl_output(header, req, file, done.to_bytes(), status)
    }

    /// MS-FSA 2.1.5.10.7 on a file system without compression: every file is
    /// COMPRESSION_FORMAT_NONE.
    fn get_compression(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        // An output buffer that cannot hold the USHORT is STATUS_INVALID_PARAMETER.
        if (req.max_output_response as usize) < CompressionState::LEN {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        let output = CompressionState::NONE.to_bytes();
        self.ioctl_output(header, req, file, output, NtStatus::SUCCESS)
    }

    /// MS-FSCC 2.3.7/2.1.3.1: the file's FILE_OBJECTID_BUFFER. POSIX keeps no object
    /// ids, so the id is made from what names the file for as long as it exists (its
    /// inode and device, as smbd makes it): the same each time it is asked, and the
    /// volume's id from the device. DomainId is zero.
    fn object_id(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        let (device, inode) = self.file(header, file)?.key;
        let mut object = [0u8; 16];
        object[..8].copy_from_slice(&inode.to_le_bytes());
        object[8..].copy_from_slice(&device.to_le_bytes());
        let mut volume = [0u8; 16];
        volume[..8].copy_from_slice(&device.to_le_bytes());
        let mut output = Vec::with_capacity(64);
        output.extend_from_slice(&object);
        output.extend_from_slice(&volume);
        output.extend_from_slice(&object);
        output.extend_from_slice(&[0; 16]);
        self.ioctl_output(header, req, file, output, NtStatus::SUCCESS)
    }

    /// MS-FSA 2.1.5.10.27 on a file system without compression: COMPRESSION_FORMAT_NONE
    /// is accepted (nothing is compressed), a compressing format is
    /// STATUS_NOT_SUPPORTED, anything else STATUS_INVALID_PARAMETER.
    fn set_compression(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        let granted = self.file(header, file)?.access;
        let state = CompressionState::read(&mut Reader::new("COMPRESSION_STATE", &req.input))
            .map_err(|_| Refusal::Status(NtStatus::INVALID_PARAMETER))?;
        if granted & access::WRITE_DATA == 0 {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        match state {
            CompressionState::NONE => {
                self.ioctl_output(header, req, file, Vec::new(), NtStatus::SUCCESS)
            }
            CompressionState::DEFAULT | CompressionState::LZNT1 => {
                Err(Refusal::Status(NtStatus::NOT_SUPPORTED))
            }
            _ => Err(Refusal::Status(NtStatus::INVALID_PARAMETER)),
        }
    }
}

/// MS-SMB2 3.3.5.15.6: the request, when it decodes and keeps within the limits: at
/// most ServerSideCopyMaxNumberofChunks chunks, each of 1 to ServerSideCopyMaxChunkSize
/// bytes, ServerSideCopyMaxDataSize in all, no TargetOffset below zero but all ones.
fn within_limits(input: &[u8]) -> Option<SrvCopychunkCopy> {
    // The count first, so that no more chunks than the limit are ever decoded.
    let count = u32::from_le_bytes(input.get(24..28)?.try_into().ok()?);
    if count > MAX_CHUNKS {
        return None;
    }
    let copy = SrvCopychunkCopy::read(&mut Reader::new("SRV_COPYCHUNK_COPY", input)).ok()?;
    let mut total = 0u64;
    for chunk in &copy.chunks {
        let negative = chunk.target_offset > i64::MAX as u64 && chunk.target_offset != u64::MAX;
        if chunk.length == 0 || chunk.length > MAX_CHUNK_SIZE || negative {
            return None;
        }
        total += u64::from(chunk.length);
    }
    (total <= u64::from(MAX_DATA_SIZE)).then_some(copy)
}

/// The secret resume keys are made with: random, once per process.
fn secret() -> Option<&'static [u8; 32]> {
    static SECRET: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    SECRET
        .get_or_init(|| {
            let mut secret = [0; 32];
            getrandom::fill(&mut secret).ok().map(|()| secret)
        })
        .as_ref()
}

/// The resume key of open `volatile` (server-wide `table_id`) of session `session_id`;
/// `None` without a random source.
fn resume_key(session_id: u64, volatile: u64, table_id: u64) -> Option<[u8; 24]> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret()?).ok()?;
    mac.update(b"adjoin SMB2 resume key");
    mac.update(&session_id.to_le_bytes());
    mac.update(&volatile.to_le_bytes());
    mac.update(&table_id.to_le_bytes());
    let tag = mac.finalize().into_bytes();
    let mut key = [0; 24];
    key[..8].copy_from_slice(&volatile.to_le_bytes());
    key[8..].copy_from_slice(&tag[..16]);
    Some(key)
}

/// MS-SMB2 3.3.5.15.6: the open of `session` whose resume key is `key`.
fn find_source<'a>(session: &'a Session, session_id: u64, key: &[u8; 24]) -> Option<&'a FileOpen> {
    let volatile = u64::from_le_bytes(key[..8].try_into().ok()?);
    let Some(Open::File(open)) = session.opens.get(&volatile) else {
        return None;
    };
    let expected = resume_key(session_id, volatile, open.table_id)?;
    bool::from(expected.ct_eq(key)).then_some(open)
}

/// MS-SMB2 3.3.5.15.6: "The server MUST fail the request with STATUS_ACCESS_DENIED" when
/// the source cannot be read, the target cannot be written, or (FSCTL_SRV_COPYCHUNK,
/// `read_target`) the target cannot be read. FILE_EXECUTE reads a source as well as
/// FILE_READ_DATA does (as Windows and Samba allow: smbtorture's copy_chunk_bad_access).
/// Directories hold no data to copy.
fn check_copy_access(
    source: &FileOpen,
    target: &FileOpen,
    read_target: bool,
) -> Result<(), Refusal> {
    let denied = source.access & (access::READ_DATA | access::EXECUTE) == 0
        || target.access & (access::WRITE_DATA | access::APPEND_DATA) == 0
        || (read_target && target.access & access::READ_DATA == 0)
        || target.share.read_only;
    if denied {
        return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
    }
    if source.directory || target.directory {
        return Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST));
    }
    Ok(())
}

/// Copies `chunks` in order; what was copied, and the status of the first chunk that
/// failed (success when none did).
fn copy_chunks(
    source: &FileOpen,
    target: &FileOpen,
    chunks: &[SrvCopychunk],
) -> (SrvCopychunkResponse, NtStatus) {
    let mut done = SrvCopychunkResponse::default();
    for chunk in chunks {
        match copy_chunk(source, target, chunk) {
            Ok(()) => {
                done.chunks_written += 1;
                done.total_bytes_written += chunk.length;
            }
            Err(ChunkFailure { status, written }) => {
                done.chunk_bytes_written = written;
                done.total_bytes_written += written;
                return (done, status);
            }
        }
    }
    (done, NtStatus::SUCCESS)
}

/// A chunk not copied: why, and how many of its bytes were written before it stopped.
struct ChunkFailure {
    status: NtStatus,
    written: u32,
}

impl From<NtStatus> for ChunkFailure {
    fn from(status: NtStatus) -> Self {
        Self { status, written: 0 }
    }
}

/// One chunk: read whole (so a source range overlapping the target range in the same
/// file is copied as it was), then written. A range reaching past the source's end is
/// STATUS_INVALID_VIEW_SIZE and nothing of it is copied (what Windows and Samba answer,
/// smbtorture's copy_chunk_src_exceed); locked ranges are STATUS_FILE_LOCK_CONFLICT.
fn copy_chunk(
    source: &FileOpen,
    target: &FileOpen,
    chunk: &SrvCopychunk,
) -> Result<(), ChunkFailure> {
    let len = u64::from(chunk.length);
    let source_end = run(source, |h| h.stat())?.end_of_file;
    let past_end = chunk
        .source_offset
        .checked_add(len)
        .is_none_or(|end| end > source_end);
    if past_end {
        return Err(NtStatus::INVALID_VIEW_SIZE.into());
    }
    // All ones: at the target's end (MS-FSA's FILE_WRITE_TO_END_OF_FILE).
    let offset = match chunk.target_offset {
        u64::MAX => run(target, |h| h.stat())?.end_of_file,
        offset => offset,
    };
    let table = OpenFiles::global();
    table.check_io(source.key, source.table_id, chunk.source_offset, len, false)?;
    table.check_io(target.key, target.table_id, offset, len, true)?;
    let data = run(source, |h| {
        h.read(chunk.source_offset, chunk.length as usize)
    })?;
    // The source shrank since its size was read.
    if data.len() != chunk.length as usize {
        return Err(NtStatus::INVALID_VIEW_SIZE.into());
    }
    let written = run(target, |h| h.write(offset, &data))?;
    if written < data.len() {
        return Err(ChunkFailure {
            status: NtStatus::DISK_FULL,
            written: u32::try_from(written).unwrap_or(u32::MAX),
        });
    }
    Ok(())
}

/// A backend call on `open` as its user.
fn run<T>(
    open: &FileOpen,
    f: impl FnOnce(&dyn Handle) -> Result<T, NtStatus>,
) -> Result<T, NtStatus> {
    as_user(&open.token, || f(open.handle.as_ref())).and_then(|r| r)
}
