//! Kerberos principal names: RFC 4120 section 5.2.2 `PrincipalName` with
//! its `Realm`, and MIT's text form `comp1/comp2@REALM`.
//!
//! ```text
//! PrincipalName ::= SEQUENCE {
//!         name-type       [0] Int32,
//!         name-string     [1] SEQUENCE OF KerberosString
//! }
//! ```
//!
//! The text form follows MIT krb5's `krb5_parse_name` and `krb5_unparse_name`
//! (`src/lib/krb5/krb/parse.c`, `unparse.c`): `/` separates components, the
//! first unescaped `@` starts the realm, and a backslash quotes the next
//! character, with `\n`, `\t`, `\b` and `\0` standing for newline, tab,
//! backspace and NUL. Display escapes `/`, `@`, `\` and those four control
//! characters in components and realm alike, so parse and Display round-trip.

use core::fmt;
use core::str::FromStr;

/// What is wrong with a principal name's text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrincipalError {
    /// A backslash at the very end quotes nothing (MIT `KRB5_PARSE_MALFORMED`).
    #[error("principal name {name:?} ends with a lone backslash")]
    TrailingBackslash {
        /// The text given.
        name: String,
    },
    /// An unescaped `/` or a second unescaped `@` inside the realm.
    #[error("principal name {name:?} has an unescaped {separator:?} in its realm")]
    SeparatorInRealm {
        /// The text given.
        name: String,
        /// The separator found.
        separator: char,
    },
}

/// A principal name with its realm, as keytabs, ccaches and KDC messages carry it.
///
/// Equality compares the name type too; [`PrincipalName::matches`] compares
/// as MIT's `krb5_principal_compare` does (realm and components only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PrincipalName {
    /// RFC 4120 section 6.2 name type (`NT-*`, see the associated constants).
    pub name_type: i32,
    /// The name components (`name-string`).
    pub components: Vec<String>,
    /// The realm; empty when the text form named none.
    pub realm: String,
}

impl PrincipalName {
    /// RFC 4120 6.2 `NT-UNKNOWN`: name type not known.
    pub const NT_UNKNOWN: i32 = 0;
    /// RFC 4120 6.2 `NT-PRINCIPAL`: just the name of the principal (users).
    pub const NT_PRINCIPAL: i32 = 1;
    /// RFC 4120 6.2 `NT-SRV-INST`: service and other unique instance (krbtgt).
    pub const NT_SRV_INST: i32 = 2;
    /// RFC 4120 6.2 `NT-SRV-HST`: service with host name as instance.
    pub const NT_SRV_HST: i32 = 3;
    /// RFC 4120 6.2 `NT-SRV-XHST`: service with host as remaining components.
    pub const NT_SRV_XHST: i32 = 4;
    /// RFC 4120 6.2 `NT-UID`: unique ID.
    pub const NT_UID: i32 = 5;
    /// RFC 4120 6.2 `NT-X500-PRINCIPAL`: encoded X.509 distinguished name.
    pub const NT_X500_PRINCIPAL: i32 = 6;
    /// RFC 4120 6.2 `NT-SMTP-NAME`: name in the form of an SMTP address.
    pub const NT_SMTP_NAME: i32 = 7;
    /// RFC 4120 6.2 `NT-ENTERPRISE`: enterprise name (RFC 6806 section 5).
    pub const NT_ENTERPRISE: i32 = 10;
    /// RFC 6111 section 3.1 `NT-WELLKNOWN`: well-known principal names.
    pub const NT_WELLKNOWN: i32 = 11;
    /// MS-KILE 2.1.1 / MIT `KRB5_NT_MS_PRINCIPAL`: Windows 2000 UPN and SID.
    pub const NT_MS_PRINCIPAL: i32 = -128;

    /// The service name of ticket-granting services (RFC 4120 section 7.3).
    pub const KRBTGT: &'static str = "krbtgt";

