//! adjoind's file-server configuration: the disk shares under the registry's
//! `Services\adjoind\Shares\NAME` (re-read every few seconds, so a share added with
//! regshell appears without a restart), and the ID mapping that gives
//! each SMB logon the Unix ids of the identity service (the same ids `id alice` shows).
//!
//! For the IPC$ pipes: the member's SIDs (the domain's from the join, the machine's own
//! made up at first start), the administrators' groups (`Services\adjoind\AdminGroups`,
//! resolved again when they change), and the translation of names and SIDs lsarpc
//! answers with, all through the identity service.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use adjoin_identity::Identity;
use adjoin_registry::{Registry, Value};
use adjoin_rpc::lsa::{Account, SidNameUse, SidResolver};
use adjoin_rpc::ndr::Sid;
use adjoin_smb::server::backend::posix::PosixBackend;
use adjoin_smb::server::share::{DiskShare, Shares};
use adjoin_smb::server::tables::AdminGroups;
use adjoin_smb::server::token::{LogonIdentity, TokenError, TokenMapper, UserToken};
use anyhow::{Context, anyhow};

/// Where the shares are configured.
pub(crate) const SHARES_KEY: &str = r"HKEY_THIS_MACHINE\Services\adjoind\Shares";
/// The daemon's own settings: `AdminGroups` (REG_MULTI_SZ of group names or SIDs whose
/// members administer the file server, besides Domain Admins) and `MachineSid` (REG_SZ,
/// this machine's account domain SID).
const ADJOIND_KEY: &str = r"HKEY_THIS_MACHINE\Services\adjoind";

/// How often the registry is read for share changes.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The identity service the daemon runs now (replaced on SIGHUP).
pub(crate) type CurrentIdentity = Arc<RwLock<Option<Arc<Identity>>>>;

/// One share as the registry describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShareSpec {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) comment: String,
    pub(crate) read_only: bool,
    pub(crate) allowed_groups: Vec<String>,
    pub(crate) encrypt: bool,
}

/// Reads every share key; a key that is unusable is logged and skipped.
pub(crate) fn read_specs(registry: &Registry) -> Vec<ShareSpec> {
    let names = match registry.subkeys(SHARES_KEY) {
        Ok(names) => names,
        Err(adjoin_registry::Error::KeyNotFound { .. }) => return Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list {SHARES_KEY}");
            return Vec::new();
        }
    };
    let mut specs = Vec::new();
    for name in names {
        match read_spec(registry, &name) {
            Ok(spec) => specs.push(spec),
            Err(why) => tracing::warn!(share = %name, "{SHARES_KEY}\\{name}: {why}; not served"),
        }
    }
    specs
}

