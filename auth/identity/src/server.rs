//! The local socket the NSS and PAM modules and the CLI talk to (docs/identity-protocol.md):
//! one task per client, the peer's credentials checked with SO_PEERCRED, and a bound and
//! a deadline on everything a client can make the daemon hold.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use adjoin_idproto::{ErrorKind, MAX_REQUEST, Request, Response, frame_len};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, info, warn};

use crate::fastcache::FastCache;
use crate::logon::Logons;
use crate::service::Identity;

/// Bounds on what clients can make the daemon hold.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Clients connected at once; more wait in the listen backlog. Applied by [`bind`], to
    /// the socket rather than to one server, so a reload does not double it.
    pub max_clients: usize,
    /// How long a client may take to send a whole request (and how long an idle client
    /// stays connected between requests).
    pub request_deadline: Duration,
    /// How long a client may take to read a reply.
    pub reply_deadline: Duration,
    /// How long one request may take to answer (a logon waits for the DC).
    pub answer_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_clients: 1024,
            request_deadline: Duration::from_secs(10),
            reply_deadline: Duration::from_secs(10),
            answer_deadline: Duration::from_secs(60),
        }
    }
}

/// The daemon's identity side: the service, logons, and the fast cache file.
pub struct IdentityServer {
    identity: Arc<Identity>,
    logons: Logons,
    limits: Limits,
    wrote: Notify,
    stats: Option<StatsSource>,
}

/// Where [`Request::ServerStats`] is answered from (the SMB server's counters, in
/// adjoind): called with `reset`, returns JSON.
pub type StatsSource = Arc<dyn Fn(bool) -> String + Send + Sync>;

/// The identity socket and its client slots, which outlive a reload: each server started on
/// it (see [`IdentityServer::serve`]) takes its clients' slots from the same
/// `max_clients`, so the bound holds across reloads too.
#[derive(Debug)]
pub struct Listener {
    socket: UnixListener,
    slots: Arc<Semaphore>,
}

/// Binds `path` (removing a stale socket, creating its directory 0755), mode 0666 so every
/// local user can look names up, with `limits.max_clients` client slots.
pub fn bind(path: &Path, limits: &Limits) -> std::io::Result<Listener> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let socket = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    Ok(Listener {
        socket,
        slots: Arc::new(Semaphore::new(limits.max_clients)),
    })
}

impl std::fmt::Debug for IdentityServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityServer")
            .field("limits", &self.limits)
            .field("stats", &self.stats.is_some())
            .finish_non_exhaustive()
    }
}

impl IdentityServer {
    /// A server over `identity` and `logons`.
    pub fn new(
        identity: Arc<Identity>,
        logons: Logons,
        limits: Limits,
        stats: Option<StatsSource>,
    ) -> Arc<Self> {
        Arc::new(Self {
            identity,
            logons,
            limits,
            wrote: Notify::new(),
            stats,
        })
    }

    /// Accepts clients, each in its own task, as many at once as the listener has slots; a
    /// failed accept (no descriptors left) is logged and retried, never fatal. The listener
    /// is shared so that a reload can start the new server on it before the old one stops:
    /// the socket stays bound throughout, and no client ever finds it missing.
    pub async fn serve(self: Arc<Self>, listener: Arc<Listener>) -> std::io::Result<()> {
        loop {
            let Ok(slot) = Arc::clone(&listener.slots).acquire_owned().await else {
                return Ok(());
            };
            let stream = match listener.socket.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or memory: keep serving those connected, retry soon.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let me = Arc::clone(&self);
            tokio::spawn(async move {
                if let Err(e) = me.client(stream).await {
                    debug!(error = %e, "client ended");
                }
                drop(slot);
            });
        }
    }

    /// Rewrites the NSS fast cache file whenever the cache changes (at most every 200 ms).
    pub async fn keep_fast_cache(self: Arc<Self>, path: PathBuf) {
        let mut writer = FastCache::new(path);
        let mut written = 0;
        loop {
            let generation = self
                .identity
                .generation
                .load(std::sync::atomic::Ordering::Relaxed);
            if generation != written {
                let identity = Arc::clone(&self.identity);
                let result = tokio::task::spawn_blocking(move || {
                    let r = writer.write(&identity);
                    (writer, r)
                })
                .await;
                match result {
                    Ok((w, r)) => {
                        writer = w;
                        if let Err(e) = r {
                            warn!(error = %e, "cannot write the NSS fast cache");
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "the fast cache writer failed");
                        return;
                    }
                }
                written = generation;
                self.wrote.notify_waiters();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Refreshes entries nearing expiry, every quarter of their lifetime (at most once a
    /// minute, at least once a second), at most 200 a round.
    pub async fn refresh_ahead(self: Arc<Self>) {
        let ttl = self.identity.settings().cache_ttl;
        let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        loop {
            tokio::time::sleep(every).await;
            let n = self.identity.refresh_ahead(200).await;
            if n > 0 {
                debug!(refreshed = n, "refreshed cache entries before they expire");
            }
        }
    }

    async fn client(&self, mut stream: UnixStream) -> std::io::Result<()> {
        let peer = stream.peer_cred()?;
        loop {
            let Some(body) = self.read_request(&mut stream).await? else {
                return Ok(());
            };
            let response = match Request::decode(&body) {
                Ok(req) => {
                    let root = peer.uid() == 0;
                    match tokio::time::timeout(self.limits.answer_deadline, self.answer(req, root))
                        .await
                    {
                        Ok(r) => r,
                        Err(_) => error(ErrorKind::Unavailable, "the answer took too long"),
                    }
                }
                Err(e) => {
                    warn!(uid = peer.uid(), pid = ?peer.pid(), error = %e, "malformed request: closing");
                    let bytes = error(ErrorKind::Malformed, &e.to_string()).encode();
                    let _ =
                        tokio::time::timeout(self.limits.reply_deadline, stream.write_all(&bytes))
                            .await;
                    return Ok(());
                }
            };
            let bytes = response.encode();
            match tokio::time::timeout(self.limits.reply_deadline, stream.write_all(&bytes)).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    ));
                }
            }
        }
    }

