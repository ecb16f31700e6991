//! The file commands driven message by message against an in-memory share (no DC, no
//! disk): what each answers, share modes between two connections, related compounds, and
//! arbitrary requests in a logged-on state never panicking.

use std::sync::Arc;

use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;
use proptest::prelude::*;

use super::backend::memory::MemoryBackend;
use super::testing::{alice as token, memory_share, test_config};
use super::{ServerConfig, ServerConnection};
use crate::proto::info::{
    FileBasicInformation, FileInfoClass, FileRenameInformation, FileStandardInformation,
    Information, decode_directory,
};
use crate::proto::{
    Body, CloseRequest, Command, CreateRequest, CreateResponse, Dialect, FileId, Header,
    HeaderFlags, InfoType, LockElement, LockFlags, LockRequest, LogoffRequest, QueryDirectoryFlags,
    QueryDirectoryRequest, QueryDirectoryResponse, QueryInfoRequest, QueryInfoResponse,
    ReadRequest, ReadResponse, SetInfoRequest, TreeConnectRequest, TreeConnectResponse,
    WriteRequest,
};

const READ_WRITE: u32 = 0x0000_0003 | 0x0001_0000 | 0x0000_0080;
const SHARE_ALL: u32 = 7;

fn config(share: &MemoryBackend) -> Arc<ServerConfig> {
    test_config(memory_share(share))
}

/// A logged-on connection and the ids it sends next.
struct Client {
    conn: ServerConnection,
    next: u64,
    tree: u32,
}

impl Client {
    fn new(share: &MemoryBackend) -> Self {
        let conn = ServerConnection::logged_on_for_tests(config(share), Dialect::SMB311, token());
        let mut client = Self {
            conn,
            next: 0,
            tree: 0,
        };
        let tree_connect = TreeConnectRequest {
            flags: 0,
            path: r"\\files\mem".into(),
        };
        let (header, reply) = client.send(&tree_connect, HeaderFlags::empty());
        assert_eq!(header.status, NtStatus::SUCCESS);
        TreeConnectResponse::from_message(&reply).unwrap();
        client.tree = header.tree_id;
        client
    }

    fn send<B: Body>(&mut self, body: &B, flags: HeaderFlags) -> (Header, Vec<u8>) {
        self.next += 1;
        self.conn.exchange(self.next - 1, self.tree, flags, body)
    }

    fn status<B: Body>(&mut self, body: &B) -> NtStatus {
        self.send(body, HeaderFlags::empty()).0.status
    }

    fn create(
        &mut self,
        name: &str,
        disposition: u32,
        options: u32,
        share: u32,
    ) -> Result<FileId, NtStatus> {
        let req = CreateRequest {
            desired_access: READ_WRITE,
            share_access: share,
            create_disposition: disposition,
            create_options: options,
            name: name.into(),
            ..CreateRequest::default()
        };
        let (header, reply) = self.send(&req, HeaderFlags::empty());
        if header.status != NtStatus::SUCCESS {
            return Err(header.status);
        }
        Ok(CreateResponse::from_message(&reply).unwrap().1.file_id)
    }

    fn close(&mut self, file_id: FileId) -> NtStatus {
        self.status(&CloseRequest { flags: 0, file_id })
    }
}

const OPEN: u32 = 1;
const CREATE: u32 = 2;
const OPEN_IF: u32 = 3;
const OVERWRITE_IF: u32 = 5;
const DIRECTORY: u32 = 0x1;
const DELETE_ON_CLOSE: u32 = 0x1000;

