//! adjoin-join: DC discovery, the computer account and the machine secret.
//!
//! Today: [`discover`], the DC locator (DNS SRV + CLDAP netlogon ping), and [`ldap`], the
//! sealed SASL GSSAPI LDAP client the join uses.

pub mod discover;
pub mod join;
/// The sealed LDAP client lives in adjoin-auth, below join, so the identity service can
/// use it without depending on join.
pub use adjoin_auth::ldap;
pub mod machine;
pub mod member;
pub mod names;
