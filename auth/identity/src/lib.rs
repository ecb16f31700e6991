//! adjoin-identity: how a joined host knows its domain's users and groups and logs them on.
//!
//! - [`idmap`]: SID <-> uid/gid (RID ranges per domain, or RFC 2307 attributes), one
//!   implementation for NSS, PAM and the SMB file server;
//! - [`directory`]: lookups over sealed LDAP as the machine account;
//! - [`cache`]: SQLite with per-entry fetch times, served when no DC answers;
//! - [`service`]: the lookups (cache, DC, offline fallback);
//! - [`trusted`]: the users and groups of trusted domains, through their own DCs;
//! - [`logon`]: PAM's auth/account/session/password through Kerberos, with [`verifier`]
//!   for offline logons;
//! - [`server`] and [`fastcache`]: the local socket and the NSS fast cache file.

pub mod cache;
pub mod directory;
pub mod error;
pub mod fastcache;
pub mod idmap;
pub mod logon;
pub mod names;
pub mod server;
pub mod service;
pub mod settings;
pub mod trusted;
pub mod verifier;

pub use error::IdentityError;
pub use service::Identity;
pub use settings::{Member, Settings};
