//! What can go wrong in a Kerberos exchange, with messages an admin can act on.
//!
//! Every KRB-ERROR (RFC 4120 5.9.1) a KDC sends becomes a [`KerberosError`]; the codes
//! people meet in practice get their own variants, the rest keep code and e-text.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::crypto::CryptoError;

/// RFC 4120 7.5.9 error codes (and MS-KILE's additions), as an open enum.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KrbErrorCode(pub i32);

macro_rules! codes {
    ($($name:ident = $v:expr),* $(,)?) => {
        impl KrbErrorCode {
            $(#[allow(missing_docs)] pub const $name: Self = Self($v);)*

            /// The RFC name of the code, if it has one.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    KDC_ERR_NONE = 0,
    KDC_ERR_NAME_EXP = 1,
    KDC_ERR_SERVICE_EXP = 2,
    KDC_ERR_BAD_PVNO = 3,
    KDC_ERR_C_OLD_MAST_KVNO = 4,
    KDC_ERR_S_OLD_MAST_KVNO = 5,
    KDC_ERR_C_PRINCIPAL_UNKNOWN = 6,
    KDC_ERR_S_PRINCIPAL_UNKNOWN = 7,
    KDC_ERR_PRINCIPAL_NOT_UNIQUE = 8,
    KDC_ERR_NULL_KEY = 9,
    KDC_ERR_CANNOT_POSTDATE = 10,
    KDC_ERR_NEVER_VALID = 11,
    KDC_ERR_POLICY = 12,
    KDC_ERR_BADOPTION = 13,
    KDC_ERR_ETYPE_NOSUPP = 14,
    KDC_ERR_SUMTYPE_NOSUPP = 15,
    KDC_ERR_PADATA_TYPE_NOSUPP = 16,
    KDC_ERR_TRTYPE_NOSUPP = 17,
    KDC_ERR_CLIENT_REVOKED = 18,
    KDC_ERR_SERVICE_REVOKED = 19,
    KDC_ERR_TGT_REVOKED = 20,
    KDC_ERR_CLIENT_NOTYET = 21,
    KDC_ERR_SERVICE_NOTYET = 22,
    KDC_ERR_KEY_EXPIRED = 23,
    KDC_ERR_PREAUTH_FAILED = 24,
    KDC_ERR_PREAUTH_REQUIRED = 25,
    KDC_ERR_SERVER_NOMATCH = 26,
    KDC_ERR_MUST_USE_USER2USER = 27,
    KDC_ERR_PATH_NOT_ACCEPTED = 28,
    KDC_ERR_SVC_UNAVAILABLE = 29,
    KRB_AP_ERR_BAD_INTEGRITY = 31,
    KRB_AP_ERR_TKT_EXPIRED = 32,
    KRB_AP_ERR_TKT_NYV = 33,
    KRB_AP_ERR_REPEAT = 34,
    KRB_AP_ERR_NOT_US = 35,
    KRB_AP_ERR_BADMATCH = 36,
    KRB_AP_ERR_SKEW = 37,
    KRB_AP_ERR_BADADDR = 38,
    KRB_AP_ERR_BADVERSION = 39,
    KRB_AP_ERR_MSG_TYPE = 40,
    KRB_AP_ERR_MODIFIED = 41,
    KRB_AP_ERR_BADORDER = 42,
    KRB_AP_ERR_BADKEYVER = 44,
    KRB_AP_ERR_NOKEY = 45,
    KRB_AP_ERR_MUT_FAIL = 46,
    KRB_AP_ERR_BADDIRECTION = 47,
    KRB_AP_ERR_METHOD = 48,
    KRB_AP_ERR_BADSEQ = 49,
    KRB_AP_ERR_INAPP_CKSUM = 50,
    KRB_AP_PATH_NOT_ACCEPTED = 51,
    KRB_ERR_RESPONSE_TOO_BIG = 52,
    KRB_ERR_GENERIC = 60,
    KRB_ERR_FIELD_TOOLONG = 61,
    KDC_ERR_CLIENT_NOT_TRUSTED = 62,
    KDC_ERR_WRONG_REALM = 68,
}

impl fmt::Debug for KrbErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "KrbErrorCode({})", self.0),
        }
    }
}

impl fmt::Display for KrbErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// MS-ERREF NTSTATUS values Windows and Samba KDCs put in a KRB-ERROR's e-data
/// (MS-KILE 2.2.1 KERB-EXT-ERROR) to say why an account may not log on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NtStatus(pub u32);

impl NtStatus {
    /// The account is disabled.
    pub const ACCOUNT_DISABLED: Self = Self(0xC000_0072);
    /// The account is locked out after too many bad passwords.
    pub const ACCOUNT_LOCKED_OUT: Self = Self(0xC000_0234);
    /// The account has expired.
    pub const ACCOUNT_EXPIRED: Self = Self(0xC000_0193);
    /// The password has expired.
    pub const PASSWORD_EXPIRED: Self = Self(0xC000_0071);
    /// The password must be changed before the first logon.
    pub const PASSWORD_MUST_CHANGE: Self = Self(0xC000_0224);
    /// Logon outside the allowed hours.
    pub const INVALID_LOGON_HOURS: Self = Self(0xC000_006F);
    /// Logon from a workstation that is not allowed.
    pub const INVALID_WORKSTATION: Self = Self(0xC000_0070);
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NTSTATUS({:#010x})", self.0)
    }
}

/// Why an account may not log on, as far as the KDC said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountState {
    /// Disabled by an administrator.
    Disabled,
    /// Locked out after bad passwords.
    LockedOut,
    /// Past its expiry date.
    Expired,
    /// Outside logon hours or from a workstation it may not use.
    Restricted,
    /// The KDC gave no reason.
    Unknown,
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disabled => "disabled",
            Self::LockedOut => "locked out",
            Self::Expired => "expired",
            Self::Restricted => "restricted (logon hours or workstations)",
            Self::Unknown => "revoked",
        })
    }
}

