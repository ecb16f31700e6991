//! RFC 4511 4.5.1.7 search filters, built as rasn-ldap values (BER carries every value
//! as an OCTET STRING, so nothing is escaped as in the RFC 4515 text form).
//!
//! ```text
//! Filter ::= CHOICE {
//!      and             [0] SET SIZE (1..MAX) OF filter Filter,
//!      or              [1] SET SIZE (1..MAX) OF filter Filter,
//!      equalityMatch   [3] AttributeValueAssertion,
//!      present         [7] AttributeDescription,
//!      extensibleMatch [9] MatchingRuleAssertion,
//!      ...  }
//! ```

use rasn::types::{OctetString, SetOf};
use rasn_ldap::{AttributeValueAssertion, Filter, LdapString, MatchingRuleAssertion};

/// MS-ADTS 3.1.1.3.4.4.3 LDAP_MATCHING_RULE_IN_CHAIN: walks a DN-valued attribute
/// transitively (nested group membership).
pub const MATCHING_RULE_IN_CHAIN: &str = "1.2.840.113556.1.4.1941";
/// MS-ADTS 3.1.1.3.4.4.1 LDAP_MATCHING_RULE_BIT_AND: every bit of the value is set.
pub const MATCHING_RULE_BIT_AND: &str = "1.2.840.113556.1.4.803";
/// MS-ADTS 3.1.1.3.4.4.2 LDAP_MATCHING_RULE_BIT_OR: some bit of the value is set.
pub const MATCHING_RULE_BIT_OR: &str = "1.2.840.113556.1.4.804";

/// `(attr=value)`.
pub fn eq(attr: &str, value: &str) -> Filter {
    eq_bytes(attr, value.as_bytes())
}

/// `(attr=value)` with a binary value (objectSid, objectGUID), carried as is.
pub fn eq_bytes(attr: &str, value: &[u8]) -> Filter {
    Filter::EqualityMatch(AttributeValueAssertion::new(
        LdapString(attr.into()),
        OctetString::from(value.to_vec()),
    ))
}

/// `(attr=*)`.
pub fn present(attr: &str) -> Filter {
    Filter::Present(LdapString(attr.into()))
}

/// `(&f1 f2 ...)`. RFC 4511 requires at least one filter; an empty `and` is RFC 4526's
/// absolute true, which AD does not implement, so pass at least one.
pub fn and(filters: Vec<Filter>) -> Filter {
    Filter::And(SetOf::from_vec(filters))
}

/// `(|f1 f2 ...)`. As with [`and`], pass at least one filter.
pub fn or(filters: Vec<Filter>) -> Filter {
    Filter::Or(SetOf::from_vec(filters))
}

/// `(attr:rule_oid:=value)`: an extensible match such as [`MATCHING_RULE_IN_CHAIN`]
/// (`memberOf` transitively) or [`MATCHING_RULE_BIT_AND`] (`userAccountControl` flags).
pub fn extensible(rule_oid: &str, attr: &str, value: &str) -> Filter {
    Filter::ExtensibleMatch(MatchingRuleAssertion::new(
        Some(LdapString(rule_oid.into())),
        Some(LdapString(attr.into())),
        OctetString::from(value.as_bytes().to_vec()),
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ber(f: &Filter) -> Vec<u8> {
        let bytes = rasn::ber::encode(f).unwrap();
        let back: Filter = rasn::ber::decode(&bytes).unwrap();
        assert_eq!(&back, f, "round trip");
        bytes
    }

    fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, u8::try_from(value.len()).unwrap()];
        v.extend_from_slice(value);
        v
    }

    #[test]
    fn equality_carries_binary_values_raw() {
        // [3] { attributeDesc OCTET STRING, assertionValue OCTET STRING }; NUL, '*', '('
        // and '\' need no RFC 4515 escaping in BER.
        let sid = [0x01, 0x00, 0x2a, 0x28, 0x5c];
        let want = tlv(0xa3, &[tlv(0x04, b"objectSid"), tlv(0x04, &sid)].concat());
        assert_eq!(ber(&eq_bytes("objectSid", &sid)), want);
        assert_eq!(ber(&eq("cn", "a*")), ber(&eq_bytes("cn", b"a*")));
    }

    #[test]
    fn extensible_match_is_context_9_with_rule_type_and_value() {
        // [9] { matchingRule [1], type [2], matchValue [3], dnAttributes [4] DEFAULT FALSE }
        let f = extensible(MATCHING_RULE_IN_CHAIN, "memberOf", "CN=g");
        let want = tlv(
            0xa9,
            &[
                tlv(0x81, b"1.2.840.113556.1.4.1941"),
                tlv(0x82, b"memberOf"),
                tlv(0x83, b"CN=g"),
            ]
            .concat(),
        );
        assert_eq!(ber(&f), want);
        assert_eq!(want[..3], [0xa9, 0x29, 0x81]);
        let bits = extensible(MATCHING_RULE_BIT_AND, "userAccountControl", "2");
        assert_eq!(ber(&bits)[2..5], [0x81, 0x16, b'1']);
    }

    #[test]
    fn and_or_are_sets_of_filters() {
        // (&(|(cn=*))(objectSid=\01\02)(memberOf:1.2.840.113556.1.4.1941:=CN=g))
        let parts = vec![
            or(vec![present("cn")]),
            eq_bytes("objectSid", &[1, 2]),
            extensible(MATCHING_RULE_IN_CHAIN, "memberOf", "CN=g"),
        ];
        let or_bytes = [0xa1, 0x04, 0x87, 0x02, b'c', b'n'];
        let inner: Vec<u8> = [or_bytes.to_vec(), ber(&parts[1]), ber(&parts[2])].concat();
        let want = tlv(0xa0, &inner);
        assert_eq!(ber(&and(parts)), want);
        assert_eq!(want[..2], [0xa0, 0x42]);
    }
}
