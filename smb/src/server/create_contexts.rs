//! The CREATE contexts a disk open acts on besides leases and durable handles (MS-SMB2
//! 2.2.13.2, 3.3.5.9): read and checked before anything touches the file system, so a bad
//! one leaves nothing behind.
//!
//! - `AlSi` (allocation size) and `SecD` (security descriptor) for a new file;
//! - `MxAc`: the response says the most the user may be granted on the file;
//! - `QFid`: the response gives the file's on-disk id (its inode and device);
//! - `TWrp` (a previous version, by time): none are kept, so STATUS_OBJECT_NAME_NOT_FOUND;
//! - a context name shorter than four bytes is STATUS_INVALID_PARAMETER (as Windows and
//!   smbd answer); other names are ignored.

use adjoin_rpc::codec::Codec;
use adjoin_rpc::ntstatus::NtStatus;

use super::Refusal;
use super::backend::Stat;
use super::files::access;
use super::token::UserToken;
use crate::proto::oplock::{CONTEXT_ALLOCATION_SIZE, CONTEXT_SECURITY_DESCRIPTOR, CreateContext};
use crate::proto::security::SecurityDescriptor;

/// `SMB2_CREATE_QUERY_MAXIMAL_ACCESS_REQUEST` (and its response).
const CONTEXT_MAXIMAL_ACCESS: &[u8] = b"MxAc";
/// `SMB2_CREATE_QUERY_ON_DISK_ID` (and its response).
const CONTEXT_ON_DISK_ID: &[u8] = b"QFid";
/// `SMB2_CREATE_TIMEWARP_TOKEN`.
const CONTEXT_TIMEWARP: &[u8] = b"TWrp";

/// What the contexts ask of a disk open.
#[derive(Debug, Default)]
pub(super) struct Asked {
    /// `AlSi`: bytes to reserve.
    pub(super) allocation: Option<u64>,
    /// `SecD`.
    pub(super) descriptor: Option<SecurityDescriptor>,
    /// `MxAc`.
    pub(super) maximal_access: bool,
    /// `QFid`.
    pub(super) on_disk_id: bool,
}

impl Asked {
    /// Reads and checks `contexts`.
    pub(super) fn from_contexts(contexts: &[CreateContext]) -> Result<Self, Refusal> {
        let invalid = Refusal::Status(NtStatus::INVALID_PARAMETER);
        if contexts.iter().any(|c| c.name.len() < 4) {
            return Err(invalid);
        }
        if CreateContext::find(contexts, CONTEXT_TIMEWARP).is_some() {
            return Err(Refusal::Status(NtStatus::OBJECT_NAME_NOT_FOUND));
        }
        let allocation = match CreateContext::find(contexts, CONTEXT_ALLOCATION_SIZE) {
            Some(ctx) => {
                let bytes: [u8; 8] = ctx.data.as_slice().try_into().map_err(|_| invalid)?;
                Some(u64::from_le_bytes(bytes))
            }
            None => None,
        };
        let descriptor = match CreateContext::find(contexts, CONTEXT_SECURITY_DESCRIPTOR) {
            Some(ctx) => Some(
                SecurityDescriptor::parse(&ctx.data)
                    .map_err(|_| Refusal::Status(NtStatus::INVALID_SECURITY_DESCR))?,
            ),
            None => None,
        };
        Ok(Self {
            allocation,
            descriptor,
            maximal_access: CreateContext::find(contexts, CONTEXT_MAXIMAL_ACCESS).is_some(),
            on_disk_id: CreateContext::find(contexts, CONTEXT_ON_DISK_ID).is_some(),
        })
    }

