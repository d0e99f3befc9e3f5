//! A read transaction that opens each table once, for answers that read many objects.
//!
//! redb's `open_table` finds the table in the table tree and checks its key and value
//! types by name (building the names of tuple types with `format!`): about 3,400
//! instructions. A list page of 100 accounts read five tables for each account, each
//! opened again: a quarter of the page's instructions.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use redb::{Key, ReadOnlyTable, ReadTransaction, TableHandle, Value};

use super::reader::{Opened, Reader};
use super::tables::KnownTable;
use crate::error::Error;

/// `tx` with the tables opened so far, by name.
pub(super) struct PageReads<'tx> {
    tx: &'tx ReadTransaction,
    open: RefCell<Vec<(&'static str, Rc<dyn Any>)>>,
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
        = Opened<Rc<ReadOnlyTable<K, V>>>
    where
        Self: 't;

    fn table<T: KnownTable>(&self, table: T) -> Result<Self::Table<'_, T::K, T::V>, Error> {
        let name = T::DEF.name();
        let opened = self
            .open
            .borrow()
            .iter()
            .find(|(open, _)| *open == name)
            .and_then(|(_, open)| open.clone().downcast::<ReadOnlyTable<T::K, T::V>>().ok());
        if let Some(open) = opened {
            return Ok(Opened(open));
        }
        let open = Rc::new(self.tx.table(table)?);
        self.open.borrow_mut().push((name, open.clone()));
        Ok(Opened(open))
    }
}
