//! The store's write transaction: redb's, with the tables it has opened (each opened
//! once, and kept open until it ends: see [`OpenTables`]), and what its writes changed
//! in the sets of account numbers (`rows::condition_sets`), held in memory and written
//! once, when it finishes. The creates of a batch (`group_commit`) change mostly the
//! same few blocks (the newest numbers' block of each term they hold), so a batch
//! writes each of those once instead of once per create. Everything else a write does
//! goes to redb at once.

use std::cell::{Ref, RefCell, RefMut};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use redb::{ReadableTable, Table, TableHandle, WriteTransaction};
use roaring::RoaringBitmap;

use super::codec;
use super::reader::{Opened, Reader};
use super::tables::{self, KnownTable, Open, OpenTables};
use crate::error::Error;

/// A write transaction: every table is read and written through it, each opened once.
pub(super) struct Tx<'w> {
    inner: &'w WriteTransaction,
    open: OpenTables<'w>,
    sets: RefCell<ChangedBlocks>,
}

impl<'w> Tx<'w> {
    pub(super) fn new(inner: &'w WriteTransaction) -> Self {
        Tx {
            inner,
            open: OpenTables::default(),
            sets: RefCell::default(),
        }
    }

    /// `table`, to write: opened at its first use in this transaction. A table is
    /// written through one handle at a time, as redb has it.
    pub(super) fn write<T: KnownTable>(&self, table: T) -> Result<RefMut<'_, Open<'w, T>>, Error> {
        let mut slot = borrowed(T::slot(&self.open).try_borrow_mut(), table)?;
        let open = match slot.take() {
            Some(open) => open,
            None => self.open_table(table)?,
        };
        Ok(RefMut::map(slot, |slot| slot.insert(open)))
    }

    /// `table`, to read: as [`Tx::write`], but any number of reads may hold it at once.
    fn read<T: KnownTable>(&self, table: T) -> Result<Ref<'_, Open<'w, T>>, Error> {
        let slot = T::slot(&self.open);
        if borrowed(slot.try_borrow(), table)?.is_none() {
            drop(self.write(table)?);
        }
        let opened = borrowed(slot.try_borrow(), table)?;
        Ref::filter_map(opened, Option::as_ref)
            .map_err(|_| Error::internal(format!("the table {} was closed", T::DEF.name())))
    }

    fn open_table<T: KnownTable>(&self, _: T) -> Result<Open<'w, T>, Error> {
        #[cfg(test)]
        super::faults::check_table(T::DEF.name())?;
        Ok(self.inner.open_table(T::DEF)?)
    }

    /// The blocks of sets this transaction changed, as they are now.
    pub(super) fn changed_blocks(&self) -> RefMut<'_, ChangedBlocks> {
        self.sets.borrow_mut()
    }

    /// Writes the changed blocks and closes the tables: the transaction can commit.
    pub(super) fn finish(self) -> Result<(), Error> {
        let mut sets = self.sets.take();
        if !sets.blocks.is_empty() {
            sets.write(&mut *self.write(tables::CONDITION_SETS)?)?;
        }
        Ok(())
    }
}

/// A slot's borrow, or the error of a table already lent out in a way this use cannot
/// share: to a writer, or, for a write, to readers.
fn borrowed<B, E, T: KnownTable>(borrow: Result<B, E>, _: T) -> Result<B, Error> {
    borrow.map_err(|_| Error::internal(format!("the table {} is in use", T::DEF.name())))
}

impl<'w> Reader for Tx<'w> {
    type Table<'t, K: redb::Key + 'static, V: redb::Value + 'static>
        = Opened<Ref<'t, Table<'w, K, V>>>
    where
        Self: 't;

    fn table<T: KnownTable>(&self, table: T) -> Result<Self::Table<'_, T::K, T::V>, Error> {
        Ok(Opened(self.read(table)?))
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
        stored: &Table<BlockKey<'static>, &'static [u8]>,
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
    pub(super) fn write(
        &mut self,
        stored: &mut Table<BlockKey<'static>, &'static [u8]>,
    ) -> Result<(), Error> {
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
    pub(super) fn bound(
        &mut self,
        stored: &mut Table<BlockKey<'static>, &'static [u8]>,
    ) -> Result<(), Error> {
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
    use redb::{Database, ReadableDatabase, ReadableTableMetadata};

    use super::*;

    /// A table is opened once per transaction and lent to one writer, or to any number
    /// of readers; a use that would break that is an error, not a panic.
    #[test]
    fn an_open_table_is_lent_to_one_writer_or_to_readers() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("t.redb")).unwrap();
        let write = db.begin_write().unwrap();
        let tx = Tx::new(&write);
        let readers = (
            tx.table(tables::META).unwrap(),
            tx.table(tables::META).unwrap(),
        );
        assert!(tx.write(tables::META).is_err(), "written while read");
        drop(readers);
        let mut meta = tx.write(tables::META).unwrap();
        meta.insert("k", 1).unwrap();
        assert!(tx.table(tables::META).is_err(), "read while written");
        drop(meta);
        assert_eq!(super::super::reader::meta(&tx, "k").unwrap(), Some(1));
        tx.finish().unwrap();
        write.commit().unwrap();
    }

    /// Changed blocks are written at the commit, or earlier once they are many; the
    /// sets then hold what they would have held written one by one.
    #[test]
    fn changed_blocks_are_written_at_commit_or_once_they_are_many() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("t.redb")).unwrap();
        let write = db.begin_write().unwrap();
        let tx = Tx::new(&write);
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
        assert!(stored.is_empty().unwrap(), "a few are held");
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
        write.commit().unwrap();

        let read = db.begin_read().unwrap();
        let stored = read.open_table(tables::CONDITION_SETS.def()).unwrap();
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
