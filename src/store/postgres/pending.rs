//! The writes of a transaction not yet sent to the database. A statement is a round trip
//! to the server, and a batch of creates writes hundreds of keys: a write transaction
//! keeps its inserts and removes here, by table and key (the last one of a key wins),
//! and sends each table's in two statements, when it commits or before it reads that
//! table by range. A read of one key looks here first, so the transaction still sees its
//! own writes.

use std::collections::BTreeMap;

use crate::store::tables::TableId;

/// What a key will hold: a value, or nothing (removed).
type Change = Option<Vec<u8>>;

/// The writes of one table, in key order: the database takes its row locks in that
/// order, whichever node writes.
#[derive(Default)]
pub(super) struct TableWrites(BTreeMap<Vec<u8>, Change>);

/// The writes of one table as statements take them: arrays of keys and values.
#[derive(Default)]
pub(super) struct Split {
    /// The keys to store, and their values at the same places.
    pub(super) keys: Vec<Vec<u8>>,
    pub(super) values: Vec<Vec<u8>>,
    /// The keys to remove.
    pub(super) removed: Vec<Vec<u8>>,
}

impl TableWrites {
    pub(super) fn split(self) -> Split {
        let mut split = Split::default();
        for (key, change) in self.0 {
            match change {
                Some(value) => {
                    split.keys.push(key);
                    split.values.push(value);
                }
                None => split.removed.push(key),
            }
        }
        split
    }
}

/// The writes of a transaction, by table, in the order tables were first written.
#[derive(Default)]
pub(super) struct Pending(Vec<(TableId, TableWrites)>);

impl Pending {
    pub(super) fn set(&mut self, table: TableId, key: &[u8], change: Change) {
        match self.0.iter_mut().find(|(t, _)| *t == table) {
            Some((_, writes)) => {
                writes.0.insert(key.to_vec(), change);
            }
            None => {
                let mut writes = TableWrites::default();
                writes.0.insert(key.to_vec(), change);
                self.0.push((table, writes));
            }
        }
    }

    /// What this transaction wrote under `key`, if it wrote it: `Some(None)` if removed.
    pub(super) fn get(&self, table: TableId, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let (_, writes) = self.0.iter().find(|(t, _)| *t == table)?;
        writes.0.get(key).cloned()
    }

    /// The writes of `table`, taken out to be sent.
    pub(super) fn take(&mut self, table: TableId) -> Option<TableWrites> {
        let at = self.0.iter().position(|(t, _)| *t == table)?;
        Some(self.0.remove(at).1)
    }

    /// Every table's writes, taken out to be sent, tables in name order.
    pub(super) fn take_all(&mut self) -> Vec<(TableId, TableWrites)> {
        let mut all = std::mem::take(&mut self.0);
        all.sort_by_key(|(table, _)| table.name());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tables::TableId;

    #[test]
    fn the_last_write_of_a_key_wins_and_removes_are_kept_apart() {
        let table = TableId::ALL[0];
        let mut pending = Pending::default();
        pending.set(table, b"b", Some(b"1".to_vec()));
        pending.set(table, b"a", Some(b"2".to_vec()));
        pending.set(table, b"b", None);
        pending.set(table, b"c", None);
        pending.set(table, b"c", Some(b"3".to_vec()));
        assert_eq!(pending.get(table, b"b"), Some(None));
        assert_eq!(pending.get(table, b"c"), Some(Some(b"3".to_vec())));
        assert_eq!(pending.get(table, b"z"), None);
        let split = pending.take(table).unwrap().split();
        assert_eq!(split.keys, vec![b"a".to_vec(), b"c".to_vec()]);
        assert_eq!(split.values, vec![b"2".to_vec(), b"3".to_vec()]);
        assert_eq!(split.removed, vec![b"b".to_vec()]);
        assert!(pending.take(table).is_none(), "taken once");
    }

    #[test]
    fn every_table_is_taken_in_name_order() {
        let mut pending = Pending::default();
        let mut tables: Vec<TableId> = TableId::ALL.iter().copied().take(3).collect();
        for table in tables.iter().rev() {
            pending.set(*table, b"k", None);
        }
        tables.sort_by_key(|t| t.name());
        let taken: Vec<TableId> = pending.take_all().into_iter().map(|(t, _)| t).collect();
        assert_eq!(taken, tables);
        assert!(pending.take_all().is_empty());
    }
}
