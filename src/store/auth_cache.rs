//! Authentications remembered until the next write. Every commit advances the store's
//! write counter; an entry records the counter as it was before its read began, so any
//! change committed since (a disabled account, a revoked credential, a new role) makes
//! it stale and the next request reads the database again. Time still passes: callers
//! check expiry against `now` on every hit. Failures are never remembered.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Entries kept before the cache starts over.
const CAPACITY: usize = 8192;

pub(super) struct AuthCache<K, V> {
    entries: Mutex<HashMap<K, (u64, V)>>,
}

impl<K: Eq + Hash, V: Clone> AuthCache<K, V> {
    pub(super) fn new() -> Self {
        AuthCache {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value stored at `generation`, if nothing was written since.
    pub(super) fn get(&self, key: &K, generation: u64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((stored, value)) if *stored == generation => Some(value.clone()),
            _ => None,
        }
    }

    /// Remembers `value`, read at `generation`.
    pub(super) fn put(&self, key: K, generation: u64, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.retain(|_, (stored, _)| *stored == generation);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key, (generation, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_only_its_own_generation() {
        let cache = AuthCache::new();
        cache.put("k", 3, 30);
        assert_eq!(cache.get(&"k", 3), Some(30));
        assert_eq!(cache.get(&"k", 4), None, "a write came after");
        assert_eq!(cache.get(&"other", 3), None);
    }

    #[test]
    fn it_stays_bounded() {
        let cache = AuthCache::new();
        for i in 0..(CAPACITY + 10) {
            cache.put(i, (i / 100) as u64, i);
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
        assert_eq!(
            cache.get(&(CAPACITY + 9), ((CAPACITY + 9) / 100) as u64),
            Some(CAPACITY + 9)
        );
    }
}
