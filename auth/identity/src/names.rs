//! The forms in which a person types a user or group name, and the keys the cache and the
//! NSS fast cache file them under.

/// A name as typed, split into its domain qualifier (if any) and the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameQuery {
    /// `alice`, `EXAMPLE\alice`, `alice@example.test`: an account of the joined domain.
    Account(String),
    /// `alice@otherrealm` or `OTHER\alice`: a domain this host does not (yet) resolve.
    Foreign {
        /// The domain part as typed.
        domain: String,
        /// The account part.
        account: String,
    },
}

/// The joined domain's names, to recognise its qualifiers in any case.
#[derive(Debug, Clone)]
pub struct DomainNames {
    /// The NetBIOS name (EXAMPLE).
    pub netbios: String,
    /// The DNS name (example.test).
    pub dns: String,
}

impl DomainNames {
    fn is_ours(&self, domain: &str) -> bool {
        domain.eq_ignore_ascii_case(&self.netbios) || domain.eq_ignore_ascii_case(&self.dns)
    }

    /// Splits `typed` into its domain and account parts.
    pub fn parse(&self, typed: &str) -> NameQuery {
        let (domain, account) = if let Some((d, a)) = typed.split_once('\\') {
            (Some(d), a)
        } else if let Some((a, d)) = typed.rsplit_once('@') {
            (Some(d), a)
        } else {
            (None, typed)
        };
        match domain {
            Some(d) if !self.is_ours(d) => NameQuery::Foreign {
                domain: d.to_owned(),
                account: account.to_owned(),
            },
            _ => NameQuery::Account(account.to_owned()),
        }
    }

    /// The name NSS shows for an account of the joined domain: its sAMAccountName in lower
    /// case, unqualified.
    pub fn display(&self, sam_account_name: &str) -> String {
        sam_account_name.to_lowercase()
    }

    /// Every key an account answers to in the caches: `alice`, `example\alice`,
    /// `alice@example.test` (all through [`adjoin_idproto::name_key`]).
    /// A trusted domain's account (shown qualified, `partner\erin`) answers to that name.
    pub fn keys(&self, sam_account_name: &str) -> Vec<String> {
        if sam_account_name.contains('\\') {
            return vec![adjoin_idproto::name_key(sam_account_name)];
        }
        let a = adjoin_idproto::name_key(sam_account_name);
        vec![
            format!("{}\\{a}", adjoin_idproto::name_key(&self.netbios)),
            format!("{a}@{}", adjoin_idproto::name_key(&self.dns)),
            a,
        ]
    }
}

/// Is `name` plausible as an account name? Refuses what no AD account can be called (and
/// what would only cost a directory search): empty, over 256 bytes, control characters,
/// and the characters AD forbids in sAMAccountName.
pub fn plausible(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && !name
            .chars()
            .any(|c| c.is_control() || "\"/[]:;|=,+*?<>".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> DomainNames {
        DomainNames {
            netbios: "EXAMPLE".into(),
            dns: "example.test".into(),
        }
    }

    #[test]
    fn every_form_of_our_domain_names_the_account() {
        let n = names();
        for typed in [
            "alice",
            "EXAMPLE\\alice",
            "example\\alice",
            "alice@example.test",
            "alice@EXAMPLE.TEST",
        ] {
            assert_eq!(
                n.parse(typed),
                NameQuery::Account("alice".into()),
                "{typed}"
            );
        }
        assert_eq!(
            n.parse("zoë@example.test"),
            NameQuery::Account("zoë".into())
        );
    }

    #[test]
    fn other_domains_are_foreign() {
        assert_eq!(
            names().parse("OTHER\\bob"),
            NameQuery::Foreign {
                domain: "OTHER".into(),
                account: "bob".into()
            }
        );
        assert!(matches!(
            names().parse("bob@other.test"),
            NameQuery::Foreign { .. }
        ));
    }

    #[test]
    fn keys_cover_the_forms_in_lower_case() {
        let k = names().keys("Zoë");
        assert!(k.contains(&"zoë".to_owned()));
        assert!(k.contains(&"example\\zoë".to_owned()));
        assert!(k.contains(&"zoë@example.test".to_owned()));
        assert_eq!(names().display("Alice"), "alice");
        assert_eq!(
            names().keys(r"partner\Erin"),
            vec![r"partner\erin".to_owned()]
        );
    }

    #[test]
    fn implausible_names_are_refused_early() {
        assert!(plausible("alice") && plausible("zoë") && plausible("domain users"));
        for bad in ["", "a*", "a\nb", "(uid=0)", "x=y"] {
            assert!(!plausible(bad), "{bad:?}");
        }
        assert!(!plausible(&"a".repeat(257)));
    }
}
