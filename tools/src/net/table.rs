//! Output shaped like Windows' `net`: a rule of dashes under the heading, names in
//! columns, `Label   value` pairs, and the closing line.

use std::fmt::Write as _;

/// The rule Windows draws under a listing's heading (79 dashes).
pub(crate) const RULE: &str =
    "-------------------------------------------------------------------------------";
/// Windows' closing line.
pub(crate) const COMPLETED: &str = "The command completed successfully.";

/// `names` in `per_row` columns `width` wide (Windows: 3 of 25 for users), each line
/// without trailing blanks.
pub(crate) fn columns(names: &[String], per_row: usize, width: usize) -> String {
    let mut out = String::new();
    for row in names.chunks(per_row.max(1)) {
        let mut line = String::new();
        for name in row {
            let _ = write!(line, "{name:<width$}");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One `Label   value` line of an account's details (labels 29 wide, as Windows').
pub(crate) fn field(label: &str, value: &str) -> String {
    format!("{label:<29}{value}").trim_end().to_owned() + "\n"
}

/// Group memberships as Windows lists them: `*name` two to a line after the label,
/// continuation lines indented.
pub(crate) fn memberships(label: &str, names: &[String]) -> String {
    if names.is_empty() {
        return field(label, "");
    }
    let starred: Vec<String> = names.iter().map(|n| format!("*{n}")).collect();
    let mut out = String::new();
    for (i, pair) in starred.chunks(2).enumerate() {
        let mut value = String::new();
        for name in pair {
            let _ = write!(value, "{name:<21}");
        }
        out.push_str(&field(if i == 0 { label } else { "" }, value.trim_end()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_three_columns() {
        let names: Vec<String> = ["Administrator", "alice", "bob", "carol"]
            .map(str::to_owned)
            .into();
        assert_eq!(
            columns(&names, 3, 25),
            "Administrator            alice                    bob\ncarol\n"
        );
        assert_eq!(columns(&[], 3, 25), "");
    }

    #[test]
    fn fields_and_memberships_line_up_as_windows_does() {
        assert_eq!(
            field("User name", "alice"),
            "User name                    alice\n"
        );
        assert_eq!(field("Comment", ""), "Comment\n");
        let groups: Vec<String> = ["Domain Users", "engineers", "eng-all"]
            .map(str::to_owned)
            .into();
        assert_eq!(
            memberships("Global Group memberships", &groups),
            "Global Group memberships     *Domain Users        *engineers\n\
             \x20                            *eng-all\n"
        );
        assert_eq!(
            memberships("Local Group Memberships", &[]),
            "Local Group Memberships\n"
        );
    }
}