fn read_spec(registry: &Registry, name: &str) -> Result<ShareSpec, String> {
    let key = format!(r"{SHARES_KEY}\{name}");
    if name.eq_ignore_ascii_case("IPC$") || name.len() > 80 || name.contains(['\\', '/']) {
        return Err("not a usable share name".into());
    }
    let value = |v: &str| registry.stored_value(&key, v).map_err(|e| e.to_string());
    let text = |v: &str| -> Result<Option<String>, String> {
        match value(v)? {
            None => Ok(None),
            Some(Value::Sz(ref s) | Value::ExpandSz(ref s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{v} must be a REG_SZ")),
        }
    };
    let flag = |v: &str| -> Result<bool, String> {
        match value(v)? {
            None => Ok(false),
            Some(Value::Dword(n)) => Ok(n != 0),
            Some(_) => Err(format!("{v} must be a REG_DWORD")),
        }
    };
    let path = text("Path")?.ok_or("Path is not set")?;
    if !Path::new(&path).is_absolute() {
        return Err(format!("Path {path:?} is not absolute"));
    }
    let allowed_groups = match value("AllowedGroups")? {
        None => Vec::new(),
        Some(Value::MultiSz(ref v)) => v.clone(),
        Some(Value::Sz(ref s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(_) => return Err("AllowedGroups must be a REG_MULTI_SZ".into()),
    };
    Ok(ShareSpec {
        name: name.to_owned(),
        path,
        comment: text("Comment")?.unwrap_or_default(),
        read_only: flag("ReadOnly")?,
        allowed_groups,
        encrypt: flag("Encrypt")?,
    })
}

/// Builds the shares: the root directory opened, allowed groups resolved to gids through
/// the identity service (a group that does not resolve admits no one through it). The flag
/// says whether everything resolved: when not (a directory missing, a group unknown or no
/// DC to ask), the caller tries again later.
pub(crate) async fn build(
    specs: &[ShareSpec],
    identity: Option<&Identity>,
) -> (Vec<DiskShare>, bool) {
    let mut complete = true;
    let mut shares = Vec::new();
    for spec in specs {
        let backend = match PosixBackend::new(Path::new(&spec.path)) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(share = %spec.name, path = %spec.path, error = %e, "cannot open the share's directory; not served");
                complete = false;
                continue;
            }
        };
        let allowed_gids = if spec.allowed_groups.is_empty() {
            None
        } else {
            let mut gids = Vec::new();
            for group in &spec.allowed_groups {
                let found = match identity {
                    Some(identity) => identity.group_by_name(group).await,
                    None => Ok(None),
                };
                match found {
                    Ok(Some(g)) => gids.push(g.group.gid),
                    Ok(None) => {
                        complete = false;
                        tracing::warn!(share = %spec.name, %group, "allowed group not found")
                    }
                    Err(e) => {
                        complete = false;
                        tracing::warn!(share = %spec.name, %group, error = %e, "cannot resolve an allowed group")
                    }
                }
            }
            Some(gids)
        };
        shares.push(DiskShare {
            name: spec.name.clone(),
            comment: spec.comment.clone(),
            path: spec.path.clone(),
            read_only: spec.read_only,
            allowed_gids,
            encrypt: spec.encrypt,
            backend: Arc::new(backend),
        });
    }
    (shares, complete)
}

/// Keeps `shares` in step with the registry: re-read every few seconds, rebuilt when the
/// specs change (or when the identity service was replaced, so allowed groups resolve
/// again).
pub(crate) async fn keep_current(
    registry: std::path::PathBuf,
    shares: Shares,
    fixed: Vec<Arc<DiskShare>>,
    identity: CurrentIdentity,
) {
    let mut last: Option<(Vec<ShareSpec>, usize)> = None;
    // A build that could not resolve everything is tried again, less often each time
    // (5 s, 10 s, ... 5 min): a share whose directory appears, or whose group resolves
    // once the DC answers, is served without anyone touching the registry.
    let mut retry: Option<(tokio::time::Instant, Duration)> = None;
    loop {
        let specs = match Registry::open(&registry) {
            Ok(r) => read_specs(&r),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the registry to read the shares");
                tokio::time::sleep(RELOAD_EVERY).await;
                continue;
            }
        };
        let current = identity.read().unwrap_or_else(|e| e.into_inner()).clone();
        let generation = current.as_ref().map_or(0, |i| Arc::as_ptr(i) as usize);
        let changed = last.as_ref() != Some(&(specs.clone(), generation));
        let due = retry.is_some_and(|(at, _)| tokio::time::Instant::now() >= at);
        if changed || due {
            let (built, complete) = build(&specs, current.as_deref()).await;
            tracing::info!(
                shares = built.len(),
                complete,
                "disk shares loaded from the registry"
            );
            let mut all = fixed.clone();
            for share in built {
                if fixed
                    .iter()
                    .any(|f| f.name.eq_ignore_ascii_case(&share.name))
                {
                    tracing::warn!(share = %share.name, "the registry's share has the name of one the program serves: not served");
                } else {
                    all.push(Arc::new(share));
                }
            }
            shares.replace_shared(all);
            last = Some((specs, generation));
            retry = if complete {
                None
            } else {
                let wait = match (changed, retry) {
                    (false, Some((_, wait))) => (wait * 2).min(Duration::from_secs(300)),
                    _ => RELOAD_EVERY,
                };
                Some((tokio::time::Instant::now() + wait, wait))
            };
        }
        tokio::time::sleep(RELOAD_EVERY).await;
    }
}

/// SMB logons mapped through the identity service.
#[derive(Debug)]
pub(crate) struct IdentityMapper {
    pub(crate) identity: CurrentIdentity,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl TokenMapper for IdentityMapper {
    fn token(&self, logon: &LogonIdentity) -> Result<UserToken, TokenError> {
        let identity = self
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| TokenError::NoDc("the identity service is not running".into()))?;
        let unmapped = |why: String| TokenError::Unmapped {
            sid: logon.user_sid.to_string(),
            why,
        };
        // Called on the file server's blocking threads, never on a runtime worker.
        self.runtime.block_on(async {
            let user = identity
                .user_by_sid(&logon.user_sid)
                .await
                .map_err(|e| TokenError::NoDc(e.to_string()))?
                .ok_or_else(|| unmapped("no such user in the directory".into()))?;
            let mut groups = identity
                .gids_of_sids(&logon.group_sids)
                .await
                .map_err(|e| TokenError::NoDc(e.to_string()))?;
            groups.retain(|g| *g != user.passwd.gid);
            groups.sort_unstable();
            groups.dedup();
            groups.insert(0, user.passwd.gid);
            Ok(UserToken {
                name: format!(r"{}\{}", logon.domain, logon.user),
                user_sid: logon.user_sid.clone(),
                group_sids: logon.group_sids.clone(),
                uid: user.passwd.uid,
                gid: user.passwd.gid,
                groups,
            })
        })
    }

    fn sid_of_uid(&self, uid: u32) -> Option<Sid> {
        self.lookup_sid("owner", uid, |identity| async move {
            identity.user_by_uid(uid).await.map(|u| u.map(|u| u.sid))
        })
    }

    fn sid_of_gid(&self, gid: u32) -> Option<Sid> {
        self.lookup_sid("group", gid, |identity| async move {
            identity.group_by_gid(gid).await.map(|g| g.map(|g| g.sid))
        })
    }
}

impl IdentityMapper {
    /// The SID of a file's owner or group (`what`) with Unix id `id`, by `lookup`
    /// through the identity service; `None` (logged) when it is not running, has no
    /// such id, or cannot reach the DC.
    fn lookup_sid<F, Fut>(&self, what: &str, id: u32, lookup: F) -> Option<Sid>
    where
        F: FnOnce(Arc<Identity>) -> Fut,
        Fut: Future<Output = Result<Option<Sid>, adjoin_identity::IdentityError>>,
    {
        let identity = self
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        // Called on the file server's blocking threads, never on a runtime worker.
        self.runtime
            .block_on(lookup(identity))
            .inspect_err(
                |e| tracing::debug!(what, id, error = %e, "no SID for a file's owner or group"),
            )
            .ok()
            .flatten()
    }
}

/// The member's SIDs: the joined domain's (the join's `Join\DomainSid`) and this
/// machine's own account domain's (`Services\adjoind\MachineSid`, made up and stored at
/// first start, as Windows and Samba give every machine one).
pub(crate) fn member_sids(registry: &Registry) -> anyhow::Result<(Sid, Sid)> {
    let state = adjoin_join::join::query(registry)?
        .ok_or_else(|| anyhow!("this machine is not joined (run `domain-join join` first)"))?;
    let domain: Sid = state
        .get("DomainSid")
        .ok_or_else(|| {
            anyhow!("the registry lacks Join\\DomainSid; rejoin with `domain-join join`")
        })?
        .parse()
        .map_err(|e| anyhow!("Join\\DomainSid: {e}"))?;
    let machine = match registry.stored_value(ADJOIND_KEY, "MachineSid")? {
        Some(Value::Sz(ref s)) => s
            .parse()
            .map_err(|e| anyhow!("{ADJOIND_KEY}\\MachineSid: {e}"))?,
        Some(_) => anyhow::bail!("{ADJOIND_KEY}\\MachineSid is not a REG_SZ"),
        None => {
            let mut random = [0u8; 12];
            getrandom::fill(&mut random).map_err(|e| anyhow!("the random source failed: {e}"))?;
            let sub = |i: usize| {
                u32::from_le_bytes([random[i], random[i + 1], random[i + 2], random[i + 3]])
            };
            let sid = Sid::new(5, &[21, sub(0), sub(4), sub(8)]).map_err(|e| anyhow!("{e}"))?;
            registry
                .set_value(ADJOIND_KEY, "MachineSid", &Value::Sz(sid.to_string()))
                .context("cannot store this machine's SID")?;
            tracing::info!(%sid, "this machine's account domain SID made up and stored");
            sid
        }
    };
    Ok((domain, machine))
}

/// Keeps `admins` in step with the registry's `AdminGroups`: each entry a SID, or a group
/// name resolved through the identity service; resolved again when the list or the
/// identity service changes, or while an entry does not resolve.
pub(crate) async fn keep_admins_current(
    registry: std::path::PathBuf,
    admins: AdminGroups,
    identity: CurrentIdentity,
) {
    let mut last: Option<(Vec<String>, usize)> = None;
    loop {
        let names = Registry::open(&registry)
            .map_err(anyhow::Error::from)
            .and_then(|r| admin_group_names(&r));
        let names = match names {
            Ok(names) => names,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read {ADJOIND_KEY}\\AdminGroups");
                tokio::time::sleep(RELOAD_EVERY).await;
                continue;
            }
        };
        let current = identity.read().unwrap_or_else(|e| e.into_inner()).clone();
        let generation = current.as_ref().map_or(0, |i| Arc::as_ptr(i) as usize);
        if last.as_ref() != Some(&(names.clone(), generation)) {
            let (sids, complete) = resolve_groups(&names, current.as_deref()).await;
            tracing::info!(
                groups = sids.len(),
                "file server administrators' groups loaded"
            );
            admins.replace(sids);
            // An entry that did not resolve is tried again next time.
            last = complete.then_some((names, generation));
        }
        tokio::time::sleep(RELOAD_EVERY).await;
    }
}

