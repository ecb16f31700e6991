//! The file server past logon: `ServerConnection::handle` on a connection with a
//! logged-on session (`logged_on_for_tests`, the `fuzzing` feature), a tree connected to an
//! in-memory share and a file open, fed a sequence of requests cut from the input. Each
//! request's header is made valid (session, tree, a fresh message id, one of the file
//! commands) so the fuzzer spends its time in the commands' bodies and in the state they
//! build up (opens, listings, locks, renames, delete-on-close).
#![no_main]

use adjoin_rpc::codec::Codec;
use adjoin_smb::proto::{
    Body, Command, CreateRequest, Dialect, Header, HeaderFlags, TreeConnectRequest,
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

fn connection() -> (ServerConnection, u32) {
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
    let _ = conn.handle(&create.to_message(&Header {
        tree_id,
        ..header(1, Command::CREATE)
    }));
    (conn, tree_id)
}

fuzz_target!(|data: &[u8]| {
    let (mut conn, tree_id) = connection();
    // Requests separated by 0xFF; the first byte of each picks the command and whether it
    // is related to the one before.
    for (i, chunk) in data.split(|b| *b == 0xff).take(32).enumerate() {
        let Some((&pick, body)) = chunk.split_first() else {
            continue;
        };
        let mut msg = Vec::new();
        Header {
            message_id: 2 + i as u64,
            session_id: 1,
            tree_id,
            credits: 1,
            credit_charge: 1,
            flags: if pick & 0x80 != 0 {
                HeaderFlags::RELATED_OPERATIONS
            } else {
                HeaderFlags::empty()
            },
            ..Header::request(COMMANDS[usize::from(pick & 0x7f) % COMMANDS.len()])
        }
        .encode(&mut msg);
        msg.extend_from_slice(body);
        if conn.handle(&msg).is_err() {
            return;
        }
    }
});