    /// The response contexts for what was asked of an open of the file with `stat`, by
    /// `token`, on a share that is `read_only` or not.
    pub(super) fn responses(
        &self,
        stat: &Stat,
        token: &UserToken,
        read_only: bool,
    ) -> Vec<CreateContext> {
        let mut out = Vec::new();
        if self.maximal_access {
            let mut data = Vec::with_capacity(8);
            0u32.encode(&mut data);
            maximal_access(stat, token, read_only).encode(&mut data);
            out.push(CreateContext {
                name: CONTEXT_MAXIMAL_ACCESS.to_vec(),
                data,
            });
        }
        if self.on_disk_id {
            let mut data = Vec::with_capacity(32);
            stat.file_index.encode(&mut data);
            stat.device.encode(&mut data);
            data.extend_from_slice(&[0; 16]);
            out.push(CreateContext {
                name: CONTEXT_ON_DISK_ID.to_vec(),
                data,
            });
        }
        out
    }
}

/// The most `token`'s user may be granted on a file with `stat`, from its permission
/// bits (the class she falls in: owner, group or other): everything when she may write
/// it, reading and executing (and the attributes and permissions, to its owner)
/// otherwise.
pub(super) fn maximal_access(stat: &Stat, token: &UserToken, read_only: bool) -> u32 {
    let bits = if token.uid == stat.uid {
        stat.mode >> 6
    } else if token.in_group(stat.gid) {
        stat.mode >> 3
    } else {
        stat.mode
    } & 7;
    if bits & 2 != 0 && !read_only {
        return access::ALL;
    }
    let mut granted = 0x0012_0080; // READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE
    if bits & 4 != 0 {
        granted |= access::GENERIC_READ_MAPPED;
    }
    if bits & 1 != 0 {
        granted |= access::GENERIC_EXECUTE_MAPPED;
    }
    granted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::{alice, stat};

    fn ctx(name: &[u8], data: Vec<u8>) -> CreateContext {
        CreateContext {
            name: name.to_vec(),
            data,
        }
    }

    #[test]
    fn short_names_timewarps_and_bad_sizes_are_refused_before_anything_happens() {
        let refused = |contexts: &[CreateContext]| match Asked::from_contexts(contexts) {
            Err(Refusal::Status(status)) => status,
            _ => NtStatus::SUCCESS,
        };
        for name in [&b"x"[..], b"xx", b"xxx"] {
            assert_eq!(
                refused(&[ctx(name, Vec::new())]),
                NtStatus::INVALID_PARAMETER
            );
        }
        assert_eq!(refused(&[ctx(b"FooO", Vec::new())]), NtStatus::SUCCESS);
        assert_eq!(
            refused(&[ctx(CONTEXT_TIMEWARP, vec![0; 8])]),
            NtStatus::OBJECT_NAME_NOT_FOUND
        );
        assert_eq!(
            refused(&[ctx(CONTEXT_ALLOCATION_SIZE, vec![0; 4])]),
            NtStatus::INVALID_PARAMETER
        );
        assert_eq!(
            refused(&[ctx(CONTEXT_SECURITY_DESCRIPTOR, vec![1, 0])]),
            NtStatus::INVALID_SECURITY_DESCR
        );
    }

    #[test]
    fn maximal_access_follows_the_users_class_of_permission_bits() {
        let user = alice();
        let (me, other) = (user.uid, user.uid + 1);
        assert_eq!(
            maximal_access(&stat(me, other, 0o600), &user, false),
            access::ALL
        );
        // A read-only share writes nothing.
        assert_ne!(
            maximal_access(&stat(me, other, 0o600), &user, true),
            access::ALL
        );
        // Not hers, not her group's: the other bits.
        let read = maximal_access(&stat(other, other, 0o604), &user, false);
        assert_eq!(read & access::WRITE_DATA, 0);
        assert_ne!(read & access::READ_DATA, 0);
        let none = maximal_access(&stat(other, other, 0o660), &user, false);
        assert_eq!(none & (access::READ_DATA | access::WRITE_DATA), 0);
        // Her group's bits.
        let group = maximal_access(&stat(other, user.gid, 0o070), &user, false);
        assert_eq!(group, access::ALL);
        let asked = Asked {
            maximal_access: true,
            on_disk_id: true,
            ..Asked::default()
        };
        let out = asked.responses(&stat(me, other, 0o644), &user, false);
        assert_eq!(out[0].data, [0, 0, 0, 0, 0xff, 0x01, 0x1f, 0x00]);
        assert_eq!(
            out[1].data[..16],
            [7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}
