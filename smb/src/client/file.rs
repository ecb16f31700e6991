//! Files on a disk share: CREATE with the access and disposition asked (MS-SMB2
//! 3.2.4.3), and a byte range moved by READs or WRITEs (3.2.4.6, 3.2.4.7) with several
//! in flight, as many as the caller's window and the server's credits allow, each as
//! long as NEGOTIATE's MaxReadSize or MaxWriteSize lets it be (multi-credit when the
//! server supports it, 3.2.4.1.5).
//!
//! [`Transfer`] plans a range's requests without I/O; [`SmbClient::read_range`] and
//! [`SmbClient::write_range`] drive it over the connection.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use adjoin_rpc::ntstatus::NtStatus;

use super::{SmbClient, Tree, expect};
use crate::error::SmbError;
use crate::proto::{CreateRequest, CreateResponse, FileId, ReadResponse, WriteResponse};

/// MS-SMB2 2.2.13 DesiredAccess GENERIC_READ.
pub const GENERIC_READ: u32 = 0x8000_0000;
/// GENERIC_WRITE.
pub const GENERIC_WRITE: u32 = 0x4000_0000;
/// ShareAccess FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE.
pub const SHARE_ALL: u32 = 0x7;
/// CreateDisposition FILE_OPEN: open an existing file, fail if there is none.
pub const FILE_OPEN: u32 = 1;
/// FILE_CREATE: create a new file, fail if it exists.
pub const FILE_CREATE: u32 = 2;
/// FILE_OPEN_IF: open the file, create it if there is none.
pub const FILE_OPEN_IF: u32 = 3;
/// FILE_OVERWRITE_IF: open and truncate the file, create it if there is none.
pub const FILE_OVERWRITE_IF: u32 = 5;
/// CreateOptions FILE_NON_DIRECTORY_FILE: the name must not be a directory.
pub const FILE_NON_DIRECTORY_FILE: u32 = 0x40;
/// FileAttributes FILE_ATTRIBUTE_NORMAL.
const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;

/// How [`SmbClient::create`] opens a file: the CREATE request's access, sharing,
/// disposition and options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// `DesiredAccess`.
    pub desired_access: u32,
    /// `ShareAccess`.
    pub share_access: u32,
    /// `CreateDisposition`.
    pub disposition: u32,
    /// `CreateOptions`.
    pub create_options: u32,
}

impl OpenOptions {
    /// A file opened, or created when missing (FILE_OPEN_IF), for reading and writing,
    /// shared with every other open.
    pub const fn read_write() -> Self {
        Self {
            desired_access: GENERIC_READ | GENERIC_WRITE,
            share_access: SHARE_ALL,
            disposition: FILE_OPEN_IF,
            create_options: FILE_NON_DIRECTORY_FILE,
        }
    }

    /// An existing file opened for reading (FILE_OPEN), shared with every other open.
    pub const fn read_only() -> Self {
        Self {
            desired_access: GENERIC_READ,
            disposition: FILE_OPEN,
            ..Self::read_write()
        }
    }

    /// The same with another `CreateDisposition`.
    pub const fn with_disposition(self, disposition: u32) -> Self {
        Self {
            disposition,
            ..self
        }
    }
}

/// A file opened by [`SmbClient::create`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFile {
    /// The tree it was opened on.
    pub tree: Tree,
    /// Its `FileId`.
    pub id: FileId,
    /// `EndofFile` when it was opened.
    pub end_of_file: u64,
    /// `CreateAction`: 0 superseded, 1 opened, 2 created, 3 overwritten.
    pub create_action: u32,
}

/// How [`SmbClient::read_range`] and [`SmbClient::write_range`] move a range: pieces of
/// at most `piece` bytes (cut to what the server allows), at most `window` in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pipeline {
    /// The longest READ or WRITE wanted.
    pub piece: u32,
    /// Requests in flight at most.
    pub window: usize,
}

impl Default for Pipeline {
    /// The largest pieces the server allows, eight in flight.
    fn default() -> Self {
        Self {
            piece: u32::MAX,
            window: 8,
        }
    }
}

