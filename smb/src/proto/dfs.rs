//! MS-DFSC 2.2.2 and 2.2.4: a DFS referral request and its answer, the buffers of
//! FSCTL_DFS_GET_REFERRALS (MS-SMB2 2.2.31, sent on IPC$). A client asks where a path
//! such as `\example.com\sysvol` really lives; the answer names the targets
//! (`\dc1.example.com\sysvol`), or, for a domain or a DC referral, a list of names.
//!
//! The answer is read with every offset and length checked against the bytes the server
//! sent, at most [`MAX_ENTRIES`] entries, each string at most [`MAX_NAME_UNITS`] long.

use crate::error::SmbError;

/// FSCTL_DFS_GET_REFERRALS (MS-SMB2 2.2.31, MS-FSCC 2.3.16).
pub const FSCTL_DFS_GET_REFERRALS: u32 = 0x0006_0194;
/// The highest referral version this client reads (MS-DFSC 2.2.5.4, version 4).
pub const MAX_REFERRAL_LEVEL: u16 = 4;
/// The most entries read from one answer (a domain holds few DCs; a root few targets).
pub const MAX_ENTRIES: usize = 256;
/// The longest name read, in UTF-16 code units (MS-FSCC 2.1.5 allows 32,767).
pub const MAX_NAME_UNITS: usize = 32_767;

/// MS-DFSC 2.2.5.3 ReferralEntryFlags: NameListReferral (a domain or DC referral).
const NAME_LIST_REFERRAL: u16 = 0x0002;
/// MS-DFSC 2.2.4 ReferralHeaderFlags: R, the targets are root targets.
pub const REFERRAL_SERVERS: u32 = 0x0000_0001;
/// MS-DFSC 2.2.4 ReferralHeaderFlags: S, the targets hold storage (a link's or a
/// root's final targets).
pub const STORAGE_SERVERS: u32 = 0x0000_0002;

/// MS-DFSC 2.2.2 REQ_GET_DFS_REFERRAL: `MaxReferralLevel(2) RequestFileName` (UTF-16LE,
/// NUL-terminated). An empty path asks for the domains; `\domain` for its DCs;
/// `\domain\share` or `\server\share\...` for where the path lives.
pub fn request(path: &str) -> Vec<u8> {
    let mut out = MAX_REFERRAL_LEVEL.to_le_bytes().to_vec();
    out.extend(super::utf16(path));
    out.extend([0, 0]);
    out
}

/// One referral entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referral {
    /// A path's target: where `dfs_path` really is (`network_address`, e.g.
    /// `\dc1.example.com\sysvol`).
    Target {
        /// `VersionNumber` (2, 3 or 4).
        version: u16,
        /// `ServerType`: 1 for a root target, 0 for a link target.
        server_type: u16,
        /// `TimeToLive`, seconds.
        ttl: u32,
        /// `DFSPath`: the path (prefix) the entry is for.
        dfs_path: String,
        /// `NetworkAddress`: the target.
        network_address: String,
    },
    /// A domain or DC referral: `special_name` (a domain) and the names in it.
    NameList {
        /// `VersionNumber` (3 or 4).
        version: u16,
        /// `TimeToLive`, seconds.
        ttl: u32,
        /// `SpecialName`: the domain (`\example.com` or `\EXAMPLE`).
        special_name: String,
        /// `ExpandedNames`: the DCs (`\dc1.example.com`), or the domain's other name.
        expanded_names: Vec<String>,
    },
}

/// MS-DFSC 2.2.4 RESP_GET_DFS_REFERRAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralResponse {
    /// `PathConsumed`: how many characters of the request's path the entries cover.
    pub path_consumed_chars: usize,
    /// `ReferralHeaderFlags`.
    pub header_flags: u32,
    /// `ReferralEntries`, in the server's order of preference.
    pub entries: Vec<Referral>,
}

fn malformed(why: &'static str) -> SmbError {
    SmbError::Malformed {
        what: "RESP_GET_DFS_REFERRAL",
        why,
    }
}

fn u16_at(buf: &[u8], at: usize) -> Result<u16, SmbError> {
    buf.get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| malformed("an entry runs past the buffer"))
}

fn u32_at(buf: &[u8], at: usize) -> Result<u32, SmbError> {
    buf.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| malformed("an entry runs past the buffer"))
}

