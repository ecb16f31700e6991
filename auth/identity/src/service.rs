//! The identity service: lookups answered from the cache while fresh, from the DC when
//! not, and from the stale cache when no DC answers (offline), with one place that knows
//! the id mapping and the name forms.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use adjoin_idproto::{Group, Passwd};
use adjoin_ndr::Sid;
use tracing::{info, warn};

use crate::cache::{Cache, Cached, GroupRecord, UserRecord};
use crate::directory::{Directory, GroupEntry, UserEntry};
use crate::error::IdentityError;
use crate::idmap::{IdMap, IdMode, expand_template};
use crate::names::{DomainNames, NameQuery, plausible};
use crate::settings::{Member, Settings};

/// How long a "no such user or group" answer from the DC is remembered.
const NEGATIVE_TTL: Duration = Duration::from_secs(60);
/// At most this many negative answers are remembered.
const NEGATIVE_MAX: usize = 4096;
/// The most groups of one user prefetched with their members.
const PREFETCH_MAX: usize = 1024;
/// How long a lookup waits for the DC when the cache has a stale answer to give instead.
pub const STALE_BUDGET: Duration = Duration::from_secs(1);

/// Seconds since 1970.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The identity service of one joined domain.
#[derive(Debug)]
pub struct Identity {
    pub(crate) member: Member,
    pub(crate) settings: Settings,
    idmap: IdMap,
    names: DomainNames,
    pub(crate) directory: tokio::sync::Mutex<Directory>,
    pub(crate) cache: Cache,
    offline_until: Mutex<Option<Instant>>,
    negative: Mutex<HashMap<String, Instant>>,
    /// Bumped whenever the cache changes, so the fast cache file is rewritten.
    pub(crate) generation: std::sync::atomic::AtomicU64,
    /// Trusted domains whose users are resolved ([`Self::with_trusted`]).
    pub(crate) trusted: Vec<crate::trusted::Trusted>,
}

