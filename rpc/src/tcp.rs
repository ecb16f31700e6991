//! ncacn_ip_tcp (MS-RPCE 2.1.1.1): a thin tokio driver around
//! [`ClientBinding`], and the endpoint mapper lookup (C706 Appendix O
//! `ept_map`) that finds an interface's dynamic port.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{BindAuth, ClientBinding, RpcError};
use crate::epm::{EptMapRequest, EptMapResponse, tcp_tower};
use crate::ndr::NdrParams;
use crate::pdu::{HEADER_LEN, Header};
use crate::uuid::SyntaxId;

/// The endpoint mapper's well-known port.
pub const EPM_PORT: u16 = 135;

/// One TCP connection carrying one binding.
#[derive(Debug)]
pub struct TcpConnection {
    stream: TcpStream,
    binding: ClientBinding,
    timeout: Duration,
    peer: SocketAddr,
}

impl TcpConnection {
    /// Connects to `addr` and binds `syntax` with `auth`.
    pub async fn connect(
        addr: SocketAddr,
        interface: &'static str,
        syntax: SyntaxId,
        auth: BindAuth,
        timeout: Duration,
    ) -> Result<Self, RpcError> {
        let stream = io(
            timeout,
            || format!("connecting to {interface} at {addr}"),
            TcpStream::connect(addr),
        )
        .await?;
        let _ = stream.set_nodelay(true);
        let mut conn = Self {
            stream,
            binding: ClientBinding::new(interface, auth),
            timeout,
            peer: addr,
        };
        let bind = conn.binding.bind_pdu(syntax)?;
        conn.send(&bind).await?;
        let reply = conn.read_fragment().await?;
        // A three-leg provider (NTLMSSP) sends rpc_auth_3, which has no reply.
        if let Some(auth3) = conn.binding.handle_bind_reply(&reply)? {
            conn.send(&auth3).await?;
        }
        Ok(conn)
    }

    /// The server's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), RpcError> {
        let peer = self.peer;
        io(
            self.timeout,
            || format!("sending to {peer}"),
            self.stream.write_all(bytes),
        )
        .await
    }

    /// Reads one fragment: the common header, then the rest of `frag_length`.
    async fn read_fragment(&mut self) -> Result<Vec<u8>, RpcError> {
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

    /// Calls `opnum` with a raw stub; returns the response stub.
    pub async fn call_raw(&mut self, opnum: u16, stub: Vec<u8>) -> Result<Vec<u8>, RpcError> {
        let (fragments, mut reassembler) = self.binding.request(opnum, stub)?;
        for fragment in fragments {
            self.send(&fragment).await?;
        }
        loop {
            let raw = self.read_fragment().await?;
            if let Some(stub) = self.binding.response_fragment(&mut reassembler, raw)? {
                return Ok(stub);
            }
        }
    }

    /// Calls `opnum` with typed arguments.
    pub async fn call<Req: NdrParams, Resp: NdrParams>(
        &mut self,
        opnum: u16,
        request: &Req,
    ) -> Result<Resp, RpcError> {
        let stub = self.call_raw(opnum, request.to_stub()).await?;
        Ok(Resp::from_stub(&stub)?)
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