/// The NUL-terminated UTF-16LE string at `at` in `buf`, and the bytes it takes with its
/// NUL.
fn string_at(buf: &[u8], at: usize) -> Result<(String, usize), SmbError> {
    let tail = buf
        .get(at..)
        .ok_or_else(|| malformed("a string offset points past the buffer"))?;
    let Some(units) = tail
        .chunks_exact(2)
        .take(MAX_NAME_UNITS + 1)
        .position(|c| c == [0, 0])
    else {
        return Err(if tail.len() / 2 > MAX_NAME_UNITS {
            malformed("a name longer than 32,767 characters")
        } else {
            malformed("a string without its terminating NUL")
        });
    };
    let text = super::from_utf16(&tail[..units * 2], "RESP_GET_DFS_REFERRAL")?;
    Ok((text, units * 2 + 2))
}

impl ReferralResponse {
    /// Reads the answer (an IOCTL's output buffer).
    pub fn parse(buf: &[u8]) -> Result<Self, SmbError> {
        let path_consumed = u16_at(buf, 0)?;
        let count = usize::from(u16_at(buf, 2)?);
        let header_flags = u32_at(buf, 4)?;
        if count > MAX_ENTRIES {
            return Err(malformed("more referral entries than a client takes"));
        }
        let mut entries = Vec::with_capacity(count);
        let mut at = 8;
        for _ in 0..count {
            let version = u16_at(buf, at)?;
            let size = usize::from(u16_at(buf, at + 2)?);
            if size < 8 || at + size > buf.len() {
                return Err(malformed("an entry's size does not fit the buffer"));
            }
            entries.push(Self::entry(buf, at, version)?);
            at += size;
        }
        Ok(Self {
            // Bytes of UTF-16 on the wire (MS-DFSC 2.2.4), without the NUL.
            path_consumed_chars: usize::from(path_consumed) / 2,
            header_flags,
            entries,
        })
    }

    /// The entry at `at`: its string offsets count from the entry's start.
    fn entry(buf: &[u8], at: usize, version: u16) -> Result<Referral, SmbError> {
        let server_type = u16_at(buf, at + 4)?;
        let flags = u16_at(buf, at + 6)?;
        let string = |field: usize| -> Result<String, SmbError> {
            string_at(buf, at + usize::from(u16_at(buf, at + field)?)).map(|(text, _)| text)
        };
        match version {
            // DFS_REFERRAL_V2: Proximity(4) TimeToLive(4) DFSPathOffset DFSAlternatePathOffset
            // NetworkAddressOffset.
            2 => Ok(Referral::Target {
                version,
                server_type,
                ttl: u32_at(buf, at + 12)?,
                dfs_path: string(16)?,
                network_address: string(20)?,
            }),
            // DFS_REFERRAL_V3/V4: TimeToLive(4), then the NameListReferral or the
            // target's offsets.
            3 | 4 => {
                let ttl = u32_at(buf, at + 8)?;
                if flags & NAME_LIST_REFERRAL != 0 {
                    let names = usize::from(u16_at(buf, at + 14)?);
                    if names > MAX_ENTRIES {
                        return Err(malformed("more expanded names than a client takes"));
                    }
                    let mut expanded_names = Vec::with_capacity(names);
                    let mut offset = at + usize::from(u16_at(buf, at + 16)?);
                    for _ in 0..names {
                        let (name, len) = string_at(buf, offset)?;
                        offset += len;
                        expanded_names.push(name);
                    }
                    Ok(Referral::NameList {
                        version,
                        ttl,
                        special_name: string(12)?,
                        expanded_names,
                    })
                } else {
                    Ok(Referral::Target {
                        version,
                        server_type,
                        ttl,
                        dfs_path: string(12)?,
                        network_address: string(16)?,
                    })
                }
            }
            _ => Err(malformed("a referral version other than 2, 3 or 4")),
        }
    }

    /// The targets (network addresses) of a path referral, in the server's order.
    pub fn targets(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Referral::Target {
                    network_address, ..
                } => Some(network_address.as_str()),
                Referral::NameList { .. } => None,
            })
            .collect()
    }
}

