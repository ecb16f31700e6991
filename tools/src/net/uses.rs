//! `net use`: saved connections to shares, which `smbshell` uses when it is given no
//! account (`crate::connections` keeps them). `net use \\server\share` logs on and
//! connects the share to check the account before saving it; `net use` lists them with
//! whether each server answers; `net use \\server\share /delete` (or `* /delete`)
//! forgets them.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use adjoin_rpc::ntstatus::NtStatus;
use adjoin_smb::client::{SessionAuth, SmbClient};
use serde::Serialize;
use tokio::task::JoinSet;

use super::NetError;
use super::args::UseArgs;
use super::connect::{credentials, log_on, resolve, smb_failed};
use super::table::{COMPLETED, RULE};
use crate::connections::{self, ConnectionsError, Saved};
use crate::ticket;

/// How long `net use` waits for each server when it lists the connections.
const PROBE: Duration = Duration::from_secs(2);

impl From<ConnectionsError> for NetError {
    fn from(e: ConnectionsError) -> Self {
        Self::Connections(e.to_string())
    }
}

pub(crate) async fn run(args: UseArgs) -> Result<(), NetError> {
    match (args.remote.as_deref(), args.delete) {
        (None, false) => list(&args).await,
        (None, true) => Err(NetError::Usage(
            r"give the connection to delete: net use \\server\share /delete (or * /delete)".into(),
        )),
        (Some("*"), true) => {
            connections::store(&[])?;
            done(&args, "deleted", &[]);
            Ok(())
        }
        (Some(unc), true) => {
            let (server, share) = parse_unc(unc)?;
            let mut all = connections::load()?;
            if !connections::remove(&mut all, &server, &share) {
                return Err(NetError::NoSuchConnection);
            }
            connections::store(&all)?;
            done(&args, "deleted", &[format!(r"\\{server}\{share}")]);
            Ok(())
        }
        (Some(unc), false) => add(&args, unc).await,
    }
}

/// `\\server\share` (or `//server/share`) as its two names.
fn parse_unc(unc: &str) -> Result<(String, String), NetError> {
    let bad = || NetError::Usage(format!(r"{unc}: give the share as \\server\share"));
    let rest = unc.trim_start_matches(['\\', '/']);
    let mut parts = rest.split(['\\', '/']).filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(server), Some(share), None) if unc.len() > rest.len() => {
            Ok((server.to_owned(), share.to_owned()))
        }
        _ => Err(bad()),
    }
}

/// Checks the account on the share, then saves the connection.
async fn add(args: &UseArgs, unc: &str) -> Result<(), NetError> {
    let (server, share) = parse_unc(unc)?;
    let remote = &args.net;
    let addr = resolve(&server, None, remote).await?;
    let dns = remote.dns_servers()?;
    let (auth, saved) =
        if remote.user.is_some() {
            let logon = credentials(remote)?;
            let (who, password) = logon.saved_form();
            let saved = Saved {
                server: server.clone(),
                share: share.clone(),
                user: Some(who.clone()),
                password: Some(password.as_str().to_owned()),
            };
            (logon.session_auth(), saved)
        } else {
            let spn = format!("cifs/{server}");
            let creds = ticket::service_ticket(None, &spn, &[], &dns)
            .await
            .map_err(|e| NetError::Usage(format!(
                "no Kerberos ticket for {spn} ({e:#}); run kinit, or give /user:DOMAIN\\name"
            )))?;
            let saved = Saved {
                server: server.clone(),
                share: share.clone(),
                user: None,
                password: None,
            };
            (SessionAuth::Kerberos(Box::new(creds)), saved)
        };
    check(
        &server,
        &share,
        addr,
        auth,
        saved.user.as_deref(),
        remote.timeout,
    )
    .await?;
    let mut all = connections::load()?;
    connections::upsert(&mut all, saved);
    if all.len() > connections::MAX_SAVED {
        return Err(NetError::Usage(format!(
            "{} connections are saved already: delete some with net use \\\\server\\share /delete",
            connections::MAX_SAVED
        )));
    }
    connections::store(&all)?;
    done(args, "saved", &[format!(r"\\{server}\{share}")]);
    Ok(())
}

