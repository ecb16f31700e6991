//! Changing and setting passwords over the Kerberos change-password protocol: RFC 3244
//! (Microsoft's set-password extension) on top of the original change-password framing,
//! as MIT, Heimdal, Windows and Samba speak it on port 464 (UDP, TCP with the RFC 4120
//! 7.2.2 4-byte length prefix).
//!
//! ```text
//! request and reply (all integers big-endian):
//!   message length  u16   (the whole message, these 6 bytes included)
//!   version         u16   0x0001 change-password, 0xff80 set-password (RFC 3244);
//!                         replies carry 0x0001 (Samba, Windows) or 0xff80
//!   AP-REQ length   u16   (AP-REP length in a reply; 0 when a KRB-ERROR follows)
//!   AP-REQ / AP-REP       ticket for kadmin/changepw@REALM, authenticator with a subkey
//!                         and a sequence number
//!   KRB-PRIV / KRB-ERROR  under the subkey (usage 13):
//!     request: change: the new password (UTF-8); set: ChangePasswdData
//!     reply:   result code (u16) + result string
//!
//! ChangePasswdData ::=  SEQUENCE {
//!         newpasswd[0]   OCTET STRING,
//!         targname[1]    PrincipalName OPTIONAL,
//!         targrealm[2]   Realm OPTIONAL }
//! ```
//!
//! The protocol core here does no I/O: [`KpasswdExchange`] builds the request and reads
//! the reply; [`exchange`], [`change_password`] and [`set_password`] drive it over
//! [`kdc::send`] with the kpasswd servers in a [`KdcConfig`] (port 464, see
//! [`kpasswd_servers`]).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rasn::types::OctetString;
use rasn::{AsnType, Decode, Decoder as _, Encode, Encoder as _};
use rasn_kerberos as k;
use tracing::debug;
use zeroize::Zeroizing;

use super::ap_req::{self, ApReqParts, ap_options};
use super::as_exchange::random_nonce;
use super::error::KerberosError;
use super::kdc::{self, KdcConfig};
use super::{AsExchange, AsOptions, ClientSecret, Credentials, KdcRequest, wire};
use crate::crypto::{Key, KeyUsage};
use crate::principal::PrincipalName;

/// The kpasswd port (RFC 3244 section 2).
pub const KPASSWD_PORT: u16 = 464;
/// Version of the original change-password protocol: the KRB-PRIV carries the new
/// password of the ticket's client.
pub const VERSION_CHANGE: u16 = 0x0001;
/// RFC 3244 version: the KRB-PRIV carries a ChangePasswdData naming the target.
pub const VERSION_SET: u16 = 0xff80;
/// Message length, version, AP-REQ length.
const HEADER_LEN: usize = 6;
/// [APPLICATION 21] KRB-PRIV.
const KRB_PRIV_TAG: u8 = 0x75;

/// RFC 3244 section 2 ChangePasswdData.
///
/// ```text
/// ChangePasswdData ::=  SEQUENCE {
///         newpasswd[0]   OCTET STRING,
///         targname[1]    PrincipalName OPTIONAL,
///         targrealm[2]   Realm OPTIONAL }
/// ```
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangePasswdData {
    #[rasn(tag(explicit(0)))]
    pub(crate) newpasswd: OctetString,
    #[rasn(tag(explicit(1)))]
    pub(crate) targname: Option<k::PrincipalName>,
    #[rasn(tag(explicit(2)))]
    pub(crate) targrealm: Option<k::Realm>,
}

/// RFC 3244 section 2 result codes, as an open enum.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResultCode(pub u16);

impl ResultCode {
    /// KRB5_KPASSWD_SUCCESS.
    pub const SUCCESS: Self = Self(0);
    /// KRB5_KPASSWD_MALFORMED: the request could not be parsed.
    pub const MALFORMED: Self = Self(1);
    /// KRB5_KPASSWD_HARDERROR: the server failed to process the request.
    pub const HARD_ERROR: Self = Self(2);
    /// KRB5_KPASSWD_AUTHERROR: the AP-REQ or KRB-PRIV did not authenticate.
    pub const AUTH_ERROR: Self = Self(3);
    /// KRB5_KPASSWD_SOFTERROR: the new password breaks the password policy.
    pub const SOFT_ERROR: Self = Self(4);
    /// KRB5_KPASSWD_ACCESSDENIED: the client may not change the target's password.
    pub const ACCESS_DENIED: Self = Self(5);
    /// KRB5_KPASSWD_BAD_VERSION: the protocol version is not supported.
    pub const BAD_VERSION: Self = Self(6);
    /// KRB5_KPASSWD_INITIAL_FLAG_NEEDED: a change needs a ticket straight from the AS.
    pub const INITIAL_FLAG_NEEDED: Self = Self(7);

    /// The RFC name of the code, if it has one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "SUCCESS",
            1 => "MALFORMED",
            2 => "HARDERROR",
            3 => "AUTHERROR",
            4 => "SOFTERROR",
            5 => "ACCESSDENIED",
            6 => "BAD_VERSION",
            7 => "INITIAL_FLAG_NEEDED",
            _ => return None,
        })
    }
}

impl fmt::Debug for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "KRB5_KPASSWD_{n}({})", self.0),
            None => write!(f, "ResultCode({})", self.0),
        }
    }
}

