//! RFC 2696 Simple Paged Results: the request control a paged search sends and the
//! response control its SearchResultDone carries, both BER through rasn.

use rasn::types::{Integer, OctetString};
use rasn::{AsnType, Decode, Decoder as _, Encode};
use rasn_ldap::{Control, LdapOid};

/// RFC 2696 2: the Simple Paged Results control type (Microsoft's arc; AD calls it
/// LDAP_PAGED_RESULT_OID_STRING).
pub(super) const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";

/// RFC 2696 2: the control value of a paged search, both directions.
///
/// ```text
/// realSearchControlValue ::= SEQUENCE {
///         size            INTEGER (0..maxInt),
///                                 -- requested page size from client
///                                 -- result set size estimate from server
///         cookie          OCTET STRING }
/// ```
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
struct PagedResultsValue {
    size: Integer,
    cookie: OctetString,
}

/// A response control that names paged results but does not hold a
/// `realSearchControlValue`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagedResultsError {
    /// The control has no controlValue.
    #[error("the paged-results response control has no value")]
    MissingValue,
    /// The controlValue is not BER `SEQUENCE { INTEGER, OCTET STRING }`.
    #[error("the paged-results response control value does not decode: {0}")]
    Undecodable(String),
    /// The server keeps answering with a cookie but no entries.
    #[error("{pages} pages in a row without entries")]
    Stalled {
        /// The pages without entries.
        pages: usize,
    },
}

/// RFC 2696 3: the request control for one page: `size` entries at most, after the page
/// that returned `cookie` (empty for the first page).
///
/// The control is not critical: a server without paged results ignores it and returns
/// the whole result (RFC 4511 4.1.11), which [`response_cookie`] then reads as the last page.
pub(super) fn paged_results(size: u32, cookie: &[u8]) -> Control {
    let value = PagedResultsValue {
        size: Integer::from(size),
        cookie: OctetString::from(cookie.to_vec()),
    };
    // Encoding a value we built cannot fail.
    let value = rasn::ber::encode(&value).unwrap_or_default();
    Control::new(oid(), false, Some(value.into()))
}

/// RFC 2696 3: the cookie of a SearchResultDone's paged-results control. `Ok(None)` when
/// the server sent no such control (it does not page: the search is complete); an empty
/// cookie also ends the search.
pub(super) fn response_cookie(
    controls: Option<&[Control]>,
) -> Result<Option<Vec<u8>>, PagedResultsError> {
    let Some(control) = controls
        .unwrap_or_default()
        .iter()
        .find(|c| c.control_type == oid())
    else {
        return Ok(None);
    };
    let value = control
        .control_value
        .as_ref()
        .ok_or(PagedResultsError::MissingValue)?;
    let value = rasn::ber::decode::<PagedResultsValue>(value)
        .map_err(|e| PagedResultsError::Undecodable(e.to_string()))?;
    Ok(Some(value.cookie.to_vec()))
}

/// RFC 4511 4.1.11: `controlType LDAPOID`, the OID's dotted text as an OCTET STRING.
fn oid() -> LdapOid {
    OctetString::from_static(PAGED_RESULTS_OID.as_bytes())
}

#[cfg(test)]
mod tests {
    use rasn_ldap::{
        LdapMessage, LdapResult, LdapString, ProtocolOp, ResultCode, SearchResultDone,
    };

    use super::*;

    /// `04 16` and the 22 characters of "1.2.840.113556.1.4.319".
    fn oid_tlv() -> Vec<u8> {
        let mut v = vec![0x04, 0x16];
        v.extend_from_slice(b"1.2.840.113556.1.4.319");
        v
    }

    #[test]
    fn rfc2696_request_control_bytes_worked_out_by_hand() {
        // Control ::= SEQUENCE { controlType LDAPOID, criticality BOOLEAN DEFAULT FALSE,
        // controlValue OCTET STRING OPTIONAL }: a FALSE criticality is left out, the value
        // is the OCTET STRING wrapping SEQUENCE { INTEGER 2, OCTET STRING '' }.
        let mut want = vec![0x30, 0x21];
        want.extend(oid_tlv());
        want.extend([0x04, 0x07, 0x30, 0x05, 0x02, 0x01, 0x02, 0x04, 0x00]);
        let first = rasn::ber::encode(&paged_results(2, &[])).unwrap();
        assert_eq!(first, want, "{first:02x?}");

        // A later page: size 500 (INTEGER 01 f4), the server's 3-byte cookie.
        let mut want = vec![0x30, 0x25];
        want.extend(oid_tlv());
        want.extend([
            0x04, 0x0b, 0x30, 0x09, 0x02, 0x02, 0x01, 0xf4, 0x04, 0x03, 0xc0, 0x1e, 0x00,
        ]);
        let later = rasn::ber::encode(&paged_results(500, &[0xc0, 0x1e, 0x00])).unwrap();
        assert_eq!(later, want, "{later:02x?}");
    }

    #[test]
    fn rfc4511_controls_ride_in_the_message_as_context_0() {
        let mut message = LdapMessage::new(
            7,
            ProtocolOp::SearchResDone(SearchResultDone(LdapResult::new(
                ResultCode::Success,
                LdapString(String::new()),
                LdapString(String::new()),
            ))),
        );
        message.controls = Some(vec![paged_results(2, &[])]);
        let bytes = rasn::ber::encode(&message).unwrap();
        // ... [0] IMPLICIT SEQUENCE OF Control: a0 23, then the 0x23-byte control.
        let tail = &bytes[bytes.len() - 0x25..];
        assert_eq!(tail[..4], [0xa0, 0x23, 0x30, 0x21], "{bytes:02x?}");
        let back: LdapMessage = rasn::ber::decode(&bytes).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn rfc2696_response_control_decodes_to_its_cookie() {
        // As a server sends it: critical TRUE spelled out, size estimate 0, cookie 01 02 03.
        let mut bytes = vec![0x30, 0x27];
        bytes.extend(oid_tlv());
        bytes.extend([0x01, 0x01, 0xff]);
        bytes.extend([
            0x04, 0x0a, 0x30, 0x08, 0x02, 0x01, 0x00, 0x04, 0x03, 1, 2, 3,
        ]);
        let control: Control = rasn::ber::decode(&bytes).unwrap();
        assert!(control.criticality);
        assert_eq!(response_cookie(Some(&[control])), Ok(Some(vec![1, 2, 3])));
        // The last page: an empty cookie.
        let control = paged_results(0, &[]);
        assert_eq!(response_cookie(Some(&[control])), Ok(Some(vec![])));
    }

    #[test]
    fn absent_or_broken_response_controls() {
        assert_eq!(response_cookie(None), Ok(None));
        let other = Control::new(OctetString::from_static(b"1.2.3"), false, None);
        assert_eq!(response_cookie(Some(&[other])), Ok(None));
        let empty = Control::new(oid(), false, None);
        assert_eq!(
            response_cookie(Some(&[empty])),
            Err(PagedResultsError::MissingValue)
        );
        let junk = Control::new(oid(), false, Some(OctetString::from_static(&[0x04, 0x00])));
        assert!(matches!(
            response_cookie(Some(&[junk])),
            Err(PagedResultsError::Undecodable(_))
        ));
    }
}