/// `\server\share` of a target such as `\dc1.example.com\sysvol\sub`: the server and the
/// share (`None` for a name without both).
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    let mut parts = target.trim_start_matches('\\').splitn(3, '\\');
    let server = parts.next().filter(|s| !s.is_empty())?;
    let share = parts.next().filter(|s| !s.is_empty())?;
    Some((server, share))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// UTF-16LE with its NUL.
    fn wide(s: &str) -> Vec<u8> {
        let mut out = crate::proto::utf16(s);
        out.extend([0, 0]);
        out
    }

    /// A v4 target entry (34 bytes of fixed fields) with its strings after it.
    fn v4_target(ttl: u32, path: &str, address: &str) -> Vec<u8> {
        let mut entry = Vec::new();
        let strings_at: u16 = 34;
        let path_w = wide(path);
        entry.extend(4u16.to_le_bytes());
        entry.extend(34u16.to_le_bytes()); // Size: the fixed part; strings follow all entries
        entry.extend(1u16.to_le_bytes()); // ServerType: root
        entry.extend(0u16.to_le_bytes());
        entry.extend(ttl.to_le_bytes());
        entry.extend(strings_at.to_le_bytes()); // DFSPath
        entry.extend(strings_at.to_le_bytes()); // DFSAlternatePath
        entry.extend((strings_at + path_w.len() as u16).to_le_bytes()); // NetworkAddress
        entry.extend([0u8; 16]); // ServiceSiteGuid
        entry.extend(path_w);
        entry.extend(wide(address));
        entry
    }

    #[test]
    fn ms_dfsc_2_2_2_request_is_the_level_and_the_nul_terminated_path() {
        let req = request(r"\a\b");
        assert_eq!(
            req,
            [4, 0, b'\\', 0, b'a', 0, b'\\', 0, b'b', 0, 0, 0].to_vec()
        );
    }

    #[test]
    fn ms_dfsc_2_2_5_4_a_root_target_is_read() {
        let mut buf = Vec::new();
        buf.extend(40u16.to_le_bytes()); // PathConsumed: 20 characters
        buf.extend(1u16.to_le_bytes());
        buf.extend((REFERRAL_SERVERS | STORAGE_SERVERS).to_le_bytes());
        buf.extend(v4_target(
            300,
            r"\example.com\sysvol",
            r"\DC1.example.com\sysvol",
        ));
        let resp = ReferralResponse::parse(&buf).unwrap();
        assert_eq!(resp.path_consumed_chars, 20);
        assert_eq!(resp.targets(), vec![r"\DC1.example.com\sysvol"]);
        assert_eq!(
            resp.entries[0],
            Referral::Target {
                version: 4,
                server_type: 1,
                ttl: 300,
                dfs_path: r"\example.com\sysvol".into(),
                network_address: r"\DC1.example.com\sysvol".into(),
            }
        );
        assert_eq!(
            split_target(resp.targets()[0]),
            Some(("DC1.example.com", "sysvol"))
        );
    }

    #[test]
    fn ms_dfsc_2_2_5_4_a_dc_referral_lists_names() {
        let mut entry = Vec::new();
        entry.extend(3u16.to_le_bytes());
        entry.extend(18u16.to_le_bytes());
        entry.extend(0u16.to_le_bytes());
        entry.extend(NAME_LIST_REFERRAL.to_le_bytes());
        entry.extend(600u32.to_le_bytes());
        entry.extend(18u16.to_le_bytes()); // SpecialName right after the fixed part
        entry.extend(2u16.to_le_bytes());
        let special = wide(r"\example.com");
        entry.extend((18 + special.len() as u16).to_le_bytes());
        entry.extend(special);
        entry.extend(wide(r"\dc1.example.com"));
        entry.extend(wide(r"\dc2.example.com"));
        let mut buf = vec![0, 0, 1, 0, 0, 0, 0, 0];
        buf.extend(entry);
        let resp = ReferralResponse::parse(&buf).unwrap();
        assert!(resp.targets().is_empty());
        assert_eq!(
            resp.entries[0],
            Referral::NameList {
                version: 3,
                ttl: 600,
                special_name: r"\example.com".into(),
                expanded_names: vec![r"\dc1.example.com".into(), r"\dc2.example.com".into()],
            }
        );
    }

    #[test]
    fn offsets_past_the_buffer_and_unterminated_names_are_refused() {
        let mut buf = vec![0, 0, 1, 0, 0, 0, 0, 0];
        let mut entry = v4_target(1, r"\a\b", r"\c\d");
        entry[12] = 0xff; // DFSPathOffset far past the end
        buf.extend(&entry);
        assert!(ReferralResponse::parse(&buf).is_err());
        let mut buf = vec![0, 0, 1, 0, 0, 0, 0, 0];
        let mut entry = v4_target(1, r"\a\b", r"\c\d");
        entry.truncate(entry.len() - 2); // no NUL after the address
        buf.extend(&entry);
        assert!(ReferralResponse::parse(&buf).is_err());
        assert!(ReferralResponse::parse(&[0, 0, 0xff, 0xff, 0, 0, 0, 0]).is_err());
        assert!(ReferralResponse::parse(&[0, 0]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(buf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = ReferralResponse::parse(&buf);
        }
    }
}
