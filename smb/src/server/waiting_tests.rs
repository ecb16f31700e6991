//! Requests that wait, driven message by message: two connections on one in-memory share.
//! CHANGE_NOTIFY: the interim response, the answer when the other connection changes the
//! directory, CANCEL, CLOSE/TREE_DISCONNECT/LOGOFF (STATUS_NOTIFY_CLEANUP) and the
//! buffer's bounds (STATUS_NOTIFY_ENUM_DIR). LOCK without FAIL_IMMEDIATELY: granted when
//! the conflicting lock goes, CANCEL, and its open closing under it
//! (STATUS_RANGE_NOT_LOCKED).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;
use tokio::sync::mpsc::Receiver;

use super::backend::memory::MemoryBackend;
use super::notify::MAX_CHANGES;
use super::oplock::Event;
use super::pending::MAX_PENDING;
use super::share::{DiskShare, Shares};
use super::testing::{alice as token, test_config};
use super::{ServerConfig, ServerConnection, Step};
use crate::proto::info::{
    FileBasicInformation, FileInfoClass, FileNotifyInformation, FileRenameInformation, Information,
    NotifyAction,
};
use crate::proto::{
    Body, ChangeNotifyFlags, ChangeNotifyRequest, ChangeNotifyResponse, CloseRequest, Command,
    CompletionFilter, CreateRequest, CreateResponse, Dialect, FileId, Header, HeaderFlags,
    InfoType, LockElement, LockFlags, LockRequest, LogoffRequest, SetInfoRequest,
    TreeConnectRequest, TreeDisconnectRequest, WriteRequest,
};

const READ_WRITE: u32 = 0x0000_0003 | 0x0001_0000 | 0x0000_0080;
const READ_ATTRIBUTES: u32 = 0x0000_0080;
const LIST_DIRECTORY: u32 = 0x0000_0001 | READ_ATTRIBUTES;
const SHARE_ALL: u32 = 7;
const CREATE: u32 = 2;
const OPEN_IF: u32 = 3;
const DIRECTORY: u32 = 0x1;
const DELETE_ON_CLOSE: u32 = 0x1000;

/// A share `mem` over a fresh memory backend, at a local path no other test uses (the
/// watch table is the process's).
fn config() -> Arc<ServerConfig> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    test_config(Shares::new(vec![DiskShare {
        name: "mem".into(),
        comment: String::new(),
        path: format!("/notify-tests/{n}"),
        read_only: false,
        allowed_gids: None,
        encrypt: false,
        backend: Arc::new(MemoryBackend::new()),
    }]))
}

struct Client {
    conn: ServerConnection,
    events: Receiver<Event>,
    next: u64,
    tree: u32,
}

impl Client {
    fn new(config: &Arc<ServerConfig>) -> Self {
        let mut conn =
            ServerConnection::logged_on_for_tests(Arc::clone(config), Dialect::SMB311, token());
        let events = conn.take_events().unwrap();
        let mut client = Self {
            conn,
            events,
            next: 0,
            tree: 0,
        };
        let tree_connect = TreeConnectRequest {
            flags: 0,
            path: r"\\files\mem".into(),
        };
        let (header, _) = client.send(&tree_connect);
        assert_eq!(header.status, NtStatus::SUCCESS);
        client.tree = header.tree_id;
        client
    }

    fn send<B: Body>(&mut self, body: &B) -> (Header, Vec<u8>) {
        self.next += 1;
        let flags = HeaderFlags::empty();
        self.conn.exchange(self.next - 1, self.tree, flags, body)
    }

    fn create_as(&mut self, name: &str, access: u32, disposition: u32, options: u32) -> FileId {
        let req = CreateRequest {
            desired_access: access,
            share_access: SHARE_ALL,
            create_disposition: disposition,
            create_options: options,
            name: name.into(),
            ..CreateRequest::default()
        };
        let (header, reply) = self.send(&req);
        assert_eq!(header.status, NtStatus::SUCCESS, "create {name}");
        CreateResponse::from_message(&reply).unwrap().1.file_id
    }

