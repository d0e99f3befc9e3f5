//! The store's write transaction: redb's, with what its writes changed in the sets of
//! account numbers (`rows::condition_sets`), held in memory and written once, when it
//! commits. The creates of a batch (`group_commit`) change mostly the same few blocks
//! (the newest numbers' block of each term they hold), so a batch writes each of those
//! once instead of once per create. Everything else a write does goes to redb at once.

use std::cell::{RefCell, RefMut};
use std::ops::Deref;

use redb::{Key, Table, TableDefinition, Value, WriteTransaction};

use super::reader::Reader;
use super::rows::condition_sets::SetChanges;
use crate::error::Error;

/// A write transaction; it derefs to redb's for every table but the sets' blocks, which
/// go through [`Tx::set_changes`].
pub(super) struct Tx {
    inner: WriteTransaction,
    sets: RefCell<SetChanges>,
}

impl Tx {
    pub(super) fn new(inner: WriteTransaction) -> Self {
        Tx {
            inner,
            sets: RefCell::default(),
        }
    }

    /// The blocks of sets this transaction changed, as they are now.
    pub(super) fn set_changes(&self) -> RefMut<'_, SetChanges> {
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
