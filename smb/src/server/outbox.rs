//! A connection's replies on their way out. A task of their own writes them to the
//! socket in order, so the core goes on with the client's next request (a READ's disk
//! read) while the last reply is still being sent, and signs the READ responses the
//! core left unsigned: with several requests in flight the two overlap, as smbd's
//! asynchronous reads overlap its signing and sends.
//!
//! Bounds: the replies queued and the one being written hold at most [`QUEUE_BYTES`]
//! between them (one reply larger than that is let through alone); a sender waits for
//! room. Each write has the idle deadline, so a client that stops reading fails the
//! writer, and with it the connection, within that time; the senders then get its error.

use std::io::IoSlice;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::error::SmbError;
use crate::proto::MAX_MESSAGE;
use crate::signing::Signer;

/// The bytes of replies a connection may have queued or in the socket's write at once:
/// eight 1 MiB READ responses, or one of the largest (8 MiB) with its headers.
pub(super) const QUEUE_BYTES: usize = 8 * 1024 * 1024 + 64 * 1024;

type Queued = (Vec<u8>, Option<Signer>, OwnedSemaphorePermit);

/// The sending side: [`Outbox::send`] queues a reply, [`Outbox::finish`] waits for all
/// of them to be written.
pub(super) struct Outbox {
    queue: Option<mpsc::UnboundedSender<Queued>>,
    room: Arc<Semaphore>,
    writer: Option<JoinHandle<Result<(), SmbError>>>,
}

impl Outbox {
    /// Starts the writer task on `out` (the socket's write half). `peer` names the client
    /// in errors.
    pub(super) fn start<W: AsyncWrite + Unpin + Send + 'static>(
        out: W,
        idle: Duration,
        peer: String,
    ) -> Self {
        let (queue, replies) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(QUEUE_BYTES));
        let writer = tokio::spawn(write_all(out, replies, Arc::clone(&room), idle, peer));
        Self {
            queue: Some(queue),
            room,
            writer: Some(writer),
        }
    }

    /// Queues one reply (framed on the way out), waiting while the queue is full. An
    /// error is the writer's: the client stopped reading, or the connection failed.
    pub(super) async fn send(&mut self, reply: Vec<u8>) -> Result<(), SmbError> {
        self.send_signed(reply, None).await
    }

    /// [`Self::send`] for a reply the writer signs with `signer` before sending it (a
    /// READ response: the core goes on meanwhile).
    pub(super) async fn send_signed(
        &mut self,
        reply: Vec<u8>,
        signer: Option<Signer>,
    ) -> Result<(), SmbError> {
        if reply.len() > MAX_MESSAGE {
            return Err(SmbError::TooLarge { len: reply.len() });
        }
        let cost = u32::try_from(reply.len().clamp(1, QUEUE_BYTES)).unwrap_or(u32::MAX);
        let Ok(permit) = Arc::clone(&self.room).acquire_many_owned(cost).await else {
            return Err(self.failure().await);
        };
        let sent = self
            .queue
            .as_ref()
            .is_some_and(|q| q.send((reply, signer, permit)).is_ok());
        if sent {
            Ok(())
        } else {
            Err(self.failure().await)
        }
    }

    /// Waits until every queued reply is written (or the writer failed).
    pub(super) async fn finish(mut self) -> Result<(), SmbError> {
        self.queue = None;
        match self.writer.take() {
            Some(writer) => joined(writer.await),
            None => Ok(()),
        }
    }

    /// The writer's error, once it has stopped.
    async fn failure(&mut self) -> SmbError {
        self.queue = None;
        let ended = match self.writer.take() {
            Some(writer) => joined(writer.await),
            None => Ok(()),
        };
        ended.err().unwrap_or_else(|| SmbError::Io {
            context: "sending a reply".into(),
            error: std::io::ErrorKind::BrokenPipe.into(),
        })
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // Dropped without finish (the connection failed): replies still queued are
        // not waited for.
        if let Some(writer) = &self.writer {
            writer.abort();
        }
    }
}

fn joined(result: Result<Result<(), SmbError>, tokio::task::JoinError>) -> Result<(), SmbError> {
    result.map_err(|e| SmbError::Io {
        context: "the task sending replies".into(),
        error: std::io::Error::other(e.to_string()),
    })?
}

/// The writer task: frames and writes each reply in order; the first failure ends it and
/// closes the room, so a sender waiting for room learns of it.
async fn write_all<W: AsyncWrite + Unpin>(
    mut out: W,
    mut replies: mpsc::UnboundedReceiver<Queued>,
    room: Arc<Semaphore>,
    idle: Duration,
    peer: String,
) -> Result<(), SmbError> {
    let result = async {
        while let Some((mut reply, signer, permit)) = replies.recv().await {
            if let Some(signer) = signer {
                signer.sign(&mut reply);
            }
            write_reply(&mut out, &reply, idle, &peer).await?;
            drop(permit);
        }
        Ok(())
    }
    .await;
    room.close();
    result
}

