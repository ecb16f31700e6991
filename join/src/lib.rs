//! adjoin-join: DC discovery, the computer account and the machine secret.
//!
//! Today: [`discover`], the DC locator (DNS SRV + CLDAP netlogon ping).

pub mod discover;
