//! The file-system controls driven message by message against an in-memory share: resume
//! keys, server-side copies (limits, keys, access, locks, ranges past the source's end)
//! and the compression state, as smbtorture's smb2.ioctl checks them on a real server.

use std::sync::Arc;

use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;
use proptest::prelude::*;

use super::backend::memory::MemoryBackend;
use super::testing::{alice as token, memory_share, test_config};
use super::{ServerConfig, ServerConnection};
use crate::proto::{
    Body, CloseRequest, CompressionState, CreateRequest, CreateResponse, Dialect,
    FSCTL_GET_COMPRESSION, FSCTL_QUERY_ALLOCATED_RANGES, FSCTL_SET_COMPRESSION, FSCTL_SET_SPARSE,
    FSCTL_SET_ZERO_DATA, FSCTL_SRV_COPYCHUNK, FSCTL_SRV_COPYCHUNK_WRITE,
    FSCTL_SRV_REQUEST_RESUME_KEY, FileId, FileRange, Header, HeaderFlags, IoctlRequest,
    IoctlResponse, LockElement, LockFlags, LockRequest, ResumeKeyResponse, SrvCopychunk,
    SrvCopychunkCopy, SrvCopychunkResponse, TreeConnectRequest, WriteRequest,
};

/// FILE_READ_DATA | FILE_WRITE_DATA | DELETE | FILE_READ_ATTRIBUTES.
const READ_WRITE: u32 = 0x0000_0003 | 0x0001_0000 | 0x0000_0080;
/// FILE_GENERIC_WRITE.
const WRITE_ONLY: u32 = 0x0012_0116;
/// FILE_GENERIC_READ.
const READ_ONLY: u32 = 0x0012_0089;
/// FILE_EXECUTE | FILE_READ_ATTRIBUTES.
const EXECUTE_ONLY: u32 = 0x0000_00a0;
const OVERWRITE_IF: u32 = 5;

fn config(share: &MemoryBackend) -> Arc<ServerConfig> {
    test_config(memory_share(share))
}

/// A logged-on connection with the share connected.
struct Client {
    conn: ServerConnection,
    next: u64,
    tree: u32,
}

/// An IOCTL's answer: its status and, when it came as an IOCTL response, its output.
#[derive(Debug)]
struct Answer {
    status: NtStatus,
    output: Option<Vec<u8>>,
}

impl Answer {
    fn copied(&self) -> SrvCopychunkResponse {
        let output = self.output.as_deref().expect("a SRV_COPYCHUNK_RESPONSE");
        SrvCopychunkResponse::read_bytes("output", output).unwrap()
    }
}

impl Client {
    fn new(share: &MemoryBackend) -> Self {
        let conn = ServerConnection::logged_on_for_tests(config(share), Dialect::SMB311, token());
        let mut client = Self {
            conn,
            next: 0,
            tree: 0,
        };
        client.tree = client.connect_tree();
        client
    }

    fn connect_tree(&mut self) -> u32 {
        let tree_connect = TreeConnectRequest {
            flags: 0,
            path: r"\\files\mem".into(),
        };
        let (header, _) = self.send(&tree_connect, HeaderFlags::empty());
        assert_eq!(header.status, NtStatus::SUCCESS);
        header.tree_id
    }

    fn send<B: Body>(&mut self, body: &B, flags: HeaderFlags) -> (Header, Vec<u8>) {
        self.next += 1;
        self.conn.exchange(self.next - 1, self.tree, flags, body)
    }

    fn status<B: Body>(&mut self, body: &B) -> NtStatus {
        self.send(body, HeaderFlags::empty()).0.status
    }

    fn create(&mut self, name: &str, access: u32) -> FileId {
        let req = CreateRequest {
            desired_access: access,
            share_access: 7,
            create_disposition: OVERWRITE_IF,
            name: name.into(),
            ..CreateRequest::default()
        };
        let (header, reply) = self.send(&req, HeaderFlags::empty());
        assert_eq!(header.status, NtStatus::SUCCESS, "create {name}");
        CreateResponse::from_message(&reply).unwrap().1.file_id
    }