#[test]
fn files_are_created_written_read_listed_renamed_and_deleted() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let dir = c.create("docs", CREATE, DIRECTORY, SHARE_ALL).unwrap();
    let file = c.create(r"docs\a.txt", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
    let write = WriteRequest {
        offset: 0,
        file_id: file,
        flags: 0,
        data: b"hello world".to_vec(),
    };
    assert_eq!(c.status(&write), NtStatus::SUCCESS);
    let read = ReadRequest {
        length: 5,
        offset: 6,
        file_id: file,
        ..ReadRequest::default()
    };
    let (_, reply) = c.send(&read, HeaderFlags::empty());
    assert_eq!(ReadResponse::from_message(&reply).unwrap().1.data, b"world");
    // Reading at the end is STATUS_END_OF_FILE.
    let past = ReadRequest { offset: 11, ..read };
    assert_eq!(c.status(&past), NtStatus::END_OF_FILE);

    let standard = QueryInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::STANDARD.value(),
        output_buffer_length: 1024,
        file_id: file,
        ..QueryInfoRequest::default()
    };
    let (_, reply) = c.send(&standard, HeaderFlags::empty());
    let info =
        FileStandardInformation::decode(&QueryInfoResponse::from_message(&reply).unwrap().1.output)
            .unwrap();
    assert_eq!((info.end_of_file, info.directory), (11, false));

    let list = QueryDirectoryRequest {
        file_information_class: FileInfoClass::ID_BOTH_DIRECTORY,
        flags: QueryDirectoryFlags::RESTART_SCANS,
        file_id: dir,
        output_buffer_length: 4096,
        file_name: "*".into(),
        ..QueryDirectoryRequest::default()
    };
    let (_, reply) = c.send(&list, HeaderFlags::empty());
    let output = QueryDirectoryResponse::from_message(&reply)
        .unwrap()
        .1
        .output;
    let names: Vec<String> = decode_directory(FileInfoClass::ID_BOTH_DIRECTORY, &output)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, [".", "..", "a.txt"]);
    // The listing goes on where it stopped: nothing is left.
    let more = QueryDirectoryRequest {
        flags: QueryDirectoryFlags::empty(),
        ..list.clone()
    };
    assert_eq!(c.status(&more), NtStatus::NO_MORE_FILES);
    // A pattern that matches nothing.
    let none = QueryDirectoryRequest {
        file_name: "*.pdf".into(),
        ..list
    };
    assert_eq!(c.status(&none), NtStatus::NO_SUCH_FILE);

    let rename = SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::RENAME.value(),
        file_id: file,
        buffer: FileRenameInformation {
            replace_if_exists: false,
            root_directory: 0,
            file_name: r"docs\b.txt".into(),
        }
        .to_bytes(),
        ..SetInfoRequest::default()
    };
    // Not while the directory is open with DELETE access (as Samba refuses it).
    assert_eq!(c.status(&rename), NtStatus::SHARING_VIOLATION);
    assert_eq!(c.close(dir), NtStatus::SUCCESS);
    assert_eq!(c.status(&rename), NtStatus::SUCCESS);
    assert_eq!(c.close(file), NtStatus::SUCCESS);
    assert_eq!(c.close(file), NtStatus::FILE_CLOSED);
    assert_eq!(share.contents("docs/b.txt").unwrap(), b"hello world");

    // Delete on close: gone at the close, and a directory with entries stays.
    let gone = c
        .create(r"docs\b.txt", OPEN, DELETE_ON_CLOSE, SHARE_ALL)
        .unwrap();
    assert_eq!(c.close(gone), NtStatus::SUCCESS);
    assert!(!share.exists("docs/b.txt"));
    assert_eq!(
        c.create("docs", CREATE, DIRECTORY, SHARE_ALL),
        Err(NtStatus::OBJECT_NAME_COLLISION)
    );
    assert_eq!(
        c.create(r"..\etc", OPEN, 0, SHARE_ALL),
        Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)
    );
    assert_eq!(
        c.create("a:stream", OPEN_IF, 0, SHARE_ALL),
        Err(NtStatus::OBJECT_NAME_INVALID)
    );
}

#[test]
fn a_listing_that_goes_on_after_a_removal_does_not_return_the_removed_name() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let dir = c.create("d", CREATE, DIRECTORY, SHARE_ALL).unwrap();
    for name in ["d\\one", "d\\two", "d\\three"] {
        let file = c.create(name, CREATE, 0, SHARE_ALL).unwrap();
        c.close(file);
    }
    let first = QueryDirectoryRequest {
        file_information_class: FileInfoClass::NAMES,
        flags: QueryDirectoryFlags::RESTART_SCANS | QueryDirectoryFlags::RETURN_SINGLE_ENTRY,
        file_id: dir,
        output_buffer_length: 4096,
        file_name: "*".into(),
        ..QueryDirectoryRequest::default()
    };
    assert_eq!(c.status(&first), NtStatus::SUCCESS);
    share.advance(1);
    let doomed = c
        .create("d\\two", OPEN, DELETE_ON_CLOSE, SHARE_ALL)
        .unwrap();
    c.close(doomed);
    let rest = QueryDirectoryRequest {
        flags: QueryDirectoryFlags::empty(),
        ..first
    };
    let (_, reply) = c.send(&rest, HeaderFlags::empty());
    let output = QueryDirectoryResponse::from_message(&reply)
        .unwrap()
        .1
        .output;
    let mut names: Vec<String> = decode_directory(FileInfoClass::NAMES, &output)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    assert_eq!(names, ["..", "one", "three"]);
}

