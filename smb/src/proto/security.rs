//! Security descriptors as QUERY_INFO/SET_INFO (SMB2_0_INFO_SECURITY) and the CREATE
//! context `SecD` carry them: the self-relative SECURITY_DESCRIPTOR (MS-DTYP 2.4.6), its
//! ACLs (2.4.5) and their ACEs (2.4.4; the allowed, denied and audit ACEs are read, any
//! other kind is kept as bytes).

use adjoin_rpc::codec::{Codec, Reader};
use adjoin_rpc::ndr::Sid;

use crate::error::SmbError;

/// `SE_DACL_PRESENT`.
pub const SE_DACL_PRESENT: u16 = 0x0004;
/// `SE_SACL_PRESENT`.
pub const SE_SACL_PRESENT: u16 = 0x0010;
/// `SE_SELF_RELATIVE`.
pub const SE_SELF_RELATIVE: u16 = 0x8000;

/// `ACCESS_ALLOWED_ACE_TYPE`.
pub const ACCESS_ALLOWED: u8 = 0;
/// `ACCESS_DENIED_ACE_TYPE`.
pub const ACCESS_DENIED: u8 = 1;
/// `SYSTEM_AUDIT_ACE_TYPE`.
pub const SYSTEM_AUDIT: u8 = 2;

/// `OWNER_SECURITY_INFORMATION` (MS-DTYP 2.4.7): which parts a query asks or a set changes.
pub const OWNER_SECURITY_INFORMATION: u32 = 0x1;
/// `GROUP_SECURITY_INFORMATION`.
pub const GROUP_SECURITY_INFORMATION: u32 = 0x2;
/// `DACL_SECURITY_INFORMATION`.
pub const DACL_SECURITY_INFORMATION: u32 = 0x4;
/// `SACL_SECURITY_INFORMATION`.
pub const SACL_SECURITY_INFORMATION: u32 = 0x8;

/// The largest descriptor read: a client cannot make the server walk more.
const MAX_DESCRIPTOR: usize = 64 * 1024;

/// One ACE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ace {
    /// An allowed, denied or audit ACE: its type, flags, mask and trustee.
    Basic {
        /// `AceType`.
        kind: u8,
        /// `AceFlags`.
        flags: u8,
        /// `Mask`.
        mask: u32,
        /// `Sid`.
        sid: Sid,
    },
    /// Any other kind, as it came (after the four-byte header).
    Other {
        /// `AceType`.
        kind: u8,
        /// `AceFlags`.
        flags: u8,
        /// The rest.
        body: Vec<u8>,
    },
}

/// An ACL: its ACEs in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acl {
    /// The ACEs.
    pub aces: Vec<Ace>,
}

/// A security descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityDescriptor {
    /// `Control` (SE_SELF_RELATIVE is set on the wire whatever this says).
    pub control: u16,
    /// The owner.
    pub owner: Option<Sid>,
    /// The primary group.
    pub group: Option<Sid>,
    /// The SACL.
    pub sacl: Option<Acl>,
    /// The DACL; with SE_DACL_PRESENT and `None`, a NULL DACL (everyone, everything).
    pub dacl: Option<Acl>,
}

fn malformed(why: &'static str) -> SmbError {
    SmbError::Malformed {
        what: "security descriptor",
        why,
    }
}

