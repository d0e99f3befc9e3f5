//! The store's write transaction: the engine's, and what its writes changed in the sets
//! of account numbers (`rows::condition_sets`), held in memory and written once, when
//! it finishes. The creates of a batch (`group_commit`) change mostly the
//! same few blocks (the newest numbers' block of each term they hold), so a batch
//! writes each of those once instead of once per create. Everything else a write does
//! goes to the engine at once.

use std::cell::{RefCell, RefMut};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use roaring::RoaringBitmap;

use super::codec;
use super::kv::{KvRead, KvWrite, Reader, TableMut, TableRef};
use super::tables::{self, ConditionSets, KnownTable};
use crate::error::Error;

/// A write transaction of the engine, and the blocks of sets its writes changed.
pub(super) struct Tx<'w> {
    kv: &'w dyn KvWrite,
    sets: RefCell<ChangedBlocks>,
}

impl<'w> Tx<'w> {
    pub(super) fn new(kv: &'w dyn KvWrite) -> Self {
        Tx {
            kv,
            sets: RefCell::default(),
        }
    }

    /// `table`, to write.
    pub(super) fn write<T: KnownTable>(&self, table: T) -> Result<TableMut<'_, T>, Error> {
        Ok(TableMut::new(self.kv, table))
    }

    /// The engine's transaction itself, by bytes: for a copy of every table as it is.
    pub(super) fn raw(&self) -> &dyn KvWrite {
        self.kv
    }

    /// The blocks of sets this transaction changed, as they are now.
    pub(super) fn changed_blocks(&self) -> RefMut<'_, ChangedBlocks> {
        self.sets.borrow_mut()
    }

    /// Writes the changed blocks: the transaction can commit.
    pub(super) fn finish(self) -> Result<(), Error> {
        let mut sets = self.sets.take();
        if !sets.blocks.is_empty() {
            sets.write(&mut self.write(tables::CONDITION_SETS)?)?;
        }
        Ok(())
    }
}

impl Reader for Tx<'_> {
    fn kv(&self) -> &dyn KvRead {
        self.kv
    }
}

/// Changed blocks held at most: a batch of creates changes some hundreds.
const MAX_HELD: usize = 4_096;

/// A block's key in the sets table: (scope, term, block of numbers).
type BlockKey<'a> = (&'a str, &'a str, u32);

/// The blocks of the sets table (`condition_sets_v1`) that a transaction changed, by
/// scope, then term, then block: maps nested so that finding a held block borrows the
/// caller's strings (a batch of creates looks blocks up some thousands of times), and
/// ordered so that they are written in the table's order.
#[derive(Default)]
pub(super) struct ChangedBlocks {
    blocks: BTreeMap<String, BTreeMap<String, BTreeMap<u32, RoaringBitmap>>>,
    held: usize,
}

impl ChangedBlocks {
    /// The block at `key` as this transaction has it, to change: read from `stored` the
    /// first time.
    pub(super) fn block(
        &mut self,
        stored: &TableRef<'_, ConditionSets>,
        (scope, term, at): BlockKey,
    ) -> Result<&mut RoaringBitmap, Error> {
        let terms = entry_of(&mut self.blocks, scope)?;
        Ok(match entry_of(terms, term)?.entry(at) {
            Entry::Occupied(changed) => changed.into_mut(),
            Entry::Vacant(first) => {
                let block = match stored.get((scope, term, at))? {
                    Some(bytes) => codec::decode_bitmap(bytes.value())?,
                    None => RoaringBitmap::new(),
                };
                self.held += 1;
                first.insert(block)
            }
        })
    }

    /// Writes every changed block (an empty one is removed), in the table's order, and
    /// forgets them.
    pub(super) fn write(&mut self, stored: &mut TableMut<'_, ConditionSets>) -> Result<(), Error> {
        for (scope, terms) in std::mem::take(&mut self.blocks) {
            for (term, held) in terms {
                for (at, mut block) in held {
                    let key = (scope.as_str(), term.as_str(), at);
                    if block.is_empty() {
                        stored.remove(key)?;
                    } else {
                        block.optimize();
                        stored.insert(key, codec::encode_bitmap(&block)?.as_slice())?;
                    }
                }
            }
        }
        self.held = 0;
        Ok(())
    }

    /// Writes the changed blocks out early when they are many (a write that removes a
    /// whole project's accounts), so that what is held stays small.
    pub(super) fn bound(&mut self, stored: &mut TableMut<'_, ConditionSets>) -> Result<(), Error> {
        if self.held > MAX_HELD {
            self.write(stored)?;
        }
        Ok(())
    }
}

/// The entry of `map` under `key`, made empty first if there is none: found by the
/// borrowed key, so that only its first use allocates the key.
fn entry_of<'m, V: Default>(
    map: &'m mut BTreeMap<String, V>,
    key: &str,
) -> Result<&'m mut V, Error> {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key)
        .ok_or_else(|| Error::internal("a changed block of the sets was lost"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::kv::Memory;

    /// Changed blocks are written at the commit, or earlier once they are many; the
    /// sets then hold what they would have held written one by one.
    #[test]
    fn changed_blocks_are_written_at_commit_or_once_they_are_many() {
        let kv = Memory::default();
        let tx = Tx::new(&kv);
        let mut stored = tx.write(tables::CONDITION_SETS).unwrap();
        let mut changed = tx.changed_blocks();
        changed
            .block(&stored, ("", "s:active", 0))
            .unwrap()
            .insert(1);
        changed
            .block(&stored, ("", "s:active", 0))
            .unwrap()
            .insert(2);
        changed.bound(&mut stored).unwrap();
        assert_eq!(stored.len().unwrap(), 0, "a few are held");
        for at in 0..=MAX_HELD as u32 {
            changed
                .block(&stored, ("p", "s:active", at))
                .unwrap()
                .insert(at << 12);
        }
        changed.bound(&mut stored).unwrap();
        assert_eq!(stored.len().unwrap(), MAX_HELD as u64 + 2, "written early");
        assert!(changed.blocks.is_empty() && changed.held == 0);
        changed
            .block(&stored, ("", "s:active", 0))
            .unwrap()
            .remove(1);
        changed
            .block(&stored, ("p", "s:active", 1))
            .unwrap()
            .remove(1 << 12);
        drop((stored, changed));
        tx.finish().unwrap();

        let read = crate::store::kv::ReadTx(&kv);
        let stored = read.table(tables::CONDITION_SETS).unwrap();
        let root = stored.get(("", "s:active", 0)).unwrap().unwrap();
        let root: Vec<u32> = codec::decode_bitmap(root.value()).unwrap().iter().collect();
        assert_eq!(root, [2]);
        assert!(
            stored.get(("p", "s:active", 1)).unwrap().is_none(),
            "an emptied block is removed"
        );
        assert_eq!(stored.len().unwrap(), MAX_HELD as u64 + 1);
    }
}