/// The password policy Windows puts in the result string of a soft error: 30 bytes, the
/// DOMAIN_PASSWORD_INFORMATION of MS-SAMR 2.2.3.5 behind two zero bytes, big-endian.
///
/// ```text
///   0x0000          u16
///   MinPasswordLength     u32
///   PasswordHistoryLength u32
///   PasswordProperties    u32   (DOMAIN_PASSWORD_COMPLEX = 0x01, ...)
///   MaxPasswordAge        i64   (100 ns units, stored negative by AD)
///   MinPasswordAge        i64
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The shortest password allowed.
    pub min_length: u32,
    /// How many previous passwords may not be reused.
    pub history: u32,
    /// MS-SAMR PasswordProperties flags.
    pub properties: u32,
    /// How long a password lives (100 ns units; AD stores it negative).
    pub max_age: i64,
    /// How long before a password may be changed again (100 ns units).
    pub min_age: i64,
}

impl PasswordPolicy {
    /// DOMAIN_PASSWORD_COMPLEX: three of upper case, lower case, digits, symbols, and
    /// not the account name.
    pub const COMPLEX: u32 = 0x01;
    /// DOMAIN_REFUSE_PASSWORD_CHANGE: users may not change their passwords.
    pub const REFUSE_PASSWORD_CHANGE: u32 = 0x20;
    const LEN: usize = 30;
    const DAY: u64 = 10_000_000 * 86_400;

    /// Decodes the 30-byte policy blob; `None` when `data` is something else (a text).
    pub fn decode(data: &[u8]) -> Option<Self> {
        if data.len() != Self::LEN || data[..2] != [0, 0] {
            return None;
        }
        let u32_at = |i: usize| Some(u32::from_be_bytes(data.get(i..i + 4)?.try_into().ok()?));
        let i64_at = |i: usize| Some(i64::from_be_bytes(data.get(i..i + 8)?.try_into().ok()?));
        Some(Self {
            min_length: u32_at(2)?,
            history: u32_at(6)?,
            properties: u32_at(10)?,
            max_age: i64_at(14)?,
            min_age: i64_at(22)?,
        })
    }

    /// The blob form (what a Windows DC sends).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend_from_slice(&self.min_length.to_be_bytes());
        v.extend_from_slice(&self.history.to_be_bytes());
        v.extend_from_slice(&self.properties.to_be_bytes());
        v.extend_from_slice(&self.max_age.to_be_bytes());
        v.extend_from_slice(&self.min_age.to_be_bytes());
        v
    }

    /// The rules as a list: "at least 7 characters, not one of the last 24, ...".
    pub fn reasons(&self) -> String {
        let mut v = Vec::new();
        if self.min_length > 0 {
            v.push(format!("at least {} characters", self.min_length));
        }
        if self.history > 0 {
            v.push(format!("not one of the last {}", self.history));
        }
        if self.properties & Self::COMPLEX != 0 {
            v.push(
                "complexity required (three of upper case, lower case, digits, symbols; \
                 not the account name)"
                    .to_owned(),
            );
        }
        let days = self.min_age.unsigned_abs() / Self::DAY;
        if days > 0 {
            v.push(format!("at most one change every {days} day(s)"));
        }
        if self.properties & Self::REFUSE_PASSWORD_CHANGE != 0 {
            v.push("users may not change passwords in this domain".to_owned());
        }
        if v.is_empty() {
            v.push("rejected without a stated reason".to_owned());
        }
        v.join(", ")
    }
}

/// A kpasswd exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KpasswdError {
    /// The old password did not get a kadmin/changepw ticket.
    #[error("the current password given for {principal} is wrong")]
    WrongOldPassword {
        /// The principal whose password was to change.
        principal: String,
    },
    /// KRB5_KPASSWD_SOFTERROR: the new password breaks the domain's password policy.
    #[error("the new password does not meet the domain policy: {reasons}")]
    Policy {
        /// The rules, decoded from the DC's policy blob or as the DC wrote them.
        reasons: String,
        /// The policy, when the DC sent it in binary form (Windows).
        policy: Option<PasswordPolicy>,
    },
    /// KRB5_KPASSWD_ACCESSDENIED.
    #[error(
        "access denied: {client} may not set the password of {target}{}",
        detail(text)
    )]
    AccessDenied {
        /// Who asked.
        client: String,
        /// Whose password.
        target: String,
        /// The server's result string.
        text: String,
    },
    /// KRB5_KPASSWD_INITIAL_FLAG_NEEDED.
    #[error(
        "the kpasswd server wants a ticket obtained with the password itself (initial \
         ticket), not one from a ticket cache{}",
        detail(text)
    )]
    InitialTicketNeeded {
        /// The server's result string.
        text: String,
    },
    /// KRB5_KPASSWD_AUTHERROR.
    #[error("the kpasswd server did not accept our authentication{}", detail(text))]
    AuthError {
        /// The server's result string.
        text: String,
    },
    /// KRB5_KPASSWD_MALFORMED.
    #[error("the kpasswd server could not parse the request{}", detail(text))]
    RequestMalformed {
        /// The server's result string.
        text: String,
    },
    /// KRB5_KPASSWD_BAD_VERSION.
    #[error(
        "the kpasswd server does not support protocol version {version:#06x}{}",
        detail(text)
    )]
    BadVersion {
        /// The version we sent.
        version: u16,
        /// The server's result string.
        text: String,
    },
    /// KRB5_KPASSWD_HARDERROR and result codes RFC 3244 does not name.
    #[error("the kpasswd server failed ({code:?}){}", detail(text))]
    Server {
        /// The result code.
        code: ResultCode,
        /// The server's result string.
        text: String,
    },
    /// No kpasswd server answered.
    #[error(
        "no kpasswd server answered for realm {realm}: {tried}; check the addresses and \
         port 464"
    )]
    Unreachable {
        /// The realm.
        realm: String,
        /// Each server tried and what happened.
        tried: String,
    },
    /// The reply is not a kpasswd reply.
    #[error("malformed reply from the kpasswd server: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The request cannot be framed (a field longer than 65535 bytes).
    #[error("the kpasswd request is too large: {reason}")]
    TooLarge {
        /// What is too large.
        reason: String,
    },
    /// Getting the ticket, or checking the reply's Kerberos messages, failed.
    #[error(transparent)]
    Kerberos(#[from] KerberosError),
}

