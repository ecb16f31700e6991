//! The tokio driver of [`ServerConnection`]: one task per client connection reads frames,
//! feeds the core, has the DC verify logons, and writes the replies.

use std::sync::Arc;
use std::time::Duration;

use adjoin_rpc::netlogon::pool::LogonPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{AUTH_DEADLINE, MAX_MESSAGE_IN, ServerConfig, ServerConnection, Step};
use crate::error::SmbError;
use crate::proto::{frame, frame_len, split_compound};

/// Serves one client connection until it closes: frames in, the core's replies out,
/// logons verified by the DC through `pool`.
pub async fn serve(
    mut stream: TcpStream,
    config: Arc<ServerConfig>,
    pool: Arc<LogonPool>,
    idle: Duration,
) -> Result<(), SmbError> {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "an SMB client".to_owned(), |a| a.to_string());
    let io = |doing: &str, error: std::io::Error| SmbError::Io {
        context: format!("{doing} {peer}"),
        error,
    };
    let mut core = ServerConnection::new(config);
    // A connection that has not logged anyone on within this time is dropped, so idle
    // unauthenticated clients cannot hold the daemon's connection slots.
    let deadline = tokio::time::Instant::now() + AUTH_DEADLINE;
    loop {
        if !core.authenticated() && tokio::time::Instant::now() > deadline {
            return Err(SmbError::Timeout(format!("{peer} did not log on")));
        }
        let mut prefix = [0u8; 4];
        match tokio::time::timeout(idle, stream.read_exact(&mut prefix)).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(io("reading from", e)),
            Ok(Ok(_)) => {}
        }
        // The server announced 64 KiB reads, writes and transactions: a message much larger
        // than that is not a conforming client's, and is not buffered.
        let len = frame_len(prefix)?;
        if len > MAX_MESSAGE_IN {
            return Err(SmbError::TooLarge { len });
        }
        let mut payload = vec![0; len];
        match tokio::time::timeout(idle, stream.read_exact(&mut payload)).await {
            Err(_) => return Err(SmbError::Timeout(format!("{peer} stopped mid-message"))),
            Ok(Err(e)) => return Err(io("reading from", e)),
            Ok(Ok(_)) => {}
        }
        for msg in split_compound(&payload)? {
            let reply = match core.handle(msg)? {
                Step::Reply(reply) => reply,
                Step::Logon(logon) => {
                    let verdict = pool.logon_network(&logon).await.map_err(|e| e.to_string());
                    core.resume_logon(verdict)
                }
            };
            if let Some(reply) = reply {
                stream
                    .write_all(&frame(&reply)?)
                    .await
                    .map_err(|e| io("writing to", e))?;
            }
        }
    }
}