impl Identity {
    /// The service for `member`, looking up through `directory`, caching in the settings'
    /// cache file.
    pub fn new(
        member: Member,
        settings: Settings,
        directory: Directory,
    ) -> Result<Self, IdentityError> {
        let idmap = settings.id_map(&member)?;
        let cache = Cache::open(&settings.cache_path)?;
        Ok(Self {
            names: member.names(),
            member,
            settings,
            idmap,
            directory: tokio::sync::Mutex::new(directory),
            cache,
            offline_until: Mutex::new(None),
            negative: Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(1),
            trusted: Vec::new(),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The joined domain.
    pub fn member(&self) -> &Member {
        &self.member
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The domain's names.
    pub fn names(&self) -> &DomainNames {
        &self.names
    }

    /// True while the DC is considered unreachable.
    pub fn offline(&self) -> bool {
        let until = self.offline_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|t| Instant::now() < t)
    }

    fn changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn fresh(&self, fetched: u64) -> bool {
        unix_now() < fetched.saturating_add(self.settings.cache_ttl.as_secs())
    }

    /// Runs `op` against the directory under the DC deadline, unless the service is offline.
    /// A DC that does not answer marks the service offline for `Identity\OfflineRetrySeconds`.
    pub(crate) async fn online<T, F>(&self, op: F) -> Result<T, IdentityError>
    where
        F: AsyncFnOnce(&mut Directory) -> Result<T, IdentityError>,
    {
        self.online_within(self.settings.dc_timeout, op).await
    }

    /// [`Self::online`] with its own deadline (shorter when a stale answer is at hand).
    pub(crate) async fn online_within<T, F>(
        &self,
        deadline: Duration,
        op: F,
    ) -> Result<T, IdentityError>
    where
        F: AsyncFnOnce(&mut Directory) -> Result<T, IdentityError>,
    {
        if self.offline() {
            return Err(IdentityError::Offline {
                reason: "the DC did not answer recently".into(),
            });
        }
        let mut dir = self.directory.lock().await;
        // Callers queued behind one that found the DC gone must not each wait again.
        if self.offline() {
            return Err(IdentityError::Offline {
                reason: "the DC did not answer recently".into(),
            });
        }
        // Connecting (a DC, the machine's tickets, the bind) gets a deadline of its own.
        let deadline = if dir.connected() {
            deadline
        } else {
            deadline + self.settings.dc_timeout
        };
        let result = match tokio::time::timeout(deadline, op(&mut *dir)).await {
            Ok(r) => r,
            Err(_) => {
                // The exchange was cut off mid-way: its connection cannot be trusted.
                dir.reset();
                Err(IdentityError::Offline {
                    reason: format!("no answer within {deadline:?}"),
                })
            }
        };
        drop(dir);
        match result {
            Err(e) if e.is_offline() => {
                let retry = self.settings.offline_retry;
                warn!(error = %e, "the DC does not answer: serving from the cache for {retry:?}");
                *self.offline_until.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Instant::now() + retry);
                Err(e)
            }
            other => {
                let mut until = self.offline_until.lock().unwrap_or_else(|e| e.into_inner());
                if until.take().is_some() {
                    info!("the DC answers again: back online");
                }
                other
            }
        }
    }

    fn negative_hit(&self, key: &str) -> bool {
        let neg = self.negative.lock().unwrap_or_else(|e| e.into_inner());
        neg.get(key).is_some_and(|t| t.elapsed() < NEGATIVE_TTL)
    }

    fn remember_missing(&self, key: String) {
        let mut neg = self.negative.lock().unwrap_or_else(|e| e.into_inner());
        if neg.len() >= NEGATIVE_MAX {
            neg.retain(|_, t| t.elapsed() < NEGATIVE_TTL);
            if neg.len() >= NEGATIVE_MAX {
                neg.clear();
            }
        }
        neg.insert(key, Instant::now());
    }

    /// Serves a lookup: the fresh cache entry, else the DC (caching what it says), else the
    /// stale entry when the DC does not answer. With a stale entry at hand the DC gets at
    /// most [`STALE_BUDGET`], so NSS callers are answered well within their timeout.
    async fn lookup<T: Clone>(
        &self,
        negative_key: String,
        cached: Option<Cached<T>>,
        fetch: impl AsyncFnOnce(Duration) -> Result<Option<T>, IdentityError>,
    ) -> Result<Option<T>, IdentityError> {
        if let Some(c) = cached.as_ref().filter(|c| self.fresh(c.fetched)) {
            return Ok(Some(c.value.clone()));
        }
        if cached.is_none() && self.negative_hit(&negative_key) {
            return Ok(None);
        }
        let budget = match cached {
            Some(_) => self.settings.dc_timeout.min(STALE_BUDGET),
            None => self.settings.dc_timeout,
        };
        match fetch(budget).await {
            Ok(Some(v)) => Ok(Some(v)),
            Ok(None) => {
                self.remember_missing(negative_key);
                Ok(None)
            }
            Err(e) if e.is_offline() => match cached {
                Some(c) => Ok(Some(c.value)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The KDCs of the DC in use (found first if needed, unless offline).
    pub async fn kdcs(&self) -> Result<adjoin_auth::krb::kdc::KdcConfig, IdentityError> {
        self.online(async |d| d.kdcs().await).await
    }

    // ---- users ----

    /// The user a person means by `typed` (`alice`, `EXAMPLE\alice`, `alice@example.test`,
    /// any case).
    /// A trusted domain's user is typed qualified (`PARTNER\erin`, `erin@other.test`).
    pub async fn user_by_name(&self, typed: &str) -> Result<Option<UserRecord>, IdentityError> {
        let Some((account, trusted)) = self.account_named(typed) else {
            return Ok(None);
        };
        let name = trusted.map_or_else(|| self.names.display(&account), |t| t.display(&account));
        let cached = self.cache.user_by_name(&name)?;
        self.lookup(format!("u:{name}"), cached, async |budget| {
            let entry = self
                .directory_for(trusted, budget, async |d| d.user_by_account(&account).await)
                .await?;
            self.store_user(entry)
        })
        .await
    }

    /// The account part of `typed` and its domain (`None`: the joined one); `None` for a
    /// name no account can have, or one of a domain whose users are not resolved here.
    fn account_named(&self, typed: &str) -> Option<(String, Option<&crate::trusted::Trusted>)> {
        match self.names.parse(typed) {
            NameQuery::Account(a) if plausible(&a) => Some((a, None)),
            NameQuery::Foreign { domain, account } if plausible(&account) => {
                Some((account, Some(self.trusted_named(&domain)?)))
            }
            _ => None,
        }
    }

    /// The user with uid `uid`.
    pub async fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, IdentityError> {
        let cached = self.cache.user_by_uid(uid)?;
        let sid = match self.settings.mode {
            IdMode::Rid => match self.idmap.sid_for_id(uid) {
                Some(sid) => Some(sid),
                None => return Ok(cached.map(|c| c.value)),
            },
            IdMode::Rfc2307 => None,
        };
        self.lookup(format!("uid:{uid}"), cached, async |budget| {
            let entry = match sid {
                Some(sid) => {
                    self.directory_of(&sid, budget, async |d| d.user_by_sid(&sid).await)
                        .await?
                }
                None => {
                    self.online_within(budget, async |d| d.user_by_uid_number(uid).await)
                        .await?
                }
            };
            self.store_user(entry)
        })
        .await
    }

    /// The user with SID `sid` (the SMB server's and the PAC's view of her).
    pub async fn user_by_sid(&self, sid: &Sid) -> Result<Option<UserRecord>, IdentityError> {
        let cached = self.cache.user_by_sid(sid)?;
        self.lookup(format!("sid:{sid}"), cached, async |budget| {
            let entry = self
                .directory_of(sid, budget, async |d| d.user_by_sid(sid).await)
                .await?;
            self.store_user(entry)
        })
        .await
    }

    /// Fetches her entry from the DC again, past the cache (after her password changed, or
    /// when a logon shows the cached account state is out of date).
    pub async fn refresh_user(
        &self,
        user: &UserRecord,
    ) -> Result<Option<UserRecord>, IdentityError> {
        let entry = self
            .directory_of(&user.sid, self.settings.dc_timeout, async |d| {
                d.user_by_sid(&user.sid).await
            })
            .await?;
        self.store_user(entry)
    }

    fn store_user(&self, entry: Option<UserEntry>) -> Result<Option<UserRecord>, IdentityError> {
        let Some(entry) = entry else { return Ok(None) };
        let Some(record) = self.user_record(&entry) else {
            return Ok(None);
        };
        self.cache.put_user(&record, unix_now())?;
        self.changed();
        Ok(Some(record))
    }

    /// Maps a directory entry to its passwd entry; `None` when it has no Unix identity
    /// (RFC 2307 mode without uidNumber, a RID outside the range).
    pub fn user_record(&self, e: &UserEntry) -> Option<UserRecord> {
        let rfc = self.settings.mode == IdMode::Rfc2307;
        let (uid, gid) = if rfc {
            (e.uid_number?, e.gid_number?)
        } else {
            let primary = domain_of(&e.sid)?.with_rid(e.primary_group_rid).ok()?;
            let uid = self
                .idmap
                .id_for_sid(&e.sid)
                .map_err(|err| warn!(%err, "user not mapped"))
                .ok()?;
            (uid, self.idmap.id_for_sid(&primary).ok()?)
        };
        let (name, domain) = self.display_of(&e.sid, &e.sam);
        // %u is the account name alone (a trusted domain's `erin`, not `partner\erin`):
        // the default /home/%d/%u keeps the domain in the directory above.
        let account = self.names.display(&e.sam);
        let template = || expand_template(&self.settings.home_template, &account, uid, &domain);
        let dir = if rfc {
            e.home.clone().unwrap_or_else(template)
        } else {
            template()
        };
        let shell = if rfc { e.shell.clone() } else { None };
        Some(UserRecord {
            passwd: Passwd {
                name,
                uid,
                gid,
                gecos: e.display_name.clone(),
                dir,
                shell: shell.unwrap_or_else(|| self.settings.shell.clone()),
            },
            sid: e.sid.clone(),
            dn: e.dn.clone(),
            sam: e.sam.clone(),
            uac: e.uac,
            pwd_last_set: e.pwd_last_set,
        })
    }

    // ---- groups ----

    /// The group a person means by `typed`.
    pub async fn group_by_name(&self, typed: &str) -> Result<Option<GroupRecord>, IdentityError> {
        let Some((account, trusted)) = self.account_named(typed) else {
            return Ok(None);
        };
        let name = trusted.map_or_else(|| self.names.display(&account), |t| t.display(&account));
        let cached = self.cache.group_by_name(&name)?;
        self.lookup(format!("g:{name}"), cached, async |budget| {
            let entry = self
                .directory_for(trusted, budget, async |d| {
                    d.group_by_account(&account).await
                })
                .await?;
            self.store_group(entry).await
        })
        .await
    }

    /// The group with gid `gid`.
    pub async fn group_by_gid(&self, gid: u32) -> Result<Option<GroupRecord>, IdentityError> {
        let cached = self.cache.group_by_gid(gid)?;
        let sid = match self.settings.mode {
            IdMode::Rid => match self.idmap.sid_for_id(gid) {
                Some(sid) => Some(sid),
                None => return Ok(cached.map(|c| c.value)),
            },
            IdMode::Rfc2307 => None,
        };
        self.lookup(format!("gid:{gid}"), cached, async |budget| {
            let entry = match sid {
                Some(sid) => {
                    self.directory_of(&sid, budget, async |d| d.group_by_sid(&sid).await)
                        .await?
                }
                None => {
                    self.online_within(budget, async |d| d.group_by_gid_number(gid).await)
                        .await?
                }
            };
            self.store_group(entry).await
        })
        .await
    }

    async fn store_group(
        &self,
        entry: Option<GroupEntry>,
    ) -> Result<Option<GroupRecord>, IdentityError> {
        let Some(entry) = entry else { return Ok(None) };
        let Some(gid) = self.group_gid(&entry) else {
            return Ok(None);
        };
        let members = self
            .directory_of(&entry.sid, self.settings.dc_timeout, async |d| {
                d.group_members(&entry.dn).await
            })
            .await?;
        let mut members: Vec<String> = members
            .iter()
            .map(|m| self.display_of(&entry.sid, m).0)
            .collect();
        members.sort();
        let record = GroupRecord {
            group: Group {
                name: self.display_of(&entry.sid, &entry.sam).0,
                gid,
                members,
            },
            sid: entry.sid.clone(),
            dn: entry.dn.clone(),
        };
        self.cache.put_group(&record, unix_now())?;
        self.changed();
        Ok(Some(record))
    }

    fn group_gid(&self, e: &GroupEntry) -> Option<u32> {
        match self.settings.mode {
            IdMode::Rfc2307 => e.gid_number,
            IdMode::Rid => self.idmap.id_for_sid(&e.sid).ok(),
        }
    }

    /// Every gid of the user (primary first): her token's groups (tokenGroups: nested and
    /// primary), those that map.
    pub async fn groups_of(&self, user: &UserRecord) -> Result<Vec<u32>, IdentityError> {
        let cached = self.cache.memberships(&user.sid)?;
        let fetched = self
            .lookup(format!("m:{}", user.sid), cached, async |budget| {
                let dn = user.dn.clone();
                let sids = self
                    .directory_of(&user.sid, budget, async |d| d.token_groups(&dn).await)
                    .await?;
                let gids = self.gids_of_sids(&sids).await?;
                self.prefetch_groups(&user.sid, &sids).await;
                self.store_memberships(user, gids).map(Some)
            })
            .await?;
        Ok(fetched.unwrap_or_else(|| vec![user.passwd.gid]))
    }

    /// Caches the groups of a user's token with their members, in batches: `id` asks for
    /// each of them next, and one by one they would cost two searches each.
    /// The groups are read in the directory of `user`'s domain.
    async fn prefetch_groups(&self, user: &Sid, sids: &[Sid]) {
        let sids: Vec<Sid> = sids.iter().take(PREFETCH_MAX).cloned().collect();
        let found = match self
            .directory_of(user, self.settings.dc_timeout, async |d| {
                d.groups_with_members(&sids).await
            })
            .await
        {
            Ok(found) => found,
            Err(e) => {
                warn!(error = %e, "cannot prefetch a user's groups");
                return;
            }
        };
        let now = unix_now();
        for (entry, members) in found {
            let Some(gid) = self.group_gid(&entry) else {
                continue;
            };
            let mut members: Vec<String> = members
                .iter()
                .map(|m| self.display_of(&entry.sid, m).0)
                .collect();
            members.sort();
            let record = GroupRecord {
                group: Group {
                    name: self.display_of(&entry.sid, &entry.sam).0,
                    gid,
                    members,
                },
                sid: entry.sid,
                dn: entry.dn,
            };
            if let Err(e) = self.cache.put_group(&record, now) {
                warn!(error = %e, "cannot cache a prefetched group");
            }
        }
        self.changed();
    }

    /// Maps group SIDs (from tokenGroups or a PAC) to gids.
    pub async fn gids_of_sids(&self, sids: &[Sid]) -> Result<Vec<u32>, IdentityError> {
        Ok(match self.settings.mode {
            IdMode::Rid => sids
                .iter()
                .filter_map(|s| self.idmap.id_for_sid(s).ok())
                .collect(),
            IdMode::Rfc2307 => {
                let groups = self.online(async |d| d.groups_by_sids(sids).await).await?;
                groups.iter().filter_map(|g| g.gid_number).collect()
            }
        })
    }

    /// Caches a user's gids (primary first, no repeats).
    pub(crate) fn store_memberships(
        &self,
        user: &UserRecord,
        mut gids: Vec<u32>,
    ) -> Result<Vec<u32>, IdentityError> {
        gids.retain(|g| *g != user.passwd.gid);
        gids.sort_unstable();
        gids.dedup();
        gids.insert(0, user.passwd.gid);
        self.cache.put_memberships(&user.sid, &gids, unix_now())?;
        self.changed();
        Ok(gids)
    }

    // ---- enumeration ----

    /// Every user of the domain (from the DC when online, else the cache).
    pub async fn all_users(&self) -> Result<Vec<Passwd>, IdentityError> {
        match self.online(async |d| d.all_users().await).await {
            Ok(entries) => Ok(entries
                .iter()
                .filter_map(|e| self.user_record(e))
                .map(|r| r.passwd)
                .collect()),
            Err(e) if e.is_offline() => Ok(self
                .cache
                .all_users()?
                .into_iter()
                .map(|c| c.value.passwd)
                .collect()),
            Err(e) => Err(e),
        }
    }

    /// Every group of the domain, without members (enumeration would cost one search per
    /// group; `getent group NAME` lists them).
    pub async fn all_groups(&self) -> Result<Vec<Group>, IdentityError> {
        match self.online(async |d| d.all_groups().await).await {
            Ok(entries) => Ok(entries
                .iter()
                .filter_map(|e| {
                    Some(Group {
                        name: self.names.display(&e.sam),
                        gid: self.group_gid(e)?,
                        members: Vec::new(),
                    })
                })
                .collect()),
            Err(e) if e.is_offline() => Ok(self
                .cache
                .all_groups()?
                .into_iter()
                .map(|c| c.value.group)
                .collect()),
            Err(e) => Err(e),
        }
    }

    /// Refreshes, from the DC, up to `max` cached users (and their group lists) that are
    /// past three quarters of their lifetime, so that entries in use rarely expire; returns
    /// how many were refreshed. Nothing is done while offline.
    pub async fn refresh_ahead(&self, max: usize) -> usize {
        let ttl = self.settings.cache_ttl.as_secs();
        let due = unix_now().saturating_sub(ttl - ttl / 4);
        let Ok(users) = self.cache.all_users() else {
            return 0;
        };
        let mut done = 0;
        for u in users.into_iter().filter(|u| u.fetched <= due).take(max) {
            if self.offline() {
                break;
            }
            let Ok(Some(fresh)) = self.refresh_user(&u.value).await else {
                continue;
            };
            let dn = fresh.dn.clone();
            if let Ok(sids) = self
                .directory_of(&fresh.sid, self.settings.dc_timeout, async |d| {
                    d.token_groups(&dn).await
                })
                .await
                && let Ok(gids) = self.gids_of_sids(&sids).await
            {
                let _ = self.store_memberships(&fresh, gids);
            }
            done += 1;
        }
        done
    }

    /// Forgets every cached answer.
    pub fn flush(&self) -> Result<(), IdentityError> {
        self.cache.flush()?;
        self.negative
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.changed();
        Ok(())
    }
}

/// The SID of the domain `sid` belongs to (without its RID).
fn domain_of(sid: &Sid) -> Option<Sid> {
    let subs = sid.sub_authorities();
    let (_, domain) = subs.split_last()?;
    Sid::new(sid.identifier_authority(), domain).ok()
}
