//! What a read transaction has read ahead, or read once already: a list page reads a
//! hundred accounts, each with its credentials, last use, groups and roles, one key at a
//! time, and each key is a round trip to the server. The page reads each table's keys
//! ahead in one statement (`KvRead::read_ahead`), and every key a read transaction has
//! read is kept: its snapshot does not change, so a second read of the same key (the
//! same role for every account of the page) needs no round trip either. A write
//! transaction keeps nothing here: its own writes change what it reads.

use std::collections::HashMap;
use std::ops::Bound;

use crate::store::kv::Entry;
use crate::store::tables::TableId;

type Range = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Keys kept at most: a transaction that reads a whole database key by key (the offline
/// check) keeps no more than this in memory, and reads the rest one at a time.
const MAX_KEPT: usize = 65_536;

#[derive(Default)]
pub(super) struct Known {
    /// The value of each key read, by table, or `None` for a key that holds none: kept
    /// by table, so that a lookup borrows the key rather than copying it.
    values: HashMap<TableId, HashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// How many keys `values` holds, against [`MAX_KEPT`].
    kept: usize,
    /// The entries of each range read ahead.
    ranges: HashMap<(TableId, Range), Vec<Entry>>,
}

impl Known {
    /// What `key` holds, if it was read.
    pub(super) fn get(&self, table: TableId, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.values.get(&table)?.get(key).cloned()
    }

    pub(super) fn knows(&self, table: TableId, key: &[u8]) -> bool {
        self.values
            .get(&table)
            .is_some_and(|values| values.contains_key(key))
    }

    pub(super) fn keep(&mut self, table: TableId, key: Vec<u8>, value: Option<Vec<u8>>) {
        if self.kept < MAX_KEPT {
            let values = self.values.entry(table).or_default();
            if values.insert(key, value).is_none() {
                self.kept += 1;
            }
        }
    }

    /// The entries from `from` to `to`, if exactly that range was read ahead.
    pub(super) fn range(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
    ) -> Option<Vec<Entry>> {
        // Most transactions read no range ahead: they pay no copy of the bounds.
        if self.ranges.is_empty() {
            return None;
        }
        let range = (from.map(<[u8]>::to_vec), to.map(<[u8]>::to_vec));
        self.ranges.get(&(table, range)).cloned()
    }

    /// Keeps the entries of the inclusive range from `from` to `to`.
    pub(super) fn keep_range(
        &mut self,
        table: TableId,
        from: Vec<u8>,
        to: Vec<u8>,
        entries: Vec<Entry>,
    ) {
        if self.ranges.len() < MAX_KEPT {
            let range = (Bound::Included(from), Bound::Included(to));
            self.ranges.insert((table, range), entries);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_exact_ranges_are_kept_and_nothing_else_is_known() {
        let table = TableId::ALL[0];
        let mut known = Known::default();
        known.keep(table, b"a".to_vec(), Some(b"1".to_vec()));
        known.keep(table, b"b".to_vec(), None);
        assert_eq!(known.get(table, b"a"), Some(Some(b"1".to_vec())));
        assert_eq!(known.get(table, b"b"), Some(None), "known to hold nothing");
        assert_eq!(known.get(table, b"c"), None, "not read");
        assert!(!known.knows(TableId::ALL[1], b"a"), "another table's key");

        let entries = vec![(b"k1".to_vec(), b"v".to_vec())];
        known.keep_range(table, b"k0".to_vec(), b"k9".to_vec(), entries.clone());
        let (from, to) = (&b"k0"[..], &b"k9"[..]);
        assert_eq!(
            known.range(table, Bound::Included(from), Bound::Included(to)),
            Some(entries)
        );
        assert_eq!(
            known.range(table, Bound::Included(from), Bound::Excluded(to)),
            None,
            "another range"
        );
    }
}
