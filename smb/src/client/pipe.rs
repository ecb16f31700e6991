//! ncacn_np (MS-RPCE 2.1.1.2): DCE/RPC fragments carried over an SMB2 named
//! pipe. The pipe is in message mode; a fragment larger than one read comes
//! back in pieces (STATUS_BUFFER_OVERFLOW), which [`FragmentBuffer`] joins.

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
        })
    }

    /// Closes the pipe, disconnects IPC$ and logs off.
    pub async fn close(mut self) -> Result<(), SmbError> {
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
}

impl Transport for NamedPipe {
    async fn send(&mut self, fragment: &[u8]) -> Result<(), RpcError> {
        match self.client.write(self.tree, self.file, 0, fragment).await {
            Ok(n) if n as usize == fragment.len() => Ok(()),
            Ok(_) => Err(RpcError::Protocol("short write to a named pipe")),
            Err(e) => Err(self.failed("writing to", e)),
        }
    }

    async fn receive(&mut self) -> Result<Vec<u8>, RpcError> {
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
