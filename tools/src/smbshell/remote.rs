//! The share: one SMB connection (made again after it drops), driven by a
//! current-thread runtime so the shell and its completion stay synchronous, and a
//! short-lived cache of directory listings for completion.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use adjoin_rpc::ntstatus::NtStatus;
use adjoin_smb::SmbError;
use adjoin_smb::client::{SmbClient, Tree};
use adjoin_smb::proto::dfs::split_target;
use adjoin_smb::proto::info::{FileNetworkOpenInformation, FileStat};
use tokio::runtime::Runtime;

use super::error::{ShellError, breaks_connection};
use super::paths;
use crate::cli::Logon;

/// How long a listing serves completion.
const CACHE_FOR: Duration = Duration::from_secs(5);

/// Where to connect and as whom.
pub(crate) struct Target {
    /// The server's address.
    pub(crate) addr: SocketAddr,
    /// The server's name, as the tree connect path says it.
    pub(crate) server: String,
    /// The share.
    pub(crate) share: String,
    /// How to log on (at the start and after a dropped connection).
    pub(crate) logon: Logon,
    /// Encrypt every message.
    pub(crate) encrypt: bool,
    /// Seconds to wait for each answer.
    pub(crate) timeout: Duration,
}

impl core::fmt::Debug for Target {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Target({}, {})", self.unc(), self.who())
    }
}

impl Target {
    /// `\\server\share`.
    pub(crate) fn unc(&self) -> String {
        format!(r"\\{}\{}", self.server, self.share)
    }

    fn who(&self) -> String {
        match &self.logon {
            Logon::Ntlm { user, domain, .. } if domain.is_empty() => user.clone(),
            Logon::Ntlm { user, domain, .. } => format!(r"{domain}\{user}"),
            Logon::Kerberos(creds) => format!("{} (Kerberos)", creds.client),
        }
    }
}

/// MS-DFSC 3.1.4.1: asks the DC at `dc` (named `dc_name`), logged on as `logon`, where
/// `\\name\\share` really lives; the first target's server and share, or `None` when the
/// DC has no referral for it. A target below the share (a DFS link's folder) is refused:
/// smbshell follows share-level referrals only (sysvol, netlogon, domain roots).
pub(crate) async fn dfs_referral(
    dc: SocketAddr,
    dc_name: &str,
    logon: &Logon,
    timeout: Duration,
    name: &str,
    share: &str,
) -> Result<Option<(String, String)>, ShellError> {
    let asked = format!(r"\{name}\{share}");
    let failed = |e: SmbError| {
        ShellError::Connect(format!(
            r"cannot ask the DC {dc_name} ({dc}) where \{asked} is: {e}"
        ))
    };
    let mut client = SmbClient::connect(dc, dc_name, timeout)
        .await
        .map_err(failed)?;
    client
        .session_setup(logon.session_auth("SMBSHELL"))
        .await
        .map_err(failed)?;
    let answer = client.dfs_referral(&asked).await;
    let _ = client.logoff().await;
    let answer = match answer {
        Ok(answer) => answer,
        // STATUS_NOT_FOUND: the DC has no referral for the name.
        Err(e) if e.status().is_some() => {
            tracing::debug!(%asked, error = %e, "no DFS referral");
            return Ok(None);
        }
        Err(e) => return Err(failed(e)),
    };
    let Some(first) = answer.targets().first().map(|t| (*t).to_owned()) else {
        return Ok(None);
    };
    match split_target(&first) {
        Some((server, to_share)) if first.trim_start_matches('\\').split('\\').count() == 2 => {
            Ok(Some((server.to_owned(), to_share.to_owned())))
        }
        _ => Err(ShellError::Connect(format!(
            r"\{asked} is a DFS link to \{first}: smbshell follows share referrals only; connect to the target share"
        ))),
    }
}

/// One directory entry, as `ls` and completion show it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The name.
    pub(crate) name: String,
    /// What the server said of it.
    pub(crate) stat: FileStat,
}

/// The connected share.
pub(crate) struct Remote {
    runtime: Runtime,
    target: Target,
    link: Option<(SmbClient, Tree)>,
    cache: HashMap<String, (Instant, Vec<Entry>)>,
}

impl core::fmt::Debug for Remote {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Remote({:?})", self.target)
    }
}

impl Remote {
    /// Connects, logs on and connects the share (so a wrong share or password fails
    /// before the first command).
    pub(crate) fn connect(runtime: Runtime, target: Target) -> Result<Self, ShellError> {
        let mut remote = Self {
            runtime,
            target,
            link: None,
            cache: HashMap::new(),
        };
        remote.link()?;
        Ok(remote)
    }

    /// `\\server\share`.
    pub(crate) fn unc(&self) -> String {
        self.target.unc()
    }

    /// Makes the connection again if it dropped.
    fn link(&mut self) -> Result<(), ShellError> {
        if self.link.is_none() {
            self.link = Some(self.runtime.block_on(open(&self.target))?);
        }
        Ok(())
    }

