//! The Authentication Service exchange (RFC 4120 3.1) without I/O: the caller sends each
//! [`KdcRequest`] and feeds the reply back to [`AsExchange::step`] until it yields
//! [`Credentials`].
//!
//! ```text
//! client                                KDC
//!   AS-REQ (no pre-auth) ------------->
//!        <------------- KRB-ERROR PREAUTH_REQUIRED + ETYPE-INFO2 (etype, salt, s2kparams)
//!   AS-REQ + PA-ENC-TIMESTAMP -------->        (key = string-to-key(password, salt))
//!        <------------- AS-REP (ticket, enc-part under the client key)
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rasn_kerberos as k;
use zeroize::Zeroizing;

use super::error::KerberosError;
use super::wire::{self, pa};
use super::{Credentials, KdcRequest};
use crate::crypto::{EncryptionType, Key, KeyUsage, string_to_key};
use crate::principal::PrincipalName;

/// RFC 4120 5.4.1 KDC options (bit 0 is the most significant bit of the word). The
/// FORWARDABLE and RENEWABLE bits sit where the ticket flags of the same name do.
pub mod kdc_options {
    /// The ticket may be forwarded.
    pub const FORWARDABLE: u32 = 1 << (31 - 1);
    /// The ticket may be renewed.
    pub const RENEWABLE: u32 = 1 << (31 - 8);
    /// RFC 6806: the KDC may canonicalize names (needed for enterprise names and AD).
    pub const CANONICALIZE: u32 = 1 << (31 - 15);
    /// Accept a renewable ticket shorter than asked.
    pub const RENEWABLE_OK: u32 = 1 << (31 - 27);
}

/// What to ask the KDC for.
#[derive(Debug, Clone)]
pub struct AsOptions {
    /// Ticket lifetime asked for.
    pub lifetime: Duration,
    /// Renewable lifetime asked for, if any.
    pub renew_lifetime: Option<Duration>,
    /// Encryption types offered, most preferred first.
    pub etypes: Vec<EncryptionType>,
    /// Ask for a forwardable ticket.
    pub forwardable: bool,
    /// Ask for a PAC (MS-KILE PA-PAC-REQUEST).
    pub request_pac: bool,
}

impl Default for AsOptions {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(10 * 3600),
            renew_lifetime: Some(Duration::from_secs(7 * 24 * 3600)),
            etypes: vec![
                EncryptionType::AES256_CTS_HMAC_SHA1_96,
                EncryptionType::AES128_CTS_HMAC_SHA1_96,
            ],
            forwardable: true,
            request_pac: true,
        }
    }
}

/// What proves the client's identity.
pub enum ClientSecret {
    /// A password: keys are made with the salt the KDC names.
    Password(Zeroizing<String>),
    /// Long-term keys, e.g. from a keytab: the one of the etype the KDC picks is used.
    Keys(Vec<Key>),
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password(_) => f.write_str("Password(<redacted>)"),
            Self::Keys(k) => write!(f, "Keys({} keys)", k.len()),
        }
    }
}

/// The next thing to do.
#[derive(Debug)]
pub enum AsStep {
    /// Send this request and feed the reply to `step` again.
    Send(KdcRequest),
    /// Done: the TGT (or the service ticket asked for).
    Done(Box<Credentials>),
}

/// An AS exchange in progress.
#[derive(Debug)]
pub struct AsExchange {
    client: PrincipalName,
    server: PrincipalName,
    secret: ClientSecret,
    options: AsOptions,
    nonce: u32,
    /// The key pre-authentication used, kept to decrypt the AS-REP.
    key: Option<Key>,
    preauth_sent: bool,
}

impl AsExchange {
    /// Starts an exchange for `client` (with its realm) asking for a TGT.
    pub fn new(client: PrincipalName, secret: ClientSecret, options: AsOptions) -> Self {
        let server = PrincipalName::krbtgt(&client.realm);
        Self::for_service(client, server, secret, options)
    }

    /// Starts an exchange asking for a ticket to `server` directly (e.g. kadmin/changepw
    /// for kpasswd, which RFC 3244 wants from the AS).
    pub fn for_service(
        client: PrincipalName,
        server: PrincipalName,
        secret: ClientSecret,
        options: AsOptions,
    ) -> Self {
        let nonce = random_nonce();
        Self {
            client,
            server,
            secret,
            options,
            nonce,
            key: None,
            preauth_sent: false,
        }
    }

    /// The first request: no pre-authentication, so the KDC tells which etype and salt
    /// it wants (RFC 4120 3.1.1, as MIT and Windows clients do).
    pub fn start(&self, now: SystemTime) -> KdcRequest {
        self.request(now, Vec::new())
    }

