//! Key paths: `HKEY_THIS_MACHINE\Services\adjoind`.

use crate::error::{Error, Result};

/// The one hive every key lives under.
pub const HIVE: &str = "HKEY_THIS_MACHINE";

/// The subtree whose values are secret: stored in the root-only database file.
pub const SECRETS_KEY: &str = r"HKEY_THIS_MACHINE\Secrets";

/// The longest key name accepted (as on Windows).
const MAX_NAME_CHARS: usize = 255;

/// A parsed, validated key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyPath {
    /// The components below the hive, in the caller's case.
    components: Vec<String>,
}

impl KeyPath {
    /// The hive's root key.
    pub(crate) fn root() -> Self {
        Self {
            components: Vec::new(),
        }
    }

    /// Parses a full path. The hive name is matched case-insensitively; trailing
    /// backslashes are ignored; empty components are refused.
    pub(crate) fn parse(path: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidPath {
            path: path.to_owned(),
            reason,
        };
        let trimmed = path.trim_end_matches('\\');
        let mut parts = trimmed.split('\\');
        let hive = parts.next().unwrap_or_default();
        if !hive.eq_ignore_ascii_case(HIVE) {
            return Err(invalid("paths start with HKEY_THIS_MACHINE"));
        }
        let components = parts.map(str::to_owned).collect::<Vec<_>>();
        for c in &components {
            validate_component(c).map_err(invalid)?;
        }
        Ok(Self { components })
    }

    /// The path with the hive spelled canonically and components as given.
    pub(crate) fn display(&self) -> String {
        let mut out = String::from(HIVE);
        for c in &self.components {
            out.push('\\');
            out.push_str(c);
        }
        out
    }

    /// The case-folded path: the store's lookup key.
    pub(crate) fn folded(&self) -> String {
        fold(&self.display())
    }

    /// The components below the hive.
    pub(crate) fn components(&self) -> &[String] {
        &self.components
    }

    /// True for the hive's root key.
    pub(crate) fn is_root(&self) -> bool {
        self.components.is_empty()
    }

    /// True when values of this key belong in the secret database.
    pub(crate) fn is_secret(&self) -> bool {
        is_secret_folded(&self.folded())
    }

    /// The path of a subkey.
    pub(crate) fn child(&self, name: &str) -> Self {
        let mut components = self.components.clone();
        components.push(name.to_owned());
        Self { components }
    }
}

/// Case folding for key and value names: Unicode lowercase.
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// True when a folded path is `HKEY_THIS_MACHINE\Secrets` or below it.
pub(crate) fn is_secret_folded(folded: &str) -> bool {
    const PREFIX: &str = r"hkey_this_machine\secrets";
    folded
        .strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('\\'))
}

/// Checks one key name.
pub(crate) fn validate_component(c: &str) -> Result<(), &'static str> {
    if c.is_empty() {
        return Err("empty key name (two backslashes in a row?)");
    }
    if c.chars().count() > MAX_NAME_CHARS {
        return Err("key names are at most 255 characters");
    }
    if c.chars().any(char::is_control) {
        return Err("key names cannot contain control characters");
    }
    Ok(())
}

/// Checks one value name (the empty name is the key's default value).
pub(crate) fn validate_value_name(name: &str) -> Result<()> {
    let invalid = |reason| Error::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if name.chars().any(char::is_control) {
        return Err(invalid("value names cannot contain control characters"));
    }
    if name.chars().count() > 16_383 {
        return Err(invalid("value names are at most 16383 characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_folds() {
        let p = KeyPath::parse(r"hkey_this_machine\Services\Adjoind\").unwrap();
        assert_eq!(p.display(), r"HKEY_THIS_MACHINE\Services\Adjoind");
        assert_eq!(p.folded(), r"hkey_this_machine\services\adjoind");
        assert!(KeyPath::parse(HIVE).unwrap().is_root());
    }

    #[test]
    fn refuses_bad_paths() {
        assert!(KeyPath::parse(r"HKEY_LOCAL_MACHINE\x").is_err());
        assert!(KeyPath::parse(r"HKEY_THIS_MACHINE\\x").is_err());
        assert!(KeyPath::parse("").is_err());
    }

    #[test]
    fn secret_subtree() {
        assert!(KeyPath::parse(SECRETS_KEY).unwrap().is_secret());
        assert!(
            KeyPath::parse(r"HKEY_THIS_MACHINE\secrets\Machine")
                .unwrap()
                .is_secret()
        );
        assert!(
            !KeyPath::parse(r"HKEY_THIS_MACHINE\SecretsX")
                .unwrap()
                .is_secret()
        );
        assert!(!KeyPath::parse(HIVE).unwrap().is_secret());
    }
}
