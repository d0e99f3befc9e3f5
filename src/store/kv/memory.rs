//! An engine in memory, for the tests of what sits above the seam: the shortest engine
//! that keeps the seam's promises (byte order, a transaction's reads see its writes).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;

use super::{Entries, Entry, KvRead, KvWrite};
use crate::error::Error;
use crate::store::tables::TableId;

/// Every table's entries, by table and key; its one transaction is itself.
#[derive(Default)]
pub(in crate::store) struct Memory(RefCell<BTreeMap<Key, Vec<u8>>>);

/// A table's number and a key.
type Key = (usize, Vec<u8>);

fn key(table: TableId, bytes: &[u8]) -> Key {
    (table as usize, bytes.to_vec())
}

impl KvRead for Memory {
    fn get(&self, table: TableId, k: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.0.borrow().get(&key(table, k)).cloned())
    }

    fn range(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
    ) -> Result<Entries<'_>, Error> {
        let within = |bound: Bound<&[u8]>, open: Bound<Key>| match bound {
            Bound::Included(k) => Bound::Included(key(table, k)),
            Bound::Excluded(k) => Bound::Excluded(key(table, k)),
            Bound::Unbounded => open,
        };
        let start = within(from, Bound::Included((table as usize, Vec::new())));
        let end = within(to, Bound::Excluded((table as usize + 1, Vec::new())));
        let entries: Vec<Result<Entry, Error>> = self
            .0
            .borrow()
            .range((start, end))
            .map(|((_, k), v)| Ok((k.clone(), v.clone())))
            .collect();
        Ok(Box::new(entries.into_iter()))
    }

    fn last(&self, table: TableId) -> Result<Option<Entry>, Error> {
        self.range(table, Bound::Unbounded, Bound::Unbounded)?
            .last()
            .transpose()
    }

    fn len(&self, table: TableId) -> Result<u64, Error> {
        Ok(self
            .range(table, Bound::Unbounded, Bound::Unbounded)?
            .count() as u64)
    }
}

impl KvWrite for Memory {
    fn insert(&self, table: TableId, k: &[u8], value: &[u8]) -> Result<(), Error> {
        self.0.borrow_mut().insert(key(table, k), value.to_vec());
        Ok(())
    }

    fn remove(&self, table: TableId, k: &[u8]) -> Result<(), Error> {
        self.0.borrow_mut().remove(&key(table, k));
        Ok(())
    }
}
