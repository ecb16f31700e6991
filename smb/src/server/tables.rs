//! What the IPC$ services need from the server as a whole: who administers it
//! ([`AdminGroups`]), how names and SIDs translate, the domain's and the machine's SIDs
//! ([`IpcConfig`]), and the server-wide tables of sessions, tree connects and opens that
//! srvsvc enumerates (MS-SRVS 3.1.1's SessionList, TreeConnectList and FileList:
//! [`ServerTables`]).
//!
//! Each connection keeps its rows current through a [`ConnectionActivity`]: after a
//! request, [`ConnectionActivity::record`] compares a digest of what the connection holds
//! ([`ServerConnection::holding_fingerprint`]) with the last one and, when it changed,
//! replaces the connection's rows with [`ServerConnection::holding`]. Dropping the
//! activity (the connection ends) removes its rows.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::SystemTime;

use adjoin_rpc::lsa::SidResolver;
use adjoin_rpc::ndr::Sid;
use adjoin_rpc::server::Service;
use adjoin_rpc::srvsvc::{
    ConnectionRecord, OpenRecord, PERM_FILE_READ, PERM_FILE_WRITE, STYPE_DISKTREE, STYPE_IPC,
    STYPE_SPECIAL, ServerActivity, SessionRecord,
};

use super::files::access;
use super::token::UserToken;
use super::tree::Tree;
use super::{Open, ServerConnection};

/// MS-PAC / MS-DTYP 2.4.2.4 DOMAIN_GROUP_RID_ADMINS: Domain Admins.
const DOMAIN_ADMINS_RID: u32 = 512;

/// What the IPC$ pipes (srvsvc's administrative levels, lsarpc) need beyond the
/// server's names.
#[derive(Debug, Clone, Default)]
pub struct IpcConfig {
    /// The joined domain's SID: lsarpc's primary domain, and the Domain Admins check.
    /// `None` (a server outside a domain, tests): no lsarpc pipe.
    pub domain_sid: Option<Sid>,
    /// This machine's own account domain SID (lsarpc's account domain).
    pub machine_sid: Option<Sid>,
    /// The groups besides Domain Admins whose members administer the server.
    pub admins: AdminGroups,
    /// Translates the domain's accounts for lsarpc (`None`: only the domains and the
    /// well-known SIDs).
    pub resolver: Option<Arc<dyn SidResolver>>,
    /// The server-wide sessions, tree connects and opens.
    pub tables: Arc<ServerTables>,
    /// Named pipes a program adds to IPC$ beside srvsvc, wkssvc and lsarpc (the SDK's
    /// way to serve its own DCE/RPC interface over SMB).
    pub pipes: ExtraPipes,
}

/// Makes the RPC service behind an added pipe for one open, given the session's user
/// (`None` for an anonymous session); each open gets a service of its own.
pub type PipeFactory = Arc<dyn Fn(Option<&UserToken>) -> Box<dyn Service> + Send + Sync>;

/// Named pipes added to IPC$: `\PIPE\name` and the factory of its service. A name
/// the server already serves (srvsvc, wkssvc, lsarpc, lsass) keeps the server's own.
#[derive(Clone, Default)]
pub struct ExtraPipes(Vec<(String, PipeFactory)>);

impl ExtraPipes {
    /// Adds pipe `name` (without `\PIPE\`; matched without regard to case).
    #[must_use]
    pub fn with(mut self, name: &str, factory: PipeFactory) -> Self {
        self.0.push((name.to_owned(), factory));
        self
    }

    /// The service for an open of pipe `name` by `token`'s user, if the pipe was added.
    pub fn open(&self, name: &str, token: Option<&UserToken>) -> Option<Box<dyn Service>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, make)| make(token))
    }
}

impl fmt::Debug for ExtraPipes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

impl IpcConfig {
    /// Whether `token`'s user administers the server: a member of Domain Admins (the
    /// domain SID and RID 512 among the logon's groups) or of one of [`Self::admins`].
    pub fn is_admin(&self, token: &UserToken) -> bool {
        let domain_admins = self
            .domain_sid
            .as_ref()
            .and_then(|d| d.with_rid(DOMAIN_ADMINS_RID).ok());
        let admins = self.admins.current();
        token
            .group_sids
            .iter()
            .chain(std::iter::once(&token.user_sid))
            .any(|sid| Some(sid) == domain_admins.as_ref() || admins.contains(sid))
    }
}