    /// Turns an SMB failure on `path` (share-relative) into the command's error, and
    /// forgets the connection when it is broken.
    pub(crate) fn fail(&mut self, path: &str, e: SmbError) -> ShellError {
        if let Some(status) = e.status().filter(|_| !breaks_connection(&e)) {
            return ShellError::from_status(&paths::display(path), status);
        }
        self.link = None;
        ShellError::Dropped {
            server: self.unc(),
            detail: e.to_string(),
        }
    }

    /// Runs `op` on the connection (made again first if it dropped); failures name
    /// `path`.
    pub(crate) fn call<T>(
        &mut self,
        path: &str,
        op: impl AsyncFnOnce(&mut SmbClient, Tree) -> Result<T, SmbError>,
    ) -> Result<T, ShellError> {
        self.link()?;
        let Some((client, tree)) = self.link.as_mut() else {
            return Err(ShellError::Connect("not connected".into()));
        };
        let tree = *tree;
        let result = self.runtime.block_on(op(client, tree));
        result.map_err(|e| self.fail(path, e))
    }

    /// The entries of the directory `dir` (share-relative), without `.` and `..`,
    /// sorted by name.
    pub(crate) fn list(&mut self, dir: &str) -> Result<Vec<Entry>, ShellError> {
        let listed = self.call(dir, async |c, t| c.list_directory(t, dir, "*").await)?;
        let mut entries: Vec<Entry> = listed
            .into_iter()
            .filter(|s| s.name != "." && s.name != "..")
            .map(|stat| Entry {
                name: stat.name.clone(),
                stat,
            })
            .collect();
        entries.sort_by_key(|e| e.name.to_lowercase());
        self.cache
            .insert(dir.to_lowercase(), (Instant::now(), entries.clone()));
        Ok(entries)
    }

    /// [`Self::list`] from the cache when it is fresh (for completion).
    pub(crate) fn list_cached(&mut self, dir: &str) -> Result<Vec<Entry>, ShellError> {
        if let Some((at, entries)) = self.cache.get(&dir.to_lowercase())
            && at.elapsed() < CACHE_FOR
        {
            return Ok(entries.clone());
        }
        self.list(dir)
    }

    /// Forgets cached listings (after a change).
    pub(crate) fn changed(&mut self) {
        self.cache.clear();
    }

    /// Size, times and attributes of `path`.
    pub(crate) fn stat(&mut self, path: &str) -> Result<FileNetworkOpenInformation, ShellError> {
        self.call(path, async |c, t| c.stat(t, path).await)
    }

    /// Creates the directory `path`.
    pub(crate) fn mkdir(&mut self, path: &str) -> Result<(), ShellError> {
        self.changed();
        self.call(path, async |c, t| c.create_directory(t, path).await)
    }

    /// Deletes the file (or, with `directory`, the empty directory) `path`.
    pub(crate) fn delete(&mut self, path: &str, directory: bool) -> Result<(), ShellError> {
        self.changed();
        self.call(path, async |c, t| c.delete(t, path, directory).await)
    }

    /// Renames `from` to `to`, replacing `to` when `replace`.
    pub(crate) fn rename(&mut self, from: &str, to: &str, replace: bool) -> Result<(), ShellError> {
        self.changed();
        let result = self.call(from, async |c, t| c.rename(t, from, to, replace).await);
        match result {
            Err(ShellError::Exists { .. }) => Err(ShellError::Exists {
                path: paths::display(to),
            }),
            other => other,
        }
    }
}

/// Connects, logs on and connects the share; each failure one line with its fix.
async fn open(target: &Target) -> Result<(SmbClient, Tree), ShellError> {
    let addr = target.addr;
    let mut client = SmbClient::connect(addr, &target.server, target.timeout)
        .await
        .map_err(|e| {
            ShellError::Connect(format!(
                "cannot reach the SMB server at {addr}: {e} (is it up? is --port right?)"
            ))
        })?;
    if target.encrypt {
        client.encrypt_always();
    }
    let auth = target.logon.session_auth("SMBSHELL");
    client.session_setup(auth).await.map_err(|e| {
        let why = match e.status() {
            Some(NtStatus::LOGON_FAILURE) => "unknown user name or bad password".to_owned(),
            _ => e.to_string(),
        };
        ShellError::Connect(format!(
            "{}: logon as {} failed: {why}",
            target.unc(),
            target.who()
        ))
    })?;
    let tree = client.tree_connect(&target.share).await.map_err(|e| {
        ShellError::Connect(match e.status() {
            Some(NtStatus::BAD_NETWORK_NAME) => format!(
                r"{}: no such share on {} (list its shares with: net view \\{})",
                target.unc(),
                target.server,
                target.server
            ),
            Some(NtStatus::ACCESS_DENIED) => format!(
                "{}: access denied: {} may not use this share",
                target.unc(),
                target.who()
            ),
            _ => format!("{}: {e}", target.unc()),
        })
    })?;
    Ok((client, tree))
}