    /// Opens (or creates) `name`; a directory without DELETE access, so renames into it
    /// are not refused.
    fn create(&mut self, name: &str, options: u32) -> FileId {
        let access = if options & DIRECTORY != 0 {
            LIST_DIRECTORY
        } else {
            READ_WRITE
        };
        self.create_as(name, access, OPEN_IF, options)
    }

    /// Creates `name` and closes it.
    fn touch(&mut self, name: &str) {
        let file = self.create_as(name, READ_WRITE, CREATE, 0);
        self.close(file);
    }

    fn close(&mut self, file_id: FileId) -> NtStatus {
        self.send(&CloseRequest { flags: 0, file_id }).0.status
    }

    fn notify(&mut self, dir: FileId, filter: CompletionFilter, tree: bool, len: u32) -> Header {
        let req = ChangeNotifyRequest {
            flags: if tree {
                ChangeNotifyFlags::WATCH_TREE
            } else {
                ChangeNotifyFlags::empty()
            },
            output_buffer_length: len,
            file_id: dir,
            completion_filter: filter,
        };
        self.send(&req).0
    }

    /// Sends a CHANGE_NOTIFY that must go async; its interim header.
    fn notify_pending(&mut self, dir: FileId, filter: CompletionFilter, tree: bool) -> Header {
        let interim = self.notify(dir, filter, tree, 4096);
        assert_eq!(interim.status, NtStatus::PENDING);
        assert!(interim.flags.contains(HeaderFlags::ASYNC_COMMAND));
        assert_ne!(interim.async_id, 0);
        interim
    }

    /// The messages this connection's queued events produce.
    fn drain_events(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            out.extend(self.conn.on_event(event).into_iter().map(|o| o.message));
        }
        out
    }

    fn cancel(&mut self, async_id: u64) {
        let header = Header {
            flags: HeaderFlags::ASYNC_COMMAND,
            async_id,
            session_id: 1,
            ..Header::request(Command::CANCEL)
        };
        let mut msg = Vec::new();
        header.encode(&mut msg);
        msg.extend_from_slice(&[4, 0, 0, 0]);
        assert!(matches!(self.conn.handle(&msg).unwrap(), Step::Reply(None)));
    }
}

/// The changes a final CHANGE_NOTIFY response carries, after checking it answers
/// `interim`.
fn changes(interim: &Header, msg: &[u8]) -> Vec<(NotifyAction, String)> {
    let (header, resp) = ChangeNotifyResponse::from_message(msg).unwrap();
    assert_eq!(header.status, NtStatus::SUCCESS);
    assert_eq!(header.async_id, interim.async_id);
    assert_eq!(header.message_id, interim.message_id);
    FileNotifyInformation::decode_chain(&resp.output)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.name))
        .collect()
}

fn status_of(msg: &[u8]) -> NtStatus {
    Header::from_message(msg).unwrap().status
}

#[test]
fn a_change_by_another_connection_answers_the_waiting_request() {
    let config = config();
    let (mut a, mut b) = (Client::new(&config), Client::new(&config));
    let dir = a.create("w", DIRECTORY);
    let interim = a.notify_pending(dir, CompletionFilter::FILE_NAME, false);
    assert!(a.drain_events().is_empty());
    // A change the filter does not ask for, and one in another directory, wake nothing.
    b.create("w\\sub", DIRECTORY);
    b.touch("elsewhere.txt");
    assert!(a.drain_events().is_empty());
    b.touch("w\\new.txt");
    let out = a.drain_events();
    assert_eq!(out.len(), 1);
    assert_eq!(
        changes(&interim, &out[0]),
        [(NotifyAction::ADDED, "new.txt".into())]
    );
    // Later changes wait in the open's buffer for the next request, answered at once.
    let file = b.create("w\\new.txt", 0);
    let write = WriteRequest {
        offset: 0,
        file_id: file,
        flags: 0,
        data: b"abc".to_vec(),
    };
    assert_eq!(b.send(&write).0.status, NtStatus::SUCCESS);
    let set = SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::RENAME.value(),
        file_id: file,
        buffer: FileRenameInformation {
            replace_if_exists: false,
            root_directory: 0,
            file_name: "w\\renamed.txt".into(),
        }
        .to_bytes(),
        ..SetInfoRequest::default()
    };
    assert_eq!(b.send(&set).0.status, NtStatus::SUCCESS);
    b.close(file);
    let del = b.create_as("w\\renamed.txt", READ_WRITE, OPEN_IF, DELETE_ON_CLOSE);
    b.close(del);
    let (header, reply) = a.send(&ChangeNotifyRequest {
        flags: ChangeNotifyFlags::empty(),
        output_buffer_length: 4096,
        file_id: dir,
        completion_filter: CompletionFilter::FILE_NAME,
    });
    assert!(!header.flags.contains(HeaderFlags::ASYNC_COMMAND));
    assert_eq!(
        changes(&header, &reply),
        [
            (NotifyAction::RENAMED_OLD_NAME, "new.txt".into()),
            (NotifyAction::RENAMED_NEW_NAME, "renamed.txt".into()),
            (NotifyAction::REMOVED, "renamed.txt".into()),
        ]
    );
}

