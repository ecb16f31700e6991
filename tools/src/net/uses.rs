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
use super::args::{Remote, UseArgs};
use super::connect::{credentials, log_on, resolve, smb_failed};
use super::table::{COMPLETED, RULE};
use crate::connections::{self, Saved};
use crate::ticket;

/// How long `net use` waits for each server when it lists the connections.
const PROBE: Duration = Duration::from_secs(2);

pub(crate) async fn run(args: UseArgs) -> Result<(), NetError> {
    match (args.remote.as_deref(), args.delete) {
        (None, false) => list(&args).await,
        (None, true) => Err(NetError::Usage(
            r"give the connection to delete: net use \\server\share /delete (or * /delete)".into(),
        )),
        (Some("*"), true) => delete_all(&args),
        (Some(unc), true) => delete(&args, unc),
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
    // An unsafe or damaged file is refused before any password is asked for.
    connections::load()?;
    let remote = &args.net;
    let addr = resolve(&server, None, remote).await?;
    let mut saved = Saved {
        server: server.clone(),
        share: share.clone(),
        port: (remote.port != 445).then_some(remote.port),
        user: None,
        password: None,
    };
    let (auth, who) = if remote.user.is_some() {
        let logon = credentials(remote)?;
        let (who, password) = logon.saved_form();
        saved.user = Some(who.clone());
        saved.password = Some(password);
        (logon.session_auth(), who)
    } else {
        let spn = format!("cifs/{server}");
        let creds = ticket::service_ticket(None, &spn, &[], &remote.dns_servers()?)
            .await
            .map_err(|e| NetError::NoTicket {
                spn,
                detail: format!("{e:#}"),
            })?;
        let who = creds.client.to_string();
        (SessionAuth::Kerberos(Box::new(creds)), who)
    };
    check(&server, &share, addr, auth, &who, remote.timeout).await?;
    // Read again under the lock: another net use may have saved one meanwhile.
    let locked = connections::lock()?;
    let mut all = locked.load()?;
    connections::upsert(&mut all, saved)?;
    locked.store(&all)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "saved": [format!(r"\\{server}\{share}")] })
        );
    } else {
        println!("{COMPLETED}");
    }
    Ok(())
}

/// Logs on to `server` at `addr` as `who` and connects `share`, as `net use` checks an
/// account.
async fn check(
    server: &str,
    share: &str,
    addr: SocketAddr,
    auth: SessionAuth,
    who: &str,
    timeout: u64,
) -> Result<(), NetError> {
    let timeout = Duration::from_secs(timeout.max(1));
    let mut client = SmbClient::connect(addr, server, timeout)
        .await
        .map_err(|e| NetError::Unreachable {
            server: server.to_owned(),
            detail: e.to_string(),
        })?;
    log_on(&mut client, auth, server, who).await?;
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

/// Forgets the connection to `unc`: Windows' "... was deleted successfully.".
fn delete(args: &UseArgs, unc: &str) -> Result<(), NetError> {
    let (server, share) = parse_unc(unc)?;
    let locked = connections::lock()?;
    let mut all = locked.load()?;
    let gone = connections::remove(&mut all, &server, &share).ok_or(NetError::NoSuchConnection)?;
    locked.store(&all)?;
    let remote = gone.unc();
    if args.json {
        println!("{}", serde_json::json!({ "deleted": [remote] }));
    } else {
        println!("{remote} was deleted successfully.");
    }
    Ok(())
}

/// `net use * /delete`: forgets them all. Unlike Windows it asks nothing first (there is
/// no session to lose, only what was saved). A damaged or unsafe file is replaced too.
fn delete_all(args: &UseArgs) -> Result<(), NetError> {
    if !connections::path()?.exists() {
        return nothing_saved(args);
    }
    let locked = connections::lock()?;
    let gone: Vec<String> = match locked.load() {
        Ok(all) => all.iter().map(Saved::unc).collect(),
        Err(e) => {
            tracing::info!(error = %e, "replacing the saved connections");
            Vec::new()
        }
    };
    locked.store(&[])?;
    if args.json {
        println!("{}", serde_json::json!({ "deleted": gone }));
    } else if gone.is_empty() {
        println!("There are no entries in the list.");
    } else {
        println!("{COMPLETED}");
    }
    Ok(())
}

fn nothing_saved(args: &UseArgs) -> Result<(), NetError> {
    if args.json {
        println!("{}", serde_json::json!({ "deleted": [] }));
    } else {
        println!("There are no entries in the list.");
    }
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
    let up = probe(&all, &args.net).await;
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

/// Whether each server answers a TCP connect on its saved port within [`PROBE`], all
/// asked at once. Names resolve as `net use` resolved them when saving (--dns-server,
/// the system's resolver, the join's DNS servers), within the same bound.
async fn probe(all: &[Saved], net: &Remote) -> Vec<bool> {
    let mut probes = JoinSet::new();
    for (i, saved) in all.iter().enumerate() {
        let remote = Remote {
            port: saved.port(),
            ..net.clone()
        };
        let server = saved.server.clone();
        probes.spawn(async move {
            let reach = async {
                let addr = resolve(&server, None, &remote).await.ok()?;
                tokio::net::TcpStream::connect(addr).await.ok()
            };
            let up = tokio::time::timeout(PROBE, reach)
                .await
                .is_ok_and(|s| s.is_some());
            (i, up)
        });
    }
    let mut up = vec![false; all.len()];
    while let Some(done) = probes.join_next().await {
        if let Ok((i, answered)) = done {
            up[i] = answered;
        }
    }
    up
}

/// Where Windows starts the Network column; a longer Remote pushes it to its own line.
const NETWORK_COLUMN: usize = 49;

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
        let mut line = format!("{:<13}{:<10}{}", r.status, "", r.remote);
        if line.len() >= NETWORK_COLUMN {
            line.push('\n');
            line.push_str(&" ".repeat(NETWORK_COLUMN));
        } else {
            line = format!("{line:<NETWORK_COLUMN$}");
        }
        let _ = writeln!(out, "{line}Microsoft Windows Network");
    }
    let _ = writeln!(out, "{COMPLETED}");
    out
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

    #[test]
    fn a_long_remote_puts_the_network_on_its_own_line() {
        let remote = r"\\fileserver01.corp.example.test\engineering";
        let rows = [Row {
            remote: remote.into(),
            server: "fileserver01.corp.example.test".into(),
            share: "engineering".into(),
            user: None,
            auth: "kerberos",
            status: "Unavailable",
        }];
        let out = render(&rows);
        let expected = format!(
            "Unavailable            {remote}\n{:49}Microsoft Windows Network\n",
            ""
        );
        assert!(out.contains(&expected), "{out}");
    }
}