    /// Builds a principal from its parts.
    pub fn new<I, S>(name_type: i32, components: I, realm: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name_type,
            components: components.into_iter().map(Into::into).collect(),
            realm: realm.into(),
        }
    }

    /// The ticket-granting service of `realm`: `krbtgt/REALM@REALM`
    /// (RFC 4120 section 7.3), name type `NT-SRV-INST`.
    pub fn krbtgt(realm: &str) -> Self {
        Self::new(Self::NT_SRV_INST, [Self::KRBTGT, realm], realm)
    }

    /// Parses MIT's text form. Without `@REALM` the realm is left empty; the
    /// name type is inferred as MIT does ([`Self::infer_name_type`]).
    pub fn parse(text: &str) -> Result<Self, PrincipalError> {
        let mut components = Vec::new();
        let mut current = String::new();
        let mut in_realm = false;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(quoted) => current.push(unquote(quoted)),
                    None => return Err(trailing_backslash(text)),
                },
                '/' | '@' if in_realm => return Err(separator_in_realm(text, c)),
                '/' => components.push(core::mem::take(&mut current)),
                '@' => {
                    components.push(core::mem::take(&mut current));
                    in_realm = true;
                }
                _ => current.push(c),
            }
        }
        let realm = match in_realm {
            true => current,
            false => {
                components.push(current);
                String::new()
            }
        };
        let mut name = Self::new(Self::NT_UNKNOWN, components, realm);
        name.name_type = name.infer_name_type();
        Ok(name)
    }

    /// Parses like [`Self::parse`], using `default_realm` when the text
    /// names no realm (MIT's behaviour with the configured default realm).
    pub fn parse_with_default_realm(
        text: &str,
        default_realm: &str,
    ) -> Result<Self, PrincipalError> {
        let mut name = Self::parse(text)?;
        if !has_unescaped_at(text) {
            name.realm = default_realm.to_owned();
        }
        Ok(name)
    }

    /// The name type MIT gives a parsed name (`k5_infer_principal_type`):
    /// `NT-SRV-INST` for `krbtgt/X`, `NT-WELLKNOWN` for `WELLKNOWN/X`,
    /// otherwise `NT-PRINCIPAL`.
    pub fn infer_name_type(&self) -> i32 {
        match self.components.as_slice() {
            [first, _] if first == Self::KRBTGT => Self::NT_SRV_INST,
            [first, _] if first == "WELLKNOWN" => Self::NT_WELLKNOWN,
            _ => Self::NT_PRINCIPAL,
        }
    }

    /// Whether both name the same principal: same realm and components,
    /// whatever the name types (MIT `krb5_principal_compare`).
    pub fn matches(&self, other: &Self) -> bool {
        self.realm == other.realm && self.components == other.components
    }

    /// Whether this is a ticket-granting service (`krbtgt/ANY@ANY`).
    pub fn is_krbtgt(&self) -> bool {
        matches!(self.components.as_slice(), [first, _] if first == Self::KRBTGT)
    }

    /// The default salt for password-derived keys (RFC 4120 section 4):
    /// the realm followed by the components, without separators.
    ///
    /// Active Directory salts computer accounts differently (MS-KILE 3.1.1.2);
    /// take the salt from ETYPE-INFO2 whenever the KDC sends one.
    pub fn default_salt(&self) -> Vec<u8> {
        let mut salt = self.realm.as_bytes().to_vec();
        for component in &self.components {
            salt.extend_from_slice(component.as_bytes());
        }
        salt
    }
}

impl fmt::Display for PrincipalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, component) in self.components.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write_quoted(f, component)?;
        }
        if !self.realm.is_empty() {
            f.write_str("@")?;
            write_quoted(f, &self.realm)?;
        }
        Ok(())
    }
}

impl FromStr for PrincipalName {
    type Err = PrincipalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// MIT `unparse.c` `copy_component_quoting`.
fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        match c {
            '/' | '@' | '\\' => write!(f, "\\{c}")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\0' => f.write_str("\\0")?,
            _ => write!(f, "{c}")?,
        }
    }
    Ok(())
}

/// MIT `parse.c` `parse_name_into_princ`: the character a backslash quotes.
fn unquote(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'b' => '\u{8}',
        '0' => '\0',
        other => other,
    }
}

fn has_unescaped_at(text: &str) -> bool {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '@' => return true,
            _ => {}
        }
    }
    false
}

