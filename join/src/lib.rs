//! adjoin-join: DC discovery, the computer account and the machine secret.
//!
//! Today: [`discover`], the DC locator (DNS SRV + CLDAP netlogon ping), and [`ldap`], the
//! sealed SASL GSSAPI LDAP client the join uses.

pub mod discover;
pub mod join;
pub mod ldap;
pub mod machine;
pub mod member;
pub mod names;
