//! Durable handles driven message by message on an in-memory share: an open kept when
//! its connection goes and reconnected from another, refused while still held, to
//! another user, after TREE_DISCONNECT or after another client's open purged it; the
//! version 2 timeout; the bound on opens kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adjoin_rpc::ntstatus::NtStatus;

use super::backend::memory::MemoryBackend;
use super::durable::{self, Durability};
use super::testing::{alice, memory_share, test_config};
use super::token::UserToken;
use super::{Open, ServerConfig, ServerConnection};
use crate::proto::durable::{CONTEXT_DURABLE_V1, CONTEXT_DURABLE_V2, CONTEXT_RECONNECT_V1};
use crate::proto::oplock::{CreateContext, OPLOCK_BATCH, OPLOCK_NONE};
use crate::proto::{
    Body, CloseRequest, CreateRequest, CreateResponse, Dialect, FileId, Header, HeaderFlags,
    LockElement, LockFlags, LockRequest, ReadRequest, ReadResponse, TreeConnectRequest,
    TreeDisconnectRequest, WriteRequest,
};

const READ_WRITE: u32 = 0x0000_0003 | 0x0001_0000 | 0x0000_0080;
const SHARE_ALL: u32 = 7;
const OPEN_IF: u32 = 3;
const DELETE_ON_CLOSE: u32 = 0x1000;
/// FILE_OPENED and FILE_CREATED.
const OPENED: u32 = 1;
const CREATED: u32 = 2;

struct Client {
    conn: ServerConnection,
    next: u64,
    tree: u32,
}

impl Client {
    fn new(config: &Arc<ServerConfig>, token: UserToken) -> Self {
        let conn =
            ServerConnection::logged_on_for_tests(Arc::clone(config), Dialect::SMB311, token);
        let mut client = Self {
            conn,
            next: 0,
            tree: 0,
        };
        let (header, _) = client.send(&TreeConnectRequest {
            flags: 0,
            path: r"\\files\mem".into(),
        });
        assert_eq!(header.status, NtStatus::SUCCESS);
        client.tree = header.tree_id;
        client
    }

    fn send<B: Body>(&mut self, body: &B) -> (Header, Vec<u8>) {
        self.next += 1;
        let flags = HeaderFlags::empty();
        self.conn.exchange(self.next - 1, self.tree, flags, body)
    }

    /// A CREATE of `name` with `oplock` and `contexts`: its status and response.
    fn create(
        &mut self,
        name: &str,
        oplock: u8,
        options: u32,
        contexts: &[CreateContext],
    ) -> (NtStatus, Option<CreateResponse>) {
        let req = CreateRequest {
            oplock_level: oplock,
            desired_access: READ_WRITE,
            share_access: SHARE_ALL,
            create_disposition: OPEN_IF,
            create_options: options,
            name: name.into(),
            contexts: if contexts.is_empty() {
                Vec::new()
            } else {
                CreateContext::encode_chain(contexts)
            },
            ..CreateRequest::default()
        };
        let (header, reply) = self.send(&req);
        let resp = (header.status == NtStatus::SUCCESS)
            .then(|| CreateResponse::from_message(&reply).unwrap().1);
        (header.status, resp)
    }

    /// Reconnects (`DHnC`) to `file`; the status and response.
    fn reconnect(&mut self, file: FileId) -> (NtStatus, Option<CreateResponse>) {
        self.create("ignored", 0x78, 0, &[reconnect_v1(file)])
    }

    fn write(&mut self, file_id: FileId, data: &[u8]) {
        let req = WriteRequest {
            offset: 0,
            file_id,
            flags: 0,
            data: data.to_vec(),
        };
        assert_eq!(self.send(&req).0.status, NtStatus::SUCCESS);
    }

    fn read(&mut self, file_id: FileId) -> Vec<u8> {
        let req = ReadRequest {
            length: 64,
            file_id,
            ..ReadRequest::default()
        };
        let (header, reply) = self.send(&req);
        assert_eq!(header.status, NtStatus::SUCCESS);
        ReadResponse::from_message(&reply).unwrap().1.data
    }

