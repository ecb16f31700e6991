//! File operations on disk shares: CREATE (MS-SMB2 3.3.5.9), CLOSE (3.3.5.10), READ
//! (3.3.5.12), WRITE (3.3.5.13) and FLUSH (3.3.5.11). Each file-system call goes through
//! the share's [`Backend`](super::backend::Backend) with the session user's credentials.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adjoin_rpc::ntstatus::NtStatus;

use super::backend::creds::as_user;
use super::backend::{CreateAction, DirEntry, Disposition, Handle, Kind, OpenHow, SharePath, Stat};
use super::create_contexts::Asked;
use super::durable::{self, Durability};
use super::notify::{self, Change};
use super::open_files::{Admission, FileKey, LockRange, OpenFiles};
use super::oplock::{Granted, Holder, Opening, Wanted};
use super::pending::Waiting;
use super::share::DiskShare;
use super::token::UserToken;
use super::{MAX_OPENS, Open, Refusal, ServerConnection, Session};
use crate::proto::durable::DurableAsk;
use crate::proto::info::FILE_ATTRIBUTE_SPARSE_FILE;
use crate::proto::oplock::{
    CONTEXT_LEASE, CreateContext, LEASE_HANDLE, LeaseContext, OPLOCK_BATCH, OPLOCK_LEASE,
    OPLOCK_NONE,
};
use crate::proto::{
    Body, CloseResponse, CompletionFilter, CreateRequest, CreateResponse, Dialect, FileId,
    FileTimes, FlushRequest, FlushResponse, Header, HeaderFlags, LockElement, LockFlags,
    LockRequest, LockResponse, ReadRequest, ReadResponse, WriteRequest, WriteResponse,
};

/// MS-SMB2 2.2.13 CreateOptions.
const FILE_DIRECTORY_FILE: u32 = 0x0000_0001;
const FILE_NON_DIRECTORY_FILE: u32 = 0x0000_0040;
const FILE_DELETE_ON_CLOSE: u32 = 0x0000_1000;
/// CreateOptions bits MS-SMB2 2.2.13 reserves (past FILE_OPEN_FOR_FREE_SPACE_QUERY).
const RESERVED_OPTIONS: u32 = 0xff00_0000;

/// MS-SMB2 2.2.13.1 access mask bits.
pub(super) mod access {
    pub(crate) const READ_DATA: u32 = 0x0000_0001;
    pub(crate) const WRITE_DATA: u32 = 0x0000_0002;
    pub(crate) const APPEND_DATA: u32 = 0x0000_0004;
    pub(crate) const WRITE_EA: u32 = 0x0000_0010;
    pub(crate) const EXECUTE: u32 = 0x0000_0020;
    pub(crate) const WRITE_ATTRIBUTES: u32 = 0x0000_0100;
    pub(crate) const DELETE: u32 = 0x0001_0000;
    pub(crate) const WRITE_DAC: u32 = 0x0004_0000;
    pub(crate) const WRITE_OWNER: u32 = 0x0008_0000;
    pub(crate) const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
    pub(crate) const GENERIC_ALL: u32 = 0x1000_0000;
    pub(crate) const GENERIC_EXECUTE: u32 = 0x2000_0000;
    pub(crate) const GENERIC_WRITE: u32 = 0x4000_0000;
    pub(crate) const GENERIC_READ: u32 = 0x8000_0000;
    /// Everything that changes the file system.
    pub(crate) const ANY_WRITE: u32 = WRITE_DATA
        | APPEND_DATA
        | WRITE_EA
        | WRITE_ATTRIBUTES
        | DELETE
        | WRITE_DAC
        | WRITE_OWNER
        | GENERIC_ALL
        | GENERIC_WRITE;
    /// FILE_ALL_ACCESS: what an open granted everything reports.
    pub(crate) const ALL: u32 = 0x001f_01ff;
    /// FILE_GENERIC_READ | FILE_GENERIC_EXECUTE.
    pub(crate) const READ: u32 = 0x0012_00a9;
    /// FILE_GENERIC_READ.
    pub(crate) const GENERIC_READ_MAPPED: u32 = 0x0012_0089;
    /// FILE_GENERIC_WRITE.
    pub(crate) const GENERIC_WRITE_MAPPED: u32 = 0x0012_0116;
    /// FILE_GENERIC_EXECUTE.
    pub(crate) const GENERIC_EXECUTE_MAPPED: u32 = 0x0012_00a0;
}