    /// A file of `len` bytes whose every 8 bytes hold their own offset (smbtorture's
    /// pattern).
    fn create_filled(&mut self, name: &str, len: u64, access: u32) -> FileId {
        let file = self.create(name, READ_WRITE);
        let write = WriteRequest {
            offset: 0,
            file_id: file,
            flags: 0,
            data: pattern(0, len),
        };
        assert_eq!(self.status(&write), NtStatus::SUCCESS);
        if access == READ_WRITE {
            return file;
        }
        self.status(&CloseRequest {
            flags: 0,
            file_id: file,
        });
        let req = CreateRequest {
            desired_access: access,
            share_access: 7,
            create_disposition: 1,
            name: name.into(),
            ..CreateRequest::default()
        };
        let (_, reply) = self.send(&req, HeaderFlags::empty());
        CreateResponse::from_message(&reply).unwrap().1.file_id
    }

    fn ioctl(&mut self, ctl_code: u32, file_id: FileId, input: Vec<u8>, max_output: u32) -> Answer {
        let req = IoctlRequest {
            ctl_code,
            file_id,
            max_input_response: 0,
            max_output_response: max_output,
            flags: IoctlRequest::IS_FSCTL,
            input,
        };
        let (header, reply) = self.send(&req, HeaderFlags::empty());
        Answer {
            status: header.status,
            output: IoctlResponse::from_message(&reply)
                .ok()
                .map(|(_, r)| r.output),
        }
    }

    fn resume_key(&mut self, file: FileId) -> [u8; 24] {
        let answer = self.ioctl(FSCTL_SRV_REQUEST_RESUME_KEY, file, Vec::new(), 32);
        assert_eq!(answer.status, NtStatus::SUCCESS);
        let output = answer.output.unwrap();
        ResumeKeyResponse::read_bytes("output", &output)
            .unwrap()
            .resume_key
    }

    fn copy(
        &mut self,
        ctl_code: u32,
        target: FileId,
        key: [u8; 24],
        chunks: &[(u64, u64, u32)],
    ) -> Answer {
        let copy = SrvCopychunkCopy {
            source_key: key,
            chunks: chunks
                .iter()
                .map(|&(source_offset, target_offset, length)| SrvCopychunk {
                    source_offset,
                    target_offset,
                    length,
                })
                .collect(),
        };
        self.ioctl(ctl_code, target, copy.to_bytes(), 12)
    }
}

fn pattern(from: u64, len: u64) -> Vec<u8> {
    (from..from + len)
        .step_by(8)
        .flat_map(u64::to_le_bytes)
        .collect()
}

fn limits() -> SrvCopychunkResponse {
    SrvCopychunkResponse {
        chunks_written: 256,
        chunk_bytes_written: 1024 * 1024,
        total_bytes_written: 16 * 1024 * 1024,
    }
}

#[test]
fn a_resume_key_is_stable_per_open_and_differs_between_opens() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let a = c.create("a", READ_WRITE);
    let b = c.create("b", READ_WRITE);
    let key = c.resume_key(a);
    assert_eq!(c.resume_key(a), key, "asking twice gives the same key");
    assert_ne!(c.resume_key(b), key);
    // Thirty-two bytes do not fit in 31.
    let small = c.ioctl(FSCTL_SRV_REQUEST_RESUME_KEY, a, Vec::new(), 31);
    assert_eq!(small.status, NtStatus::BUFFER_TOO_SMALL);
    // MS-SMB2 3.3.5.15: an IOCTL without SMB2_0_IOCTL_IS_FSCTL.
    let not_fsctl = IoctlRequest {
        ctl_code: FSCTL_SRV_REQUEST_RESUME_KEY,
        file_id: a,
        max_output_response: 32,
        ..IoctlRequest::default()
    };
    assert_eq!(c.status(&not_fsctl), NtStatus::NOT_SUPPORTED);
}