impl Acl {
    fn parse(bytes: &[u8]) -> Result<Self, SmbError> {
        let mut r = Reader::new("ACL", bytes);
        let revision = r.u8()?;
        r.u8()?;
        let size = usize::from(r.u16()?);
        let count = r.u16()?;
        r.u16()?;
        if !(2..=4).contains(&revision) {
            return Err(malformed("an ACL revision other than 2 or 4"));
        }
        if size < 8 || size > bytes.len() {
            return Err(malformed("an AclSize outside the descriptor"));
        }
        let mut at = 8;
        let mut aces = Vec::with_capacity(usize::from(count).min(1024));
        for _ in 0..count {
            let header = bytes
                .get(at..at + 4)
                .filter(|_| at + 4 <= size)
                .ok_or(malformed("an ACE past the ACL's end"))?;
            let (kind, flags) = (header[0], header[1]);
            let ace_size = usize::from(u16::from_le_bytes([header[2], header[3]]));
            if ace_size < 4 || at + ace_size > size {
                return Err(malformed("an AceSize outside the ACL"));
            }
            let body = &bytes[at + 4..at + ace_size];
            let ace = match kind {
                ACCESS_ALLOWED | ACCESS_DENIED | SYSTEM_AUDIT => {
                    if body.len() < 4 {
                        return Err(malformed("an ACE without its mask"));
                    }
                    let mask = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
                    // The SID fills the rest, less any padding the writer added.
                    let sid_bytes = &body[4..];
                    let count = usize::from(*sid_bytes.get(1).ok_or(malformed("a short SID"))?);
                    let sid_len = 8 + 4 * count;
                    let sid = Sid::from_bytes(
                        sid_bytes
                            .get(..sid_len)
                            .ok_or(malformed("a SID past its ACE"))?,
                    )?;
                    Ace::Basic {
                        kind,
                        flags,
                        mask,
                        sid,
                    }
                }
                _ => Ace::Other {
                    kind,
                    flags,
                    body: body.to_vec(),
                },
            };
            aces.push(ace);
            at += ace_size;
        }
        Ok(Self { aces })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        2u8.encode(out);
        0u8.encode(out);
        0u16.encode(out);
        (self.aces.len() as u16).encode(out);
        0u16.encode(out);
        for ace in &self.aces {
            let ace_start = out.len();
            match ace {
                Ace::Basic {
                    kind,
                    flags,
                    mask,
                    sid,
                } => {
                    kind.encode(out);
                    flags.encode(out);
                    0u16.encode(out);
                    mask.encode(out);
                    out.extend_from_slice(&sid.to_bytes());
                }
                Ace::Other { kind, flags, body } => {
                    kind.encode(out);
                    flags.encode(out);
                    0u16.encode(out);
                    out.extend_from_slice(body);
                }
            }
            let ace_size = (out.len() - ace_start) as u16;
            out[ace_start + 2..ace_start + 4].copy_from_slice(&ace_size.to_le_bytes());
        }
        let size = (out.len() - start) as u16;
        out[start + 2..start + 4].copy_from_slice(&size.to_le_bytes());
    }
}

impl SecurityDescriptor {
    /// Reads a self-relative descriptor.
    pub fn parse(bytes: &[u8]) -> Result<Self, SmbError> {
        if bytes.len() > MAX_DESCRIPTOR {
            return Err(malformed("larger than 64 KiB"));
        }
        let mut r = Reader::new("security descriptor", bytes);
        let revision = r.u8()?;
        r.u8()?;
        let control = r.u16()?;
        let offsets = [r.u32()?, r.u32()?, r.u32()?, r.u32()?].map(|o| o as usize);
        if revision != 1 {
            return Err(malformed("a revision other than 1"));
        }
        if control & SE_SELF_RELATIVE == 0 {
            return Err(malformed("not self-relative"));
        }
        let part = |offset: usize| -> Result<Option<&[u8]>, SmbError> {
            match offset {
                0 => Ok(None),
                o if o < 20 || o >= bytes.len() => Err(malformed("an offset outside it")),
                o => Ok(Some(&bytes[o..])),
            }
        };
        let sid = |offset: usize| -> Result<Option<Sid>, SmbError> {
            let Some(rest) = part(offset)? else {
                return Ok(None);
            };
            let count = usize::from(*rest.get(1).ok_or(malformed("a short SID"))?);
            let len = 8 + 4 * count;
            Ok(Some(Sid::from_bytes(
                rest.get(..len).ok_or(malformed("a SID past its end"))?,
            )?))
        };
        let [owner, group, sacl, dacl] = offsets;
        let acl = |offset: usize, present: u16| -> Result<Option<Acl>, SmbError> {
            match part(offset)? {
                Some(rest) if control & present != 0 => Acl::parse(rest).map(Some),
                _ => Ok(None),
            }
        };
        Ok(Self {
            control,
            owner: sid(owner)?,
            group: sid(group)?,
            sacl: acl(sacl, SE_SACL_PRESENT)?,
            dacl: acl(dacl, SE_DACL_PRESENT)?,
        })
    }