#[test]
fn a_tree_watch_sees_below_with_relative_names_and_its_filter() {
    let config = config();
    let (mut a, mut b) = (Client::new(&config), Client::new(&config));
    let root = a.create("", DIRECTORY);
    let all = CompletionFilter::all();
    let interim = a.notify_pending(root, all, true);
    b.create("d", DIRECTORY);
    assert_eq!(
        changes(&interim, &a.drain_events()[0]),
        [(NotifyAction::ADDED, "d".into())]
    );
    let interim = a.notify_pending(root, all, true);
    b.create("d\\e", DIRECTORY);
    assert_eq!(
        changes(&interim, &a.drain_events()[0]),
        [(NotifyAction::ADDED, r"d\e".into())]
    );
    // Setting attributes is MODIFIED for an ATTRIBUTES watch (another open: the first
    // request's filter stays the open's).
    let root2 = a.create("", DIRECTORY);
    let interim = a.notify_pending(root2, CompletionFilter::ATTRIBUTES, true);
    let file = b.create("d\\e\\f.txt", 0);
    assert!(a.drain_events().is_empty());
    let hidden = FileBasicInformation {
        file_attributes: 0x2,
        ..FileBasicInformation::default()
    };
    let set = SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::BASIC.value(),
        file_id: file,
        buffer: hidden.to_bytes(),
        ..SetInfoRequest::default()
    };
    assert_eq!(b.send(&set).0.status, NtStatus::SUCCESS);
    assert_eq!(
        changes(&interim, &a.drain_events()[0]),
        [(NotifyAction::MODIFIED, r"d\e\f.txt".into())]
    );
    // A watch without WATCH_TREE does not see below.
    let d = a.create("d", DIRECTORY);
    a.notify_pending(d, all, false);
    b.touch("d\\e\\deep.txt");
    assert!(a.drain_events().is_empty());
}

