//! `adjoin find-user`, `find-group`, `list-groups-for-user`, `enum-users`, `enum-groups`,
//! `cache show|flush` and `status`: clients of adjoind's identity socket, with `--json`.

use std::path::PathBuf;
use std::time::Duration;

use adjoin_idproto::{Client, Group, Passwd, Request, Response};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::json;

/// How to reach adjoind.
#[derive(Debug, Args)]
pub(crate) struct SocketArgs {
    /// adjoind's socket.
    #[arg(long, value_name = "PATH", env = "ADJOIN_SOCKET", default_value = adjoin_idproto::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Seconds to wait for the answer (a cold lookup may wait for the DC).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// `adjoin stats`.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    socket: SocketArgs,
    /// Zero the request counters and restart the maxima after reading them.
    #[arg(long)]
    reset: bool,
}

/// A name or an id.
#[derive(Debug, Args)]
pub(crate) struct NameArgs {
    /// A name in any form (alice, EXAMPLE\alice, alice@example.test) or a numeric id.
    name: String,
    #[command(flatten)]
    socket: SocketArgs,
}

/// `adjoin cache show|flush`.
#[derive(Debug, Subcommand)]
pub(crate) enum CacheCommand {
    /// Counts and size of the identity cache.
    Show(SocketArgs),
    /// Forget every cached user, group and group list (root only).
    Flush(SocketArgs),
}

fn call(s: &SocketArgs, req: &Request) -> anyhow::Result<Response> {
    let mut client = Client::connect(&s.socket, Duration::from_secs(s.timeout.clamp(1, 600)))
        .with_context(|| {
            format!(
                "cannot reach adjoind at {} (is it running? `systemctl status adjoind`)",
                s.socket.display()
            )
        })?;
    let response = client.call(req).context("adjoind did not answer")?;
    if let Response::Error { kind, message } = &response {
        bail!("adjoind refused ({kind:?}): {message}");
    }
    Ok(response)
}

fn passwd_json(p: &Passwd) -> serde_json::Value {
    json!({"name": p.name, "uid": p.uid, "gid": p.gid, "gecos": p.gecos, "home": p.dir, "shell": p.shell})
}

fn group_json(g: &Group) -> serde_json::Value {
    json!({"name": g.name, "gid": g.gid, "members": g.members})
}

fn not_found(what: &str, name: &str) -> anyhow::Error {
    anyhow::anyhow!("no {what} {name} in the domain")
}

/// `adjoin find-user NAME|UID`.
pub(crate) fn find_user(a: &NameArgs) -> anyhow::Result<()> {
    let req = match a.name.parse::<u32>() {
        Ok(uid) => Request::GetPwUid { uid },
        Err(_) => Request::GetPwNam {
            name: a.name.clone(),
        },
    };
    let Response::Passwd(p) = call(&a.socket, &req)? else {
        return Err(not_found("user", &a.name));
    };
    if a.socket.json {
        println!("{}", passwd_json(&p));
    } else {
        println!(
            "Name:   {}\nUID:    {}\nGID:    {}\nGecos:  {}\nHome:   {}\nShell:  {}",
            p.name, p.uid, p.gid, p.gecos, p.dir, p.shell
        );
    }
    Ok(())
}

/// `adjoin find-group NAME|GID`.
pub(crate) fn find_group(a: &NameArgs) -> anyhow::Result<()> {
    let req = match a.name.parse::<u32>() {
        Ok(gid) => Request::GetGrGid { gid },
        Err(_) => Request::GetGrNam {
            name: a.name.clone(),
        },
    };
    let Response::Group(g) = call(&a.socket, &req)? else {
        return Err(not_found("group", &a.name));
    };
    if a.socket.json {
        println!("{}", group_json(&g));
    } else {
        println!(
            "Name:    {}\nGID:     {}\nMembers: {}",
            g.name,
            g.gid,
            g.members.join(", ")
        );
    }
    Ok(())
}