#[test]
fn a_related_compound_reads_the_file_its_create_opened() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let file = c.create("r.txt", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
    let write = WriteRequest {
        offset: 0,
        file_id: file,
        flags: 0,
        data: b"related".to_vec(),
    };
    assert_eq!(c.status(&write), NtStatus::SUCCESS);
    c.close(file);
    // CREATE, then READ with the all-ones FileId marked related: the CREATE's file.
    let opened = c.create("r.txt", OPEN, 0, SHARE_ALL).unwrap();
    let read = ReadRequest {
        length: 100,
        file_id: FileId {
            persistent: u64::MAX,
            volatile: u64::MAX,
        },
        ..ReadRequest::default()
    };
    let (_, reply) = c.send(&read, HeaderFlags::RELATED_OPERATIONS);
    assert_eq!(
        ReadResponse::from_message(&reply).unwrap().1.data,
        b"related"
    );
    c.close(opened);
    // After a failed CREATE the related READ fails the same way.
    assert_eq!(
        c.create("missing", OPEN, 0, SHARE_ALL),
        Err(NtStatus::OBJECT_NAME_NOT_FOUND)
    );
    let (header, _) = c.send(&read, HeaderFlags::RELATED_OPERATIONS);
    assert_eq!(header.status, NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn share_modes_hold_between_connections() {
    let share = MemoryBackend::new();
    let (mut a, mut b) = (Client::new(&share), Client::new(&share));
    let held = a.create("s.txt", OVERWRITE_IF, 0, 0).unwrap();
    assert_eq!(
        b.create("s.txt", OPEN, 0, SHARE_ALL),
        Err(NtStatus::SHARING_VIOLATION)
    );
    a.close(held);
    let again = b.create("s.txt", OPEN, 0, SHARE_ALL).unwrap();
    b.close(again);
}

#[test]
fn a_signed_request_on_a_logged_off_session_is_told_the_session_is_gone() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let file = c.create("s.txt", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
    assert_eq!(c.status(&LogoffRequest), NtStatus::SUCCESS);
    // MS-SMB2 3.3.5.2.9: STATUS_USER_SESSION_DELETED, keeping the request's SIGNED flag
    // (no key is left to sign with, and a signing client takes no answer without it).
    let query = QueryInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::STANDARD.value(),
        output_buffer_length: 1024,
        file_id: file,
        ..QueryInfoRequest::default()
    };
    let (header, _) = c.send(&query, HeaderFlags::SIGNED);
    assert_eq!(header.status, NtStatus::USER_SESSION_DELETED);
    assert!(header.flags.contains(HeaderFlags::SIGNED));
    let (header, _) = c.send(&LogoffRequest, HeaderFlags::empty());
    assert_eq!(header.status, NtStatus::USER_SESSION_DELETED);
    assert!(!header.flags.contains(HeaderFlags::SIGNED));
}

#[test]
fn reads_and_writes_move_the_opens_byte_offset() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let file = c.create("p.txt", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
    let position = |c: &mut Client| {
        let query = QueryInfoRequest {
            info_type: InfoType::FILE,
            info_class: FileInfoClass::POSITION.value(),
            output_buffer_length: 8,
            file_id: file,
            ..QueryInfoRequest::default()
        };
        let (_, reply) = c.send(&query, HeaderFlags::empty());
        let output = QueryInfoResponse::from_message(&reply).unwrap().1.output;
        u64::from_le_bytes(output.try_into().unwrap())
    };
    assert_eq!(position(&mut c), 0);
    let write = WriteRequest {
        offset: 0,
        file_id: file,
        flags: 0,
        data: b"hello world".to_vec(),
    };
    assert_eq!(c.status(&write), NtStatus::SUCCESS);
    assert_eq!(position(&mut c), 11);
    let read = ReadRequest {
        length: 4,
        offset: 2,
        file_id: file,
        ..ReadRequest::default()
    };
    assert_eq!(c.status(&read), NtStatus::SUCCESS);
    // MS-FSA: CurrentByteOffset is where the last read ended.
    assert_eq!(position(&mut c), 6);
}

#[test]
fn query_info_checks_each_class_access_and_buffer() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let file = c.create("q.txt", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
    let query = |class: FileInfoClass, length: u32| QueryInfoRequest {
        info_type: InfoType::FILE,
        info_class: class.value(),
        output_buffer_length: length,
        file_id: file,
        ..QueryInfoRequest::default()
    };
    // MS-SMB2 3.3.5.20.1: FileFullEaInformation needs FILE_READ_EA (the open has not
    // asked for it); a security descriptor needs READ_CONTROL.
    assert_eq!(
        c.status(&query(FileInfoClass::FULL_EA, 1024)),
        NtStatus::ACCESS_DENIED
    );
    let security = QueryInfoRequest {
        info_type: InfoType::SECURITY,
        additional_information: 0x7,
        ..query(FileInfoClass::BASIC, 1024)
    };
    assert_eq!(c.status(&security), NtStatus::ACCESS_DENIED);
    // Less than a class's fixed part is STATUS_INFO_LENGTH_MISMATCH: for
    // FileAllInformation that is 104 bytes (its name's length and first character, padded);
    // from there the answer is cut short with STATUS_BUFFER_OVERFLOW.
    assert_eq!(
        c.status(&query(FileInfoClass::ALL, 103)),
        NtStatus::INFO_LENGTH_MISMATCH
    );
    assert_eq!(
        c.status(&query(FileInfoClass::ALL, 104)),
        NtStatus::BUFFER_OVERFLOW
    );
    assert_eq!(
        c.status(&query(FileInfoClass::NAME, 7)),
        NtStatus::INFO_LENGTH_MISMATCH
    );
    // FileNormalizedNameInformation: relative to the share, no leading backslash.
    let (header, reply) = c.send(
        &query(FileInfoClass::NORMALIZED_NAME, 1024),
        HeaderFlags::empty(),
    );
    assert_eq!(header.status, NtStatus::SUCCESS);
    let output = QueryInfoResponse::from_message(&reply).unwrap().1.output;
    assert_eq!(output[..4], [10, 0, 0, 0], "\"q.txt\" in UTF-16");
}

fn rename(file_id: FileId, to: &str) -> SetInfoRequest {
    SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::RENAME.value(),
        file_id,
        buffer: FileRenameInformation {
            replace_if_exists: false,
            root_directory: 0,
            file_name: to.into(),
        }
        .to_bytes(),
        ..SetInfoRequest::default()
    }
}

