//! `adjoin authenticate-user`: a domain logon verified by the DC over the NETLOGON
//! secure channel, as the SMB server will do it; `adjoin logon-bench`, the same logons
//! as a load generator.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use adjoin_join::discover::{DiscoverOptions, DomainController};
use adjoin_join::member::{self, Membership};
use adjoin_registry::Registry;
use adjoin_rpc::netlogon::channel::{LogonOutcome, NetworkLogon, SecureChannel};
use adjoin_rpc::ntstatus::NtStatus;
use anyhow::{Context, anyhow, bail};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use super::{AuthenticateUserArgs, ChannelArgs, LogonBenchArgs};
use crate::cli;

/// Splits `DOMAIN\user` (or `user`, in `default_domain`).
fn split_user<'a>(given: &'a str, default_domain: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    let (domain, user) = given.split_once('\\').unwrap_or((default_domain, given));
    if user.is_empty() || domain.is_empty() || user.contains('\\') {
        bail!("{given:?}: give the user as DOMAIN\\user");
    }
    Ok((domain, user))
}

/// The message for a refused logon: the status (its text names the NTSTATUS, for
/// scripts) and what to do about it.
fn refusal(status: NtStatus) -> String {
    let hint = match status {
        NtStatus::ACCOUNT_DISABLED => "; an administrator must enable it",
        NtStatus::PASSWORD_EXPIRED | NtStatus::PASSWORD_MUST_CHANGE => {
            "; change it first, e.g. with `adjoin kpasswd`"
        }
        _ => "",
    };
    format!("{status}{hint}")
}

/// A user's logon prepared against a joined machine's secure channel (not yet
/// established: that happens on the first call).
struct Session {
    membership: Membership,
    channel: SecureChannel,
    dc: DomainController,
    domain: String,
    user: String,
    password: Zeroizing<String>,
}

impl Session {
    async fn open(args: &ChannelArgs) -> anyhow::Result<Self> {
        let path = Registry::default_path();
        let registry = Registry::open(&path)
            .with_context(|| format!("cannot open the registry {}", path.display()))?;
        let membership = member::membership(&registry).map_err(|e| anyhow!(e))?;
        let (domain, user) = split_user(&args.user, &membership.account.netbios_domain)?;
        let password = cli::read_secret(
            &format!("Password for {domain}\\{user}: "),
            args.password_stdin,
        )?;
        let dns_servers = if args.dns_servers.is_empty() {
            member::registry_dns_servers(&registry).map_err(|e| anyhow!(e))?
        } else {
            args.dns_servers.clone()
        };
        let opts = DiscoverOptions {
            dns_servers,
            ..DiscoverOptions::default()
        };
        let timeout = Duration::from_secs(args.timeout.clamp(1, 120));
        let (channel, dc) = member::secure_channel(&membership, &opts, timeout)
            .await
            .map_err(|e| anyhow!(e))?;
        Ok(Self {
            domain: domain.to_owned(),
            user: user.to_owned(),
            membership,
            channel,
            dc,
            password,
        })
    }

    /// A fresh NTLMv2 logon of the user with `password`.
    fn logon(&self, password: &str) -> anyhow::Result<NetworkLogon> {
        logon_for(&self.membership, &self.domain, &self.user, password)
    }
}