#[test]
fn only_an_open_directory_with_list_access_is_watched_within_the_transact_size() {
    let config = config();
    let mut a = Client::new(&config);
    let file = a.create("f.txt", 0);
    let dir = a.create("d", DIRECTORY);
    let stat_only = a.create_as("d", READ_ATTRIBUTES, OPEN_IF, DIRECTORY);
    let filter = CompletionFilter::FILE_NAME;
    let max = 8 * 1024 * 1024;
    assert_eq!(
        a.notify(file, filter, false, 100).status,
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(
        a.notify(stat_only, filter, false, 100).status,
        NtStatus::ACCESS_DENIED
    );
    assert_eq!(
        a.notify(dir, filter, false, max + 1).status,
        NtStatus::INVALID_PARAMETER
    );
    let closed = FileId {
        persistent: 999,
        volatile: 999,
    };
    assert_eq!(
        a.notify(closed, filter, false, 100).status,
        NtStatus::FILE_CLOSED
    );
    assert_eq!(a.notify(dir, filter, false, max).status, NtStatus::PENDING);
}

#[test]
fn cancel_answers_cancelled_and_the_open_still_watches() {
    let config = config();
    let (mut a, mut b) = (Client::new(&config), Client::new(&config));
    let dir = a.create("w", DIRECTORY);
    let interim = a.notify_pending(dir, CompletionFilter::FILE_NAME, false);
    a.cancel(interim.async_id);
    let ready = a.conn.take_ready();
    assert_eq!(ready.len(), 1);
    let header = Header::from_message(&ready[0].message).unwrap();
    assert_eq!(header.status, NtStatus::CANCELLED);
    assert_eq!(header.async_id, interim.async_id);
    assert!(a.conn.waiting.is_empty());
    // The change goes to the buffer; nothing waits to answer it.
    b.touch("w\\x");
    assert!(a.drain_events().is_empty());
    let (header, reply) = a.send(&ChangeNotifyRequest {
        flags: ChangeNotifyFlags::empty(),
        output_buffer_length: 4096,
        file_id: dir,
        completion_filter: CompletionFilter::FILE_NAME,
    });
    assert_eq!(
        changes(&header, &reply),
        [(NotifyAction::ADDED, "x".into())]
    );
}

#[test]
fn close_tree_disconnect_and_logoff_answer_notify_cleanup_first() {
    let config = config();
    let mut a = Client::new(&config);
    let filter = CompletionFilter::FILE_NAME;
    let dir = a.create("w", DIRECTORY);
    let interim = a.notify_pending(dir, filter, true);
    assert_eq!(a.close(dir), NtStatus::SUCCESS);
    let before = a.conn.take_before_reply();
    assert_eq!(before.len(), 1);
    let header = Header::from_message(&before[0]).unwrap();
    assert_eq!(header.status, NtStatus::NOTIFY_CLEANUP);
    assert_eq!(header.async_id, interim.async_id);
    assert!(!a.conn.busy());

    let dir = a.create("w", DIRECTORY);
    a.notify_pending(dir, filter, true);
    let (header, _) = a.send(&TreeDisconnectRequest);
    assert_eq!(header.status, NtStatus::SUCCESS);
    let before = a.conn.take_before_reply();
    assert_eq!(before.len(), 1);
    assert_eq!(status_of(&before[0]), NtStatus::NOTIFY_CLEANUP);

    let mut b = Client::new(&config);
    let dir = b.create("w", DIRECTORY);
    b.notify_pending(dir, filter, true);
    let (header, _) = b.send(&LogoffRequest);
    assert_eq!(header.status, NtStatus::SUCCESS);
    let before = b.conn.take_before_reply();
    assert_eq!(before.len(), 1);
    assert_eq!(status_of(&before[0]), NtStatus::NOTIFY_CLEANUP);
    assert!(!b.conn.busy());
}

#[test]
fn an_overflowing_buffer_or_a_short_output_buffer_is_notify_enum_dir() {
    let config = config();
    let (mut a, mut b) = (Client::new(&config), Client::new(&config));
    let filter = CompletionFilter::FILE_NAME;
    let dir = a.create("w", DIRECTORY);
    let interim = a.notify_pending(dir, filter, false);
    b.touch("w\\first");
    changes(&interim, &a.drain_events()[0]);
    // More than MAX_CHANGES while no request waits: the buffer gives up.
    for i in 0..=MAX_CHANGES {
        b.touch(&format!("w\\{i}"));
    }
    let header = a.notify(dir, filter, false, 4096);
    assert_eq!(header.status, NtStatus::NOTIFY_ENUM_DIR);
    // Then it starts afresh.
    b.touch("w\\again");
    let (header, reply) = a.send(&ChangeNotifyRequest {
        flags: ChangeNotifyFlags::empty(),
        output_buffer_length: 4096,
        file_id: dir,
        completion_filter: filter,
    });
    assert_eq!(
        changes(&header, &reply),
        [(NotifyAction::ADDED, "again".into())]
    );
    // An answer that does not fit the request's OutputBufferLength is not sent.
    b.touch("w\\a-rather-long-name.txt");
    assert_eq!(
        a.notify(dir, filter, false, 16).status,
        NtStatus::NOTIFY_ENUM_DIR
    );
    // Nor beyond the first request's, which sized the buffer (smbd; smb2.notify.valid-req).
    let small = a.create("small", DIRECTORY);
    a.notify(small, filter, false, 1);
    b.touch("small\\x");
    assert_eq!(status_of(&a.drain_events()[0]), NtStatus::NOTIFY_ENUM_DIR);
    b.touch("small\\y");
    assert_eq!(
        a.notify(small, filter, false, 4096).status,
        NtStatus::NOTIFY_ENUM_DIR
    );
}

#[test]
fn waiting_requests_are_bounded_per_connection() {
    let config = config();
    let mut a = Client::new(&config);
    let dir = a.create("w", DIRECTORY);
    for _ in 0..MAX_PENDING {
        a.notify_pending(dir, CompletionFilter::FILE_NAME, false);
    }
    assert_eq!(
        a.notify(dir, CompletionFilter::FILE_NAME, false, 4096)
            .status,
        NtStatus::INSUFFICIENT_RESOURCES
    );
    // A change answers the oldest.
    let mut b = Client::new(&config);
    b.touch("w\\x");
    let out = a.drain_events();
    assert_eq!(out.len(), 1);
    let header = Header::from_message(&out[0]).unwrap();
    assert_eq!(header.async_id, 1);
}

#[test]
fn a_change_notify_in_the_middle_of_a_compound_is_an_internal_error() {
    let config = config();
    let mut a = Client::new(&config);
    let dir = a.create("mid", DIRECTORY);
    let file = a.create("mid-file", 0);
    // A CHANGE_NOTIFY on `file_id` followed by another request of the compound.
    let middle = |a: &mut Client, file_id| {
        let req = ChangeNotifyRequest {
            flags: ChangeNotifyFlags::empty(),
            output_buffer_length: 4096,
            file_id,
            completion_filter: CompletionFilter::FILE_NAME,
        };
        let header = Header {
            message_id: a.next,
            session_id: 1,
            tree_id: a.tree,
            credits: 8,
            credit_charge: 1,
            next_command: 96,
            ..Header::request(Command::CHANGE_NOTIFY)
        };
        a.next += 1;
        let Step::Reply(Some(reply)) = a.conn.handle(&req.to_message(&header)).unwrap() else {
            panic!("no reply");
        };
        status_of(&reply)
    };
    assert_eq!(middle(&mut a, dir), NtStatus::INTERNAL_ERROR);
    // Nothing waits: the connection holds the open only.
    assert!(a.conn.waiting.is_empty());
    // Its other checks come first (smb2.compound.related7/8).
    assert_eq!(middle(&mut a, file), NtStatus::INVALID_PARAMETER);
    // As the last (or only) request it waits as ever.
    let interim = a.notify_pending(dir, CompletionFilter::FILE_NAME, false);
    assert_eq!(interim.command, Command::CHANGE_NOTIFY);
}

impl Client {
    /// Sends a LOCK of one range (`offset`, `length`) on `file` with `flags`.
    fn lock(&mut self, file: FileId, offset: u64, length: u64, flags: LockFlags) -> Header {
        let req = LockRequest {
            lock_sequence: 0,
            file_id: file,
            locks: vec![LockElement {
                offset,
                length,
                flags,
            }],
        };
        self.send(&req).0
    }

    /// Sends a LOCK that must go async; its interim header.
    fn lock_pending(&mut self, file: FileId, offset: u64, length: u64) -> Header {
        let interim = self.lock(file, offset, length, LockFlags::EXCLUSIVE_LOCK);
        assert_eq!(interim.status, NtStatus::PENDING);
        assert!(interim.flags.contains(HeaderFlags::ASYNC_COMMAND));
        interim
    }
}

/// The one message in `out`, checked to answer `interim`; its status.
fn answer_to(interim: &Header, out: &[Vec<u8>]) -> NtStatus {
    assert_eq!(out.len(), 1, "one answer");
    let header = Header::from_message(&out[0]).unwrap();
    assert_eq!(header.async_id, interim.async_id);
    assert_eq!(header.message_id, interim.message_id);
    assert_eq!(header.command, Command::LOCK);
    header.status
}

#[test]
fn a_lock_that_may_wait_waits_for_the_unlock_or_the_close_and_is_then_granted() {
    let config = config();
    let (mut a, mut b) = (Client::new(&config), Client::new(&config));
    let held = a.create("l.txt", 0);
    let other = b.create("l.txt", 0);
    let (exclusive, now) = (LockFlags::EXCLUSIVE_LOCK, LockFlags::FAIL_IMMEDIATELY);
    assert_eq!(a.lock(held, 100, 10, exclusive).status, NtStatus::SUCCESS);
    // Asked to fail immediately: refused at once, nothing waits.
    assert_eq!(
        b.lock(other, 105, 1, exclusive | now).status,
        NtStatus::LOCK_NOT_GRANTED
    );
    assert!(b.conn.waiting.is_empty());
    // Otherwise it waits, and an unrelated unlock or lock does not answer it.
    let interim = b.lock_pending(other, 105, 1);
    assert_eq!(b.conn.waiting.len(), 1);
    assert_eq!(a.lock(held, 0, 10, exclusive).status, NtStatus::SUCCESS);
    assert_eq!(
        a.lock(held, 0, 10, LockFlags::UNLOCK).status,
        NtStatus::SUCCESS
    );
    assert!(b.drain_events().is_empty());
    // The unlock of the range answers it: granted, now held by b.
    assert_eq!(
        a.lock(held, 100, 10, LockFlags::UNLOCK).status,
        NtStatus::SUCCESS
    );
    assert_eq!(answer_to(&interim, &b.drain_events()), NtStatus::SUCCESS);
    assert!(b.conn.waiting.is_empty());
    assert_eq!(
        a.lock(held, 105, 1, exclusive | now).status,
        NtStatus::LOCK_NOT_GRANTED
    );
    // The other way round, on one connection (two opens, as smbtorture's lock.async):
    // the holder's close answers it.
    let mine = a.create("l.txt", 0);
    let interim = a.lock_pending(mine, 105, 1);
    assert_eq!(b.close(other), NtStatus::SUCCESS);
    assert_eq!(answer_to(&interim, &a.drain_events()), NtStatus::SUCCESS);
    assert_eq!(
        a.lock(mine, 105, 1, LockFlags::UNLOCK).status,
        NtStatus::SUCCESS
    );
}

#[test]
fn a_waiting_lock_is_cancelled_or_ends_with_its_open_tree_or_session() {
    let config = config();
    let (mut a, mut b) = (Client::new(&config), Client::new(&config));
    let held = a.create("c.txt", 0);
    assert_eq!(
        a.lock(held, 0, 10, LockFlags::EXCLUSIVE_LOCK).status,
        NtStatus::SUCCESS
    );
    // CANCEL: STATUS_CANCELLED.
    let other = b.create("c.txt", 0);
    let interim = b.lock_pending(other, 0, 10);
    b.cancel(interim.async_id);
    let ready: Vec<Vec<u8>> = b.conn.take_ready().into_iter().map(|o| o.message).collect();
    assert_eq!(answer_to(&interim, &ready), NtStatus::CANCELLED);
    // Its open closes: STATUS_RANGE_NOT_LOCKED, before the CLOSE's reply.
    let interim = b.lock_pending(other, 0, 10);
    assert_eq!(b.close(other), NtStatus::SUCCESS);
    let before = b.conn.take_before_reply();
    assert_eq!(answer_to(&interim, &before), NtStatus::RANGE_NOT_LOCKED);
    assert!(b.conn.waiting.is_empty());
    // Its tree, then its session, goes: the same.
    let other = b.create("c.txt", 0);
    let interim = b.lock_pending(other, 0, 10);
    assert_eq!(b.send(&TreeDisconnectRequest).0.status, NtStatus::SUCCESS);
    let before = b.conn.take_before_reply();
    assert_eq!(answer_to(&interim, &before), NtStatus::RANGE_NOT_LOCKED);
    let mut c = Client::new(&config);
    let other = c.create("c.txt", 0);
    let interim = c.lock_pending(other, 0, 10);
    assert_eq!(c.send(&LogoffRequest).0.status, NtStatus::SUCCESS);
    let before = c.conn.take_before_reply();
    assert_eq!(answer_to(&interim, &before), NtStatus::RANGE_NOT_LOCKED);
    assert!(c.conn.waiting.is_empty());
    // Nothing was left waiting: the holder's unlock wakes no one.
    assert_eq!(
        a.lock(held, 0, 10, LockFlags::UNLOCK).status,
        NtStatus::SUCCESS
    );
    assert!(b.drain_events().is_empty() && c.drain_events().is_empty());
}