fn detail(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

impl From<crate::crypto::CryptoError> for KpasswdError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        Self::Kerberos(e.into())
    }
}

fn malformed(reason: impl Into<String>) -> KpasswdError {
    KpasswdError::Malformed {
        reason: reason.into(),
    }
}

/// What the request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    /// The ticket's client changes its own password (version 0x0001).
    Change,
    /// The ticket's client sets `target`'s password (RFC 3244, version 0xff80).
    Set {
        /// Whose password; an empty realm means the client's.
        target: PrincipalName,
    },
}

/// The sender address in the KRB-PRIV (RFC 4120 5.7.1 s-address, which that RFC makes
/// mandatory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderAddress {
    /// The local address the request leaves from (what MIT and Heimdal send).
    Ip(IpAddr),
    /// RFC 4120 8.1 directional address "from the initiator", for when the local address
    /// is unknown or rewritten by NAT.
    Directional,
}

impl SenderAddress {
    fn host_address(self) -> k::HostAddress {
        let (addr_type, address) = match self {
            Self::Ip(ip) => match ip.to_canonical() {
                IpAddr::V4(v4) => (k::HostAddress::IPV4, v4.octets().to_vec()),
                IpAddr::V6(v6) => (k::HostAddress::IPV6, v6.octets().to_vec()),
            },
            Self::Directional => (k::HostAddress::DIRECTIONAL, 0u32.to_be_bytes().to_vec()),
        };
        k::HostAddress {
            addr_type,
            address: address.into(),
        }
    }
}

/// One kpasswd request and the state to check its reply.
#[derive(Debug)]
pub struct KpasswdExchange {
    creds: Credentials,
    change: PasswordChange,
    subkey: Key,
    seq_number: u32,
    sent: Option<SystemTime>,
}

impl KpasswdExchange {
    /// Prepares a request with `creds` (a ticket for kadmin/changepw@REALM) and a fresh
    /// subkey of the session key's type.
    pub fn new(creds: Credentials, change: PasswordChange) -> Result<Self, KpasswdError> {
        let subkey = Key::generate(creds.session_key.etype())?;
        Ok(Self {
            creds,
            change,
            subkey,
            seq_number: random_nonce(),
            sent: None,
        })
    }

    /// The protocol version this request uses.
    pub fn version(&self) -> u16 {
        match self.change {
            PasswordChange::Change => VERSION_CHANGE,
            PasswordChange::Set { .. } => VERSION_SET,
        }
    }

    /// The framed request carrying `new_password`, for the ticket's realm.
    pub fn request(
        &mut self,
        new_password: &str,
        sender: SenderAddress,
        now: SystemTime,
    ) -> Result<KdcRequest, KpasswdError> {
        let parts = ApReqParts {
            options: ap_options::MUTUAL_REQUIRED,
            checksum: None,
            subkey: Some(self.subkey.clone()),
            seq_number: Some(self.seq_number),
        };
        let ap_req = ap_req::build(&self.creds, &parts, KeyUsage::AP_REQ_AUTH, now)?;
        let data = self.user_data(new_password);
        let krb_priv = self.krb_priv(&data, sender, now)?;
        self.sent = Some(now);
        Ok(KdcRequest {
            realm: self.creds.server.realm.clone(),
            bytes: frame(self.version(), &ap_req, &krb_priv)?,
        })
    }

    /// Change: the password itself; set: a ChangePasswdData naming the target.
    fn user_data(&self, new_password: &str) -> Zeroizing<Vec<u8>> {
        match &self.change {
            PasswordChange::Change => Zeroizing::new(new_password.as_bytes().to_vec()),
            PasswordChange::Set { target } => {
                let realm = if target.realm.is_empty() {
                    &self.creds.client.realm
                } else {
                    &target.realm
                };
                let data = ChangePasswdData {
                    newpasswd: OctetString::from(new_password.as_bytes().to_vec()),
                    targname: Some(wire::to_wire_name(target)),
                    targrealm: Some(wire::kstring(realm)),
                };
                // rasn's OctetString cannot be wiped; it lives only until this returns.
                Zeroizing::new(wire::der(&data))
            }
        }
    }