/// A Kerberos exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KerberosError {
    /// KDC_ERR_PREAUTH_FAILED: the key made from the password is not the account's.
    #[error("wrong password for {principal}")]
    WrongPassword {
        /// The client principal.
        principal: String,
    },
    /// KDC_ERR_C_PRINCIPAL_UNKNOWN.
    #[error("{principal} does not exist in realm {realm}: check the user name and the realm")]
    UnknownPrincipal {
        /// The client principal.
        principal: String,
        /// The realm asked.
        realm: String,
    },
    /// KDC_ERR_S_PRINCIPAL_UNKNOWN.
    #[error("service principal {service} does not exist in realm {realm}: check the SPN")]
    UnknownService {
        /// The service principal.
        service: String,
        /// The realm asked.
        realm: String,
    },
    /// KDC_ERR_KEY_EXPIRED, or the NTSTATUS says the password expired.
    #[error("the password of {principal} has expired: change it (adjoin kpasswd) and try again")]
    PasswordExpired {
        /// The client principal.
        principal: String,
    },
    /// KDC_ERR_CLIENT_REVOKED and friends.
    #[error("the account {principal} is {state}: ask a domain administrator")]
    AccountUnusable {
        /// The client principal.
        principal: String,
        /// What the KDC said about it.
        state: AccountState,
    },
    /// KRB_AP_ERR_SKEW: the clocks differ by more than the KDC allows.
    #[error(
        "clock skew too great: this machine's clock is {} {} the KDC's (the limit is usually \
         5 minutes); synchronise the clock (NTP) with the domain",
        human(skew.unsigned_abs()),
        if *skew < 0 { "behind" } else { "ahead of" }
    )]
    ClockSkew {
        /// Our clock minus the KDC's, in seconds.
        skew: i64,
    },
    /// KDC_ERR_ETYPE_NOSUPP: no encryption type both sides accept.
    #[error(
        "the KDC accepts none of the encryption types offered ({offered}): enable AES for the \
         account (msDS-SupportedEncryptionTypes) or allow RC4"
    )]
    NoCommonEtype {
        /// What was offered.
        offered: String,
    },
    /// No KDC answered.
    #[error("no KDC answered for realm {realm}: {tried}; check the KDC addresses and ports 88")]
    KdcUnreachable {
        /// The realm.
        realm: String,
        /// Each KDC tried and what happened.
        tried: String,
    },
    /// Any other KRB-ERROR.
    #[error("the KDC refused: {code}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Kdc {
        /// The error code.
        code: KrbErrorCode,
        /// The KDC's e-text, if any.
        text: Option<String>,
    },
    /// The KDC's reply is not what RFC 4120 allows.
    #[error("malformed reply from the KDC: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The reply does not belong to our request or fails its checks (wrong nonce, names).
    #[error("the KDC's reply does not match the request: {reason}")]
    ReplyMismatch {
        /// What did not match.
        reason: String,
    },
    /// Following the KDCs' referrals toward a service did not end in its ticket.
    #[error(
        "no ticket for {service}: {reason} (realms asked: {path}); check the trusts between \
         these realms"
    )]
    Referrals {
        /// The service asked for.
        service: String,
        /// The realms whose KDCs were asked, in order.
        path: String,
        /// What went wrong: a loop, too many hops, a KDC that did not refer.
        reason: String,
    },
    /// A realm's KDCs could not be located (a referral led to a realm DNS does not know).
    #[error("cannot find the KDCs of realm {realm}: {reason}")]
    KdcNotFound {
        /// The realm.
        realm: String,
        /// Why.
        reason: String,
    },
    /// A key could not be made or used.
    #[error("Kerberos crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// No key for the etype the KDC chose.
    #[error("no key for {etype} in the keytab for {principal}: re-create the keytab")]
    NoKey {
        /// The principal.
        principal: String,
        /// The etype the KDC chose.
        etype: String,
    },
}

/// A KDC address with what happened when we tried it, for [`KerberosError::KdcUnreachable`].
pub(crate) fn tried(list: &[(SocketAddr, String)]) -> String {
    let v: Vec<String> = list.iter().map(|(a, e)| format!("{a}: {e}")).collect();
    v.join("; ")
}

/// "10 min 3 s", "45 s".
fn human(secs: u64) -> String {
    let d = Duration::from_secs(secs);
    match (d.as_secs() / 60, d.as_secs() % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_their_names() {
        assert_eq!(
            format!("{:?}", KrbErrorCode::KRB_AP_ERR_SKEW),
            "KRB_AP_ERR_SKEW(37)"
        );
        assert_eq!(format!("{:?}", KrbErrorCode(99)), "KrbErrorCode(99)");
    }

    #[test]
    fn skew_message_says_direction_and_size() {
        let e = KerberosError::ClockSkew { skew: 600 };
        assert!(e.to_string().contains("10 min ahead of the KDC's"), "{e}");
        let e = KerberosError::ClockSkew { skew: -61 };
        assert!(e.to_string().contains("1 min 1 s behind"), "{e}");
    }
}