#[test]
fn copychunk_copies_chunks_through_the_backend() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let src = c.create_filled("src", 8192, READ_WRITE);
    let dst = c.create("dst", READ_WRITE);
    let key = c.resume_key(src);
    // Both halves, the second appended again past a hole.
    let answer = c.copy(
        FSCTL_SRV_COPYCHUNK,
        dst,
        key,
        &[(0, 0, 4096), (4096, 4096, 4096), (0, 12288, 50)],
    );
    assert_eq!(answer.status, NtStatus::SUCCESS);
    assert_eq!(
        answer.copied(),
        SrvCopychunkResponse {
            chunks_written: 3,
            chunk_bytes_written: 0,
            total_bytes_written: 8192 + 50
        }
    );
    let data = share.contents("dst").unwrap();
    assert_eq!(data.len(), 12288 + 50);
    assert_eq!(&data[..8192], pattern(0, 8192));
    assert!(
        data[8192..12288].iter().all(|b| *b == 0),
        "a hole reads as zeros"
    );
    assert_eq!(&data[12288..], &pattern(0, 56)[..50]);

    // Within one file, overlapping: the source range is read whole before it is written.
    let answer = c.copy(FSCTL_SRV_COPYCHUNK_WRITE, src, key, &[(0, 2040, 2048)]);
    assert_eq!(answer.status, NtStatus::SUCCESS);
    let data = share.contents("src").unwrap();
    assert_eq!(&data[..2040], pattern(0, 2040));
    assert_eq!(&data[2040..4088], pattern(0, 2048));
    assert_eq!(&data[4088..], &pattern(0, 8192)[4088..]);

    // All-ones TargetOffset: at the target's end.
    let end = c.copy(FSCTL_SRV_COPYCHUNK, dst, key, &[(0, u64::MAX, 8)]);
    assert_eq!(end.status, NtStatus::SUCCESS);
    assert_eq!(share.contents("dst").unwrap().len(), 12288 + 58);
    // No chunks: nothing copied, successfully.
    let none = c.copy(FSCTL_SRV_COPYCHUNK, dst, key, &[]);
    assert_eq!(
        (none.status, none.copied()),
        (NtStatus::SUCCESS, SrvCopychunkResponse::default())
    );
}

#[test]
fn copychunk_past_its_limits_answers_them() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let src = c.create_filled("src", 4096, READ_WRITE);
    let dst = c.create("dst", READ_WRITE);
    let key = c.resume_key(src);
    let mb = 1024 * 1024;
    let too_many: Vec<_> = (0..257).map(|i| (0, i * 8, 8)).collect();
    let too_much: Vec<_> = (0..17).map(|i| (0, i * u64::from(mb), mb)).collect();
    for chunks in [
        vec![(0, 0, u32::MAX)],
        vec![(0, 0, mb + 1)],
        vec![(0, 0, 0)],
        vec![(0, 1 << 63, 8)],
        too_many,
        too_much,
    ] {
        let answer = c.copy(FSCTL_SRV_COPYCHUNK, dst, key, &chunks);
        assert_eq!(
            answer.status,
            NtStatus::INVALID_PARAMETER,
            "{}",
            chunks.len()
        );
        assert_eq!(answer.copied(), limits());
    }
    assert!(share.contents("dst").unwrap().is_empty(), "nothing copied");
}

#[test]
fn a_malformed_copychunk_is_invalid_parameter() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let src = c.create_filled("src", 4096, READ_WRITE);
    let dst = c.create("dst", READ_WRITE);
    let key = c.resume_key(src);
    let whole = SrvCopychunkCopy {
        source_key: key,
        chunks: vec![
            SrvCopychunk {
                source_offset: 0,
                target_offset: 0,
                length: 8,
            };
            2
        ],
    }
    .to_bytes();
    // Shorter than the fixed part, or than the chunks it counts: the limits.
    for input in [&whole[..10], &whole[..whole.len() - 1], &[][..]] {
        let answer = c.ioctl(FSCTL_SRV_COPYCHUNK, dst, input.to_vec(), 12);
        assert_eq!(answer.status, NtStatus::INVALID_PARAMETER);
        assert_eq!(answer.copied(), limits());
    }
    // No room for the response: a bare error.
    let answer = c.ioctl(FSCTL_SRV_COPYCHUNK, dst, whole.clone(), 11);
    assert_eq!(
        (answer.status, answer.output),
        (NtStatus::INVALID_PARAMETER, None)
    );
    // The responses asked for overflow 32 bits.
    let overflow = IoctlRequest {
        ctl_code: FSCTL_SRV_COPYCHUNK,
        file_id: dst,
        max_input_response: u32::MAX,
        max_output_response: 12,
        flags: IoctlRequest::IS_FSCTL,
        input: whole,
    };
    assert_eq!(c.status(&overflow), NtStatus::INVALID_PARAMETER);
    // A control no file serves, and an unrelated all-ones FileId.
    assert_eq!(
        c.ioctl(0x0009_00a0, dst, Vec::new(), 64).status,
        NtStatus::INVALID_DEVICE_REQUEST
    );
    let nothing = FileId {
        persistent: u64::MAX,
        volatile: u64::MAX,
    };
    assert_eq!(
        c.ioctl(0x0009_00c0, nothing, Vec::new(), 64).status,
        NtStatus::FILE_CLOSED
    );
}