/// MS-FSCC 2.6 file attributes.
pub(super) const FILE_ATTRIBUTE_READONLY: u32 = 0x0000_0001;
pub(super) const FILE_ATTRIBUTE_DIRECTORY: u32 = 0x0000_0010;
pub(super) const FILE_ATTRIBUTE_ARCHIVE: u32 = 0x0000_0020;

/// What a directory listing in progress remembers between QUERY_DIRECTORY calls.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// The entries (`.` and `..` first), read when the listing started.
    pub(super) entries: Vec<DirEntry>,
    /// The next entry to return.
    pub(super) next: usize,
    /// The pattern the listing was started with.
    pub(super) pattern: String,
    /// The directory's change and write times when it was (last) read.
    pub(super) listed: (u64, u64),
}

/// How a CREATE on a disk share ends.
#[derive(Debug)]
pub(super) enum Created {
    /// The response.
    Reply(Vec<u8>),
    /// Another open's break must end first: by this time at the latest; the file.
    Wait(Instant, FileKey),
}

/// An open file or directory on a disk share.
#[derive(Debug)]
pub(super) struct FileOpen {
    pub(super) tree_id: u32,
    pub(super) share: Arc<DiskShare>,
    /// The name, updated by renames.
    pub(super) path: SharePath,
    pub(super) handle: Box<dyn Handle>,
    pub(super) directory: bool,
    /// The access granted (MS-SMB2 GrantedAccess).
    pub(super) access: u32,
    /// Removed at the last close (FILE_DELETE_ON_CLOSE or FileDispositionInformation).
    pub(super) delete_on_close: bool,
    /// The user the file was opened as.
    pub(super) token: Arc<UserToken>,
    /// A QUERY_DIRECTORY in progress.
    pub(super) listing: Option<Listing>,
    /// MS-FSA `Open.CurrentByteOffset`: where the last READ or WRITE ended, or what
    /// FilePositionInformation set; FilePositionInformation reports it.
    pub(super) position: u64,
    /// The file in the server-wide table (device, inode) and this open's id there.
    pub(super) key: FileKey,
    pub(super) table_id: u64,
    /// Its CHANGE_NOTIFY watch (`notify`), once it has one.
    pub(super) watch: Option<u64>,
    /// `FileId.Persistent`: unique in the process, kept across a durable reconnect.
    pub(super) persistent: u64,
    /// Granted a durable handle (`durable`).
    pub(super) durable: Option<Durability>,
    /// MS-SMB2 `Open.LockSequenceArray`: the LockSequenceNumber last completed in each
    /// bucket (LockSequenceIndex 1 to 64) of a durable open, to answer a LOCK replayed
    /// after a reconnect without doing it twice.
    pub(super) lock_sequences: Vec<(u8, u8)>,
}

impl FileOpen {
    /// Runs a backend call as the open's user.
    pub(super) fn as_user<T>(
        &self,
        f: impl FnOnce(&dyn Handle) -> Result<T, NtStatus>,
    ) -> Result<T, Refusal> {
        as_user(&self.token, || f(self.handle.as_ref()))
            .and_then(|r| r)
            .map_err(Refusal::Status)
    }

    /// Marks the file for deletion at its last close by this open's user (MS-FSA
    /// 2.1.5.15.3: delete-pending for every open from now on), or clears the mark; a
    /// directory marked ends the CHANGE_NOTIFYs on its opens (`notify::delete_pending`).
    pub(super) fn set_delete_pending(&self, delete: bool) {
        let by = delete.then(|| Arc::clone(&self.token));
        OpenFiles::global().set_delete_pending(self.key, by);
        if delete && self.directory {
            notify::delete_pending(&self.share, &self.path);
        }
    }
}

/// The attributes a client is shown for `stat`.
pub(super) fn attributes(stat: &Stat) -> u32 {
    let mut attrs = if stat.directory {
        FILE_ATTRIBUTE_DIRECTORY
    } else {
        FILE_ATTRIBUTE_ARCHIVE
    };
    if stat.read_only && !stat.directory {
        attrs |= FILE_ATTRIBUTE_READONLY;
    }
    if stat.sparse && !stat.directory {
        attrs |= FILE_ATTRIBUTE_SPARSE_FILE;
    }
    attrs
}

pub(super) fn times(stat: &Stat) -> FileTimes {
    FileTimes {
        creation: stat.creation,
        last_access: stat.last_access,
        last_write: stat.last_write,
        change: stat.change,
        allocation_size: stat.allocation_size,
        end_of_file: stat.end_of_file,
    }
}

