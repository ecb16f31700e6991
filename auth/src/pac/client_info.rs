//! MS-PAC 2.7 PAC_CLIENT_INFO (buffer type 10): binds the PAC to the
//! ticket's client name and authentication time.

#[cfg(test)]
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::PacError;
use super::reader::{Reader, utf16le};
use crate::principal::PrincipalName;

/// FILETIME ticks (100 ns) per second.
const TICKS_PER_SECOND: u64 = 10_000_000;
/// Seconds from 1601-01-01 (the FILETIME epoch) to 1970-01-01.
const EPOCH_DIFFERENCE: u64 = 11_644_473_600;

/// MS-PAC 2.7 PAC_CLIENT_INFO.
///
/// ```text
/// ClientId (FILETIME, 8 bytes: the ticket's authtime)
/// NameLength (u16, bytes) | Name (WCHAR[NameLength / 2], no terminator)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The ticket's authtime as a FILETIME.
    pub client_id: u64,
    /// The client's name, without the realm.
    pub name: String,
}

impl ClientInfo {
    /// Decodes the buffer; it must hold exactly the structure.
    pub fn parse(bytes: &[u8]) -> Result<Self, PacError> {
        let mut r = Reader::new("PAC_CLIENT_INFO", bytes);
        let client_id = r.u64()?;
        let len = r.u16()?;
        let name = utf16le("PAC_CLIENT_INFO Name", r.take(len.into())?)?;
        r.finish()?;
        Ok(Self { client_id, name })
    }

    /// `client_id` as Unix seconds (FILETIME rounded down to the second).
    pub fn client_time(&self) -> i64 {
        filetime_to_unix(self.client_id)
    }

    /// MS-PAC 2.7 / MS-KILE 3.4.5.3: the name must be the ticket's client
    /// name (its components, `/`-joined, without the realm; compared without
    /// regard to ASCII case, as AD names are) and `ClientId` its authtime (to
    /// the second, Kerberos time's resolution). Stops a PAC moved from one
    /// ticket into another.
    pub fn check_ticket_client(
        &self,
        client: &PrincipalName,
        auth_time: SystemTime,
    ) -> Result<(), PacError> {
        let ticket_name = client.components.join("/");
        if !self.name.eq_ignore_ascii_case(&ticket_name) {
            return Err(PacError::ClientNameMismatch {
                pac: self.name.clone(),
                ticket: ticket_name,
            });
        }
        let ticket_time = system_time_to_unix(auth_time);
        if self.client_time() != ticket_time {
            return Err(PacError::ClientTimeMismatch {
                pac: self.client_time(),
                ticket: ticket_time,
            });
        }
        Ok(())
    }
}

/// A FILETIME (100 ns since 1601) as whole Unix seconds.
pub fn filetime_to_unix(filetime: u64) -> i64 {
    let seconds = filetime / TICKS_PER_SECOND;
    // Both operands are far below i64::MAX (u64::MAX / 10^7 < 2^41).
    seconds as i64 - EPOCH_DIFFERENCE as i64
}

/// Unix seconds as a FILETIME; `None` before 1601.
pub fn unix_to_filetime(unix: i64) -> Option<u64> {
    let since_1601 = u64::try_from(unix.checked_add(EPOCH_DIFFERENCE as i64)?).ok()?;
    since_1601.checked_mul(TICKS_PER_SECOND)
}

/// Whole seconds since 1970 (negative before).
fn system_time_to_unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let before = e.duration();
            let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            // Round toward minus infinity, like the FILETIME conversion.
            match before.subsec_nanos() {
                0 => -secs,
                _ => -secs - 1,
            }
        }
    }
}

/// Unix seconds as a SystemTime.
#[cfg(test)]
pub(crate) fn unix_to_system_time(unix: i64) -> SystemTime {
    match u64::try_from(unix) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heimdal's `saved_pac` client info (offset 0x220, 0x20 bytes).
    fn heimdal_client_info() -> &'static [u8] {
        &include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin")[0x220..0x220 + 0x20]
    }

    fn machine() -> PrincipalName {
        PrincipalName::new(
            PrincipalName::NT_PRINCIPAL,
            ["w2003final$"],
            "WIN2K3.THINKER.LOCAL",
        )
    }

    #[test]
    fn decodes_and_matches_the_heimdal_sample() {
        let info = ClientInfo::parse(heimdal_client_info()).unwrap();
        assert_eq!(info.name, "w2003final$");
        // test_pac.c: authtime = 1120440609.
        assert_eq!(info.client_time(), 1_120_440_609);
        let authtime = unix_to_system_time(1_120_440_609);
        info.check_ticket_client(&machine(), authtime).unwrap();
        let upper = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["W2003FINAL$"], "X");
        info.check_ticket_client(&upper, authtime).unwrap();
    }

    #[test]
    fn another_client_or_time_is_refused() {
        let info = ClientInfo::parse(heimdal_client_info()).unwrap();
        let authtime = unix_to_system_time(1_120_440_609);
        let other = PrincipalName::new(PrincipalName::NT_PRINCIPAL, ["alice"], "X");
        assert!(matches!(
            info.check_ticket_client(&other, authtime),
            Err(PacError::ClientNameMismatch { .. })
        ));
        assert_eq!(
            info.check_ticket_client(&machine(), authtime + Duration::from_secs(1)),
            Err(PacError::ClientTimeMismatch {
                pac: 1_120_440_609,
                ticket: 1_120_440_610
            })
        );
    }

    #[test]
    fn lengths_are_checked() {
        let bytes = heimdal_client_info();
        assert!(ClientInfo::parse(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(matches!(
            ClientInfo::parse(&longer),
            Err(PacError::TrailingBytes { .. })
        ));
        let mut odd = bytes.to_vec();
        odd[8] = 0x15;
        assert!(ClientInfo::parse(&odd).is_err());
    }

    #[test]
    fn filetime_conversions() {
        assert_eq!(filetime_to_unix(116_444_736_000_000_000), 0);
        assert_eq!(unix_to_filetime(0), Some(116_444_736_000_000_000));
        assert_eq!(filetime_to_unix(0), -11_644_473_600);
        assert_eq!(unix_to_filetime(-11_644_473_601), None);
        assert_eq!(system_time_to_unix(unix_to_system_time(-5)), -5);
        assert_eq!(
            system_time_to_unix(UNIX_EPOCH - Duration::from_millis(1500)),
            -2
        );
    }
}
