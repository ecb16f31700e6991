//! adjoind's file-server configuration: the disk shares under the registry's
//! `Services\adjoind\Shares\NAME` (re-read every few seconds, so a share added with
//! regshell or `net share` appears without a restart), and the ID mapping that gives
//! each SMB logon the Unix ids of the identity service (the same ids `id alice` shows).

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use adjoin_identity::Identity;
use adjoin_registry::{Registry, Value};
use adjoin_smb::server::backend::posix::PosixBackend;
use adjoin_smb::server::share::{DiskShare, Shares};
use adjoin_smb::server::token::{LogonIdentity, TokenError, TokenMapper, UserToken};

/// Where the shares are configured.
pub(crate) const SHARES_KEY: &str = r"HKEY_THIS_MACHINE\Services\adjoind\Shares";

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
/// the identity service (a group that does not resolve admits no one through it).
pub(crate) async fn build(specs: &[ShareSpec], identity: Option<&Identity>) -> Vec<DiskShare> {
    let mut shares = Vec::new();
    for spec in specs {
        let backend = match PosixBackend::new(Path::new(&spec.path)) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(share = %spec.name, path = %spec.path, error = %e, "cannot open the share's directory; not served");
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
                        tracing::warn!(share = %spec.name, %group, "allowed group not found")
                    }
                    Err(e) => {
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
    shares
}

/// Keeps `shares` in step with the registry: re-read every few seconds, rebuilt when the
/// specs change (or when the identity service was replaced, so allowed groups resolve
/// again).
pub(crate) async fn keep_current(registry: std::path::PathBuf, shares: Shares, identity: CurrentIdentity) {
    let mut last: Option<(Vec<ShareSpec>, usize)> = None;
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
        if last.as_ref() != Some(&(specs.clone(), generation)) {
            let built = build(&specs, current.as_deref()).await;
            tracing::info!(shares = built.len(), "disk shares loaded from the registry");
            shares.replace(built);
            last = Some((specs, generation));
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
}
