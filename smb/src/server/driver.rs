//! The tokio driver of [`ServerConnection`]: one task per client connection reads frames,
//! has the core decrypt them, feeds it each message, has the DC verify logons, and writes
//! the replies.
//!
//! Memory: a connection holds one received frame at a time, grown as its bytes arrive
//! (never more than the client has sent), of at most [`MAX_MESSAGE_IN`] (8.25 MiB) once a
//! session is established and [`MAX_MESSAGE_UNAUTHENTICATED`] before; an encrypted frame
//! is decrypted in place. A reply is at most the 8 MiB MaxReadSize and its headers; while
//! it is built, encrypted and framed, up to three copies of it may live at once, so one
//! connection holds about 35 MiB at worst (a few KiB when idle). The number of
//! connections is the daemon's limit.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use adjoin_rpc::netlogon::pool::LogonPool;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::negotiate::SMB1_PROTOCOL;
use super::{AUTH_DEADLINE, MAX_MESSAGE_IN, ServerConfig, ServerConnection, Step};
use crate::error::SmbError;
use crate::proto::{frame, frame_len, split_compound};

/// The largest frame taken before a session is established: a NEGOTIATE or SESSION_SETUP
/// (a Kerberos AP-REQ with its PAC is some kilobytes), with room to spare.
const MAX_MESSAGE_UNAUTHENTICATED: usize = 256 * 1024;

/// How long an NTLM logon may wait for the DC before it is refused as
/// STATUS_NO_LOGON_SERVERS: well inside the 20 s after which smbclient gives up.
const LOGON_DEADLINE: Duration = Duration::from_secs(10);

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
    let conn = ServerConnection::new(config);
    conn.set_client(
        &stream
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    );
    let core = Arc::new(Mutex::new(conn));
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
        let limit = if authenticated() {
            MAX_MESSAGE_IN
        } else {
            MAX_MESSAGE_UNAUTHENTICATED
        };
        if len > limit {
            return Err(SmbError::TooLarge { len });
        }
        let payload = match tokio::time::timeout(idle, read_frame(stream, len)).await {
            Err(_) => return Err(SmbError::Timeout(format!("{peer} stopped mid-message"))),
            Ok(Err(e)) => return Err(io("reading from", e)),
            Ok(Ok(payload)) => payload,
        };
        if payload.starts_with(&SMB1_PROTOCOL) {
            let step = on_core(core, move |c| c.handle_smb1(&payload)).await??;
            if let Step::Reply(Some(reply)) = step {
                write_reply(stream, &reply, idle, peer).await?;
            }
            continue;
        }
        // MS-SMB2 3.3.5.2.1.1: an encrypted frame is decrypted before it is split; one
        // that does not decrypt ends the connection.
        let payload = Arc::new(on_core(core, move |c| c.receive(payload)).await??);
        let count = split_compound(&payload)?.len();
        // Cheap and never blocking: no trip to the blocking pool.
        core.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .begin_compound();
        for index in 0..count {
            let message = Arc::clone(&payload);
            let step = on_core(core, move |c| {
                let messages = split_compound(&message)?;
                c.handle(messages[index])
            })
            .await??;
            let reply =
                match step {
                    Step::Reply(reply) => reply,
                    Step::Logon(logon) => {
                        // A DC that hangs must not outlast the client's patience (smbclient
                        // gives up at 20 s): past LOGON_DEADLINE the logon is answered
                        // STATUS_NO_LOGON_SERVERS, and the pooled binding, dropped with the
                        // call, closes its connection.
                        let verdict =
                            match tokio::time::timeout(LOGON_DEADLINE, pool.logon_network(&logon))
                                .await
                            {
                                Ok(verdict) => verdict.map_err(|e| e.to_string()),
                                Err(_) => Err(format!(
                                    "the domain controller did not answer within {} s",
                                    LOGON_DEADLINE.as_secs()
                                )),
                            };
                        on_core(core, move |c| c.resume_logon(verdict)).await?
                    }
                };
            if let Some(reply) = reply {
                write_reply(stream, &reply, idle, peer).await?;
            }
        }
    }
}

/// Reads a frame of `len` bytes, growing the buffer as the bytes arrive (a client that
/// announces a large frame and sends little makes the server hold little).
async fn read_frame<R: AsyncRead + Unpin>(stream: &mut R, len: usize) -> std::io::Result<Vec<u8>> {
    let mut payload = Vec::with_capacity(len.min(64 * 1024));
    let got = stream.take(len as u64).read_to_end(&mut payload).await?;
    if got < len {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(payload)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_frame_is_read_whole_and_a_short_one_is_an_error() {
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let mut whole = &data[..];
        assert_eq!(read_frame(&mut whole, data.len()).await.unwrap(), data);
        let mut short = &data[..1000];
        let e = read_frame(&mut short, 2000).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        // Only `len` bytes are taken: the next frame stays in the stream.
        let mut two = &data[..10];
        assert_eq!(read_frame(&mut two, 4).await.unwrap(), &data[..4]);
        assert_eq!(two, &data[4..10]);
    }
}