/// `adjoin list-groups-for-user NAME`: every group of her token, with names.
pub(crate) fn list_groups_for_user(a: &NameArgs) -> anyhow::Result<()> {
    let Response::Gids(gids) = call(
        &a.socket,
        &Request::InitGroups {
            name: a.name.clone(),
        },
    )?
    else {
        return Err(not_found("user", &a.name));
    };
    let mut rows = Vec::with_capacity(gids.len());
    for gid in gids {
        let name = match call(&a.socket, &Request::GetGrGid { gid }) {
            Ok(Response::Group(g)) => Some(g.name),
            _ => None,
        };
        rows.push((gid, name));
    }
    if a.socket.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(gid, name)| json!({"gid": gid, "name": name}))
            .collect();
        println!("{}", serde_json::Value::Array(v));
    } else {
        for (gid, name) in rows {
            println!("{gid}\t{}", name.as_deref().unwrap_or("(no name)"));
        }
    }
    Ok(())
}

/// `adjoin enum-users`.
pub(crate) fn enum_users(s: &SocketArgs) -> anyhow::Result<()> {
    let Response::Users(users) = call(s, &Request::EnumUsers)? else {
        bail!("adjoind sent no user list");
    };
    if s.json {
        println!(
            "{}",
            serde_json::Value::Array(users.iter().map(passwd_json).collect())
        );
    } else {
        for p in users {
            println!(
                "{}:x:{}:{}:{}:{}:{}",
                p.name, p.uid, p.gid, p.gecos, p.dir, p.shell
            );
        }
    }
    Ok(())
}

/// `adjoin enum-groups`.
pub(crate) fn enum_groups(s: &SocketArgs) -> anyhow::Result<()> {
    let Response::Groups(groups) = call(s, &Request::EnumGroups)? else {
        bail!("adjoind sent no group list");
    };
    if s.json {
        println!(
            "{}",
            serde_json::Value::Array(groups.iter().map(group_json).collect())
        );
    } else {
        for g in groups {
            println!("{}:x:{}:{}", g.name, g.gid, g.members.join(","));
        }
    }
    Ok(())
}

/// `adjoin cache show|flush`.
pub(crate) fn cache(c: &CacheCommand) -> anyhow::Result<()> {
    match c {
        CacheCommand::Show(s) => json_or_lines(s, &Request::CacheShow),
        CacheCommand::Flush(s) => {
            call(s, &Request::CacheFlush)?;
            if s.json {
                println!("{}", json!({"flushed": true}));
            } else {
                println!("the identity cache is empty");
            }
            Ok(())
        }
    }
}

/// `adjoin status`.
pub(crate) fn status(s: &SocketArgs) -> anyhow::Result<()> {
    json_or_lines(s, &Request::Status)
}

/// `adjoin stats`: the SMB server's counters, as a table or JSON.
pub(crate) fn stats(a: &StatsArgs) -> anyhow::Result<()> {
    let req = Request::ServerStats { reset: a.reset };
    let Response::Json(text) = call(&a.socket, &req)? else {
        bail!("adjoind sent no statistics");
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).context("adjoind's answer is not JSON")?;
    if a.socket.json {
        println!("{v}");
        return Ok(());
    }
    println!("{:<16} {:>10} {:>10}", "", "current", "max");
    for (key, label) in [
        ("connections", "connections"),
        ("sessions", "sessions"),
        ("tree_connects", "tree connects"),
        ("open_files", "open files"),
    ] {
        let number = |field: &str| v[key][field].as_u64().unwrap_or(0);
        println!(
            "{label:<16} {:>10} {:>10}",
            number("current"),
            number("max")
        );
    }
    println!();
    println!(
        "{:<16} {:>12} {:>16} {:>16}",
        "command", "requests", "bytes in", "bytes out"
    );
    for c in v["commands"].as_array().into_iter().flatten() {
        let number = |field: &str| c[field].as_u64().unwrap_or(0);
        println!(
            "{:<16} {:>12} {:>16} {:>16}",
            c["command"].as_str().unwrap_or("?"),
            number("requests"),
            number("bytes_in"),
            number("bytes_out")
        );
    }
    if a.reset {
        println!("\n(counters reset)");
    }
    Ok(())
}

/// Prints a JSON answer as JSON, or as `key: value` lines.
fn json_or_lines(s: &SocketArgs, req: &Request) -> anyhow::Result<()> {
    let Response::Json(text) = call(s, req)? else {
        bail!("adjoind sent no status");
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).context("adjoind's answer is not JSON")?;
    if s.json {
        println!("{v}");
        return Ok(());
    }
    print_lines("", &v);
    Ok(())
}

fn print_lines(prefix: &str, v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                print_lines(&key, v);
            }
        }
        serde_json::Value::String(s) => println!("{prefix}: {s}"),
        other => println!("{prefix}: {other}"),
    }
}
