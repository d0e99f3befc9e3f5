//! A table of a transaction, typed by its marker: the rows read and write Rust keys and
//! values through it, and it hands the engine their byte form (`stored`).

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::ops::{Bound, Deref, RangeBounds};

use super::stored::{self, Plain, Stored};
use super::{Entries, KvRead, KvWrite};
use crate::error::Error;
use crate::store::tables::KnownTable;

/// The key type of the table `T`, as its users hold it.
pub(in crate::store) type KeyOf<'a, T> = <<T as KnownTable>::K as Stored>::Ref<'a>;
/// The value type of the table `T`, as its users hold it.
pub(in crate::store) type ValueOf<'a, T> = <<T as KnownTable>::V as Stored>::Ref<'a>;

/// A table to read, in the transaction `kv`.
pub(in crate::store) struct TableRef<'t, T> {
    kv: &'t dyn KvRead,
    _table: PhantomData<T>,
}

impl<T> Clone for TableRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TableRef<'_, T> {}

/// A stored key or value, read: checked when it left the engine, looked at in place.
pub(in crate::store) type Guard<S> = Plain<'static, S>;

/// An entry of a table: its key and its value.
pub(in crate::store) type EntryOf<T> = (Guard<<T as KnownTable>::K>, Guard<<T as KnownTable>::V>);

/// Entries of a table in key order.
pub(in crate::store) struct Range<'t, T> {
    entries: Entries<'t>,
    _table: PhantomData<T>,
}

impl<T: KnownTable> Iterator for Range<'_, T> {
    type Item = Result<EntryOf<T>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        Some(entry.and_then(|(key, value)| Ok((Guard::new(key)?, Guard::new(value)?))))
    }
}

