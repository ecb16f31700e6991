//! adjoind keeps the machine's name in the domain's DNS (issue 12 item 1): every
//! `Join\DnsRefreshSeconds` (default an hour; 0 never), and once at start, it asks the DC
//! for the FQDN's A/AAAA records and, when they are not the addresses to register (they
//! changed, or someone removed them), registers them again with a GSS-TSIG signed update
//! as the machine. Off when the join was made with --no-dns-update (`Join\DnsRegistration`
//! 0). Each re-registration is logged; a failure is logged and tried again next time.

use std::path::PathBuf;
use std::time::Duration;

use adjoin_join::discover::DiscoverOptions;
use adjoin_join::join::{self, JOIN_KEY};
use adjoin_registry::Registry;

/// How long to wait before reading the settings again while checks are off.
const IDLE: Duration = Duration::from_secs(3600);

/// The DNS refresh task's view of the daemon.
pub(crate) struct DnsRefresh {
    pub(crate) registry: PathBuf,
    pub(crate) discover: DiscoverOptions,
}

impl DnsRefresh {
    /// Runs for the daemon's life.
    pub(crate) async fn run(self) {
        loop {
            let interval = match self.interval() {
                Ok(Some(interval)) => interval,
                Ok(None) => {
                    tokio::time::sleep(IDLE).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the DNS refresh settings");
                    tokio::time::sleep(IDLE).await;
                    continue;
                }
            };
            match self.check().await {
                Ok(Some(r)) => tracing::info!(
                    fqdn = %r.fqdn,
                    addresses = ?r.addresses,
                    server = %r.server,
                    "the machine's DNS records were not as they should be: registered again"
                ),
                Ok(None) => tracing::debug!("the machine's DNS records are as they should be"),
                Err(e) => tracing::warn!(error = %e, retry_in = ?interval, "DNS check failed"),
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// The time between checks; `None` when they are off.
    fn interval(&self) -> anyhow::Result<Option<Duration>> {
        let registry = Registry::open(&self.registry)?;
        let number = |name| super::dword(&registry, JOIN_KEY, name);
        let seconds = number("DnsRefreshSeconds")?;
        Ok((number("DnsRegistration")? != 0 && seconds != 0)
            .then(|| Duration::from_secs(u64::from(seconds))))
    }

    async fn check(&self) -> anyhow::Result<Option<join::DnsRegistration>> {
        let mut registry = Registry::open(&self.registry)?;
        Ok(join::refresh_dns(&mut registry, &self.discover).await?)
    }
}
