//! `net session` and `net file`: a server's SMB sessions and open files, from srvsvc
//! NetrSessionEnum (level 2) and NetrFileEnum (level 3). Without a server, the local
//! adjoind (`localhost`, `--port`). MS-SRVS keeps both for the server's administrators.

use std::fmt::Write as _;

use adjoin_rpc::ndr::WideString;
use adjoin_rpc::srvsvc::{
    FileEnumStruct, FileEnumUnion, MAX_PREFERRED_LENGTH, NetrFileEnumRequest, NetrFileEnumResponse,
    NetrSessionEnumRequest, NetrSessionEnumResponse, Opnum, SessionEnumStruct, SessionEnumUnion,
    WinError,
};
use adjoin_rpc::uuid::SyntaxId;
use serde::Serialize;

use super::NetError;
use super::args::{ActivityArgs, server_name};
use super::connect::{Pipe, connect_pipe};
use super::table::{COMPLETED, RULE};

/// One session as `net session` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SessionRow {
    /// The client (`\\address`).
    pub(crate) computer: String,
    pub(crate) user: String,
    /// The client's dialect or OS, as the server names it.
    pub(crate) client_type: String,
    pub(crate) opens: u32,
    /// Seconds connected.
    pub(crate) seconds: u32,
    /// Seconds idle.
    pub(crate) idle_seconds: u32,
}

/// One open file as `net file` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FileRow {
    pub(crate) id: u32,
    pub(crate) path: String,
    pub(crate) user: String,
    pub(crate) locks: u32,
    /// `PERM_FILE_*` (1 read, 2 write, 4 create).
    pub(crate) permissions: u32,
}

fn text(s: Option<&WideString>) -> String {
    s.map(|w| w.0.clone()).unwrap_or_default()
}

/// The server to ask: the one given, else the local adjoind.
fn target(args: &ActivityArgs) -> String {
    args.server
        .as_deref()
        .map_or_else(|| "localhost".to_owned(), server_name)
}

async fn srvsvc(args: &ActivityArgs, server: &str) -> Result<Pipe, NetError> {
    connect_pipe(
        server,
        None,
        &args.remote,
        "srvsvc",
        "srvsvc",
        SyntaxId::SRVSVC,
    )
    .await
}

/// A failed enumeration's status as the error to show.
fn refused(call: &str, what: &str, server: &str, status: WinError) -> NetError {
    if status == WinError::ACCESS_DENIED {
        NetError::AccessDenied {
            what: format!("\\\\{server} shows its {what} to its administrators only (MS-SRVS)"),
        }
    } else {
        NetError::Call {
            call: call.into(),
            server: server.to_owned(),
            detail: status.to_string(),
        }
    }
}

pub(crate) async fn run_sessions(args: ActivityArgs) -> Result<(), NetError> {
    let server = target(&args);
    let mut pipe = srvsvc(&args, &server).await?;
    let request = NetrSessionEnumRequest {
        server_name: Some(WideString::new(format!(r"\\{server}"))),
        client_name: None,
        user_name: None,
        info_struct: SessionEnumStruct {
            session_info: SessionEnumUnion::empty(2),
        },
        prefered_maximum_length: MAX_PREFERRED_LENGTH,
        resume_handle: Some(0),
    };
    let resp: NetrSessionEnumResponse = pipe
        .call(
            "NetrSessionEnum",
            Opnum::NETR_SESSION_ENUM.value(),
            &request,
        )
        .await?;
    pipe.close().await;
    let rows = session_rows(&server, resp)?;
    if args.json {
        let v = serde_json::json!({ "server": server, "sessions": rows });
        println!("{v:#}");
    } else {
        print!("{}", render_sessions(&rows));
    }
    Ok(())
}

fn session_rows(server: &str, resp: NetrSessionEnumResponse) -> Result<Vec<SessionRow>, NetError> {
    if resp.status != WinError::SUCCESS {
        return Err(refused("NetrSessionEnum", "sessions", server, resp.status));
    }
    let SessionEnumUnion::Level2(container) = resp.info_struct.session_info else {
        return Err(NetError::Call {
            call: "NetrSessionEnum".into(),
            server: server.to_owned(),
            detail: format!(
                "answered level {} to level 2",
                resp.info_struct.session_info.level()
            ),
        });
    };
    Ok(container
        .as_ref()
        .map_or(&[][..], |c| c.entries())
        .iter()
        .map(|s| SessionRow {
            computer: format!(r"\\{}", text(s.cname.as_ref()).trim_start_matches('\\')),
            user: text(s.username.as_ref()),
            client_type: text(s.cltype_name.as_ref()),
            opens: s.num_opens,
            seconds: s.time,
            idle_seconds: s.idle_time,
        })
        .collect())
}