/// MS-SMB2 3.3.5.9 / MS-DTYP 2.4.3: the generic rights mapped to the file rights they
/// stand for, as the granted access reports them and share modes compare them.
fn map_generic(wanted: u32, writable: bool) -> u32 {
    let mut access = wanted
        & !(access::GENERIC_ALL
            | access::GENERIC_READ
            | access::GENERIC_WRITE
            | access::GENERIC_EXECUTE
            | access::MAXIMUM_ALLOWED);
    if wanted & (access::GENERIC_ALL | access::MAXIMUM_ALLOWED) != 0 {
        access |= if writable { access::ALL } else { access::READ };
    }
    if wanted & access::GENERIC_READ != 0 {
        access |= access::GENERIC_READ_MAPPED;
    }
    if wanted & access::GENERIC_EXECUTE != 0 {
        access |= access::GENERIC_EXECUTE_MAPPED;
    }
    if wanted & access::GENERIC_WRITE != 0 {
        access |= access::GENERIC_WRITE_MAPPED;
    }
    access
}

/// What CREATE's options and access ask of the backend.
fn open_how(req: &CreateRequest, share: &DiskShare) -> Result<OpenHow, NtStatus> {
    let disposition =
        Disposition::from_wire(req.create_disposition).ok_or(NtStatus::INVALID_PARAMETER)?;
    let kind = match (
        req.create_options & FILE_DIRECTORY_FILE != 0,
        req.create_options & FILE_NON_DIRECTORY_FILE != 0,
    ) {
        (true, true) => return Err(NtStatus::INVALID_PARAMETER),
        (true, false) => Kind::Directory,
        (false, true) => Kind::File,
        (false, false) => Kind::Any,
    };
    let wants = req.desired_access;
    let maximum = wants & access::MAXIMUM_ALLOWED != 0;
    let read = maximum
        || wants
            & (access::READ_DATA
                | access::EXECUTE
                | access::GENERIC_READ
                | access::GENERIC_EXECUTE
                | access::GENERIC_ALL)
            != 0;
    let write = wants
        & (access::WRITE_DATA | access::APPEND_DATA | access::GENERIC_WRITE | access::GENERIC_ALL)
        != 0
        || (maximum && !share.read_only)
        || disposition.truncates();
    // MS-SMB2 3.3.5.9: a read-only share refuses any open that could change it.
    if share.read_only
        && (wants & access::ANY_WRITE != 0
            || disposition != Disposition::Open
            || req.create_options & FILE_DELETE_ON_CLOSE != 0)
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(OpenHow {
        disposition,
        kind,
        read,
        write,
        // A new file created FILE_ATTRIBUTE_READONLY has no write permission bits; the
        // open creating it still writes (as on Windows: its handle was granted before).
        mode: if kind == Kind::Directory {
            0o755
        } else if req.file_attributes & FILE_ATTRIBUTE_READONLY != 0 {
            0o444
        } else {
            0o644
        },
    })
}

impl ServerConnection {
    /// The session's token, for a disk share.
    pub(super) fn token(&mut self, header: &Header) -> Result<Arc<UserToken>, Refusal> {
        self.tree(header)?
            .token
            .clone()
            .ok_or(Refusal::Status(NtStatus::ACCESS_DENIED))
    }

