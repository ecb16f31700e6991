//! Connection slots per client address: one host cannot take every connection the server
//! has (the global limit is the driver's semaphore), and a slot is given back when the
//! connection's guard is dropped, however the connection ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts connections per client address against a limit.
#[derive(Debug)]
pub struct AddressSlots {
    per_address: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct AddressSlot {
    slots: Arc<AddressSlots>,
    address: IpAddr,
}

impl AddressSlots {
    /// At most `per_address` connections from one address (at least 1).
    pub fn new(per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            per_address: per_address.max(1),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a connection from `address`, or `None` when that address holds its
    /// limit already.
    pub fn take(self: &Arc<Self>, address: IpAddr) -> Option<AddressSlot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(address).or_insert(0);
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            slots: Arc::clone(self),
            address,
        })
    }

    /// Connections `address` holds now.
    pub fn held(&self, address: IpAddr) -> usize {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(&address).copied().unwrap_or(0)
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                // No entry lingers for an address that has gone: the map stays as small
                // as the set of connected hosts.
                held.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_take_more_than_its_share() {
        let slots = AddressSlots::new(2);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert!(slots.take(a).is_none(), "the third from one address");
        let _other = slots.take(b).expect("another address is not affected");
        drop(first);
        assert_eq!(slots.held(a), 1);
        let _again = slots.take(a).expect("a freed slot is reusable");
        drop(_again);
        drop(_second);
        assert_eq!(slots.held(a), 0);
        assert!(slots.held.lock().unwrap().get(&a).is_none());
    }
}
