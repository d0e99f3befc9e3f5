//! The `jti`s of accepted client assertions, each kept until its assertion expires, so
//! that none is accepted twice. Entries are also ordered by expiry, so that each use
//! drops the expired ones from the front, touching only those, rather than scanning
//! every entry.

use std::collections::{BTreeSet, HashMap};

/// A client's `jti`.
type Use = (String, String);

#[derive(Debug, Default)]
pub(super) struct ReplaySet {
    expires: HashMap<Use, i64>,
    by_expiry: BTreeSet<(i64, Use)>,
}

impl ReplaySet {
    /// Records `jti` of `client_id` until `exp`; false if it is recorded and not expired
    /// at `now`.
    pub(super) fn first_use(&mut self, client_id: &str, jti: &str, exp: i64, now: i64) -> bool {
        while let Some(first) = self.by_expiry.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, used)) = self.by_expiry.pop_first() {
                self.expires.remove(&used);
            }
        }
        let used = (client_id.to_owned(), jti.to_owned());
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
        let mut set = ReplaySet::default();
        assert!(set.first_use("a", "1", 100, 0));
        assert!(!set.first_use("a", "1", 100, 50), "replayed");
        assert!(set.first_use("b", "1", 100, 50), "another client's jti");
        assert!(set.first_use("a", "2", 300, 50));
        assert_eq!(set.len(), 3);
        assert!(
            set.first_use("a", "1", 200, 100),
            "expired at 100, so new again"
        );
        assert_eq!(
            set.len(),
            2,
            "the expired ones went: a/1 (then re-added), b/1"
        );
        assert!(set.first_use("c", "9", 400, 300));
        assert_eq!(set.len(), 1, "only c/9 is left");
    }
}
