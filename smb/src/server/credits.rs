//! MS-SMB2 3.3.1.1 credits: the message ids a client may use, how many more each
//! response grants (3.3.1.2), and what a multi-credit request must be charged
//! (3.3.5.2.5).

use adjoin_rpc::ntstatus::NtStatus;

use super::ServerConnection;
use crate::error::SmbError;
use crate::proto::{Command, Dialect, HEADER_LEN, Header};

/// MS-SMB2 3.3.1.1 the connection's CommandSequenceWindow: the message ids a client may
/// use, each once; it grows by the credits granted.
#[derive(Debug)]
pub(super) struct CreditWindow {
    /// The lowest id not yet used.
    low: u64,
    /// One past the highest id granted.
    high: u64,
    /// Ids at or above `low` already used, out of order: bit `id % MAX_OUTSTANDING`
    /// (every id tracked lies in `low..low + MAX_OUTSTANDING`, so none share a bit).
    /// Allocated at the first out-of-order use: a client that uses its ids in order never
    /// pays for it, and none pays more than 1 KiB.
    used: Option<Box<[u64; WORDS]>>,
    /// How many bits of `used` are set.
    used_count: u64,
}

/// Credits granted per response at most (beyond the request's own charge), and
/// outstanding at most: Samba's and Windows' 8,192 (`smb2 max credits`), 512 MiB of
/// 1 MiB requests in flight.
const MAX_CREDITS: u16 = 8192;
const MAX_OUTSTANDING: u64 = 8192;
/// Words of the out-of-order bitmap.
const WORDS: usize = (MAX_OUTSTANDING / 64) as usize;

/// One credit's worth of payload (MS-SMB2 3.1.5.2).
const CREDIT_SIZE: u64 = 65536;

impl CreditWindow {
    /// MS-SMB2 3.3.5.2.3: the ids `id..id+charge` must lie in the window and be unused.
    pub(super) fn consume(&mut self, id: u64, charge: u16) -> Result<(), SmbError> {
        let charge = u64::from(charge.max(1));
        let end = id.saturating_add(charge);
        if id < self.low || end > self.high || (id..end).any(|i| self.is_used(i)) {
            return Err(SmbError::Malformed {
                what: "SMB2 request",
                why: "a message id outside the credits granted, or used twice",
            });
        }
        if id == self.low && self.used_count == 0 {
            // In order: the window's bottom simply moves up.
            self.low = end;
            return Ok(());
        }
        for i in id..end {
            self.set_used(i, true);
        }
        while self.is_used(self.low) {
            self.set_used(self.low, false);
            self.low += 1;
        }
        Ok(())
    }