#[test]
fn copychunk_needs_a_key_of_this_session() {
    let share = MemoryBackend::new();
    let (mut c, mut other) = (Client::new(&share), Client::new(&share));
    let src = c.create_filled("src", 4096, READ_WRITE);
    let dst = c.create("dst", READ_WRITE);
    let key = c.resume_key(src);
    let mut bad = key;
    bad[20] ^= 1;
    let answer = c.copy(FSCTL_SRV_COPYCHUNK, dst, bad, &[(0, 0, 4096)]);
    assert_eq!(answer.status, NtStatus::OBJECT_NAME_NOT_FOUND);
    // The other connection opened its files in the same order (the same volatile ids,
    // the same session id): the key still names nothing there.
    let other_src = other.create_filled("src2", 4096, READ_WRITE);
    let other_dst = other.create("dst2", READ_WRITE);
    assert_eq!(other_src.volatile, src.volatile);
    let answer = other.copy(FSCTL_SRV_COPYCHUNK, other_dst, key, &[(0, 0, 4096)]);
    assert_eq!(answer.status, NtStatus::OBJECT_NAME_NOT_FOUND);
    // Another tree of the same session is fine; a closed source is gone.
    let first_tree = c.tree;
    c.tree = c.connect_tree();
    let dst3 = c.create("dst3", READ_WRITE);
    assert_eq!(
        c.copy(FSCTL_SRV_COPYCHUNK, dst3, key, &[(0, 0, 4096)])
            .status,
        NtStatus::SUCCESS
    );
    assert_eq!(share.contents("dst3").unwrap(), pattern(0, 4096));
    c.tree = first_tree;
    assert_eq!(
        c.status(&CloseRequest {
            flags: 0,
            file_id: src
        }),
        NtStatus::SUCCESS
    );
    let answer = c.copy(FSCTL_SRV_COPYCHUNK, dst, key, &[(0, 0, 4096)]);
    assert_eq!(answer.status, NtStatus::OBJECT_NAME_NOT_FOUND);
}

#[test]
fn copychunk_checks_both_opens_access() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let src = c.create_filled("src", 4096, READ_WRITE);
    let key = c.resume_key(src);
    let write_only_src = c.create_filled("wsrc", 4096, WRITE_ONLY);
    let write_only_key = c.resume_key(write_only_src);
    let dst = c.create("dst", READ_WRITE);
    let read_only = c.create_filled("ro", 0, READ_ONLY);
    let write_only = c.create_filled("wo", 0, WRITE_ONLY);
    let chunk = [(0, 0, 4096)];
    assert_eq!(
        c.copy(FSCTL_SRV_COPYCHUNK, dst, write_only_key, &chunk)
            .status,
        NtStatus::ACCESS_DENIED
    );
    assert_eq!(
        c.copy(FSCTL_SRV_COPYCHUNK, read_only, key, &chunk).status,
        NtStatus::ACCESS_DENIED
    );
    // FSCTL_SRV_COPYCHUNK reads the target too; FSCTL_SRV_COPYCHUNK_WRITE does not.
    assert_eq!(
        c.copy(FSCTL_SRV_COPYCHUNK, write_only, key, &chunk).status,
        NtStatus::ACCESS_DENIED
    );
    assert_eq!(
        c.copy(FSCTL_SRV_COPYCHUNK_WRITE, write_only, key, &chunk)
            .status,
        NtStatus::SUCCESS
    );
    assert_eq!(share.contents("wo").unwrap(), pattern(0, 4096));
    // FILE_EXECUTE reads the source too.
    let execute_src = c.create_filled("xsrc", 4096, EXECUTE_ONLY);
    let execute_key = c.resume_key(execute_src);
    assert_eq!(
        c.copy(FSCTL_SRV_COPYCHUNK, dst, execute_key, &chunk).status,
        NtStatus::SUCCESS
    );
}