fn logon_for(
    m: &Membership,
    domain: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<NetworkLogon> {
    member::network_logon(
        domain,
        user,
        password,
        &m.account.netbios_name,
        &m.dns_domain,
    )
    .map_err(|e| anyhow!(e))
}

pub(crate) async fn authenticate_user(args: AuthenticateUserArgs) -> anyhow::Result<()> {
    let mut s = Session::open(&args.channel).await?;
    let logon = s.logon(&s.password)?;
    let (domain, user, dc) = (&s.domain, &s.user, &s.dc);
    let info = match s.channel.logon_network(&logon).await? {
        LogonOutcome::Success(info) => info,
        LogonOutcome::Refused(status) => bail!("{domain}\\{user}: {}", refusal(status)),
    };
    let user_sid = info
        .user_sid()
        .ok_or(anyhow!("the DC's answer names no logon domain SID"))?;
    let groups: Vec<String> = info.group_sids().iter().map(ToString::to_string).collect();
    let primary = info
        .logon_domain_id
        .as_ref()
        .and_then(|d| d.with_rid(info.primary_group_id).ok())
        .map(|sid| sid.to_string())
        .unwrap_or_default();
    if args.json {
        let out = serde_json::json!({
            "user": format!("{}\\{}", info.logon_domain_name.as_str(), info.effective_name.as_str()),
            "full_name": info.full_name.as_str(),
            "sid": user_sid.to_string(),
            "primary_group": primary,
            "groups": groups,
            "logon_server": info.logon_server.as_str(),
            "dc": dc.dc_name,
            "user_flags": info.user_flags,
            "account_control": info.user_account_control(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{}\\{}: authenticated by {} (NTLMv2 over the NETLOGON secure channel)",
            info.logon_domain_name.as_str(),
            info.effective_name.as_str(),
            dc.dc_name
        );
        println!("  full name:     {}", info.full_name.as_str());
        println!("  SID:           {user_sid}");
        println!("  primary group: {primary}");
        println!("  groups:");
        for g in &groups {
            println!("    {g}");
        }
    }
    Ok(())
}

/// `adjoin logon-bench`: N logons through one secure channel by C callers, each on its
/// own sealed binding; prints logons per second and latency percentiles.
pub(crate) async fn logon_bench(args: LogonBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=64).contains(&args.concurrency),
        "--concurrency must be between 1 and 64"
    );
    let mut s = Session::open(&args.channel).await?;
    // Before timing: the right password is accepted and a wrong one refused, so the
    // figures are of real verification by the DC.
    let ok = s.channel.logon_network(&s.logon(&s.password)?).await?;
    if let LogonOutcome::Refused(status) = ok {
        bail!("{}\\{}: {}", s.domain, s.user, refusal(status));
    }
    let wrong = s
        .channel
        .logon_network(&s.logon("not-the-password")?)
        .await?;
    let LogonOutcome::Refused(wrong_status) = wrong else {
        bail!("a wrong password was accepted: the benchmark would measure nothing");
    };
    let mut bindings = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        bindings.push(s.channel.logon_binding().await?);
    }
    let remaining = Arc::new(AtomicU64::new(args.count));
    let who = Arc::new((s.membership, s.domain, s.user, s.password));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for mut binding in bindings {
        let (remaining, who) = (Arc::clone(&remaining), Arc::clone(&who));
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let (m, domain, user, password) = &*who;
                let logon = logon_for(m, domain, user, password)?;
                let t0 = Instant::now();
                match binding.logon_network(&logon).await? {
                    LogonOutcome::Success(_) => latencies.push(t0.elapsed()),
                    LogonOutcome::Refused(status) => bail!("a timed logon was refused: {status}"),
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        });
    }
    let mut latencies = Vec::with_capacity(usize::try_from(args.count).unwrap_or(0));
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.context("a benchmark task panicked")??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rate = latencies.len() as f64 / elapsed;
    if args.json {
        let out = serde_json::json!({
            "implementation": "adjoin",
            "logons": latencies.len(),
            "seconds": elapsed,
            "logons_per_second": rate,
            "concurrency": args.concurrency,
            "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99)},
            "wrong_password_status": wrong_status.to_string(),
            "dc": s.dc.dc_name,
            "secure_channel_establishments": s.channel.establishments(),
        });
        println!("{out}");
    } else {
        println!(
            "adjoin: {} logons in {elapsed:.3} s = {rate:.1} logons/s (concurrency {})",
            latencies.len(),
            args.concurrency
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_split_on_the_backslash() {
        assert_eq!(
            split_user(r"EXAMPLE\alice", "X").unwrap(),
            ("EXAMPLE", "alice")
        );
        assert_eq!(
            split_user("alice", "EXAMPLE").unwrap(),
            ("EXAMPLE", "alice")
        );
        assert!(split_user(r"EXAMPLE\", "X").is_err());
        assert!(split_user(r"a\b\c", "X").is_err());
    }
}