/// Seconds as Windows' `net session` prints a time: `HH:MM:SS`.
fn clock(seconds: u32) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

pub(crate) fn render_sessions(rows: &[SessionRow]) -> String {
    if rows.is_empty() {
        return "There are no entries in the list.\n".into();
    }
    let mut out = format!(
        "{:<21}{:<21}{:<17}{:<6}{}\n",
        "Computer", "User name", "Client Type", "Opens", "Idle time"
    );
    let _ = writeln!(out, "{RULE}");
    for s in rows {
        let line = format!(
            "{:<21}{:<21}{:<17}{:<6}{}",
            s.computer,
            s.user,
            s.client_type,
            s.opens,
            clock(s.idle_seconds)
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(out, "{COMPLETED}");
    out
}

pub(crate) async fn run_files(args: ActivityArgs) -> Result<(), NetError> {
    let server = target(&args);
    let mut pipe = srvsvc(&args, &server).await?;
    let request = NetrFileEnumRequest {
        server_name: Some(WideString::new(format!(r"\\{server}"))),
        base_path: None,
        user_name: None,
        info_struct: FileEnumStruct {
            file_info: FileEnumUnion::empty(3),
        },
        prefered_maximum_length: MAX_PREFERRED_LENGTH,
        resume_handle: Some(0),
    };
    let resp: NetrFileEnumResponse = pipe
        .call("NetrFileEnum", Opnum::NETR_FILE_ENUM.value(), &request)
        .await?;
    pipe.close().await;
    let rows = file_rows(&server, resp)?;
    if args.json {
        let v = serde_json::json!({ "server": server, "files": rows });
        println!("{v:#}");
    } else {
        print!("{}", render_files(&rows));
    }
    Ok(())
}

fn file_rows(server: &str, resp: NetrFileEnumResponse) -> Result<Vec<FileRow>, NetError> {
    if resp.status != WinError::SUCCESS {
        return Err(refused("NetrFileEnum", "open files", server, resp.status));
    }
    let FileEnumUnion::Level3(container) = resp.info_struct.file_info else {
        return Err(NetError::Call {
            call: "NetrFileEnum".into(),
            server: server.to_owned(),
            detail: format!(
                "answered level {} to level 3",
                resp.info_struct.file_info.level()
            ),
        });
    };
    Ok(container
        .as_ref()
        .map_or(&[][..], |c| c.entries())
        .iter()
        .map(|f| FileRow {
            id: f.id,
            path: text(f.pathname.as_ref()),
            user: text(f.username.as_ref()),
            locks: f.num_locks,
            permissions: f.permissions,
        })
        .collect())
}

pub(crate) fn render_files(rows: &[FileRow]) -> String {
    if rows.is_empty() {
        return "There are no entries in the list.\n".into();
    }
    let width = rows
        .iter()
        .map(|f| f.path.chars().count() + 2)
        .max()
        .unwrap_or(0)
        .max(41);
    let mut out = format!(
        "{:<11}{:<width$}{:<21}{}\n\n",
        "ID", "Path", "User name", "# Locks"
    );
    let _ = writeln!(out, "{RULE}");
    for f in rows {
        let _ = writeln!(
            out,
            "{:<11}{:<width$}{:<21}{}",
            f.id, f.path, f.user, f.locks
        );
    }
    let _ = writeln!(out, "{COMPLETED}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_listed_as_windows_lists_them() {
        let rows = [SessionRow {
            computer: r"\\127.0.0.1".into(),
            user: "Administrator".into(),
            client_type: "SMB3_11".into(),
            opens: 2,
            seconds: 80,
            idle_seconds: 3725,
        }];
        assert_eq!(
            render_sessions(&rows),
            format!(
                "Computer             User name            Client Type      Opens Idle time\n\
                 {RULE}\n\
                 \\\\127.0.0.1          Administrator        SMB3_11          2     01:02:05\n\
                 The command completed successfully.\n"
            )
        );
        assert_eq!(render_sessions(&[]), "There are no entries in the list.\n");
    }

    #[test]
    fn open_files_show_id_path_user_and_locks() {
        let rows = [FileRow {
            id: 7,
            path: r"C:\srv\data\report.txt".into(),
            user: "alice".into(),
            locks: 1,
            permissions: 3,
        }];
        let out = render_files(&rows);
        assert!(out.starts_with("ID         Path"), "{out}");
        assert!(
            out.contains(
                "7          C:\\srv\\data\\report.txt                   alice                1\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("The command completed successfully.\n"));
    }

    #[test]
    fn a_refusal_names_the_administrators_rule() {
        let e = refused(
            "NetrSessionEnum",
            "sessions",
            "fs1",
            WinError::ACCESS_DENIED,
        );
        assert!(e.to_string().contains("administrators only"), "{e}");
        assert_eq!(clock(0), "00:00:00");
    }
}