    fn close(&mut self, file_id: FileId) -> NtStatus {
        self.send(&CloseRequest { flags: 0, file_id }).0.status
    }

    /// The connection drops.
    fn drop_connection(mut self) {
        self.conn.shutdown();
    }
}

fn request_v1() -> CreateContext {
    CreateContext {
        name: CONTEXT_DURABLE_V1.to_vec(),
        data: vec![0; 16],
    }
}

fn request_v2(timeout_ms: u32, create_guid: [u8; 16]) -> CreateContext {
    let mut data = timeout_ms.to_le_bytes().to_vec();
    data.extend([0; 12]);
    data.extend(create_guid);
    CreateContext {
        name: CONTEXT_DURABLE_V2.to_vec(),
        data,
    }
}

fn reconnect_v1(file: FileId) -> CreateContext {
    let mut data = file.persistent.to_le_bytes().to_vec();
    data.extend(file.volatile.to_le_bytes());
    CreateContext {
        name: CONTEXT_RECONNECT_V1.to_vec(),
        data,
    }
}

/// The durable context a CREATE response grants, if any.
fn granted(resp: &CreateResponse) -> Option<CreateContext> {
    let contexts = CreateContext::parse_chain(&resp.contexts).unwrap();
    contexts
        .into_iter()
        .find(|c| c.name == CONTEXT_DURABLE_V1 || c.name == CONTEXT_DURABLE_V2)
}

fn bob() -> UserToken {
    UserToken {
        name: r"EXAMPLE\bob".into(),
        user_sid: "S-1-5-21-1-2-3-1105".parse().unwrap(),
        ..alice()
    }
}

fn config() -> Arc<ServerConfig> {
    test_config(memory_share(&MemoryBackend::new()))
}

