//! Glue between Adjoin's types and the RFC 4120 ASN.1 types of rasn-kerberos: principal
//! names, times, flag words, PA-DATA, and turning a KRB-ERROR into a [`KerberosError`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use rasn::types::{BitString, GeneralString, OctetString};
use rasn::{AsnType, Decode, Decoder as _, Encode, Encoder as _};
use rasn_kerberos as k;

use super::error::{AccountState, KerberosError, KrbErrorCode, NtStatus};
use crate::principal::PrincipalName;

/// RFC 4120 7.5.2 PA-DATA types used here.
pub(crate) mod pa {
    /// PA-TGS-REQ: the AP-REQ of a TGS request.
    pub(crate) const TGS_REQ: i32 = 1;
    /// PA-ENC-TIMESTAMP: encrypted-timestamp pre-authentication.
    pub(crate) const ENC_TIMESTAMP: i32 = 2;
    /// PA-PW-SALT: in a KRB-ERROR from AD, carries an NTSTATUS (MS-KILE 2.2.1).
    pub(crate) const PW_SALT: i32 = 3;
    /// PA-ETYPE-INFO: etype and salt, old form.
    pub(crate) const ETYPE_INFO: i32 = 11;
    /// PA-ETYPE-INFO2: etype, salt and string-to-key parameters.
    pub(crate) const ETYPE_INFO2: i32 = 19;
    /// PA-PAC-REQUEST (MS-KILE 2.2.3): ask for, or not, a PAC.
    pub(crate) const PAC_REQUEST: i32 = 128;
}

/// MS-KILE 2.2.3 KERB-PA-PAC-REQUEST.
///
/// ```text
/// KERB-PA-PAC-REQUEST ::= SEQUENCE {
///     include-pac[0] BOOLEAN }
/// ```
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub(crate) struct KerbPaPacRequest {
    #[rasn(tag(explicit(0)))]
    pub(crate) include_pac: bool,
}

/// To the wire form.
pub(crate) fn to_wire_name(p: &PrincipalName) -> k::PrincipalName {
    k::PrincipalName {
        r#type: p.name_type,
        string: p.components.iter().map(|c| kstring(c)).collect(),
    }
}

/// From the wire form, with the realm carried next to it.
pub(crate) fn from_wire_name(
    name: &k::PrincipalName,
    realm: &GeneralString,
) -> Result<PrincipalName, KerberosError> {
    let components = name
        .string
        .iter()
        .map(text)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PrincipalName::new(name.r#type, components, text(realm)?))
}

/// A KerberosString (GeneralString restricted to IA5 in practice; AD sends UTF-8).
pub(crate) fn kstring(s: &str) -> GeneralString {
    // GeneralString accepts any bytes we put in; names here come from our own types.
    GeneralString::from_bytes(s.as_bytes()).unwrap_or_default()
}

/// A KerberosString as text.
pub(crate) fn text(s: &GeneralString) -> Result<String, KerberosError> {
    String::from_utf8(s.to_vec()).map_err(|_| KerberosError::Malformed {
        reason: "a name is not UTF-8".into(),
    })
}

/// RFC 4120 5.2.3: KerberosTime is GeneralizedTime in UTC, no fractional seconds.
pub(crate) fn ktime(t: SystemTime) -> k::KerberosTime {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let whole = UNIX_EPOCH + Duration::from_secs(secs);
    let utc: DateTime<Utc> = whole.into();
    k::KerberosTime(utc.fixed_offset())
}

/// A KerberosTime as SystemTime.
pub(crate) fn system_time(t: &k::KerberosTime) -> SystemTime {
    let secs = t.0.timestamp();
    match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => UNIX_EPOCH,
    }
}

/// Seconds since the epoch (negative before it), for skew arithmetic.
pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// RFC 4120 5.2.8 KerberosFlags from a 32-bit word (bit 0 is the most significant).
pub(crate) fn flags(word: u32) -> BitString {
    BitString::from_slice(&word.to_be_bytes())
}

/// The first 32 bits of a KerberosFlags as a word (bit 0 most significant), as MIT's
/// ccache stores ticket flags.
pub(crate) fn flags_word(bits: &BitString) -> u32 {
    bits.iter().take(32).enumerate().fold(
        0,
        |acc, (i, b)| if *b { acc | (1 << (31 - i)) } else { acc },
    )
}

/// DER of any rasn value we built ourselves.
pub(crate) fn der<T: Encode>(value: &T) -> Vec<u8> {
    // Encoding a well-formed value of our own cannot fail.
    rasn::der::encode(value).unwrap_or_default()
}

/// Decodes DER (BER accepted), naming what was expected when it fails.
pub(crate) fn decode<T: Decode>(bytes: &[u8], what: &str) -> Result<T, KerberosError> {
    rasn::der::decode(bytes)
        .or_else(|_| rasn::ber::decode(bytes))
        .map_err(|e| KerberosError::Malformed {
            reason: format!("{what}: {e}"),
        })
}

/// A PA-DATA element.
pub(crate) fn padata(r#type: i32, value: Vec<u8>) -> k::PaData {
    k::PaData {
        r#type,
        value: OctetString::from(value),
    }
}

/// The KRB-ERROR application tag, [APPLICATION 30].
pub(crate) const KRB_ERROR_TAG: u8 = 0x7e;

