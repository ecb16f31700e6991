//! The tokio driver of [`ServerConnection`]: one task per client connection reads frames,
//! has the core decrypt them, feeds it each message, has the DC verify logons, and writes
//! the replies.
//!
//! Memory: a connection holds one received frame at a time, grown as its bytes arrive
//! (never more than the client has sent), of at most [`MAX_MESSAGE_IN`] (8.25 MiB) once a
//! session is established and [`MAX_MESSAGE_UNAUTHENTICATED`] before; an encrypted frame
//! is decrypted in place. A reply is at most the 8 MiB MaxReadSize and its headers, built
//! (and encrypted) in the core; replies then wait in the connection's [`Outbox`], which
//! holds at most [`QUEUE_BYTES`](super::outbox::QUEUE_BYTES) of them, written by a task of
//! their own while the core serves the next request. One connection holds about 35 MiB at
//! worst (a few KiB when idle). The number of
//! connections is the daemon's limit.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use adjoin_rpc::netlogon::pool::LogonPool;
use std::collections::VecDeque;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

use super::negotiate::SMB1_PROTOCOL;
use super::outbox::Outbox;
use super::{AUTH_DEADLINE, MAX_MESSAGE_IN, Outgoing, ServerConfig, ServerConnection, Step};
use crate::error::SmbError;
use crate::proto::{frame_len, split_compound};

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
    stream: TcpStream,
    config: Arc<ServerConfig>,
    pool: Arc<LogonPool>,
    idle: Duration,
) -> Result<(), SmbError> {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "an SMB client".to_owned(), |a| a.to_string());
    super::durable::start_sweeper();
    let mut conn = ServerConnection::new(config);
    // READ responses are signed by the outbox's writer task, off the core.
    conn.sign_reads_later();
    conn.set_client(
        &stream
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    );
    // Replies go out as soon as they are written (smbd does the same): Nagle's delay
    // would hold each reply's last segment for the client's acknowledgment.
    let _ = stream.set_nodelay(true);
    if let Err(e) = keep_alive(&stream) {
        tracing::info!(error = %e, "TCP keepalive not set: a vanished client holds its slot until it is idle-closed");
    }
    let core = Arc::new(Mutex::new(conn));
    let (mut input, output) = stream.into_split();
    let mut outbox = Outbox::start(output, idle, peer.clone());
    let mut result = drive(&mut input, &mut outbox, &core, &pool, idle, &peer).await;
    // Replies queued go out (each write within the idle deadline) before the socket
    // closes; a failed connection drops them.
    if result.is_ok() {
        result = outbox.finish().await;
    }
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

/// What the driver has to do next for a connection: run compound members from an index,
/// or send a message (and then run what it resumes).
enum Work {
    Members(Arc<Vec<u8>>, usize),
    Send(Outgoing),
}

/// A frame being read: the length prefix, then the payload, grown as bytes arrive. Its
/// progress lives here, so a read interrupted by another event (a break to send, a
/// pending request's deadline) loses nothing.
#[derive(Default)]
struct FrameReader {
    prefix: [u8; 4],
    have: usize,
    payload: Option<(Vec<u8>, usize)>,
}

impl FrameReader {
    /// Whether a frame has begun and not ended.
    fn in_progress(&self) -> bool {
        self.have > 0
    }

    /// Reads until a whole frame is in ([`Read::Frame`]), returning once in between
    /// when a frame's length has arrived ([`Read::Started`], so the caller can put a
    /// deadline on the rest); [`Read::End`] when the stream ends between frames.
    /// Cancel-safe: each read is, and what it read is kept.
    async fn next<R: AsyncRead + Unpin>(
        &mut self,
        stream: &mut R,
        limit: usize,
    ) -> Result<Read, SmbError> {
        let io = |error: std::io::Error| SmbError::Io {
            context: "reading from an SMB client".into(),
            error,
        };
        while self.have < 4 {
            let got = stream
                .read(&mut self.prefix[self.have..])
                .await
                .map_err(io)?;
            if got == 0 {
                return if self.have == 0 {
                    Ok(Read::End)
                } else {
                    Err(io(std::io::ErrorKind::UnexpectedEof.into()))
                };
            }
            self.have += got;
        }
        if self.payload.is_none() {
            // The server announced its largest read, write and transaction: a message
            // much larger than that is not a conforming client's, and is not buffered.
            let len = frame_len(self.prefix)?;
            if len > limit {
                return Err(SmbError::TooLarge { len });
            }
            self.payload = Some((Vec::with_capacity(len.min(64 * 1024)), len));
            return Ok(Read::Started);
        }
        let (payload, len) = self.payload.as_mut().expect("set above");
        while payload.len() < *len {
            let want = (*len - payload.len()) as u64;
            let got = (&mut *stream)
                .take(want)
                .read_buf(payload)
                .await
                .map_err(io)?;
            if got == 0 {
                return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
            }
        }
        let (payload, _) = self.payload.take().expect("set above");
        self.have = 0;
        Ok(Read::Frame(payload))
    }
}

