//! MS-SMB2 3.3.1.1 credits: the message ids a client may use, and how many more each
//! response grants.

use std::collections::BTreeSet;

use crate::error::SmbError;

/// MS-SMB2 3.3.1.1 the connection's CommandSequenceWindow: the message ids a client may
/// use, each once; it grows by the credits granted.
#[derive(Debug)]
pub(super) struct CreditWindow {
    /// The lowest id not yet used.
    low: u64,
    /// One past the highest id granted.
    high: u64,
    /// Ids at or above `low` already used (out of order).
    used: BTreeSet<u64>,
}

/// Credits granted per response at most, and outstanding at most.
const MAX_CREDITS: u16 = 64;
const MAX_OUTSTANDING: u64 = 512;

impl CreditWindow {
    /// MS-SMB2 3.3.5.2.3: the ids `id..id+charge` must lie in the window and be unused.
    pub(super) fn consume(&mut self, id: u64, charge: u16) -> Result<(), SmbError> {
        let charge = u64::from(charge.max(1));
        let end = id.saturating_add(charge);
        if id < self.low || end > self.high || (id..end).any(|i| self.used.contains(&i)) {
            return Err(SmbError::Malformed {
                what: "SMB2 request",
                why: "a message id outside the credits granted, or used twice",
            });
        }
        self.used.extend(id..end);
        while self.used.remove(&self.low) {
            self.low += 1;
        }
        Ok(())
    }

    /// Whether no message id was used yet.
    pub(super) fn fresh(&self) -> bool {
        self.low == 0 && self.used.is_empty()
    }

    /// Grants up to `asked` more ids (at least one, so the client can go on).
    pub(super) fn grant(&mut self, asked: u16) -> u16 {
        let room = (self.low + MAX_OUTSTANDING).saturating_sub(self.high);
        let granted = u64::from(asked.clamp(1, MAX_CREDITS)).min(room).max(1);
        self.high += granted;
        u16::try_from(granted).unwrap_or(1)
    }
}

impl Default for CreditWindow {
    /// A new connection's window: message id 0 only (its NEGOTIATE).
    fn default() -> Self {
        Self {
            low: 0,
            high: 1,
            used: BTreeSet::new(),
        }
    }
}