    /// Feeds a KDC reply; `now` is the current time (used for pre-authentication and the
    /// clock-skew message).
    pub fn step(&mut self, reply: &[u8], now: SystemTime) -> Result<AsStep, KerberosError> {
        if reply.first() == Some(&wire::KRB_ERROR_TAG) {
            let e: k::KrbError = wire::decode(reply, "KRB-ERROR")?;
            let code = super::KrbErrorCode(e.error_code);
            if code == super::KrbErrorCode::KDC_ERR_PREAUTH_REQUIRED && !self.preauth_sent {
                return self.preauth(&e, now).map(AsStep::Send);
            }
            return Err(wire::krb_error(&e, &self.client, now));
        }
        let rep: k::AsRep = wire::decode(reply, "AS-REP")?;
        self.finish(rep.0).map(|c| AsStep::Done(Box::new(c)))
    }

    fn request(&self, now: SystemTime, mut padata: Vec<k::PaData>) -> KdcRequest {
        if self.options.request_pac {
            let pac = wire::KerbPaPacRequest { include_pac: true };
            padata.push(wire::padata(pa::PAC_REQUEST, wire::der(&pac)));
        }
        let mut options = kdc_options::CANONICALIZE | kdc_options::RENEWABLE_OK;
        if self.options.forwardable {
            options |= kdc_options::FORWARDABLE;
        }
        let rtime = self.options.renew_lifetime.map(|r| {
            options |= kdc_options::RENEWABLE;
            wire::ktime(now + r)
        });
        let body = k::KdcReqBody {
            kdc_options: k::KdcOptions(wire::flags(options)),
            cname: Some(wire::to_wire_name(&self.client)),
            realm: wire::kstring(&self.client.realm),
            sname: Some(wire::to_wire_name(&self.server)),
            from: None,
            till: wire::ktime(now + self.options.lifetime),
            rtime,
            nonce: self.nonce,
            etype: self.options.etypes.iter().map(|e| e.value()).collect(),
            addresses: None,
            enc_authorization_data: None,
            additional_tickets: None,
        };
        let req = k::AsReq(k::KdcReq {
            pvno: 5.into(),
            msg_type: 10.into(),
            padata: (!padata.is_empty()).then_some(padata),
            req_body: body,
        });
        KdcRequest {
            realm: self.client.realm.clone(),
            bytes: wire::der(&req),
        }
    }

    /// PREAUTH_REQUIRED: make the key the KDC asks for and prove we hold it.
    fn preauth(&mut self, e: &k::KrbError, now: SystemTime) -> Result<KdcRequest, KerberosError> {
        let hints = e
            .e_data
            .as_ref()
            .and_then(|d| rasn::der::decode::<k::MethodData>(d).ok())
            .map(|m| etype_hints(&m))
            .unwrap_or_default();
        let key = self.client_key(&hints)?;
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let ts = k::PaEncTsEnc {
            patimestamp: wire::ktime(now),
            pausec: Some(since.subsec_micros().into()),
        };
        let cipher = key.encrypt(KeyUsage::AS_REQ_PA_ENC_TIMESTAMP, &wire::der(&ts))?;
        let enc = k::EncryptedData {
            etype: key.etype().value(),
            kvno: None,
            cipher: cipher.into(),
        };
        self.key = Some(key);
        self.preauth_sent = true;
        Ok(self.request(now, vec![wire::padata(pa::ENC_TIMESTAMP, wire::der(&enc))]))
    }

    /// The client key for the first etype the KDC lists that we offered.
    fn client_key(&self, hints: &[EtypeHint]) -> Result<Key, KerberosError> {
        let default_salt = self.client.default_salt();
        let offered = &self.options.etypes;
        let pick = hints
            .iter()
            .find(|h| offered.contains(&h.etype))
            .cloned()
            .or_else(|| {
                // No ETYPE-INFO2 (RFC 4120 allows it): our first choice, default salt.
                offered.first().map(|&etype| EtypeHint {
                    etype,
                    salt: None,
                    params: None,
                })
            })
            .ok_or_else(|| KerberosError::NoCommonEtype {
                offered: names(offered),
            })?;
        self.key_for(&pick, &default_salt)
    }

    fn key_for(&self, hint: &EtypeHint, default_salt: &[u8]) -> Result<Key, KerberosError> {
        match &self.secret {
            ClientSecret::Password(pw) => {
                let salt = hint.salt.as_deref().unwrap_or(default_salt);
                Ok(string_to_key(hint.etype, pw, salt, hint.params.as_deref())?)
            }
            ClientSecret::Keys(keys) => keys
                .iter()
                .find(|k| k.etype() == hint.etype)
                .cloned()
                .ok_or_else(|| KerberosError::NoKey {
                    principal: self.client.to_string(),
                    etype: format!("{:?}", hint.etype),
                }),
        }
    }

