//! Secure dynamic DNS update (RFC 2136 UPDATE signed with RFC 3645 GSS-TSIG), as Windows
//! members and `net ads dns register` do: the machine's own Kerberos credentials set up a
//! GSS context with the DNS server (TKEY, mode 3), and the UPDATE that replaces the host's
//! A/AAAA records is signed with a GSS MIC in a TSIG record.
//!
//! The messages are built and read here without I/O ([`tkey_query`], [`read_tkey_reply`],
//! [`update`], [`sign`], [`read_update_reply`]); [`register`] is the small TCP driver. The
//! DNS wire format is hickory-proto's; the GSS-TSIG signing is ours.
//!
//! ```text
//! client                                   DNS server (the DC)
//! TKEY query  name=<key>, TKEY{gss-tsig, mode 3, key=AP-REQ}  ->
//!             <-  TKEY answer {key=AP-REP}  (context established, mutual)
//! UPDATE zone=<domain> {delete <fqdn> A, AAAA; add A/AAAA}  + TSIG{gss-tsig, MAC=GetMIC}  ->
//!             <-  NOERROR | REFUSED | NOTAUTH ...
//! ```

mod driver;

use std::net::IpAddr;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::tsig::{TSIG, TsigAlgorithm, make_tsig_record, message_tbs};
use hickory_proto::rr::rdata::{A, AAAA, NULL};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

pub use driver::{DnsUpdateRequest, register};

/// RFC 2930: the TKEY RR type.
const TKEY: RecordType = RecordType::Unknown(249);
/// RFC 2930 section 2.5: mode 3, GSS-API negotiation.
const TKEY_MODE_GSSAPI: u16 = 3;
/// RFC 3645 section 2: the algorithm name of GSS-TSIG.
const GSS_TSIG: &str = "gss-tsig.";
/// How far the server's clock may be from ours when it checks the TSIG (RFC 8945 5.2.3).
const FUDGE: u16 = 300;
/// The TKEY's validity (RFC 2930 inception .. expiration): one hour.
const TKEY_LIFETIME: u32 = 3600;

/// Why a secure DNS update failed. Each message names the cause and what to check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsUpdateError {
    /// A name is not a DNS name.
    #[error("'{name}' is not a DNS name: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The host is not inside the zone the update goes to.
    #[error("{fqdn} is not in the zone {zone}: register it in its own zone by hand")]
    OutsideZone {
        /// The host.
        fqdn: String,
        /// The zone.
        zone: String,
    },
    /// No address to register.
    #[error("no address to register for {fqdn}: give --address")]
    NoAddress {
        /// The host.
        fqdn: String,
    },
    /// The DNS server could not be reached or stopped answering.
    #[error("DNS server {server}: {detail}; check that TCP port 53 on it is reachable")]
    Unreachable {
        /// The server.
        server: String,
        /// What happened.
        detail: String,
    },
    /// A reply could not be read.
    #[error("malformed reply from the DNS server: {0}")]
    Malformed(String),
    /// The server refused the GSS negotiation (TKEY).
    #[error(
        "the DNS server refused the GSS-TSIG negotiation ({rcode}): it does not take secure \
         updates with Kerberos (a Windows or Samba DC's DNS does)"
    )]
    TkeyRefused {
        /// The TKEY error or response code.
        rcode: String,
    },
    /// The Kerberos side of the negotiation failed.
    #[error("GSS context with the DNS server: {0}")]
    Gss(String),
    /// The server answered the UPDATE with an error.
    #[error("the DNS server refused the update of {fqdn} ({rcode}): {hint}")]
    UpdateRefused {
        /// The host.
        fqdn: String,
        /// The response code.
        rcode: String,
        /// What it usually means.
        hint: &'static str,
    },
}

fn name(text: &str) -> Result<Name, DnsUpdateError> {
    let mut n = Name::from_ascii(text).map_err(|e| DnsUpdateError::BadName {
        name: text.to_owned(),
        reason: e.to_string(),
    })?;
    n.set_fqdn(true);
    Ok(n)
}

