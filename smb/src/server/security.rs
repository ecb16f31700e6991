//! Security descriptors over POSIX permissions: QUERY_INFO and SET_INFO with
//! SMB2_0_INFO_SECURITY (MS-SMB2 3.3.5.20.3, 3.3.5.21.3) and the CREATE context `SecD`
//! (2.2.13.2.1). The file's permission bits are the truth; a descriptor is a view of them.
//!
//! - **Owner and group**: the SIDs the identity service gives the file's uid and gid
//!   (Samba's `S-1-22-1-uid` and `S-1-22-2-gid` for ids it does not know).
//! - **DACL**: three allow ACEs, for the owner (the user bits), the group and Everyone
//!   (the other bits); `rwx` is FILE_ALL_ACCESS, otherwise `r`, `w` and `x` are
//!   FILE_GENERIC_READ, FILE_GENERIC_WRITE and FILE_GENERIC_EXECUTE. An ACE granting
//!   nothing is left out, so mode 0000 is an empty DACL (the owner may still read and
//!   change it, as a POSIX owner may chmod and a Windows owner has READ_CONTROL and
//!   WRITE_DAC whatever the DACL says); mode 0777 (everything for everyone) is a NULL
//!   DACL.
//! - **Setting a DACL** sets the bits back: the owner's, the group's and Everyone's
//!   (or Authenticated Users') allow ACEs grant their class; Everyone's grants the owner
//!   and the group too, as it would on Windows; a deny ACE for one of them takes its bits
//!   away. A NULL DACL (or none) is 0777; an empty one 0000. ACEs for anyone else cannot be kept
//!   in a mode and are ignored (logged); the set-user-ID, set-group-ID and sticky bits
//!   stay as they were.
//! - **Owner and group cannot change** (no SID maps to another uid here without
//!   privilege): setting the ones the file has is accepted, any other is
//!   STATUS_INVALID_OWNER / STATUS_INVALID_PRIMARY_GROUP. The SACL is not kept.

use adjoin_rpc::ndr::Sid;
use adjoin_rpc::ntstatus::NtStatus;

use super::backend::Stat;
use super::files::FileOpen;
use super::notify::{self, Change};
use super::token::TokenMapper;
use super::{Refusal, ServerConnection};
use crate::proto::security::{
    ACCESS_ALLOWED, ACCESS_DENIED, Ace, Acl, DACL_SECURITY_INFORMATION, GROUP_SECURITY_INFORMATION,
    OWNER_SECURITY_INFORMATION, SACL_SECURITY_INFORMATION, SE_DACL_PRESENT, SecurityDescriptor,
};
use crate::proto::{CompletionFilter, Header, SetInfoRequest, SetInfoResponse};

/// FILE_ALL_ACCESS.
const FILE_ALL: u32 = 0x001f_01ff;
/// FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE.
const GENERIC_READ_MAPPED: u32 = 0x0012_0089;
const GENERIC_WRITE_MAPPED: u32 = 0x0012_0116;
const GENERIC_EXECUTE_MAPPED: u32 = 0x0012_00a0;
/// The generic rights (MS-DTYP 2.4.3).
const GENERIC_ALL: u32 = 0x1000_0000;
const GENERIC_EXECUTE: u32 = 0x2000_0000;
const GENERIC_WRITE: u32 = 0x4000_0000;
const GENERIC_READ: u32 = 0x8000_0000;
/// FILE_READ_DATA, FILE_WRITE_DATA | FILE_APPEND_DATA, FILE_EXECUTE.
const READ_DATA: u32 = 0x1;
const WRITE_DATA: u32 = 0x2 | 0x4;
const EXECUTE: u32 = 0x20;

fn everyone() -> Sid {
    Sid::new(1, &[0]).expect("a valid SID")
}

fn authenticated_users() -> Sid {
    Sid::new(5, &[11]).expect("a valid SID")
}

/// The file's owner and group as SIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Owners {
    pub(super) owner: Sid,
    pub(super) group: Sid,
}