/// The READs or WRITEs that move one byte range, planned without I/O: which piece goes
/// next, which are in flight (by message id), and how many bytes have moved.
#[derive(Debug)]
pub struct Transfer {
    /// Where the next piece starts.
    next: u64,
    /// One past the range's last byte.
    end: u64,
    /// The longest piece.
    piece: u32,
    /// Pieces in flight at most.
    window: usize,
    /// Pieces in flight: message id to offset and length.
    in_flight: BTreeMap<u64, (u64, u32)>,
    /// Bytes moved.
    moved: u64,
    /// A READ came back short or at the end of the file: send no more.
    at_end: bool,
}

impl Transfer {
    /// `len` bytes from `offset`, in pieces of at most `piece` bytes, at most `window`
    /// of them in flight.
    pub fn new(offset: u64, len: u64, piece: u32, window: usize) -> Self {
        Self {
            next: offset,
            end: offset.saturating_add(len),
            piece: piece.max(1),
            window: window.max(1),
            in_flight: BTreeMap::new(),
            moved: 0,
            at_end: false,
        }
    }

    /// The next piece to send, `(offset, length)`, when the window has room and `credits`
    /// pay for it (`charge` gives a piece's cost); `None` otherwise.
    pub fn next_piece(&self, credits: u64, charge: impl Fn(u32) -> u16) -> Option<(u64, u32)> {
        if self.at_end || self.next >= self.end || self.in_flight.len() >= self.window {
            return None;
        }
        let len = (self.end - self.next).min(u64::from(self.piece)) as u32;
        (u64::from(charge(len)) <= credits).then_some((self.next, len))
    }

    /// Records that the piece `next_piece` returned went out as `message_id`.
    pub fn sent(&mut self, message_id: u64, (offset, len): (u64, u32)) {
        self.in_flight.insert(message_id, (offset, len));
        self.next = offset + u64::from(len);
    }

    /// Records the answer to `message_id`: `count` bytes moved (`None` for a READ at the
    /// end of the file). Returns the piece it answered.
    pub fn completed(
        &mut self,
        message_id: u64,
        count: Option<u32>,
    ) -> Result<(u64, u32), SmbError> {
        let piece = self
            .in_flight
            .remove(&message_id)
            .ok_or(SmbError::Malformed {
                what: "SMB2 header",
                why: "a response to a message id that is not outstanding",
            })?;
        match count {
            Some(n) if n > piece.1 => {
                return Err(SmbError::Malformed {
                    what: "READ or WRITE response",
                    why: "more bytes than the request asked for",
                });
            }
            Some(n) => {
                self.moved += u64::from(n);
                // A short READ of a file ends at its end (MS-FSA 2.1.5.2).
                self.at_end |= n < piece.1;
            }
            None => self.at_end = true,
        }
        Ok(piece)
    }

    /// Pieces in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether every piece has been sent and answered (or the file ended).
    pub fn finished(&self) -> bool {
        self.in_flight.is_empty() && (self.at_end || self.next >= self.end)
    }

    /// Bytes moved so far.
    pub fn moved(&self) -> u64 {
        self.moved
    }
}

impl SmbClient {
    /// Opens (or creates, as `options` say) `name` on a disk share's tree.
    pub async fn create(
        &mut self,
        tree: Tree,
        name: &str,
        options: OpenOptions,
    ) -> Result<OpenFile, SmbError> {
        let request = CreateRequest {
            impersonation_level: CreateRequest::IMPERSONATION,
            desired_access: options.desired_access,
            file_attributes: FILE_ATTRIBUTE_NORMAL,
            share_access: options.share_access,
            create_disposition: options.disposition,
            create_options: options.create_options,
            name: name.trim_start_matches('\\').to_owned(),
            ..CreateRequest::default()
        };
        let (_, resp): (_, CreateResponse) = self.call(tree.id, &request, &[]).await?;
        Ok(OpenFile {
            tree,
            id: resp.file_id,
            end_of_file: resp.times.end_of_file,
            create_action: resp.create_action,
        })
    }

