//! Accepting a KRB_AP_REQ (RFC 4120 3.2.3) with keys from a keytab: the server side of
//! every Kerberos logon to Adjoin (SMB session setup, LDAP, RPC).
//!
//! Checks, in the order RFC 4120 3.2.3 gives them: message type and version; a key for the
//! ticket's server, kvno and etype; the ticket decrypts (usage 2); the authenticator
//! decrypts in the ticket's session key (usage 11) and names the ticket's client; the
//! authenticator time is within the allowed skew; the ticket is valid now; the
//! authenticator has not been seen before (replay cache); the PAC, if any, is decoded and
//! its server signature verified with the service key (MS-PAC 4.1.2).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use rasn_kerberos as k;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::wire;
use crate::crypto::{EncryptionType, Key, KeyUsage};
use crate::keytab::Keytab;
use crate::pac::{Pac, PacError, find_pac};
use crate::principal::PrincipalName;

/// RFC 4120 5.3 ticket flag: the ticket is invalid until validated.
const TKT_INVALID: u32 = 1 << (31 - 7);

/// Why an AP-REQ was refused. Each maps to the KRB-ERROR a server would answer with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// Not an AP-REQ, or fields out of range.
    #[error("malformed AP-REQ: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// No key for the ticket (KRB_AP_ERR_NOKEY / BADKEYVER).
    #[error(
        "the keytab has no key for {server} (kvno {kvno}, {etype}): the keytab is out of date \
         or the client asked for an SPN of another account"
    )]
    NoKey {
        /// The ticket's server.
        server: String,
        /// The ticket's key version ("?" when the ticket carries none).
        kvno: String,
        /// The ticket's etype.
        etype: String,
    },
    /// The ticket or authenticator does not decrypt (KRB_AP_ERR_BAD_INTEGRITY).
    #[error(
        "the {what} does not decrypt with the key for {server}: the machine password changed \
         without the keytab, or the ticket was forged"
    )]
    BadIntegrity {
        /// "ticket" or "authenticator".
        what: &'static str,
        /// The ticket's server.
        server: String,
    },
    /// Authenticator names another client than the ticket (KRB_AP_ERR_BADMATCH).
    #[error("the authenticator names {authenticator}, the ticket {ticket}")]
    BadMatch {
        /// The client in the ticket.
        ticket: String,
        /// The client in the authenticator.
        authenticator: String,
    },
    /// KRB_AP_ERR_SKEW.
    #[error("clock skew of {skew} s between client and server exceeds the {max} s allowed")]
    ClockSkew {
        /// Client time minus server time, seconds.
        skew: i64,
        /// The limit, seconds.
        max: u64,
    },
    /// KRB_AP_ERR_TKT_EXPIRED.
    #[error("the ticket of {client} expired {ago} s ago")]
    TicketExpired {
        /// The client.
        client: String,
        /// Seconds since expiry.
        ago: i64,
    },
    /// KRB_AP_ERR_TKT_NYV.
    #[error("the ticket of {client} is not valid yet (or is marked invalid)")]
    TicketNotYetValid {
        /// The client.
        client: String,
    },
    /// KRB_AP_ERR_REPEAT.
    #[error("replayed authenticator from {client}")]
    Replay {
        /// The client.
        client: String,
    },
    /// The PAC is malformed, its server signature does not verify, or it names another
    /// client (KRB_AP_ERR_MODIFIED).
    #[error("the PAC in the ticket of {client} is not valid: {source}")]
    BadPac {
        /// The client.
        client: String,
        /// What is wrong with it.
        source: PacError,
    },
}

impl AcceptError {
    /// The RFC 4120 7.5.9 code to put in a KRB-ERROR for this refusal.
    pub fn code(&self) -> super::KrbErrorCode {
        use super::KrbErrorCode as C;
        match self {
            Self::Malformed { .. } => C::KRB_AP_ERR_MSG_TYPE,
            Self::NoKey { .. } => C::KRB_AP_ERR_NOKEY,
            Self::BadIntegrity { .. } => C::KRB_AP_ERR_BAD_INTEGRITY,
            Self::BadMatch { .. } => C::KRB_AP_ERR_BADMATCH,
            Self::ClockSkew { .. } => C::KRB_AP_ERR_SKEW,
            Self::TicketExpired { .. } => C::KRB_AP_ERR_TKT_EXPIRED,
            Self::TicketNotYetValid { .. } => C::KRB_AP_ERR_TKT_NYV,
            Self::Replay { .. } => C::KRB_AP_ERR_REPEAT,
            Self::BadPac { .. } => C::KRB_AP_ERR_MODIFIED,
        }
    }
}

