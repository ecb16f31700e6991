//! What a file server reports about the clients it serves (MS-SRVS 3.1.1, the abstract
//! data model's SessionList, TreeConnectList and FileList): the SMB server keeps the
//! tables and [`SrvsvcService`](super::SrvsvcService) reads them through
//! [`ServerActivity`] for NetrSessionEnum, NetrConnectionEnum and NetrFileEnum.

use std::fmt;
use std::time::SystemTime;

/// One authenticated session (MS-SRVS 3.1.1 Session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The client's address or name, without the leading `\\`.
    pub client: String,
    /// The user, `DOMAIN\name` (reported as `name`).
    pub user: String,
    /// Files open on the session.
    pub opens: u32,
    /// When the session was established.
    pub since: SystemTime,
    /// When it last connected a tree or opened a file.
    pub last_active: SystemTime,
}

/// One tree connect (MS-SRVS 3.1.1 TreeConnect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// An id unique among the server's connections.
    pub id: u32,
    /// The session's client, without the leading `\\`.
    pub client: String,
    /// The session's user, `DOMAIN\name`.
    pub user: String,
    /// The share's name.
    pub share: String,
    /// The share's `STYPE_*`.
    pub share_type: u32,
    /// Files open on the tree.
    pub opens: u32,
    /// When the tree was connected.
    pub since: SystemTime,
}

/// One open file (MS-SRVS 3.1.1 Open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRecord {
    /// An id unique among the server's opens.
    pub id: u32,
    /// The session's user, `DOMAIN\name`.
    pub user: String,
    /// The file as Windows names it (`C:\srv\data\report.txt`).
    pub path: String,
    /// `PERM_FILE_*`.
    pub permissions: u32,
    /// Byte-range locks the open holds.
    pub locks: u32,
}

/// The server's live tables, as srvsvc enumerates them. Implementations answer from
/// memory (the SMB server's tables); they are called on the pipe's thread.
pub trait ServerActivity: Send + Sync + fmt::Debug {
    /// Every authenticated session.
    fn sessions(&self) -> Vec<SessionRecord>;

    /// Every tree connect.
    fn connections(&self) -> Vec<ConnectionRecord>;

    /// Every open file.
    fn opens(&self) -> Vec<OpenRecord>;
}

/// A server whose tables are empty (no SMB server behind the service).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoActivity;

impl ServerActivity for NoActivity {
    fn sessions(&self) -> Vec<SessionRecord> {
        Vec::new()
    }

    fn connections(&self) -> Vec<ConnectionRecord> {
        Vec::new()
    }

    fn opens(&self) -> Vec<OpenRecord> {
        Vec::new()
    }
}