impl Owners {
    /// The SIDs of `stat`'s uid and gid through `tokens` (Samba's Unix user and group
    /// SIDs where it has none).
    pub(super) fn of(stat: &Stat, tokens: Option<&dyn TokenMapper>) -> Self {
        let owner = tokens
            .and_then(|t| t.sid_of_uid(stat.uid))
            .unwrap_or_else(|| Sid::new(22, &[1, stat.uid]).expect("a valid SID"));
        let group = tokens
            .and_then(|t| t.sid_of_gid(stat.gid))
            .unwrap_or_else(|| Sid::new(22, &[2, stat.gid]).expect("a valid SID"));
        Self { owner, group }
    }
}

/// The access an `rwx` triple grants.
fn mask_of(bits: u32) -> u32 {
    if bits & 7 == 7 {
        return FILE_ALL;
    }
    let mut mask = 0;
    if bits & 4 != 0 {
        mask |= GENERIC_READ_MAPPED;
    }
    if bits & 2 != 0 {
        mask |= GENERIC_WRITE_MAPPED;
    }
    if bits & 1 != 0 {
        mask |= GENERIC_EXECUTE_MAPPED;
    }
    mask
}

/// The `rwx` triple an access mask comes to.
fn bits_of(mask: u32) -> u32 {
    let mut bits = 0;
    if mask & (READ_DATA | GENERIC_READ | GENERIC_ALL) != 0 {
        bits |= 4;
    }
    if mask & (WRITE_DATA | GENERIC_WRITE | GENERIC_ALL) != 0 {
        bits |= 2;
    }
    if mask & (EXECUTE | GENERIC_EXECUTE | GENERIC_ALL) != 0 {
        bits |= 1;
    }
    bits
}

/// The descriptor of a file with `stat` owned by `owners`, with the parts `info` asks.
pub(super) fn descriptor(stat: &Stat, owners: &Owners, info: u32) -> SecurityDescriptor {
    let mut sd = SecurityDescriptor::default();
    if info & OWNER_SECURITY_INFORMATION != 0 {
        sd.owner = Some(owners.owner.clone());
    }
    if info & GROUP_SECURITY_INFORMATION != 0 {
        sd.group = Some(owners.group.clone());
    }
    // Everything for everyone is a NULL DACL, as a NULL DACL set is 0777.
    if info & DACL_SECURITY_INFORMATION != 0 && stat.mode & 0o777 == 0o777 {
        sd.control |= SE_DACL_PRESENT;
    } else if info & DACL_SECURITY_INFORMATION != 0 {
        let allow = |mask: u32, sid: &Sid| Ace::Basic {
            kind: ACCESS_ALLOWED,
            flags: 0,
            mask,
            sid: sid.clone(),
        };
        let classes = [
            (mask_of(stat.mode >> 6), &owners.owner),
            (mask_of(stat.mode >> 3), &owners.group),
            (mask_of(stat.mode), &everyone()),
        ];
        let aces = classes
            .into_iter()
            .filter(|(mask, _)| *mask != 0)
            .map(|(mask, sid)| allow(mask, sid))
            .collect();
        sd.dacl = Some(Acl { aces });
    }
    sd
}

/// The permission bits `sd`'s DACL comes to for a file owned by `owners` whose bits are
/// `mode` now (its set-user-ID, set-group-ID and sticky bits are kept).
pub(super) fn mode_from(sd: &SecurityDescriptor, owners: &Owners, mode: u32) -> u32 {
    let special = mode & 0o7000;
    // MS-DTYP 2.4.6: no DACL (a NULL one, or none present) grants everyone everything.
    let Some(dacl) = &sd.dacl else {
        return special | 0o777;
    };
    let world = [everyone(), authenticated_users()];
    // Owner, group and other bits granted, and denied.
    let (mut allowed, mut denied) = ([0u32; 3], [0u32; 3]);
    for ace in &dacl.aces {
        let Ace::Basic {
            kind, mask, sid, ..
        } = ace
        else {
            continue;
        };
        let bits = bits_of(*mask);
        let (is_owner, is_group, is_world) = (
            *sid == owners.owner,
            *sid == owners.group,
            world.contains(sid),
        );
        if !(is_owner || is_group || is_world) {
            tracing::debug!(%sid, "an ACE for another SID cannot be kept in a file's mode");
            continue;
        }
        let classes = match *kind {
            ACCESS_ALLOWED => &mut allowed,
            ACCESS_DENIED => &mut denied,
            _ => continue,
        };
        for (class, applies) in [is_owner, is_group, false].into_iter().enumerate() {
            if applies || is_world {
                classes[class] |= bits;
            }
        }
    }
    let class = |i: usize| allowed[i] & !denied[i];
    special | (class(0) << 6) | (class(1) << 3) | class(2)
}