/// A TKEY query (RFC 2930 section 4, RFC 3645 section 3.1.1) for key `key_name` carrying the
/// initiator's first GSS token.
pub fn tkey_query(key_name: &str, token: &[u8], now: u32) -> Result<Message, DnsUpdateError> {
    let key = name(key_name)?;
    let mut m = Message::new(message_id(), MessageType::Query, OpCode::Query);
    let mut q = Query::query(key.clone(), TKEY);
    q.set_query_class(DNSClass::ANY);
    m.add_query(q);
    // RFC 2930 2: Algorithm, Inception, Expiration, Mode, Error, Key Size, Key Data,
    // Other Size, Other Data.
    let mut rdata = Vec::with_capacity(32 + token.len());
    push_name(&mut rdata, GSS_TSIG);
    rdata.extend_from_slice(&now.to_be_bytes());
    rdata.extend_from_slice(&now.saturating_add(TKEY_LIFETIME).to_be_bytes());
    rdata.extend_from_slice(&TKEY_MODE_GSSAPI.to_be_bytes());
    rdata.extend_from_slice(&0u16.to_be_bytes());
    let len = u16::try_from(token.len())
        .map_err(|_| DnsUpdateError::Gss("the GSS token is over 64 KiB".into()))?;
    rdata.extend_from_slice(&len.to_be_bytes());
    rdata.extend_from_slice(token);
    rdata.extend_from_slice(&0u16.to_be_bytes());
    let mut rr = Record::from_rdata(
        key,
        0,
        RData::Unknown {
            code: TKEY,
            rdata: NULL::with(rdata),
        },
    );
    rr.dns_class = DNSClass::ANY;
    m.add_additional(rr);
    Ok(m)
}

/// The server's GSS token from a TKEY reply (its answer's Key Data).
pub fn read_tkey_reply(reply: &[u8]) -> Result<Vec<u8>, DnsUpdateError> {
    let m = Message::from_vec(reply).map_err(|e| DnsUpdateError::Malformed(e.to_string()))?;
    if m.metadata.response_code != ResponseCode::NoError {
        return Err(DnsUpdateError::TkeyRefused {
            rcode: m.metadata.response_code.to_string(),
        });
    }
    let rdata = m
        .answers
        .iter()
        .find_map(|r| match &r.data {
            RData::Unknown { code, rdata } if *code == TKEY => Some(rdata.anything.clone()),
            _ => None,
        })
        .ok_or_else(|| DnsUpdateError::Malformed("the TKEY reply has no TKEY answer".into()))?;
    let short = || DnsUpdateError::Malformed("a truncated TKEY record".into());
    // Algorithm (a name, uncompressed in TKEY RDATA), then 4+4+2 bytes to Error.
    let at = skip_name(&rdata).ok_or_else(short)?;
    let fixed = rdata.get(at..at + 14).ok_or_else(short)?;
    let error = u16::from_be_bytes([fixed[10], fixed[11]]);
    if error != 0 {
        return Err(DnsUpdateError::TkeyRefused {
            rcode: ResponseCode::from_low(error as u8).to_string(),
        });
    }
    let size = usize::from(u16::from_be_bytes([fixed[12], fixed[13]]));
    let key = rdata.get(at + 14..at + 14 + size).ok_or_else(short)?;
    Ok(key.to_vec())
}

