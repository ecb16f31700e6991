//! `adjoin authenticate-user`: a domain logon verified by the DC over the NETLOGON
//! secure channel, as the SMB server will do it; `adjoin logon-bench`, the same logons
//! as a load generator.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use adjoin_join::discover::DomainController;
use adjoin_join::member::{self, Membership, NtlmLogon};
use adjoin_registry::Registry;
use adjoin_rpc::client::RpcError;
use adjoin_rpc::lsa::Translation;
use adjoin_rpc::ndr::{Sid, WideString};
use adjoin_rpc::netlogon::DS_DIRECTORY_SERVICE_REQUIRED;
use adjoin_rpc::netlogon::channel::{ChannelError, LogonOutcome, SecureChannel};
use adjoin_rpc::netlogon::pool::LogonPool;
use adjoin_rpc::ntstatus::NtStatus;
use adjoin_rpc::pdu::FaultStatus;
use anyhow::{Context, anyhow, bail};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use super::{AuthenticateUserArgs, ChannelArgs, DcArgs, DcnameArgs, LogonBenchArgs, LookupArgs};
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

/// The joined machine's membership and a secure channel to a DC of its domain (not yet
/// established: that happens on the first call).
async fn open_channel(
    args: &DcArgs,
) -> anyhow::Result<(Membership, SecureChannel, DomainController)> {
    let path = Registry::default_path();
    let registry = Registry::open(&path)
        .with_context(|| format!("cannot open the registry {}", path.display()))?;
    let timeout = Duration::from_secs(args.timeout.clamp(1, 120));
    member::open_channel(&registry, &args.dns_servers, timeout)
        .await
        .map_err(|e| anyhow!(e))
}

impl Session {
    async fn open(args: &ChannelArgs) -> anyhow::Result<Self> {
        let (membership, channel, dc) = open_channel(&args.dc).await?;
        let (domain, user) = split_user(&args.user, &membership.account.netbios_domain)?;
        let password = cli::read_secret(
            &format!("Password for {domain}\\{user}: "),
            args.password_stdin,
        )?;
        Ok(Self {
            domain: domain.to_owned(),
            user: user.to_owned(),
            membership,
            channel,
            dc,
            password,
        })
    }

    /// A fresh NTLM logon of the user with `password`, through this member's acceptor.
    fn logon(&self, password: &str) -> anyhow::Result<NtlmLogon> {
        logon_for(&self.membership, &self.domain, &self.user, password)
    }
}

