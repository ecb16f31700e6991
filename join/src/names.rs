//! The machine's names, chosen by the admin and independent of the OS hostname: FQDN,
//! host label, NetBIOS name and the account name `NETBIOS$` (MS-ADTS 3.1.1.5.2.6,
//! MS-NBTE for the NetBIOS form). See docs/domain-join.md for the shortening rule.

use sha2::{Digest, Sha256};

/// The longest NetBIOS computer name (16 bytes, the last reserved for the suffix).
pub const NETBIOS_MAX: usize = 15;
/// Characters Windows refuses in computer (NetBIOS) names.
const NETBIOS_FORBIDDEN: &[char] = &[
    '\\', '/', ':', '*', '?', '"', '<', '>', '|', '.', ' ', ',', '~', '!', '@', '#', '$', '%', '^',
    '&', '\'', '(', ')', '{', '}', '_',
];

/// A name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Not a fully qualified DNS name.
    #[error("'{name}' is not a fully qualified host name (like foo.example.com): {reason}")]
    BadFqdn {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid NetBIOS computer name.
    #[error("'{name}' is not a valid NetBIOS computer name: {reason}")]
    BadNetbios {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// The names a join uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineNames {
    /// The FQDN, lower case (dNSHostName, host/FQDN).
    pub fqdn: String,
    /// The first label of the FQDN, lower case.
    pub host: String,
    /// The NetBIOS name, upper case, at most 15 characters.
    pub netbios: String,
    /// `NETBIOS$`.
    pub sam_account_name: String,
    shortened_from: Option<String>,
}

impl MachineNames {
    /// The DNS domain the FQDN is in: all but its first label (`foo.example.com` is in
    /// `example.com`; never empty, as [`Self::new`] refuses a name without one).
    pub fn domain(&self) -> &str {
        self.fqdn.split_once('.').map_or("", |(_, domain)| domain)
    }

    /// Names from `--name FQDN` and an optional `--netbios-name`. Without the latter the
    /// NetBIOS name is the first label, upper-cased, shortened by [`short_netbios`].
    pub fn new(fqdn: &str, netbios: Option<&str>) -> Result<Self, NameError> {
        let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
        check_fqdn(&fqdn)?;
        let host = fqdn.split('.').next().unwrap_or_default().to_owned();
        let (netbios, shortened_from) = match netbios {
            Some(n) => (n.to_ascii_uppercase(), None),
            None if host.len() > NETBIOS_MAX => (short_netbios(&host), Some(host.clone())),
            None => (host.to_ascii_uppercase(), None),
        };
        check_netbios(&netbios)?;
        Ok(Self {
            sam_account_name: format!("{netbios}$"),
            fqdn,
            host,
            netbios,
            shortened_from,
        })
    }

    /// Names as the registry recorded them at join time.
    pub fn from_stored(fqdn: &str, host: &str, netbios: &str) -> Self {
        Self {
            fqdn: fqdn.to_owned(),
            host: host.to_owned(),
            netbios: netbios.to_owned(),
            sam_account_name: format!("{netbios}$"),
            shortened_from: None,
        }
    }

    /// A warning for the admin when the NetBIOS name had to be shortened.
    pub fn warning(&self) -> Option<String> {
        self.shortened_from.as_ref().map(|from| {
            format!(
                "'{from}' is longer than {NETBIOS_MAX} characters; the NetBIOS name is {} \
                 (first 10 characters, '-', 4 characters of its SHA-256); give --netbios-name \
                 to choose another",
                self.netbios
            )
        })
    }
}

/// The stable shortening rule: the first 10 characters, `-`, then the first 4 hex digits
/// of SHA-256 of the whole (lower-case) label, upper-cased. Two long names with the same
/// first 10 characters get different NetBIOS names (unless their hashes collide in 16 bits,
/// which the join then reports as an existing account rather than taking it over).
pub fn short_netbios(label: &str) -> String {
    let digest = Sha256::digest(label.to_ascii_lowercase().as_bytes());
    let prefix: String = label.chars().take(10).collect();
    format!(
        "{}-{:02X}{:02X}",
        prefix.to_ascii_uppercase(),
        digest[0],
        digest[1]
    )
}

fn check_fqdn(fqdn: &str) -> Result<(), NameError> {
    let bad = |reason| NameError::BadFqdn {
        name: fqdn.to_owned(),
        reason,
    };
    if !fqdn.contains('.') {
        return Err(bad("it has no domain part"));
    }
    if fqdn.len() > 253 {
        return Err(bad("longer than 253 characters"));
    }
    for label in fqdn.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(bad("a label is empty or longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad("only letters, digits and '-' are allowed (RFC 1123)"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label starts or ends with '-'"));
        }
    }
    Ok(())
}

fn check_netbios(name: &str) -> Result<(), NameError> {
    let bad = |reason: String| NameError::BadNetbios {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() || name.len() > NETBIOS_MAX {
        return Err(bad(format!("it must have 1 to {NETBIOS_MAX} characters")));
    }
    if let Some(c) = name
        .chars()
        .find(|c| NETBIOS_FORBIDDEN.contains(c) || !c.is_ascii_graphic())
    {
        return Err(bad(format!("'{c}' is not allowed")));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("it may not be all digits".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_first_label() {
        let n = MachineNames::new("Foo.Example.Test.", None).unwrap();
        assert_eq!(
            (n.fqdn.as_str(), n.host.as_str(), n.netbios.as_str()),
            ("foo.example.test", "foo", "FOO")
        );
        assert_eq!(n.sam_account_name, "FOO$");
        assert_eq!(n.warning(), None);
    }

    #[test]
    fn long_names_are_shortened_stably_and_distinctly() {
        let a = MachineNames::new("webserver-frontend-01.example.test", None).unwrap();
        let b = MachineNames::new("webserver-frontend-02.example.test", None).unwrap();
        assert_eq!(a.netbios.len(), 15);
        assert!(a.netbios.starts_with("WEBSERVER--"));
        assert_ne!(a.netbios, b.netbios, "same prefix, different names");
        assert_eq!(a.netbios, short_netbios("webserver-frontend-01"), "stable");
        assert!(a.warning().unwrap().contains("--netbios-name"));
    }

    #[test]
    fn explicit_netbios_names_are_checked() {
        assert_eq!(
            MachineNames::new("foo.example.test", Some("bar"))
                .unwrap()
                .netbios,
            "BAR"
        );
        assert!(MachineNames::new("foo.example.test", Some("WAY-TOO-LONG-NAME")).is_err());
        assert!(MachineNames::new("foo.example.test", Some("A.B")).is_err());
        assert!(MachineNames::new("foo.example.test", Some("12345")).is_err());
    }

    #[test]
    fn bad_fqdns_are_refused() {
        for bad in ["foo", "foo..test", "-foo.test", "foo_bar.test", ""] {
            assert!(MachineNames::new(bad, None).is_err(), "{bad}");
        }
    }
}
