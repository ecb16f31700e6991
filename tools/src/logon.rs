//! `adjoin authenticate-user`: a domain logon verified by the DC over the NETLOGON
//! secure channel, as the SMB server will do it.

use std::time::Duration;

use adjoin_join::discover::DiscoverOptions;
use adjoin_join::member;
use adjoin_registry::Registry;
use adjoin_rpc::netlogon::channel::LogonOutcome;
use adjoin_rpc::ntstatus::NtStatus;
use anyhow::{Context, anyhow, bail};

use super::AuthenticateUserArgs;
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

pub(crate) async fn authenticate_user(args: AuthenticateUserArgs) -> anyhow::Result<()> {
    let path = Registry::default_path();
    let registry = Registry::open(&path)
        .with_context(|| format!("cannot open the registry {}", path.display()))?;
    let m = member::membership(&registry).map_err(|e| anyhow!(e))?;
    let (domain, user) = split_user(&args.user, &m.account.netbios_domain)?;
    let password = cli::read_secret(
        &format!("Password for {domain}\\{user}: "),
        args.password_stdin,
    )?;
    let dns_servers = if args.dns_servers.is_empty() {
        member::registry_dns_servers(&registry).map_err(|e| anyhow!(e))?
    } else {
        args.dns_servers
    };
    let opts = DiscoverOptions {
        dns_servers,
        ..DiscoverOptions::default()
    };
    let timeout = Duration::from_secs(args.timeout.clamp(1, 120));
    let (mut channel, dc) = member::secure_channel(&m, &opts, timeout)
        .await
        .map_err(|e| anyhow!(e))?;
    drop(registry);
    let logon = member::network_logon(
        domain,
        user,
        &password,
        &m.account.netbios_name,
        &m.dns_domain,
    )
    .map_err(|e| anyhow!(e))?;
    drop(password);
    let outcome = channel.logon_network(&logon).await?;
    let info = match outcome {
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