fn admin_group_names(registry: &Registry) -> anyhow::Result<Vec<String>> {
    Ok(match registry.stored_value(ADJOIND_KEY, "AdminGroups")? {
        None => Vec::new(),
        Some(Value::MultiSz(ref v)) => v.clone(),
        Some(Value::Sz(ref s)) => s.split(',').map(|g| g.trim().to_owned()).collect(),
        Some(_) => anyhow::bail!("{ADJOIND_KEY}\\AdminGroups must be a REG_MULTI_SZ"),
    })
}

/// The SIDs `names` stand for, and whether every one resolved.
async fn resolve_groups(names: &[String], identity: Option<&Identity>) -> (Vec<Sid>, bool) {
    let mut sids = Vec::new();
    let mut complete = true;
    for name in names.iter().filter(|n| !n.is_empty()) {
        if let Ok(sid) = name.parse::<Sid>() {
            sids.push(sid);
            continue;
        }
        let found = match identity {
            Some(identity) => identity.group_by_name(name).await,
            None => Ok(None),
        };
        match found {
            Ok(Some(group)) => sids.push(group.sid),
            Ok(None) => {
                tracing::warn!(group = %name, "administrators' group not found");
                complete = false;
            }
            Err(e) => {
                tracing::warn!(group = %name, error = %e, "cannot resolve an administrators' group");
                complete = false;
            }
        }
    }
    (sids, complete)
}

