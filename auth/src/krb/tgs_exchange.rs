//! The Ticket-Granting Service exchange (RFC 4120 3.3) without I/O: a service ticket
//! from a TGT. The request carries an AP-REQ (PA-TGS-REQ) whose authenticator checksums
//! the request body; the reply's enc-part is under the TGT session key (usage 8).
//!
//! Referrals (RFC 6806, MS-KILE 3.3.5.7.5): with `canonicalize` an AD KDC may answer with a
//! TGT for another realm (a trusted domain's) instead of the service ticket.
//! [`TgsExchange::answer`] tells the two apart; [`super::kdc::service_ticket_via_referrals`]
//! follows the chain, asking each realm's KDC in turn.

use std::time::SystemTime;

use rasn_kerberos as k;
use zeroize::Zeroizing;

use super::ap_req::{self, ApReqParts};
use super::as_exchange::{enc_rep_part, kdc_options, random_nonce};
use super::error::KerberosError;
use super::wire::{self, pa};
use super::{Credentials, KdcRequest, KrbErrorCode};
use crate::crypto::KeyUsage;
use crate::principal::PrincipalName;

/// What a KDC answered to a TGS request.
#[derive(Debug)]
pub enum TgsAnswer {
    /// The ticket asked for (for a `krbtgt/` request, a TGT: maybe for a realm on the way).
    Ticket(Credentials),
    /// A referral: a TGT for `realm`, whose KDC is to be asked next.
    Referral {
        /// The realm referred to.
        realm: String,
        /// The cross-realm TGT (`krbtgt/REALM@ISSUER`).
        tgt: Credentials,
    },
}

/// A TGS exchange: one request, one reply.
#[derive(Debug)]
pub struct TgsExchange {
    tgt: Credentials,
    server: PrincipalName,
    nonce: u32,
}

impl TgsExchange {
    /// Asks for a ticket to `server` with `tgt`. The server's realm defaults to the TGT's.
    pub fn new(tgt: Credentials, mut server: PrincipalName) -> Self {
        if server.realm.is_empty() {
            server.realm.clone_from(&tgt.client.realm);
        }
        Self {
            tgt,
            server,
            nonce: random_nonce(),
        }
    }

    /// The request to send to the TGT's realm.
    pub fn request(&self, now: SystemTime) -> Result<KdcRequest, KerberosError> {
        // Ask only for what the TGT has: a KDC answers KDC_ERR_BADOPTION to a forwardable
        // request with a TGT that is not (MIT kinit without -f).
        let mut options = kdc_options::CANONICALIZE;
        if self.tgt.flags & kdc_options::FORWARDABLE != 0 {
            options |= kdc_options::FORWARDABLE;
        }
        let renewable = self.tgt.flags & kdc_options::RENEWABLE != 0;
        if renewable {
            options |= kdc_options::RENEWABLE | kdc_options::RENEWABLE_OK;
        }
        let body = k::KdcReqBody {
            kdc_options: k::KdcOptions(wire::flags(options)),
            cname: None,
            realm: wire::kstring(&self.server.realm),
            sname: Some(wire::to_wire_name(&self.server)),
            from: None,
            till: wire::ktime(self.tgt.end_time.max(now)),
            rtime: self.tgt.renew_till.filter(|_| renewable).map(wire::ktime),
            nonce: self.nonce,
            etype: crate::crypto::EncryptionType::SUPPORTED
                .iter()
                .map(|e| e.value())
                .collect(),
            addresses: None,
            enc_authorization_data: None,
            additional_tickets: None,
        };
        // RFC 4120 7.2.1: the authenticator checksum covers the DER of the request body.
        let key = &self.tgt.session_key;
        let cksumtype = key
            .etype()
            .checksum_type()
            .ok_or(KerberosError::NoCommonEtype {
                offered: format!("{:?}", key.etype()),
            })?;
        let mic = key.get_mic(KeyUsage::TGS_REQ_AUTH_CKSUM, cksumtype, &wire::der(&body))?;
        let parts = ApReqParts {
            checksum: Some(k::Checksum {
                r#type: cksumtype.value(),
                checksum: mic.into(),
            }),
            ..ApReqParts::default()
        };
        let ap_req = ap_req::build(&self.tgt, &parts, KeyUsage::TGS_REQ_AUTH, now)?;
        let req = k::TgsReq(k::KdcReq {
            pvno: 5.into(),
            msg_type: 12.into(),
            padata: Some(vec![wire::padata(pa::TGS_REQ, ap_req)]),
            req_body: body,
        });
        Ok(KdcRequest {
            realm: self.kdc_realm().to_owned(),
            bytes: wire::der(&req),
        })
    }

