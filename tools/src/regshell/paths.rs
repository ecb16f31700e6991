//! Key paths relative to the shell's current key.

use adjoin_registry::HIVE;

/// Resolves `arg` against `cwd`: absolute when it starts with the hive name, from the root
/// when it starts with `\`, otherwise relative; `..` and `.` components are understood.
pub(crate) fn resolve(cwd: &str, arg: &str) -> String {
    let (base, rest) = if starts_with_hive(arg) {
        (HIVE, &arg[HIVE.len()..])
    } else if let Some(rest) = arg.strip_prefix('\\') {
        (HIVE, rest)
    } else {
        (cwd, arg)
    };
    let mut parts: Vec<&str> = base.split('\\').collect();
    for part in rest.split('\\') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.len() > 1 {
                    parts.pop();
                }
            }
            p => parts.push(p),
        }
    }
    parts.join("\\")
}

/// True when `arg` is the hive name or starts with `HIVE\` (case-insensitively).
fn starts_with_hive(arg: &str) -> bool {
    let Some(head) = arg.get(..HIVE.len()) else {
        return false;
    };
    head.eq_ignore_ascii_case(HIVE) && matches!(arg.as_bytes().get(HIVE.len()), None | Some(b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves() {
        let cwd = r"HKEY_THIS_MACHINE\Services";
        assert_eq!(
            resolve(cwd, "adjoind"),
            r"HKEY_THIS_MACHINE\Services\adjoind"
        );
        assert_eq!(resolve(cwd, ".."), HIVE);
        assert_eq!(resolve(cwd, r"..\..\.."), HIVE);
        assert_eq!(resolve(cwd, r"\Join"), r"HKEY_THIS_MACHINE\Join");
        assert_eq!(
            resolve(cwd, r"hkey_this_machine\Join\"),
            r"HKEY_THIS_MACHINE\Join"
        );
        assert_eq!(
            resolve(cwd, "HKEY_THIS_MACHINEX"),
            r"HKEY_THIS_MACHINE\Services\HKEY_THIS_MACHINEX"
        );
        assert_eq!(resolve(cwd, ""), cwd);
    }
}
