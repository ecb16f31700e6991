//! ncacn_ip_tcp (MS-RPCE 2.1.1.1): a thin tokio [`Transport`] over a TCP
//! stream, and the endpoint mapper lookup (C706 Appendix O `ept_map`) that
//! finds an interface's dynamic port.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{BindAuth, RpcError};
use crate::epm::{EptMapRequest, EptMapResponse, tcp_tower};
use crate::pdu::{HEADER_LEN, Header};
use crate::transport::{Connection, Transport};
use crate::uuid::SyntaxId;

/// The endpoint mapper's well-known port.
pub const EPM_PORT: u16 = 135;

/// One TCP connection carrying one binding.
pub type TcpConnection = Connection<TcpTransport>;

/// A TCP stream carrying DCE/RPC fragments, each operation under a timeout.
#[derive(Debug)]
pub struct TcpTransport {
    stream: TcpStream,
    timeout: Duration,
    peer: SocketAddr,
}

impl TcpTransport {
    /// Connects to `addr`; `what` names the service in errors.
    pub async fn connect(
        addr: SocketAddr,
        what: &str,
        timeout: Duration,
    ) -> Result<Self, RpcError> {
        let stream = io(
            timeout,
            || format!("connecting to {what} at {addr}"),
            TcpStream::connect(addr),
        )
        .await?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            timeout,
            peer: addr,
        })
    }

    /// The server's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
}

impl Transport for TcpTransport {
    async fn send(&mut self, fragment: &[u8]) -> Result<(), RpcError> {
        let peer = self.peer;
        io(
            self.timeout,
            || format!("sending to {peer}"),
            self.stream.write_all(fragment),
        )
        .await
    }

    /// Reads one fragment: the common header, then the rest of `frag_length`.
    async fn receive(&mut self) -> Result<Vec<u8>, RpcError> {
        let peer = self.peer;
        let context = || format!("reading from {peer}");
        let mut buf = vec![0; HEADER_LEN];
        io(self.timeout, context, self.stream.read_exact(&mut buf)).await?;
        let header = Header::peek(&buf)?.ok_or(RpcError::Protocol("short header"))?;
        buf.resize(usize::from(header.frag_length), 0);
        io(
            self.timeout,
            context,
            self.stream.read_exact(&mut buf[HEADER_LEN..]),
        )
        .await?;
        Ok(buf)
    }
}

impl Connection<TcpTransport> {
    /// Connects to `addr` and binds `syntax` with `auth`.
    pub async fn connect(
        addr: SocketAddr,
        interface: &'static str,
        syntax: SyntaxId,
        auth: BindAuth,
        timeout: Duration,
    ) -> Result<Self, RpcError> {
        let transport = TcpTransport::connect(addr, interface, timeout).await?;
        Self::bind(transport, interface, syntax, auth).await
    }

    /// The server's address.
    pub fn peer(&self) -> SocketAddr {
        self.transport().peer()
    }
}

/// Runs one transport operation under `timeout`; errors name `context`.
async fn io<T>(
    timeout: Duration,
    context: impl Fn() -> String,
    operation: impl Future<Output = std::io::Result<T>>,
) -> Result<T, RpcError> {
    match tokio::time::timeout(timeout, operation).await {
        Err(_) => Err(RpcError::Timeout(context())),
        Ok(Err(error)) => Err(RpcError::Io {
            context: context(),
            error,
        }),
        Ok(Ok(v)) => Ok(v),
    }
}

/// Asks the endpoint mapper on `server` for the TCP port of `syntax`.
pub async fn map_tcp_port(
    server: IpAddr,
    syntax: SyntaxId,
    timeout: Duration,
) -> Result<u16, RpcError> {
    let mut epm = TcpConnection::connect(
        SocketAddr::new(server, EPM_PORT),
        "the endpoint mapper",
        SyntaxId::EPM,
        BindAuth::None,
        timeout,
    )
    .await?;
    let request = EptMapRequest::new(tcp_tower(syntax));
    let response: EptMapResponse = epm.call(crate::epm::EPT_MAP, &request).await?;
    response.tcp_port().ok_or(RpcError::Protocol(
        "the endpoint mapper knows no TCP endpoint for the interface",
    ))
}