/// Logs on to `server` at `addr` and connects `share`, as `net use` checks an account.
async fn check(
    server: &str,
    share: &str,
    addr: SocketAddr,
    auth: SessionAuth,
    user: Option<&str>,
    timeout: u64,
) -> Result<(), NetError> {
    let timeout = Duration::from_secs(timeout.max(1));
    let who = user.unwrap_or("you (Kerberos)").to_owned();
    let mut client = SmbClient::connect(addr, server, timeout)
        .await
        .map_err(|e| NetError::Unreachable {
            server: server.to_owned(),
            detail: e.to_string(),
        })?;
    log_on(&mut client, auth, server, &who).await?;
    let tree = client
        .tree_connect(share)
        .await
        .map_err(|e| match e.status() {
            Some(NtStatus::BAD_NETWORK_NAME) => NetError::NotFound {
                kind: "the share",
                name: share.to_owned(),
                place: format!(r" on \\{server}"),
            },
            _ => smb_failed(&format!("connecting {share}"), server, e),
        })?;
    let _ = client.tree_disconnect(tree).await;
    let _ = client.logoff().await;
    Ok(())
}

/// One row of `net use`.
#[derive(Debug, Serialize)]
struct Row {
    remote: String,
    server: String,
    share: String,
    user: Option<String>,
    auth: &'static str,
    status: &'static str,
}

/// Lists the saved connections, with whether each server answers on its port now.
async fn list(args: &UseArgs) -> Result<(), NetError> {
    let all = connections::load()?;
    let mut probes = JoinSet::new();
    for (i, saved) in all.iter().enumerate() {
        // Resolved as `net use` resolved it when saving (--dns-server, the system's
        // resolver, the join's DNS servers); connected to all at once.
        let Ok(Ok(addr)) =
            tokio::time::timeout(PROBE, resolve(&saved.server, None, &args.net)).await
        else {
            continue;
        };
        probes.spawn(async move {
            let up = tokio::time::timeout(PROBE, tokio::net::TcpStream::connect(addr))
                .await
                .is_ok_and(|r| r.is_ok());
            (i, up)
        });
    }
    let mut up = vec![false; all.len()];
    while let Some(done) = probes.join_next().await {
        if let Ok((i, answered)) = done {
            up[i] = answered;
        }
    }
    let rows: Vec<Row> = all
        .iter()
        .zip(up)
        .map(|(s, answered)| Row {
            remote: s.unc(),
            server: s.server.clone(),
            share: s.share.clone(),
            user: s.user.clone(),
            auth: if s.user.is_some() { "ntlm" } else { "kerberos" },
            status: if answered { "OK" } else { "Unavailable" },
        })
        .collect();
    if args.json {
        println!("{:#}", serde_json::json!(rows));
    } else {
        print!("{}", render(&rows));
    }
    Ok(())
}

/// Windows' listing.
fn render(rows: &[Row]) -> String {
    let mut out = String::from("New connections will be remembered.\n\n\n");
    if rows.is_empty() {
        out.push_str("There are no entries in the list.\n\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<13}{:<10}{:<26}Network\n",
        "Status", "Local", "Remote"
    );
    let _ = writeln!(out, "{RULE}");
    for r in rows {
        let line = format!(
            "{:<13}{:<10}{:<26}Microsoft Windows Network",
            r.status, "", r.remote
        );
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{COMPLETED}");
    out
}

/// The closing line (or JSON naming what was done).
fn done(args: &UseArgs, what: &str, remotes: &[String]) {
    if args.json {
        println!("{}", serde_json::json!({ what: remotes }));
    } else {
        println!("{COMPLETED}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_given_as_unc() {
        assert_eq!(
            parse_unc(r"\\dc1\sysvol").unwrap(),
            ("dc1".to_owned(), "sysvol".to_owned())
        );
        assert_eq!(
            parse_unc("//dc1/sysvol").unwrap(),
            ("dc1".to_owned(), "sysvol".to_owned())
        );
        assert!(parse_unc("dc1/sysvol").is_err());
        assert!(parse_unc(r"\\dc1").is_err());
        assert!(parse_unc(r"\\dc1\a\b").is_err());
    }

    #[test]
    fn the_listing_is_shaped_like_windows() {
        assert!(render(&[]).contains("There are no entries in the list."));
        let rows = [Row {
            remote: r"\\dc1\sysvol".into(),
            server: "dc1".into(),
            share: "sysvol".into(),
            user: Some(r"EXAMPLE\alice".into()),
            auth: "ntlm",
            status: "OK",
        }];
        let out = render(&rows);
        assert!(
            out.starts_with("New connections will be remembered.\n"),
            "{out}"
        );
        assert!(
            out.contains(
                r"OK                     \\dc1\sysvol              Microsoft Windows Network"
            ),
            "{out}"
        );
        assert!(
            out.ends_with("The command completed successfully.\n"),
            "{out}"
        );
    }
}
