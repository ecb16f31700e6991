//! `net share [name[=path]] [/delete]`: the local adjoind's disk shares, kept in the
//! registry under `Services\adjoind\Shares\<name>` (value `Path`, REG_SZ; `Comment`
//! with `/remark`). adjoind re-reads them every few seconds (tools/src/cmd/adjoind/shares.rs), so a
//! share added here is served without a restart.

use std::path::{Path, PathBuf};

use adjoin_registry::{Registry, Value};
use serde::Serialize;

use super::NetError;
use super::args::ShareArgs;
use super::table::{COMPLETED, RULE};

/// Where adjoind's shares are configured (as tools/src/cmd/adjoind/shares.rs reads them).
const SHARES_KEY: &str = r"HKEY_THIS_MACHINE\Services\adjoind\Shares";

/// One configured share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LocalShare {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) remark: String,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShareCommand {
    List,
    Show(String),
    Add { name: String, path: String },
    Delete(String),
}

impl ShareCommand {
    pub(crate) fn parse(share: Option<&str>, delete: bool) -> Result<Self, NetError> {
        let Some(share) = share else {
            return if delete {
                Err(NetError::Usage(
                    "net share /delete needs the share's name".into(),
                ))
            } else {
                Ok(Self::List)
            };
        };
        let command = match share.split_once('=') {
            Some(_) if delete => {
                return Err(NetError::Usage(
                    "net share NAME /delete takes the name alone, not NAME=PATH".into(),
                ));
            }
            Some((name, path)) => {
                if path.is_empty() {
                    return Err(NetError::Usage(format!(
                        "net share {share}: no path after ="
                    )));
                }
                Self::Add {
                    name: name.to_owned(),
                    path: path.to_owned(),
                }
            }
            None if delete => Self::Delete(share.to_owned()),
            None => Self::Show(share.to_owned()),
        };
        let (Self::Add { name, .. } | Self::Delete(name) | Self::Show(name)) = &command else {
            return Ok(command);
        };
        check_name(name)?;
        Ok(command)
    }
}

/// The names adjoind refuses (tools/src/cmd/adjoind/shares.rs): IPC$, longer than 80, with a slash.
fn check_name(name: &str) -> Result<(), NetError> {
    if name.is_empty()
        || name.eq_ignore_ascii_case("IPC$")
        || name.chars().count() > 80
        || name.contains(['\\', '/'])
    {
        return Err(NetError::Usage(format!(
            "{name:?} is not a usable share name (1-80 characters, no slashes, not IPC$)"
        )));
    }
    Ok(())
}

