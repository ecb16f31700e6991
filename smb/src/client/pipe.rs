//! ncacn_np (MS-RPCE 2.1.1.2): DCE/RPC fragments carried over an SMB2 named
//! pipe. The pipe is in message mode; a fragment larger than one read comes
//! back in pieces (STATUS_BUFFER_OVERFLOW), which [`FragmentBuffer`] joins.
//!
//! A request's last fragment is held back until the reply is wanted and then
//! sent with FSCTL_PIPE_TRANSCEIVE (MS-FSCC 2.3.49), which writes it and reads
//! the reply in one round trip, as Windows does; any other fragment (earlier
//! fragments, rpc_auth_3, which has no reply) goes out as a WRITE, in order.

use adjoin_rpc::client::RpcError;
use adjoin_rpc::transport::{FragmentBuffer, Transport};

use super::{SmbClient, Tree};
use crate::error::SmbError;
use crate::proto::FileId;

/// What one pipe read asks for: a DCE/RPC max_recv_frag and then some.
const READ_SIZE: u32 = 16 * 1024;

/// An open named pipe on an IPC$ tree, as an RPC [`Transport`].
#[derive(Debug)]
pub struct NamedPipe {
    client: SmbClient,
    tree: Tree,
    file: FileId,
    name: String,
    buffer: FragmentBuffer,
    /// The fragment waiting to go out with the next receive.
    pending: Option<Vec<u8>>,
}

impl NamedPipe {
    /// Connects `IPC$` on an authenticated client and opens `\PIPE\<name>`.
    pub async fn open(mut client: SmbClient, name: &str) -> Result<Self, SmbError> {
        let tree = client.tree_connect("IPC$").await?;
        let file = client.open_pipe(tree, name).await?;
        Ok(Self {
            client,
            tree,
            file,
            name: name.to_owned(),
            buffer: FragmentBuffer::default(),
            pending: None,
        })
    }

    /// Closes the pipe, disconnects IPC$ and logs off (a fragment still held back,
    /// such as a final rpc_auth_3, is written first).
    pub async fn close(mut self) -> Result<(), SmbError> {
        if let Some(last) = self.pending.take() {
            self.client.write(self.tree, self.file, 0, &last).await?;
        }
        self.client.close(self.tree, self.file).await?;
        self.client.tree_disconnect(self.tree).await?;
        self.client.logoff().await
    }

    fn failed(&self, doing: &str, e: SmbError) -> RpcError {
        RpcError::Io {
            context: format!("{doing} named pipe \\{}", self.name),
            error: std::io::Error::other(e),
        }
    }

    async fn write(&mut self, fragment: &[u8]) -> Result<(), RpcError> {
        match self.client.write(self.tree, self.file, 0, fragment).await {
            Ok(n) if n as usize == fragment.len() => Ok(()),
            Ok(_) => Err(RpcError::Protocol("short write to a named pipe")),
            Err(e) => Err(self.failed("writing to", e)),
        }
    }
}

impl Transport for NamedPipe {
    async fn send(&mut self, fragment: &[u8]) -> Result<(), RpcError> {
        if let Some(earlier) = self.pending.replace(fragment.to_vec()) {
            self.write(&earlier).await?;
        }
        Ok(())
    }

    async fn receive(&mut self) -> Result<Vec<u8>, RpcError> {
        if let Some(last) = self.pending.take() {
            let reply = self.client.transceive(self.tree, self.file, &last).await;
            let (data, _more) = reply.map_err(|e| self.failed("transacting on", e))?;
            self.buffer.extend(&data);
        }
        loop {
            if let Some(fragment) = self.buffer.pop()? {
                return Ok(fragment);
            }
            let read = self.client.read(self.tree, self.file, 0, READ_SIZE).await;
            let (data, _more) = read.map_err(|e| self.failed("reading from", e))?;
            if data.is_empty() {
                return Err(RpcError::Protocol("an empty read from a named pipe"));
            }
            self.buffer.extend(&data);
        }
    }
}
