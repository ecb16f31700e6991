//! `net user [name]`: the domain's users, or one account as Windows shows it
//! (SamrQueryInformationUser2 UserAllInformation, SamrGetGroupsForUser,
//! SamrGetAliasMembership).

use adjoin_rpc::ndr::OldLargeInteger;
use adjoin_rpc::samr::{USER_ACCOUNT_AUTO_LOCKED, USER_ACCOUNT_DISABLED, UserAllInformation};
use chrono::{DateTime, Local};
use serde::Serialize;

use super::NetError;
use super::args::AccountArgs;
use super::sam::{Kind, Sam};
use super::table::{COMPLETED, RULE, columns, field, memberships};

/// MS-SAMR 2.2.1.12 USER_PASSWORD_NOT_REQUIRED.
const USER_PASSWORD_NOT_REQUIRED: u32 = 0x0000_0004;
/// FILETIME of 1970-01-01, in 100 ns since 1601-01-01.
const UNIX_EPOCH_FILETIME: u64 = 116_444_736_000_000_000;

/// One account as `net user NAME` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UserDetails {
    pub(crate) user_name: String,
    pub(crate) full_name: String,
    pub(crate) comment: String,
    pub(crate) user_comment: String,
    pub(crate) account_active: bool,
    pub(crate) locked: bool,
    /// Seconds since the epoch; `None`: never.
    pub(crate) account_expires: Option<i64>,
    pub(crate) password_last_set: Option<i64>,
    pub(crate) password_expires: Option<i64>,
    pub(crate) password_changeable: Option<i64>,
    pub(crate) password_required: bool,
    pub(crate) workstations: String,
    pub(crate) logon_script: String,
    pub(crate) profile: String,
    pub(crate) home_directory: String,
    pub(crate) last_logon: Option<i64>,
    pub(crate) logon_count: u16,
    pub(crate) bad_password_count: u16,
    pub(crate) local_groups: Vec<String>,
    pub(crate) global_groups: Vec<String>,
}

/// An OLD_LARGE_INTEGER time (FILETIME) as seconds since the epoch; 0 and the maximum
/// mean "never" (MS-SAMR 2.2.6.6).
pub(crate) fn filetime(t: OldLargeInteger) -> Option<i64> {
    if t.0 == 0 || t == OldLargeInteger::NEVER || t.0 >= 0x7fff_ffff_ffff_0000 {
        return None;
    }
    let unix = (i128::from(t.0) - i128::from(UNIX_EPOCH_FILETIME)) / 10_000_000;
    i64::try_from(unix).ok()
}

impl UserDetails {
    pub(crate) fn new(info: &UserAllInformation, local: Vec<String>, global: Vec<String>) -> Self {
        let uac = info.user_account_control;
        Self {
            user_name: info.user_name.as_str().to_owned(),
            full_name: info.full_name.as_str().to_owned(),
            comment: info.admin_comment.as_str().to_owned(),
            user_comment: info.user_comment.as_str().to_owned(),
            account_active: uac & USER_ACCOUNT_DISABLED == 0,
            locked: uac & USER_ACCOUNT_AUTO_LOCKED != 0,
            account_expires: filetime(info.account_expires),
            password_last_set: filetime(info.password_last_set),
            password_expires: filetime(info.password_must_change),
            password_changeable: filetime(info.password_can_change),
            password_required: uac & USER_PASSWORD_NOT_REQUIRED == 0,
            workstations: info.work_stations.as_str().to_owned(),
            logon_script: info.script_path.as_str().to_owned(),
            profile: info.profile_path.as_str().to_owned(),
            home_directory: info.home_directory.as_str().to_owned(),
            last_logon: filetime(info.last_logon),
            logon_count: info.logon_count,
            bad_password_count: info.bad_password_count,
            local_groups: local,
            global_groups: global,
        }
    }

    /// What `net user NAME` prints, times in this host's zone.
    pub(crate) fn render(&self) -> String {
        let yes = |b: bool| if b { "Yes" } else { "No" };
        let active = if self.locked {
            "Locked"
        } else {
            yes(self.account_active)
        };
        let all = |s: &str| {
            if s.is_empty() {
                "All".to_owned()
            } else {
                s.to_owned()
            }
        };
        let mut out = String::new();
        out += &field("User name", &self.user_name);
        out += &field("Full Name", &self.full_name);
        out += &field("Comment", &self.comment);
        out += &field("User's comment", &self.user_comment);
        out += &field("Country/region code", "000 (System Default)");
        out += &field("Account active", active);
        out += &field("Account expires", &when(self.account_expires));
        out += "\n";
        out += &field("Password last set", &when(self.password_last_set));
        out += &field("Password expires", &when(self.password_expires));
        out += &field("Password changeable", &when(self.password_changeable));
        out += &field("Password required", yes(self.password_required));
        out += "\n";
        out += &field("Workstations allowed", &all(&self.workstations));
        out += &field("Logon script", &self.logon_script);
        out += &field("User profile", &self.profile);
        out += &field("Home directory", &self.home_directory);
        out += &field("Last logon", &when(self.last_logon));
        out += &field("Logon count", &self.logon_count.to_string());
        out += "\n";
        out += &memberships("Local Group Memberships", &self.local_groups);
        out += &memberships("Global Group memberships", &self.global_groups);
        out += COMPLETED;
        out += "\n";
        out
    }
}

