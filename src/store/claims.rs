//! One-time uses (the `jti` of each accepted client assertion), each claimed until it
//! expires, so that none is accepted twice by any node of the database. They are kept
//! apart from the data: a claim changes nothing a node caches, is in no backup, and is
//! no write of the store's (it stales no cache and wakes no other node). The embedded
//! engine keeps them in memory (only one process opens its file); PostgreSQL in a table
//! of its own (`kh_claims`), which every node shares.

use std::collections::{BTreeSet, HashMap};

use super::kv::encode;
use super::{Answer, Store};
use crate::domain::Timestamp;

impl Store {
    /// Claims the `jti` of a client assertion of `client` until `exp` (Unix seconds):
    /// false if it was claimed before and has not expired at `now`, on any node.
    pub fn first_use(&self, client: &str, jti: &str, exp: i64, now: Timestamp) -> Answer<bool> {
        match encode::<(&'static str, &'static str)>((client, jti)) {
            Ok(key) => self.engine.claim(key, exp, now.timestamp()),
            Err(err) => Answer::ready(Err(err)),
        }
    }
}

/// A claimed key.
type Use = Vec<u8>;

/// The claims of one process, in memory: each kept until it expires. They are also
/// ordered by expiry, so that each claim drops the expired ones from the front,
/// touching only those, rather than scanning every entry.
#[derive(Debug, Default)]
pub(super) struct Claims {
    expires: HashMap<Use, i64>,
    by_expiry: BTreeSet<(i64, Use)>,
}

impl Claims {
    /// Claims `key` until `exp`; false if it is claimed and not expired at `now`.
    pub(super) fn first_use(&mut self, key: &[u8], exp: i64, now: i64) -> bool {
        while let Some(first) = self.by_expiry.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, used)) = self.by_expiry.pop_first() {
                self.expires.remove(&used);
            }
        }
        let used = key.to_vec();
        if self.expires.contains_key(&used) {
            return false;
        }
        self.expires.insert(used.clone(), exp);
        self.by_expiry.insert((exp, used));
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.expires.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_refused_until_it_expires_and_expired_ones_are_dropped() {
        let mut set = Claims::default();
        assert!(set.first_use(b"a/1", 100, 0));
        assert!(!set.first_use(b"a/1", 100, 50), "replayed");
        assert!(set.first_use(b"b/1", 100, 50), "another client's jti");
        assert!(set.first_use(b"a/2", 300, 50));
        assert_eq!(set.len(), 3);
        assert!(
            set.first_use(b"a/1", 200, 100),
            "expired at 100, so new again"
        );
        assert_eq!(
            set.len(),
            2,
            "the expired ones went: a/1 (then re-added), b/1"
        );
        assert!(set.first_use(b"c/9", 400, 300));
        assert_eq!(set.len(), 1, "only c/9 is left");
    }
}
