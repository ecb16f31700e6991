//! A name inside a share, checked once where it arrives (CREATE, SET_INFO rename) so no
//! backend sees a name that could leave the share root.

use adjoin_rpc::ntstatus::NtStatus;

/// The longest name accepted, in UTF-16 code units (MS-FSCC 2.1.5: 32,767 for a path).
const MAX_PATH_UNITS: usize = 32_767;

/// A relative path inside a share: components joined by `/`, none empty, `.` or `..`,
/// none holding `/`, `:`, NUL or a control character. The empty path is the share root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SharePath(String);

impl SharePath {
    /// The share root.
    pub fn root() -> Self {
        Self::default()
    }

    /// Checks a name as a client sends it (`dir\file.txt`, backslashes, possibly a
    /// leading one). MS-FSCC 2.1.5.2: `:` introduces a stream name; streams are not
    /// served, so a name with one is refused rather than read as a file name.
    pub fn parse(name: &str) -> Result<Self, NtStatus> {
        if name.encode_utf16().count() > MAX_PATH_UNITS {
            return Err(NtStatus::OBJECT_NAME_INVALID);
        }
        let trimmed = name.trim_start_matches('\\');
        if trimmed.is_empty() {
            return Ok(Self::root());
        }
        let mut parts = Vec::new();
        for part in trimmed.split('\\') {
            match part {
                // An empty component (`a\\b`, a trailing backslash) or `.` names nothing.
                "" | "." => return Err(NtStatus::OBJECT_NAME_INVALID),
                // `..` takes back the component before it (`dir\sub\..` is `dir`, as
                // Windows and smbd read it); one that would climb above the share root
                // is refused.
                ".." => {
                    parts.pop().ok_or(NtStatus::OBJECT_PATH_SYNTAX_BAD)?;
                    continue;
                }
                _ => {}
            }
            if part.contains(':') {
                return Err(NtStatus::OBJECT_NAME_INVALID);
            }
            // `/` is a separator to the kernel, NUL ends its string, and MS-FSCC 2.1.4.1
            // forbids the rest in a name (`*` and `?` are wildcards, not name characters).
            if part.chars().any(|c| {
                c == '/' || c.is_control() || matches!(c, '"' | '<' | '>' | '|' | '*' | '?')
            }) {
                return Err(NtStatus::OBJECT_NAME_INVALID);
            }
            parts.push(part);
        }
        Ok(Self(parts.join("/")))
    }

    /// The path with `/` separators (empty for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the share root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The parent directory and the last component; `None` for the root.
    pub fn split_last(&self) -> Option<(Self, &str)> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.rsplit_once('/') {
            Some((parent, leaf)) => (Self(parent.to_owned()), leaf),
            None => (Self::root(), self.0.as_str()),
        })
    }

    /// The last component ("" for the root).
    pub fn file_name(&self) -> &str {
        self.split_last().map_or("", |(_, leaf)| leaf)
    }

    /// `self` with `name` (one checked component) appended.
    pub fn join(&self, name: &str) -> Result<Self, NtStatus> {
        let leaf = Self::parse(name)?;
        if leaf.0.contains('/') || leaf.is_root() {
            return Err(NtStatus::OBJECT_NAME_INVALID);
        }
        Ok(if self.is_root() {
            leaf
        } else {
            Self(format!("{}/{}", self.0, leaf.0))
        })
    }

    /// The name as the client spells it (`dir\file.txt`).
    pub fn to_wire(&self) -> String {
        self.0.replace('/', "\\")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_become_relative_paths() {
        assert_eq!(SharePath::parse("").unwrap(), SharePath::root());
        assert_eq!(SharePath::parse("\\").unwrap(), SharePath::root());
        assert_eq!(SharePath::parse(r"a\b.txt").unwrap().as_str(), "a/b.txt");
        assert_eq!(SharePath::parse(r"\a\b").unwrap().as_str(), "a/b");
        assert_eq!(SharePath::parse("zoë.txt").unwrap().as_str(), "zoë.txt");
        // `..` within the share takes back the component before it.
        assert_eq!(SharePath::parse(r"a\b\..").unwrap().as_str(), "a");
        assert_eq!(SharePath::parse(r"a\..\c").unwrap().as_str(), "c");
        assert_eq!(SharePath::parse(r"a\..").unwrap(), SharePath::root());
    }

    #[test]
    fn names_that_could_leave_the_share_are_refused() {
        for bad in [
            r"..",
            r"a\..\..\etc",
            r"a\..\..",
            r"\..\a",
            r"a\.",
            r"a\\b",
            "a/../../etc/passwd",
            "/etc/passwd",
            "file:stream",
            "file::$DATA",
            "nul\0byte",
            "a\u{1}b",
            "star*",
            "what?",
            r"a\",
        ] {
            assert!(SharePath::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn split_and_join() {
        let p = SharePath::parse(r"a\b\c").unwrap();
        let (parent, leaf) = p.split_last().unwrap();
        assert_eq!((parent.as_str(), leaf), ("a/b", "c"));
        assert_eq!(parent.join("d").unwrap().as_str(), "a/b/d");
        assert!(parent.join("..").is_err());
        assert!(parent.join(r"x\y").is_err());
        assert_eq!(SharePath::root().join("x").unwrap().as_str(), "x");
        assert_eq!(p.to_wire(), r"a\b\c");
    }
}
