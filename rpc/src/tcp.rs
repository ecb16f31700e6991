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
use crate::server::{ServerBinding, ServerError};
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

/// Serves one ncacn_ip_tcp connection with `binding`: reads fragments, writes the
/// binding's replies, until the client closes the connection (at a fragment boundary) or
/// breaks the protocol. Reads wait at most `idle` for a client that went quiet.
pub async fn serve(
    mut stream: TcpStream,
    mut binding: ServerBinding,
    idle: Duration,
) -> Result<(), ServerError> {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "an RPC client".to_owned(), |a| a.to_string());
    let failed = |doing: &str, error: std::io::Error| ServerError::Io {
        context: format!("{doing} {peer}"),
        error,
    };
    loop {
        let mut fragment = vec![0; HEADER_LEN];
        match tokio::time::timeout(idle, stream.read_exact(&mut fragment)).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(failed("reading from", e)),
            Ok(Ok(_)) => {}
        }
        let header = Header::peek(&fragment)?.ok_or(ServerError::Protocol("short header"))?;
        fragment.resize(usize::from(header.frag_length), 0);
        match tokio::time::timeout(idle, stream.read_exact(&mut fragment[HEADER_LEN..])).await {
            Err(_) => return Err(ServerError::Protocol("the client stopped mid-fragment")),
            Ok(Err(e)) => return Err(failed("reading from", e)),
            Ok(Ok(_)) => {}
        }
        for reply in binding.handle_fragment(&fragment)? {
            stream
                .write_all(&reply)
                .await
                .map_err(|e| failed("writing to", e))?;
        }
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