/// What an accepted AP-REQ establishes.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The authenticated client.
    pub client: PrincipalName,
    /// The service the ticket was for.
    pub server: PrincipalName,
    /// The ticket session key.
    pub session_key: Key,
    /// The subkey the client proposed in its authenticator, if any.
    pub subkey: Option<Key>,
    /// The client's initial sequence number, if any.
    pub seq_number: Option<u32>,
    /// AP options (bit 0 most significant).
    pub ap_options: u32,
    /// The authenticator checksum (RFC 4121 puts the GSS flags here).
    pub checksum: Option<(i32, Vec<u8>)>,
    /// The authenticator's time, for the AP-REP.
    pub ctime: SystemTime,
    /// The authenticator's microseconds, for the AP-REP.
    pub cusec: u32,
    /// When the client authenticated to the KDC.
    pub auth_time: SystemTime,
    /// When the ticket expires.
    pub end_time: SystemTime,
    /// Ticket flags (bit 0 most significant).
    pub ticket_flags: u32,
    /// The PAC (MS-PAC), if the ticket carries one: decoded, its server signature verified
    /// with the service key, its client info matched against the ticket.
    pub pac: Option<Pac>,
    /// The long-term service key the ticket was encrypted in (it signs the PAC).
    pub service_key: Key,
}

/// Accepts AP-REQs for the principals of a keytab.
#[derive(Debug)]
pub struct Acceptor {
    keytab: Keytab,
    max_skew: Duration,
    replay: ReplayCache,
}

impl Acceptor {
    /// An acceptor for every principal in `keytab`, with the RFC 4120 default skew of 5 min.
    pub fn new(keytab: Keytab) -> Self {
        Self {
            keytab,
            max_skew: Duration::from_secs(300),
            replay: ReplayCache::default(),
        }
    }

    /// Takes the keys of `keytab` from now on (the machine password changed); the replay
    /// cache stays, so an authenticator seen before is still refused.
    pub fn replace_keytab(&mut self, keytab: Keytab) {
        self.keytab = keytab;
    }

