//! The machine account's secret and what follows from it: the random password, the AD
//! salt of a computer account, the keytab entries and SPNs, and the enctype attribute.

use adjoin_auth::crypto::{CryptoError, EncryptionType, string_to_key};
use adjoin_auth::keytab::{KeyBlock, KeytabEntry};
use adjoin_auth::principal::PrincipalName;
use zeroize::Zeroizing;

use crate::names::MachineNames;

/// Length of the machine password, as Windows and adcli use.
pub const PASSWORD_LEN: usize = 120;
/// Printable ASCII without space, quotes and backslash: survives kpasswd, UTF-16 and any
/// shell or .reg export an admin may pass it through.
const CHARSET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~";

/// An `--enctypes` value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown encryption type '{0}': use aes256, aes128 or rc4 (or their RFC names)")]
pub struct UnknownEnctype(pub String);

/// A fresh random machine password from the OS random source.
pub fn generate_password() -> Result<Zeroizing<String>, getrandom::Error> {
    // Rejection sampling keeps every character equally likely.
    let len = u8::try_from(CHARSET.len()).unwrap_or(u8::MAX);
    let limit = u8::MAX - (u8::MAX % len);
    let mut out = Zeroizing::new(String::with_capacity(PASSWORD_LEN));
    let mut bytes = Zeroizing::new([0u8; 64]);
    while out.len() < PASSWORD_LEN {
        getrandom::fill(bytes.as_mut())?;
        for &b in bytes.iter().filter(|&&b| b < limit) {
            if out.len() < PASSWORD_LEN {
                out.push(char::from(CHARSET[usize::from(b % len)]));
            }
        }
    }
    Ok(out)
}

/// MS-KILE 3.1.1.2: the salt of a computer account is the upper-case realm, "host", the
/// lower-case account name without its `$`, ".", and the lower-case DNS domain.
pub fn computer_salt(realm: &str, names: &MachineNames) -> Vec<u8> {
    let account = names
        .sam_account_name
        .trim_end_matches('$')
        .to_ascii_lowercase();
    format!(
        "{}host{account}.{}",
        realm.to_ascii_uppercase(),
        realm.to_ascii_lowercase()
    )
    .into_bytes()
}

/// The service principal names a member registers.
pub fn spns(names: &MachineNames) -> Vec<String> {
    vec![
        format!("host/{}", names.netbios),
        format!("host/{}", names.fqdn),
        format!("RestrictedKrbHost/{}", names.netbios),
        format!("RestrictedKrbHost/{}", names.fqdn),
    ]
}

/// The principals whose keys go into the keytab: `NAME$` and the SPNs.
pub fn principals(names: &MachineNames, realm: &str) -> Vec<PrincipalName> {
    let mut v = vec![PrincipalName::new(
        PrincipalName::NT_PRINCIPAL,
        [names.sam_account_name.as_str()],
        realm,
    )];
    for spn in spns(names) {
        let parts: Vec<&str> = spn.splitn(2, '/').collect();
        v.push(PrincipalName::new(PrincipalName::NT_SRV_HST, parts, realm));
    }
    v
}

/// Keytab entries for every principal and enctype, from the password and the computer salt.
pub fn keytab_entries(
    names: &MachineNames,
    realm: &str,
    password: &str,
    kvno: u32,
    etypes: &[EncryptionType],
) -> Result<Vec<KeytabEntry>, CryptoError> {
    let salt = computer_salt(realm, names);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
    let keys = etypes
        .iter()
        .map(|&e| string_to_key(e, password, &salt, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(principals(names, realm)
        .into_iter()
        .flat_map(|p| {
            keys.iter()
                .map(move |k| KeytabEntry::new(p.clone(), kvno, KeyBlock::from(k), now))
        })
        .collect())
}

/// MS-KILE 2.2.7 msDS-SupportedEncryptionTypes bits for `etypes`.
pub fn supported_enctypes(etypes: &[EncryptionType]) -> u32 {
    etypes.iter().fold(0, |acc, e| {
        acc | match *e {
            EncryptionType::RC4_HMAC => 0x4,
            EncryptionType::AES128_CTS_HMAC_SHA1_96 => 0x8,
            EncryptionType::AES256_CTS_HMAC_SHA1_96 => 0x10,
            _ => 0,
        }
    })
}

/// Parses `--enctypes`: comma-separated short (aes256, aes128, rc4) or RFC names.
pub fn parse_enctypes(list: &str) -> Result<Vec<EncryptionType>, UnknownEnctype> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.to_ascii_lowercase().as_str() {
            "aes256" | "aes256-cts" | "aes256-cts-hmac-sha1-96" => {
                Ok(EncryptionType::AES256_CTS_HMAC_SHA1_96)
            }
            "aes128" | "aes128-cts" | "aes128-cts-hmac-sha1-96" => {
                Ok(EncryptionType::AES128_CTS_HMAC_SHA1_96)
            }
            "rc4" | "rc4-hmac" | "arcfour-hmac" | "arcfour-hmac-md5" => {
                Ok(EncryptionType::RC4_HMAC)
            }
            _ => Err(UnknownEnctype(s.to_owned())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn foo() -> MachineNames {
        MachineNames::new("foo.example.test", None).unwrap()
    }

    #[test]
    fn passwords_are_long_random_and_from_the_charset() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.len(), PASSWORD_LEN);
        assert_ne!(*a, *b);
        assert!(a.bytes().all(|c| CHARSET.contains(&c)));
    }

    #[test]
    fn computer_salt_follows_ms_kile() {
        assert_eq!(
            computer_salt("EXAMPLE.TEST", &foo()),
            b"EXAMPLE.TESThostfoo.example.test"
        );
    }

    #[test]
    fn keytab_has_every_principal_and_etype() {
        let etypes = parse_enctypes("aes256,aes128").unwrap();
        let e = keytab_entries(&foo(), "EXAMPLE.TEST", "pw", 2, &etypes).unwrap();
        assert_eq!(e.len(), 5 * 2);
        let names: Vec<String> = e.iter().map(|e| e.principal.to_string()).collect();
        assert!(names.contains(&"FOO$@EXAMPLE.TEST".to_owned()));
        assert!(names.contains(&"RestrictedKrbHost/foo.example.test@EXAMPLE.TEST".to_owned()));
        assert!(e.iter().all(|e| e.kvno == 2));
    }

    #[test]
    fn enctype_lists_and_bits() {
        let all = parse_enctypes("aes256-cts-hmac-sha1-96, aes128 ,rc4").unwrap();
        assert_eq!(supported_enctypes(&all), 0x1c);
        assert!(parse_enctypes("des").is_err());
    }
}
