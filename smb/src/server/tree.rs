//! MS-SMB2 3.3.5.7 TREE_CONNECT and 3.3.5.8 TREE_DISCONNECT: IPC$ for every session, a
//! disk share for a session whose user it admits.

use std::sync::Arc;

use adjoin_rpc::ntstatus::NtStatus;

use super::share::DiskShare;
use super::{MAX_TREES, Refusal, ServerConnection};
use crate::proto::{Body, Header, TreeConnectRequest, TreeConnectResponse, TreeDisconnectResponse};

/// FILE_ALL_ACCESS (MS-DTYP 2.4.3), what a writable share grants at most.
const FULL_ACCESS: u32 = 0x001f_01ff;
/// FILE_GENERIC_READ | FILE_GENERIC_EXECUTE: what a read-only share grants.
const READ_ACCESS: u32 = 0x0012_00a9;

/// SMB2_SHAREFLAG_ENCRYPT_DATA (MS-SMB2 2.2.10).
const SHAREFLAG_ENCRYPT_DATA: u32 = 0x0000_8000;

/// A connected tree.
#[derive(Debug, Clone)]
pub(super) enum Tree {
    /// IPC$: named pipes.
    Ipc,
    /// A disk share.
    Disk(Arc<DiskShare>),
}

impl Tree {
    /// `Share.EncryptData`: requests on the tree must come encrypted.
    pub(super) fn requires_encryption(&self) -> bool {
        matches!(self, Self::Disk(share) if share.encrypt)
    }
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.7: `\\server\share`; the share name is the last component.
    pub(super) fn tree_connect(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = TreeConnectRequest::from_message(msg)?;
        // The session first: a client without one learns nothing of which shares exist.
        self.session(header)?;
        let name = req.path.rsplit('\\').next().unwrap_or_default();
        let tree = if name.eq_ignore_ascii_case("IPC$") {
            Tree::Ipc
        } else {
            let share = self
                .config
                .shares
                .find(name)
                .ok_or(Refusal::Status(NtStatus::BAD_NETWORK_NAME))?;
            let session = self.session(header)?;
            // A session without Unix ids (no ID mapping configured, or none for this
            // user) cannot act on files.
            let token = session
                .token
                .clone()
                .ok_or(Refusal::Status(NtStatus::ACCESS_DENIED))?;
            if !share.admits(&token) {
                tracing::info!(user = %token.name, share = %share.name, "not in the share's allowed groups");
                return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
            }
            // MS-SMB2 3.3.5.7: a share that requires encryption refuses a session that
            // cannot encrypt (before 3.0, or no cipher in common).
            if share.encrypt && session.encryptor.is_none() {
                tracing::info!(user = %token.name, share = %share.name, "the share requires encryption; the session cannot encrypt");
                return Err(Refusal::Status(NtStatus::ACCESS_DENIED));
            }
            Tree::Disk(share)
        };
        let id = u32::try_from(self.id()).unwrap_or(u32::MAX);
        let session = self.session(header)?;
        if session.trees.len() >= MAX_TREES {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        let resp = match &tree {
            Tree::Ipc => TreeConnectResponse {
                share_type: TreeConnectResponse::PIPE,
                share_flags: 0,
                capabilities: 0,
                maximal_access: FULL_ACCESS,
            },
            Tree::Disk(share) => TreeConnectResponse {
                share_type: TreeConnectResponse::DISK,
                // SMB2_SHAREFLAG_MANUAL_CACHING (0): clients may cache offline by hand.
                share_flags: if share.encrypt {
                    SHAREFLAG_ENCRYPT_DATA
                } else {
                    0
                },
                capabilities: 0,
                maximal_access: if share.read_only {
                    READ_ACCESS
                } else {
                    FULL_ACCESS
                },
            },
        };
        session.trees.insert(id, tree);
        Ok(self.reply(
            &Header {
                tree_id: id,
                ..header.clone()
            },
            &resp,
            NtStatus::SUCCESS,
        ))
    }

    /// MS-SMB2 3.3.5.8: the tree's opens are closed with it.
    pub(super) fn tree_disconnect(&mut self, header: &Header) -> Result<Vec<u8>, Refusal> {
        self.tree(header)?;
        let (session_id, tree_id) = (header.session_id, header.tree_id);
        self.cleanup_waiting(|p| {
            p.header().session_id == session_id && p.header().tree_id == tree_id
        });
        let out = self.reply(header, &TreeDisconnectResponse, NtStatus::SUCCESS);
        self.close_tree(header.session_id, header.tree_id);
        self.drop_pending(header.session_id, Some(header.tree_id));
        Ok(out)
    }
}
