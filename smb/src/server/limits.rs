//! Connection slots per client address: one host cannot take every connection the server
//! has (the global limit is the driver's semaphore), and a slot is given back when the
//! connection's guard is dropped, however the connection ends.
//!
//! [`Descriptors`]: the file descriptors the file server may hold (its connections and its
//! open files' descriptors), below the process's limit, so that what clients make it open
//! never takes the descriptors the daemon's other parts need (the identity service's
//! socket, the registry, connections to the DC).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Descriptors counted against a budget.
#[derive(Debug)]
pub struct Descriptors {
    budget: AtomicUsize,
    held: AtomicUsize,
}

/// One descriptor counted; dropping it gives it back.
#[derive(Debug)]
pub struct HeldDescriptor {
    from: &'static Descriptors,
}

impl Descriptors {
    /// A budget of `budget` descriptors.
    pub const fn new(budget: usize) -> Self {
        Self {
            budget: AtomicUsize::new(budget),
            held: AtomicUsize::new(0),
        }
    }

    /// The process's file-server budget: unlimited until the daemon sets it from its
    /// open-file limit ([`Self::set_budget`]).
    pub fn global() -> &'static Self {
        static GLOBAL: Descriptors = Descriptors::new(usize::MAX);
        &GLOBAL
    }

    /// Sets the budget (those held beyond it stay until they are given back).
    pub fn set_budget(&self, budget: usize) {
        self.budget.store(budget, Ordering::Relaxed);
    }

    /// The budget.
    pub fn budget(&self) -> usize {
        self.budget.load(Ordering::Relaxed)
    }

    /// Descriptors counted now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Counts one more, or `None` when the budget is spent.
    pub fn take(&'static self) -> Option<HeldDescriptor> {
        let budget = self.budget();
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held < budget).then_some(held + 1)
            })
            .ok()
            .map(|_| HeldDescriptor { from: self })
    }
}

impl Drop for HeldDescriptor {
    fn drop(&mut self) {
        self.from.held.fetch_sub(1, Ordering::AcqRel);
    }
}

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
    fn descriptors_are_counted_against_the_budget_and_given_back() {
        let descriptors: &'static Descriptors = Box::leak(Box::new(Descriptors::new(2)));
        let a = descriptors.take().unwrap();
        let b = descriptors.take().unwrap();
        assert!(descriptors.take().is_none(), "the budget is spent");
        assert_eq!(descriptors.held(), 2);
        drop(a);
        let c = descriptors.take().expect("one given back is taken again");
        // A lower budget refuses more; those held stay held.
        descriptors.set_budget(1);
        assert!(descriptors.take().is_none());
        drop((b, c));
        assert_eq!(descriptors.held(), 0);
        assert!(descriptors.take().is_some());
    }

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