    /// RFC 4120 5.7.1 KRB-PRIV under the subkey, sequence number as in the authenticator.
    fn krb_priv(
        &self,
        data: &[u8],
        sender: SenderAddress,
        now: SystemTime,
    ) -> Result<Vec<u8>, KpasswdError> {
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let part = k::EncKrbPrivPart {
            user_data: OctetString::from(data.to_vec()),
            timestamp: Some(wire::ktime(now)),
            usec: Some(since.subsec_micros().into()),
            seq_number: Some(self.seq_number),
            sender_address: sender.host_address(),
            recipient_address: None,
        };
        let plain = Zeroizing::new(wire::der(&part));
        let cipher = self.subkey.encrypt(KeyUsage::KRB_PRIV_ENC_PART, &plain)?;
        Ok(wire::der(&k::KrbPriv {
            pvno: 5.into(),
            msg_type: 21.into(),
            enc_part: k::EncryptedData {
                etype: self.subkey.etype().value(),
                kvno: None,
                cipher: cipher.into(),
            },
        }))
    }

    /// Reads the reply: `Ok` when the password was changed, else why not.
    pub fn reply(&self, bytes: &[u8], now: SystemTime) -> Result<(), KpasswdError> {
        if bytes.first() == Some(&wire::KRB_ERROR_TAG) {
            // MIT and Windows may answer with a bare KRB-ERROR.
            return Err(self.krb_error(bytes, now));
        }
        let frame = unframe(bytes)?;
        if frame.ap.is_empty() {
            return Err(self.krb_error(frame.rest, now));
        }
        let server_key = self.ap_rep(frame.ap)?;
        let data = self.read_priv(frame.rest, server_key)?;
        let (code, text) = split_result(&data)?;
        self.outcome(code, text)
    }