/// Writes one reply, its length prefix and its bytes in one vectored write (no copy to
/// frame it), within `idle`.
async fn write_reply<W: AsyncWrite + Unpin>(
    out: &mut W,
    reply: &[u8],
    idle: Duration,
    peer: &str,
) -> Result<(), SmbError> {
    let prefix = u32::try_from(reply.len()).unwrap_or(u32::MAX).to_be_bytes();
    match tokio::time::timeout(idle, write_two(out, &prefix, reply)).await {
        Err(_) => Err(SmbError::Timeout(format!("{peer} stopped reading"))),
        Ok(Err(error)) => Err(SmbError::Io {
            context: format!("writing to {peer}"),
            error,
        }),
        Ok(Ok(())) => Ok(()),
    }
}

/// Writes `first` then `second` with vectored writes until both are out.
async fn write_two<W: AsyncWrite + Unpin>(
    stream: &mut W,
    mut first: &[u8],
    mut second: &[u8],
) -> std::io::Result<()> {
    while !first.is_empty() || !second.is_empty() {
        let slices = [IoSlice::new(first), IoSlice::new(second)];
        let n = stream.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let from_first = n.min(first.len());
        first = &first[from_first..];
        second = &second[n - from_first..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn two_buffers_are_written_whole_in_order() {
        let mut out = Vec::new();
        let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        write_two(&mut out, b"\0\x01\x86\xa0", &big).await.unwrap();
        assert_eq!(&out[..4], b"\0\x01\x86\xa0");
        assert_eq!(&out[4..], &big[..]);
    }

    #[tokio::test]
    async fn replies_arrive_framed_in_the_order_sent() {
        let (client, server) = tokio::io::duplex(4096);
        let mut outbox = Outbox::start(server, Duration::from_secs(5), "test".into());
        let reader = tokio::spawn(async move {
            let mut client = client;
            let mut all = Vec::new();
            client.read_to_end(&mut all).await.unwrap();
            all
        });
        let replies: Vec<Vec<u8>> = (1..=20u8).map(|i| vec![i; 1000 * usize::from(i)]).collect();
        for reply in &replies {
            outbox.send(reply.clone()).await.unwrap();
        }
        outbox.finish().await.unwrap();
        let all = reader.await.unwrap();
        let mut at = 0;
        for reply in &replies {
            let len = u32::from_be_bytes(all[at..at + 4].try_into().unwrap()) as usize;
            assert_eq!(&all[at + 4..at + 4 + len], &reply[..]);
            at += 4 + len;
        }
        assert_eq!(at, all.len());
    }

    /// A client that stops reading: the queue fills to its bound and no further (the
    /// sender waits), and once the idle deadline passes the writer fails and the waiting
    /// sender gets "stopped reading".
    #[tokio::test]
    async fn a_client_that_stops_reading_holds_at_most_the_bound_and_is_dropped_at_the_deadline() {
        let (_client, server) = tokio::io::duplex(64 * 1024);
        let idle = Duration::from_millis(400);
        let mut outbox = Outbox::start(server, idle, "a client".into());
        let reply = vec![7u8; 1024 * 1024];
        let mut queued = 0;
        let started = tokio::time::Instant::now();
        let error = loop {
            match tokio::time::timeout(Duration::from_millis(100), outbox.send(reply.clone())).await
            {
                Ok(Ok(())) => queued += reply.len(),
                // Waiting for room: the bound is reached; wait on past the deadline.
                Err(_) => break outbox.send(reply.clone()).await.unwrap_err(),
                Ok(Err(e)) => break e,
            }
            assert!(queued <= QUEUE_BYTES, "{queued} bytes queued");
        };
        assert!(queued + reply.len() > QUEUE_BYTES, "only {queued} queued");
        assert!(matches!(&error, SmbError::Timeout(m) if m.contains("stopped reading")));
        let waited = started.elapsed();
        assert!(waited >= idle && waited <= idle * 5, "{waited:?}");
    }

    #[tokio::test]
    async fn a_reply_larger_than_a_frame_is_refused() {
        let (_client, server) = tokio::io::duplex(1024);
        let mut outbox = Outbox::start(server, Duration::from_secs(5), "test".into());
        let error = outbox.send(vec![0; MAX_MESSAGE + 1]).await.unwrap_err();
        assert!(matches!(error, SmbError::TooLarge { .. }));
    }
}