fn trailing_backslash(text: &str) -> PrincipalError {
    PrincipalError::TrailingBackslash {
        name: text.to_owned(),
    }
}

fn separator_in_realm(text: &str, separator: char) -> PrincipalError {
    PrincipalError::SeparatorInRealm {
        name: text.to_owned(),
        separator,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_user_service_and_krbtgt_names() {
        let alice = PrincipalName::parse("alice@EXAMPLE.TEST").expect("parse");
        assert_eq!(
            alice,
            PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST")
        );
        let cifs = PrincipalName::parse("cifs/dc1.example.test@EXAMPLE.TEST").expect("parse");
        assert_eq!(cifs.components, ["cifs", "dc1.example.test"]);
        assert_eq!(cifs.name_type, PrincipalName::NT_PRINCIPAL);
        let tgt = PrincipalName::parse("krbtgt/EXAMPLE.TEST@EXAMPLE.TEST").expect("parse");
        assert_eq!(tgt, PrincipalName::krbtgt("EXAMPLE.TEST"));
        assert!(tgt.is_krbtgt());
        assert!(!cifs.is_krbtgt());
    }

    #[test]
    fn missing_realm_is_empty_or_the_default() {
        let bare = PrincipalName::parse("alice").expect("parse");
        assert_eq!(bare.realm, "");
        assert_eq!(bare.to_string(), "alice");
        let with = PrincipalName::parse_with_default_realm("alice", "EXAMPLE.TEST").expect("parse");
        assert_eq!(with.to_string(), "alice@EXAMPLE.TEST");
        let escaped = PrincipalName::parse_with_default_realm(r"a\@b", "R").expect("parse");
        assert_eq!(escaped.components, ["a@b"]);
        assert_eq!(escaped.realm, "R");
        let explicit = PrincipalName::parse_with_default_realm("a@", "R").expect("parse");
        assert_eq!(explicit.realm, "");
    }

    #[test]
    fn escapes_follow_mit() {
        let name = PrincipalName::parse(r"a\/b/c\@d\\e\n\t\b\0\x@RE\@AL").expect("parse");
        assert_eq!(name.components, ["a/b", "c@d\\e\n\t\u{8}\0x"]);
        assert_eq!(name.realm, "RE@AL");
        assert_eq!(name.to_string(), r"a\/b/c\@d\\e\n\t\b\0x@RE\@AL");
    }

    #[test]
    fn malformed_names_are_errors() {
        assert_eq!(
            PrincipalName::parse(r"alice\"),
            Err(PrincipalError::TrailingBackslash {
                name: r"alice\".into()
            })
        );
        assert_eq!(
            PrincipalName::parse("a@B/C"),
            Err(PrincipalError::SeparatorInRealm {
                name: "a@B/C".into(),
                separator: '/'
            })
        );
        assert!(matches!(
            PrincipalName::parse("a@B@C"),
            Err(PrincipalError::SeparatorInRealm { separator: '@', .. })
        ));
    }

    #[test]
    fn matches_ignores_the_name_type() {
        let a = PrincipalName::new(PrincipalName::NT_SRV_HST, ["cifs", "h"], "R");
        let b = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["cifs", "h"], "R");
        assert!(a.matches(&b));
        assert_ne!(a, b);
        assert!(!a.matches(&PrincipalName::new(1, ["cifs", "h"], "S")));
    }

    #[test]
    fn default_salt_is_realm_then_components() {
        let name = PrincipalName::parse("HTTP/web.example.test@EXAMPLE.TEST").expect("parse");
        assert_eq!(name.default_salt(), b"EXAMPLE.TESTHTTPweb.example.test");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(
            components in proptest::collection::vec(".*", 1..4),
            realm in ".*",
        ) {
            let name = PrincipalName::new(PrincipalName::NT_PRINCIPAL, components, realm);
            let parsed = PrincipalName::parse(&name.to_string()).expect("parse");
            prop_assert!(parsed.matches(&name));
        }

        #[test]
        fn parse_never_panics(text in ".*") {
            let _ = PrincipalName::parse(&text);
        }
    }
}
