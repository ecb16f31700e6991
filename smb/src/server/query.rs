//! QUERY_DIRECTORY (MS-SMB2 3.3.5.18), QUERY_INFO (3.3.5.20) and SET_INFO (3.3.5.21) on
//! disk shares: the backend's [`Stat`] shown through MS-FSCC's information classes.

use std::collections::HashMap;

use adjoin_rpc::ntstatus::NtStatus;

use super::backend::{DirEntry, Disposition, Kind, OpenHow, SetTimes, SharePath, Stat};
use super::files::{
    FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_READONLY, FileOpen, Listing, attributes,
};
use super::notify::{self, Change};
use super::open_files::{FileKey, OpenFiles};
use super::pending::Waiting;
use super::{Refusal, ServerConnection, security};
use crate::proto::info::{
    FILE_CASE_PRESERVED_NAMES, FILE_CASE_SENSITIVE_SEARCH, FILE_SUPPORTS_HARD_LINKS,
    FILE_SUPPORTS_SPARSE_FILES, FILE_UNICODE_ON_DISK, FileAccessInformation,
    FileAlignmentInformation, FileAllInformation, FileAttributeTagInformation,
    FileBasicInformation, FileCompressionInformation, FileDispositionInformationEx,
    FileEaInformation, FileFsAttributeInformation, FileFsControlInformation,
    FileFsDeviceInformation, FileFsFullSizeInformation, FileFsObjectIdInformation,
    FileFsSectorSizeInformation, FileFsSizeInformation, FileFsVolumeInformation, FileIdInformation,
    FileInfoClass, FileInternalInformation, FileModeInformation, FileNameInformation,
    FileNetworkOpenInformation, FilePositionInformation, FileStandardInformation, FileStat,
    FileStreamInformation, FsInfoClass, Information, SetFileInfo,
};
use crate::proto::{
    Body, CompletionFilter, Dialect, ErrorResponse, Header, InfoType, QueryDirectoryFlags,
    QueryDirectoryRequest, QueryDirectoryResponse, QueryInfoRequest, QueryInfoResponse,
    SetInfoRequest, SetInfoResponse,
};

/// FILE_READ_EA.
const READ_EA: u32 = 0x0000_0008;
/// FILE_READ_ATTRIBUTES.
const READ_ATTRIBUTES: u32 = 0x0000_0080;
/// READ_CONTROL.
const READ_CONTROL: u32 = 0x0002_0000;
/// ACCESS_SYSTEM_SECURITY.
const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;
/// SACL_SECURITY_INFORMATION (MS-DTYP 2.4.7).
const SACL_SECURITY_INFORMATION: u32 = 0x0000_0008;

/// MS-FSCC 2.6 FILE_ATTRIBUTE_TEMPORARY.
const FILE_ATTRIBUTE_TEMPORARY: u32 = 0x0000_0100;

/// The sector size reported for every share.
const SECTOR: u32 = 512;

/// MS-FSCC's view of `stat`, named `name`.
fn file_stat(stat: &Stat, name: String, delete_pending: bool) -> FileStat {
    FileStat {
        creation: stat.creation,
        last_access: stat.last_access,
        last_write: stat.last_write,
        change: stat.change,
        allocation_size: stat.allocation_size,
        end_of_file: stat.end_of_file,
        file_attributes: attributes(stat),
        file_index: stat.file_index,
        number_of_links: stat.links,
        delete_pending,
        directory: stat.directory,
        name,
    }
}

