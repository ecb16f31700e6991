//! The file server past logon: `ServerConnection::handle` on a connection with a
//! logged-on session (`logged_on_for_tests`, the `fuzzing` feature), a tree connected to an
//! in-memory share and a file open, fed a sequence of requests cut from the input. Each
//! request's header is made valid (session, tree, a fresh message id, one of the file
//! commands) so the fuzzer spends its time in the commands' bodies and in the state they
//! build up (opens, listings, locks, renames, delete-on-close). One more pick is a
//! server-side copy: the harness asks for the open's resume key and sends an
//! FSCTL_SRV_COPYCHUNK(_WRITE) whose SRV_COPYCHUNK_COPY is that key followed by the
//! fuzzer's bytes, so the copy itself (not only the key check) is reached; another is a
//! sparse-file control (FSCTL_SET_SPARSE, FSCTL_QUERY_ALLOCATED_RANGES or
//! FSCTL_SET_ZERO_DATA) on the open file with the fuzzer's bytes as its input.
#![no_main]

use adjoin_rpc::codec::Codec;
use adjoin_smb::proto::{
    Body, Command, CreateRequest, CreateResponse, Dialect, FSCTL_QUERY_ALLOCATED_RANGES,
    FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA, FSCTL_SRV_COPYCHUNK, FSCTL_SRV_COPYCHUNK_WRITE,
    FSCTL_SRV_REQUEST_RESUME_KEY, FileId, Header, HeaderFlags, IoctlRequest, IoctlResponse,
    ResumeKeyResponse, TreeConnectRequest,
};
use adjoin_smb::server::backend::memory::MemoryBackend;
use adjoin_smb::server::testing::{memory_share, test_config};
use adjoin_smb::server::token::UserToken;
use adjoin_smb::server::{ServerConnection, Step};
use libfuzzer_sys::fuzz_target;

const COMMANDS: [Command; 13] = [
    Command::CREATE,
    Command::CLOSE,
    Command::READ,
    Command::WRITE,
    Command::FLUSH,
    Command::LOCK,
    Command::IOCTL,
    Command::QUERY_DIRECTORY,
    Command::QUERY_INFO,
    Command::SET_INFO,
    Command::TREE_DISCONNECT,
    Command::ECHO,
    Command::LOGOFF,
];

fn connection() -> (ServerConnection, u32, FileId) {
    let config = test_config(memory_share(&MemoryBackend::new()));
    // The fuzzer runs as an ordinary user: the token is that user, so no credentials change.
    let uid = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(1000);
    let token = UserToken {
        name: r"EXAMPLE\fuzz".into(),
        user_sid: "S-1-5-21-1-2-3-1000".parse().expect("a SID"),
        group_sids: Vec::new(),
        uid,
        gid: uid,
        groups: vec![uid],
    };
    let mut conn = ServerConnection::logged_on_for_tests(config, Dialect::SMB311, token);
    let header = |id, command| Header {
        message_id: id,
        session_id: 1,
        credits: 64,
        credit_charge: 1,
        ..Header::request(command)
    };
    let tree = TreeConnectRequest {
        flags: 0,
        path: r"\\files\mem".into(),
    };
    let Ok(Step::Reply(Some(reply))) =
        conn.handle(&tree.to_message(&header(0, Command::TREE_CONNECT)))
    else {
        panic!("the tree connect is answered");
    };
    let tree_id = Header::from_message(&reply).expect("a reply").tree_id;
    let create = CreateRequest {
        desired_access: 0x0001_0083,
        share_access: 7,
        create_disposition: 5,
        name: "f".into(),
        ..CreateRequest::default()
    };
    let Ok(Step::Reply(Some(reply))) = conn.handle(&create.to_message(&Header {
        tree_id,
        ..header(1, Command::CREATE)
    })) else {
        panic!("the create is answered");
    };
    let (_, created) = CreateResponse::from_message(&reply).expect("the file is created");
    (conn, tree_id, created.file_id)
}