/// What [`FrameReader::next`] read.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    /// A frame's length: its bytes follow.
    Started,
    /// A whole frame.
    Frame(Vec<u8>),
    /// The stream ended between frames.
    End,
}

/// An authenticated connection that holds nothing (no open, no waiting request) and
/// sends nothing for this long is closed (Windows' autodisconnect default). One that
/// holds opens stays: a client may keep a file open and say nothing for hours.
const AUTODISCONNECT: Duration = Duration::from_secs(15 * 60);

/// A connection that holds opens (or a waiting CHANGE_NOTIFY, which waits as long as
/// the client wants, as on Windows) is never idle-closed, so a peer that vanishes without
/// a FIN (powered off, its network gone) would hold its slot for ever: TCP keepalive
/// finds it. After this long without a segment the kernel probes...
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// ...this often...
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// ...and after this many unanswered probes the connection fails (its opens close,
/// durable ones are kept for a reconnect): a dead peer goes within two minutes.
const KEEPALIVE_PROBES: u32 = 6;

/// Turns TCP keepalive on for a client's connection.
fn keep_alive(stream: &TcpStream) -> std::io::Result<()> {
    use rustix::net::sockopt;
    sockopt::set_socket_keepalive(stream, true)?;
    sockopt::set_tcp_keepidle(stream, KEEPALIVE_IDLE)?;
    sockopt::set_tcp_keepintvl(stream, KEEPALIVE_INTERVAL)?;
    sockopt::set_tcp_keepcnt(stream, KEEPALIVE_PROBES)?;
    Ok(())
}

async fn drive(
    input: &mut OwnedReadHalf,
    outbox: &mut Outbox,
    core: &Arc<Mutex<ServerConnection>>,
    pool: &LogonPool,
    idle: Duration,
    peer: &str,
) -> Result<(), SmbError> {
    let lock = || core.lock().unwrap_or_else(PoisonError::into_inner);
    let mut events = lock().take_events().ok_or_else(|| SmbError::Io {
        context: format!("serving {peer}"),
        error: std::io::Error::other("the connection's event queue was taken twice"),
    })?;
    // A connection that has not logged anyone on within this time is dropped, so idle
    // unauthenticated clients cannot hold the daemon's connection slots.
    let logon_deadline = tokio::time::Instant::now() + AUTH_DEADLINE;
    let mut reader = FrameReader::default();
    let mut last_heard = tokio::time::Instant::now();
    loop {
        let (authenticated, busy, due) = {
            let c = lock();
            (c.authenticated(), c.busy(), c.next_deadline())
        };
        let limit = if authenticated {
            MAX_MESSAGE_IN
        } else {
            MAX_MESSAGE_UNAUTHENTICATED
        };
        let due = due.map(tokio::time::Instant::from_std);
        // A frame begun must arrive whole within `idle`; between frames, the logon
        // deadline, then autodisconnect when the connection holds nothing.
        let quiet = if reader.in_progress() {
            Some(last_heard + idle)
        } else if authenticated && !busy {
            Some(last_heard + AUTODISCONNECT)
        } else {
            None
        };
        let work = tokio::select! {
            biased;
            Some(event) = events.recv() => {
                let out = on_core(core, move |c| c.on_event(event)).await?;
                out.into_iter().map(Work::Send).collect()
            }
            () = sleep_until_some(due) => {
                let now = std::time::Instant::now();
                let out = on_core(core, move |c| c.on_timer(now)).await?;
                out.into_iter().map(Work::Send).collect()
            }
            () = tokio::time::sleep_until(logon_deadline), if !authenticated => {
                return Err(SmbError::Timeout(format!("{peer} did not log on")));
            }
            () = sleep_until_some(quiet) => {
                if reader.in_progress() {
                    return Err(SmbError::Timeout(format!("{peer} stopped mid-message")));
                }
                return Ok(());
            }
            read = reader.next(input, limit) => match read? {
                Read::End => return Ok(()),
                Read::Started => {
                    last_heard = tokio::time::Instant::now();
                    VecDeque::new()
                }
                Read::Frame(payload) => {
                    last_heard = tokio::time::Instant::now();
                    received(outbox, core, payload).await?
                }
            },
        };
        pump(outbox, core, pool, work).await?;
    }
}

