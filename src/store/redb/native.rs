//! redb's own typed tables behind the seam's bytes. The types of the table list are the
//! Rust types redb stores natively, so files keep the layout every release wrote; a
//! key or value crosses the seam in its `kv::Stored` form, and is turned into redb's
//! own at the table. An open table becomes an [`Adapter`], which the transactions keep.

use std::ops::Bound;

use redb::{AccessGuard, Key, ReadOnlyTable, ReadableTable, ReadableTableMetadata, Table, Value};

use crate::error::Error;
use crate::store::kv::{self, Entries, Entry, Plain, Stored};

/// A type redb stores natively, which is also its type at the seam.
pub(super) trait Native: Value + Stored + Sized + 'static {
    /// The value read from the seam, as redb takes it.
    fn native<'a>(plain: &'a Plain<'_, Self>) -> Self::SelfType<'a>;
    fn to_seam(value: Self::SelfType<'_>) -> Result<Vec<u8>, Error>;
}

macro_rules! native {
    ($($t:ty),* $(,)?) => {$(
        impl Native for $t {
            fn native<'a>(plain: &'a Plain<'_, $t>) -> Self::SelfType<'a> {
                plain.value()
            }

            fn to_seam(value: Self::SelfType<'_>) -> Result<Vec<u8>, Error> {
                kv::encode::<$t>(value)
            }
        }
    )*};
}

native!(
    u128,
    u64,
    u32,
    i64,
    (),
    &'static str,
    &'static [u8],
    &'static [u8; 32],
    (&'static str, &'static str),
    (u128, &'static str),
    (u128, u128),
    (u128, u64),
    (&'static str, &'static str, &'static str),
    (&'static str, &'static str, u32),
);

/// The entry `item` of a redb range, in its seam form.
fn entry<K: Native, V: Native>(
    item: redb::Result<(AccessGuard<'_, K>, AccessGuard<'_, V>)>,
) -> Result<Entry, Error> {
    let (key, value) = item?;
    Ok((K::to_seam(key.value())?, V::to_seam(value.value())?))
}

/// A bound of a range, read from the seam.
fn plain<K: Native>(bound: Bound<&[u8]>) -> Result<Bound<Plain<'_, K>>, Error> {
    Ok(match bound {
        Bound::Included(key) => Bound::Included(Plain::new(key)?),
        Bound::Excluded(key) => Bound::Excluded(Plain::new(key)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

/// The bound as redb takes it.
fn native<'a, K: Native>(bound: &'a Bound<Plain<'_, K>>) -> Bound<K::SelfType<'a>> {
    match bound {
        Bound::Included(key) => Bound::Included(K::native(key)),
        Bound::Excluded(key) => Bound::Excluded(K::native(key)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The value of `key` in `table`, in its seam form.
fn get_in<K: Native + Key, V: Native>(
    table: &impl ReadableTable<K, V>,
    key: &[u8],
) -> Result<Option<Vec<u8>>, Error> {
    match table.get(K::native(&Plain::new(key)?))? {
        Some(value) => V::to_seam(value.value()).map(Some),
        None => Ok(None),
    }
}

/// The entry of `table` with the greatest key, in its seam form.
fn last_in<K: Native + Key, V: Native>(
    table: &impl ReadableTable<K, V>,
) -> Result<Option<Entry>, Error> {
    table
        .last()?
        .map(|last| entry::<K, V>(Ok(last)))
        .transpose()
}

/// An open table of a read transaction, by bytes.
pub(super) trait ReadAdapter {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error>;
    /// A lazy range: redb's read-only tables lend ranges that own what they read.
    fn range(&self, from: Bound<&[u8]>, to: Bound<&[u8]>) -> Result<Entries<'static>, Error>;
    fn last(&self) -> Result<Option<Entry>, Error>;
    fn len(&self) -> Result<u64, Error>;
}

impl<K: Native + Key, V: Native> ReadAdapter for ReadOnlyTable<K, V> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        get_in(self, key)
    }

    fn range(&self, from: Bound<&[u8]>, to: Bound<&[u8]>) -> Result<Entries<'static>, Error> {
        let (from, to) = (plain::<K>(from)?, plain::<K>(to)?);
        let bounds = (native(&from), native(&to));
        let range = ReadOnlyTable::range(self, bounds)?;
        Ok(Box::new(range.map(entry::<K, V>)))
    }

    fn last(&self) -> Result<Option<Entry>, Error> {
        last_in(self)
    }

    fn len(&self) -> Result<u64, Error> {
        Ok(ReadableTableMetadata::len(self)?)
    }
}

/// An open table of a write transaction, by bytes. Its ranges are read a chunk at a
/// time (`chunk`), so that no range holds the table while the transaction writes.
pub(super) trait WriteAdapter {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error>;
    /// Up to `max` entries from `from` to `to`, in key order.
    fn chunk(&self, from: Bound<&[u8]>, to: Bound<&[u8]>, max: usize) -> Result<Vec<Entry>, Error>;
    fn last(&self) -> Result<Option<Entry>, Error>;
    fn len(&self) -> Result<u64, Error>;
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error>;
    fn remove(&mut self, key: &[u8]) -> Result<(), Error>;
}

impl<K: Native + Key, V: Native> WriteAdapter for Table<'_, K, V> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        get_in(self, key)
    }

    fn chunk(&self, from: Bound<&[u8]>, to: Bound<&[u8]>, max: usize) -> Result<Vec<Entry>, Error> {
        let (from, to) = (plain::<K>(from)?, plain::<K>(to)?);
        let bounds = (native(&from), native(&to));
        ReadableTable::range(self, bounds)?
            .take(max)
            .map(entry::<K, V>)
            .collect()
    }

    fn last(&self) -> Result<Option<Entry>, Error> {
        last_in(self)
    }

    fn len(&self) -> Result<u64, Error> {
        Ok(ReadableTableMetadata::len(self)?)
    }

    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        let (key, value) = (Plain::<K>::new(key)?, Plain::<V>::new(value)?);
        Table::insert(self, K::native(&key), V::native(&value))?;
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<(), Error> {
        Table::remove(self, K::native(&Plain::new(key)?))?;
        Ok(())
    }
}
