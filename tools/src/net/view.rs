//! `net view \\server`: the server's shares, from srvsvc NetrShareEnum (Samba's
//! NetShareEnumAll) level 1 over `\PIPE\srvsvc`.

use std::fmt::Write as _;

use adjoin_rpc::srvsvc::{
    NetrShareEnumRequest, NetrShareEnumResponse, Opnum, STYPE_DEVICE, STYPE_DISKTREE, STYPE_IPC,
    STYPE_PRINTQ, STYPE_SPECIAL, ShareEnumUnion, WinError,
};
use adjoin_rpc::uuid::SyntaxId;
use serde::Serialize;

use super::NetError;
use super::args::{ViewArgs, server_name};
use super::connect::connect_pipe;
use super::table::{COMPLETED, RULE};

/// One share as `net view` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ShareRow {
    pub(crate) name: String,
    /// "Disk", "Print", "Device", "IPC".
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// The `STYPE_*` value.
    pub(crate) type_code: u32,
    pub(crate) comment: String,
}

impl ShareRow {
    /// What Windows hides without `/all`: IPC$, special and `$` shares.
    fn hidden(&self) -> bool {
        self.type_code & STYPE_SPECIAL != 0
            || self.type_code & 0xff == STYPE_IPC
            || self.name.ends_with('$')
    }
}

/// MS-SRVS 2.2.2.4: the low byte of a share's type, named as Windows names it.
fn kind(share_type: u32) -> &'static str {
    match share_type & 0xff {
        STYPE_DISKTREE => "Disk",
        STYPE_PRINTQ => "Print",
        STYPE_DEVICE => "Device",
        STYPE_IPC => "IPC",
        _ => "Other",
    }
}

pub(crate) async fn run(args: ViewArgs) -> Result<(), NetError> {
    let server = server_name(&args.server);
    let mut pipe = connect_pipe(
        &server,
        None,
        &args.remote,
        "srvsvc",
        "srvsvc",
        SyntaxId::SRVSVC,
    )
    .await?;
    let request = NetrShareEnumRequest::new(Some(&format!(r"\\{server}")), 1);
    let resp: NetrShareEnumResponse = pipe
        .call("NetrShareEnum", Opnum::NETR_SHARE_ENUM.value(), &request)
        .await?;
    pipe.close().await;
    let shares = rows(&server, resp)?;
    let shown: Vec<ShareRow> = shares
        .into_iter()
        .filter(|s| args.all || !s.hidden())
        .collect();
    if args.json {
        let v = serde_json::json!({ "server": server, "shares": shown });
        println!("{v:#}");
    } else {
        print!("{}", render(&server, &shown));
    }
    Ok(())
}

/// The shares of a level-1 answer, or the error its status names.
fn rows(server: &str, resp: NetrShareEnumResponse) -> Result<Vec<ShareRow>, NetError> {
    match resp.status {
        WinError::SUCCESS => {}
        WinError::ACCESS_DENIED => {
            return Err(NetError::AccessDenied {
                what: format!("\\\\{server} refused to list its shares"),
            });
        }
        status => {
            return Err(NetError::Call {
                call: "NetrShareEnum".into(),
                server: server.to_owned(),
                detail: status.to_string(),
            });
        }
    }
    let ShareEnumUnion::Level1(container) = resp.info_struct.share_info else {
        return Err(NetError::Call {
            call: "NetrShareEnum".into(),
            server: server.to_owned(),
            detail: format!("answered level {} to level 1", resp.info_struct.level()),
        });
    };
    Ok(container
        .as_ref()
        .map_or(&[][..], |c| c.entries())
        .iter()
        .map(|s| ShareRow {
            name: s.netname.as_ref().map(|n| n.0.clone()).unwrap_or_default(),
            kind: kind(s.share_type),
            type_code: s.share_type,
            comment: s.remark.as_ref().map(|n| n.0.clone()).unwrap_or_default(),
        })
        .collect())
}

/// The listing as Windows prints it.
pub(crate) fn render(server: &str, shares: &[ShareRow]) -> String {
    let width = shares
        .iter()
        .map(|s| s.name.chars().count() + 2)
        .max()
        .unwrap_or(0)
        .max(12);
    let mut out = format!("Shared resources at \\\\{server}\n\n\n\n");
    let _ = writeln!(out, "{:<width$}Type  Used as  Comment\n", "Share name");
    let _ = writeln!(out, "{RULE}");
    for s in shares {
        let line = format!("{:<width$}{:<6}{:<9}{}", s.name, s.kind, "", s.comment);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(out, "{COMPLETED}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, type_code: u32, comment: &str) -> ShareRow {
        ShareRow {
            name: name.into(),
            kind: kind(type_code),
            type_code,
            comment: comment.into(),
        }
    }

    #[test]
    fn the_listing_is_shaped_like_windows() {
        let shares = [
            row("netlogon", STYPE_DISKTREE, ""),
            row("sysvol", STYPE_DISKTREE, "Logon server share"),
        ];
        assert_eq!(
            render("dc1.example.test", &shares),
            "Shared resources at \\\\dc1.example.test\n\n\n\n\
             Share name  Type  Used as  Comment\n\n\
             -------------------------------------------------------------------------------\n\
             netlogon    Disk\n\
             sysvol      Disk           Logon server share\n\
             The command completed successfully.\n"
        );
    }

    #[test]
    fn long_names_widen_the_column_and_hidden_shares_are_known() {
        let shares = [row("a-rather-long-name", STYPE_DISKTREE, "x")];
        assert!(render("s", &shares).contains("a-rather-long-name  Disk           x\n"));
        assert!(row("IPC$", STYPE_IPC | STYPE_SPECIAL, "").hidden());
        assert!(row("C$", STYPE_DISKTREE, "").hidden());
        assert!(!row("data", STYPE_DISKTREE, "").hidden());
        assert_eq!(kind(STYPE_PRINTQ), "Print");
    }
}
