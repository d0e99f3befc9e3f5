//! A read transaction that opens each table once, for answers that read many objects.
//!
//! redb's `open_table` finds the table in the table tree and checks its key and value
//! types by name (building the names of tuple types with `format!`): about 3,400
//! instructions. A list page of 100 accounts read five tables for each account, each
//! opened again: a quarter of the page's instructions.

use std::any::Any;
use std::borrow::Borrow;
use std::cell::RefCell;
use std::ops::{Bound, RangeBounds};
use std::rc::Rc;

use redb::{
    AccessGuard, Key, Range, ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata,
    TableDefinition, TableHandle, TableStats, Value,
};

use super::reader::Reader;
use crate::error::Error;

/// `tx` with the tables opened so far, by name.
pub(super) struct PageReads<'tx> {
    tx: &'tx ReadTransaction,
    open: RefCell<Vec<(String, Rc<dyn Any>)>>,
}

impl<'tx> PageReads<'tx> {
    pub(super) fn new(tx: &'tx ReadTransaction) -> Self {
        PageReads {
            tx,
            open: RefCell::new(Vec::new()),
        }
    }
}

impl Reader for PageReads<'_> {
    type Table<'t, K: Key + 'static, V: Value + 'static>
        = Shared<K, V>
    where
        Self: 't;

    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Shared<K, V>, Error> {
        let opened = self
            .open
            .borrow()
            .iter()
            .find(|(name, _)| name == def.name())
            .and_then(|(_, table)| table.clone().downcast::<ReadOnlyTable<K, V>>().ok());
        if let Some(table) = opened {
            return Ok(Shared(table));
        }
        let table = Rc::new(self.tx.table(def)?);
        self.open
            .borrow_mut()
            .push((def.name().to_owned(), table.clone()));
        Ok(Shared(table))
    }
}

/// A table of [`PageReads`], shared by the reads of one answer.
pub(super) struct Shared<K: Key + 'static, V: Value + 'static>(Rc<ReadOnlyTable<K, V>>);

impl<K: Key + 'static, V: Value + 'static> ReadableTableMetadata for Shared<K, V> {
    fn stats(&self) -> redb::Result<TableStats> {
        self.0.stats()
    }

    fn len(&self) -> redb::Result<u64> {
        self.0.len()
    }
}

impl<K: Key + 'static, V: Value + 'static> ReadableTable<K, V> for Shared<K, V> {
    fn get<'a>(
        &self,
        key: impl Borrow<K::SelfType<'a>>,
    ) -> redb::Result<Option<AccessGuard<'_, V>>> {
        self.0.get(key)
    }

    fn range<'a, KR>(&self, range: impl RangeBounds<KR> + 'a) -> redb::Result<Range<'_, K, V>>
    where
        KR: Borrow<K::SelfType<'a>> + 'a,
    {
        self.0.range(range)
    }

    fn first(&self) -> redb::Result<Option<(AccessGuard<'_, K>, AccessGuard<'_, V>)>> {
        self.0.first()
    }

    fn last(&self) -> redb::Result<Option<(AccessGuard<'_, K>, AccessGuard<'_, V>)>> {
        self.0.last()
    }

    fn lower_bound<'a>(
        &self,
        bound: Bound<impl Borrow<K::SelfType<'a>>>,
    ) -> redb::Result<redb::Cursor<'_, K, V>> {
        self.0.lower_bound(bound)
    }

    fn upper_bound<'a>(
        &self,
        bound: Bound<impl Borrow<K::SelfType<'a>>>,
    ) -> redb::Result<redb::Cursor<'_, K, V>> {
        self.0.upper_bound(bound)
    }
}