/// MS-SMB2 3.3.5.21.3: sets the parts of `sd` that `info` names on `open`, whose owner
/// and group are `owners`.
pub(super) fn set(
    open: &FileOpen,
    sd: &SecurityDescriptor,
    info: u32,
    owners: &Owners,
    stat: &Stat,
) -> Result<(), Refusal> {
    if info & OWNER_SECURITY_INFORMATION != 0 && sd.owner.as_ref() != Some(&owners.owner) {
        // The user's own SID names the file's owner when she owns it, whatever SID the
        // identity service gave the uid.
        let mine = open.token.uid == stat.uid && sd.owner.as_ref() == Some(&open.token.user_sid);
        if !mine {
            return Err(Refusal::Status(NtStatus::INVALID_OWNER));
        }
    }
    if info & GROUP_SECURITY_INFORMATION != 0 && sd.group.as_ref() != Some(&owners.group) {
        return Err(Refusal::Status(NtStatus::INVALID_PRIMARY_GROUP));
    }
    if info & DACL_SECURITY_INFORMATION != 0 {
        let mut owners = owners.clone();
        if open.token.uid == stat.uid && !sd_names(sd, &owners.owner) {
            owners.owner = open.token.user_sid.clone();
        }
        let mode = mode_from(sd, &owners, stat.mode);
        if mode != stat.mode {
            open.as_user(|h| h.set_mode(mode))?;
        }
    }
    Ok(())
}

/// MS-DTYP 2.4.3 access rights SET_INFO needs for each part.
const WRITE_OWNER: u32 = 0x0008_0000;
const WRITE_DAC: u32 = 0x0004_0000;
const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;

