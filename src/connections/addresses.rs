//! The share of the connections one client address may hold
//! (`server.max_connections_per_address`), so that one client cannot take every slot.
//!
//! A connection is counted by its peer address, the only one it has when it is accepted
//! (no request has been read yet; `X-Forwarded-For` is a request's, not a connection's).
//! IPv6 peers are counted by their /64, which one host usually holds whole; an IPv4
//! address mapped into IPv6 counts as the IPv4 address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// The connections each address holds, shared by every worker.
#[derive(Debug, Clone)]
pub struct Addresses {
    cap: usize,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection's place in its address's count, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    key: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Addresses {
    /// At most `cap` connections per address (at least one).
    pub fn new(cap: usize) -> Addresses {
        Addresses {
            cap: cap.max(1),
            held: Arc::default(),
        }
    }

    /// A place for one more connection from `peer`; `None` when its address holds the
    /// cap already.
    pub fn admit(&self, peer: IpAddr) -> Option<Slot> {
        let key = key(peer);
        // The map is never left half-changed, so a panic elsewhere does not spoil it.
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(key).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            key,
            held: self.held.clone(),
        })
    }

    /// How many connections `peer`'s address holds.
    #[cfg(test)]
    fn held(&self, peer: IpAddr) -> usize {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(&key(peer)).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// What `peer` is counted as: the IPv4 address, or the /64 of an IPv6 one.
fn key(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::from(u64::MAX));
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_holds_at_most_the_cap_and_gets_its_places_back() {
        let addresses = Addresses::new(2);
        let a = ip("192.0.2.1");
        let first = addresses.admit(a).unwrap();
        let second = addresses.admit(a).unwrap();
        assert!(addresses.admit(a).is_none());
        let other = addresses.admit(ip("192.0.2.2"));
        assert!(other.is_some(), "other addresses are admitted");
        drop(first);
        assert_eq!(addresses.held(a), 1);
        let third = addresses.admit(a);
        assert!(third.is_some(), "a freed place is reused");
        drop((second, third));
        assert_eq!(addresses.held(a), 0);
        assert!(
            addresses.held.lock().unwrap().len() == 1,
            "empty counts are removed"
        );
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let addresses = Addresses::new(1);
        let _one = addresses.admit(ip("2001:db8:1:2::1")).unwrap();
        assert!(addresses.admit(ip("2001:db8:1:2:ffff::9")).is_none());
        assert!(addresses.admit(ip("2001:db8:1:3::1")).is_some());
        let _v4 = addresses.admit(ip("192.0.2.7")).unwrap();
        assert!(addresses.admit(ip("::ffff:192.0.2.7")).is_none());
    }

    #[test]
    fn a_cap_of_zero_still_admits_one() {
        let addresses = Addresses::new(0);
        let _one = addresses.admit(ip("192.0.2.1")).unwrap();
        assert!(addresses.admit(ip("192.0.2.1")).is_none());
    }
}