pub(crate) fn run(args: ShareArgs) -> Result<(), NetError> {
    let command = ShareCommand::parse(args.share.as_deref(), args.delete)?;
    let path = args.registry.clone().unwrap_or_else(Registry::default_path);
    let failed = |e: adjoin_registry::Error| NetError::Registry {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let registry = Registry::open(&path).map_err(failed)?;
    match command {
        ShareCommand::List => {
            let shares = list(&registry).map_err(failed)?;
            if args.json {
                println!("{:#}", serde_json::json!({ "shares": shares }));
            } else {
                print!("{}", render_list(&shares));
            }
        }
        ShareCommand::Show(name) => {
            let share = list(&registry)
                .map_err(failed)?
                .into_iter()
                .find(|s| s.name.eq_ignore_ascii_case(&name))
                .ok_or_else(|| not_found(&name))?;
            if args.json {
                println!("{:#}", serde_json::json!(share));
            } else {
                print!("{}", render_one(&share));
            }
        }
        ShareCommand::Add { name, path: dir } => {
            let dir = directory(&dir)?;
            if registry.key_exists(&key(&name)).map_err(failed)? {
                return Err(NetError::Usage(format!(
                    "{name} is already shared: remove it first (net share {name} /delete)"
                )));
            }
            let mut tx_registry = registry;
            let tx = tx_registry.transaction().map_err(failed)?;
            tx.set_value(&key(&name), "Path", &Value::Sz(dir.display().to_string()))
                .map_err(failed)?;
            if let Some(remark) = &args.remark {
                tx.set_value(&key(&name), "Comment", &Value::Sz(remark.clone()))
                    .map_err(failed)?;
            }
            tx.commit().map_err(failed)?;
            println!("{name} was shared successfully.");
        }
        ShareCommand::Delete(name) => {
            if !registry.key_exists(&key(&name)).map_err(failed)? {
                return Err(not_found(&name));
            }
            registry.delete_tree(&key(&name)).map_err(failed)?;
            println!("{name} was deleted successfully.");
        }
    }
    Ok(())
}

fn key(name: &str) -> String {
    format!(r"{SHARES_KEY}\{name}")
}

fn not_found(name: &str) -> NetError {
    NetError::NotFound {
        kind: "the share",
        name: name.to_owned(),
        place: " in the registry (net share lists them)".into(),
    }
}

/// The share's directory, absolute; it must exist (adjoind serves only a directory it
/// can open).
fn directory(path: &str) -> Result<PathBuf, NetError> {
    let absolute = std::path::absolute(Path::new(path))
        .map_err(|e| NetError::Usage(format!("{path}: {e}")))?;
    if !absolute.is_dir() {
        return Err(NetError::Usage(format!(
            "{} is not a directory: create it first",
            absolute.display()
        )));
    }
    Ok(absolute)
}

/// The configured shares, by name (a key without a usable `Path` shows with an empty one).
fn list(registry: &Registry) -> Result<Vec<LocalShare>, adjoin_registry::Error> {
    let names = match registry.subkeys(SHARES_KEY) {
        Ok(names) => names,
        Err(adjoin_registry::Error::KeyNotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let text = |name: &str, value: &str| -> Result<String, adjoin_registry::Error> {
        Ok(match registry.stored_value(&key(name), value)? {
            Some(Value::Sz(ref s) | Value::ExpandSz(ref s)) => s.clone(),
            _ => String::new(),
        })
    };
    let mut shares = Vec::new();
    for name in names {
        shares.push(LocalShare {
            path: text(&name, "Path")?,
            remark: text(&name, "Comment")?,
            name,
        });
    }
    shares.sort_by_key(|s| s.name.to_lowercase());
    Ok(shares)
}

/// `net share` as Windows prints it.
pub(crate) fn render_list(shares: &[LocalShare]) -> String {
    let mut out = format!("\n{:<13}{:<32}Remark\n\n{RULE}\n", "Share name", "Resource");
    for s in shares {
        let line = format!("{:<13}{:<32}{}", s.name, s.path, s.remark);
        // A long name or path pushes the rest to the next column, as Windows does.
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(COMPLETED);
    out.push('\n');
    out
}

/// `net share NAME` as Windows prints it.
pub(crate) fn render_one(share: &LocalShare) -> String {
    let line =
        |label: &str, value: &str| format!("{label:<18}{value}").trim_end().to_owned() + "\n";
    let mut out = String::new();
    out += &line("Share name", &share.name);
    out += &line("Path", &share.path);
    out += &line("Remark", &share.remark);
    out += COMPLETED;
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_forms_of_net_share() {
        assert_eq!(
            ShareCommand::parse(None, false).unwrap(),
            ShareCommand::List
        );
        assert_eq!(
            ShareCommand::parse(Some("data=/srv/data"), false).unwrap(),
            ShareCommand::Add {
                name: "data".into(),
                path: "/srv/data".into()
            }
        );
        assert_eq!(
            ShareCommand::parse(Some("data"), true).unwrap(),
            ShareCommand::Delete("data".into())
        );
        assert_eq!(
            ShareCommand::parse(Some("data"), false).unwrap(),
            ShareCommand::Show("data".into())
        );
        for (share, delete) in [
            (None, true),
            (Some("data=/srv"), true),
            (Some("data="), false),
            (Some("IPC$=/srv"), false),
            (Some("a/b=/srv"), false),
        ] {
            let e = ShareCommand::parse(share, delete).unwrap_err();
            assert!(matches!(e, NetError::Usage(_)), "{share:?} {delete}: {e}");
        }
    }

    #[test]
    fn adding_and_deleting_in_a_registry() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path().join("r.db")).unwrap();
        assert!(list(&registry).unwrap().is_empty());
        registry
            .set_value(&key("data"), "Path", &Value::Sz("/srv/data".into()))
            .unwrap();
        registry
            .set_value(&key("data"), "Comment", &Value::Sz("team files".into()))
            .unwrap();
        let shares = list(&registry).unwrap();
        assert_eq!(
            shares,
            [LocalShare {
                name: "data".into(),
                path: "/srv/data".into(),
                remark: "team files".into()
            }]
        );
        assert_eq!(
            render_list(&shares),
            "\nShare name   Resource                        Remark\n\n\
             -------------------------------------------------------------------------------\n\
             data         /srv/data                       team files\n\
             The command completed successfully.\n"
        );
        assert_eq!(
            render_one(&shares[0]),
            "Share name        data\nPath              /srv/data\nRemark            team files\n\
             The command completed successfully.\n"
        );
        assert!(directory("/no/such/dir/here").is_err());
        assert!(directory(dir.path().to_str().unwrap()).is_ok());
    }
}