#[test]
fn a_durable_open_outlives_its_connection_and_comes_back_with_its_oplock_and_data() {
    let config = config();
    let mut a = Client::new(&config, alice());
    let (status, resp) = a.create("keep.txt", OPLOCK_BATCH, 0, &[request_v1()]);
    assert_eq!(status, NtStatus::SUCCESS);
    let resp = resp.unwrap();
    assert_eq!(resp.oplock_level, OPLOCK_BATCH);
    assert_eq!(granted(&resp).unwrap().data, vec![0; 8]);
    let file = resp.file_id;
    a.write(file, b"durable");
    // While its session holds it, a reconnect does not find it.
    assert_eq!(a.reconnect(file).0, NtStatus::OBJECT_NAME_NOT_FOUND);
    a.drop_connection();

    let mut b = Client::new(&config, alice());
    let (status, resp) = b.reconnect(file);
    assert_eq!(status, NtStatus::SUCCESS);
    let resp = resp.unwrap();
    assert_eq!(resp.create_action, OPENED);
    assert_eq!(resp.oplock_level, OPLOCK_BATCH);
    assert_eq!(resp.file_id.persistent, file.persistent);
    // No durable context in a reconnect's response (MS-SMB2 3.3.5.9.7).
    assert!(granted(&resp).is_none());
    assert_eq!(b.read(resp.file_id), b"durable");
    // Taken once: a second reconnect finds nothing.
    let mut c = Client::new(&config, alice());
    assert_eq!(c.reconnect(file).0, NtStatus::OBJECT_NAME_NOT_FOUND);
    assert_eq!(b.close(resp.file_id), NtStatus::SUCCESS);
    b.drop_connection();
    assert_eq!(c.reconnect(file).0, NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn without_a_batch_oplock_an_open_is_not_durable_and_closes_with_its_connection() {
    let config = config();
    let mut a = Client::new(&config, alice());
    let (_, resp) = a.create("plain.txt", OPLOCK_NONE, 0, &[request_v1()]);
    let resp = resp.unwrap();
    assert!(granted(&resp).is_none());
    a.drop_connection();
    let mut b = Client::new(&config, alice());
    assert_eq!(b.reconnect(resp.file_id).0, NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn only_the_user_who_opened_it_reconnects() {
    let config = config();
    let mut a = Client::new(&config, alice());
    let (_, resp) = a.create("mine.txt", OPLOCK_BATCH, 0, &[request_v1()]);
    let file = resp.unwrap().file_id;
    a.drop_connection();
    let mut bob = Client::new(&config, bob());
    assert_eq!(bob.reconnect(file).0, NtStatus::ACCESS_DENIED);
    // Refusing bob left it for alice.
    let mut alice = Client::new(&config, alice());
    assert_eq!(alice.reconnect(file).0, NtStatus::SUCCESS);
}

#[test]
fn tree_disconnect_closes_a_durable_open_for_good() {
    let config = config();
    let mut a = Client::new(&config, alice());
    let (_, resp) = a.create("tdis.txt", OPLOCK_BATCH, 0, &[request_v1()]);
    let file = resp.unwrap().file_id;
    assert_eq!(a.send(&TreeDisconnectRequest).0.status, NtStatus::SUCCESS);
    a.drop_connection();
    let mut b = Client::new(&config, alice());
    assert_eq!(b.reconnect(file).0, NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn another_clients_open_purges_a_kept_open_and_its_delete_on_close_happens_first() {
    let config = config();
    let mut a = Client::new(&config, alice());
    let (_, resp) = a.create("doc.txt", OPLOCK_BATCH, DELETE_ON_CLOSE, &[request_v1()]);
    let resp = resp.unwrap();
    assert!(granted(&resp).is_some());
    a.write(resp.file_id, b"gone soon");
    a.drop_connection();
    // The kept open is closed (deleting the file) before the new open goes on: the new
    // open creates the file afresh.
    let mut b = Client::new(&config, alice());
    let (status, fresh) = b.create("doc.txt", OPLOCK_NONE, 0, &[]);
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(fresh.unwrap().create_action, CREATED);
    assert_eq!(b.reconnect(resp.file_id).0, NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn a_version_2_open_is_kept_for_the_time_asked_and_then_closed() {
    let config = config();
    let mut a = Client::new(&config, alice());
    let (_, resp) = a.create("brief.txt", OPLOCK_BATCH, 0, &[request_v2(1, [9; 16])]);
    let resp = resp.unwrap();
    let grant = granted(&resp).unwrap();
    assert_eq!(grant.name, CONTEXT_DURABLE_V2);
    assert_eq!(grant.data[..4], 1u32.to_le_bytes());
    a.drop_connection();
    std::thread::sleep(Duration::from_millis(20));
    // The next CREATE anywhere sweeps what is past its time.
    let mut b = Client::new(&config, alice());
    let (status, _) = b.create("other.txt", OPLOCK_NONE, 0, &[]);
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(b.reconnect(resp.file_id).0, NtStatus::OBJECT_NAME_NOT_FOUND);
    // A request for the longest time gets the server's cap, 300 s.
    let (_, resp) = b.create(
        "long.txt",
        OPLOCK_BATCH,
        0,
        &[request_v2(u32::MAX, [8; 16])],
    );
    let grant = granted(&resp.unwrap()).unwrap();
    assert_eq!(grant.data[..4], 300_000u32.to_le_bytes());
}

#[test]
fn the_opens_kept_are_bounded_and_one_past_the_bound_is_closed() {
    let config = config();
    let mut a = Client::new(&config, alice());
    for name in ["b1.txt", "b2.txt", "b3.txt"] {
        let (_, resp) = a.create(name, OPLOCK_BATCH, 0, &[request_v1()]);
        assert!(granted(&resp.unwrap()).is_some());
    }
    let session = a.conn.sessions.remove(&1).unwrap();
    let opens: Vec<_> = session
        .opens
        .into_values()
        .map(|open| match open {
            Open::File(file) => file,
            Open::Pipe(..) => unreachable!("no pipes opened"),
        })
        .collect();
    assert!(opens.iter().all(|o| matches!(
        o.durable,
        Some(Durability {
            create_guid: None,
            ..
        })
    )));
    let mut table = durable::Table::default();
    let now = Instant::now();
    let mut refused = Vec::new();
    for open in opens {
        if let Err(open) = table.park(open, now, 2) {
            refused.push(*open);
        }
    }
    assert_eq!(refused.len(), 1);
    for open in refused
        .into_iter()
        .chain(table.take(None, now + durable::V1_TIMEOUT))
    {
        ServerConnection::finish(open);
    }
}

impl Client {
    /// A LOCK of bytes 100..200 on `file` (`flags`) with `lock_sequence`; its status.
    fn lock(&mut self, file: FileId, lock_sequence: u32, flags: LockFlags) -> NtStatus {
        let req = LockRequest {
            lock_sequence,
            file_id: file,
            locks: vec![LockElement {
                offset: 100,
                length: 100,
                flags,
            }],
        };
        self.send(&req).0.status
    }
}

/// MS-SMB2 3.3.5.14 lock sequence verification on a durable open: a LOCK repeated with
/// the bucket's last completed sequence number is answered and not done again (also
/// after a reconnect), a new number is done; bucket 0 and those past 64 are not checked;
/// an open that is not durable is never checked.
#[test]
fn a_replayed_lock_on_a_durable_open_is_answered_and_not_done_twice() {
    let config = config();
    let mut a = Client::new(&config, alice());
    let (status, resp) = a.create("seq.txt", OPLOCK_BATCH, 0, &[request_v1()]);
    assert_eq!(status, NtStatus::SUCCESS);
    let file = resp.unwrap().file_id;
    let lock = LockFlags::EXCLUSIVE_LOCK | LockFlags::FAIL_IMMEDIATELY;
    let unlock = LockFlags::UNLOCK;
    // Bucket 0 is not checked: the second lock conflicts with the first.
    assert_eq!(a.lock(file, 0x01, lock), NtStatus::SUCCESS);
    assert_eq!(a.lock(file, 0x01, lock), NtStatus::LOCK_NOT_GRANTED);
    assert_eq!(a.lock(file, 0x01, unlock), NtStatus::SUCCESS);
    // Bucket 1, number 1: done once; the replay (even as an unlock) changes nothing.
    assert_eq!(a.lock(file, 0x11, lock), NtStatus::SUCCESS);
    assert_eq!(a.lock(file, 0x11, lock), NtStatus::SUCCESS);
    assert_eq!(a.lock(file, 0x11, unlock), NtStatus::SUCCESS);
    assert_eq!(a.lock(file, 0x12, lock), NtStatus::LOCK_NOT_GRANTED);
    // Bucket 65 is past the array: not checked.
    assert_eq!(a.lock(file, 0x411, lock), NtStatus::LOCK_NOT_GRANTED);
    // After a reconnect, the bucket still knows number 3 was done.
    assert_eq!(a.lock(file, 0x13, unlock), NtStatus::SUCCESS);
    a.drop_connection();
    let mut b = Client::new(&config, alice());
    let (status, resp) = b.reconnect(file);
    assert_eq!(status, NtStatus::SUCCESS);
    let file = resp.unwrap().file_id;
    assert_eq!(b.lock(file, 0x13, unlock), NtStatus::SUCCESS);
    assert_eq!(b.lock(file, 0x14, unlock), NtStatus::RANGE_NOT_LOCKED);
    assert_eq!(b.close(file), NtStatus::SUCCESS);
    // Not durable: no replay detection.
    let (status, resp) = b.create("plain.txt", 0, 0, &[]);
    assert_eq!(status, NtStatus::SUCCESS);
    let plain = resp.unwrap().file_id;
    assert_eq!(b.lock(plain, 0x11, lock), NtStatus::SUCCESS);
    assert_eq!(b.lock(plain, 0x11, lock), NtStatus::LOCK_NOT_GRANTED);
}
