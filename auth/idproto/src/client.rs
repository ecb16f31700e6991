//! A blocking client of the identity socket, for the NSS and PAM modules and the CLI:
//! every call bounded by one deadline.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::{MAX_RESPONSE, ProtoError, Request, Response, frame_len};

/// A call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// No daemon listens there.
    Connect(std::io::Error),
    /// The connection failed.
    Io(std::io::Error),
    /// The daemon did not answer in time.
    Timeout,
    /// The answer is not a response.
    Proto(ProtoError),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "cannot connect to adjoind: {e}"),
            Self::Io(e) => write!(f, "the connection to adjoind failed: {e}"),
            Self::Timeout => f.write_str("adjoind did not answer in time"),
            Self::Proto(e) => write!(f, "adjoind's answer is malformed: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// One connection to adjoind.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    timeout: Duration,
}

fn io(e: std::io::Error) -> ClientError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ClientError::Timeout,
        _ => ClientError::Io(e),
    }
}

impl Client {
    /// Connects to the socket at `path` within `timeout` (a hung daemon whose backlog is
    /// full makes a blocking connect wait for ever: the connect is non-blocking and retried
    /// until the deadline); each call then gets `timeout` too.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Self, ClientError> {
        let timeout = timeout.max(Duration::from_millis(1));
        let stream = connect_within(path, Instant::now() + timeout)?;
        Ok(Self { stream, timeout })
    }

    /// Sends `req` and reads its response, within the timeout in all.
    pub fn call(&mut self, req: &Request) -> Result<Response, ClientError> {
        let deadline = Instant::now() + self.timeout;
        let left = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or(ClientError::Timeout)
        };
        let frame = zeroize::Zeroizing::new(req.encode());
        self.stream.set_write_timeout(Some(left()?)).map_err(io)?;
        self.stream.write_all(&frame).map_err(io)?;
        let mut prefix = [0u8; 4];
        self.read_exact(&mut prefix, &left)?;
        let len = frame_len(prefix, MAX_RESPONSE).map_err(ClientError::Proto)?;
        let mut body = vec![0u8; len];
        self.read_exact(&mut body, &left)?;
        Response::decode(&body).map_err(ClientError::Proto)
    }

    fn read_exact(
        &mut self,
        buf: &mut [u8],
        left: &dyn Fn() -> Result<Duration, ClientError>,
    ) -> Result<(), ClientError> {
        let mut got = 0;
        while got < buf.len() {
            self.stream.set_read_timeout(Some(left()?)).map_err(io)?;
            match self.stream.read(&mut buf[got..]) {
                Ok(0) => return Err(ClientError::Io(std::io::ErrorKind::UnexpectedEof.into())),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }
}

/// A non-blocking connect, retried while the listener's backlog is full (EAGAIN).
fn connect_within(path: &Path, deadline: Instant) -> Result<UnixStream, ClientError> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let addr = SocketAddrUnix::new(path).map_err(|e| ClientError::Connect(e.into()))?;
    loop {
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .map_err(|e| ClientError::Connect(e.into()))?;
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => {
                let stream = UnixStream::from(fd);
                stream
                    .set_nonblocking(false)
                    .map_err(ClientError::Connect)?;
                return Ok(stream);
            }
            Err(rustix::io::Errno::AGAIN) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(rustix::io::Errno::AGAIN) => return Err(ClientError::Timeout),
            Err(e) => return Err(ClientError::Connect(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixListener;

    use super::*;

    #[test]
    fn a_call_round_trips_and_a_silent_daemon_times_out() {
        let dir = std::env::temp_dir().join(format!("idproto-client-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            // First client: answered. Second: never answered.
            let (mut s, _) = listener.accept().unwrap();
            let mut prefix = [0u8; 4];
            s.read_exact(&mut prefix).unwrap();
            let mut body = vec![0u8; frame_len(prefix, 1 << 16).unwrap()];
            s.read_exact(&mut body).unwrap();
            assert_eq!(Request::decode(&body).unwrap(), Request::Status);
            s.write_all(&Response::Json("{}".into()).encode()).unwrap();
            let (silent, _) = listener.accept().unwrap();
            std::thread::sleep(Duration::from_millis(600));
            drop(silent);
        });
        let mut c = Client::connect(&path, Duration::from_secs(5)).unwrap();
        assert_eq!(
            c.call(&Request::Status).unwrap(),
            Response::Json("{}".into())
        );
        let mut c = Client::connect(&path, Duration::from_millis(200)).unwrap();
        let started = Instant::now();
        assert!(matches!(
            c.call(&Request::Status),
            Err(ClientError::Timeout)
        ));
        assert!(started.elapsed() < Duration::from_millis(500));
        server.join().unwrap();
        assert!(matches!(
            Client::connect(&dir.join("nothing"), Duration::from_secs(1)),
            Err(ClientError::Connect(_))
        ));
        // A listener that never accepts: once its backlog is full, connect gives up at
        // the deadline instead of blocking.
        let full = dir.join("full");
        let _ = std::fs::remove_file(&full);
        let _hung = UnixListener::bind(&full).unwrap();
        let mut held = Vec::new();
        let started = Instant::now();
        let outcome = loop {
            match Client::connect(&full, Duration::from_millis(200)) {
                Ok(c) => held.push(c),
                Err(e) => break e,
            }
            assert!(held.len() < 100_000, "the backlog never filled");
        };
        assert!(matches!(outcome, ClientError::Timeout), "{outcome}");
        assert!(started.elapsed() < Duration::from_secs(30));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