    /// The realm whose KDC takes this request: the one the TGT is for (`krbtgt/REALM`).
    pub fn kdc_realm(&self) -> &str {
        tgt_realm(&self.tgt)
    }

    /// Reads the reply: the service ticket, or the KDC's error. A referral is an error
    /// here ([`KerberosError::ReplyMismatch`] naming the realm); [`Self::answer`] gives it.
    pub fn reply(&self, reply: &[u8], now: SystemTime) -> Result<Credentials, KerberosError> {
        match self.answer(reply, now)? {
            TgsAnswer::Ticket(creds) => Ok(creds),
            TgsAnswer::Referral { realm, .. } => Err(KerberosError::ReplyMismatch {
                reason: format!("the KDC referred the request to realm {realm}"),
            }),
        }
    }

    /// Reads the reply: the ticket, a referral to another realm, or the KDC's error.
    pub fn answer(&self, reply: &[u8], now: SystemTime) -> Result<TgsAnswer, KerberosError> {
        if reply.first() == Some(&wire::KRB_ERROR_TAG) {
            let e: k::KrbError = wire::decode(reply, "KRB-ERROR")?;
            return Err(match KrbErrorCode(e.error_code) {
                KrbErrorCode::KDC_ERR_S_PRINCIPAL_UNKNOWN => KerberosError::UnknownService {
                    service: self.server.to_string(),
                    realm: self.server.realm.clone(),
                },
                _ => wire::krb_error(&e, &self.tgt.client, now),
            });
        }
        let rep: k::TgsRep = wire::decode(reply, "TGS-REP")?;
        let key = &self.tgt.session_key;
        let plain = Zeroizing::new(key.decrypt(
            KeyUsage::TGS_REP_ENC_PART_SESSION_KEY,
            &rep.0.enc_part.cipher,
        )?);
        let part = enc_rep_part(&plain)?;
        if part.nonce != self.nonce {
            return Err(KerberosError::ReplyMismatch {
                reason: format!("nonce {} instead of {}", part.nonce, self.nonce),
            });
        }
        let client = wire::from_wire_name(&rep.0.cname, &rep.0.crealm)?;
        let creds = Credentials::from_reply(client, &rep.0.ticket, &part)?;
        if creds.server.is_krbtgt() && !self.server.is_krbtgt() {
            let realm = tgt_realm(&creds).to_owned();
            if realm.eq_ignore_ascii_case(self.kdc_realm()) {
                return Err(KerberosError::ReplyMismatch {
                    reason: format!("the KDC of {realm} referred the request to itself"),
                });
            }
            return Ok(TgsAnswer::Referral { realm, tgt: creds });
        }
        Ok(TgsAnswer::Ticket(creds))
    }
}

/// The realm a TGT is for: REALM in `krbtgt/REALM@ISSUER` (the issuer's for anything else).
pub(crate) fn tgt_realm(tgt: &Credentials) -> &str {
    match tgt.server.components.as_slice() {
        [first, realm] if first == PrincipalName::KRBTGT => realm,
        _ => &tgt.server.realm,
    }
}