    /// RFC 4120 5.5.2 AP-REP: proves the server read our authenticator; its subkey (if
    /// any) protects the reply, with its sequence number.
    fn ap_rep(&self, bytes: &[u8]) -> Result<(Option<Key>, Option<u32>), KpasswdError> {
        let rep: k::ApRep = wire::decode(bytes, "AP-REP")?;
        let plain = Zeroizing::new(
            self.creds
                .session_key
                .decrypt(KeyUsage::AP_REP_ENC_PART, &rep.enc_part.cipher)?,
        );
        let part: k::EncApRepPart = wire::decode(&plain, "EncAPRepPart")?;
        let sent = self
            .sent
            .ok_or_else(|| malformed("a reply before a request"))?;
        let micros = sent.duration_since(UNIX_EPOCH).unwrap_or_default();
        // RFC 4120 3.2.5: ctime and cusec must be those of our authenticator.
        if part.ctime != wire::ktime(sent) || part.cusec != micros.subsec_micros().into() {
            return Err(KerberosError::ReplyMismatch {
                reason: "the AP-REP does not echo our authenticator's time".into(),
            }
            .into());
        }
        let subkey = part
            .subkey
            .map(|k| Key::new(crate::crypto::EncryptionType::new(k.r#type), &k.value))
            .transpose()?;
        Ok((subkey, part.seq_number))
    }

    /// The KRB-PRIV of the reply, under the server's subkey or, without one, ours.
    fn read_priv(
        &self,
        bytes: &[u8],
        (server_key, server_seq): (Option<Key>, Option<u32>),
    ) -> Result<Zeroizing<Vec<u8>>, KpasswdError> {
        if bytes.first() != Some(&KRB_PRIV_TAG) {
            return Err(malformed(
                "an AP-REP followed by something other than KRB-PRIV",
            ));
        }
        let msg: k::KrbPriv = wire::decode(bytes, "KRB-PRIV")?;
        let key = server_key.as_ref().unwrap_or(&self.subkey);
        let plain = Zeroizing::new(key.decrypt(KeyUsage::KRB_PRIV_ENC_PART, &msg.enc_part.cipher)?);
        let part: k::EncKrbPrivPart = wire::decode(&plain, "EncKrbPrivPart")?;
        if let (Some(want), Some(got)) = (server_seq, part.seq_number)
            && want != got
        {
            return Err(KerberosError::ReplyMismatch {
                reason: format!("KRB-PRIV sequence number {got} instead of {want}"),
            }
            .into());
        }
        Ok(Zeroizing::new(part.user_data.to_vec()))
    }

    /// RFC 3244: a KRB-ERROR's e-data holds the result code and string; without them it
    /// is an ordinary Kerberos error.
    fn krb_error(&self, bytes: &[u8], now: SystemTime) -> KpasswdError {
        let e: k::KrbError = match wire::decode(bytes, "KRB-ERROR") {
            Ok(e) => e,
            Err(e) => return e.into(),
        };
        let result = e.e_data.as_deref().and_then(|d| split_result(d).ok());
        match result {
            Some((code, text)) if code != ResultCode::SUCCESS => self
                .outcome(code, text)
                .err()
                .unwrap_or_else(|| malformed("a KRB-ERROR saying success")),
            _ => wire::krb_error(&e, &self.creds.client, now).into(),
        }
    }

    /// A result code and string as the caller's answer.
    fn outcome(&self, code: ResultCode, data: &[u8]) -> Result<(), KpasswdError> {
        let text = result_text(data);
        debug!(?code, %text, "kpasswd result");
        Err(match code {
            ResultCode::SUCCESS => return Ok(()),
            ResultCode::SOFT_ERROR => match PasswordPolicy::decode(data) {
                Some(policy) => KpasswdError::Policy {
                    reasons: policy.reasons(),
                    policy: Some(policy),
                },
                None if text.is_empty() => KpasswdError::Policy {
                    reasons: "the server gave no reason".into(),
                    policy: None,
                },
                None => KpasswdError::Policy {
                    reasons: text,
                    policy: None,
                },
            },
            ResultCode::ACCESS_DENIED => KpasswdError::AccessDenied {
                client: self.creds.client.to_string(),
                target: self.target(),
                text,
            },
            ResultCode::INITIAL_FLAG_NEEDED => KpasswdError::InitialTicketNeeded { text },
            ResultCode::AUTH_ERROR => KpasswdError::AuthError { text },
            ResultCode::MALFORMED => KpasswdError::RequestMalformed { text },
            ResultCode::BAD_VERSION => KpasswdError::BadVersion {
                version: self.version(),
                text,
            },
            code => KpasswdError::Server { code, text },
        })
    }

    fn target(&self) -> String {
        match &self.change {
            PasswordChange::Change => self.creds.client.to_string(),
            PasswordChange::Set { target } => target.to_string(),
        }
    }
}

/// The framed message: lengths as u16, checked.
fn frame(version: u16, ap_req: &[u8], krb_priv: &[u8]) -> Result<Vec<u8>, KpasswdError> {
    let total = HEADER_LEN + ap_req.len() + krb_priv.len();
    let too_large = |what: &str, n: usize| KpasswdError::TooLarge {
        reason: format!("{what} is {n} bytes"),
    };
    let total16 = u16::try_from(total).map_err(|_| too_large("the message", total))?;
    let ap16 = u16::try_from(ap_req.len()).map_err(|_| too_large("the AP-REQ", ap_req.len()))?;
    let mut v = Vec::with_capacity(total);
    v.extend_from_slice(&total16.to_be_bytes());
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&ap16.to_be_bytes());
    v.extend_from_slice(ap_req);
    v.extend_from_slice(krb_priv);
    Ok(v)
}

/// A message split at its lengths.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub(crate) version: u16,
    /// The AP-REQ or AP-REP (empty in an error reply).
    pub(crate) ap: &'a [u8],
    /// The KRB-PRIV or KRB-ERROR.
    pub(crate) rest: &'a [u8],
}

/// Splits a message, checking its lengths and version.
pub(crate) fn unframe(bytes: &[u8]) -> Result<Frame<'_>, KpasswdError> {
    let word = |i: usize| {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let (Some(len), Some(version), Some(ap_len)) = (word(0), word(2), word(4)) else {
        return Err(malformed(format!(
            "{} bytes, shorter than the header",
            bytes.len()
        )));
    };
    if usize::from(len) != bytes.len() {
        return Err(malformed(format!(
            "the message says {len} bytes but {} arrived",
            bytes.len()
        )));
    }
    if version != VERSION_CHANGE && version != VERSION_SET {
        return Err(malformed(format!(
            "unknown protocol version {version:#06x}"
        )));
    }
    let body = &bytes[HEADER_LEN..];
    let ap_len = usize::from(ap_len);
    let (Some(ap), Some(rest)) = (body.get(..ap_len), body.get(ap_len..)) else {
        return Err(malformed(format!(
            "an AP-REP of {ap_len} bytes in a {}-byte message",
            bytes.len()
        )));
    };
    if rest.is_empty() {
        return Err(malformed("no KRB-PRIV or KRB-ERROR after the AP-REP"));
    }
    Ok(Frame { version, ap, rest })
}

/// Result code (u16) and result string.
fn split_result(data: &[u8]) -> Result<(ResultCode, &[u8]), KpasswdError> {
    match data {
        [a, b, rest @ ..] => Ok((ResultCode(u16::from_be_bytes([*a, *b])), rest)),
        _ => Err(malformed("a result shorter than its 2-byte code")),
    }
}

/// The result string as text: UTF-8 (Samba adds a NUL), printable characters only.
fn result_text(data: &[u8]) -> String {
    String::from_utf8_lossy(data)
        .trim_end_matches('\0')
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// kadmin/changepw@REALM, the kpasswd service.
pub fn changepw_principal(realm: &str) -> PrincipalName {
    PrincipalName::new(PrincipalName::NT_SRV_INST, ["kadmin", "changepw"], realm)
}

/// The kpasswd servers that sit with these KDCs: same hosts, port 464 (as MIT does
/// without `kpasswd_server`; AD DCs run both services).
pub fn kpasswd_servers(kdcs: &KdcConfig) -> KdcConfig {
    KdcConfig {
        kdcs: kdcs
            .kdcs
            .iter()
            .map(|a| SocketAddr::new(a.ip(), KPASSWD_PORT))
            .collect(),
        ..kdcs.clone()
    }
}

/// Sends a request with `creds` (a kadmin/changepw ticket) to each kpasswd server in
/// turn until one answers, and reads its verdict. The sender address is the local
/// address that reaches the server.
pub async fn exchange(
    creds: &Credentials,
    change: &PasswordChange,
    new_password: &str,
    servers: &KdcConfig,
    clock: &(dyn Fn() -> SystemTime + Sync),
) -> Result<(), KpasswdError> {
    let mut tried = Vec::new();
    for &server in &servers.kdcs {
        let sender = local_address(server)
            .await
            .map_or(SenderAddress::Directional, SenderAddress::Ip);
        let mut x = KpasswdExchange::new(creds.clone(), change.clone())?;
        let req = x.request(new_password, sender, clock())?;
        let one = KdcConfig {
            kdcs: vec![server],
            ..servers.clone()
        };
        match kdc::send(&one, &req).await {
            Ok(reply) => return x.reply(&reply, clock()),
            Err(KerberosError::KdcUnreachable { tried: t, .. }) => tried.push(t),
            Err(e) => return Err(e.into()),
        }
    }
    if tried.is_empty() {
        tried.push("no kpasswd server configured".into());
    }
    Err(KpasswdError::Unreachable {
        realm: creds.server.realm.clone(),
        tried: tried.join("; "),
    })
}

/// The local address the kernel picks to reach `server` (a connected UDP socket sends
/// nothing).
async fn local_address(server: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = tokio::net::UdpSocket::bind(any).await.ok()?;
    socket.connect(server).await.ok()?;
    Some(socket.local_addr().ok()?.ip())
}

/// What a kadmin/changepw ticket is asked for with: short, not forwardable, no renewal
/// (Heimdal and AD cap its lifetime at 2-5 minutes anyway).
fn changepw_options() -> AsOptions {
    AsOptions {
        lifetime: Duration::from_secs(5 * 60),
        renew_lifetime: None,
        forwardable: false,
        ..AsOptions::default()
    }
}

/// Changes `client`'s password from `old` to `new`: a kadmin/changepw ticket from the AS
/// with the old password (an initial ticket, which a change needs; the AS issues it even
/// when the password has expired), then the change.
pub async fn change_password(
    client: PrincipalName,
    old: Zeroizing<String>,
    new: &str,
    kdcs: &KdcConfig,
    servers: &KdcConfig,
) -> Result<(), KpasswdError> {
    let principal = client.to_string();
    let service = changepw_principal(&client.realm);
    let x = AsExchange::for_service(
        client,
        service,
        ClientSecret::Password(old),
        changepw_options(),
    );
    let creds = kdc::initial_credentials(x, kdcs, &SystemTime::now)
        .await
        .map_err(|e| match e {
            KerberosError::WrongPassword { .. } => KpasswdError::WrongOldPassword { principal },
            e => e.into(),
        })?;
    exchange(
        &creds,
        &PasswordChange::Change,
        new,
        servers,
        &SystemTime::now,
    )
    .await
}

/// Sets `target`'s password to `new` with `creds`: a TGT (a kadmin/changepw ticket is
/// then fetched from the TGS) or a kadmin/changepw ticket already.
pub async fn set_password(
    creds: &Credentials,
    target: &PrincipalName,
    new: &str,
    kdcs: &KdcConfig,
    servers: &KdcConfig,
) -> Result<(), KpasswdError> {
    let service = changepw_principal(&creds.client.realm);
    let ticket = if creds.server.matches(&service) {
        creds.clone()
    } else {
        kdc::service_ticket(creds.clone(), service, kdcs, &SystemTime::now).await?
    };
    let change = PasswordChange::Set {
        target: target.clone(),
    };
    exchange(&ticket, &change, new, servers, &SystemTime::now).await
}

/// The client's own credentials for a set-password: a kadmin/changepw ticket from the
/// AS with `secret` (for admins who have a password or keytab but no TGT).
pub async fn changepw_credentials(
    client: PrincipalName,
    secret: ClientSecret,
    kdcs: &KdcConfig,
) -> Result<Credentials, KpasswdError> {
    let service = changepw_principal(&client.realm);
    let x = AsExchange::for_service(client, service, secret, changepw_options());
    Ok(kdc::initial_credentials(x, kdcs, &SystemTime::now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EncryptionType;
    use crate::krb::Acceptor;
    use crate::krb::mint::{self, TicketSpec};

    const NOW: u64 = 1_700_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW) + Duration::from_micros(123_456)
    }

    fn spec() -> TicketSpec {
        TicketSpec {
            service: changepw_principal("EXAMPLE.TEST"),
            service_key: Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[9; 32]).unwrap(),
            kvno: 1,
            client: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "EXAMPLE.TEST"),
            auth_time: now(),
            lifetime: Duration::from_secs(300),
            pac: None,
            session_key: Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[5; 32]).unwrap(),
        }
    }

    /// A kpasswd server in memory: accepts the AP-REQ with the kadmin/changepw key, opens
    /// the KRB-PRIV, answers `result` as Samba does (AP-REP with a subkey, KRB-PRIV).
    struct Server {
        acceptor: Acceptor,
        subkey: Option<Key>,
    }

    impl Server {
        fn new() -> Self {
            Self {
                acceptor: Acceptor::new(mint::keytab_for(&spec())),
                subkey: Some(Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[3; 32]).unwrap()),
            }
        }

        /// The request's version and the plaintext of its KRB-PRIV, and the reply.
        fn answer(&mut self, request: &[u8], result: &[u8]) -> (u16, Vec<u8>, Vec<u8>) {
            let f = unframe(request).unwrap();
            let accepted = self.acceptor.accept(f.ap, now()).unwrap();
            let client_subkey = accepted.subkey.clone().unwrap();
            let part = open(&client_subkey, f.rest);
            assert_eq!(part.seq_number, accepted.seq_number);
            assert_eq!(part.sender_address.addr_type, k::HostAddress::DIRECTIONAL);
            let ap_rep = Acceptor::ap_rep(&accepted, self.subkey.as_ref(), Some(77)).unwrap();
            let key = self.subkey.as_ref().unwrap_or(&client_subkey);
            let reply = frame(VERSION_CHANGE, &ap_rep, &seal(key, result, Some(77))).unwrap();
            (f.version, part.user_data.to_vec(), reply)
        }
    }

    fn open(key: &Key, krb_priv: &[u8]) -> k::EncKrbPrivPart {
        let msg: k::KrbPriv = rasn::der::decode(krb_priv).unwrap();
        let plain = key
            .decrypt(KeyUsage::KRB_PRIV_ENC_PART, &msg.enc_part.cipher)
            .unwrap();
        rasn::der::decode(&plain).unwrap()
    }

    fn seal(key: &Key, data: &[u8], seq_number: Option<u32>) -> Vec<u8> {
        let part = k::EncKrbPrivPart {
            user_data: data.to_vec().into(),
            timestamp: None,
            usec: None,
            seq_number,
            sender_address: SenderAddress::Ip([127, 0, 0, 2].into()).host_address(),
            recipient_address: None,
        };
        let cipher = key
            .encrypt(KeyUsage::KRB_PRIV_ENC_PART, &wire::der(&part))
            .unwrap();
        wire::der(&k::KrbPriv {
            pvno: 5.into(),
            msg_type: 21.into(),
            enc_part: k::EncryptedData {
                etype: key.etype().value(),
                kvno: None,
                cipher: cipher.into(),
            },
        })
    }

    fn result(code: u16, text: &[u8]) -> Vec<u8> {
        let mut v = code.to_be_bytes().to_vec();
        v.extend_from_slice(text);
        v
    }

    fn exchange(change: PasswordChange) -> (KpasswdExchange, KdcRequest) {
        let creds = mint::issue(&spec()).unwrap();
        let mut x = KpasswdExchange::new(creds, change).unwrap();
        let req = x
            .request("N3w-Passw0rd!", SenderAddress::Directional, now())
            .unwrap();
        (x, req)
    }

    fn run(change: PasswordChange, result: &[u8]) -> Result<(), KpasswdError> {
        let (x, req) = exchange(change);
        let (_, _, reply) = Server::new().answer(&req.bytes, result);
        x.reply(&reply, now())
    }

    fn bob() -> PasswordChange {
        PasswordChange::Set {
            target: PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["bob"], ""),
        }
    }

    #[test]
    fn change_request_frames_an_ap_req_and_the_password() {
        let (x, req) = exchange(PasswordChange::Change);
        assert_eq!(req.realm, "EXAMPLE.TEST");
        assert_eq!(
            &req.bytes[..2],
            &u16::try_from(req.bytes.len()).unwrap().to_be_bytes()
        );
        let (version, data, reply) = Server::new().answer(&req.bytes, &result(0, b"ok"));
        assert_eq!(version, VERSION_CHANGE);
        assert_eq!(data, b"N3w-Passw0rd!");
        x.reply(&reply, now()).unwrap();
    }

    #[test]
    fn rfc3244_set_request_carries_change_passwd_data() {
        let (_, req) = exchange(bob());
        let (version, data, _) = Server::new().answer(&req.bytes, &result(0, b""));
        assert_eq!(version, VERSION_SET);
        let chpw: ChangePasswdData = rasn::der::decode(&data).unwrap();
        assert_eq!(&chpw.newpasswd[..], b"N3w-Passw0rd!");
        assert_eq!(wire::der(&chpw), data, "DER round trip");
        let name = chpw.targname.unwrap();
        assert_eq!(name.string.len(), 1);
        assert_eq!(&name.string[0][..], b"bob");
        assert_eq!(
            &chpw.targrealm.unwrap()[..],
            b"EXAMPLE.TEST",
            "the client's realm"
        );
    }

    #[test]
    fn ip_sender_addresses_use_their_rfc4120_types() {
        let v4 = SenderAddress::Ip([10, 0, 0, 1].into()).host_address();
        assert_eq!((v4.addr_type, &v4.address[..]), (2, &[10, 0, 0, 1][..]));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(SenderAddress::Ip(mapped).host_address(), v4);
        let v6 = SenderAddress::Ip("fe80::1".parse().unwrap()).host_address();
        assert_eq!((v6.addr_type, v6.address.len()), (24, 16));
    }

    type Check = fn(&KpasswdError) -> bool;

    #[test]
    fn every_result_code_has_its_error() {
        let text = b"why\0";
        assert!(run(PasswordChange::Change, &result(0, b"Password changed\0")).is_ok());
        let cases: [(u16, Check); 8] = [
            (
                1,
                |e| matches!(e, KpasswdError::RequestMalformed { text } if text == "why"),
            ),
            (2, |e| {
                matches!(
                    e,
                    KpasswdError::Server {
                        code: ResultCode::HARD_ERROR,
                        ..
                    }
                )
            }),
            (3, |e| matches!(e, KpasswdError::AuthError { .. })),
            (
                4,
                |e| matches!(e, KpasswdError::Policy { policy: None, reasons } if reasons == "why"),
            ),
            (
                5,
                |e| matches!(e, KpasswdError::AccessDenied { target, .. } if target == "bob"),
            ),
            (6, |e| {
                matches!(
                    e,
                    KpasswdError::BadVersion {
                        version: VERSION_SET,
                        ..
                    }
                )
            }),
            (7, |e| matches!(e, KpasswdError::InitialTicketNeeded { .. })),
            (9, |e| {
                matches!(
                    e,
                    KpasswdError::Server {
                        code: ResultCode(9),
                        ..
                    }
                )
            }),
        ];
        for (code, check) in cases {
            let e = run(bob(), &result(code, text)).unwrap_err();
            assert!(check(&e), "code {code}: {e:?}");
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn windows_policy_blob_becomes_reasons() {
        let policy = PasswordPolicy {
            min_length: 7,
            history: 24,
            properties: PasswordPolicy::COMPLEX,
            max_age: -36_288_000_000_000,
            min_age: -864_000_000_000,
        };
        assert_eq!(PasswordPolicy::decode(&policy.encode()), Some(policy));
        let e = run(PasswordChange::Change, &result(4, &policy.encode())).unwrap_err();
        let msg = e.to_string();
        for want in [
            "does not meet the domain policy",
            "at least 7 characters",
            "not one of the last 24",
            "complexity required",
            "every 1 day",
        ] {
            assert!(msg.contains(want), "{msg}");
        }
        assert!(matches!(e, KpasswdError::Policy { policy: Some(p), .. } if p.min_length == 7));
    }

    #[test]
    fn a_reply_without_server_subkey_is_under_ours() {
        let (x, req) = exchange(PasswordChange::Change);
        let mut server = Server::new();
        server.subkey = None;
        let (_, _, reply) = server.answer(&req.bytes, &result(0, b""));
        x.reply(&reply, now()).unwrap();
    }

    fn krb_error(code: i32, e_data: Option<Vec<u8>>) -> Vec<u8> {
        wire::der(&k::KrbError {
            pvno: 5.into(),
            msg_type: 30.into(),
            ctime: None,
            cusec: None,
            stime: wire::ktime(now()),
            susec: 0.into(),
            error_code: code,
            crealm: None,
            cname: None,
            realm: wire::kstring("EXAMPLE.TEST"),
            sname: wire::to_wire_name(&changepw_principal("EXAMPLE.TEST")),
            e_text: None,
            e_data: e_data.map(Into::into),
        })
    }

    #[test]
    fn samba_error_reply_is_a_framed_krb_error_with_the_result() {
        let (x, _) = exchange(PasswordChange::Change);
        let err = krb_error(7, Some(result(7, b"Expected an initial ticket\0")));
        let reply = frame(VERSION_CHANGE, &[], &err).unwrap();
        let e = x.reply(&reply, now()).unwrap_err();
        assert!(
            matches!(e, KpasswdError::InitialTicketNeeded { ref text } if text == "Expected an initial ticket"),
            "{e:?}"
        );
    }

    #[test]
    fn bare_krb_error_without_result_is_a_kerberos_error() {
        let (x, _) = exchange(PasswordChange::Change);
        let e = x.reply(&krb_error(37, None), now()).unwrap_err();
        assert!(
            matches!(e, KpasswdError::Kerberos(KerberosError::ClockSkew { .. })),
            "{e:?}"
        );
    }

    #[test]
    fn an_ap_rep_under_another_key_is_refused() {
        let (x, req) = exchange(PasswordChange::Change);
        let (_, _, reply) = Server::new().answer(&req.bytes, &result(0, b""));
        let mut spec = spec();
        spec.session_key = Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[6; 32]).unwrap();
        let mut other =
            KpasswdExchange::new(mint::issue(&spec).unwrap(), PasswordChange::Change).unwrap();
        other.sent = x.sent;
        assert!(other.reply(&reply, now()).is_err());
    }

    #[test]
    fn malformed_frames_are_errors() {
        let (x, req) = exchange(PasswordChange::Change);
        let (_, _, reply) = Server::new().answer(&req.bytes, &result(0, b""));
        for cut in 0..reply.len() {
            assert!(x.reply(&reply[..cut], now()).is_err(), "cut at {cut}");
        }
        let mut bad_len = reply.clone();
        bad_len[1] ^= 1;
        assert!(matches!(
            x.reply(&bad_len, now()),
            Err(KpasswdError::Malformed { .. })
        ));
        let mut bad_version = reply.clone();
        bad_version[3] = 7;
        assert!(matches!(
            x.reply(&bad_version, now()),
            Err(KpasswdError::Malformed { .. })
        ));
        let mut long_ap = reply.clone();
        long_ap[4] = 0xff;
        assert!(matches!(
            x.reply(&long_ap, now()),
            Err(KpasswdError::Malformed { .. })
        ));
        for junk in [
            &b""[..],
            b"\x00\x06\x00\x01\x00\x00",
            b"\x00\x07\x00\x01\x00\x00\x30",
        ] {
            assert!(x.reply(junk, now()).is_err());
        }
        assert!(split_result(&[4]).is_err());
    }

    #[test]
    fn oversized_requests_are_refused() {
        let big = vec![0; 70_000];
        assert!(matches!(
            frame(1, &big, b"x"),
            Err(KpasswdError::TooLarge { .. })
        ));
    }

    #[test]
    fn kpasswd_servers_sit_on_the_kdc_hosts() {
        let kdcs = KdcConfig::new(vec!["127.0.0.2:88".parse().unwrap()]);
        assert_eq!(
            kpasswd_servers(&kdcs).kdcs,
            vec!["127.0.0.2:464".parse().unwrap()]
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_replies_never_panic(data: Vec<u8>) {
            let (x, _) = exchange(PasswordChange::Change);
            let _ = x.reply(&data, now());
            let _ = PasswordPolicy::decode(&data);
            let _ = unframe(&data);
        }

        #[test]
        fn mutated_replies_never_panic(at: usize, bit: u8) {
            let (x, req) = exchange(bob());
            let (_, _, mut reply) = Server::new().answer(&req.bytes, &result(0, b""));
            let i = at % reply.len();
            reply[i] ^= 1 << (bit % 8);
            let _ = x.reply(&reply, now());
        }
    }
}