    /// AS-REP: decrypt the enc-part, check it answers our request, collect the ticket.
    fn finish(&self, rep: k::KdcRep) -> Result<Credentials, KerberosError> {
        let etype = EncryptionType::new(rep.enc_part.etype);
        let key = match &self.key {
            Some(k) if k.etype() == etype => k.clone(),
            _ => {
                // No pre-auth happened, or the KDC used another etype: its padata says how.
                let hints = rep.padata.as_deref().map(etype_hints).unwrap_or_default();
                let hint = hints
                    .into_iter()
                    .find(|h| h.etype == etype)
                    .unwrap_or(EtypeHint {
                        etype,
                        salt: None,
                        params: None,
                    });
                self.key_for(&hint, &self.client.default_salt())?
            }
        };
        let plain = Zeroizing::new(key.decrypt(KeyUsage::AS_REP_ENC_PART, &rep.enc_part.cipher)?);
        let part = enc_rep_part(&plain)?;
        if part.nonce != self.nonce {
            return Err(KerberosError::ReplyMismatch {
                reason: format!("nonce {} instead of {}", part.nonce, self.nonce),
            });
        }
        let client = wire::from_wire_name(&rep.cname, &rep.crealm)?;
        if !client.realm.eq_ignore_ascii_case(&self.client.realm) && client.components.is_empty() {
            return Err(KerberosError::ReplyMismatch {
                reason: "the AS-REP names no client".into(),
            });
        }
        Credentials::from_reply(client, &rep.ticket, &part)
    }
}

/// EncASRepPart ([APPLICATION 25]); some KDCs (Windows) send EncTGSRepPart ([APPLICATION
/// 26]) in an AS-REP, which MIT and Heimdal accept too.
pub(crate) fn enc_rep_part(plain: &[u8]) -> Result<k::EncKdcRepPart, KerberosError> {
    match plain.first() {
        Some(0x7a) => wire::decode::<k::EncTgsRepPart>(plain, "EncTGSRepPart").map(|p| p.0),
        _ => wire::decode::<k::EncAsRepPart>(plain, "EncASRepPart").map(|p| p.0),
    }
}

/// One ETYPE-INFO2 entry (RFC 4120 5.2.7.5), or ETYPE-INFO (5.2.7.4).
#[derive(Debug, Clone)]
struct EtypeHint {
    etype: EncryptionType,
    salt: Option<Vec<u8>>,
    params: Option<Vec<u8>>,
}

fn etype_hints(method: &[k::PaData]) -> Vec<EtypeHint> {
    let info2 = method
        .iter()
        .filter(|p| p.r#type == pa::ETYPE_INFO2)
        .filter_map(|p| rasn::der::decode::<k::EtypeInfo2>(&p.value).ok())
        .flatten()
        .map(|e| EtypeHint {
            etype: EncryptionType::new(e.etype),
            salt: e.salt.map(|s| s.to_vec()),
            params: e.s2kparams.map(|p| p.to_vec()),
        });
    let info = method
        .iter()
        .filter(|p| p.r#type == pa::ETYPE_INFO)
        .filter_map(|p| rasn::der::decode::<k::EtypeInfo>(&p.value).ok())
        .flatten()
        .map(|e| EtypeHint {
            etype: EncryptionType::new(e.etype),
            salt: e.salt.map(|s| s.to_vec()),
            params: None,
        });
    info2.chain(info).collect()
}

fn names(etypes: &[EncryptionType]) -> String {
    let v: Vec<String> = etypes.iter().map(|e| format!("{e:?}")).collect();
    v.join(", ")
}

/// Nonces only need to be unpredictable enough to tie a reply to its request.
pub(crate) fn random_nonce() -> u32 {
    let mut b = [0u8; 4];
    // getrandom failing means no OS randomness at all; a time-based nonce still works.
    if getrandom::fill(&mut b).is_err() {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        b = t.subsec_nanos().to_le_bytes();
    }
    u32::from_le_bytes(b) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange() -> AsExchange {
        AsExchange::new(
            PrincipalName::new(1, ["alice"], "EXAMPLE.TEST"),
            ClientSecret::Password(Zeroizing::new("pw".into())),
            AsOptions::default(),
        )
    }

    #[test]
    fn first_request_is_a_well_formed_as_req() {
        let x = exchange();
        let req = x.start(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let back: k::AsReq = rasn::der::decode(&req.bytes).unwrap();
        assert_eq!(req.bytes[0], 0x6a, "[APPLICATION 10]");
        let body = &back.0.req_body;
        assert_eq!(body.nonce, x.nonce);
        assert_eq!(body.etype, vec![18, 17]);
        let sname = body.sname.as_ref().unwrap();
        assert_eq!(sname.string.len(), 2);
        let pa = back.0.padata.unwrap();
        assert_eq!(pa[0].r#type, pa::PAC_REQUEST);
        assert_eq!(req.realm, "EXAMPLE.TEST");
        let opts = wire::flags_word(&body.kdc_options.0);
        assert_ne!(opts & kdc_options::FORWARDABLE, 0);
        assert_ne!(opts & kdc_options::CANONICALIZE, 0);
    }

    #[test]
    fn garbage_replies_are_errors() {
        let mut x = exchange();
        for reply in [&b""[..], b"\x7e\x03\x02\x01\x05", b"\x6b\x00", b"\x30\x80"] {
            assert!(x.step(reply, SystemTime::now()).is_err());
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_replies_never_panic(data: Vec<u8>) {
            let mut x = exchange();
            let _ = x.step(&data, SystemTime::now());
        }
    }
}