#[test]
fn copychunk_stops_at_a_locked_range_or_the_source_end() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let src = c.create_filled("src", 8192, READ_WRITE);
    let dst = c.create("dst", READ_WRITE);
    let key = c.resume_key(src);
    // Another open of the source holds the second half exclusively.
    let holder = c.create_filled("src", 8192, READ_WRITE);
    let lock = |flags| LockRequest {
        lock_sequence: 0,
        file_id: holder,
        locks: vec![LockElement {
            offset: 4096,
            length: 4096,
            flags,
        }],
    };
    assert_eq!(
        c.status(&lock(LockFlags::EXCLUSIVE_LOCK)),
        NtStatus::SUCCESS
    );
    let answer = c.copy(
        FSCTL_SRV_COPYCHUNK,
        dst,
        key,
        &[(0, 0, 4096), (4096, 4096, 4096)],
    );
    assert_eq!(answer.status, NtStatus::FILE_LOCK_CONFLICT);
    assert_eq!(
        answer.copied(),
        SrvCopychunkResponse {
            chunks_written: 1,
            chunk_bytes_written: 0,
            total_bytes_written: 4096
        }
    );
    assert_eq!(c.status(&lock(LockFlags::UNLOCK)), NtStatus::SUCCESS);
    // A lock on the target blocks the write.
    let target_holder = c.create("dst", READ_WRITE);
    let target_lock = LockRequest {
        file_id: target_holder,
        ..lock(LockFlags::SHARED_LOCK)
    };
    assert_eq!(c.status(&target_lock), NtStatus::SUCCESS);
    let answer = c.copy(FSCTL_SRV_COPYCHUNK, dst, key, &[(0, 4096, 4096)]);
    assert_eq!(answer.status, NtStatus::FILE_LOCK_CONFLICT);

    // Past the source's end: STATUS_INVALID_VIEW_SIZE, after the chunks before it.
    let answer = c.copy(FSCTL_SRV_COPYCHUNK, dst, key, &[(0, 0, 8), (8190, 0, 8)]);
    assert_eq!(answer.status, NtStatus::INVALID_VIEW_SIZE);
    assert_eq!(answer.copied().chunks_written, 1);
    let answer = c.copy(FSCTL_SRV_COPYCHUNK, dst, key, &[(u64::MAX - 2, 0, 8)]);
    assert_eq!(answer.status, NtStatus::INVALID_VIEW_SIZE);
}

