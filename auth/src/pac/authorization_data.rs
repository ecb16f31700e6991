//! Where a ticket carries its PAC: an AD-WIN2K-PAC element inside an
//! AD-IF-RELEVANT element of the EncTicketPart's authorization-data
//! (RFC 4120 5.2.6.1, MS-KILE 3.3.5.6.4, MS-PAC 1.3 / 2.3).
//!
//! ```text
//! AuthorizationData ::= SEQUENCE OF { ad-type [0] Int32, ad-data [1] OCTET STRING }
//!   ad-type 1 (AD-IF-RELEVANT): ad-data is a DER AuthorizationData
//!     ad-type 128 (AD-WIN2K-PAC): ad-data is the PACTYPE
//! ```

use rasn_kerberos::{AuthorizationData, AuthorizationDataValue};

use super::Pac;
use super::error::PacError;

/// RFC 4120 7.5.4 / MS-KILE 3.3.5.6.4: the `ad-type` of a PAC.
pub const AD_WIN2K_PAC: i32 = 128;

/// Finds the PAC in a ticket's authorization data and parses it.
///
/// `Ok(None)` when the ticket has no PAC. More than one PAC is an error (an
/// acceptor cannot know which to believe). A PAC outside AD-IF-RELEVANT is
/// ignored, as MIT and Windows do.
pub fn find_pac(authorization_data: &[AuthorizationDataValue]) -> Result<Option<Pac>, PacError> {
    let mut found = None;
    for element in authorization_data {
        if element.r#type != AuthorizationDataValue::IF_RELEVANT {
            continue;
        }
        let inner: AuthorizationData =
            rasn::der::decode(&element.data).map_err(|e| PacError::BadAuthorizationData {
                reason: format!("AD-IF-RELEVANT does not decode: {e}"),
            })?;
        for pac in inner.iter().filter(|e| e.r#type == AD_WIN2K_PAC) {
            if found.is_some() {
                return Err(PacError::BadAuthorizationData {
                    reason: "more than one AD-WIN2K-PAC".into(),
                });
            }
            found = Some(Pac::parse(&pac.data)?);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAC: &[u8] = include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin");

    fn element(ty: i32, data: Vec<u8>) -> AuthorizationDataValue {
        AuthorizationDataValue {
            r#type: ty,
            data: data.into(),
        }
    }

    fn if_relevant(inner: Vec<AuthorizationDataValue>) -> AuthorizationDataValue {
        let der = rasn::der::encode(&inner).unwrap();
        element(AuthorizationDataValue::IF_RELEVANT, der)
    }

    #[test]
    fn finds_the_pac_inside_if_relevant() {
        let ad = [if_relevant(vec![element(AD_WIN2K_PAC, PAC.to_vec())])];
        let pac = find_pac(&ad).unwrap().unwrap();
        assert_eq!(pac.as_bytes(), PAC);
    }

    #[test]
    fn no_pac_is_none_and_a_bare_pac_is_ignored() {
        assert!(find_pac(&[]).unwrap().is_none());
        let bare = [element(AD_WIN2K_PAC, PAC.to_vec())];
        assert!(find_pac(&bare).unwrap().is_none());
        let other = [if_relevant(vec![element(141, vec![1, 2])])];
        assert!(find_pac(&other).unwrap().is_none());
    }

    #[test]
    fn two_pacs_or_bad_der_are_errors() {
        let pac = || element(AD_WIN2K_PAC, PAC.to_vec());
        let two = [if_relevant(vec![pac()]), if_relevant(vec![pac()])];
        assert!(matches!(
            find_pac(&two),
            Err(PacError::BadAuthorizationData { .. })
        ));
        let garbage = [element(
            AuthorizationDataValue::IF_RELEVANT,
            vec![0x30, 0x05],
        )];
        assert!(matches!(
            find_pac(&garbage),
            Err(PacError::BadAuthorizationData { .. })
        ));
    }
}
