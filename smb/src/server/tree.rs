//! MS-SMB2 3.3.5.7 TREE_CONNECT and 3.3.5.8 TREE_DISCONNECT.

use adjoin_rpc::ntstatus::NtStatus;

use super::{MAX_TREES, Refusal, ServerConnection};
use crate::proto::{Body, Header, TreeConnectRequest, TreeConnectResponse, TreeDisconnectResponse};

impl ServerConnection {
    /// MS-SMB2 3.3.5.7: only IPC$ is served.
    pub(super) fn tree_connect(&mut self, header: &Header, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (_, req) = TreeConnectRequest::from_message(msg)?;
        let share = req.path.rsplit('\\').next().unwrap_or_default();
        if !share.eq_ignore_ascii_case("IPC$") {
            return Err(Refusal::Status(NtStatus::BAD_NETWORK_NAME));
        }
        let id = u32::try_from(self.id()).unwrap_or(u32::MAX);
        let session = self.session(header)?;
        if session.trees.len() >= MAX_TREES {
            return Err(Refusal::Status(NtStatus::INSUFFICIENT_RESOURCES));
        }
        session.trees.insert(id);
        let resp = TreeConnectResponse {
            share_type: TreeConnectResponse::PIPE,
            share_flags: 0,
            capabilities: 0,
            maximal_access: 0x001f_01ff,
        };
        Ok(self.reply(
            &Header {
                tree_id: id,
                ..header.clone()
            },
            &resp,
            NtStatus::SUCCESS,
        ))
    }

    pub(super) fn tree_disconnect(&mut self, header: &Header) -> Result<Vec<u8>, Refusal> {
        let session = self.tree(header)?;
        session.trees.remove(&header.tree_id);
        Ok(self.reply(header, &TreeDisconnectResponse, NtStatus::SUCCESS))
    }
}