/// MS-FSA 2.1.4.4 name matching, without regard to case: `*` any run, `?` one character;
/// the DOS wildcards `<`, `>` and `"` as `*`, `?` and `.`.
fn matches(pattern: &str, name: &str) -> bool {
    // MS-FSA 2.1.4.4: `*.*` matches every name, dotted or not.
    if pattern == "*.*" {
        return true;
    }
    let pattern: Vec<char> = pattern
        .chars()
        .map(|c| match c {
            '<' => '*',
            '>' => '?',
            '"' => '.',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    let name: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

impl FileOpen {
    /// The name FileNameInformation reports: the path from the share root, with a
    /// leading backslash.
    fn wire_name(&self) -> String {
        format!("\\{}", self.path.to_wire())
    }

    /// Starts a listing: `.` and `..`, then the entries matching `pattern`.
    fn start_listing(&mut self, pattern: &str) -> Result<(), Refusal> {
        let own = self.as_user(|h| h.stat())?;
        let mut entries: Vec<DirEntry> = [".", ".."]
            .into_iter()
            .map(|name| DirEntry {
                name: name.to_owned(),
                stat: own,
            })
            .collect();
        entries.extend(self.as_user(|h| h.list())?);
        entries.retain(|e| matches(pattern, &e.name));
        self.listing = Some(Listing {
            entries,
            next: 0,
            pattern: pattern.to_owned(),
            listed: (own.change, own.last_write),
        });
        Ok(())
    }

    /// Before a listing goes on: when the directory changed since it was read (its
    /// change or write time moved), the entries still to come that are gone since are
    /// dropped and the others' metadata read again, so an enumeration never returns a
    /// name removed meanwhile (as Windows' and smbd's do not; smb2.dir.fixed). Entries
    /// added meanwhile are not added. Costs one stat while the directory is unchanged.
    fn refresh_listing(&mut self) -> Result<(), Refusal> {
        let own = self.as_user(|h| h.stat())?;
        let now = (own.change, own.last_write);
        if self.listing.as_ref().is_none_or(|l| l.listed == now) {
            return Ok(());
        }
        let mut current: HashMap<String, Stat> = self
            .as_user(|h| h.list())?
            .into_iter()
            .map(|e| (e.name, e.stat))
            .collect();
        let Some(listing) = self.listing.as_mut() else {
            return Ok(());
        };
        let rest = listing.entries.split_off(listing.next);
        listing
            .entries
            .extend(rest.into_iter().filter_map(|mut entry| {
                if entry.name != "." && entry.name != ".." {
                    entry.stat = current.remove(&entry.name)?;
                }
                Some(entry)
            }));
        listing.listed = now;
        Ok(())
    }
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.18.
    pub(super) fn query_directory(
        &mut self,
        header: &Header,
        msg: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let (_, req) = QueryDirectoryRequest::from_message(msg)?;
        let open = self.file(header, req.file_id)?;
        if !open.directory {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        let pattern = if req.file_name.is_empty() {
            "*"
        } else {
            req.file_name.as_str()
        };
        let restart = req
            .flags
            .intersects(QueryDirectoryFlags::RESTART_SCANS | QueryDirectoryFlags::REOPEN);
        let fresh = restart || open.listing.as_ref().is_none_or(|l| l.pattern != pattern);
        if fresh {
            open.start_listing(pattern)?;
        } else {
            open.refresh_listing()?;
        }
        let listing = open
            .listing
            .as_mut()
            .ok_or(Refusal::Status(NtStatus::INTERNAL_ERROR))?;
        if listing.next >= listing.entries.len() {
            // MS-SMB2 3.3.5.18: nothing matched at all, or nothing is left.
            let status = if fresh {
                NtStatus::NO_SUCH_FILE
            } else {
                NtStatus::NO_MORE_FILES
            };
            return Err(Refusal::Status(status));
        }
        let mut out = crate::proto::info::DirectoryListing::new(
            req.file_information_class,
            req.output_buffer_length,
        )
        .ok_or(Refusal::Status(NtStatus::INVALID_INFO_CLASS))?;
        let single = req.flags.contains(QueryDirectoryFlags::RETURN_SINGLE_ENTRY);
        while let Some(entry) = listing.entries.get(listing.next) {
            let stat = file_stat(&entry.stat, entry.name.clone(), false);
            if !out.push(&stat, &entry.name) {
                break;
            }
            listing.next += 1;
            if single {
                break;
            }
        }
        if out.is_empty() {
            // Not even one entry fits the client's buffer.
            return Err(Refusal::Status(NtStatus::INFO_LENGTH_MISMATCH));
        }
        let resp = QueryDirectoryResponse {
            output: out.into_bytes(),
        };
        Ok(self.reply(header, &resp, NtStatus::SUCCESS))
    }

    /// MS-SMB2 3.3.5.20.
    pub(super) fn query_info(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = QueryInfoRequest::from_message(msg)?;
        let dialect = self.dialect.unwrap_or_default();
        let tokens = self.config.tokens.clone();
        let open = self.file(header, req.file_id)?;
        let (mut output, variable) = match req.info_type {
            InfoType::FILE => file_info(open, req.file_info_class(), dialect)?,
            InfoType::FILESYSTEM => fs_info(open, req.fs_info_class())?,
            InfoType::SECURITY => {
                // MS-SMB2 3.3.5.20.3: the owner, group and DACL need READ_CONTROL, the
                // SACL ACCESS_SYSTEM_SECURITY.
                let mut needed = READ_CONTROL;
                if req.additional_information & SACL_SECURITY_INFORMATION != 0 {
                    needed |= ACCESS_SYSTEM_SECURITY;
                }
                if open.access & needed != needed {
                    return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
                }
                let stat = open.as_user(|h| h.stat())?;
                let owners = security::Owners::of(&stat, tokens.as_deref());
                let sd = security::descriptor(&stat, &owners, req.additional_information);
                let sd = sd.to_bytes();
                // MS-SMB2 3.3.5.20.3: a descriptor larger than the buffer is not cut
                // short; the error says the size it needs.
                if sd.len() > req.output_buffer_length as usize {
                    let needed = ErrorResponse {
                        error_context_count: 0,
                        data: (sd.len() as u32).to_le_bytes().to_vec(),
                    };
                    let h = self.response_header(header, NtStatus::BUFFER_TOO_SMALL);
                    return Ok(self.protect(&h, needed.to_message(&h)));
                }
                (sd, false)
            }
            // Quotas are not served yet.
            _ => return Err(Refusal::Status(NtStatus::NOT_SUPPORTED)),
        };
        let max = req.output_buffer_length as usize;
        let mut status = NtStatus::SUCCESS;
        if output.len() > max {
            // MS-SMB2 3.3.5.20.1: a class with a variable part is cut short and says so,
            // once its fixed part fits; anything less is refused.
            let fixed = if variable {
                fixed_part(req.info_type, req.info_class)
            } else {
                output.len()
            };
            if max < fixed {
                return Err(Refusal::Status(NtStatus::INFO_LENGTH_MISMATCH));
            }
            output.truncate(max);
            status = NtStatus::BUFFER_OVERFLOW;
        }
        Ok(self.reply(header, &QueryInfoResponse { output }, status))
    }

    /// MS-SMB2 3.3.5.21; a rename or delete that first breaks other clients' handle
    /// leases waits for them (an interim response now, the answer when they end).
    pub(super) fn set_info(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        match self.set_info_now(header, msg)? {
            SetInfoDone::Reply(reply) => Ok(reply),
            SetInfoDone::Wait(deadline, key) => self.go_async(
                header,
                Waiting::SetInfo {
                    msg: msg.to_vec(),
                    key,
                    chain_file: self.chain_file,
                },
                deadline,
            ),
        }
    }

    /// [`Self::set_info`], once more for a request that waited.
    pub(super) fn set_info_now(
        &mut self,
        header: &Header,
        msg: &[u8],
    ) -> Result<SetInfoDone, Refusal> {
        let (_, req) = SetInfoRequest::from_message(msg)?;
        if req.info_type == InfoType::SECURITY {
            return self.set_security(header, &req).map(SetInfoDone::Reply);
        }
        if req.info_type != InfoType::FILE {
            return Err(Refusal::Status(NtStatus::NOT_SUPPORTED));
        }
        let info = match SetFileInfo::decode(req.file_info_class(), &req.buffer) {
            Ok(Some(info)) => info,
            Ok(None) => return Err(Refusal::Status(NtStatus::INVALID_INFO_CLASS)),
            Err(_) => return Err(Refusal::Status(NtStatus::INFO_LENGTH_MISMATCH)),
        };
        let events = self.events.clone();
        let open = self.file(header, req.file_id)?;
        if open.share.read_only {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        // MS-FSA 2.1.5.15.11/2.1.5.15.3 (as Windows does): a rename, or marking the file
        // for deletion, first breaks the handle caching of other clients' leases.
        let removes = match &info {
            SetFileInfo::Rename(_) => true,
            SetFileInfo::Disposition(d) => d.delete_pending,
            SetFileInfo::DispositionEx(d) => d.flags & FileDispositionInformationEx::DELETE != 0,
            _ => false,
        };
        if removes
            && let Some(deadline) = OpenFiles::global().break_handles(
                open.key,
                open.table_id,
                &events,
                std::time::Instant::now(),
            )
        {
            return Ok(SetInfoDone::Wait(deadline, open.key));
        }
        set_file_info(open, info)?;
        Ok(SetInfoDone::Reply(self.reply(
            header,
            &SetInfoResponse,
            NtStatus::SUCCESS,
        )))
    }
}

/// What a SET_INFO came to.
pub(super) enum SetInfoDone {
    /// Its response.
    Reply(Vec<u8>),
    /// It waits for breaks on this file, until this time at the latest.
    Wait(std::time::Instant, FileKey),
}

/// The least a class with a variable part answers with (as the C structures MS-FSCC
/// lays out count it: the fixed part, the first character of the name, padding to 8
/// bytes): less than this is STATUS_INFO_LENGTH_MISMATCH.
fn fixed_part(info_type: InfoType, class: u8) -> usize {
    match (info_type, class) {
        (InfoType::FILE, c) if c == FileInfoClass::ALL.value() => {
            (FileAllInformation::FIXED_LEN + 4).next_multiple_of(8)
        }
        (InfoType::FILE, c) if c == FileInfoClass::STREAM.value() => 32,
        (InfoType::FILESYSTEM, c) if c == FsInfoClass::VOLUME.value() => 24,
        (InfoType::FILESYSTEM, c) if c == FsInfoClass::ATTRIBUTE.value() => 16,
        // FileNameInformation and its kin: FileNameLength and a character.
        _ => 8,
    }
}

/// MS-FSA 2.1.5.12: the classes that show a file's attributes need FILE_READ_ATTRIBUTES.
fn needs_read_attributes(class: FileInfoClass) -> bool {
    matches!(
        class,
        FileInfoClass::BASIC
            | FileInfoClass::ALL
            | FileInfoClass::NETWORK_OPEN
            | FileInfoClass::ATTRIBUTE_TAG
    )
}

/// A FILE info class of `open`: the bytes, and whether the class has a variable part.
fn file_info(
    open: &FileOpen,
    class: FileInfoClass,
    dialect: Dialect,
) -> Result<(Vec<u8>, bool), Refusal> {
    // MS-SMB2 3.3.5.20.1: the access each class needs.
    if needs_read_attributes(class) && open.access & READ_ATTRIBUTES == 0 {
        return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
    }
    if class == FileInfoClass::FULL_EA {
        if open.access & READ_EA == 0 {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        // MS-FSA 2.1.5.12.5: extended attributes are not kept, so there are none.
        return Err(Refusal::Status(NtStatus::NO_EAS_ON_FILE));
    }
    // MS-SMB2 3.3.5.20.1: FileNormalizedNameInformation is for 3.1.1 only.
    if class == FileInfoClass::NORMALIZED_NAME && dialect != Dialect::SMB311 {
        return Err(Refusal::Status(NtStatus::NOT_SUPPORTED));
    }
    let stat = open.as_user(|h| h.stat())?;
    let fs = file_stat(&stat, open.wire_name(), open.delete_on_close);
    Ok(match class {
        FileInfoClass::BASIC => (FileBasicInformation::from(&fs).to_bytes(), false),
        FileInfoClass::STANDARD => (FileStandardInformation::from(&fs).to_bytes(), false),
        FileInfoClass::INTERNAL => (FileInternalInformation::from(&fs).to_bytes(), false),
        FileInfoClass::EA => (FileEaInformation { ea_size: 0 }.to_bytes(), false),
        FileInfoClass::ACCESS => (
            FileAccessInformation {
                access_flags: open.access,
            }
            .to_bytes(),
            false,
        ),
        FileInfoClass::POSITION => (
            FilePositionInformation {
                current_byte_offset: open.position,
            }
            .to_bytes(),
            false,
        ),
        FileInfoClass::MODE => (FileModeInformation { mode: 0 }.to_bytes(), false),
        FileInfoClass::ALIGNMENT => (
            FileAlignmentInformation {
                alignment_requirement: 0,
            }
            .to_bytes(),
            false,
        ),
        FileInfoClass::ALL => (
            FileAllInformation::new(&fs, open.access, open.position, 0).to_bytes(),
            true,
        ),
        FileInfoClass::NAME => (FileNameInformation::from(&fs).to_bytes(), true),
        // MS-FSCC 2.4.30: the path from the share's root without a leading backslash
        // (empty for the root).
        FileInfoClass::NORMALIZED_NAME => {
            let relative = FileStat {
                name: open.path.to_wire(),
                ..fs
            };
            (FileNameInformation::from(&relative).to_bytes(), true)
        }
        // No 8.3 names are generated: the short name is the name itself, as on a volume
        // with 8.3 names turned off.
        FileInfoClass::ALTERNATE_NAME => {
            let leaf = FileStat {
                name: open.path.file_name().to_owned(),
                ..fs
            };
            (FileNameInformation::from(&leaf).to_bytes(), true)
        }
        FileInfoClass::STREAM => (FileStreamInformation::from(&fs).to_bytes(), true),
        FileInfoClass::NETWORK_OPEN => (FileNetworkOpenInformation::from(&fs).to_bytes(), false),
        FileInfoClass::ATTRIBUTE_TAG => (FileAttributeTagInformation::from(&fs).to_bytes(), false),
        FileInfoClass::COMPRESSION => (FileCompressionInformation::from(&fs).to_bytes(), false),
        FileInfoClass::ID => (FileIdInformation::new(stat.device, &fs).to_bytes(), false),
        _ => return Err(Refusal::Status(NtStatus::INVALID_INFO_CLASS)),
    })
}

/// A FILESYSTEM info class of the share `open` is on.
fn fs_info(open: &FileOpen, class: FsInfoClass) -> Result<(Vec<u8>, bool), Refusal> {
    let backend = std::sync::Arc::clone(&open.share.backend);
    let fs = open.as_user(|_| backend.fs_stat())?;
    let sectors = u32::try_from(fs.block_size / u64::from(SECTOR))
        .unwrap_or(1)
        .max(1);
    Ok(match class {
        FsInfoClass::VOLUME => (
            FileFsVolumeInformation {
                creation_time: 0,
                // The volume serial is 32 bits: the file system id's low half.
                serial_number: fs.serial as u32,
                supports_objects: false,
                label: open.share.name.clone(),
            }
            .to_bytes(),
            true,
        ),
        FsInfoClass::SIZE => (
            FileFsSizeInformation {
                total_allocation_units: fs.total_blocks,
                available_allocation_units: fs.available_blocks,
                sectors_per_allocation_unit: sectors,
                bytes_per_sector: SECTOR,
            }
            .to_bytes(),
            false,
        ),
        FsInfoClass::FULL_SIZE => (
            FileFsFullSizeInformation {
                total_allocation_units: fs.total_blocks,
                caller_available_allocation_units: fs.available_blocks,
                actual_available_allocation_units: fs.free_blocks,
                sectors_per_allocation_unit: sectors,
                bytes_per_sector: SECTOR,
            }
            .to_bytes(),
            false,
        ),
        FsInfoClass::DEVICE => (FileFsDeviceInformation::default().to_bytes(), false),
        FsInfoClass::ATTRIBUTE => (
            FileFsAttributeInformation::ntfs(
                FILE_CASE_SENSITIVE_SEARCH
                    | FILE_CASE_PRESERVED_NAMES
                    | FILE_UNICODE_ON_DISK
                    | FILE_SUPPORTS_SPARSE_FILES
                    | if backend.hard_links() {
                        FILE_SUPPORTS_HARD_LINKS
                    } else {
                        0
                    },
            )
            .to_bytes(),
            true,
        ),
        FsInfoClass::SECTOR_SIZE => (
            FileFsSectorSizeInformation::uniform(SECTOR).to_bytes(),
            false,
        ),
        // No quotas are kept (smbd answers the same on a file system without them).
        FsInfoClass::CONTROL => (FileFsControlInformation::no_quotas().to_bytes(), false),
        // The volume's object id: its file system id, as the volume serial is.
        FsInfoClass::OBJECT_ID => {
            let mut object_id = [0u8; 16];
            object_id[..8].copy_from_slice(&fs.serial.to_le_bytes());
            let info = FileFsObjectIdInformation {
                object_id,
                extended_info: [0; 48],
            };
            (info.to_bytes(), false)
        }
        _ => return Err(Refusal::Status(NtStatus::INVALID_INFO_CLASS)),
    })
}

/// Carries out one SET_INFO FILE class on `open`.
fn set_file_info(open: &mut FileOpen, info: SetFileInfo) -> Result<(), Refusal> {
    match info {
        SetFileInfo::Basic(basic) => {
            // MS-FSA 2.1.5.15.2: a directory cannot be temporary, nor a file a directory.
            let attributes = basic.file_attributes;
            if (open.directory && attributes & FILE_ATTRIBUTE_TEMPORARY != 0)
                || (!open.directory && attributes & FILE_ATTRIBUTE_DIRECTORY != 0)
            {
                return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
            }
            // MS-FSCC: 0 leaves a time alone; -1 and -2 stop and resume automatic updates,
            // which POSIX has no notion of.
            let pick = |t: u64| (t != 0 && t < FileBasicInformation::RESUME_UPDATES).then_some(t);
            let times = SetTimes {
                last_access: pick(basic.last_access),
                last_write: pick(basic.last_write),
            };
            if times != SetTimes::default() {
                open.as_user(|h| h.set_times(&times))?;
            }
            // Of the attributes, FILE_ATTRIBUTE_READONLY is kept (as the write permission
            // bits); the others are accepted and not kept. 0 leaves them alone. A watcher
            // is told of them as of the times, as Windows and smbd tell it.
            if attributes != 0 && !open.directory {
                let read_only = attributes & FILE_ATTRIBUTE_READONLY != 0;
                open.as_user(|h| h.set_read_only(read_only))?;
            }
            let mut filter = CompletionFilter::empty();
            filter.set(CompletionFilter::ATTRIBUTES, attributes != 0);
            filter.set(CompletionFilter::LAST_ACCESS, times.last_access.is_some());
            filter.set(CompletionFilter::LAST_WRITE, times.last_write.is_some());
            if !filter.is_empty() {
                notify::changed(&open.share, &open.path, Change::Modified(filter));
            }
        }
        SetFileInfo::Rename(rename) => {
            let to = SharePath::parse(&rename.file_name).map_err(Refusal::Status)?;
            if open.path.is_root() || to.is_root() {
                return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
            }
            let backend = std::sync::Arc::clone(&open.share.backend);
            let from = open.path.clone();
            let table = OpenFiles::global();
            // MS-FSA 2.1.5.15.12: a directory with an open file below it stays.
            if open.directory && table.open_below(&table_name(open, &from)) {
                return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
            }
            if let Some((parent, _)) = to.split_last() {
                let key = directory_key(open, &parent)?;
                table.check_rename_parent(key).map_err(Refusal::Status)?;
            }
            open.as_user(|_| backend.rename(&from, &to, rename.replace_if_exists))?;
            let directory = open.directory;
            notify::changed(&open.share, &from, Change::Renamed { to: &to, directory });
            table.name(open.key, table_name(open, &to));
            open.path = to;
        }
        SetFileInfo::Disposition(d) => set_delete(open, d.delete_pending)?,
        SetFileInfo::DispositionEx(d) => {
            set_delete(open, d.flags & FileDispositionInformationEx::DELETE != 0)?;
        }
        SetFileInfo::EndOfFile(eof) => {
            open.as_user(|h| h.set_len(eof.end_of_file))?;
            // MS-FSA 2.1.5.14.5: a new end of file breaks the other opens' read caching.
            OpenFiles::global().break_for_write(open.key, open.table_id);
            notify::changed(
                &open.share,
                &open.path,
                Change::Modified(CompletionFilter::SIZE),
            );
        }
        SetFileInfo::Allocation(a) => {
            // Shrinking the allocation below the data truncates it; growing reserves
            // the space (where the file system can).
            let size = open.as_user(|h| h.stat())?.end_of_file;
            if a.allocation_size > size {
                open.as_user(|h| h.reserve(a.allocation_size))?;
            } else if a.allocation_size < size {
                open.as_user(|h| h.set_len(a.allocation_size))?;
                notify::changed(
                    &open.share,
                    &open.path,
                    Change::Modified(CompletionFilter::SIZE),
                );
            }
            // MS-FSA 2.1.4.12: setting the allocation, whatever it does to the data,
            // breaks the other opens' read caching (smb2.oplock.batch12).
            OpenFiles::global().break_for_write(open.key, open.table_id);
        }
        SetFileInfo::Position(p) => open.position = p.current_byte_offset,
        SetFileInfo::Mode(_) => {}
        SetFileInfo::Link(link) => {
            // MS-FSA 2.1.5.15.6: a directory has no second name, nor does a file that is
            // being deleted.
            if open.directory {
                return Err(Refusal::Status(NtStatus::FILE_IS_A_DIRECTORY));
            }
            if OpenFiles::global().delete_pending(open.key) {
                return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
            }
            let to = SharePath::parse(&link.file_name).map_err(Refusal::Status)?;
            if to.is_root() {
                return Err(Refusal::Status(NtStatus::OBJECT_NAME_INVALID));
            }
            // MS-FSA 2.1.5.15.6: a name that is open is not replaced (its opens would
            // go on with a file the name no longer is).
            if link.replace_if_exists && OpenFiles::global().open_named(&table_name(open, &to)) {
                return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
            }
            let backend = std::sync::Arc::clone(&open.share.backend);
            let from = open.path.clone();
            open.as_user(|_| backend.link(&from, &to, link.replace_if_exists))?;
            notify::changed(&open.share, &to, Change::Added { directory: false });
        }
    }
    Ok(())
}

/// `path` on `open`'s share as the open-file table names it.
pub(super) fn table_name(open: &FileOpen, path: &SharePath) -> String {
    format!("{}/{}", open.share.name, path.as_str())
}

/// The open-file table's key of directory `dir` on `open`'s share.
fn directory_key(open: &FileOpen, dir: &SharePath) -> Result<FileKey, Refusal> {
    let how = OpenHow {
        disposition: Disposition::Open,
        kind: Kind::Directory,
        read: false,
        write: false,
        mode: 0,
    };
    let backend = std::sync::Arc::clone(&open.share.backend);
    let stat = open.as_user(|_| backend.open(dir, &how)?.0.stat())?;
    Ok((stat.device, stat.file_index))
}

/// MS-FSA 2.1.5.15.3: a directory with entries cannot be marked for deletion.
fn set_delete(open: &mut FileOpen, delete: bool) -> Result<(), Refusal> {
    if delete && open.path.is_root() {
        return Err(Refusal::Status(NtStatus::CANNOT_DELETE));
    }
    // MS-FSA 2.1.5.14.3: nor a read-only file.
    if delete && !open.directory && open.as_user(|h| h.stat())?.read_only {
        return Err(Refusal::Status(NtStatus::CANNOT_DELETE));
    }
    if delete && open.directory && !open.as_user(|h| h.list())?.is_empty() {
        return Err(Refusal::Status(NtStatus::DIRECTORY_NOT_EMPTY));
    }
    open.delete_on_close = delete;
    open.set_delete_pending(delete);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_match_as_windows_does() {
        assert!(matches("*", "anything.txt"));
        assert!(matches("*.*", "Makefile"));
        assert!(matches("*.TXT", "notes.txt"));
        assert!(matches("n?tes.*", "Notes.md"));
        assert!(matches("<.txt", "a.txt"));
        assert!(matches("exact", "EXACT"));
        assert!(!matches("*.txt", "notes.md"));
        assert!(!matches("a?", "a"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
    }
}
