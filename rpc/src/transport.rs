//! What carries a binding's PDUs: a [`Transport`] sends and receives whole
//! fragments, and a [`Connection`] drives a [`ClientBinding`] over one. TCP
//! (`ncacn_ip_tcp`, [`crate::tcp`]) and SMB2 named pipes (`ncacn_np`, in
//! adjoin-smb) are the two transports.

use crate::client::{BindAuth, ClientBinding, RpcError};
use crate::ndr::NdrParams;
use crate::pdu::Header;
use crate::uuid::SyntaxId;

/// A byte stream or message pipe that carries DCE/RPC fragments.
pub trait Transport: Send {
    /// Sends one encoded fragment.
    fn send(&mut self, fragment: &[u8]) -> impl Future<Output = Result<(), RpcError>> + Send;

    /// Receives the next whole fragment (common header first).
    fn receive(&mut self) -> impl Future<Output = Result<Vec<u8>, RpcError>> + Send;
}

/// Splits a stream of bytes into fragments by their `frag_length`, for transports
/// whose reads do not stop at fragment boundaries (a pipe's messages may be cut
/// by the reader's buffer size).
#[derive(Debug, Default)]
pub struct FragmentBuffer {
    bytes: Vec<u8>,
}

impl FragmentBuffer {
    /// Appends received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// The next whole fragment, if it has arrived.
    pub fn pop(&mut self) -> Result<Option<Vec<u8>>, RpcError> {
        let Some(header) = Header::peek(&self.bytes)? else {
            return Ok(None);
        };
        let len = usize::from(header.frag_length);
        if self.bytes.len() < len {
            return Ok(None);
        }
        let rest = self.bytes.split_off(len);
        Ok(Some(std::mem::replace(&mut self.bytes, rest)))
    }
}

/// One binding over one transport.
#[derive(Debug)]
pub struct Connection<T> {
    transport: T,
    binding: ClientBinding,
}

impl<T: Transport> Connection<T> {
    /// Binds `syntax` with `auth` over `transport`.
    pub async fn bind(
        mut transport: T,
        interface: &'static str,
        syntax: SyntaxId,
        auth: BindAuth,
    ) -> Result<Self, RpcError> {
        let mut binding = ClientBinding::new(interface, auth);
        let bind = binding.bind_pdu(syntax)?;
        transport.send(&bind).await?;
        let reply = transport.receive().await?;
        // A three-leg provider (NTLMSSP) sends rpc_auth_3, which has no reply.
        if let Some(auth3) = binding.handle_bind_reply(&reply)? {
            transport.send(&auth3).await?;
        }
        Ok(Self { transport, binding })
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Calls `opnum` with a raw stub; returns the response stub.
    pub async fn call_raw(&mut self, opnum: u16, stub: Vec<u8>) -> Result<Vec<u8>, RpcError> {
        let (fragments, mut reassembler) = self.binding.request(opnum, stub)?;
        for fragment in fragments {
            self.transport.send(&fragment).await?;
        }
        loop {
            let raw = self.transport.receive().await?;
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

    /// Gives the transport back (to close it, or to bind something else).
    pub fn into_transport(self) -> T {
        self.transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::{HEADER_LEN, PacketType};

    fn fragment(len: u16, fill: u8) -> Vec<u8> {
        let mut f = crate::codec::Codec::to_bytes(&Header {
            minor_version: 0,
            ptype: PacketType::RESPONSE,
            flags: crate::pdu::PfcFlags::empty(),
            frag_length: len,
            auth_length: 0,
            call_id: 1,
        });
        f.resize(usize::from(len), fill);
        f
    }

    #[test]
    fn fragments_come_out_whole_however_the_bytes_arrive() {
        let (a, b) = (fragment(40, 1), fragment(HEADER_LEN as u16, 2));
        let all = [a.clone(), b.clone()].concat();
        let mut buf = FragmentBuffer::default();
        for chunk in all.chunks(7) {
            buf.extend(chunk);
        }
        assert_eq!(buf.pop().unwrap(), Some(a));
        assert_eq!(buf.pop().unwrap(), Some(b));
        assert_eq!(buf.pop().unwrap(), None);
        buf.extend(&[5, 0, 2]);
        assert_eq!(buf.pop().unwrap(), None);
    }

    #[test]
    fn a_bad_header_is_an_error() {
        let mut buf = FragmentBuffer::default();
        buf.extend(&[9; 16]);
        assert!(buf.pop().is_err());
    }
}