#[test]
fn compression_is_none_and_stays_none() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let file = c.create("f", READ_WRITE);
    let get = c.ioctl(FSCTL_GET_COMPRESSION, file, Vec::new(), 2);
    assert_eq!(get.status, NtStatus::SUCCESS);
    assert_eq!(get.output.unwrap(), CompressionState::NONE.to_bytes());
    assert_eq!(
        c.ioctl(FSCTL_GET_COMPRESSION, file, Vec::new(), 1).status,
        NtStatus::INVALID_PARAMETER
    );
    let set = |c: &mut Client, file, state: CompressionState| {
        c.ioctl(FSCTL_SET_COMPRESSION, file, state.to_bytes(), 0)
            .status
    };
    assert_eq!(set(&mut c, file, CompressionState::NONE), NtStatus::SUCCESS);
    assert_eq!(
        set(&mut c, file, CompressionState::DEFAULT),
        NtStatus::NOT_SUPPORTED
    );
    assert_eq!(
        set(&mut c, file, CompressionState::LZNT1),
        NtStatus::NOT_SUPPORTED
    );
    assert_eq!(
        set(&mut c, file, CompressionState(0x42)),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(
        c.ioctl(FSCTL_SET_COMPRESSION, file, vec![0], 0).status,
        NtStatus::INVALID_PARAMETER
    );
    let read_only = c.create_filled("ro", 0, READ_ONLY);
    assert_eq!(
        set(&mut c, read_only, CompressionState::NONE),
        NtStatus::ACCESS_DENIED
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A real resume key followed by arbitrary bytes (ChunkCount, Reserved, chunks), any
    /// response size, either control: an answer, never a panic, and never more reported
    /// copied than the limits allow.
    #[test]
    fn arbitrary_copychunk_inputs_never_panic(
        rest in prop::collection::vec(any::<u8>(), 0..200),
        max_output in 0u32..64,
        write in any::<bool>(),
    ) {
        let share = MemoryBackend::new();
        let mut c = Client::new(&share);
        let src = c.create_filled("src", 4096, READ_WRITE);
        let dst = c.create("dst", READ_WRITE);
        let mut input = c.resume_key(src).to_vec();
        input.extend_from_slice(&rest);
        let ctl_code = if write { FSCTL_SRV_COPYCHUNK_WRITE } else { FSCTL_SRV_COPYCHUNK };
        let answer = c.ioctl(ctl_code, dst, input, max_output);
        if let Some(output) = answer.output {
            let copied = SrvCopychunkResponse::read_bytes("output", &output).unwrap();
            prop_assert!(copied.total_bytes_written <= 16 * 1024 * 1024);
        }
    }
}

#[test]
fn a_files_object_id_is_the_same_each_time_and_its_own() {
    const FSCTL_CREATE_OR_GET_OBJECT_ID: u32 = 0x0009_00c0;
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    let a = c.create("a", READ_WRITE);
    let b = c.create("b", READ_WRITE);
    let id = |c: &mut Client, f| c.ioctl(FSCTL_CREATE_OR_GET_OBJECT_ID, f, Vec::new(), 64);
    let first = id(&mut c, a);
    assert_eq!(first.status, NtStatus::SUCCESS);
    let first = first.output.unwrap();
    assert_eq!(first.len(), 64);
    // BirthObjectId is the ObjectId; DomainId is zero.
    assert_eq!(first[32..48], first[..16]);
    assert_eq!(first[48..], [0; 16]);
    assert_eq!(id(&mut c, a).output.unwrap(), first);
    let other = id(&mut c, b).output.unwrap();
    assert_ne!(other[..16], first[..16]);
    // The same volume.
    assert_eq!(other[16..32], first[16..32]);
    assert_eq!(
        c.ioctl(FSCTL_CREATE_OR_GET_OBJECT_ID, a, Vec::new(), 32)
            .status,
        NtStatus::BUFFER_TOO_SMALL
    );
}

/// FILE_ALLOCATED_RANGE_BUFFER / FILE_ZERO_DATA_INFORMATION.
fn file_range(offset: i64, second: i64) -> Vec<u8> {
    FileRange { offset, second }.to_bytes()
}

/// The (offset, length) entries of a FSCTL_QUERY_ALLOCATED_RANGES output.
fn ranges(answer: &Answer) -> Vec<(i64, i64)> {
    answer
        .output
        .as_deref()
        .unwrap_or_default()
        .chunks(FileRange::LEN)
        .map(|c| {
            let r = FileRange::read_bytes("output", c).unwrap();
            (r.offset, r.second)
        })
        .collect()
}

#[test]
fn sparse_files_set_query_allocated_ranges_and_zero_data_as_windows_answers() {
    let share = MemoryBackend::new();
    let mut c = Client::new(&share);
    // Three 4 KiB blocks of data.
    let file = c.create_filled("s.bin", 3 * 4096, READ_WRITE);
    let whole = file_range(0, 1 << 20);
    // Not sparse: all of it is one range.
    let answer = c.ioctl(FSCTL_QUERY_ALLOCATED_RANGES, file, whole.clone(), 1024);
    assert_eq!(answer.status, NtStatus::SUCCESS);
    assert_eq!(ranges(&answer), [(0, 3 * 4096)]);
    // Marked sparse (no input: set), then the middle block zeroed: two ranges.
    assert_eq!(
        c.ioctl(FSCTL_SET_SPARSE, file, Vec::new(), 0).status,
        NtStatus::SUCCESS
    );
    let zero = file_range(4096, 2 * 4096);
    assert_eq!(
        c.ioctl(FSCTL_SET_ZERO_DATA, file, zero, 0).status,
        NtStatus::SUCCESS
    );
    let answer = c.ioctl(FSCTL_QUERY_ALLOCATED_RANGES, file, whole.clone(), 1024);
    assert_eq!(ranges(&answer), [(0, 4096), (2 * 4096, 4096)]);
    assert_eq!(share.contents("s.bin").unwrap()[4096..2 * 4096], [0; 4096]);
    // Room for one: it, with STATUS_BUFFER_OVERFLOW; for none, STATUS_BUFFER_TOO_SMALL.
    let answer = c.ioctl(FSCTL_QUERY_ALLOCATED_RANGES, file, whole.clone(), 16);
    assert_eq!(answer.status, NtStatus::BUFFER_OVERFLOW);
    assert_eq!(ranges(&answer), [(0, 4096)]);
    let answer = c.ioctl(FSCTL_QUERY_ALLOCATED_RANGES, file, whole.clone(), 15);
    assert_eq!(answer.status, NtStatus::BUFFER_TOO_SMALL);
    // Nothing there: success, empty, whatever the room.
    let past = file_range(3 * 4096, 100);
    let answer = c.ioctl(FSCTL_QUERY_ALLOCATED_RANGES, file, past, 0);
    assert_eq!(
        (answer.status, ranges(&answer)),
        (NtStatus::SUCCESS, vec![])
    );
    // Malformed inputs.
    for bad in [
        Vec::new(),
        file_range(0, 10)[..15].to_vec(),
        file_range(-1, 10),
        file_range(512, -1),
    ] {
        let answer = c.ioctl(FSCTL_QUERY_ALLOCATED_RANGES, file, bad, 1024);
        assert_eq!(answer.status, NtStatus::INVALID_PARAMETER);
    }
    let reversed = file_range(4096, 4095);
    assert_eq!(
        c.ioctl(FSCTL_SET_ZERO_DATA, file, reversed, 0).status,
        NtStatus::INVALID_PARAMETER
    );
    // Cleared by SetSparse = 0: all of it is one range again.
    assert_eq!(
        c.ioctl(FSCTL_SET_SPARSE, file, vec![0], 0).status,
        NtStatus::SUCCESS
    );
    let answer = c.ioctl(FSCTL_QUERY_ALLOCATED_RANGES, file, whole.clone(), 1024);
    assert_eq!(ranges(&answer), [(0, 3 * 4096)]);

    // Access: querying needs FILE_READ_DATA, zeroing FILE_WRITE_DATA, marking any write.
    let write_only = c.create_filled("s.bin", 3 * 4096, WRITE_ONLY);
    let answer = c.ioctl(
        FSCTL_QUERY_ALLOCATED_RANGES,
        write_only,
        whole.clone(),
        1024,
    );
    assert_eq!(answer.status, NtStatus::ACCESS_DENIED);
    assert_eq!(
        c.ioctl(FSCTL_SET_SPARSE, write_only, vec![1], 0).status,
        NtStatus::SUCCESS
    );
    let read_only = c.create_filled("s.bin", 3 * 4096, READ_ONLY);
    let zero = file_range(0, 10);
    assert_eq!(
        c.ioctl(FSCTL_SET_ZERO_DATA, read_only, zero.clone(), 0)
            .status,
        NtStatus::ACCESS_DENIED
    );
    assert_eq!(
        c.ioctl(FSCTL_SET_SPARSE, read_only, vec![1], 0).status,
        NtStatus::ACCESS_DENIED
    );
    // Another open's byte-range lock over the range: STATUS_FILE_LOCK_CONFLICT.
    let lock = LockRequest {
        lock_sequence: 0,
        file_id: read_only,
        locks: vec![LockElement {
            offset: 0,
            length: 4,
            flags: LockFlags::SHARED_LOCK | LockFlags::FAIL_IMMEDIATELY,
        }],
    };
    assert_eq!(c.status(&lock), NtStatus::SUCCESS);
    assert_eq!(
        c.ioctl(FSCTL_SET_ZERO_DATA, file, zero, 0).status,
        NtStatus::FILE_LOCK_CONFLICT
    );
}