impl ServerConnection {
    /// MS-SMB2 3.3.5.21.3: SET_INFO with SMB2_0_INFO_SECURITY.
    pub(super) fn set_security(
        &mut self,
        header: &Header,
        req: &SetInfoRequest,
    ) -> Result<Vec<u8>, Refusal> {
        let tokens = self.config.tokens.clone();
        let info = req.additional_information;
        let sd = SecurityDescriptor::parse(&req.buffer)
            .map_err(|_| Refusal::Status(NtStatus::INVALID_SECURITY_DESCR))?;
        let open = self.file(header, req.file_id)?;
        if open.share.read_only {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        let mut needed = 0;
        if info & (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION) != 0 {
            needed |= WRITE_OWNER;
        }
        if info & DACL_SECURITY_INFORMATION != 0 {
            needed |= WRITE_DAC;
        }
        if info & SACL_SECURITY_INFORMATION != 0 {
            needed |= ACCESS_SYSTEM_SECURITY;
        }
        if open.access & needed != needed {
            return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
        }
        // The SACL is not kept: refused rather than dropped.
        if info & SACL_SECURITY_INFORMATION != 0 {
            return Err(Refusal::Status(NtStatus::NOT_SUPPORTED));
        }
        let stat = open.as_user(|h| h.stat())?;
        let owners = Owners::of(&stat, tokens.as_deref());
        set(open, &sd, info, &owners, &stat)?;
        let filter = CompletionFilter::SECURITY;
        notify::changed(&open.share, &open.path, Change::Modified(filter));
        Ok(self.reply(header, &SetInfoResponse, NtStatus::SUCCESS))
    }
}

/// Whether an ACE of `sd`'s DACL names `sid`.
fn sd_names(sd: &SecurityDescriptor, sid: &Sid) -> bool {
    sd.dacl.as_ref().is_some_and(|d| {
        d.aces
            .iter()
            .any(|a| matches!(a, Ace::Basic { sid: s, .. } if s == sid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mode: u32) -> Stat {
        crate::server::testing::stat(4242, 4243, mode)
    }

    fn owners() -> Owners {
        Owners::of(&stat(0), None)
    }

    const ALL_INFO: u32 =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;

    #[test]
    fn unmapped_ids_are_samba_unix_sids_and_modes_become_three_aces() {
        let o = owners();
        assert_eq!(o.owner.to_string(), "S-1-22-1-4242");
        assert_eq!(o.group.to_string(), "S-1-22-2-4243");
        let sd = descriptor(&stat(0o640), &o, ALL_INFO);
        assert_eq!(sd.owner.as_ref(), Some(&o.owner));
        let aces = &sd.dacl.as_ref().unwrap().aces;
        assert_eq!(
            aces,
            &vec![
                Ace::Basic {
                    kind: ACCESS_ALLOWED,
                    flags: 0,
                    mask: GENERIC_READ_MAPPED | GENERIC_WRITE_MAPPED,
                    sid: o.owner.clone(),
                },
                Ace::Basic {
                    kind: ACCESS_ALLOWED,
                    flags: 0,
                    mask: GENERIC_READ_MAPPED,
                    sid: o.group.clone(),
                },
            ]
        );
        // Only the parts asked.
        let dacl_only = descriptor(&stat(0o775), &o, DACL_SECURITY_INFORMATION);
        assert!(dacl_only.owner.is_none() && dacl_only.group.is_none());
        assert_eq!(dacl_only.dacl.unwrap().aces.len(), 3);
        // Everything for everyone: a NULL DACL.
        assert!(descriptor(&stat(0o1777), &o, DACL_SECURITY_INFORMATION).null_dacl());
    }

    #[test]
    fn every_mode_survives_a_round_trip_through_its_dacl() {
        let o = owners();
        for mode in 0..0o1000 {
            let sd = descriptor(&stat(mode), &o, DACL_SECURITY_INFORMATION);
            // Everyone's bits also reach the owner and group on the way back, as an
            // Everyone ACE does on Windows.
            let world = mode & 7;
            let expected = mode | (world << 6) | (world << 3);
            assert_eq!(mode_from(&sd, &o, 0o4000), 0o4000 | expected, "{mode:o}");
        }
        // Mode 0000 is an empty DACL, which sets 0000 again.
        let none = descriptor(&stat(0), &o, DACL_SECURITY_INFORMATION);
        assert!(none.dacl.as_ref().unwrap().aces.is_empty());
        assert_eq!(mode_from(&none, &o, 0o640), 0);
    }

    #[test]
    fn denies_null_and_empty_dacls_and_other_sids_map_as_documented() {
        let o = owners();
        let ace = |kind, mask, sid: &Sid| Ace::Basic {
            kind,
            flags: 0,
            mask,
            sid: sid.clone(),
        };
        let sd = |aces| SecurityDescriptor {
            dacl: Some(Acl { aces }),
            ..SecurityDescriptor::default()
        };
        let stranger: Sid = "S-1-5-21-9-9-9-1000".parse().unwrap();
        let with_deny = sd(vec![
            ace(ACCESS_DENIED, GENERIC_WRITE, &everyone()),
            ace(ACCESS_ALLOWED, GENERIC_ALL, &o.owner),
            ace(ACCESS_ALLOWED, FILE_ALL, &stranger),
        ]);
        assert_eq!(mode_from(&with_deny, &o, 0o644), 0o500);
        assert_eq!(mode_from(&sd(Vec::new()), &o, 0o2755), 0o2000);
        let null = SecurityDescriptor {
            control: SE_DACL_PRESENT,
            ..SecurityDescriptor::default()
        };
        assert_eq!(mode_from(&null, &o, 0o600), 0o777);
        // No DACL present at all: the same as a NULL one.
        assert_eq!(mode_from(&SecurityDescriptor::default(), &o, 0o640), 0o777);
        let users = sd(vec![ace(
            ACCESS_ALLOWED,
            GENERIC_READ,
            &authenticated_users(),
        )]);
        assert_eq!(mode_from(&users, &o, 0), 0o444);
    }
}