    fn is_used(&self, id: u64) -> bool {
        let bit = id % MAX_OUTSTANDING;
        self.used
            .as_ref()
            .is_some_and(|words| words[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }

    fn set_used(&mut self, id: u64, used: bool) {
        let bit = id % MAX_OUTSTANDING;
        let words = self.used.get_or_insert_with(|| Box::new([0; WORDS]));
        let word = &mut words[(bit / 64) as usize];
        let mask = 1 << (bit % 64);
        let was = *word & mask != 0;
        if used {
            *word |= mask;
        } else {
            *word &= !mask;
        }
        match (used, was) {
            (true, false) => self.used_count += 1,
            (false, true) => self.used_count -= 1,
            _ => {}
        }
    }

    /// Whether no message id was used yet.
    pub(super) fn fresh(&self) -> bool {
        self.low == 0 && self.used_count == 0
    }

    /// MS-SMB2 3.3.1.2: grants up to `asked` more ids (at most [`MAX_CREDITS`]), and at
    /// least the `charge` the request spent, so a client sending large requests keeps
    /// its window — within [`MAX_OUTSTANDING`] past the lowest unused id. The window
    /// never grows past that: a client that skips an id keeps that credit (so it is never
    /// left without one), but gets no more once the window is full, and the set of ids
    /// used out of order stays under [`MAX_OUTSTANDING`].
    pub(super) fn grant(&mut self, asked: u16, charge: u16) -> u16 {
        let room = (self.low + MAX_OUTSTANDING).saturating_sub(self.high);
        let wanted = asked.clamp(1, MAX_CREDITS).max(charge);
        let granted = u64::from(wanted).min(room);
        self.high += granted;
        u16::try_from(granted).unwrap_or(0)
    }

    /// Ids granted and not used (what the client may still send).
    #[cfg(test)]
    fn available(&self) -> u64 {
        self.high - self.low - self.used_count
    }
}

/// A little-endian field of `width` bytes at `at` in `msg`'s body (0 when the body is
/// too short: the command's own decoding then refuses the request).
fn field(msg: &[u8], at: usize, width: usize) -> u64 {
    msg.get(HEADER_LEN + at..HEADER_LEN + at + width)
        .map_or(0, |b| b.iter().rev().fold(0, |v, x| v << 8 | u64::from(*x)))
}

/// MS-SMB2 3.3.5.2.5: the payload a request moves, the larger of what it sends and what
/// it asks back, for the commands whose payload may pass one credit's worth.
///
/// ```text
/// READ            Length(4)@4 ... ReadChannelInfoLength(2)@46
/// WRITE           Length(4)@4 ... WriteChannelInfoLength(2)@42
/// IOCTL           InputCount(4)@28 MaxInputResponse(4)@32 OutputCount(4)@40
///                 MaxOutputResponse(4)@44
/// QUERY_DIRECTORY FileNameLength(2)@26 OutputBufferLength(4)@28
/// ```
pub(super) fn payload_size(command: Command, msg: &[u8]) -> u64 {
    match command {
        Command::READ => field(msg, 4, 4).max(field(msg, 46, 2)),
        Command::WRITE => field(msg, 4, 4) + field(msg, 42, 2),
        Command::IOCTL => {
            (field(msg, 28, 4) + field(msg, 40, 4)).max(field(msg, 32, 4) + field(msg, 44, 4))
        }
        Command::QUERY_DIRECTORY => field(msg, 26, 2).max(field(msg, 28, 4)),
        _ => 0,
    }
}

impl ServerConnection {
    /// MS-SMB2 3.3.5.2.5: on a multi-credit connection (2.1 and later) a request must be
    /// charged `ceil(payload / 64 KiB)` credits (CreditCharge 0 counts as 1); a WRITE may
    /// carry no more than the MaxWriteSize announced (3.3.5.13). Refusals are
    /// STATUS_INVALID_PARAMETER.
    pub(super) fn check_charge(&self, header: &Header, msg: &[u8]) -> Result<(), NtStatus> {
        let size = payload_size(header.command, msg);
        if header.command == Command::WRITE && size > u64::from(self.max_io()) {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if self.dialect.is_none_or(|d| d == Dialect::SMB202) {
            return Ok(());
        }
        let needed = size.div_ceil(CREDIT_SIZE).max(1);
        if u64::from(header.credit_charge.max(1)) < needed {
            tracing::debug!(command = %header.command, size, charge = header.credit_charge, "a request charged too few credits");
            return Err(NtStatus::INVALID_PARAMETER);
        }
        Ok(())
    }
}

impl Default for CreditWindow {
    /// A new connection's window: message id 0 only (its NEGOTIATE).
    fn default() -> Self {
        Self {
            low: 0,
            high: 1,
            used: None,
            used_count: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use adjoin_rpc::codec::Codec;

    use super::*;

    #[test]
    fn ids_are_used_once_and_only_when_granted() {
        let mut w = CreditWindow::default();
        w.consume(0, 0).unwrap();
        assert!(w.consume(0, 1).is_err(), "id 0 twice");
        assert!(w.consume(1, 1).is_err(), "id 1 was not granted");
        assert_eq!(w.grant(10, 1), 10);
        w.consume(3, 2).unwrap();
        w.consume(1, 2).unwrap();
        assert_eq!((w.low, w.high), (5, 11));
        assert!(w.consume(10, 2).is_err(), "a charge past the window");
    }

    #[test]
    fn a_large_request_gets_back_at_least_its_charge() {
        let mut w = CreditWindow::default();
        w.consume(0, 1).unwrap();
        assert_eq!(w.grant(200, 1), 200);
        w.consume(1, 16).unwrap();
        // A 1 MiB request charged 16 asking for 1 still gets 16 back: the client keeps
        // its window of requests in flight.
        assert_eq!(w.grant(1, 16), 16);
        // An 8 MiB request (128 credits) is paid back in full.
        let mut w = CreditWindow {
            low: 0,
            high: 128,
            used: None,
            used_count: 0,
        };
        w.consume(0, 128).unwrap();
        assert_eq!(w.grant(1, 128), 128);
    }

    #[test]
    fn several_one_mib_requests_fit_in_flight() {
        let mut w = CreditWindow::default();
        w.consume(0, 1).unwrap();
        w.grant(1, 1);
        let mut next = 1;
        // The client asks for many credits with each request until it holds them all.
        while w.available() < MAX_OUTSTANDING {
            w.consume(next, 1).unwrap();
            next += 1;
            w.grant(MAX_CREDITS, 1);
        }
        // 512 requests of 1 MiB (16 credits each) in flight at once, completed out of order.
        for i in (0..512).rev() {
            w.consume(next + i * 16, 16).unwrap();
        }
        assert_eq!(w.available(), 0);
        assert_eq!(
            w.used_count, 0,
            "all in: the window's bottom moved past them"
        );
        assert!(!w.fresh());
    }

    #[test]
    fn skipped_message_ids_do_not_grow_the_window() {
        let mut w = CreditWindow::default();
        w.consume(0, 1).unwrap();
        w.grant(MAX_CREDITS, 1);
        // The client never uses id 1, and uses every later id it is granted, asking for
        // more each time.
        let mut refused = false;
        for next in 2..10_000 {
            if w.consume(next, 1).is_err() {
                refused = true;
                break;
            }
            w.grant(MAX_CREDITS, 1);
            assert!(w.high - w.low <= MAX_OUTSTANDING);
            assert!(w.used_count < MAX_OUTSTANDING);
        }
        assert!(
            refused,
            "the window stops at the skipped id plus MAX_OUTSTANDING"
        );
        assert_eq!(w.high, 1 + MAX_OUTSTANDING);
        // The skipped id is still the client's: using it moves the window on.
        w.consume(1, 1).unwrap();
        assert_eq!(w.low, w.high);
        assert!(w.grant(1, 1) >= 1);
    }

    fn body(command: Command, fields: &[(usize, u64, usize)]) -> Vec<u8> {
        let mut msg = Header::request(command).to_bytes();
        msg.resize(HEADER_LEN + 64, 0);
        for &(at, value, width) in fields {
            msg[HEADER_LEN + at..HEADER_LEN + at + width]
                .copy_from_slice(&value.to_le_bytes()[..width]);
        }
        msg
    }

    #[test]
    fn payload_sizes_follow_ms_smb2_3_3_5_2_5() {
        let read = body(Command::READ, &[(4, 1 << 20, 4)]);
        assert_eq!(payload_size(Command::READ, &read), 1 << 20);
        let write = body(Command::WRITE, &[(4, 70_000, 4), (42, 16, 2)]);
        assert_eq!(payload_size(Command::WRITE, &write), 70_016);
        let ioctl = body(Command::IOCTL, &[(28, 100, 4), (32, 0, 4), (44, 65536, 4)]);
        assert_eq!(payload_size(Command::IOCTL, &ioctl), 65536);
        let dir = body(Command::QUERY_DIRECTORY, &[(26, 2, 2), (28, 200_000, 4)]);
        assert_eq!(payload_size(Command::QUERY_DIRECTORY, &dir), 200_000);
        assert_eq!(payload_size(Command::CREATE, &dir), 0);
        // A body too short to hold the field counts as no payload.
        assert_eq!(payload_size(Command::READ, &read[..HEADER_LEN + 2]), 0);
    }
}