#[test]
fn renames_respect_opens_of_the_parent_and_below_a_directory() {
    let share = MemoryBackend::new();
    let (mut c, mut other) = (Client::new(&share), Client::new(&share));
    // Another client holds the directory open with DELETE access: nothing is renamed
    // into it.
    let dir = other.create("d", CREATE, DIRECTORY, SHARE_ALL).unwrap();
    let file = c.create(r"d\f", CREATE, 0, SHARE_ALL).unwrap();
    assert_eq!(c.status(&rename(file, r"d\g")), NtStatus::SHARING_VIOLATION);
    other.close(dir);
    assert_eq!(c.status(&rename(file, r"d\g")), NtStatus::SUCCESS);
    // MS-FSA 2.1.5.15.12: a directory with an open file below it is not renamed.
    let dir = c.create("d", OPEN, DIRECTORY, SHARE_ALL).unwrap();
    assert_eq!(c.status(&rename(dir, "e")), NtStatus::ACCESS_DENIED);
    c.close(file);
    assert_eq!(c.status(&rename(dir, "e")), NtStatus::SUCCESS);
    assert!(share.exists("e/g"));
    // MS-FSA 2.1.5.15.2: a directory cannot be made temporary.
    let temporary = SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::BASIC.value(),
        file_id: dir,
        buffer: FileBasicInformation {
            file_attributes: 0x100 | 0x10,
            ..FileBasicInformation::default()
        }
        .to_bytes(),
        ..SetInfoRequest::default()
    };
    assert_eq!(c.status(&temporary), NtStatus::INVALID_PARAMETER);
}

