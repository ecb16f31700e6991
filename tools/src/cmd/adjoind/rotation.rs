//! adjoind's automatic machine password rotation (issue 12 item 2): when the password is
//! older than the registry's maximum age (`Join\PasswordRotationDays`, default 30 as
//! Windows; `Join\PasswordRotationSeconds` overrides it when set), plus a random delay of
//! up to a tenth of the age (at most an hour) so a fleet joined together does not rotate
//! together, the password is changed over the file server's own secure channel (else one
//! of its own). A failure leaves the old password in use and is retried with backoff (one
//! minute, doubling, at most an hour); every rotation and failure is logged. After a
//! rotation the daemon's holders of the machine's keys and password take the new ones.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adjoin_auth::crypto::EncryptionType;
use adjoin_auth::keytab::Keytab;
use adjoin_auth::krb::Acceptor;
use adjoin_join::discover::DiscoverOptions;
use adjoin_join::join::{self, JOIN_KEY, RotateMethod};
use adjoin_join::machine;
use adjoin_registry::{Registry, Value};
use adjoin_rpc::netlogon::pool::LogonPool;
use tokio::sync::mpsc;

/// Settings are read again at least this often while waiting.
const RECHECK: Duration = Duration::from_secs(3600);
/// The first retry after a failure; it doubles up to [`RECHECK`].
const FIRST_RETRY: Duration = Duration::from_secs(60);
/// How long a rotation waits for the file server's secure channel before it fails (and is
/// retried, as any failed rotation).
const POOL_WAIT: Duration = Duration::from_secs(60);

/// What in the daemon holds the machine's keys or password, filled in as its services
/// start.
#[derive(Clone, Default)]
pub(crate) struct MachineSecrets {
    /// The file server's Kerberos acceptor.
    pub(crate) acceptor: Arc<OnceLock<Arc<Mutex<Acceptor>>>>,
    /// The file server's NETLOGON logon pool.
    pub(crate) pool: Arc<OnceLock<Arc<LogonPool>>>,
}

impl MachineSecrets {
    /// The acceptor takes the keytab's keys as they are now (the new and the previous kvno).
    pub(crate) fn reload_keytab(&self, keytab: Option<&std::path::Path>) {
        let (Some(acceptor), Some(path)) = (self.acceptor.get(), keytab) else {
            return;
        };
        match Keytab::load(path) {
            Ok(kt) => acceptor
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .replace_keytab(kt),
            Err(e) => {
                tracing::warn!(keytab = %path.display(), error = %e, "cannot read the keytab after the rotation: Kerberos logons use the old keys")
            }
        }
    }
}

/// The rotation task's view of the daemon.
pub(crate) struct Rotation {
    pub(crate) registry: PathBuf,
    pub(crate) discover: DiscoverOptions,
    pub(crate) secrets: MachineSecrets,
    /// Whether the daemon serves SMB: its file server's secure channel then carries the
    /// change, so that the channel holds the new password afterwards.
    pub(crate) smb: bool,
    /// Told after each rotation (the daemon then reloads what holds the password).
    pub(crate) rotated: mpsc::Sender<u32>,
}

impl Rotation {
    /// Runs for the daemon's life.
    pub(crate) async fn run(self) {
        let jitter_share = random_share();
        let mut retry = FIRST_RETRY;
        loop {
            let wait = match self.due(jitter_share) {
                Ok(Some(wait)) => wait,
                Ok(None) => RECHECK,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the rotation settings; trying again in an hour");
                    RECHECK
                }
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait.min(RECHECK)).await;
                continue;
            }
            match self.rotate().await {
                Ok(kvno) => {
                    tracing::info!(kvno, "machine password rotated");
                    retry = FIRST_RETRY;
                    let _ = self.rotated.send(kvno).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?retry, "machine password rotation failed; the old password stays in use");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(RECHECK);
                }
            }
        }
    }

    /// How long until the password is due (zero: now); `None` when rotation is off.
    fn due(&self, jitter_share: f64) -> anyhow::Result<Option<Duration>> {
        let registry = Registry::open(&self.registry)?;
        let Some(max_age) = max_age(&registry)? else {
            return Ok(None);
        };
        let last = match registry.stored_value(JOIN_KEY, "PasswordLastSet")? {
            Some(Value::Qword(t)) => t,
            // Joined before the time was recorded: the join time.
            _ => match registry.stored_value(JOIN_KEY, "JoinTime")? {
                Some(Value::Qword(t)) => t,
                _ => 0,
            },
        };
        let jitter = jitter(max_age, jitter_share);
        let due = UNIX_EPOCH + Duration::from_secs(last) + max_age + jitter;
        Ok(Some(
            due.duration_since(SystemTime::now()).unwrap_or_default(),
        ))
    }

    async fn rotate(&self) -> anyhow::Result<u32> {
        let method = if self.smb {
            // The file server's secure channel carries the change: rotating over a channel
            // of our own would leave the file server's pool, when it comes up later, with
            // the old password (STATUS_ACCESS_DENIED for every NTLM logon).
            match set_within(&self.secrets.pool, POOL_WAIT).await {
                Some(pool) => RotateMethod::Pool(pool),
                None => anyhow::bail!(
                    "the file server has no secure channel to a DC yet (waited {} s); the \
                     rotation waits for it",
                    POOL_WAIT.as_secs()
                ),
            }
        } else {
            RotateMethod::Netlogon
        };
        // Opened once the channel is there: nothing is held while it is waited for.
        let mut registry = Registry::open(&self.registry)?;
        let enctypes = enctypes(&registry)?;
        let kvno = join::rotate(&mut registry, &self.discover, &enctypes, method).await?;
        Ok(kvno)
    }
}