    /// Reads `len` bytes from `offset` with READs as `pipeline` says (several in flight,
    /// each at most as long as the server allows); hands each piece to `sink` with its
    /// offset, in the order they arrive. Stops early at the end of the file, or when `sink`
    /// answers [`ControlFlow::Break`] (no more READs are sent; those in flight are
    /// received and dropped); returns the bytes read.
    pub async fn read_range(
        &mut self,
        file: &OpenFile,
        offset: u64,
        len: u64,
        pipeline: Pipeline,
        mut sink: impl FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<u64, SmbError> {
        let piece = pipeline.piece.min(self.negotiated.read_size());
        let mut transfer = Transfer::new(offset, len, piece, pipeline.window);
        let mut stopped = false;
        loop {
            while let Some(next) = transfer
                .next_piece(self.core.credits(), |n| super::credit_charge(0, n))
                .filter(|_| !stopped)
            {
                let request = self.read_request(file.id, next.0, next.1);
                let charge = super::credit_charge(0, next.1);
                let (id, msg) = self.core.request_charged(file.tree.id, &request, charge)?;
                self.send(&msg).await?;
                transfer.sent(id, next);
            }
            if transfer.finished() || (stopped && transfer.in_flight() == 0) {
                return Ok(transfer.moved());
            }
            if transfer.in_flight() == 0 {
                return Err(no_credits());
            }
            let (header, msg) = self.receive_any().await?;
            if header.status == NtStatus::END_OF_FILE {
                transfer.completed(header.message_id, None)?;
                continue;
            }
            if header.status != NtStatus::SUCCESS {
                expect::<ReadResponse>(&header, &msg, &[])?;
            }
            let data = ReadResponse::data_of(&msg)?;
            let count = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let (at, _) = transfer.completed(header.message_id, Some(count))?;
            if !stopped {
                stopped = sink(at, data).is_break();
            }
            // The message's memory serves the next frame (a fresh 8 MiB buffer each
            // time costs more in page faults than the copy into it).
            self.recycle(msg);
        }
    }

    /// Writes `len` bytes from `offset` with WRITEs as `pipeline` says;
    /// `source(offset, length, buffer)` appends each piece's bytes to `buffer` (empty,
    /// with the memory of an earlier piece) and gives it back, or answers
    /// [`ControlFlow::Break`] to stop (no more WRITEs are sent; those in flight are
    /// answered first). Returns the bytes written; a short WRITE is an error.
    ///
    /// One piece buffer and one message buffer serve the whole range: a fresh 8 MiB
    /// buffer for each costs more in page faults than the copies.
    pub async fn write_range(
        &mut self,
        file: &OpenFile,
        offset: u64,
        len: u64,
        pipeline: Pipeline,
        mut source: impl FnMut(u64, usize, Vec<u8>) -> ControlFlow<(), Vec<u8>>,
    ) -> Result<u64, SmbError> {
        let piece = pipeline.piece.min(self.negotiated.write_size());
        let mut transfer = Transfer::new(offset, len, piece, pipeline.window);
        let mut stopped = false;
        let (mut piece_buf, mut message_buf) = (Vec::new(), Vec::new());
        loop {
            while let Some(next) = transfer
                .next_piece(self.core.credits(), |n| super::credit_charge(n, 0))
                .filter(|_| !stopped)
            {
                piece_buf.clear();
                let ControlFlow::Continue(data) = source(next.0, next.1 as usize, piece_buf) else {
                    stopped = true;
                    piece_buf = Vec::new();
                    break;
                };
                if data.len() != next.1 as usize {
                    return Err(SmbError::TooLarge { len: data.len() });
                }
                let mut request = self.write_request(file.id, next.0, data)?;
                let charge = super::credit_charge(next.1, 0);
                let (id, msg) = self.core.request_charged_in(
                    file.tree.id,
                    &request,
                    charge,
                    std::mem::take(&mut message_buf),
                )?;
                piece_buf = std::mem::take(&mut request.data);
                self.send(&msg).await?;
                message_buf = msg;
                transfer.sent(id, next);
            }
            if transfer.finished() || (stopped && transfer.in_flight() == 0) {
                return Ok(transfer.moved());
            }
            if transfer.in_flight() == 0 {
                return Err(no_credits());
            }
            let (header, msg) = self.receive_any().await?;
            let resp: WriteResponse = expect(&header, &msg, &[])?;
            let (_, asked) = transfer.completed(header.message_id, Some(resp.count))?;
            if resp.count < asked {
                return Err(SmbError::Malformed {
                    what: "WRITE response",
                    why: "fewer bytes written than sent",
                });
            }
        }
    }

    /// Closes a file [`SmbClient::create`] opened.
    pub async fn close_file(&mut self, file: OpenFile) -> Result<(), SmbError> {
        self.close(file.tree, file.id).await
    }
}

/// MS-SMB2 3.2.4.1.3: nothing in flight and too few credits for the next request: no
/// reply will ever grant more.
fn no_credits() -> SmbError {
    SmbError::Malformed {
        what: "SMB2 credits",
        why: "the server granted too few credits for the next request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_credit(_: u32) -> u16 {
        1
    }

    /// Drives a transfer to its end, answering each piece with `answer`, the oldest first;
    /// returns the pieces in the order sent.
    fn run(
        t: &mut Transfer,
        credits: u64,
        answer: impl Fn((u64, u32)) -> Option<u32>,
    ) -> Vec<(u64, u32)> {
        let mut sent = Vec::new();
        let mut id = 0;
        while !t.finished() {
            while let Some(p) = t.next_piece(credits, one_credit) {
                t.sent(id, p);
                sent.push(p);
                id += 1;
            }
            assert!(t.in_flight() > 0, "stalled");
            let oldest = id - t.in_flight() as u64;
            let piece = *sent.get(oldest as usize).unwrap();
            t.completed(oldest, answer(piece)).unwrap();
        }
        sent
    }

    #[test]
    fn a_range_is_cut_into_pieces_with_the_window_full() {
        let mut t = Transfer::new(1000, 250, 100, 2);
        assert_eq!(t.next_piece(10, one_credit), Some((1000, 100)));
        t.sent(7, (1000, 100));
        t.sent(8, t.next_piece(10, one_credit).unwrap());
        // The window of two is full.
        assert_eq!(t.next_piece(10, one_credit), None);
        assert_eq!(t.completed(8, Some(100)).unwrap(), (1100, 100));
        assert_eq!(t.next_piece(10, one_credit), Some((1200, 50)));
        let sent = run(&mut Transfer::new(0, 250, 100, 2), 10, |p| Some(p.1));
        assert_eq!(sent, [(0, 100), (100, 100), (200, 50)]);
    }

    #[test]
    fn credits_hold_back_a_multi_credit_piece() {
        let t = Transfer::new(0, 1 << 20, 1 << 20, 4);
        let charge = |n| super::super::credit_charge(0, n);
        assert_eq!(t.next_piece(15, charge), None);
        assert_eq!(t.next_piece(16, charge), Some((0, 1 << 20)));
    }

    #[test]
    fn a_short_read_or_end_of_file_ends_the_range() {
        let mut t = Transfer::new(0, 1000, 100, 3);
        let sent = run(&mut t, 10, |(off, len)| match off {
            0 => Some(len),
            100 => Some(40),
            _ => None,
        });
        // The first answer made room for a fourth; once the short one came back, no
        // more were sent.
        assert_eq!(sent.len(), 4);
        assert_eq!(t.moved(), 140);
        assert!(t.finished());
    }

    #[test]
    fn answers_to_unknown_pieces_or_too_many_bytes_are_refused() {
        let mut t = Transfer::new(0, 100, 100, 1);
        t.sent(3, (0, 100));
        assert!(t.completed(4, Some(1)).is_err());
        assert!(t.completed(3, Some(101)).is_err());
        let empty = Transfer::new(0, 0, 100, 1);
        assert!(empty.finished());
        assert_eq!(empty.next_piece(1, one_credit), None);
    }

    #[test]
    fn open_options_ask_what_their_names_say() {
        let rw = OpenOptions::read_write();
        assert_eq!(rw.desired_access, GENERIC_READ | GENERIC_WRITE);
        assert_eq!(rw.disposition, FILE_OPEN_IF);
        let ro = OpenOptions::read_only();
        assert_eq!(ro.desired_access, GENERIC_READ);
        assert_eq!(ro.disposition, FILE_OPEN);
        assert_eq!(
            rw.with_disposition(FILE_OVERWRITE_IF).disposition,
            FILE_OVERWRITE_IF
        );
    }
}