/// A server-side copy within `file`: asks for its resume key (with `header`'s message
/// id), then returns the copy's IOCTL (the next id): the key, then `body` as ChunkCount,
/// Reserved and the chunks; the first byte of `body` picks the control and the response
/// size allowed.
fn copychunk(
    conn: &mut ServerConnection,
    header: &Header,
    file: FileId,
    body: &[u8],
) -> Option<Vec<u8>> {
    let ask = IoctlRequest {
        ctl_code: FSCTL_SRV_REQUEST_RESUME_KEY,
        file_id: file,
        max_output_response: 32,
        flags: IoctlRequest::IS_FSCTL,
        ..IoctlRequest::default()
    };
    let Ok(Step::Reply(Some(reply))) = conn.handle(&ask.to_message(header)) else {
        return None;
    };
    let (_, answer) = IoctlResponse::from_message(&reply).ok()?;
    let key = ResumeKeyResponse::read_bytes("output", &answer.output).ok()?;
    let (&pick, chunks) = body.split_first()?;
    let mut input = key.resume_key.to_vec();
    input.extend_from_slice(chunks);
    let copy = IoctlRequest {
        ctl_code: if pick & 1 == 0 {
            FSCTL_SRV_COPYCHUNK
        } else {
            FSCTL_SRV_COPYCHUNK_WRITE
        },
        file_id: file,
        max_output_response: u32::from(pick >> 1),
        flags: IoctlRequest::IS_FSCTL,
        input,
        ..IoctlRequest::default()
    };
    Some(copy.to_message(&Header {
        message_id: header.message_id + 1,
        ..header.clone()
    }))
}

/// A sparse-file control on `file`: the first byte of `body` picks the control and the
/// response size allowed, the rest is its input.
fn sparse(header: &Header, file: FileId, body: &[u8]) -> Option<Vec<u8>> {
    let (&pick, input) = body.split_first()?;
    let controls = [
        FSCTL_SET_SPARSE,
        FSCTL_QUERY_ALLOCATED_RANGES,
        FSCTL_SET_ZERO_DATA,
    ];
    let req = IoctlRequest {
        ctl_code: controls[usize::from(pick) % controls.len()],
        file_id: file,
        max_output_response: u32::from(pick >> 2) * 8,
        flags: IoctlRequest::IS_FSCTL,
        input: input.to_vec(),
        ..IoctlRequest::default()
    };
    Some(req.to_message(header))
}

fuzz_target!(|data: &[u8]| {
    let (mut conn, tree_id, file) = connection();
    let mut next_id = 2;
    // Requests separated by 0xFF; the first byte of each picks the command (or the copy)
    // and whether it is related to the one before.
    for chunk in data.split(|b| *b == 0xff).take(32) {
        let Some((&pick, body)) = chunk.split_first() else {
            continue;
        };
        let header = |command| Header {
            message_id: next_id,
            session_id: 1,
            tree_id,
            credits: 1,
            credit_charge: 1,
            ..Header::request(command)
        };
        let which = usize::from(pick & 0x7f) % (COMMANDS.len() + 2);
        let msg = match COMMANDS.get(which) {
            Some(&command) => {
                let mut msg = Vec::new();
                Header {
                    flags: if pick & 0x80 != 0 {
                        HeaderFlags::RELATED_OPERATIONS
                    } else {
                        HeaderFlags::empty()
                    },
                    ..header(command)
                }
                .encode(&mut msg);
                msg.extend_from_slice(body);
                msg
            }
            None if which == COMMANDS.len() => {
                let ask = header(Command::IOCTL);
                next_id += 1;
                match copychunk(&mut conn, &ask, file, body) {
                    Some(msg) => msg,
                    None => continue,
                }
            }
            None => match sparse(&header(Command::IOCTL), file, body) {
                Some(msg) => msg,
                None => continue,
            },
        };
        next_id += 1;
        if conn.handle(&msg).is_err() {
            return;
        }
    }
});
