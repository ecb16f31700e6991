//! Tests and fuzzing: a connection already past NEGOTIATE with one logged-on session
//! whose requests need no signature, so the file commands can be driven (and fuzzed)
//! without a DC. Compiled only for tests and with the `fuzzing` feature.

use std::sync::Arc;

use adjoin_auth::ntlm::ServerIdentity;

use super::backend::memory::MemoryBackend;
use super::session::{Auth, Session};
use super::share::{DiskShare, Shares};
use super::token::UserToken;
use super::{ServerConfig, ServerConnection};
use crate::proto::Dialect;
use crate::signing::{PreauthHash, Signer};

impl ServerConnection {
    /// A connection at `dialect` with session 1 logged on as `token`; requests on it are
    /// not signature-checked. The credit window is the fresh one (message id 0 next).
    pub fn logged_on_for_tests(
        config: Arc<ServerConfig>,
        dialect: Dialect,
        token: UserToken,
    ) -> Self {
        let mut conn = Self::new(config);
        conn.dialect = Some(dialect);
        conn.unsigned = true;
        let signer = Signer::derive(dialect, &[0x5a; 16], &PreauthHash::default());
        let mut session = Session::new(Auth::Valid(signer), PreauthHash::default());
        session.token = Some(Arc::new(token));
        conn.sessions.insert(1, session);
        conn.next_id = 2;
        conn
    }
}

#[cfg(test)]
impl ServerConnection {
    /// Sends `body` as request `message_id` of session 1 on tree `tree_id` (eight credits
    /// asked, a charge of one) and expects a reply: its header and bytes.
    pub(super) fn exchange<B: crate::proto::Body>(
        &mut self,
        message_id: u64,
        tree_id: u32,
        flags: crate::proto::HeaderFlags,
        body: &B,
    ) -> (crate::proto::Header, Vec<u8>) {
        use crate::proto::Header;
        let header = Header {
            message_id,
            session_id: 1,
            tree_id,
            credits: 8,
            credit_charge: 1,
            flags,
            ..Header::request(B::COMMAND)
        };
        match self.handle(&body.to_message(&header)) {
            Ok(super::Step::Reply(Some(reply))) => (
                Header::from_message(&reply).expect("a reply decodes"),
                reply,
            ),
            other => panic!("no reply: {other:?}"),
        }
    }
}

/// A server `FILES.example.test` of domain EXAMPLE, NTLM only, with `shares`.
pub fn test_config(shares: Shares) -> Arc<ServerConfig> {
    Arc::new(ServerConfig {
        identity: ServerIdentity {
            netbios_domain: "EXAMPLE".into(),
            netbios_computer: "FILES".into(),
            dns_domain: "example.test".into(),
            dns_computer: "files.example.test".into(),
        },
        server_guid: [1; 16],
        comment: String::new(),
        shares,
        tokens: None,
        kerberos: None,
        ipc: Default::default(),
        encrypt_data: false,
    })
}

/// One writable share `mem` on `backend`, for anyone.
pub fn memory_share(backend: &MemoryBackend) -> Shares {
    Shares::new(vec![DiskShare {
        name: "mem".into(),
        comment: String::new(),
        path: "/mem".into(),
        read_only: false,
        allowed_gids: None,
        encrypt: false,
        backend: Arc::new(backend.clone()),
    }])
}

/// A file's metadata for unit tests: inode 7 on device 9, owned by `uid` and `gid`
/// with permission bits `mode`, everything else zero.
#[cfg(test)]
pub(super) fn stat(uid: u32, gid: u32, mode: u32) -> super::backend::Stat {
    super::backend::Stat {
        creation: 0,
        last_access: 0,
        last_write: 0,
        change: 0,
        allocation_size: 0,
        end_of_file: 0,
        directory: false,
        read_only: mode & 0o222 == 0,
        file_index: 7,
        links: 1,
        device: 9,
        uid,
        gid,
        mode,
        sparse: false,
    }
}

/// The unit tests' user: EXAMPLE\alice. As root, file calls switch to the token's uid
/// (never 0); as anyone else only the process's own uid is served.
#[cfg(test)]
pub(super) fn alice() -> UserToken {
    let me = rustix::process::geteuid();
    let uid = if me.is_root() { 4242 } else { me.as_raw() };
    UserToken {
        name: r"EXAMPLE\alice".into(),
        user_sid: "S-1-5-21-1-2-3-1104".parse().unwrap(),
        group_sids: Vec::new(),
        uid,
        gid: uid,
        groups: vec![uid],
    }
}
