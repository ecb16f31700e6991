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
