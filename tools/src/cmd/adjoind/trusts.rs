//! The joined domain's trusts, kept in the registry: adjoind reads the trustedDomain objects
//! from the directory, gives each domain whose users can log on here an id range of its own
//! (and its DNS name, so its users resolve) under `Identity\Domains\NAME`, and reloads the
//! identity service when it recorded anything. At start, then hourly; a failure is retried
//! after a minute. Ranges recorded once are kept (a range set by hand is never changed).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use adjoin_identity::Identity;
use adjoin_identity::trusted::{missing_trusted, record_trusted};
use adjoin_registry::Registry;
use anyhow::Context;

/// How often the trusts are read again.
const EVERY: Duration = Duration::from_secs(3600);
/// How soon after a failure.
const RETRY: Duration = Duration::from_secs(60);

/// The trust-keeping task of one identity service.
pub(super) struct Trusts {
    /// The identity service (its directory and settings).
    pub identity: Arc<Identity>,
    /// The registry file.
    pub registry: PathBuf,
    /// Asks the main loop to reload the identity service.
    pub reload: tokio::sync::mpsc::Sender<&'static str>,
}

impl Trusts {
    /// Runs until the identity service it serves is replaced (the task is aborted then);
    /// never returns.
    pub(super) async fn run(self) -> anyhow::Result<()> {
        loop {
            let wait = match self.once().await {
                Ok(0) => EVERY,
                Ok(n) => {
                    tracing::info!(domains = n, "recorded trusted domains");
                    // The reload replaces this task with one of the new service; until
                    // then it waits (a task of the service that ends stops the daemon).
                    let _ = self.reload.send("new trusted domains").await;
                    std::future::pending::<()>().await;
                    EVERY
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "cannot read the domain's trusts; retrying in a minute");
                    RETRY
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Reads the trusts and records what the settings lack; how many domains it recorded.
    async fn once(&self) -> anyhow::Result<usize> {
        let trusts = self.identity.discover_trusts().await?;
        let settings = self.identity.settings();
        let missing = missing_trusted(settings, &trusts);
        for t in trusts.iter().filter(|t| t.serves_users()) {
            let configured = settings
                .trusted
                .iter()
                .find(|d| d.range.name.eq_ignore_ascii_case(&t.netbios));
            if configured.is_some_and(|d| d.range.sid != t.sid) {
                tracing::warn!(
                    domain = %t.netbios,
                    sid = %t.sid,
                    "Identity\\Domains names this domain with another SID: its users are not resolved until that key is corrected or deleted"
                );
            }
        }
        if missing.is_empty() {
            return Ok(0);
        }
        for d in &missing {
            tracing::info!(
                domain = %d.range.name,
                dns = d.dns_domain.as_deref().unwrap_or(""),
                sid = %d.range.sid,
                first_id = d.range.base,
                ids = d.range.size,
                "trusted domain"
            );
        }
        let mut registry = Registry::open(&self.registry)
            .with_context(|| format!("cannot open the registry {}", self.registry.display()))?;
        record_trusted(&mut registry, &missing)?;
        Ok(missing.len())
    }
}