/// A time as Windows prints it (`12/4/2026 10:15:32 AM`, this host's zone), or `Never`.
pub(crate) fn when(t: Option<i64>) -> String {
    t.and_then(|s| DateTime::from_timestamp(s, 0)).map_or_else(
        || "Never".to_owned(),
        |t| {
            t.with_timezone(&Local)
                .format("%-m/%-d/%Y %-I:%M:%S %p")
                .to_string()
        },
    )
}

/// The listing of `net user`.
pub(crate) fn render_list(heading: &str, server: &str, names: &[String], star: bool) -> String {
    let shown: Vec<String> = names
        .iter()
        .map(|n| if star { format!("*{n}") } else { n.clone() })
        .collect();
    let (per_row, width) = if star { (1, 0) } else { (3, 25) };
    format!(
        "\n{heading} \\\\{server}\n\n{RULE}\n{}{COMPLETED}\n",
        columns(&shown, per_row, width)
    )
}

pub(crate) async fn run(args: AccountArgs) -> Result<(), NetError> {
    let mut sam = Sam::open(&args).await?;
    let server = sam.server().to_owned();
    let result = match &args.name {
        None => sam.enumerate(Kind::User, false).await.map(|names| {
            if args.json {
                format!(
                    "{:#}\n",
                    serde_json::json!({ "server": server, "users": names })
                )
            } else {
                render_list("User accounts for", &server, &names, false)
            }
        }),
        Some(name) => details(&mut sam, name).await.map(|d| {
            if args.json {
                format!("{:#}\n", serde_json::json!(d))
            } else {
                d.render()
            }
        }),
    };
    sam.close().await;
    print!("{}", result?);
    Ok(())
}

async fn details(sam: &mut Sam, name: &str) -> Result<UserDetails, NetError> {
    let (rid, _) = sam.lookup(Kind::User, name).await?;
    let (info, group_rids) = sam.user(rid).await?;
    let global = sam.names(false, &group_rids).await?;
    // Aliases the user is in, directly or through a global group (as Windows lists them).
    let mut sids = vec![
        sam.account
            .sid
            .with_rid(rid)
            .map_err(|e| NetError::Usage(e.to_string()))?,
    ];
    for g in &group_rids {
        if let Ok(sid) = sam.account.sid.with_rid(*g) {
            sids.push(sid);
        }
    }
    let mut local = Vec::new();
    for builtin in [true, false] {
        let rids = sam.alias_membership(builtin, &sids).await?;
        local.extend(sam.names(builtin, &rids).await?);
    }
    local.sort_by_key(|n| n.to_lowercase());
    let mut global = global;
    global.sort_by_key(|n| n.to_lowercase());
    Ok(UserDetails::new(&info, local, global))
}

#[cfg(test)]
mod tests {
    use adjoin_rpc::ndr::UnicodeString;

    use super::*;

    #[test]
    fn filetimes_and_never() {
        assert_eq!(filetime(OldLargeInteger(0)), None);
        assert_eq!(filetime(OldLargeInteger::NEVER), None);
        // 2026-12-04 10:15:32 UTC.
        let ft = UNIX_EPOCH_FILETIME + 1_796_379_332 * 10_000_000;
        assert_eq!(filetime(OldLargeInteger(ft)), Some(1_796_379_332));
        assert_eq!(when(None), "Never");
    }

    #[test]
    fn an_account_as_windows_shows_it() {
        let info = UserAllInformation {
            user_name: UnicodeString::new("alice"),
            full_name: UnicodeString::new("Alice Liddell"),
            user_account_control: 0x10,
            logon_count: 3,
            ..UserAllInformation::default()
        };
        let d = UserDetails::new(
            &info,
            vec![],
            vec!["Domain Users".into(), "engineers".into()],
        );
        let text = d.render();
        assert!(
            text.starts_with(
                "User name                    alice\nFull Name                    Alice Liddell\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\nAccount active               Yes\n"),
            "{text}"
        );
        assert!(
            text.contains("\nAccount expires              Never\n"),
            "{text}"
        );
        assert!(
            text.contains("\nWorkstations allowed         All\n"),
            "{text}"
        );
        assert!(
            text.contains("\nLogon count                  3\n"),
            "{text}"
        );
        assert!(text.contains("\nLocal Group Memberships\n"), "{text}");
        assert!(
            text.contains("\nGlobal Group memberships     *Domain Users        *engineers\n"),
            "{text}"
        );
        assert!(text.ends_with("The command completed successfully.\n"));
        let disabled = UserAllInformation {
            user_account_control: 0x11,
            ..UserAllInformation::default()
        };
        assert!(!UserDetails::new(&disabled, vec![], vec![]).account_active);
    }

    #[test]
    fn the_user_list_in_three_columns() {
        let names: Vec<String> = ["Administrator", "alice", "bob", "Guest"]
            .map(str::to_owned)
            .into();
        assert_eq!(
            render_list("User accounts for", "dc1", &names, false),
            "\nUser accounts for \\\\dc1\n\n\
             -------------------------------------------------------------------------------\n\
             Administrator            alice                    bob\n\
             Guest\n\
             The command completed successfully.\n"
        );
    }
}
