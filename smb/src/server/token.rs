//! Who a session runs as: the SIDs a logon proved (NTLM's validation info from the DC, or a
//! Kerberos ticket's PAC) and the Unix ids the member's ID mapping gives them. Every file
//! operation of the session runs with the token's uid, gid and groups.

use std::fmt;

use adjoin_rpc::ndr::Sid;
use adjoin_rpc::netlogon::ValidationSamInfo2;

/// What a logon proved about its user, before ID mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonIdentity {
    /// The account name as the DC spells it.
    pub user: String,
    /// The NetBIOS name of the user's domain.
    pub domain: String,
    /// The user's SID.
    pub user_sid: Sid,
    /// The primary group's SID, when the logon named one.
    pub primary_group_sid: Option<Sid>,
    /// Every group SID of the logon (the primary group's among them), nested groups
    /// already expanded by the DC.
    pub group_sids: Vec<Sid>,
}

impl LogonIdentity {
    /// The identity an NTLM pass-through logon (or a PAC's KERB_VALIDATION_INFO) carries;
    /// `None` without a domain SID.
    pub fn from_validation(info: &ValidationSamInfo2, extra_groups: Vec<Sid>) -> Option<Self> {
        let domain_sid = info.logon_domain_id.as_ref()?;
        let mut group_sids = info.group_sids();
        group_sids.extend(extra_groups);
        group_sids.sort_by_key(ToString::to_string);
        group_sids.dedup();
        Some(Self {
            user: info.effective_name.as_str().to_owned(),
            domain: info.logon_domain_name.as_str().to_owned(),
            user_sid: info.user_sid()?,
            primary_group_sid: domain_sid.with_rid(info.primary_group_id).ok(),
            group_sids,
        })
    }
}

/// A logged-on user as the file system sees them.
#[derive(Clone, PartialEq, Eq)]
pub struct UserToken {
    /// `DOMAIN\user`, for logs and statistics.
    pub name: String,
    /// The user's SID.
    pub user_sid: Sid,
    /// The logon's group SIDs.
    pub group_sids: Vec<Sid>,
    /// The user's uid.
    pub uid: u32,
    /// The primary group's gid.
    pub gid: u32,
    /// Every gid of the user (the primary one included).
    pub groups: Vec<u32>,
}

impl UserToken {
    /// Whether the user is in group `gid`.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }
}

impl fmt::Debug for UserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UserToken({} uid={} gid={} groups={})",
            self.name,
            self.uid,
            self.gid,
            self.groups.len()
        )
    }
}

/// Why a logon has no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The user's SID has no Unix id here (another domain without a range, a well-known SID).
    #[error("{sid} has no Unix id on this host: {why}")]
    Unmapped {
        /// The SID.
        sid: String,
        /// Why.
        why: String,
    },
    /// The mapping needs the DC (RFC 2307 attributes) and none answered.
    #[error("no domain controller answered the ID lookup: {0}")]
    NoDc(String),
}

/// Maps a logon's SIDs to Unix ids: adjoind's identity service, or a fixed table in tests.
/// Called on a blocking thread (it may wait for the DC).
pub trait TokenMapper: Send + Sync + fmt::Debug {
    /// The token for `logon`.
    fn token(&self, logon: &LogonIdentity) -> Result<UserToken, TokenError>;

    /// The SID of Unix user `uid` (a file's owner, in its security descriptor); `None`
    /// when the mapping has no such user (the file server then shows Samba's
    /// `S-1-22-1-uid`).
    fn sid_of_uid(&self, uid: u32) -> Option<Sid> {
        let _ = uid;
        None
    }

    /// The SID of Unix group `gid`; `None` for one without (shown as `S-1-22-2-gid`).
    fn sid_of_gid(&self, gid: u32) -> Option<Sid> {
        let _ = gid;
        None
    }
}