/// The UPDATE (RFC 2136 section 2) that makes `addresses` the A/AAAA records of `fqdn` in
/// `zone`: each type's RRset deleted, then the new records added (none: only deleted).
pub fn update(
    zone: &str,
    fqdn: &str,
    addresses: &[IpAddr],
    ttl: u32,
) -> Result<Message, DnsUpdateError> {
    let (zone_name, host) = (name(zone)?, name(fqdn)?);
    if !zone_name.zone_of(&host) {
        return Err(DnsUpdateError::OutsideZone {
            fqdn: fqdn.to_owned(),
            zone: zone.to_owned(),
        });
    }
    let mut m = Message::new(message_id(), MessageType::Query, OpCode::Update);
    let mut z = Query::query(zone_name, RecordType::SOA);
    z.set_query_class(DNSClass::IN);
    m.add_query(z);
    // RFC 2136 2.5.2: delete an RRset: class ANY, TTL 0, no RDATA.
    for rr_type in [RecordType::A, RecordType::AAAA] {
        let mut del = Record::update0(host.clone(), 0, rr_type);
        del.dns_class = DNSClass::ANY;
        m.add_authority(del);
    }
    for ip in addresses {
        let data = match ip {
            IpAddr::V4(v4) => RData::A(A(*v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
        };
        m.add_authority(Record::from_rdata(host.clone(), ttl, data));
    }
    Ok(m)
}

/// The PTR name of `ip`: `d.c.b.a.in-addr.arpa` (RFC 1035 3.5), or the 32 reversed
/// nibbles under `ip6.arpa` (RFC 3596 2.5).
pub fn reverse_name(ip: IpAddr) -> String {
    reverse_labels(ip, usize::MAX)
}

/// The reverse zones that may hold `ip`'s PTR record, most specific first: /24, /16, /8
/// for IPv4; /64, /48, /32 for IPv6.
pub fn reverse_zones(ip: IpAddr) -> Vec<String> {
    let cuts: &[usize] = match ip {
        IpAddr::V4(_) => &[3, 2, 1],
        IpAddr::V6(_) => &[16, 12, 8],
    };
    cuts.iter().map(|&n| reverse_labels(ip, n)).collect()
}

/// The reverse name of the first `labels` octets (IPv4) or nibbles (IPv6) of `ip`.
fn reverse_labels(ip: IpAddr, labels: usize) -> String {
    let (parts, suffix): (Vec<String>, &str) = match ip {
        IpAddr::V4(v4) => (
            v4.octets().iter().map(u8::to_string).collect(),
            "in-addr.arpa",
        ),
        IpAddr::V6(v6) => (
            v6.octets()
                .iter()
                .flat_map(|b| [b >> 4, b & 0xf])
                .map(|n| format!("{n:x}"))
                .collect(),
            "ip6.arpa",
        ),
    };
    let mut kept: Vec<&str> = parts.iter().take(labels).map(String::as_str).collect();
    kept.reverse();
    kept.push(suffix);
    kept.join(".")
}

/// A PTR change to send after the address records.
#[derive(Debug, Clone)]
pub struct PtrUpdate {
    /// The reverse zone.
    pub zone: String,
    /// The PTR name ([`reverse_name`]).
    pub name: String,
    /// The host it points to; `None` removes the PTR RRset.
    pub target: Option<String>,
}

/// The UPDATE that replaces the PTR RRset of `ptr.name` in its zone (RFC 2136 2.5).
pub fn update_ptr(ptr: &PtrUpdate, ttl: u32) -> Result<Message, DnsUpdateError> {
    let (zone_name, owner) = (name(&ptr.zone)?, name(&ptr.name)?);
    let mut m = Message::new(message_id(), MessageType::Query, OpCode::Update);
    let mut z = Query::query(zone_name, RecordType::SOA);
    z.set_query_class(DNSClass::IN);
    m.add_query(z);
    let mut del = Record::update0(owner.clone(), 0, RecordType::PTR);
    del.dns_class = DNSClass::ANY;
    m.add_authority(del);
    if let Some(target) = &ptr.target {
        let data = RData::PTR(hickory_proto::rr::rdata::PTR(name(target)?));
        m.add_authority(Record::from_rdata(owner, ttl, data));
    }
    Ok(m)
}

/// Signs `message` with GSS-TSIG (RFC 3645 section 3.2 over RFC 8945 4.3.3): the MIC,
/// from `get_mic`, covers the message as it is and the TSIG variables. Returns the wire
/// bytes with the TSIG record added.
pub fn sign(
    mut message: Message,
    key_name: &str,
    now: u64,
    get_mic: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, DnsUpdateError> {
    let key = name(key_name)?;
    let algorithm = TsigAlgorithm::Unknown(name(GSS_TSIG)?);
    let pre = TSIG::new(
        algorithm,
        now,
        FUDGE,
        Vec::new(),
        message.metadata.id,
        None,
        Vec::new(),
    );
    let tbs =
        message_tbs(&message, &pre, &key).map_err(|e| DnsUpdateError::Malformed(e.to_string()))?;
    let mic = get_mic(&tbs).map_err(DnsUpdateError::Gss)?;
    message.add_additional(make_tsig_record(key, pre.set_mac(mic)).into_record_of_rdata());
    message
        .to_vec()
        .map_err(|e| DnsUpdateError::Malformed(e.to_string()))
}

/// The verdict of an UPDATE reply.
pub fn read_update_reply(reply: &[u8], fqdn: &str) -> Result<(), DnsUpdateError> {
    let code = reply
        .get(3)
        .map(|b| ResponseCode::from_low(b & 0x0f))
        .ok_or_else(|| DnsUpdateError::Malformed("a reply shorter than a header".into()))?;
    let hint = match code {
        ResponseCode::NoError => return Ok(()),
        ResponseCode::Refused => {
            "the zone refuses this update: it takes no dynamic updates, or the machine account \
             may not write this name (another account owns the record)"
        }
        ResponseCode::NotAuth => {
            "the server did not accept the signature: check the clocks (NTP) and that the \
             server is a DC of the domain"
        }
        ResponseCode::NotZone => "the name is not in the zone",
        ResponseCode::ServFail => {
            "the server could not make the change; with a Samba DC this is what a record owned \
             by another account gives (an admin or another machine created it): have an admin \
             delete the record or let this machine account write it"
        }
        _ => "see the DNS server's log",
    };
    Err(DnsUpdateError::UpdateRefused {
        fqdn: fqdn.to_owned(),
        rcode: code.to_string(),
        hint,
    })
}

/// A random message ID.
fn message_id() -> u16 {
    let mut b = [0u8; 2];
    // A fixed ID is no worse for a TCP exchange if the random source fails.
    let _ = getrandom::fill(&mut b);
    u16::from_be_bytes(b)
}

/// Appends `text` as an uncompressed DNS name (labels, then the root).
fn push_name(out: &mut Vec<u8>, text: &str) {
    for label in text.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// The length of the name at the start of `data` (labels up to the root, or a
/// compression pointer).
fn skip_name(data: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let len = *data.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return data.get(at + 1).map(|_| at + 2),
            l if l & 0xc0 != 0 => return None,
            l => at += 1 + usize::from(l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tkey_query_carries_the_token_in_mode_3() {
        let m = tkey_query("k1.adjoin.", b"token", 1_000).unwrap();
        let bytes = m.to_vec().unwrap();
        let back = Message::from_vec(&bytes).unwrap();
        assert_eq!(back.queries[0].query_type(), TKEY);
        let RData::Unknown { rdata, .. } = &back.additionals[0].data else {
            panic!("a TKEY record");
        };
        let r = &rdata.anything;
        let at = skip_name(r).unwrap();
        assert_eq!(&r[..at], b"\x08gss-tsig\x00");
        assert_eq!(&r[at..at + 4], &1_000u32.to_be_bytes());
        assert_eq!(&r[at + 4..at + 8], &4_600u32.to_be_bytes());
        assert_eq!(&r[at + 8..at + 10], &3u16.to_be_bytes());
        assert_eq!(&r[at + 12..at + 14], &5u16.to_be_bytes());
        assert_eq!(&r[at + 14..at + 19], b"token");
    }

    #[test]
    fn the_mic_covers_the_message_and_the_tsig_variables() {
        let m = update(
            "example.test",
            "m1.example.test",
            &["192.0.2.7".parse().unwrap()],
            900,
        )
        .unwrap();
        let plain = m.to_vec().unwrap();
        let mut seen = Vec::new();
        let signed = sign(m, "k1.adjoin", 0x0001_0000_0002, |tbs| {
            seen = tbs.to_vec();
            Ok(b"MIC!".to_vec())
        })
        .unwrap();
        // RFC 8945 4.3.3: the message as sent without the TSIG, then the variables.
        assert_eq!(&seen[..plain.len()], &plain[..]);
        let vars = &seen[plain.len()..];
        let mut want = Vec::new();
        push_name(&mut want, "k1.adjoin");
        want.extend_from_slice(&[0, 255, 0, 0, 0, 0]);
        push_name(&mut want, GSS_TSIG);
        want.extend_from_slice(&[0, 1, 0, 0, 0, 2, 1, 44, 0, 0, 0, 0]);
        assert_eq!(vars, &want[..]);
        // The signed message: one more additional record, the TSIG, with the MIC.
        assert_eq!(u16::from_be_bytes([signed[10], signed[11]]), 1);
        assert!(signed.windows(4).any(|w| w == b"MIC!"));
        assert_eq!(&signed[4..10], &plain[4..10]);
    }

    #[test]
    fn an_update_replaces_both_address_types_and_stays_in_its_zone() {
        let m = update(
            "example.test",
            "m1.example.test",
            &["2001:db8::1".parse().unwrap()],
            60,
        )
        .unwrap();
        assert_eq!(m.metadata.op_code, OpCode::Update);
        assert_eq!(m.authorities.len(), 3);
        assert_eq!(m.authorities[0].dns_class, DNSClass::ANY);
        assert_eq!(m.authorities[2].record_type(), RecordType::AAAA);
        let e = update("example.test", "m1.other.test", &[], 60).unwrap_err();
        assert!(matches!(e, DnsUpdateError::OutsideZone { .. }), "{e}");
    }

    #[test]
    fn rfc1035_reverse_names_and_a_ptr_update() {
        let ip = "192.0.2.7".parse().unwrap();
        assert_eq!(reverse_name(ip), "7.2.0.192.in-addr.arpa");
        assert_eq!(
            reverse_zones(ip),
            [
                "2.0.192.in-addr.arpa",
                "0.192.in-addr.arpa",
                "192.in-addr.arpa"
            ]
        );
        // RFC 3596 2.5's example address.
        let v6: IpAddr = "4321:0:1:2:3:4:567:89ab".parse().unwrap();
        assert_eq!(
            reverse_name(v6),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"
        );
        assert_eq!(
            reverse_zones(v6)[0],
            "2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"
        );
        let ptr = PtrUpdate {
            zone: "2.0.192.in-addr.arpa".into(),
            name: reverse_name(ip),
            target: Some("m1.example.test".into()),
        };
        let m = update_ptr(&ptr, 60).unwrap();
        assert_eq!(m.authorities.len(), 2);
        assert_eq!(m.authorities[1].record_type(), RecordType::PTR);
        let removal = update_ptr(
            &PtrUpdate {
                target: None,
                ..ptr
            },
            60,
        )
        .unwrap();
        assert_eq!(removal.authorities.len(), 1);
    }

    #[test]
    fn update_replies_name_their_cause() {
        let mut reply = [0u8; 12];
        assert!(read_update_reply(&reply, "m1").is_ok());
        reply[3] = 5;
        let e = read_update_reply(&reply, "m1").unwrap_err().to_string();
        assert!(e.contains("refuses this update"), "{e}");
        assert!(read_update_reply(&reply[..2], "m1").is_err());
    }

    #[test]
    fn a_tkey_reply_gives_the_key_data_or_its_error() {
        let mut m = Message::new(7, MessageType::Response, OpCode::Query);
        let mut rdata = Vec::new();
        push_name(&mut rdata, GSS_TSIG);
        rdata.extend_from_slice(&[0; 8]);
        rdata.extend_from_slice(&3u16.to_be_bytes());
        rdata.extend_from_slice(&0u16.to_be_bytes());
        rdata.extend_from_slice(&3u16.to_be_bytes());
        rdata.extend_from_slice(b"rep");
        rdata.extend_from_slice(&0u16.to_be_bytes());
        let rr = Record::from_rdata(
            name("k1.adjoin").unwrap(),
            0,
            RData::Unknown {
                code: TKEY,
                rdata: NULL::with(rdata.clone()),
            },
        );
        m.add_answer(rr);
        assert_eq!(read_tkey_reply(&m.to_vec().unwrap()).unwrap(), b"rep");
        let at = skip_name(&rdata).unwrap();
        rdata[at + 11] = 17; // BADKEY
        rdata.truncate(at + 14);
        m.answers[0] = Record::from_rdata(
            name("k1.adjoin").unwrap(),
            0,
            RData::Unknown {
                code: TKEY,
                rdata: NULL::with(rdata),
            },
        );
        assert!(read_tkey_reply(&m.to_vec().unwrap()).is_err());
    }
}