    /// The file open `file` names.
    pub(super) fn file(&mut self, header: &Header, file: FileId) -> Result<&mut FileOpen, Refusal> {
        match self.open(header, file)? {
            Open::File(open) => Ok(open),
            Open::Pipe(..) => Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST)),
        }
    }

    /// What a CREATE asks to cache: an oplock, or (2.1 and later, with
    /// SMB2_OPLOCK_LEVEL_LEASE) the lease its context asks for.
    fn wanted(&self, req: &CreateRequest) -> Result<Wanted, Refusal> {
        let leases = self
            .dialect
            .is_some_and(|d| d != Dialect::SMB202 && d != Dialect::WILDCARD);
        let contexts = CreateContext::parse_chain(&req.contexts)?;
        let lease = match CreateContext::find(&contexts, CONTEXT_LEASE) {
            Some(ctx) if leases && req.oplock_level == OPLOCK_LEASE => {
                let mut lease = LeaseContext::parse(&ctx.data)?;
                // Version 2 leases are 3.x's.
                if !self.dialect.is_some_and(Dialect::is_smb3) {
                    lease.v2 = None;
                }
                Some(lease)
            }
            _ => None,
        };
        let level = match req.oplock_level {
            OPLOCK_LEASE if lease.is_none() => OPLOCK_NONE,
            level => level,
        };
        Ok(Wanted { level, lease })
    }

    /// MS-SMB2 3.3.5.9 on a disk share.
    pub(super) fn create_file(
        &mut self,
        header: &Header,
        req: &CreateRequest,
        share: Arc<DiskShare>,
    ) -> Result<Created, Refusal> {
        let token = self.token(header)?;
        if self.tree(header)?.opens.len() >= MAX_OPENS {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        let contexts = CreateContext::parse_chain(&req.contexts)?;
        let ask = durable::durable_ask(&contexts, self.dialect)?;
        if matches!(
            ask,
            DurableAsk::ReconnectV1(_) | DurableAsk::ReconnectV2 { .. }
        ) {
            return self.reconnect(header, &req.name, &contexts, &share, ask);
        }
        let asked = Asked::from_contexts(&contexts)?;
        // MS-SMB2 3.3.5.9: the name is relative (no leading backslash), the impersonation
        // level one of the four, and no reserved CreateOptions bit set.
        if req.name.starts_with('\\') || req.create_options & RESERVED_OPTIONS != 0 {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        if req.impersonation_level > 3 {
            return Err(Refusal::Status(NtStatus::BAD_IMPERSONATION_LEVEL));
        }
        let path = SharePath::parse(&req.name).map_err(Refusal::Status)?;
        let mut how = open_how(req, &share).map_err(Refusal::Status)?;
        // A truncating disposition truncates only after the share modes admit the open
        // (a sharing violation must not destroy the other opener's data).
        let requested = how.disposition;
        if requested.truncates() {
            how.disposition = if requested.creates() {
                Disposition::OpenIf
            } else {
                Disposition::Open
            };
        }
        let backend = Arc::clone(&share.backend);
        let mut opened = as_user(&token, || backend.open(&path, &how)).map_err(Refusal::Status)?;
        // MAXIMUM_ALLOWED: write access when the user has it, else read only.
        if matches!(opened, Err(NtStatus::ACCESS_DENIED))
            && req.desired_access & access::MAXIMUM_ALLOWED != 0
            && how.write
            && !requested.truncates()
        {
            how.write = false;
            opened = as_user(&token, || backend.open(&path, &how)).map_err(Refusal::Status)?;
        }
        let (handle, mut action) = opened.map_err(Refusal::Status)?;
        let stat_now = || {
            as_user(&token, || handle.stat())
                .and_then(|r| r)
                .map_err(Refusal::Status)
        };
        let mut stat = stat_now()?;
        let granted = map_generic(req.desired_access, how.write);
        let key = (stat.device, stat.file_index);
        let table = OpenFiles::global();
        // Truncating writes the data, whatever access was asked for (MS-FSA 2.1.5.1.2).
        let for_sharing = if requested.truncates() {
            granted | access::WRITE_DATA
        } else {
            granted
        };
        let now = Instant::now();
        // Durable opens other clients left behind give way to an open that would break
        // their caching (`durable`); the file may have gone with them (delete on
        // close), so the open starts again, when one of them was this file's (`take`
        // also hands back other files' expired ones, which change nothing here). Not for
        // a file this open has just created: opens under its key are of an earlier file
        // whose inode number it reuses, and starting again would meet the file this open
        // made (STATUS_OBJECT_NAME_COLLISION for a FILE_CREATE).
        if action != CreateAction::Created
            && (!super::oplock::oplock_stat_open(req.desired_access) || requested.truncates())
        {
            let purged = durable::take(Some(key), now);
            let this_file = purged.iter().any(|open| open.key == key);
            for open in purged {
                tracing::debug!(file = %open.path.as_str(), "a durable open gives way to a new open");
                Self::finish(open);
            }
            if this_file {
                drop(handle);
                return self.create_file(header, req, share);
            }
        }
        for expired in durable::take(None, now) {
            Self::finish(expired);
        }
        let volatile = self.id();
        let persistent = durable::new_persistent_id();
        let file_id = FileId {
            persistent,
            volatile,
        };
        let wanted = self.wanted(req)?;
        let holder = Holder {
            notify: self.events.clone(),
            session_id: header.session_id,
            file_id,
            client: self.client.as_ref().map(|c| c.guid).unwrap_or_default(),
        };
        let opening = Opening {
            // Truncating writes the data: no "stat open" however little it asked.
            access: if requested.truncates() {
                req.desired_access | access::WRITE_DATA
            } else {
                req.desired_access
            },
            truncates: requested.truncates(),
            directory: stat.directory,
            created: action == CreateAction::Created,
            deletes: req.create_options & FILE_DELETE_ON_CLOSE != 0,
            // A retry after a wait is in the async form.
            first_attempt: !header.flags.contains(HeaderFlags::ASYNC_COMMAND),
            wanted: &wanted,
            holder: &holder,
        };
        let (table_id, cached) = match table.open(key, for_sharing, req.share_access, &opening, now)
        {
            Ok(Admission::Admitted(id, granted)) => (id, granted),
            Ok(Admission::Wait(deadline)) => return Ok(Created::Wait(deadline, key)),
            // Refused (a lease key of another file, a sharing violation): a file this
            // CREATE made goes again.
            Err(status) => {
                if action == CreateAction::Created {
                    drop(handle);
                    let _ = as_user(&token, || share.backend.remove(&path, stat.directory));
                }
                return Err(Refusal::Status(status));
            }
        };
        // A CREATE refused from here on leaves no open, and no file it made, behind.
        let abandon = |handle, created: bool, directory: bool| {
            table.close(key, table_id);
            if created {
                drop(handle);
                let _ = as_user(&token, || share.backend.remove(&path, directory));
            }
        };
        // MS-SMB2 3.3.5.9: delete-on-close needs DELETE access, and a read-only file
        // cannot be deleted (MS-FSA 2.1.5.1.2.1: nor created read-only to be deleted).
        let delete_on_close = req.create_options & FILE_DELETE_ON_CLOSE != 0;
        if delete_on_close {
            let refusal = if granted & access::DELETE == 0 {
                Some(NtStatus::ACCESS_DENIED)
            } else if stat.read_only {
                Some(NtStatus::CANNOT_DELETE)
            } else {
                None
            };
            if let Some(status) = refusal {
                abandon(handle, action == CreateAction::Created, stat.directory);
                return Err(Refusal::Status(status));
            }
        }
        if requested.truncates() && action == CreateAction::Opened {
            if let Err(e) = as_user(&token, || handle.set_len(0)).and_then(|r| r) {
                table.close(key, table_id);
                return Err(Refusal::Status(e));
            }
            action = if requested == Disposition::Supersede {
                CreateAction::Superseded
            } else {
                CreateAction::Overwritten
            };
            stat = stat_now()?;
        }
        // MS-SMB2 2.2.13.2.1: a new file's security descriptor (its DACL, as permission
        // bits; `security`).
        if action == CreateAction::Created
            && let Some(sd) = asked
                .descriptor
                .as_ref()
                .filter(|sd| sd.dacl.is_some() || sd.null_dacl())
        {
            let owners = super::security::Owners::of(&stat, self.config.tokens.as_deref());
            let mode = super::security::mode_from(sd, &owners, stat.mode);
            if mode != stat.mode
                && let Err(e) = as_user(&token, || handle.set_mode(mode)).and_then(|r| r)
            {
                tracing::info!(file = %path.as_str(), status = %e, "a new file's security descriptor not applied");
            }
            stat = stat_now()?;
        }
        // MS-SMB2 3.3.5.9 / MS-FSA 2.1.5.1: a new or overwritten file's AllocationSize
        // is reserved.
        if action != CreateAction::Opened
            && !stat.directory
            && let Some(size) = asked.allocation
        {
            if let Err(e) = as_user(&token, || handle.reserve(size)).and_then(|r| r) {
                abandon(handle, action == CreateAction::Created, false);
                return Err(Refusal::Status(e));
            }
            stat = stat_now()?;
        }
        let directory = stat.directory;
        notify::changed(&share, &path, Change::Opened { action, directory });
        // MS-SMB2 3.3.5.9.6 / 3.3.5.9.10: durable when asked and the open caches its
        // handle (a batch oplock, or a lease with handle caching).
        let caches_handle = cached.level == OPLOCK_BATCH
            || cached.lease.is_some_and(|l| l.state & LEASE_HANDLE != 0);
        let durable = durable::asked_timeout(&ask, self.dialect)
            .filter(|_| caches_handle)
            .map(|(timeout, create_guid)| Durability {
                timeout,
                create_guid,
                client: holder.client,
                lease: cached.lease.map(|l| l.key),
            });
        let open = FileOpen {
            tree_id: header.tree_id,
            share,
            path,
            handle,
            directory: stat.directory,
            access: granted,
            delete_on_close,
            token,
            listing: None,
            position: 0,
            key,
            table_id,
            watch: None,
            persistent,
            durable,
            lock_sequences: Vec::new(),
        };
        let durable_grant = open.durable.clone();
        let response_token = Arc::clone(&open.token);
        let read_only_share = open.share.read_only;
        table.name(key, super::query::table_name(&open, &open.path));
        tracing::debug!(file = %open.path.as_str(), ?action, "opened");
        self.tree(header)?.opens.insert(volatile, Open::File(open));
        self.chain_file = Some(Ok(file_id));
        let Granted { level, lease } = cached;
        let mut granted_contexts = Vec::new();
        if let Some(lease) = lease {
            granted_contexts.push(CreateContext {
                name: CONTEXT_LEASE.to_vec(),
                data: lease.to_bytes(),
            });
        }
        if let Some(durable) = &durable_grant {
            granted_contexts.push(durable::grant_context(durable));
            durable::attach(persistent, header.session_id, &self.events, key);
        }
        granted_contexts.extend(asked.responses(&stat, &response_token, read_only_share));
        let contexts = if granted_contexts.is_empty() {
            Vec::new()
        } else {
            CreateContext::encode_chain(&granted_contexts)
        };
        Ok(Created::Reply(
            self.created(header, &stat, level, action, file_id, contexts),
        ))
    }

    /// A CREATE's successful response: the file as `stat` shows it, what it caches
    /// (`oplock_level`), what the CREATE did, its id and the response contexts.
    pub(super) fn created(
        &self,
        header: &Header,
        stat: &Stat,
        oplock_level: u8,
        action: CreateAction,
        file_id: FileId,
        contexts: Vec<u8>,
    ) -> Vec<u8> {
        let resp = CreateResponse {
            oplock_level,
            create_action: action as u32,
            times: times(stat),
            file_attributes: attributes(stat),
            file_id,
            contexts,
            ..CreateResponse::default()
        };
        self.reply(header, &resp, NtStatus::SUCCESS)
    }

    /// MS-SMB2 3.3.5.10: the attributes after the close when asked (POSTQUERY_ATTRIB);
    /// a file marked delete-on-close goes now.
    pub(super) fn close_file(
        &mut self,
        _header: &Header,
        open: FileOpen,
        flags: u16,
    ) -> Result<CloseResponse, Refusal> {
        let mut resp = CloseResponse::default();
        // MS-SMB2 3.3.5.10 (as Windows and smbd): a CHANGE_NOTIFY waiting on the open
        // ends with STATUS_NOTIFY_CLEANUP, a LOCK waiting to lock for it with
        // STATUS_RANGE_NOT_LOCKED.
        let (watch, owner) = (open.watch, open.table_id);
        self.cleanup_waiting(|p| {
            watch.is_some() && p.notify_watch() == watch || p.lock_owner() == Some(owner)
        });
        if flags & 1 != 0
            && let Ok(stat) = open.as_user(|h| h.stat())
        {
            resp.flags = 1;
            resp.times = times(&stat);
            resp.file_attributes = attributes(&stat);
        }
        Self::finish(open);
        Ok(resp)
    }

    /// Drops an open: its locks go, and when it was the file's last open and the file is
    /// marked for deletion (by this open's FILE_DELETE_ON_CLOSE or a disposition set on
    /// any open), the file goes too.
    pub(super) fn finish(open: FileOpen) {
        if open.durable.is_some() {
            durable::forget(open.persistent);
        }
        if let Some(watch) = open.watch {
            notify::unwatch(watch);
        }
        let table = OpenFiles::global();
        if open.delete_on_close {
            open.set_delete_pending(true);
        }
        let deleter = table.close(open.key, open.table_id);
        let FileOpen {
            handle,
            share,
            path,
            directory,
            ..
        } = open;
        drop(handle);
        let Some(token) = deleter else {
            return;
        };
        let removed = as_user(&token, || share.backend.remove(&path, directory));
        match removed {
            Err(e) | Ok(Err(e)) => {
                tracing::info!(file = %path.as_str(), status = %e, "delete on close failed");
            }
            Ok(Ok(())) => notify::changed(&share, &path, Change::Removed { directory }),
        }
    }

    /// Closes every open of `session` (LOGOFF, a dropped connection, a newer session
    /// replacing it); durable ones are kept for a reconnect (`durable`).
    pub(super) fn release(session: Session) {
        let now = Instant::now();
        for (_, open) in session.opens {
            if let Open::File(file) = open {
                let kept = if file.durable.is_some() {
                    durable::park(file, now)
                } else {
                    Err(Box::new(file))
                };
                if let Err(file) = kept {
                    Self::finish(*file);
                }
            }
        }
    }

    /// Closes the opens of one tree (TREE_DISCONNECT).
    pub(super) fn close_tree(&mut self, session_id: u64, tree_id: u32) {
        let Some(session) = self.sessions.get_mut(&session_id) else {
            return;
        };
        session.trees.remove(&tree_id);
        let ids: Vec<u64> = session
            .opens
            .iter()
            .filter(|(_, o)| o.tree_id() == tree_id)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(Open::File(file)) = session.opens.remove(&id) {
                Self::finish(file);
            }
        }
    }

    /// MS-SMB2 3.3.5.12.
    pub(super) fn read_file(
        &mut self,
        header: &Header,
        req: &ReadRequest,
    ) -> Result<Vec<u8>, Refusal> {
        // Capped at the MaxReadSize this connection announced.
        let max = self.max_io();
        let reply_header = self.response_header(header, NtStatus::SUCCESS);
        let open = self.file(header, req.file_id)?;
        if open.directory {
            return Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST));
        }
        let len = req.length.min(max) as usize;
        OpenFiles::global()
            .check_io(open.key, open.table_id, req.offset, len as u64, false)
            .map_err(Refusal::Status)?;
        // The response is built around the data: the backend reads straight into it.
        let empty = ReadResponse {
            data_remaining: 0,
            data: Vec::new(),
        };
        let mut msg = empty.to_message(&reply_header);
        let got = open.as_user(|h| h.read_into(req.offset, len, &mut msg))?;
        // MS-SMB2 3.3.5.12: fewer bytes than MinimumCount (nothing, at or past the end)
        // is STATUS_END_OF_FILE.
        if got < req.minimum_count as usize || (got == 0 && len > 0) {
            return Err(Refusal::Status(NtStatus::END_OF_FILE));
        }
        // MS-FSA 2.1.5.2: the open's byte offset moves past what was read.
        open.position = req.offset.saturating_add(got as u64);
        ReadResponse::set_data_length(&mut msg, got);
        Ok(self.protect_data(&reply_header, msg))
    }

    /// MS-SMB2 3.3.5.13: `req` with its `data` (read in place from the message).
    pub(super) fn write_file(
        &mut self,
        header: &Header,
        req: &WriteRequest,
        data: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let open = self.file(header, req.file_id)?;
        if open.directory {
            return Err(Refusal::Status(NtStatus::INVALID_DEVICE_REQUEST));
        }
        if open.share.read_only {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        OpenFiles::global()
            .check_io(open.key, open.table_id, req.offset, data.len() as u64, true)
            .map_err(Refusal::Status)?;
        let written = open.as_user(|h| h.write(req.offset, data))?;
        OpenFiles::global().break_for_write(open.key, open.table_id);
        let filter = CompletionFilter::SIZE | CompletionFilter::LAST_WRITE;
        notify::changed(&open.share, &open.path, Change::Modified(filter));
        // MS-FSA 2.1.5.3: and past what was written.
        open.position = req.offset.saturating_add(written as u64);
        let count = u32::try_from(written).unwrap_or(u32::MAX);
        Ok(self.reply(header, &WriteResponse { count }, NtStatus::SUCCESS))
    }

    /// MS-SMB2 3.3.5.11.
    pub(super) fn flush(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = FlushRequest::from_message(msg)?;
        let open = self.file(header, req.file_id)?;
        if !open.directory {
            open.as_user(|h| h.flush())?;
        }
        Ok(self.reply(header, &FlushResponse, NtStatus::SUCCESS))
    }

    /// MS-SMB2 3.3.5.14 LOCK: every element a lock, or (when the first element unlocks)
    /// every element an unlock. Locks are taken all or none. A range held by another open
    /// is refused at once (STATUS_LOCK_NOT_GRANTED) when the client asked to fail
    /// immediately; otherwise the request waits (an interim STATUS_PENDING) until the
    /// conflicting lock goes, its open closes (STATUS_RANGE_NOT_LOCKED) or the client
    /// cancels it (STATUS_CANCELLED).
    pub(super) fn lock(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = LockRequest::from_message(msg)?;
        match self.lock_now(header, &req)? {
            Locked::Reply(reply) => Ok(reply),
            Locked::Wait { key, owner } => self.go_async(
                header,
                Waiting::Lock {
                    req: Box::new(req),
                    key,
                    owner,
                },
                Instant::now() + LOCK_RETRY,
            ),
        }
    }

    /// The LOCK request `req` tried now: answered, or to wait for a lock of the file to
    /// go (the connection is then woken by the unlock or close).
    pub(super) fn lock_now(
        &mut self,
        header: &Header,
        req: &LockRequest,
    ) -> Result<Locked, Refusal> {
        let events = self.events.clone();
        let open = self.file(header, req.file_id)?;
        let Some(first) = req.locks.first() else {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        };
        // MS-SMB2 3.3.5.14: on a durable open, a LockSequenceIndex of 1 to 64 whose
        // bucket holds this LockSequenceNumber is a replay: answered, not done again.
        // Any other request of the bucket empties it until it succeeds.
        let bucket = (open.durable.is_some())
            .then(|| u8::try_from(req.lock_sequence_index()).ok())
            .flatten()
            .filter(|b| (1..=64).contains(b))
            .map(|b| (b, req.lock_sequence_number()));
        if let Some((bucket, number)) = bucket {
            if open.lock_sequences.contains(&(bucket, number)) {
                return Ok(Locked::Reply(self.reply(
                    header,
                    &LockResponse,
                    NtStatus::SUCCESS,
                )));
            }
            open.lock_sequences.retain(|(b, _)| *b != bucket);
        }
        // MS-FSA 2.1.5.8: byte-range locks are not permitted on directories.
        if open.directory {
            return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
        }
        let table = OpenFiles::global();
        if first.flags.contains(LockFlags::UNLOCK) {
            // MS-SMB2 3.3.5.14.1: element by element; the first failure stops the rest
            // and the unlocks done before it stay done.
            for element in &req.locks {
                if element.flags != LockFlags::UNLOCK {
                    return Err(Refusal::Status(NtStatus::INVALID_PARAMETER));
                }
                let range = LockRange {
                    offset: element.offset,
                    length: element.length,
                    exclusive: false,
                };
                table
                    .unlock(open.key, open.table_id, &range)
                    .map_err(Refusal::Status)?;
            }
        } else {
            let (ranges, may_wait) = lock_ranges(&req.locks).map_err(Refusal::Status)?;
            // MS-SMB2 3.3.5.14.2: a request that may wait is kept until the conflicting
            // lock goes; the table remembers to wake this connection in the same step
            // that finds the conflict, so no unlock slips between.
            let waiter = may_wait.then_some(&events);
            match table.lock(open.key, open.table_id, &ranges, waiter) {
                Ok(()) => {}
                Err(NtStatus::LOCK_NOT_GRANTED) if may_wait => {
                    return Ok(Locked::Wait {
                        key: open.key,
                        owner: open.table_id,
                    });
                }
                Err(status) => return Err(Refusal::Status(status)),
            }
            // MS-FSA 2.1.5.7: a byte-range lock breaks the other opens' read caching.
            table.break_for_write(open.key, open.table_id);
        }
        if let Some(done) = bucket {
            open.lock_sequences.push(done);
        }
        Ok(Locked::Reply(self.reply(
            header,
            &LockResponse,
            NtStatus::SUCCESS,
        )))
    }
}

