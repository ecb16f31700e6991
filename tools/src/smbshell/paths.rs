//! Remote paths (relative to the share's root, `\`-separated on the wire, typed with `/`
//! or `\`), wildcards, and the names of partial transfers.

use std::path::{Path, PathBuf};

/// What a transfer is written under until it is complete, beside its final name.
pub(crate) const PARTIAL_SUFFIX: &str = ".smbshell-partial";

/// Resolves `arg` (typed by the user: `/` or `\`, `.` and `..`, absolute when it starts
/// with a separator) against `cwd` (share-relative, `\`-separated, empty at the root).
/// Returns the share-relative path; `..` never climbs above the share's root.
pub(crate) fn resolve(cwd: &str, arg: &str) -> String {
    let absolute = arg.starts_with(['/', '\\']);
    let mut parts: Vec<&str> = if absolute {
        Vec::new()
    } else {
        components(cwd).collect()
    };
    for part in components(arg) {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("\\")
}

fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split(['/', '\\']).filter(|p| !p.is_empty())
}

/// A share-relative path as the user sees it: `\` for the root, `\a\b` below it.
pub(crate) fn display(path: &str) -> String {
    format!("\\{path}")
}

/// `a\b\c` as (`a\b`, `c`); the root's parent is the root.
pub(crate) fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('\\') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// `parent\name`, without a separator at the root.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}\\{name}")
    }
}

/// Whether `s` holds a wildcard (`*` or `?`).
pub(crate) fn has_wildcards(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Whether `name` matches `pattern` (`*` any run, `?` one character), ignoring case
/// when `fold` (as Windows servers compare names).
pub(crate) fn wildcard_match(pattern: &str, name: &str, fold: bool) -> bool {
    let lower = |s: &str| -> Vec<char> {
        if fold {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, n) = (lower(pattern), lower(name));
    // Iterative matching with backtracking to the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Where a transfer to `target` is written until it is complete:
/// `.NAME.smbshell-partial` in the same directory.
pub(crate) fn partial_name(name: &str) -> String {
    format!(".{name}{PARTIAL_SUFFIX}")
}

/// [`partial_name`] beside a local file.
pub(crate) fn local_partial(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(partial_name(&name))
}

/// [`partial_name`] beside a share-relative path.
pub(crate) fn remote_partial(target: &str) -> String {
    let (parent, name) = split_parent(target);
    join(parent, &partial_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_both_separators_dot_dot_and_the_root() {
        assert_eq!(resolve("", "a/b"), r"a\b");
        assert_eq!(resolve("a", r"b\c"), r"a\b\c");
        assert_eq!(resolve(r"a\b", ".."), "a");
        assert_eq!(resolve(r"a\b", "../c/./d/"), r"a\c\d");
        assert_eq!(resolve(r"a\b", "/x"), "x");
        assert_eq!(resolve(r"a\b", r"\"), "");
        assert_eq!(resolve("a", "../../.."), "", "never above the share's root");
        assert_eq!(resolve("", "."), "");
        assert_eq!(display(""), r"\");
        assert_eq!(display(r"a\b"), r"\a\b");
    }

    #[test]
    fn splits_and_joins() {
        assert_eq!(split_parent(r"a\b\c"), (r"a\b", "c"));
        assert_eq!(split_parent("c"), ("", "c"));
        assert_eq!(join("", "c"), "c");
        assert_eq!(join(r"a\b", "c"), r"a\b\c");
    }

    #[test]
    fn wildcards_match_as_windows_does() {
        assert!(wildcard_match("*", "anything", true));
        assert!(wildcard_match("*.TXT", "notes.txt", true));
        assert!(!wildcard_match("*.TXT", "notes.txt", false));
        assert!(wildcard_match("a?c*", "abcdef", true));
        assert!(!wildcard_match("a?c", "ac", true));
        assert!(wildcard_match("*b*b", "abxbb", true));
        assert!(!wildcard_match("*.bin", "x.binx", true));
        assert!(wildcard_match("", "", true));
        assert!(has_wildcards("*.bin") && has_wildcards("a?") && !has_wildcards("plain"));
    }

    #[test]
    fn partial_files_sit_beside_the_target_with_a_dot_and_a_suffix() {
        assert_eq!(partial_name("big.iso"), ".big.iso.smbshell-partial");
        assert_eq!(
            local_partial(Path::new("/tmp/x/big.iso")),
            Path::new("/tmp/x/.big.iso.smbshell-partial")
        );
        assert_eq!(
            local_partial(Path::new("big.iso")),
            Path::new(".big.iso.smbshell-partial")
        );
        assert_eq!(remote_partial(r"d\big.iso"), r"d\.big.iso.smbshell-partial");
        assert_eq!(remote_partial("big.iso"), ".big.iso.smbshell-partial");
    }
}
