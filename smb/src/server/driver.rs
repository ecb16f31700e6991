//! The tokio driver of [`ServerConnection`]: one task per client connection reads frames,
//! feeds the core, has the DC verify logons, and writes the replies.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use adjoin_rpc::netlogon::pool::LogonPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::negotiate::SMB1_PROTOCOL;
use super::{AUTH_DEADLINE, MAX_MESSAGE_IN, ServerConfig, ServerConnection, Step};
use crate::error::SmbError;
use crate::proto::{frame, frame_len, split_compound};

/// Serves one client connection until it closes: frames in, the core's replies out,
/// logons verified by the DC through `pool`. The core runs on the blocking pool (its file
/// operations wait for the disk, and a token mapping may wait for the DC), so no other
/// connection's task waits on them.
pub async fn serve(
    mut stream: TcpStream,
    config: Arc<ServerConfig>,
    pool: Arc<LogonPool>,
    idle: Duration,
) -> Result<(), SmbError> {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "an SMB client".to_owned(), |a| a.to_string());
    let core = Arc::new(Mutex::new(ServerConnection::new(config)));
    let result = drive(&mut stream, &core, &pool, idle, &peer).await;
    // Opens still held (delete-on-close ones among them) are closed as their users.
    on_core(&core, ServerConnection::shutdown).await?;
    result
}

/// Runs `f` on the connection's core on a blocking thread.
async fn on_core<R: Send + 'static>(
    core: &Arc<Mutex<ServerConnection>>,
    f: impl FnOnce(&mut ServerConnection) -> R + Send + 'static,
) -> Result<R, SmbError> {
    let core = Arc::clone(core);
    tokio::task::spawn_blocking(move || {
        let mut core = core.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut core)
    })
    .await
    .map_err(|e| SmbError::Io {
        context: "running a request on the file server's threads".into(),
        error: std::io::Error::other(e.to_string()),
    })
}

async fn drive(
    stream: &mut TcpStream,
    core: &Arc<Mutex<ServerConnection>>,
    pool: &LogonPool,
    idle: Duration,
    peer: &str,
) -> Result<(), SmbError> {
    let io = |doing: &str, error: std::io::Error| SmbError::Io {
        context: format!("{doing} {peer}"),
        error,
    };
    let authenticated = || {
        core.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .authenticated()
    };
    // A connection that has not logged anyone on within this time is dropped, so idle
    // unauthenticated clients cannot hold the daemon's connection slots.
    let deadline = tokio::time::Instant::now() + AUTH_DEADLINE;
    loop {
        if !authenticated() && tokio::time::Instant::now() > deadline {
            return Err(SmbError::Timeout(format!("{peer} did not log on")));
        }
        let mut prefix = [0u8; 4];
        match tokio::time::timeout(idle, stream.read_exact(&mut prefix)).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(io("reading from", e)),
            Ok(Ok(_)) => {}
        }
        // The server announced its largest read, write and transaction: a message much
        // larger than that is not a conforming client's, and is not buffered.
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
        if payload.starts_with(&SMB1_PROTOCOL) {
            let step = on_core(core, move |c| c.handle_smb1(&payload)).await??;
            if let Step::Reply(Some(reply)) = step {
                write_reply(stream, &reply, idle, peer).await?;
            }
            continue;
        }
        let payload = Arc::new(payload);
        let count = split_compound(&payload)?.len();
        for index in 0..count {
            let message = Arc::clone(&payload);
            let step = on_core(core, move |c| {
                let messages = split_compound(&message)?;
                c.handle(messages[index])
            })
            .await??;
            let reply = match step {
                Step::Reply(reply) => reply,
                Step::Logon(logon) => {
                    let verdict = pool.logon_network(&logon).await.map_err(|e| e.to_string());
                    on_core(core, move |c| c.resume_logon(verdict)).await?
                }
            };
            if let Some(reply) = reply {
                write_reply(stream, &reply, idle, peer).await?;
            }
        }
    }
}

/// Writes one reply. A client that stops reading does not hold the connection: each
/// write has the idle deadline.
async fn write_reply(
    stream: &mut TcpStream,
    reply: &[u8],
    idle: Duration,
    peer: &str,
) -> Result<(), SmbError> {
    match tokio::time::timeout(idle, stream.write_all(&frame(reply)?)).await {
        Err(_) => Err(SmbError::Timeout(format!("{peer} stopped reading"))),
        Ok(Err(error)) => Err(SmbError::Io {
            context: format!("writing to {peer}"),
            error,
        }),
        Ok(Ok(())) => Ok(()),
    }
}
