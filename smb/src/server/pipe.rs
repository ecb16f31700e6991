//! A named pipe on a server's IPC$ tree: the DCE/RPC fragments a client writes go to a
//! [`ServerBinding`]; its replies wait as messages for the client's reads (message mode:
//! a read shorter than the message gets a part and STATUS_BUFFER_OVERFLOW).

use std::collections::VecDeque;

use adjoin_rpc::server::{ServerBinding, Service};
use adjoin_rpc::transport::FragmentBuffer;

/// Reply bytes a pipe holds for a client that writes without reading; past this the
/// pipe is broken rather than the server's memory grown.
const MAX_PENDING: usize = 256 * 1024;

/// The largest RPC request a pipe reassembles (srvsvc and wkssvc requests are a few
/// hundred bytes; an lsarpc lookup of 1,000 names of 20 characters some 60 KiB).
const MAX_REQUEST: usize = 64 * 1024;

/// One open of a pipe.
#[derive(Debug)]
pub(super) struct PipeOpen {
    /// The pipe's name (`srvsvc`).
    name: String,
    binding: ServerBinding,
    incoming: FragmentBuffer,
    outgoing: VecDeque<Vec<u8>>,
}

impl PipeOpen {
    pub(super) fn new(service: Box<dyn Service>, name: &str) -> Self {
        Self {
            name: name.to_owned(),
            binding: ServerBinding::new(vec![service], 0x12345, &format!(r"\PIPE\{name}"))
                .with_max_request(MAX_REQUEST),
            incoming: FragmentBuffer::default(),
            outgoing: VecDeque::new(),
        }
    }

    /// The pipe's name (`srvsvc`, `lsarpc`).
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Takes bytes the client wrote; false when they break the RPC protocol (the pipe
    /// is then unusable).
    pub(super) fn write(&mut self, data: &[u8]) -> bool {
        self.incoming.extend(data);
        loop {
            let fragment = match self.incoming.pop() {
                Ok(Some(fragment)) => fragment,
                Ok(None) => return true,
                Err(_) => return false,
            };
            match self.binding.handle_fragment(&fragment) {
                Ok(replies) => self.outgoing.extend(replies),
                Err(e) => {
                    tracing::debug!(error = %e, "RPC on a pipe failed");
                    return false;
                }
            }
            if self.outgoing.iter().map(Vec::len).sum::<usize>() > MAX_PENDING {
                return false;
            }
        }
    }

    /// Up to `max` bytes of the next message; the flag says more of it remains.
    pub(super) fn read(&mut self, max: usize) -> Option<(Vec<u8>, bool)> {
        let message = self.outgoing.front_mut()?;
        if message.len() <= max {
            return self.outgoing.pop_front().map(|m| (m, false));
        }
        let rest = message.split_off(max);
        let part = std::mem::replace(message, rest);
        Some((part, true))
    }
}