/// A waiting LOCK is tried again this often even when nothing woke it (a wake-up lost
/// to a full event queue, or a file with more waiters than it remembers).
pub(super) const LOCK_RETRY: Duration = Duration::from_secs(1);

/// What [`ServerConnection::lock_now`] came to.
pub(super) enum Locked {
    /// The answer.
    Reply(Vec<u8>),
    /// The ranges are held by another open: wait for file `key`'s locks to change.
    Wait { key: FileKey, owner: u64 },
}

/// MS-SMB2 3.3.5.14.2: the ranges of a lock request, and whether it may wait for them.
/// Each element is a shared or exclusive lock, with or without FAIL_IMMEDIATELY (no
/// UNLOCK, no other bit); of several elements each must fail immediately.
fn lock_ranges(elements: &[LockElement]) -> Result<(Vec<LockRange>, bool), NtStatus> {
    let mut may_wait = false;
    let mut ranges = Vec::with_capacity(elements.len());
    for element in elements {
        let kind = element.flags - LockFlags::FAIL_IMMEDIATELY;
        let exclusive = match kind {
            k if k == LockFlags::SHARED_LOCK => false,
            k if k == LockFlags::EXCLUSIVE_LOCK => true,
            _ => return Err(NtStatus::INVALID_PARAMETER),
        };
        if !element.flags.contains(LockFlags::FAIL_IMMEDIATELY) {
            if elements.len() > 1 {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            may_wait = true;
        }
        ranges.push(LockRange {
            offset: element.offset,
            length: element.length,
            exclusive,
        });
    }
    Ok((ranges, may_wait))
}