    /// The self-relative form: the header, then the owner, the group, the SACL and the
    /// DACL, each present one at the offset the header names.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut control = self.control | SE_SELF_RELATIVE;
        if self.sacl.is_some() {
            control |= SE_SACL_PRESENT;
        }
        if self.dacl.is_some() {
            control |= SE_DACL_PRESENT;
        }
        let mut out = vec![1, 0];
        control.encode(&mut out);
        out.extend_from_slice(&[0; 16]);
        let offset_at = |slot: usize, out: &mut Vec<u8>| {
            let at = out.len() as u32;
            out[4 + 4 * slot..8 + 4 * slot].copy_from_slice(&at.to_le_bytes());
        };
        if let Some(owner) = &self.owner {
            offset_at(0, &mut out);
            out.extend_from_slice(&owner.to_bytes());
        }
        if let Some(group) = &self.group {
            offset_at(1, &mut out);
            out.extend_from_slice(&group.to_bytes());
        }
        if let Some(sacl) = &self.sacl {
            offset_at(2, &mut out);
            sacl.encode(&mut out);
        }
        if let Some(dacl) = &self.dacl {
            offset_at(3, &mut out);
            dacl.encode(&mut out);
        }
        out
    }

    /// Whether the descriptor carries a NULL DACL (present, without an ACL).
    pub fn null_dacl(&self) -> bool {
        self.control & SE_DACL_PRESENT != 0 && self.dacl.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-DTYP 2.4.6's layout written out by hand: owner S-1-5-32-544 (BUILTIN\
    /// Administrators), group S-1-5-18 (SYSTEM), no SACL, and a DACL granting Everyone
    /// (S-1-1-0) FILE_ALL_ACCESS with OBJECT_INHERIT|CONTAINER_INHERIT.
    const VECTOR: &[u8] = &[
        0x01, 0x00, 0x04, 0x80, // revision 1, control DACL_PRESENT | SELF_RELATIVE
        0x14, 0x00, 0x00, 0x00, // owner at 20
        0x24, 0x00, 0x00, 0x00, // group at 36
        0x00, 0x00, 0x00, 0x00, // no SACL
        0x30, 0x00, 0x00, 0x00, // DACL at 48
        0x01, 0x02, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 0x02, 0, 0, // S-1-5-32-544
        0x01, 0x01, 0, 0, 0, 0, 0, 5, 0x12, 0, 0, 0, // S-1-5-18
        0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, // ACL rev 2, size 28, 1 ACE
        0x00, 0x03, 0x14, 0x00, 0xff, 0x01, 0x1f, 0x00, // allowed, OI|CI, size 20, mask
        0x01, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, // S-1-1-0
    ];

    fn sid(s: &str) -> Sid {
        s.parse().unwrap()
    }

    #[test]
    fn a_descriptor_written_by_hand_reads_and_writes_back_the_same() {
        let sd = SecurityDescriptor::parse(VECTOR).unwrap();
        assert_eq!(sd.owner, Some(sid("S-1-5-32-544")));
        assert_eq!(sd.group, Some(sid("S-1-5-18")));
        assert_eq!(sd.sacl, None);
        assert_eq!(
            sd.dacl.as_ref().unwrap().aces,
            vec![Ace::Basic {
                kind: ACCESS_ALLOWED,
                flags: 3,
                mask: 0x001f_01ff,
                sid: sid("S-1-1-0"),
            }]
        );
        assert!(!sd.null_dacl());
        assert_eq!(sd.to_bytes(), VECTOR);
    }

    #[test]
    fn a_null_dacl_and_other_ace_kinds_survive_and_bad_offsets_are_refused() {
        let null = SecurityDescriptor {
            control: SE_DACL_PRESENT,
            owner: Some(sid("S-1-5-21-1-2-3-1104")),
            ..SecurityDescriptor::default()
        };
        let back = SecurityDescriptor::parse(&null.to_bytes()).unwrap();
        assert!(back.null_dacl());
        assert_eq!(back.owner, null.owner);
        let other = SecurityDescriptor {
            dacl: Some(Acl {
                aces: vec![Ace::Other {
                    kind: 5,
                    flags: 0,
                    body: vec![1, 2, 3, 4],
                }],
            }),
            ..SecurityDescriptor::default()
        };
        assert_eq!(
            SecurityDescriptor::parse(&other.to_bytes()).unwrap().dacl,
            other.dacl
        );
        let mut bad = VECTOR.to_vec();
        bad[4] = 0xf0; // owner past the end
        assert!(SecurityDescriptor::parse(&bad).is_err());
        let mut bad = VECTOR.to_vec();
        bad[50] = 0xff; // AclSize past the end
        assert!(SecurityDescriptor::parse(&bad).is_err());
        let mut absolute = VECTOR.to_vec();
        absolute[3] = 0; // not self-relative
        assert!(SecurityDescriptor::parse(&absolute).is_err());
        assert!(SecurityDescriptor::parse(&VECTOR[..10]).is_err());
    }
}