    /// Sets the allowed clock skew.
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// Checks an AP-REQ (the DER message, without any GSS framing) at time `now`.
    pub fn accept(&mut self, ap_req: &[u8], now: SystemTime) -> Result<Accepted, AcceptError> {
        let req: k::ApReq = decode(ap_req, "AP-REQ")?;
        if req.msg_type != 14.into() || req.pvno != 5.into() {
            return Err(malformed("not a version 5 AP-REQ"));
        }
        let server = name(&req.ticket.sname, &req.ticket.realm)?;
        let service_key = self.service_key(&server, &req.ticket.enc_part)?;
        let part = decrypt::<k::EncTicketPart>(
            &service_key,
            KeyUsage::KDC_REP_TICKET,
            &req.ticket.enc_part,
            "ticket",
            &server,
        )?;
        let session_key = to_key(&part.key)?;
        let auth = decrypt::<k::Authenticator>(
            &session_key,
            KeyUsage::AP_REQ_AUTH,
            &req.authenticator,
            "authenticator",
            &server,
        )?;
        let client = name(&part.cname, &part.crealm)?;
        let claimed = name(&auth.cname, &auth.crealm)?;
        if !claimed.matches(&client) {
            return Err(AcceptError::BadMatch {
                ticket: client.to_string(),
                authenticator: claimed.to_string(),
            });
        }
        let ctime = wire::system_time(&auth.ctime);
        self.check_times(&client, &part, ctime, now)?;
        let cusec = u32::try_from(&auth.cusec).unwrap_or(0);
        self.replay.check(
            &client,
            ctime,
            cusec,
            &req.authenticator.cipher,
            now,
            self.max_skew,
        )?;
        let auth_time = wire::system_time(&part.auth_time);
        let pac = verified_pac(&part, &service_key, &client, auth_time)?;
        Ok(Accepted {
            server,
            session_key,
            subkey: auth.subkey.as_ref().map(to_key).transpose()?,
            seq_number: auth.seq_number,
            ap_options: wire::flags_word(&req.ap_options.0),
            checksum: auth.cksum.map(|c| (c.r#type, c.checksum.to_vec())),
            ctime,
            cusec,
            auth_time,
            end_time: wire::system_time(&part.end_time),
            ticket_flags: wire::flags_word(&part.flags.0),
            pac,
            service_key,
            client,
        })
    }

    /// The AP-REP proving the server holds the key (RFC 4120 3.2.4), optionally with a
    /// subkey and sequence number of the server's (usage 12, session key).
    pub fn ap_rep(
        accepted: &Accepted,
        subkey: Option<&Key>,
        seq_number: Option<u32>,
    ) -> Result<Vec<u8>, AcceptError> {
        let part = k::EncApRepPart {
            ctime: wire::ktime(accepted.ctime),
            cusec: accepted.cusec.into(),
            subkey: subkey.map(|k| k::EncryptionKey {
                r#type: k.etype().value(),
                value: k.as_bytes().to_vec().into(),
            }),
            seq_number,
        };
        let key = &accepted.session_key;
        let cipher = key
            .encrypt(KeyUsage::AP_REP_ENC_PART, &wire::der(&part))
            .map_err(|e| malformed(&e.to_string()))?;
        Ok(wire::der(&k::ApRep {
            pvno: 5.into(),
            msg_type: 15.into(),
            enc_part: k::EncryptedData {
                etype: key.etype().value(),
                kvno: None,
                cipher: cipher.into(),
            },
        }))
    }

    /// The key for the ticket: same principal, the ticket's kvno (any if it names none),
    /// the ticket's etype.
    ///
    /// A ticket for another service class on one of this host's names (`cifs/files…`,
    /// `http/files…`) takes the `host/` key when the keytab has no entry of its own: Active
    /// Directory maps those classes onto HOST (sPNMappings, MS-ADTS 7.1.1.2.6) and encrypts
    /// their tickets with the computer account's key, which `host/` entries hold. A class
    /// registered on another account is encrypted with that account's key and still fails.
    fn service_key(
        &self,
        server: &PrincipalName,
        enc: &k::EncryptedData,
    ) -> Result<Key, AcceptError> {
        let etype = EncryptionType::new(enc.etype);
        let candidates = |name: &PrincipalName| {
            self.keytab
                .entries
                .iter()
                .filter(|e| e.principal.matches(name) && e.key.etype() == etype)
                .filter(|e| enc.kvno.is_none_or(|v| v == e.kvno))
                .max_by_key(|e| e.kvno)
        };
        let entry = candidates(server).or_else(|| {
            let as_host = match server.components.as_slice() {
                [class, host] if !class.eq_ignore_ascii_case("host") => PrincipalName::new(
                    PrincipalName::NT_SRV_HST,
                    ["host", host.as_str()],
                    server.realm.as_str(),
                ),
                _ => return None,
            };
            candidates(&as_host)
        });
        let no_key = || AcceptError::NoKey {
            server: server.to_string(),
            kvno: enc.kvno.map_or_else(|| "?".into(), |v| v.to_string()),
            etype: format!("{etype:?}"),
        };
        entry.ok_or_else(no_key)?.key.to_key().map_err(|_| no_key())
    }

    fn check_times(
        &self,
        client: &PrincipalName,
        part: &k::EncTicketPart,
        ctime: SystemTime,
        now: SystemTime,
    ) -> Result<(), AcceptError> {
        let skew = wire::unix_secs(ctime) - wire::unix_secs(now);
        let max = self.max_skew.as_secs();
        if skew.unsigned_abs() > max {
            return Err(AcceptError::ClockSkew { skew, max });
        }
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let now = wire::unix_secs(now);
        let start = part.start_time.as_ref().unwrap_or(&part.auth_time);
        let invalid = wire::flags_word(&part.flags.0) & TKT_INVALID != 0;
        if invalid || wire::unix_secs(wire::system_time(start)) - max > now {
            return Err(AcceptError::TicketNotYetValid {
                client: client.to_string(),
            });
        }
        let end = wire::unix_secs(wire::system_time(&part.end_time));
        if end + max < now {
            return Err(AcceptError::TicketExpired {
                client: client.to_string(),
                ago: now - end,
            });
        }
        Ok(())
    }
}

/// Remembers authenticators for twice the allowed skew (RFC 4120 3.2.3: a replay cache
/// must hold what could still be accepted). Keyed by a digest of the client, time and
/// ciphertext, so two authenticators from one client in the same microsecond still differ.
#[derive(Debug, Default)]
struct ReplayCache {
    seen: HashMap<[u8; 32], SystemTime>,
    next_purge: Option<SystemTime>,
}

impl ReplayCache {
    fn check(
        &mut self,
        client: &PrincipalName,
        ctime: SystemTime,
        cusec: u32,
        cipher: &[u8],
        now: SystemTime,
        window: Duration,
    ) -> Result<(), AcceptError> {
        if self.next_purge.is_none_or(|t| now >= t) {
            self.seen.retain(|_, expiry| *expiry > now);
            self.next_purge = Some(now + window / 4);
        }
        let mut h = Sha256::new();
        h.update(client.to_string().as_bytes());
        h.update(wire::unix_secs(ctime).to_be_bytes());
        h.update(cusec.to_be_bytes());
        h.update(cipher);
        let digest: [u8; 32] = h.finalize().into();
        if self.seen.insert(digest, now + window * 2).is_some() {
            return Err(AcceptError::Replay {
                client: client.to_string(),
            });
        }
        Ok(())
    }
}

/// MS-PAC 4.1.2: the server checks the PAC's server signature with its own key (the KDC
/// signature needs the krbtgt key, which only the KDC has) and that the PAC belongs to the
/// ticket's client.
fn verified_pac(
    part: &k::EncTicketPart,
    service_key: &Key,
    client: &PrincipalName,
    auth_time: SystemTime,
) -> Result<Option<Pac>, AcceptError> {
    let bad = |source| AcceptError::BadPac {
        client: client.to_string(),
        source,
    };
    let Some(ad) = part.authorization_data.as_deref() else {
        return Ok(None);
    };
    let Some(pac) = find_pac(ad).map_err(bad)? else {
        return Ok(None);
    };
    pac.verify_server_signature(service_key).map_err(bad)?;
    pac.check_client(client, auth_time).map_err(bad)?;
    Ok(Some(pac))
}

fn decrypt<T: rasn::Decode>(
    key: &Key,
    usage: KeyUsage,
    enc: &k::EncryptedData,
    what: &'static str,
    server: &PrincipalName,
) -> Result<T, AcceptError> {
    let bad = || AcceptError::BadIntegrity {
        what,
        server: server.to_string(),
    };
    if enc.etype != key.etype().value() {
        return Err(bad());
    }
    let plain = Zeroizing::new(key.decrypt(usage, &enc.cipher).map_err(|_| bad())?);
    decode(&plain, what)
}

fn decode<T: rasn::Decode>(bytes: &[u8], what: &str) -> Result<T, AcceptError> {
    wire::decode(bytes, what).map_err(|e| malformed(&e.to_string()))
}

fn name(n: &k::PrincipalName, realm: &k::Realm) -> Result<PrincipalName, AcceptError> {
    wire::from_wire_name(n, realm).map_err(|e| malformed(&e.to_string()))
}

fn to_key(k: &k::EncryptionKey) -> Result<Key, AcceptError> {
    Key::new(EncryptionType::new(k.r#type), &k.value).map_err(|e| malformed(&e.to_string()))
}

fn malformed(reason: &str) -> AcceptError {
    AcceptError::Malformed {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keytab::{KeyBlock, KeytabEntry};
    use crate::krb::Credentials;
    use crate::krb::ap_req::{self, ApReqParts};
    use crate::krb::mint::fixtures::{credentials, keytab, service, service_key, t};

    fn ap_req(creds: &Credentials, now: SystemTime) -> Vec<u8> {
        let parts = ApReqParts {
            seq_number: Some(42),
            ..ApReqParts::default()
        };
        ap_req::build(creds, &parts, KeyUsage::AP_REQ_AUTH, now).unwrap()
    }

    #[test]
    fn rfc4120_3_2_3_accepts_and_answers() {
        let creds = credentials(1_000_000, None);
        let mut acceptor = Acceptor::new(keytab(3));
        let a = acceptor
            .accept(&ap_req(&creds, t(1_000_010)), t(1_000_011))
            .unwrap();
        assert_eq!(a.client.to_string(), "alice@EXAMPLE.TEST");
        assert!(a.server.matches(&service()));
        assert_eq!(a.session_key, creds.session_key);
        assert_eq!(a.seq_number, Some(42));
        assert!(a.pac.is_none());
        assert_eq!(a.service_key, service_key());
        let rep = Acceptor::ap_rep(&a, None, Some(7)).unwrap();
        let rep: k::ApRep = rasn::der::decode(&rep).unwrap();
        let plain = creds
            .session_key
            .decrypt(KeyUsage::AP_REP_ENC_PART, &rep.enc_part.cipher)
            .unwrap();
        let part: k::EncApRepPart = rasn::der::decode(&plain).unwrap();
        assert_eq!(wire::system_time(&part.ctime), t(1_000_010));
        assert_eq!(part.seq_number, Some(7));
    }

    #[test]
    fn a_malformed_pac_is_refused() {
        let creds = credentials(1_000_000, Some(b"not a PAC"));
        let e = Acceptor::new(keytab(3))
            .accept(&ap_req(&creds, t(1_000_000)), t(1_000_000))
            .unwrap_err();
        assert!(matches!(e, AcceptError::BadPac { .. }), "{e}");
    }

    #[test]
    fn replayed_authenticator_is_refused() {
        let creds = credentials(1_000_000, None);
        let mut acceptor = Acceptor::new(keytab(3));
        let req = ap_req(&creds, t(1_000_010));
        acceptor.accept(&req, t(1_000_010)).unwrap();
        let e = acceptor.accept(&req, t(1_000_020)).unwrap_err();
        assert!(matches!(e, AcceptError::Replay { .. }), "{e}");
        // A fresh authenticator from the same ticket is fine.
        acceptor
            .accept(&ap_req(&creds, t(1_000_021)), t(1_000_021))
            .unwrap();
    }

    /// A keytab with only `class/host`, under the fixtures' service key.
    fn keytab_of(class: &str, host: &str) -> Keytab {
        let mut kt = Keytab::new();
        let principal =
            PrincipalName::new(PrincipalName::NT_SRV_HST, [class, host], "EXAMPLE.TEST");
        kt.add(KeytabEntry::new(
            principal,
            3,
            KeyBlock::from(&service_key()),
            0,
        ));
        kt
    }

    #[test]
    fn a_cifs_ticket_takes_the_host_key_of_the_same_host_only() {
        let creds = credentials(1_000_000, None);
        // The fixtures' ticket is for cifs/foo.example.test; the keytab has host/ only.
        let mut acceptor = Acceptor::new(keytab_of("host", "foo.example.test"));
        let a = acceptor
            .accept(&ap_req(&creds, t(1_000_010)), t(1_000_011))
            .unwrap();
        assert_eq!(a.server.components, ["cifs", "foo.example.test"]);
        // Another host's host/ key is no match, nor is another class's key.
        for (class, host) in [("host", "bar.example.test"), ("http", "foo.example.test")] {
            let e = Acceptor::new(keytab_of(class, host))
                .accept(&ap_req(&creds, t(1_000_020)), t(1_000_021))
                .unwrap_err();
            assert!(
                matches!(e, AcceptError::NoKey { .. }),
                "{class}/{host}: {e}"
            );
        }
    }

    #[test]
    fn clock_skew_beyond_five_minutes_is_refused() {
        let creds = credentials(1_000_000, None);
        let mut acceptor = Acceptor::new(keytab(3));
        let e = acceptor
            .accept(&ap_req(&creds, t(1_000_000 + 601)), t(1_000_001))
            .unwrap_err();
        assert!(
            matches!(
                e,
                AcceptError::ClockSkew {
                    skew: 600,
                    max: 300
                }
            ),
            "{e}"
        );
        assert_eq!(e.code(), crate::krb::KrbErrorCode::KRB_AP_ERR_SKEW);
    }

    #[test]
    fn expired_ticket_is_refused() {
        let creds = credentials(1_000_000, None);
        let mut acceptor = Acceptor::new(keytab(3));
        let late = t(1_000_000 + 36_000 + 400);
        let e = acceptor.accept(&ap_req(&creds, late), late).unwrap_err();
        assert!(matches!(e, AcceptError::TicketExpired { .. }), "{e}");
    }

    #[test]
    fn wrong_kvno_and_wrong_key_are_told_apart() {
        let creds = credentials(1_000_000, None);
        let e = Acceptor::new(keytab(2)).accept(&ap_req(&creds, t(1_000_000)), t(1_000_000));
        assert!(matches!(e, Err(AcceptError::NoKey { .. })), "{e:?}");
        let mut kt = Keytab::new();
        let other = Key::new(EncryptionType::AES256_CTS_HMAC_SHA1_96, &[8; 32]).unwrap();
        kt.add(KeytabEntry::new(service(), 3, KeyBlock::from(&other), 0));
        let e = Acceptor::new(kt).accept(&ap_req(&creds, t(1_000_000)), t(1_000_000));
        assert!(
            matches!(e, Err(AcceptError::BadIntegrity { what: "ticket", .. })),
            "{e:?}"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data: Vec<u8>) {
            let _ = Acceptor::new(keytab(3)).accept(&data, t(1_000_000));
        }

        #[test]
        fn mutated_ap_req_never_panics_nor_accepts_changed_tickets(at: usize, bit: u8) {
            let creds = credentials(1_000_000, None);
            let mut req = ap_req(&creds, t(1_000_000));
            let at = at % req.len();
            req[at] ^= 1 << (bit % 8);
            let _ = Acceptor::new(keytab(3)).accept(&req, t(1_000_000));
        }
    }
}