/// A LOCK request of `elements` (offset, length, flags) on `file_id`.
fn lock(file_id: FileId, elements: &[(u64, u64, LockFlags)]) -> LockRequest {
    LockRequest {
        lock_sequence: 0,
        file_id,
        locks: elements
            .iter()
            .map(|&(offset, length, flags)| LockElement {
                offset,
                length,
                flags,
            })
            .collect(),
    }
}

#[test]
fn lock_requests_are_checked_as_windows_checks_them() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let file = c.create("l.txt", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
    let (shared, exclusive, unlock, now) = (
        LockFlags::SHARED_LOCK,
        LockFlags::EXCLUSIVE_LOCK,
        LockFlags::UNLOCK,
        LockFlags::FAIL_IMMEDIATELY,
    );
    // MS-SMB2 3.3.5.14: a FileId whose persistent half does not match is closed.
    let wrong = FileId {
        persistent: file.persistent + 1,
        ..file
    };
    assert_eq!(
        c.status(&lock(wrong, &[(0, 1, shared)])),
        NtStatus::FILE_CLOSED
    );
    // A range past the largest offset; flags no lock or unlock has.
    assert_eq!(
        c.status(&lock(file, &[(u64::MAX, u64::MAX, exclusive | now)])),
        NtStatus::INVALID_LOCK_RANGE
    );
    for bad in [unlock | now, unlock | exclusive, LockFlags::empty()] {
        assert_eq!(
            c.status(&lock(file, &[(1, 1, bad)])),
            NtStatus::INVALID_PARAMETER,
            "{bad:?}"
        );
    }
    // Of several locks, each must fail immediately.
    assert_eq!(
        c.status(&lock(file, &[(1, 1, shared | now), (2, 1, shared)])),
        NtStatus::INVALID_PARAMETER
    );
    // Unlocks go one by one: the first stays done when the second is refused.
    let both = lock(file, &[(0, 10, exclusive | now), (10, 10, exclusive | now)]);
    assert_eq!(c.status(&both), NtStatus::SUCCESS);
    assert_eq!(
        c.status(&lock(file, &[(0, 10, unlock), (10, 10, exclusive | now)])),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(
        c.status(&lock(file, &[(0, 10, unlock)])),
        NtStatus::RANGE_NOT_LOCKED
    );
    // A shared lock stacks on the open's own exclusive lock; a zero-length lock inside
    // a held range conflicts.
    assert_eq!(
        c.status(&lock(file, &[(10, 10, shared)])),
        NtStatus::SUCCESS
    );
    assert_eq!(
        c.status(&lock(file, &[(12, 0, exclusive | now)])),
        NtStatus::LOCK_NOT_GRANTED
    );
    // The open's own shared lock blocks its writes, not its reads.
    let write = WriteRequest {
        offset: 10,
        file_id: file,
        flags: 0,
        data: b"x".to_vec(),
    };
    assert_eq!(c.status(&write), NtStatus::FILE_LOCK_CONFLICT);
    for _ in 0..2 {
        assert_eq!(
            c.status(&lock(file, &[(10, 10, unlock)])),
            NtStatus::SUCCESS
        );
    }
    assert_eq!(c.status(&write), NtStatus::SUCCESS);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any body after a valid header of a file command, on a logged-on session with a
    /// tree and an open file: an answer or a dropped connection, never a panic.
    #[test]
    fn arbitrary_file_requests_never_panic(
        command in prop::sample::select(vec![
            Command::CREATE, Command::CLOSE, Command::READ, Command::WRITE, Command::FLUSH,
            Command::LOCK, Command::IOCTL, Command::QUERY_DIRECTORY, Command::QUERY_INFO,
            Command::SET_INFO, Command::TREE_DISCONNECT, Command::LOGOFF, Command::ECHO,
        ]),
        body in prop::collection::vec(any::<u8>(), 0..300),
        related in any::<bool>(),
    ) {
        let share = MemoryBackend::new();
        let mut c = Client::new(&share);
        let file = c.create("f", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
        let mut msg = Vec::new();
        Header {
            message_id: c.next,
            session_id: 1,
            tree_id: c.tree,
            credits: 1,
            credit_charge: 1,
            flags: if related { HeaderFlags::RELATED_OPERATIONS } else { HeaderFlags::empty() },
            ..Header::request(command)
        }
        .encode(&mut msg);
        // Half the time the body starts with the open's FileId where most commands have it.
        let mut body = body;
        if body.len() > 24 && body[0] & 1 == 0 {
            body[8..16].copy_from_slice(&file.persistent.to_le_bytes());
            body[16..24].copy_from_slice(&file.volatile.to_le_bytes());
        }
        msg.extend_from_slice(&body);
        let _ = c.conn.handle(&msg);
    }
}

/// A SET_INFO FileBasicInformation of `file_id` setting only `attributes`.
fn set_attributes(file_id: FileId, attributes: u32) -> SetInfoRequest {
    SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::BASIC.value(),
        file_id,
        buffer: FileBasicInformation {
            file_attributes: attributes,
            ..FileBasicInformation::default()
        }
        .to_bytes(),
        ..SetInfoRequest::default()
    }
}

#[test]
fn the_read_only_attribute_is_kept_from_create_and_set_info() {
    const READONLY: u32 = 0x1;
    const ARCHIVE: u32 = 0x20;
    const NORMAL: u32 = 0x80;
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let req = CreateRequest {
        desired_access: READ_WRITE,
        share_access: SHARE_ALL,
        create_disposition: CREATE,
        file_attributes: READONLY,
        name: "ro.txt".into(),
        ..CreateRequest::default()
    };
    let (header, reply) = c.send(&req, HeaderFlags::empty());
    assert_eq!(header.status, NtStatus::SUCCESS);
    let created = CreateResponse::from_message(&reply).unwrap().1;
    assert_eq!(created.file_attributes, READONLY | ARCHIVE);
    // The creating open still writes; a new open for writing is refused.
    let write = WriteRequest {
        offset: 0,
        file_id: created.file_id,
        flags: 0,
        data: b"x".to_vec(),
    };
    assert_eq!(c.status(&write), NtStatus::SUCCESS);
    assert_eq!(
        c.create("ro.txt", OPEN, 0, SHARE_ALL),
        Err(NtStatus::ACCESS_DENIED)
    );
    // FILE_ATTRIBUTE_NORMAL clears it, and 0 leaves the attributes alone.
    assert_eq!(
        c.status(&set_attributes(created.file_id, NORMAL)),
        NtStatus::SUCCESS
    );
    assert_eq!(
        c.status(&set_attributes(created.file_id, 0)),
        NtStatus::SUCCESS
    );
    let again = c.create("ro.txt", OPEN, 0, SHARE_ALL).unwrap();
    assert_eq!(
        c.status(&set_attributes(again, READONLY)),
        NtStatus::SUCCESS
    );
    c.close(again);
    c.close(created.file_id);
    assert_eq!(
        c.create("ro.txt", OPEN, 0, SHARE_ALL),
        Err(NtStatus::ACCESS_DENIED)
    );
    // MS-FSA 2.1.5.1.2.1: a file cannot be created read-only to be deleted on close,
    // and the refused CREATE leaves no file behind.
    let doomed = CreateRequest {
        name: "doomed.txt".into(),
        create_options: DELETE_ON_CLOSE,
        desired_access: READ_WRITE,
        ..req.clone()
    };
    assert_eq!(c.status(&doomed), NtStatus::CANNOT_DELETE);
    assert!(!share.exists("doomed.txt"));
    // MS-FSA 2.1.5.14.3: nor marked for deletion by a disposition.
    let for_delete = CreateRequest {
        name: "ro.txt".into(),
        create_disposition: OPEN,
        desired_access: 0x1_0000 | 0x80,
        file_attributes: 0,
        ..req
    };
    let (_, reply) = c.send(&for_delete, HeaderFlags::empty());
    let ro = CreateResponse::from_message(&reply).unwrap().1.file_id;
    let dispose = SetInfoRequest {
        info_type: InfoType::FILE,
        info_class: FileInfoClass::DISPOSITION.value(),
        file_id: ro,
        buffer: vec![1],
        ..SetInfoRequest::default()
    };
    assert_eq!(c.status(&dispose), NtStatus::CANNOT_DELETE);
    c.close(ro);
    assert!(share.exists("ro.txt"));
}

#[test]
fn a_creates_allocation_size_is_reserved_and_one_that_cannot_be_leaves_no_file() {
    use crate::proto::oplock::{CONTEXT_ALLOCATION_SIZE, CreateContext};
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let create = |name: &str, data: Vec<u8>| CreateRequest {
        desired_access: READ_WRITE,
        share_access: SHARE_ALL,
        create_disposition: CREATE,
        name: name.into(),
        contexts: CreateContext::encode_chain(&[CreateContext {
            name: CONTEXT_ALLOCATION_SIZE.to_vec(),
            data,
        }]),
        ..CreateRequest::default()
    };
    let (header, reply) = c.send(
        &create("big.dat", 10_000u64.to_le_bytes().to_vec()),
        HeaderFlags::empty(),
    );
    assert_eq!(header.status, NtStatus::SUCCESS);
    let resp = CreateResponse::from_message(&reply).unwrap().1;
    assert_eq!(resp.times.allocation_size, 12_288);
    assert_eq!(resp.times.end_of_file, 0);
    let (header, _) = c.send(&create("short.dat", vec![0; 7]), HeaderFlags::empty());
    assert_eq!(header.status, NtStatus::INVALID_PARAMETER);
    assert!(!share.exists("short.dat"));
    let (header, _) = c.send(
        &create("huge.dat", u64::MAX.to_le_bytes().to_vec()),
        HeaderFlags::empty(),
    );
    assert_eq!(header.status, NtStatus::DISK_FULL);
    assert!(!share.exists("huge.dat"));
}

#[test]
fn security_descriptors_show_and_set_the_permission_bits() {
    use crate::proto::oplock::{CONTEXT_SECURITY_DESCRIPTOR, CreateContext};
    use crate::proto::security::{ACCESS_ALLOWED, Ace, Acl, SE_DACL_PRESENT, SecurityDescriptor};
    const GENERIC_ALL: u32 = 0x1000_0000;
    const OWNER_DACL: u32 = 0x1 | 0x4;
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let create = |name: &str, contexts: Vec<u8>| CreateRequest {
        desired_access: GENERIC_ALL,
        share_access: SHARE_ALL,
        create_disposition: CREATE,
        name: name.into(),
        contexts,
        ..CreateRequest::default()
    };
    let (_, reply) = c.send(&create("sd.txt", Vec::new()), HeaderFlags::empty());
    let file = CreateResponse::from_message(&reply).unwrap().1.file_id;
    let query = |len| QueryInfoRequest {
        info_type: InfoType::SECURITY,
        output_buffer_length: len,
        additional_information: OWNER_DACL,
        file_id: file,
        ..QueryInfoRequest::default()
    };
    let get = |c: &mut Client| {
        let (header, reply) = c.send(&query(4096), HeaderFlags::empty());
        assert_eq!(header.status, NtStatus::SUCCESS);
        let output = QueryInfoResponse::from_message(&reply).unwrap().1.output;
        SecurityDescriptor::parse(&output).unwrap()
    };
    // 0644, owned by uid 0 (the memory share's): the owner reads and writes, the group
    // and everyone read.
    let sd = get(&mut c);
    let owner = sd.owner.clone().unwrap();
    assert_eq!(owner.to_string(), "S-1-22-1-0");
    assert!(sd.group.is_none());
    assert_eq!(sd.dacl.as_ref().unwrap().aces.len(), 3);
    // Too small a buffer: the size needed, in the error data.
    let (header, reply) = c.send(&query(16), HeaderFlags::empty());
    assert_eq!(header.status, NtStatus::BUFFER_TOO_SMALL);
    let needed = u32::from_le_bytes(reply[reply.len() - 4..].try_into().unwrap());
    assert_eq!(needed as usize, sd.to_bytes().len());
    // A DACL granting only the owner read makes the file 0400.
    let only_owner = SecurityDescriptor {
        owner: Some(owner.clone()),
        dacl: Some(Acl {
            aces: vec![Ace::Basic {
                kind: ACCESS_ALLOWED,
                flags: 0,
                mask: 0x0012_0089,
                sid: owner.clone(),
            }],
        }),
        ..SecurityDescriptor::default()
    };
    let set = |sd: &SecurityDescriptor, info: u32| SetInfoRequest {
        info_type: InfoType::SECURITY,
        additional_information: info,
        file_id: file,
        buffer: sd.to_bytes(),
        ..SetInfoRequest::default()
    };
    assert_eq!(c.status(&set(&only_owner, OWNER_DACL)), NtStatus::SUCCESS);
    let aces = get(&mut c).dacl.unwrap().aces;
    assert_eq!(aces.len(), 1);
    assert!(matches!(&aces[0], Ace::Basic { mask, .. } if mask & 0x2 == 0));
    // Another owner is refused; a descriptor that does not parse too.
    let stranger = SecurityDescriptor {
        owner: Some("S-1-5-21-9-9-9-1000".parse().unwrap()),
        ..SecurityDescriptor::default()
    };
    assert_eq!(c.status(&set(&stranger, 0x1)), NtStatus::INVALID_OWNER);
    let garbage = SetInfoRequest {
        buffer: vec![1, 0, 0, 0],
        ..set(&stranger, 0x1)
    };
    assert_eq!(c.status(&garbage), NtStatus::INVALID_SECURITY_DESCR);
    // A file created with a NULL DACL is open to everyone.
    let null = SecurityDescriptor {
        control: SE_DACL_PRESENT,
        ..SecurityDescriptor::default()
    };
    let context = CreateContext::encode_chain(&[CreateContext {
        name: CONTEXT_SECURITY_DESCRIPTOR.to_vec(),
        data: null.to_bytes(),
    }]);
    let (header, reply) = c.send(&create("open.txt", context), HeaderFlags::empty());
    assert_eq!(header.status, NtStatus::SUCCESS);
    let open = CreateResponse::from_message(&reply).unwrap().1.file_id;
    let req = QueryInfoRequest {
        file_id: open,
        ..query(4096)
    };
    let (_, reply) = c.send(&req, HeaderFlags::empty());
    let sd = SecurityDescriptor::parse(&QueryInfoResponse::from_message(&reply).unwrap().1.output)
        .unwrap();
    assert!(sd.null_dacl());
}

/// With READ signing left to the driver, a READ response leaves the core unsigned with
/// its session's key beside it, and signing it then gives the bytes the core would have
/// sent; other responses (and every response otherwise) are signed in the core.
#[test]
fn a_read_response_may_leave_the_core_for_signing_on_the_way_out() {
    use crate::proto::SIGNATURE_AT;
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let file = c.create("r.txt", OVERWRITE_IF, 0, SHARE_ALL).unwrap();
    let write = WriteRequest {
        offset: 0,
        file_id: file,
        flags: 0,
        data: b"signed later".to_vec(),
    };
    assert_eq!(c.status(&write), NtStatus::SUCCESS);
    assert!(c.conn.take_sign_later().is_none());
    let read = ReadRequest {
        length: 12,
        file_id: file,
        ..ReadRequest::default()
    };
    let (_, signed) = c.send(&read, HeaderFlags::empty());
    assert_ne!(signed[SIGNATURE_AT..SIGNATURE_AT + 16], [0; 16]);
    assert!(c.conn.take_sign_later().is_none());

    c.conn.sign_reads_later();
    let (_, mut unsigned) = c.send(&read, HeaderFlags::empty());
    assert_eq!(unsigned[SIGNATURE_AT..SIGNATURE_AT + 16], [0; 16]);
    let signer = c.conn.take_sign_later().expect("the key to sign it with");
    signer.verify(&signed).unwrap();
    signer.sign(&mut unsigned);
    signer.verify(&unsigned).unwrap();
    // The same reply but for its message id.
    assert_eq!(unsigned[..24], signed[..24]);
    assert_eq!(unsigned[64..], signed[64..]);
    // Anything else is signed as before.
    assert_eq!(c.status(&write), NtStatus::SUCCESS);
    assert!(c.conn.take_sign_later().is_none());
}