fn bound<K: Stored>(bound: Bound<&K::Ref<'_>>) -> Result<Bound<Vec<u8>>, Error> {
    Ok(match bound {
        Bound::Included(key) => Bound::Included(stored::encode::<K>(*key)?),
        Bound::Excluded(key) => Bound::Excluded(stored::encode::<K>(*key)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

impl<'t, T: KnownTable> TableRef<'t, T> {
    pub(in crate::store) fn new(kv: &'t dyn KvRead, _: T) -> Self {
        TableRef {
            kv,
            _table: PhantomData,
        }
    }

    pub(in crate::store) fn get<'k>(
        &self,
        key: impl Borrow<KeyOf<'k, T>>,
    ) -> Result<Option<Guard<T::V>>, Error> {
        let key = stored::encode::<T::K>(*key.borrow())?;
        self.kv.get(T::ID, &key)?.map(Guard::new).transpose()
    }

    /// The entries whose keys are in `range`, in key order.
    pub(in crate::store) fn range<'k, KR>(
        &self,
        range: impl RangeBounds<KR> + 'k,
    ) -> Result<Range<'t, T>, Error>
    where
        KR: Borrow<KeyOf<'k, T>> + 'k,
    {
        let from = bound::<T::K>(range.start_bound().map(Borrow::borrow))?;
        let to = bound::<T::K>(range.end_bound().map(Borrow::borrow))?;
        Ok(Range {
            entries: self.kv.range(T::ID, as_ref(&from), as_ref(&to))?,
            _table: PhantomData,
        })
    }

    /// Every entry, in key order.
    pub(in crate::store) fn iter(&self) -> Result<Range<'t, T>, Error> {
        Ok(Range {
            entries: self.kv.range(T::ID, Bound::Unbounded, Bound::Unbounded)?,
            _table: PhantomData,
        })
    }

    pub(in crate::store) fn last(&self) -> Result<Option<EntryOf<T>>, Error> {
        match self.kv.last(T::ID)? {
            Some((key, value)) => Ok(Some((Guard::new(key)?, Guard::new(value)?))),
            None => Ok(None),
        }
    }

    pub(in crate::store) fn len(&self) -> Result<u64, Error> {
        self.kv.len(T::ID)
    }

    /// Whether reading ahead gains anything in this transaction ([`KvRead::read_ahead`]).
    pub(in crate::store) fn reads_ahead(&self) -> bool {
        self.kv.reads_ahead()
    }

    /// Reads ahead the entries under `keys`, and in the inclusive `ranges`, which the
    /// transaction is about to read one at a time ([`KvRead::read_ahead`]).
    pub(in crate::store) fn read_ahead<'k>(
        &self,
        keys: impl IntoIterator<Item = KeyOf<'k, T>>,
        ranges: impl IntoIterator<Item = (KeyOf<'k, T>, KeyOf<'k, T>)>,
    ) -> Result<(), Error> {
        if !self.reads_ahead() {
            return Ok(());
        }
        let keys = keys
            .into_iter()
            .map(stored::encode::<T::K>)
            .collect::<Result<Vec<_>, _>>()?;
        let ranges = ranges
            .into_iter()
            .map(|(from, to)| Ok((stored::encode::<T::K>(from)?, stored::encode::<T::K>(to)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        self.kv.read_ahead(T::ID, &keys, &ranges)
    }
}

fn as_ref(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

/// A table to read and write, in the write transaction `kv`.
pub(in crate::store) struct TableMut<'t, T> {
    read: TableRef<'t, T>,
    kv: &'t dyn KvWrite,
}

impl<'t, T> Deref for TableMut<'t, T> {
    type Target = TableRef<'t, T>;

    fn deref(&self) -> &TableRef<'t, T> {
        &self.read
    }
}

impl<'t, T: KnownTable> TableMut<'t, T> {
    pub(in crate::store) fn new(kv: &'t dyn KvWrite, table: T) -> Self {
        TableMut {
            read: TableRef::new(kv, table),
            kv,
        }
    }

    /// Stores `value` under `key`.
    pub(in crate::store) fn insert<'k, 'v>(
        &mut self,
        key: impl Borrow<KeyOf<'k, T>>,
        value: impl Borrow<ValueOf<'v, T>>,
    ) -> Result<(), Error> {
        let key = stored::encode::<T::K>(*key.borrow())?;
        let value = stored::encode::<T::V>(*value.borrow())?;
        self.kv.insert(T::ID, &key, &value)
    }

    /// Removes `key`, if it is there.
    pub(in crate::store) fn remove<'k>(
        &mut self,
        key: impl Borrow<KeyOf<'k, T>>,
    ) -> Result<(), Error> {
        let key = stored::encode::<T::K>(*key.borrow())?;
        self.kv.remove(T::ID, &key)
    }

    /// Stores `value` under `key`; whether it replaced a value. It reads the key first:
    /// an engine on a server sends its writes at the end of the transaction.
    pub(in crate::store) fn insert_checked<'k, 'v>(
        &mut self,
        key: impl Borrow<KeyOf<'k, T>>,
        value: impl Borrow<ValueOf<'v, T>>,
    ) -> Result<bool, Error> {
        let key = stored::encode::<T::K>(*key.borrow())?;
        let value = stored::encode::<T::V>(*value.borrow())?;
        let held = self.kv.get(T::ID, &key)?.is_some();
        self.kv.insert(T::ID, &key, &value)?;
        Ok(held)
    }

    /// Removes `key`; whether it was there (read first, as for [`Self::insert_checked`]).
    pub(in crate::store) fn remove_checked<'k>(
        &mut self,
        key: impl Borrow<KeyOf<'k, T>>,
    ) -> Result<bool, Error> {
        let key = stored::encode::<T::K>(*key.borrow())?;
        let held = self.kv.get(T::ID, &key)?.is_some();
        if held {
            self.kv.remove(T::ID, &key)?;
        }
        Ok(held)
    }

    /// Removes every entry that `keep` refuses.
    pub(in crate::store) fn retain(
        &mut self,
        mut keep: impl FnMut(KeyOf<'_, T>, ValueOf<'_, T>) -> bool,
    ) -> Result<(), Error> {
        let mut dropped = Vec::new();
        for entry in self.kv.range(T::ID, Bound::Unbounded, Bound::Unbounded)? {
            let (key, value) = entry?;
            let (k, v) = (
                Plain::<T::K>::new(&key[..])?,
                Plain::<T::V>::new(&value[..])?,
            );
            if !keep(k.value(), v.value()) {
                dropped.push(key);
            }
        }
        for key in dropped {
            self.kv.remove(T::ID, &key)?;
        }
        Ok(())
    }
}