/// The SIDs of the groups (or users) that administer the server besides Domain Admins,
/// replaceable while it runs (adjoind resolves the registry's
/// `Services\adjoind\AdminGroups` through the identity service, and again when it
/// changes).
#[derive(Debug, Clone, Default)]
pub struct AdminGroups(Arc<RwLock<Arc<Vec<Sid>>>>);

impl AdminGroups {
    /// A set of `sids`.
    pub fn new(sids: Vec<Sid>) -> Self {
        let set = Self::default();
        set.replace(sids);
        set
    }

    /// Replaces the set; pipes already open keep the answer they were opened with.
    pub fn replace(&self, sids: Vec<Sid>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(sids);
    }

    /// The current set.
    pub fn current(&self) -> Arc<Vec<Sid>> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// One authenticated session of a connection, as [`ServerConnection::holding`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionHolding {
    /// The connection's session id.
    pub id: u64,
    /// `DOMAIN\user` (empty when the logon has no token here).
    pub user: String,
    /// Its trees.
    pub trees: Vec<TreeHolding>,
    /// Its opens.
    pub opens: Vec<OpenHolding>,
}

/// One tree connect of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHolding {
    /// The session's tree id.
    pub id: u32,
    /// The share's name.
    pub share: String,
    /// The share's `STYPE_*`.
    pub share_type: u32,
}

/// One open of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHolding {
    /// The session's file id (volatile).
    pub id: u64,
    /// The tree it was opened on.
    pub tree: u32,
    /// The file as Windows names it (`C:\srv\data\report.txt`; a pipe: `\PIPE\srvsvc`).
    pub path: String,
    /// `PERM_FILE_*`.
    pub permissions: u32,
}

impl ServerConnection {
    /// What this connection holds now: its authenticated sessions with their tree
    /// connects and opens (files and pipes).
    pub fn holding(&self) -> Vec<SessionHolding> {
        let mut sessions: Vec<SessionHolding> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.signer().is_some())
            .map(|(id, s)| {
                let mut trees: Vec<TreeHolding> =
                    s.trees.iter().map(|(id, t)| tree_holding(*id, t)).collect();
                trees.sort_by_key(|t| t.id);
                let mut opens: Vec<OpenHolding> =
                    s.opens.iter().map(|(id, o)| open_holding(*id, o)).collect();
                opens.sort_by_key(|o| o.id);
                SessionHolding {
                    id: *id,
                    user: s.token.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
                    trees,
                    opens,
                }
            })
            .collect();
        sessions.sort_by_key(|s| s.id);
        sessions
    }

    /// A digest of [`Self::holding`] that changes whenever it does (session, tree and
    /// open ids, and who is logged on), cheap enough to take after every request.
    pub fn holding_fingerprint(&self) -> u64 {
        let mut sessions: Vec<(u64, u64)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.signer().is_some())
            .map(|(id, s)| {
                let mut h = DefaultHasher::new();
                s.token.as_ref().map(|t| &t.name).hash(&mut h);
                // Sums do not depend on the maps' order.
                let trees = s
                    .trees
                    .keys()
                    .fold(0u64, |a, k| a.wrapping_add(mix(u64::from(*k))));
                let opens = s.opens.keys().fold(0u64, |a, k| a.wrapping_add(mix(*k)));
                (s.trees.len(), trees, s.opens.len(), opens).hash(&mut h);
                (*id, h.finish())
            })
            .collect();
        sessions.sort_unstable();
        let mut h = DefaultHasher::new();
        sessions.hash(&mut h);
        h.finish()
    }
}