fn logon_for(
    m: &Membership,
    domain: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<NtlmLogon> {
    NtlmLogon::start(m, domain, user, password).map_err(|e| anyhow!(e))
}

pub(crate) async fn authenticate_user(args: AuthenticateUserArgs) -> anyhow::Result<()> {
    let mut s = Session::open(&args.channel).await?;
    let logon = s.logon(&s.password)?;
    let (domain, user, dc) = (&s.domain, &s.user, &s.dc);
    let info = match s.channel.logon_network(&logon.network_logon()).await? {
        LogonOutcome::Success(info) => info,
        LogonOutcome::Refused(status) => bail!("{domain}\\{user}: {}", refusal(status)),
    };
    // What an SMB session would sign with: the key the DC returned must be the one the
    // client derived (its MIC and both SPNEGO MICs verify under it).
    logon
        .complete(&info.user_session_key)
        .map_err(|e| anyhow!("{domain}\\{user}: {e}"))?;
    let user_sid = info
        .user_sid()
        .ok_or(anyhow!("the DC's answer names no logon domain SID"))?;
    let group_sids = info.group_sids();
    let primary = info
        .logon_domain_id
        .as_ref()
        .and_then(|d| d.with_rid(info.primary_group_id).ok());
    // Names through LSA on the same secure channel; a failed lookup only costs the names.
    let mut all = vec![user_sid.clone()];
    all.extend(group_sids.iter().cloned());
    let names: HashMap<Sid, String> = match s.channel.lookup_sids(&all).await {
        Ok(t) => t
            .into_iter()
            .flatten()
            .map(|t| (t.sid.clone(), t.qualified()))
            .collect(),
        Err(e) => {
            eprintln!("adjoin: warning: SIDs not translated to names: {e}");
            HashMap::new()
        }
    };
    let named = |sid: &Sid| match names.get(sid) {
        Some(n) => format!("{sid} ({n})"),
        None => sid.to_string(),
    };
    if args.json {
        let out = serde_json::json!({
            "user": format!("{}\\{}", info.logon_domain_name.as_str(), info.effective_name.as_str()),
            "full_name": info.full_name.as_str(),
            "sid": user_sid.to_string(),
            "primary_group": primary.as_ref().map(ToString::to_string).unwrap_or_default(),
            "groups": group_sids.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "names": names.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>(),
            "logon_server": info.logon_server.as_str(),
            "dc": dc.dc_name,
            "user_flags": info.user_flags.bits(),
            "account_control": info.user_account_control,
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
        println!("  SID:           {}", named(&user_sid));
        if let Some(p) = &primary {
            println!("  primary group: {}", named(p));
        }
        println!("  groups:");
        for g in &group_sids {
            println!("    {}", named(g));
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
    let ok = s
        .channel
        .logon_network(&s.logon(&s.password)?.network_logon())
        .await?;
    if let LogonOutcome::Refused(status) = ok {
        bail!("{}\\{}: {}", s.domain, s.user, refusal(status));
    }
    let wrong = s
        .channel
        .logon_network(&s.logon("not-the-password")?.network_logon())
        .await?;
    let LogonOutcome::Refused(wrong_status) = wrong else {
        bail!("a wrong password was accepted: the benchmark would measure nothing");
    };
    // One pool over the channel: up to C sealed bindings, re-established together if the
    // DC drops the channel. C concurrent logons first, untimed, open the bindings.
    let pool = Arc::new(LogonPool::new(s.channel, args.concurrency));
    let who = Arc::new((s.membership, s.domain, s.user, s.password));
    let run = |timed: Option<Arc<AtomicU64>>| {
        let (pool, who) = (Arc::clone(&pool), Arc::clone(&who));
        async move {
            let mut latencies = Vec::new();
            loop {
                if let Some(remaining) = &timed {
                    let took = remaining
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
                    if took.is_err() {
                        break;
                    }
                }
                let (m, domain, user, password) = &*who;
                let logon = logon_for(m, domain, user, password)?;
                let t0 = Instant::now();
                match pool.logon_network(&logon.network_logon()).await? {
                    LogonOutcome::Success(info) => {
                        latencies.push(t0.elapsed());
                        logon
                            .complete(&info.user_session_key)
                            .map_err(|e| anyhow!(e))?;
                    }
                    LogonOutcome::Refused(status) => bail!("a timed logon was refused: {status}"),
                }
                if timed.is_none() {
                    break;
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        }
    };
    let mut warmup = JoinSet::new();
    for _ in 0..args.concurrency {
        warmup.spawn(run(None));
    }
    while let Some(done) = warmup.join_next().await {
        done.context("a warm-up task panicked")??;
    }
    let remaining = Arc::new(AtomicU64::new(args.count));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..args.concurrency {
        tasks.spawn(run(Some(Arc::clone(&remaining))));
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
            "secure_channel_establishments": pool.establishments().await,
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

fn is_sid(item: &str) -> bool {
    item.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("S-1-"))
}

/// `adjoin lookup`: names to SIDs and SIDs to names, through LSA on the secure channel.
/// One row per item, in the order given; exits non-zero if any is unknown.
pub(crate) async fn lookup(args: LookupArgs) -> anyhow::Result<()> {
    let (_, mut channel, _) = open_channel(&args.dc).await?;
    let (sids, names): (Vec<&str>, Vec<&str>) = args
        .items
        .iter()
        .map(String::as_str)
        .partition(|i| is_sid(i));
    let sids: Vec<Sid> = sids
        .iter()
        .map(|s| s.parse().map_err(|e| anyhow!("{s}: {e}")))
        .collect::<anyhow::Result<_>>()?;
    let (mut by_name, refused) = lookup_names_each(&mut channel, &names).await?;
    canonical_upn_names(&mut channel, &names, &mut by_name).await?;
    let mut by_name = by_name.into_iter();
    let mut by_sid = channel.lookup_sids(&sids).await?.into_iter().zip(&sids);
    let mut rows = Vec::with_capacity(args.items.len());
    for item in &args.items {
        let found = if is_sid(item) {
            let (t, sid) = by_sid.next().unzip();
            t.flatten().map(|t| {
                (
                    sid.map(ToString::to_string).unwrap_or_default(),
                    t.qualified(),
                    t.sid_use,
                )
            })
        } else {
            by_name
                .next()
                .flatten()
                .map(|t| (t.sid.to_string(), t.qualified(), t.sid_use))
        };
        rows.push((item, found));
    }
    if args.json {
        let out: Vec<_> = rows
            .iter()
            .map(|(query, found)| match found {
                Some((sid, name, kind)) => serde_json::json!(
                    {"query": query, "sid": sid, "name": name, "type": kind.to_string()}),
                None => {
                    serde_json::json!({"query": query, "sid": null, "name": null, "type": null})
                }
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (query, found) in &rows {
            match found {
                Some((sid, name, kind)) => println!("{sid}  {name}  ({kind})"),
                None => println!("{query}  not found"),
            }
        }
    }
    let missing: Vec<&str> = rows
        .iter()
        .filter(|(_, found)| found.is_none())
        .map(|(query, _)| query.as_str())
        .collect();
    if let Some(fault) = refused {
        bail!(
            "not found: {} (the DC answered {fault}, as a Samba DC does for a name a trusted \
             domain does not know)",
            missing.join(", ")
        );
    }
    if !missing.is_empty() {
        bail!("not found in the domain: {}", missing.join(", "));
    }
    Ok(())
}

/// A name given as a UPN (`alice@example.test`) translates to its SID and domain only:
/// its account name (`EXAMPLE\alice`) comes from looking the SID up.
async fn canonical_upn_names(
    channel: &mut SecureChannel,
    names: &[&str],
    found: &mut [Option<Translation>],
) -> anyhow::Result<()> {
    let upns: Vec<Sid> = names
        .iter()
        .zip(found.iter())
        .filter(|(name, _)| name.contains('@'))
        .filter_map(|(_, t)| t.as_ref().map(|t| t.sid.clone()))
        .collect();
    if upns.is_empty() {
        return Ok(());
    }
    let canonical = channel.lookup_sids(&upns).await?;
    for (name, t) in names.iter().zip(found.iter_mut()) {
        let Some(t) = t.as_mut().filter(|_| name.contains('@')) else {
            continue;
        };
        let by_sid = upns.iter().zip(&canonical).find(|(sid, _)| **sid == t.sid);
        if let Some((_, Some(c))) = by_sid {
            t.name.clone_from(&c.name);
            t.domain.clone_from(&c.domain);
        }
    }
    Ok(())
}

/// LsarLookupNames4 for `names`. A Samba DC answers the whole call with a fault
/// (nca_s_fault_cant_perform) when one name is in a trusted domain that does not know it;
/// then each name is asked on its own, the refused ones count as not found, and the fault
/// is returned beside the answers.
async fn lookup_names_each(
    channel: &mut SecureChannel,
    names: &[&str],
) -> anyhow::Result<(Vec<Option<Translation>>, Option<FaultStatus>)> {
    let fault_of = |e: &ChannelError| match e {
        ChannelError::Rpc {
            error: RpcError::Fault(f),
            ..
        } => Some(*f),
        _ => None,
    };
    let first = match channel.lookup_names(names).await {
        Ok(found) => return Ok((found, None)),
        Err(e) => fault_of(&e).ok_or(e)?,
    };
    let mut refused = None;
    let mut found = Vec::with_capacity(names.len());
    for name in names {
        match channel.lookup_names(&[name]).await {
            Ok(mut one) => found.push(one.pop().flatten()),
            Err(e) => {
                refused = Some(fault_of(&e).ok_or(e)?);
                found.push(None);
            }
        }
    }
    let some_missing = found.iter().any(Option::is_none);
    Ok((found, refused.or(Some(first)).filter(|_| some_missing)))
}

/// `adjoin dcname`: DsrGetDcNameEx2 through the secure channel.
pub(crate) async fn dcname(args: DcnameArgs) -> anyhow::Result<()> {
    let (membership, mut channel, _) = open_channel(&args.dc).await?;
    let domain = args.domain.unwrap_or(membership.dns_domain);
    let flags = if args.ds_required {
        DS_DIRECTORY_SERVICE_REQUIRED
    } else {
        0
    };
    let info = channel.dc_name(&domain, flags).await?;
    let text = |s: &Option<WideString>| {
        s.as_ref()
            .map(|w| w.0.trim_start_matches('\\').to_owned())
            .unwrap_or_default()
    };
    let fields = [
        ("DC name", text(&info.domain_controller_name)),
        ("DC address", text(&info.domain_controller_address)),
        ("Domain", text(&info.domain_name)),
        ("Forest", text(&info.dns_forest_name)),
        ("Domain GUID", info.domain_guid.to_string()),
        ("Server site", text(&info.dc_site_name)),
        ("Client site", text(&info.client_site_name)),
        ("Flags", format!("{:#010x}", info.flags)),
    ];
    if args.json {
        let map: BTreeMap<&str, &String> = fields.iter().map(|(k, v)| (*k, v)).collect();
        println!("{}", serde_json::to_string_pretty(&map)?);
    } else {
        for (k, v) in &fields {
            println!("{k:<12}: {v}");
        }
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
