//! Many concurrent logons through one secure channel, as a daemon verifying SMB session
//! setups needs them: a [`LogonPool`] hands each caller one of up to `size` sealed
//! bindings of the channel ([`LogonBinding`], NetrLogonSamLogonEx needs no authenticator,
//! so they work in parallel), and when the DC stops honouring the channel (a restart, a
//! lost connection) it re-establishes it once for everyone and retries.
//!
//! Each binding carries the channel generation it was made in; a failure invalidates
//! that generation only, so callers failing together cause one re-establishment, not one
//! each.

use tokio::sync::{Mutex, Semaphore};

use super::channel::{
    ChannelError, LogonBinding, LogonOutcome, NetworkLogon, SecureChannel, channel_lost,
};

/// A secure channel shared by concurrent callers.
#[derive(Debug)]
pub struct LogonPool {
    channel: Mutex<Shared>,
    idle: Mutex<Vec<(u64, LogonBinding)>>,
    permits: Semaphore,
}

#[derive(Debug)]
struct Shared {
    channel: SecureChannel,
    generation: u64,
    /// When the channel was last dropped for a DC status (not a transport failure).
    last_status_reset: Option<tokio::time::Instant>,
}

/// A status-triggered re-establishment at most this often: a DC that keeps answering
/// ACCESS_DENIED (or a client that could provoke it) does not make every logon cost a new
/// secure channel.
const STATUS_RESET_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

impl LogonPool {
    /// A pool of at most `size` concurrent logons over `channel` (at least one).
    pub fn new(channel: SecureChannel, size: usize) -> Self {
        Self {
            channel: Mutex::new(Shared {
                channel,
                generation: 0,
                last_status_reset: None,
            }),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// Has the DC verify a network logon. If the channel fails under it, the channel is
    /// re-established (once, whoever else saw the same failure) and the logon retried once.
    pub async fn logon_network(&self, logon: &NetworkLogon) -> Result<LogonOutcome, ChannelError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .unwrap_or_else(|_| unreachable!("the semaphore is never closed"));
        let mut retried = false;
        loop {
            let (generation, mut binding) = self.checkout().await?;
            let error = match binding.logon_network(logon).await {
                Ok(LogonOutcome::Refused(status))
                    if channel_lost(status)
                        && !retried
                        && self.reset_for_status(generation).await =>
                {
                    tracing::info!(%status, "secure channel lost under a pooled binding");
                    retried = true;
                    continue;
                }
                Ok(outcome) => {
                    self.idle.lock().await.push((generation, binding));
                    return Ok(outcome);
                }
                Err(error) => error,
            };
            let mut shared = self.channel.lock().await;
            self.invalidate(&mut shared, generation).await;
            if retried {
                return Err(shared.channel.rpc(error));
            }
            tracing::info!(%error, "a pooled binding failed; re-establishing");
            retried = true;
        }
    }

    /// Changes the machine password over the pool's own channel (NetrServerPasswordSet2,
    /// [`SecureChannel::set_password`]), so no second channel displaces it at the DC; the
    /// channel then re-establishes with the new password and the old bindings are dropped,
    /// whatever the outcome.
    pub async fn set_password(&self, new_password: &str) -> Result<(), ChannelError> {
        let mut shared = self.channel.lock().await;
        let result = shared.channel.set_password(new_password).await;
        let generation = shared.generation;
        self.invalidate(&mut shared, generation).await;
        result
    }

    /// How many times the channel has been (re-)established.
    pub async fn establishments(&self) -> u64 {
        self.channel.lock().await.channel.establishments()
    }

    /// An idle binding of the current generation, or a new one.
    async fn checkout(&self) -> Result<(u64, LogonBinding), ChannelError> {
        let mut shared = self.channel.lock().await;
        let current = shared.generation;
        {
            let mut idle = self.idle.lock().await;
            idle.retain(|(g, _)| *g == current);
            if let Some(found) = idle.pop() {
                return Ok(found);
            }
        }
        let binding = shared.channel.logon_binding().await?;
        Ok((current, binding))
    }

    /// Whether a DC status seen on a binding of `generation` may send the caller round
    /// again, that generation then dropped: always when it is already gone (another caller
    /// re-established), else at most once per [`STATUS_RESET_INTERVAL`] (the time is then
    /// recorded).
    async fn reset_for_status(&self, generation: u64) -> bool {
        let mut shared = self.channel.lock().await;
        if shared.generation != generation {
            return true;
        }
        let now = tokio::time::Instant::now();
        if shared
            .last_status_reset
            .is_some_and(|t| now.duration_since(t) < STATUS_RESET_INTERVAL)
        {
            return false;
        }
        shared.last_status_reset = Some(now);
        self.invalidate(&mut shared, generation).await;
        true
    }

    /// Drops generation `generation` (if still current): its bindings and the channel.
    /// The caller holds the channel lock.
    async fn invalidate(&self, shared: &mut Shared, generation: u64) {
        if shared.generation == generation {
            shared.channel.reset();
            shared.generation += 1;
            self.idle.lock().await.clear();
        }
    }
}