/// Spreads an id's bits before it is summed (so `{1, 4}` and `{2, 3}` differ).
fn mix(v: u64) -> u64 {
    (v ^ (v >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn tree_holding(id: u32, tree: &Tree) -> TreeHolding {
    match tree {
        Tree::Ipc => TreeHolding {
            id,
            share: "IPC$".into(),
            share_type: STYPE_IPC | STYPE_SPECIAL,
        },
        Tree::Disk(share) => TreeHolding {
            id,
            share: share.name.clone(),
            share_type: STYPE_DISKTREE,
        },
    }
}

fn open_holding(id: u64, open: &Open) -> OpenHolding {
    match open {
        Open::Pipe(tree, pipe) => OpenHolding {
            id,
            tree: *tree,
            path: format!(r"\PIPE\{}", pipe.name()),
            permissions: PERM_FILE_READ | PERM_FILE_WRITE,
        },
        Open::File(file) => {
            let mut path = format!("C:{}", file.share.path.replace('/', "\\"));
            if !file.path.as_str().is_empty() {
                path.push('\\');
                path.push_str(&file.path.as_str().replace('/', "\\"));
            }
            let mut permissions = 0;
            if file.access & (access::READ_DATA | access::EXECUTE) != 0 {
                permissions |= PERM_FILE_READ;
            }
            if file.access & (access::WRITE_DATA | access::APPEND_DATA) != 0 {
                permissions |= PERM_FILE_WRITE;
            }
            OpenHolding {
                id,
                tree: file.tree_id,
                path,
                permissions,
            }
        }
    }
}

/// A tree connect's row: its holding, its server-wide id, since when.
#[derive(Debug, Clone)]
struct TreeRow {
    tree: TreeHolding,
    id: u32,
    since: SystemTime,
}

/// An open's row.
#[derive(Debug, Clone)]
struct OpenRow {
    open: OpenHolding,
    id: u32,
}

/// A session's row.
#[derive(Debug, Clone)]
struct SessionRow {
    id: u64,
    user: String,
    since: SystemTime,
    last_active: SystemTime,
    trees: Vec<TreeRow>,
    opens: Vec<OpenRow>,
}

/// A connection's rows.
#[derive(Debug, Default)]
struct ConnectionRows {
    client: String,
    sessions: Vec<SessionRow>,
}

/// The server-wide tables: every connection's sessions, tree connects and opens.
#[derive(Default)]
pub struct ServerTables {
    connections: Mutex<BTreeMap<u64, ConnectionRows>>,
    next_connection: AtomicU64,
    /// Server-wide ids of tree connects and opens (CONNECTION_INFO's and FILE_INFO's).
    next_id: AtomicU32,
}

impl fmt::Debug for ServerTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTables")
            .field("connections", &self.lock().len())
            .finish_non_exhaustive()
    }
}

impl ServerTables {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, ConnectionRows>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn new_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    /// Replaces connection `conn`'s rows with `holding`, keeping the ids and times of
    /// what it already held; a session whose trees or opens changed was active `now`.
    fn record(&self, conn: u64, now: SystemTime, holding: Vec<SessionHolding>) {
        let mut connections = self.lock();
        let rows = connections.entry(conn).or_default();
        let old = std::mem::take(&mut rows.sessions);
        rows.sessions = holding
            .into_iter()
            .map(|s| {
                let before = old.iter().find(|o| o.id == s.id && o.user == s.user);
                self.session_row(s, before, now)
            })
            .collect();
    }

    fn session_row(
        &self,
        s: SessionHolding,
        before: Option<&SessionRow>,
        now: SystemTime,
    ) -> SessionRow {
        let trees: Vec<TreeRow> = s
            .trees
            .into_iter()
            .map(
                |tree| match before.and_then(|b| b.trees.iter().find(|t| t.tree == tree)) {
                    Some(row) => row.clone(),
                    None => TreeRow {
                        tree,
                        id: self.new_id(),
                        since: now,
                    },
                },
            )
            .collect();
        let opens: Vec<OpenRow> = s
            .opens
            .into_iter()
            .map(
                |open| match before.and_then(|b| b.opens.iter().find(|o| o.open == open)) {
                    Some(row) => row.clone(),
                    None => OpenRow {
                        open,
                        id: self.new_id(),
                    },
                },
            )
            .collect();
        let unchanged = before.is_some_and(|b| {
            b.trees.iter().map(|t| t.id).eq(trees.iter().map(|t| t.id))
                && b.opens.iter().map(|o| o.id).eq(opens.iter().map(|o| o.id))
        });
        SessionRow {
            id: s.id,
            since: before.map_or(now, |b| b.since),
            last_active: match before {
                Some(b) if unchanged => b.last_active,
                _ => now,
            },
            user: s.user,
            trees,
            opens,
        }
    }

    fn rows<T>(&self, f: impl Fn(&ConnectionRows, &SessionRow, &mut Vec<T>)) -> Vec<T> {
        let connections = self.lock();
        let mut out = Vec::new();
        for conn in connections.values() {
            for session in &conn.sessions {
                f(conn, session, &mut out);
            }
        }
        out
    }
}

impl ServerActivity for ServerTables {
    fn sessions(&self) -> Vec<SessionRecord> {
        self.rows(|conn, s, out| {
            out.push(SessionRecord {
                client: conn.client.clone(),
                user: s.user.clone(),
                opens: u32::try_from(s.opens.len()).unwrap_or(u32::MAX),
                since: s.since,
                last_active: s.last_active,
            });
        })
    }

    fn connections(&self) -> Vec<ConnectionRecord> {
        self.rows(|conn, s, out| {
            for t in &s.trees {
                let opens = s.opens.iter().filter(|o| o.open.tree == t.tree.id).count();
                out.push(ConnectionRecord {
                    id: t.id,
                    client: conn.client.clone(),
                    user: s.user.clone(),
                    share: t.tree.share.clone(),
                    share_type: t.tree.share_type,
                    opens: u32::try_from(opens).unwrap_or(u32::MAX),
                    since: t.since,
                });
            }
        })
    }

    fn opens(&self) -> Vec<OpenRecord> {
        self.rows(|_, s, out| {
            // Files only: the pipes a client uses (the one asking, too) are not files.
            for o in s
                .opens
                .iter()
                .filter(|o| !o.open.path.starts_with(r"\PIPE\"))
            {
                out.push(OpenRecord {
                    id: o.id,
                    user: s.user.clone(),
                    path: o.open.path.clone(),
                    permissions: o.open.permissions,
                    locks: 0,
                });
            }
        })
    }
}

/// One connection's place in the [`ServerTables`]: its rows are kept current by
/// [`Self::record`] and removed when this is dropped.
#[derive(Debug)]
pub struct ConnectionActivity {
    tables: Arc<ServerTables>,
    id: u64,
    /// The fingerprint last recorded.
    last: Mutex<Option<u64>>,
}

impl ConnectionActivity {
    /// A new connection in `tables`, its client not known yet.
    pub fn new(tables: &Arc<ServerTables>) -> Self {
        let id = tables.next_connection.fetch_add(1, Ordering::Relaxed);
        tables.lock().insert(id, ConnectionRows::default());
        Self {
            tables: Arc::clone(tables),
            id,
            last: Mutex::new(None),
        }
    }

    /// The client's address (or name), as sessions report it.
    pub fn set_client(&self, client: &str) {
        if let Some(rows) = self.tables.lock().get_mut(&self.id) {
            client.clone_into(&mut rows.client);
        }
    }

    /// Records what the connection holds when `fingerprint` (its
    /// [`ServerConnection::holding_fingerprint`]) differs from the last one recorded:
    /// `holding` is only called then.
    pub fn record(
        &self,
        now: SystemTime,
        fingerprint: u64,
        holding: impl FnOnce() -> Vec<SessionHolding>,
    ) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if *last == Some(fingerprint) {
            return;
        }
        *last = Some(fingerprint);
        self.tables.record(self.id, now, holding());
    }
}

impl Drop for ConnectionActivity {
    fn drop(&mut self) {
        self.tables.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    //! A logged-on connection driven message by message (no DC): its holdings reach the
    //! tables and srvsvc, and the pipes answer administrators and others as MS-SRVS
    //! says.

    use std::time::{Duration, UNIX_EPOCH};

    use adjoin_rpc::client::{BindAuth, ClientBinding, RpcError};
    use adjoin_rpc::lsa::{GetUserNameRequest, GetUserNameResponse};
    use adjoin_rpc::ndr::NdrParams;
    use adjoin_rpc::ntstatus::NtStatus;
    use adjoin_rpc::srvsvc::{
        NetrSessionEnumRequest, NetrSessionEnumResponse, NetrShareEnumRequest,
        NetrShareEnumResponse, Opnum, SessionEnumStruct, SessionEnumUnion, ShareEnumUnion,
        WinError,
    };
    use adjoin_rpc::uuid::SyntaxId;

    use super::super::backend::memory::MemoryBackend;
    use super::super::testing::{memory_share, test_config};
    use super::super::{ServerConfig, Step};
    use super::*;
    use crate::proto::{
        Body, CloseRequest, CreateRequest, CreateResponse, Dialect, FSCTL_PIPE_TRANSCEIVE, FileId,
        Header, IoctlRequest, IoctlResponse, TreeConnectRequest,
    };

    const DOMAIN: &str = "S-1-5-21-1-2-3";

    fn sid(s: &str) -> Sid {
        s.parse().unwrap()
    }

    fn token(groups: &[&str]) -> UserToken {
        // As root, file calls switch to the token's uid (never 0).
        let me = rustix::process::geteuid();
        let uid = if me.is_root() { 4242 } else { me.as_raw() };
        UserToken {
            name: r"EXAMPLE\alice".into(),
            user_sid: sid(&format!("{DOMAIN}-1103")),
            group_sids: groups.iter().map(|g| sid(g)).collect(),
            uid,
            gid: uid,
            groups: vec![uid],
        }
    }

    /// FILES with the share `mem`, in the domain (its SID and the machine's known) or
    /// not.
    fn config(in_domain: bool) -> Arc<ServerConfig> {
        let mut config = (*test_config(memory_share(&MemoryBackend::new()))).clone();
        if in_domain {
            config.ipc.domain_sid = Some(sid(DOMAIN));
            config.ipc.machine_sid = Some(sid("S-1-5-21-7-8-9"));
        }
        Arc::new(config)
    }

    /// A logged-on connection (session 1) and the ids it sends next.
    struct Client {
        conn: ServerConnection,
        next: u64,
    }

    impl Client {
        fn new(config: Arc<ServerConfig>, token: UserToken) -> Self {
            Self {
                conn: ServerConnection::logged_on_for_tests(config, Dialect::SMB311, token),
                next: 0,
            }
        }

        fn send<B: Body>(&mut self, tree: u32, body: &B) -> (Header, Vec<u8>) {
            let header = Header {
                message_id: self.next,
                session_id: 1,
                tree_id: tree,
                credits: 8,
                credit_charge: 1,
                ..Header::request(B::COMMAND)
            };
            self.next += 1;
            match self.conn.handle(&body.to_message(&header)).unwrap() {
                Step::Reply(Some(reply)) => (Header::from_message(&reply).unwrap(), reply),
                other => panic!("no reply: {other:?}"),
            }
        }

        fn tree_connect(&mut self, share: &str) -> u32 {
            let req = TreeConnectRequest {
                flags: 0,
                path: format!(r"\\files\{share}"),
            };
            let (header, _) = self.send(0, &req);
            assert_eq!(header.status, NtStatus::SUCCESS, "{share}");
            header.tree_id
        }

        fn create(&mut self, tree: u32, name: &str) -> Result<FileId, NtStatus> {
            let req = CreateRequest {
                desired_access: 0x0012_019f,
                share_access: 7,
                create_disposition: 3,
                name: name.into(),
                ..CreateRequest::default()
            };
            let (header, reply) = self.send(tree, &req);
            if header.status != NtStatus::SUCCESS {
                return Err(header.status);
            }
            Ok(CreateResponse::from_message(&reply).unwrap().1.file_id)
        }

        /// Opens pipe `name` on IPC$ and binds `syntax` over it.
        fn bind(&mut self, name: &str, syntax: SyntaxId) -> Result<Pipe, NtStatus> {
            let tree = self.tree_connect("IPC$");
            let file_id = self.create(tree, name)?;
            let mut binding = ClientBinding::new("test", BindAuth::None);
            let bind = binding.bind_pdu(syntax).unwrap();
            let ack = self.transceive(tree, file_id, bind);
            assert!(binding.handle_bind_reply(&ack).unwrap().is_none());
            Ok(Pipe {
                tree,
                file_id,
                binding,
            })
        }

        fn transceive(&mut self, tree: u32, file_id: FileId, input: Vec<u8>) -> Vec<u8> {
            let req = IoctlRequest {
                ctl_code: FSCTL_PIPE_TRANSCEIVE,
                file_id,
                max_input_response: 0,
                max_output_response: 65_536,
                flags: IoctlRequest::IS_FSCTL,
                input,
            };
            let (header, reply) = self.send(tree, &req);
            assert_eq!(header.status, NtStatus::SUCCESS);
            IoctlResponse::from_message(&reply).unwrap().1.output
        }

        /// Calls `opnum` over `pipe` (requests and replies of one fragment).
        fn call<Resp: NdrParams>(
            &mut self,
            pipe: &mut Pipe,
            opnum: u16,
            stub: Vec<u8>,
        ) -> Result<Resp, RpcError> {
            let (fragments, mut reassembler) = pipe.binding.request(opnum, stub).unwrap();
            let [fragment] = <[Vec<u8>; 1]>::try_from(fragments).unwrap();
            let reply = self.transceive(pipe.tree, pipe.file_id, fragment);
            let stub = pipe
                .binding
                .response_fragment(&mut reassembler, reply)?
                .unwrap();
            Ok(Resp::from_stub(&stub).unwrap())
        }
    }

    struct Pipe {
        tree: u32,
        file_id: FileId,
        binding: ClientBinding,
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn a_connections_holdings_reach_the_tables_and_go_with_it() {
        // Tables of their own: the connection's own activity (when the core records
        // it) goes to the config's.
        let tables = &Arc::new(ServerTables::default());
        let mut client = Client::new(config(false), token(&[]));
        let activity = ConnectionActivity::new(tables);
        activity.set_client("10.0.0.5");
        let record = |client: &Client, now| {
            activity.record(now, client.conn.holding_fingerprint(), || {
                client.conn.holding()
            });
        };
        record(&client, at(0));
        let mem = client.tree_connect("mem");
        let file = client.create(mem, "report.txt").unwrap();
        let before = client.conn.holding_fingerprint();
        record(&client, at(10));
        // Nothing changed: the holding is not even read.
        activity.record(at(20), client.conn.holding_fingerprint(), || unreachable!());

        let sessions = tables.sessions();
        assert_eq!(sessions.len(), 1);
        let s = &sessions[0];
        assert_eq!(
            (s.client.as_str(), s.user.as_str(), s.opens),
            ("10.0.0.5", r"EXAMPLE\alice", 1)
        );
        assert_eq!((s.since, s.last_active), (at(0), at(10)));
        let connections = tables.connections();
        assert_eq!(connections.len(), 1);
        assert_eq!(
            (connections[0].share.as_str(), connections[0].opens),
            ("mem", 1)
        );
        let opens = tables.opens();
        assert_eq!(opens.len(), 1);
        assert_eq!(opens[0].path, r"C:\mem\report.txt");
        assert_eq!(opens[0].permissions, PERM_FILE_READ | PERM_FILE_WRITE);

        let (header, _) = client.send(
            mem,
            &CloseRequest {
                flags: 0,
                file_id: file,
            },
        );
        assert_eq!(header.status, NtStatus::SUCCESS);
        assert_ne!(client.conn.holding_fingerprint(), before);
        record(&client, at(30));
        assert!(tables.opens().is_empty());
        let s = &tables.sessions()[0];
        assert_eq!((s.since, s.last_active, s.opens), (at(0), at(30), 0));
        assert_eq!(
            tables.connections()[0].id,
            connections[0].id,
            "the tree keeps its id"
        );

        drop(activity);
        assert!(tables.sessions().is_empty() && tables.connections().is_empty());
    }

    #[test]
    fn administrators_are_domain_admins_or_in_an_admin_group() {
        let member = config(true);
        let ipc = &member.ipc;
        assert!(!ipc.is_admin(&token(&[&format!("{DOMAIN}-513")])));
        assert!(ipc.is_admin(&token(&[
            &format!("{DOMAIN}-513"),
            &format!("{DOMAIN}-512")
        ])));
        // Another domain's Domain Admins are not this server's.
        assert!(!ipc.is_admin(&token(&["S-1-5-21-4-5-6-512"])));
        ipc.admins.replace(vec![sid(&format!("{DOMAIN}-1107"))]);
        assert!(ipc.is_admin(&token(&[&format!("{DOMAIN}-1107")])));
        ipc.admins.replace(Vec::new());
        assert!(!ipc.is_admin(&token(&[&format!("{DOMAIN}-1107")])));
        // Outside a domain, only the configured groups.
        assert!(
            !config(false)
                .ipc
                .is_admin(&token(&[&format!("{DOMAIN}-512")]))
        );
    }

    fn share_enum(client: &mut Client, pipe: &mut Pipe, level: u32) -> NetrShareEnumResponse {
        let stub = NetrShareEnumRequest::new(None, level).to_stub();
        client
            .call(pipe, Opnum::NETR_SHARE_ENUM.value(), stub)
            .unwrap()
    }

    /// MS-SRVS 3.1.4.8: the share paths (levels 2 and 502) for administrators only,
    /// through the srvsvc pipe the session opens.
    #[test]
    fn srvsvc_answers_administrators_and_others_as_windows() {
        let mut alice = Client::new(config(true), token(&[]));
        let mut pipe = alice.bind("srvsvc", SyntaxId::SRVSVC).unwrap();
        assert_eq!(
            share_enum(&mut alice, &mut pipe, 1).status,
            WinError::SUCCESS
        );
        assert_eq!(
            share_enum(&mut alice, &mut pipe, 2).status,
            WinError::ACCESS_DENIED
        );
        let sessions = NetrSessionEnumRequest {
            info_struct: SessionEnumStruct {
                session_info: SessionEnumUnion::empty(10),
            },
            prefered_maximum_length: u32::MAX,
            ..NetrSessionEnumRequest::default()
        };
        let resp: NetrSessionEnumResponse = alice
            .call(
                &mut pipe,
                Opnum::NETR_SESSION_ENUM.value(),
                sessions.to_stub(),
            )
            .unwrap();
        assert_eq!(resp.status, WinError::ACCESS_DENIED);

        let mut admin = Client::new(config(true), token(&[&format!("{DOMAIN}-512")]));
        let mut pipe = admin.bind("srvsvc", SyntaxId::SRVSVC).unwrap();
        let resp = share_enum(&mut admin, &mut pipe, 502);
        assert_eq!(resp.status, WinError::SUCCESS);
        let ShareEnumUnion::Level502(Some(shares)) = resp.info_struct.share_info else {
            panic!("{resp:?}");
        };
        let paths: Vec<_> = shares
            .entries()
            .iter()
            .map(|s| s.info.path.clone().unwrap().0)
            .collect();
        assert_eq!(paths, ["", r"C:\mem"]);
        let resp: NetrSessionEnumResponse = admin
            .call(
                &mut pipe,
                Opnum::NETR_SESSION_ENUM.value(),
                sessions.to_stub(),
            )
            .unwrap();
        assert_eq!(resp.status, WinError::SUCCESS);
    }

    #[test]
    fn lsarpc_is_a_domain_members_pipe() {
        let mut outside = Client::new(config(false), token(&[]));
        let ipc = outside.tree_connect("IPC$");
        assert_eq!(
            outside.create(ipc, "lsarpc"),
            Err(NtStatus::OBJECT_NAME_NOT_FOUND)
        );

        let mut alice = Client::new(config(true), token(&[]));
        let mut pipe = alice.bind("lsarpc", SyntaxId::LSA).unwrap();
        let resp: GetUserNameResponse = alice
            .call(&mut pipe, 45, GetUserNameRequest::with_domain().to_stub())
            .unwrap();
        assert_eq!(resp.status, NtStatus::SUCCESS);
        assert_eq!(resp.user_name.unwrap(), "alice");
        assert_eq!(resp.domain_name.unwrap().unwrap(), "EXAMPLE");
        // `lsass` is the same pipe.
        alice.bind("lsass", SyntaxId::LSA).unwrap();
    }
}
