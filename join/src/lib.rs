//! adjoin-join: DC discovery, the computer account and the machine secret.
//!
//! [`discover`], the DC locator (DNS SRV + CLDAP netlogon ping); [`join`], the join and a
//! member's own operations (leave, testjoin, rotate, setname), whose errors are
//! [`MemberError`]; [`ldap`], the sealed SASL GSSAPI LDAP client they use.

pub mod discover;
pub mod dns_update;
mod error;
pub use error::MemberError;
pub mod join;
/// The sealed LDAP client lives in adjoin-auth, below join, so the identity service can
/// use it without depending on join.
pub use adjoin_auth::ldap;
pub mod machine;
pub mod member;
pub mod names;