    /// One request's body, `None` at a clean end; the whole frame must arrive within the
    /// request deadline.
    async fn read_request(&self, stream: &mut UnixStream) -> std::io::Result<Option<Vec<u8>>> {
        let read = async {
            let mut prefix = [0u8; 4];
            match stream.read_exact(&mut prefix).await {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(e) => return Err(e),
            }
            let len = frame_len(prefix, MAX_REQUEST)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
            let mut body = vec![0u8; len];
            stream.read_exact(&mut body).await?;
            Ok(Some(body))
        };
        match tokio::time::timeout(self.limits.request_deadline, read).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no whole request in time",
            )),
        }
    }

    async fn answer(&self, req: Request, root: bool) -> Response {
        let id = &self.identity;
        let lookup = |r: Result<Option<Response>, crate::IdentityError>| match r {
            Ok(Some(resp)) => resp,
            Ok(None) => Response::NotFound,
            Err(e) if e.is_offline() => error(ErrorKind::Unavailable, &e.to_string()),
            Err(e) => error(ErrorKind::Internal, &e.to_string()),
        };
        if needs_root(&req) && !root {
            return error(ErrorKind::Denied, "only root may ask this");
        }
        match req {
            Request::GetPwNam { name } => lookup(
                id.user_by_name(&name)
                    .await
                    .map(|u| u.map(|u| Response::Passwd(u.passwd))),
            ),
            Request::GetPwUid { uid } => lookup(
                id.user_by_uid(uid)
                    .await
                    .map(|u| u.map(|u| Response::Passwd(u.passwd))),
            ),
            Request::GetGrNam { name } => lookup(
                id.group_by_name(&name)
                    .await
                    .map(|g| g.map(|g| Response::Group(g.group))),
            ),
            Request::GetGrGid { gid } => lookup(
                id.group_by_gid(gid)
                    .await
                    .map(|g| g.map(|g| Response::Group(g.group))),
            ),
            Request::InitGroups { name } => {
                let user = match id.user_by_name(&name).await {
                    Ok(Some(u)) => u,
                    other => return lookup(other.map(|_| None)),
                };
                lookup(id.groups_of(&user).await.map(|g| Some(Response::Gids(g))))
            }
            Request::EnumUsers => lookup(id.all_users().await.map(|u| Some(Response::Users(u)))),
            Request::EnumGroups => lookup(id.all_groups().await.map(|g| Some(Response::Groups(g)))),
            Request::Authenticate {
                user,
                password,
                service,
                ..
            } => {
                info!(%user, %service, "authenticate");
                Response::Pam(self.logons.authenticate(&user, password.expose()).await)
            }
            Request::AccountCheck { user, .. } => {
                Response::Pam(self.logons.account_check(&user).await)
            }
            Request::OpenSession { user, .. } => {
                Response::Pam(self.logons.open_session(&user).await)
            }
            Request::CloseSession { user, .. } => Response::Pam(adjoin_idproto::PamReply {
                status: adjoin_idproto::PamStatus::Success,
                message: String::new(),
                user,
                env: Vec::new(),
            }),
            Request::ChangePassword {
                user,
                old_password,
                new_password,
            } => Response::Pam(
                self.logons
                    .change_password(&user, old_password.expose(), new_password.expose())
                    .await,
            ),
            Request::Status => Response::Json(self.status().to_string()),
            Request::ServerStats { reset } => match &self.stats {
                Some(stats) => Response::Json(stats(reset)),
                None => error(ErrorKind::Unavailable, "this daemon serves no SMB"),
            },
            Request::CacheShow => match id.cache().stats() {
                Ok(s) => Response::Json(serde_json::to_string(&s).unwrap_or_default()),
                Err(e) => error(ErrorKind::Internal, &e.to_string()),
            },
            Request::CacheFlush => match id.flush() {
                Ok(()) => {
                    // Answer once the fast cache file no longer holds the flushed entries.
                    let _ =
                        tokio::time::timeout(Duration::from_secs(2), self.wrote.notified()).await;
                    Response::Ok
                }
                Err(e) => error(ErrorKind::Internal, &e.to_string()),
            },
        }
    }

    fn status(&self) -> serde_json::Value {
        let id = &self.identity;
        let m = id.member();
        let dc = id
            .directory
            .try_lock()
            .ok()
            .and_then(|d| d.dc().map(|dc| dc.name.clone()))
            .unwrap_or_default();
        let stats = id.cache().stats().ok();
        serde_json::json!({
            "domain": m.dns_domain,
            "realm": m.realm,
            "netbios_domain": m.netbios_domain,
            "member": m.fqdn,
            "dc": dc,
            "online": !id.offline(),
            "id_mapping": format!("{:?}", id.settings().mode).to_lowercase(),
            "cache": stats,
        })
    }
}

fn needs_root(req: &Request) -> bool {
    !matches!(
        req,
        Request::GetPwNam { .. }
            | Request::GetPwUid { .. }
            | Request::GetGrNam { .. }
            | Request::GetGrGid { .. }
            | Request::InitGroups { .. }
            | Request::EnumUsers
            | Request::EnumGroups
            | Request::Status
    )
}

fn error(kind: ErrorKind, message: &str) -> Response {
    Response::Error {
        kind,
        message: message.to_owned(),
    }
}
