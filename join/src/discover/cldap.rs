//! The LDAP ping over UDP (CLDAP), MS-ADTS 6.3.3, without I/O: build the request
//! datagram, pick the `Netlogon` attribute out of the reply datagram.
//!
//! ```text
//! SearchRequest ::= {
//!     baseObject   ""                 -- the rootDSE
//!     scope        baseObject
//!     derefAliases neverDerefAliases
//!     sizeLimit 0, timeLimit 0, typesOnly FALSE
//!     filter       (&(DnsDomain=example.test)(NtVer=\16\00\00\00))
//!     attributes   { "Netlogon" } }
//! ```
//! The DC answers with one datagram holding a SearchResultEntry (whose `Netlogon` value
//! is a NETLOGON_SAM_LOGON_RESPONSE_EX) and a SearchResultDone.

use rasn::types::{OctetString, SetOf};
use rasn_ldap::{
    AttributeValueAssertion, Filter, LdapMessage, LdapString, ProtocolOp, ResultCode,
    SearchRequest, SearchRequestDerefAliases, SearchRequestScope,
};

use super::netlogon::NtVersion;

/// Why a CLDAP reply carried no netlogon data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CldapError {
    /// The datagram is not a sequence of BER-encoded LDAP messages.
    #[error("CLDAP reply is not valid LDAP BER: {reason}")]
    Malformed {
        /// What the BER decoder said.
        reason: String,
    },
    /// The reply answers another request.
    #[error("CLDAP reply has message id {got}, expected {expected}")]
    WrongMessageId {
        /// The id sent.
        expected: u32,
        /// The id received.
        got: u32,
    },
    /// The server ended the search with an error code.
    #[error("CLDAP search failed: {code:?} {message}")]
    SearchFailed {
        /// The LDAP result code.
        code: ResultCode,
        /// The server's diagnostic message.
        message: String,
    },
    /// The search succeeded but no entry had a `Netlogon` value: the server is not a DC of
    /// the domain that was asked for.
    #[error("CLDAP reply has no Netlogon attribute (the server does not serve this domain)")]
    NoNetlogonAttribute,
}

/// Builds the LDAP ping datagram for `dns_domain`.
pub fn ping_request(message_id: u32, dns_domain: &str, nt_version: NtVersion) -> Vec<u8> {
    let term = |attr: &str, value: &[u8]| {
        Filter::EqualityMatch(AttributeValueAssertion::new(
            LdapString(attr.into()),
            OctetString::from(value.to_vec()),
        ))
    };
    let filter = Filter::And(SetOf::from_vec(vec![
        term("DnsDomain", dns_domain.as_bytes()),
        term("NtVer", &nt_version.bits().to_le_bytes()),
    ]));
    let search = SearchRequest::new(
        LdapString(String::new()),
        SearchRequestScope::BaseObject,
        SearchRequestDerefAliases::NeverDerefAliases,
        0,
        0,
        false,
        filter,
        vec![LdapString("Netlogon".into())],
    );
    let message = LdapMessage::new(message_id, ProtocolOp::SearchRequest(search));
    // Encoding a value we built ourselves cannot fail: every field is in range.
    rasn::ber::encode(&message).unwrap_or_default()
}

/// Reads a ping reply datagram and returns the raw `Netlogon` attribute value.
pub fn ping_response(datagram: &[u8], message_id: u32) -> Result<Vec<u8>, CldapError> {
    let mut rest = datagram;
    let mut netlogon = None;
    while !rest.is_empty() {
        let (message, remainder) =
            rasn::ber::decode_with_remainder::<LdapMessage>(rest).map_err(|e| {
                CldapError::Malformed {
                    reason: e.to_string(),
                }
            })?;
        rest = remainder;
        if message.message_id != message_id {
            return Err(CldapError::WrongMessageId {
                expected: message_id,
                got: message.message_id,
            });
        }
        match message.protocol_op {
            ProtocolOp::SearchResEntry(entry) => {
                let value = entry
                    .attributes
                    .into_iter()
                    .filter(|a| a.r#type.0.eq_ignore_ascii_case("netlogon"))
                    .flat_map(|a| a.vals.to_vec().into_iter().cloned().collect::<Vec<_>>())
                    .next();
                netlogon = netlogon.or(value.map(|v| v.to_vec()));
            }
            ProtocolOp::SearchResDone(done) if done.0.result_code != ResultCode::Success => {
                return Err(CldapError::SearchFailed {
                    code: done.0.result_code,
                    message: done.0.diagnostic_message.0,
                });
            }
            _ => {}
        }
    }
    netlogon.ok_or(CldapError::NoNetlogonAttribute)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::netlogon::SamLogonResponseEx;

    /// A whole CLDAP reply datagram from the lab's Samba 4.17 DC (message id 1).
    const SAMBA_REPLY: &[u8] = include_bytes!("../../testdata/samba-cldap-reply.bin");

    #[test]
    fn request_round_trips_through_the_ldap_codec() {
        let bytes = ping_request(7, "example.test", NtVersion::PING);
        let msg: LdapMessage = rasn::ber::decode(&bytes).unwrap();
        assert_eq!(msg.message_id, 7);
        let ProtocolOp::SearchRequest(req) = msg.protocol_op else {
            panic!("not a search request: {msg:?}");
        };
        assert_eq!(req.scope, SearchRequestScope::BaseObject);
        assert_eq!(req.attributes, vec![LdapString("Netlogon".into())]);
        let Filter::And(terms) = req.filter else {
            panic!("not an AND filter");
        };
        let ntver = terms.to_vec().into_iter().find_map(|t| match t {
            Filter::EqualityMatch(a) if a.attribute_desc.0 == "NtVer" => {
                Some(a.assertion_value.to_vec())
            }
            _ => None,
        });
        assert_eq!(ntver, Some(vec![0x16, 0, 0, 0]));
    }

    #[test]
    fn samba_reply_yields_the_netlogon_blob() {
        let blob = ping_response(SAMBA_REPLY, 1).unwrap();
        let r = SamLogonResponseEx::decode(&blob, NtVersion::PING).unwrap();
        assert_eq!(r.dns_host_name, "dc1.example.test");
    }

    #[test]
    fn wrong_message_id_is_refused() {
        assert_eq!(
            ping_response(SAMBA_REPLY, 2),
            Err(CldapError::WrongMessageId {
                expected: 2,
                got: 1
            })
        );
    }

    #[test]
    fn garbage_and_truncations_are_errors() {
        assert!(ping_response(b"\x30\x84\xff\xff\xff\xff", 1).is_err());
        for len in 1..SAMBA_REPLY.len() {
            let _ = ping_response(&SAMBA_REPLY[..len], 1);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_datagrams_never_panic(data: Vec<u8>) {
            let _ = ping_response(&data, 1);
        }

        #[test]
        fn mutated_capture_never_panics(at: usize, byte: u8) {
            let mut data = SAMBA_REPLY.to_vec();
            let at = at % data.len();
            data[at] = byte;
            let _ = ping_response(&data, 1);
        }
    }
}