/// What `cell` holds once it is set, waiting at most `wait` (polling every 100 ms): a
/// rotation due at start waits so for the file server's logon pool, which comes up when
/// the file server has found a DC. `None` when it was not set in time (the rotation then
/// fails and is retried, with the file server's DC search going on meanwhile).
async fn set_within<T>(cell: &OnceLock<T>, wait: Duration) -> Option<&T> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(value) = cell.get() {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The maximum password age, `None` when rotation is off (`PasswordRotationDays` 0).
fn max_age(registry: &Registry) -> anyhow::Result<Option<Duration>> {
    if let Some(Value::Dword(s)) = registry.stored_value(JOIN_KEY, "PasswordRotationSeconds")?
        && s > 0
    {
        return Ok(Some(Duration::from_secs(u64::from(s))));
    }
    match registry.get_value(JOIN_KEY, "PasswordRotationDays")? {
        Value::Dword(0) => Ok(None),
        Value::Dword(days) => Ok(Some(Duration::from_secs(u64::from(days) * 86_400))),
        _ => anyhow::bail!("{JOIN_KEY}\\PasswordRotationDays is not a REG_DWORD"),
    }
}

/// The random delay: `share` (0..1) of a tenth of the age, at most [`RECHECK`].
fn jitter(max_age: Duration, share: f64) -> Duration {
    (max_age / 10).min(RECHECK).mul_f64(share.clamp(0.0, 1.0))
}

/// A random share in 0..1, drawn once per daemon.
fn random_share() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}

/// The key types of the new keys: the registry's `Kerberos\Enctypes`.
fn enctypes(registry: &Registry) -> anyhow::Result<Vec<EncryptionType>> {
    match registry.get_value(r"HKEY_THIS_MACHINE\Kerberos", "Enctypes")? {
        Value::MultiSz(ref list) => Ok(machine::parse_enctypes(&list.join(","))?),
        _ => anyhow::bail!(r"HKEY_THIS_MACHINE\Kerberos\Enctypes is not a REG_MULTI_SZ"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_wait_for_the_pool_ends_when_it_is_set_or_the_time_is_up() {
        let cell = Arc::new(OnceLock::new());
        let started = std::time::Instant::now();
        assert_eq!(set_within(&cell, Duration::from_millis(300)).await, None);
        assert!(started.elapsed() >= Duration::from_millis(300));
        let setter = {
            let cell = Arc::clone(&cell);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                cell.set(7_u32).unwrap();
            })
        };
        assert_eq!(set_within(&cell, Duration::from_secs(30)).await, Some(&7));
        setter.await.unwrap();
    }

    #[test]
    fn the_delay_is_a_tenth_of_the_age_at_most_an_hour() {
        let day = Duration::from_secs(86_400);
        assert_eq!(jitter(day * 30, 1.0), RECHECK);
        assert_eq!(jitter(Duration::from_secs(20), 1.0), Duration::from_secs(2));
        assert_eq!(jitter(Duration::from_secs(20), 0.0), Duration::ZERO);
        assert!(jitter(day, 0.5) <= RECHECK / 2);
    }

    #[test]
    fn rotation_seconds_override_days_and_zero_days_turn_it_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::open(dir.path().join("r.db")).unwrap();
        assert_eq!(
            max_age(&reg).unwrap(),
            Some(Duration::from_secs(30 * 86_400))
        );
        let tx = reg.transaction().unwrap();
        tx.set_value(JOIN_KEY, "PasswordRotationDays", &Value::Dword(0))
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(max_age(&reg).unwrap(), None);
        let tx = reg.transaction().unwrap();
        tx.set_value(JOIN_KEY, "PasswordRotationSeconds", &Value::Dword(5))
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(max_age(&reg).unwrap(), Some(Duration::from_secs(5)));
        let e = enctypes(&reg).unwrap();
        assert_eq!(
            e,
            [
                EncryptionType::AES256_CTS_HMAC_SHA1_96,
                EncryptionType::AES128_CTS_HMAC_SHA1_96
            ]
        );
    }
}
