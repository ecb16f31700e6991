//! Sparse files (MS-FSCC 2.3.76, 2.3.51, 2.3.80; the object-store side after MS-FSA
//! 2.1.5.10.38, 2.1.5.10.22, 2.1.5.10.41): FSCTL_SET_SPARSE marks a file sparse (the
//! backend keeps the mark with the file), FSCTL_QUERY_ALLOCATED_RANGES says where a file
//! holds data (SEEK_DATA/SEEK_HOLE on POSIX), FSCTL_SET_ZERO_DATA makes a range read as
//! zeros (a sparse file's whole blocks given back with FALLOC_FL_PUNCH_HOLE).
//!
//! Bounds: the ranges answered are at most what MaxOutputResponse holds (the walk stops
//! one past that), so a client cannot make the server list a huge fragmented file.

use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;

use super::files::access;
use super::open_files::OpenFiles;
use super::{Refusal, ServerConnection};
use crate::proto::{FileId, FileRange, Header, IoctlRequest};

impl ServerConnection {
    /// FSCTL_SET_SPARSE: the input's first byte (SetSparse) clears the mark when zero;
    /// no input sets it (a longer input is taken, as Windows takes it). A directory is
    /// STATUS_INVALID_PARAMETER; the open needs to write data, append or write
    /// attributes.
    pub(super) fn set_sparse(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        let open = self.file(header, file)?;
        if open.directory {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        let may = access::WRITE_DATA | access::APPEND_DATA | access::WRITE_ATTRIBUTES;
        if open.access & may == 0 {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        let sparse = req.input.first().is_none_or(|b| *b != 0);
        open.as_user(|h| h.set_sparse(sparse))?;
        self.ioctl_output(header, req, file, Vec::new(), NtStatus::SUCCESS)
    }

    /// FSCTL_QUERY_ALLOCATED_RANGES: the ranges holding data within the one asked about
    /// (FILE_ALLOCATED_RANGE_BUFFER, 16 bytes; more input is ignored). A negative offset
    /// or length, or a range past the largest offset, is STATUS_INVALID_PARAMETER. When
    /// the ranges do not all fit MaxOutputResponse: those that fit, with
    /// STATUS_BUFFER_OVERFLOW; not even one, STATUS_BUFFER_TOO_SMALL. The open needs
    /// FILE_READ_DATA.
    pub(super) fn query_allocated_ranges(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        let (offset, end) = range_of(&req.input, |r| r.offset.checked_add(r.second))?;
        let open = self.file(header, file)?;
        if open.access & access::READ_DATA == 0 {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        let fits = req.max_output_response as usize / FileRange::LEN;
        let ranges = open.as_user(|h| h.allocated_ranges(offset, end, fits))?;
        if !ranges.is_empty() && fits == 0 {
            return Err(Refusal::Status(NtStatus::BUFFER_TOO_SMALL));
        }
        let status = if ranges.len() > fits {
            NtStatus::BUFFER_OVERFLOW
        } else {
            NtStatus::SUCCESS
        };
        let mut output = Vec::with_capacity(ranges.len().min(fits) * FileRange::LEN);
        for (at, len) in ranges.into_iter().take(fits) {
            FileRange {
                offset: at as i64,
                second: len as i64,
            }
            .encode(&mut output);
        }
        self.ioctl_output(header, req, file, output, status)
    }

    /// FSCTL_SET_ZERO_DATA: FILE_ZERO_DATA_INFORMATION (FileOffset, BeyondFinalZero);
    /// negative values or an offset past BeyondFinalZero are STATUS_INVALID_PARAMETER.
    /// Nothing past the end of the file is written (the length never changes). The open
    /// needs FILE_WRITE_DATA, and the range must be free of other opens' byte-range
    /// locks (STATUS_FILE_LOCK_CONFLICT).
    pub(super) fn set_zero_data(
        &mut self,
        header: &Header,
        req: &IoctlRequest,
        file: FileId,
    ) -> Result<Vec<u8>, Refusal> {
        let (offset, end) = range_of(&req.input, |r| Some(r.second))?;
        let open = self.file(header, file)?;
        if open.directory {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        if open.access & access::WRITE_DATA == 0 {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        if end > offset {
            OpenFiles::global()
                .check_io(open.key, open.table_id, offset, end - offset, true)
                .map_err(Refusal::Status)?;
            open.as_user(|h| h.zero_range(offset, end))?;
        }
        self.ioctl_output(header, req, file, Vec::new(), NtStatus::SUCCESS)
    }
}

/// The (offset, end) a FILE_ALLOCATED_RANGE_BUFFER or FILE_ZERO_DATA_INFORMATION names,
/// `end` from the second value by `end_of`: both non-negative, the end not before the
/// offset and not past the largest offset.
fn range_of(
    input: &[u8],
    end_of: impl Fn(&FileRange) -> Option<i64>,
) -> Result<(u64, u64), Refusal> {
    let invalid = Refusal::Status(NtStatus::INVALID_PARAMETER);
    let range = input
        .get(..FileRange::LEN)
        .and_then(|b| FileRange::read_bytes("FSCTL input", b).ok())
        .ok_or(Refusal::Status(NtStatus::INVALID_PARAMETER))?;
    if range.offset < 0 || range.second < 0 {
        return Err(invalid);
    }
    let end = end_of(&range).ok_or(Refusal::Status(NtStatus::INVALID_PARAMETER))?;
    if end < range.offset {
        return Err(invalid);
    }
    Ok((range.offset as u64, end as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(offset: i64, second: i64) -> Vec<u8> {
        FileRange { offset, second }.to_bytes()
    }

    #[test]
    fn ranges_are_checked_as_windows_checks_them() {
        let qar = |r: &FileRange| r.offset.checked_add(r.second);
        let zero = |r: &FileRange| Some(r.second);
        assert_eq!(range_of(&input(512, 1024), qar).ok(), Some((512, 1536)));
        // More input than the buffer is taken; less is not.
        let mut long = input(0, 10);
        long.extend_from_slice(&input(7, 7));
        assert_eq!(range_of(&long, qar).ok(), Some((0, 10)));
        assert!(range_of(&input(0, 10)[..15], qar).is_err());
        assert!(range_of(&[], qar).is_err());
        // Negative values, a length that wraps past the largest offset.
        assert!(range_of(&input(-1, 10), qar).is_err());
        assert!(range_of(&input(0, -1), qar).is_err());
        assert!(range_of(&input(512, i64::MAX), qar).is_err());
        // Zeroing: BeyondFinalZero is the end; an empty range is fine, a reversed one not.
        assert_eq!(range_of(&input(4095, 4095), zero).ok(), Some((4095, 4095)));
        assert!(range_of(&input(4096, 4095), zero).is_err());
    }
}