/// Maps a KRB-ERROR to the error an admin should see. `client` names the principal the
/// request was for, `now` is our clock when the request was sent.
pub(crate) fn krb_error(e: &k::KrbError, client: &PrincipalName, now: SystemTime) -> KerberosError {
    let code = KrbErrorCode(e.error_code);
    let principal = client.to_string();
    let status = nt_status(e);
    match code {
        KrbErrorCode::KDC_ERR_PREAUTH_FAILED | KrbErrorCode::KRB_AP_ERR_BAD_INTEGRITY => {
            KerberosError::WrongPassword { principal }
        }
        KrbErrorCode::KDC_ERR_C_PRINCIPAL_UNKNOWN => KerberosError::UnknownPrincipal {
            principal,
            realm: client.realm.clone(),
        },
        KrbErrorCode::KDC_ERR_S_PRINCIPAL_UNKNOWN => KerberosError::UnknownService {
            service: from_wire_name(&e.sname, &e.realm)
                .map(|p| p.to_string())
                .unwrap_or_else(|_| "?".into()),
            realm: client.realm.clone(),
        },
        KrbErrorCode::KDC_ERR_KEY_EXPIRED => KerberosError::PasswordExpired { principal },
        KrbErrorCode::KRB_AP_ERR_SKEW => KerberosError::ClockSkew {
            skew: unix_secs(now) - unix_secs(system_time(&e.stime)),
        },
        KrbErrorCode::KDC_ERR_CLIENT_REVOKED => match status {
            Some(NtStatus::PASSWORD_EXPIRED | NtStatus::PASSWORD_MUST_CHANGE) => {
                KerberosError::PasswordExpired { principal }
            }
            s => KerberosError::AccountUnusable {
                principal,
                state: account_state(s),
            },
        },
        _ => KerberosError::Kdc {
            code,
            text: e.e_text.as_ref().and_then(|t| text(t).ok()),
        },
    }
}

fn account_state(status: Option<NtStatus>) -> AccountState {
    match status {
        Some(NtStatus::ACCOUNT_DISABLED) => AccountState::Disabled,
        Some(NtStatus::ACCOUNT_LOCKED_OUT) => AccountState::LockedOut,
        Some(NtStatus::ACCOUNT_EXPIRED) => AccountState::Expired,
        Some(NtStatus::INVALID_LOGON_HOURS | NtStatus::INVALID_WORKSTATION) => {
            AccountState::Restricted
        }
        _ => AccountState::Unknown,
    }
}

/// MS-KILE 2.2.1: AD puts the NTSTATUS behind a KRB-ERROR either in a PA-PW-SALT of a
/// METHOD-DATA, or in a KERB-ERROR-DATA / KERB-EXT-ERROR (TYPED-DATA). Both are tried.
fn nt_status(e: &k::KrbError) -> Option<NtStatus> {
    let data = e.e_data.as_ref()?;
    if let Ok(method) = rasn::der::decode::<k::MethodData>(data) {
        let salt = method.iter().find(|p| p.r#type == pa::PW_SALT)?;
        return status_word(&salt.value);
    }
    let typed: k::TypedData = rasn::der::decode(data).ok()?;
    typed
        .iter()
        .filter_map(|t| t.value.as_ref())
        .find_map(|v| status_word(v))
}

/// KERB-EXT-ERROR / PA-PW-SALT value: NTSTATUS (LE u32), then 8 reserved bytes.
fn status_word(v: &[u8]) -> Option<NtStatus> {
    let word: [u8; 4] = v.get(..4)?.try_into().ok()?;
    (v.len() == 12).then_some(NtStatus(u32::from_le_bytes(word)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_with_bit_zero_most_significant() {
        let forwardable = 0x4000_0000;
        let bits = flags(forwardable | 1);
        assert_eq!(bits.len(), 32);
        assert!(bits[1] && bits[31] && !bits[0]);
        assert_eq!(flags_word(&bits), forwardable | 1);
    }

    #[test]
    fn kerberos_time_has_no_fraction() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let der = der(&ktime(t));
        // GeneralizedTime "20231114221320Z": tag 0x18, 15 bytes.
        assert_eq!(&der[..2], &[0x18, 15]);
        assert_eq!(&der[2..], b"20231114221320Z");
        assert_eq!(
            system_time(&ktime(t)),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
    }

    #[test]
    fn nt_status_is_read_from_pw_salt() {
        let mut value = 0xC000_0072_u32.to_le_bytes().to_vec();
        value.extend_from_slice(&[0; 8]);
        let method: k::MethodData = vec![padata(pa::PW_SALT, value)];
        let e = k::KrbError {
            pvno: 5.into(),
            msg_type: 30.into(),
            ctime: None,
            cusec: None,
            stime: ktime(UNIX_EPOCH),
            susec: 0.into(),
            error_code: 18,
            crealm: None,
            cname: None,
            realm: kstring("EXAMPLE.TEST"),
            sname: to_wire_name(&PrincipalName::krbtgt("EXAMPLE.TEST")),
            e_text: None,
            e_data: Some(der(&method).into()),
        };
        let client = PrincipalName::new(1, ["dave"], "EXAMPLE.TEST");
        let err = krb_error(&e, &client, UNIX_EPOCH);
        assert!(
            matches!(
                err,
                KerberosError::AccountUnusable {
                    state: AccountState::Disabled,
                    ..
                }
            ),
            "{err}"
        );
    }
}