/// lsarpc's translations through the identity service: users by SID or name, then
/// groups (a SID through the gid it maps to).
#[derive(Debug)]
pub(crate) struct IdentityResolver {
    pub(crate) identity: CurrentIdentity,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl IdentityResolver {
    fn identity(&self) -> Option<Arc<Identity>> {
        self.identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A group's name as the directory spells it: its entry's CN when that is the name
/// (the identity service keeps group names in lower case), else the name.
fn group_name(display: &str, dn: &str) -> String {
    dn.strip_prefix("CN=")
        .and_then(|rest| rest.split(',').next())
        .filter(|cn| cn.eq_ignore_ascii_case(display))
        .unwrap_or(display)
        .to_owned()
}

impl SidResolver for IdentityResolver {
    fn account_by_sid(&self, sid: &Sid) -> Option<Account> {
        let identity = self.identity()?;
        let domain = identity.member().netbios_domain.clone();
        // Called on the file server's blocking threads, never on a runtime worker.
        self.runtime.block_on(async {
            if let Some(user) = identity.user_by_sid(sid).await.ok().flatten() {
                return Some(Account {
                    sid: sid.clone(),
                    domain,
                    name: user.sam,
                    sid_use: SidNameUse::USER,
                });
            }
            let gid = *identity
                .gids_of_sids(std::slice::from_ref(sid))
                .await
                .ok()?
                .first()?;
            let group = identity.group_by_gid(gid).await.ok()??;
            (group.sid == *sid).then(|| Account {
                sid: sid.clone(),
                domain,
                name: group_name(&group.group.name, &group.dn),
                sid_use: SidNameUse::GROUP,
            })
        })
    }

    fn account_by_name(&self, name: &str) -> Option<Account> {
        let identity = self.identity()?;
        let domain = identity.member().netbios_domain.clone();
        self.runtime.block_on(async {
            if let Some(user) = identity.user_by_name(name).await.ok().flatten() {
                return Some(Account {
                    sid: user.sid,
                    domain,
                    name: user.sam,
                    sid_use: SidNameUse::USER,
                });
            }
            let group = identity.group_by_name(name).await.ok()??;
            Some(Account {
                name: group_name(&group.group.name, &group.dn),
                sid: group.sid,
                domain,
                sid_use: SidNameUse::GROUP,
            })
        })
    }
}
