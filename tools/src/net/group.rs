//! `net group [name]` (the domain's global groups, SamrGetMembersInGroup) and `net
//! localgroup [name]` (the DC's aliases, `Builtin` first: SamrGetMembersInAlias with the
//! members' names from LsarLookupSids).

use super::NetError;
use super::args::AccountArgs;
use super::sam::{Kind, Sam};
use super::table::{COMPLETED, RULE, columns};
use super::user::render_list;

/// A group's members as Windows prints them (`Group name` or `Alias name`).
pub(crate) fn render_members(
    label: &str,
    name: &str,
    members: &[String],
    per_row: usize,
) -> String {
    let width = if per_row > 1 { 25 } else { 0 };
    format!(
        "{:<15}{name}\n{:<15}\n\nMembers\n\n{RULE}\n{}{COMPLETED}\n",
        label,
        "Comment",
        columns(members, per_row, width)
    )
    .replace("Comment        \n", "Comment\n")
}

pub(crate) async fn run_group(args: AccountArgs) -> Result<(), NetError> {
    let mut sam = Sam::open(&args).await?;
    let result = group(&mut sam, &args).await;
    sam.close().await;
    print!("{}", result?);
    Ok(())
}

async fn group(sam: &mut Sam, args: &AccountArgs) -> Result<String, NetError> {
    let server = sam.server().to_owned();
    let Some(name) = &args.name else {
        let names = sam.enumerate(Kind::Group, false).await?;
        return Ok(if args.json {
            format!(
                "{:#}\n",
                serde_json::json!({ "server": server, "groups": names })
            )
        } else {
            render_list("Group Accounts for", &server, &names, true)
        });
    };
    let (rid, _) = sam.lookup(Kind::Group, name).await?;
    let rids = sam.group_members(rid).await?;
    let mut members = sam.names(false, &rids).await?;
    members.sort_by_key(|n| n.to_lowercase());
    Ok(if args.json {
        format!(
            "{:#}\n",
            serde_json::json!({ "group": name, "members": members })
        )
    } else {
        render_members("Group name", name, &members, 3)
    })
}

pub(crate) async fn run_localgroup(args: AccountArgs) -> Result<(), NetError> {
    let mut sam = Sam::open(&args).await?;
    let result = localgroup(&mut sam, &args).await;
    sam.close().await;
    print!("{}", result?);
    Ok(())
}

async fn localgroup(sam: &mut Sam, args: &AccountArgs) -> Result<String, NetError> {
    let server = sam.server().to_owned();
    let Some(name) = &args.name else {
        let mut names = sam.enumerate(Kind::Alias, true).await?;
        names.extend(sam.enumerate(Kind::Alias, false).await?);
        names.sort_by_key(|n| n.to_lowercase());
        return Ok(if args.json {
            format!(
                "{:#}\n",
                serde_json::json!({ "server": server, "aliases": names })
            )
        } else {
            render_list("Aliases for", &server, &names, true)
        });
    };
    let (rid, builtin) = sam.lookup(Kind::Alias, name).await?;
    let sids = sam.alias_members(builtin, rid).await?;
    let mut members = match sam.sid_names(&args.remote, &sids).await {
        Ok(names) => names,
        // LSA refuses some transports and callers (Samba: policy handles only over named
        // pipes); SAMR still names the members of the DC's own domains.
        Err(e) => {
            tracing::info!(error = %e, "LsarLookupSids failed; naming the members through SAMR");
            sam.sid_names_in_sam(&sids).await?
        }
    };
    members.sort_by_key(|n| n.to_lowercase());
    Ok(if args.json {
        let sids: Vec<String> = sids.iter().map(ToString::to_string).collect();
        format!(
            "{:#}\n",
            serde_json::json!({ "alias": name, "members": members, "sids": sids })
        )
    } else {
        render_members("Alias name", name, &members, 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_as_windows_lists_them() {
        let members: Vec<String> = ["Administrator", "Domain Admins"].map(str::to_owned).into();
        assert_eq!(
            render_members("Alias name", "Administrators", &members, 1),
            "Alias name     Administrators\nComment\n\nMembers\n\n\
             -------------------------------------------------------------------------------\n\
             Administrator\nDomain Admins\n\
             The command completed successfully.\n"
        );
    }
}