/// Sleeps until `due`, or forever.
async fn sleep_until_some(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// A frame from the client: an SMB1 NEGOTIATE is answered here; an SMB2 frame is
/// decrypted if sealed and becomes the work of running its members.
async fn received(
    outbox: &mut Outbox,
    core: &Arc<Mutex<ServerConnection>>,
    payload: Vec<u8>,
) -> Result<VecDeque<Work>, SmbError> {
    if payload.starts_with(&SMB1_PROTOCOL) {
        let step = on_core(core, move |c| c.handle_smb1(&payload)).await??;
        if let Step::Reply(Some(reply)) = step {
            outbox.send(reply).await?;
        }
        return Ok(VecDeque::new());
    }
    // MS-SMB2 3.3.5.2.1.1: an encrypted frame is decrypted before it is split; one that
    // does not decrypt ends the connection.
    let payload = Arc::new(on_core(core, move |c| c.receive(payload)).await??);
    split_compound(&payload)?;
    // Cheap and never blocking: no trip to the blocking pool.
    core.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .begin_compound();
    Ok(VecDeque::from([Work::Members(payload, 0)]))
}

/// Runs compound members and sends messages until nothing is left to do now. A member
/// that goes async (its interim response sent) takes the members after it along: they
/// run when it is answered, which comes back here as a [`Work::Send`] with a resume.
async fn pump(
    outbox: &mut Outbox,
    core: &Arc<Mutex<ServerConnection>>,
    pool: &LogonPool,
    work: impl IntoIterator<Item = Work>,
) -> Result<(), SmbError> {
    let mut queue: VecDeque<Work> = work.into_iter().collect();
    while let Some(item) = queue.pop_front() {
        match item {
            Work::Send(out) => {
                if !out.message.is_empty() {
                    outbox.send(out.message).await?;
                }
                if let Some(resume) = out.resume {
                    core.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .resume(&resume);
                    queue.push_front(Work::Members(resume.payload, resume.next));
                }
            }
            Work::Members(payload, index) => {
                let count = split_compound(&payload)?.len();
                if index >= count {
                    continue;
                }
                let message = Arc::clone(&payload);
                let (step, sign_later, went_async, ready, before) = on_core(core, move |c| {
                    let messages = split_compound(&message)?;
                    let step = c.handle(messages[index])?;
                    let sign_later = c.take_sign_later();
                    let went_async = c.take_went_async();
                    if let Some(id) = went_async {
                        c.defer_rest(id, Arc::clone(&message), index + 1);
                    }
                    let before = c.take_before_reply();
                    Ok::<_, SmbError>((step, sign_later, went_async, c.take_ready(), before))
                })
                .await??;
                for message in before {
                    outbox.send(message).await?;
                }
                let reply = match step {
                    Step::Reply(reply) => reply,
                    Step::Logon(logon) => {
                        // A DC that hangs must not outlast the client's patience
                        // (smbclient gives up at 20 s): past LOGON_DEADLINE the logon is
                        // answered STATUS_NO_LOGON_SERVERS, and the pooled binding,
                        // dropped with the call, closes its connection.
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
                        // A failed re-authentication ends its session: what that
                        // answers (waiting requests) goes before the reply.
                        let (reply, before) = on_core(core, move |c| {
                            (c.resume_logon(verdict), c.take_before_reply())
                        })
                        .await?;
                        for message in before {
                            outbox.send(message).await?;
                        }
                        reply
                    }
                };
                if let Some(reply) = reply {
                    outbox.send_signed(reply, sign_later).await?;
                }
                if went_async.is_none() {
                    queue.push_front(Work::Members(payload, index + 1));
                }
                for out in ready.into_iter().rev() {
                    queue.push_front(Work::Send(out));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut out = (payload.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(payload);
        out
    }

    #[tokio::test]
    async fn a_client_connection_is_probed_by_tcp_keepalive() {
        use rustix::net::sockopt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        assert!(!sockopt::socket_keepalive(&server).unwrap());
        keep_alive(&server).unwrap();
        assert!(sockopt::socket_keepalive(&server).unwrap());
        assert_eq!(sockopt::tcp_keepidle(&server).unwrap(), KEEPALIVE_IDLE);
        assert_eq!(sockopt::tcp_keepintvl(&server).unwrap(), KEEPALIVE_INTERVAL);
        assert_eq!(sockopt::tcp_keepcnt(&server).unwrap(), KEEPALIVE_PROBES);
    }

    /// Reads on, past `Started`, to the next frame or the end.
    async fn whole(reader: &mut FrameReader, stream: &mut &[u8]) -> Read {
        loop {
            match reader.next(stream, 1 << 20).await.unwrap() {
                Read::Started => assert!(reader.in_progress()),
                other => return other,
            }
        }
    }

    #[tokio::test]
    async fn frames_are_read_whole_one_at_a_time_and_a_short_one_is_an_error() {
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let mut two = framed(&data);
        two.extend(framed(b"next"));
        let mut stream = &two[..];
        let mut reader = FrameReader::default();
        assert_eq!(
            whole(&mut reader, &mut stream).await,
            Read::Frame(data.clone())
        );
        assert!(!reader.in_progress());
        assert_eq!(
            whole(&mut reader, &mut stream).await,
            Read::Frame(b"next".to_vec())
        );
        // The stream ends between frames: no frame, no error.
        assert_eq!(whole(&mut reader, &mut stream).await, Read::End);
        // It ends inside one: an error.
        let short = framed(&data[..2000]);
        let mut stream = &short[..1000];
        let mut reader = FrameReader::default();
        assert_eq!(
            reader.next(&mut stream, 1 << 20).await.unwrap(),
            Read::Started
        );
        assert!(reader.next(&mut stream, 1 << 20).await.is_err());
        // A frame past the limit is refused before its bytes are read.
        let mut reader = FrameReader::default();
        let mut stream = &short[..];
        assert!(matches!(
            reader.next(&mut stream, 1000).await,
            Err(SmbError::TooLarge { len: 2000 })
        ));
    }
}
