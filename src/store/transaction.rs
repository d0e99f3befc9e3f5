//! The store's write transaction: redb's, with what its writes changed in the sets of
//! account numbers (`rows::condition_sets`), held in memory and written once, when it
//! commits. The creates of a batch (`group_commit`) change mostly the same few blocks
//! (the newest numbers' block of each term they hold), so a batch writes each of those
//! once instead of once per create. Everything else a write does goes to redb at once.

use std::cell::{RefCell, RefMut};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::ops::Deref;

use redb::{Key, ReadableTable, Table, TableDefinition, Value, WriteTransaction};
use roaring::RoaringBitmap;

use super::reader::Reader;
use super::{codec, tables};
use crate::error::Error;

/// A write transaction; it derefs to redb's for every table but the sets' blocks, which
/// go through [`Tx::changed_blocks`].
pub(super) struct Tx {
    inner: WriteTransaction,
    sets: RefCell<ChangedBlocks>,
}

impl Tx {
    pub(super) fn new(inner: WriteTransaction) -> Self {
        Tx {
            inner,
            sets: RefCell::default(),
        }
    }

    /// The blocks of sets this transaction changed, as they are now.
    pub(super) fn changed_blocks(&self) -> RefMut<'_, ChangedBlocks> {
        self.sets.borrow_mut()
    }

    /// Writes the changed blocks, then commits durably.
    pub(super) fn commit(self) -> Result<(), Error> {
        self.sets.into_inner().write(&self.inner)?;
        Ok(self.inner.commit()?)
    }
}

impl Deref for Tx {
    type Target = WriteTransaction;

    fn deref(&self) -> &WriteTransaction {
        &self.inner
    }
}

impl Reader for Tx {
    type Table<'t, K: Key + 'static, V: Value + 'static> = Table<'t, K, V>;

    fn table<'t, K: Key + 'static, V: Value + 'static>(
        &'t self,
        def: TableDefinition<K, V>,
    ) -> Result<Table<'t, K, V>, Error> {
        self.inner.table(def)
    }
}

/// A block's key in the sets table: (scope, term, block of numbers).
type BlockKey<'a> = (&'a str, &'a str, u32);

/// The blocks of the sets table (`condition_sets_v1`) that a transaction changed.
#[derive(Default)]
pub(super) struct ChangedBlocks {
    blocks: BTreeMap<(String, String, u32), RoaringBitmap>,
}

impl ChangedBlocks {
    /// The block at `key` as this transaction has it, to change: read from `stored` the
    /// first time.
    pub(super) fn block(
        &mut self,
        stored: &Table<BlockKey<'static>, &'static [u8]>,
        (scope, term, at): BlockKey,
    ) -> Result<&mut RoaringBitmap, Error> {
        Ok(
            match self.blocks.entry((scope.to_owned(), term.to_owned(), at)) {
                Entry::Occupied(changed) => changed.into_mut(),
                Entry::Vacant(first) => {
                    let block = match stored.get((scope, term, at))? {
                        Some(bytes) => codec::decode_bitmap(bytes.value())?,
                        None => RoaringBitmap::new(),
                    };
                    first.insert(block)
                }
            },
        )
    }

    /// Writes every changed block (an empty one is removed).
    fn write(self, tx: &WriteTransaction) -> Result<(), Error> {
        if self.blocks.is_empty() {
            return Ok(());
        }
        let mut stored = tx.open_table(tables::CONDITION_SETS)?;
        for ((scope, term, at), mut block) in self.blocks {
            let key = (scope.as_str(), term.as_str(), at);
            if block.is_empty() {
                stored.remove(key)?;
            } else {
                block.optimize();
                stored.insert(key, codec::encode_bitmap(&block)?.as_slice())?;
            }
        }
        Ok(())
    }
}
