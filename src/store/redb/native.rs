//! redb's own typed tables behind the seam's bytes. The types of the table list are the
//! Rust types redb stores natively, so files keep the layout every release wrote; a
//! key or value crosses the seam in its `kv::Stored` form, and is turned into redb's
//! own at the table. An open table becomes an [`Adapter`], which the transactions keep.

use std::ops::Bound;

use redb::{AccessGuard, Key, ReadOnlyTable, ReadableTable, ReadableTableMetadata, Table, Value};

use crate::error::Error;
use crate::store::kv::{self, Entries, Entry};

/// A type redb stores natively, which is also its type at the seam.
pub(super) trait Native: Value + 'static {
    fn from_seam(bytes: &[u8]) -> Result<Self::SelfType<'_>, Error>;
    fn to_seam(value: Self::SelfType<'_>) -> Result<Vec<u8>, Error>;
}

macro_rules! native {
    ($($t:ty),* $(,)?) => {$(
        impl Native for $t {
            fn from_seam(bytes: &[u8]) -> Result<Self::SelfType<'_>, Error> {
                kv::decode::<$t>(bytes)
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

fn bound<K: Native>(bound: Bound<&[u8]>) -> Result<Bound<K::SelfType<'_>>, Error> {
    Ok(match bound {
        Bound::Included(key) => Bound::Included(K::from_seam(key)?),
        Bound::Excluded(key) => Bound::Excluded(K::from_seam(key)?),
        Bound::Unbounded => Bound::Unbounded,
    })
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
        match ReadOnlyTable::get(self, K::from_seam(key)?)? {
            Some(value) => V::to_seam(value.value()).map(Some),
            None => Ok(None),
        }
    }

    fn range(&self, from: Bound<&[u8]>, to: Bound<&[u8]>) -> Result<Entries<'static>, Error> {
        let bounds = (bound::<K>(from)?, bound::<K>(to)?);
        let range = ReadOnlyTable::range(self, bounds)?;
        Ok(Box::new(range.map(entry::<K, V>)))
    }

    fn last(&self) -> Result<Option<Entry>, Error> {
        match ReadableTable::last(self)? {
            Some((key, value)) => Ok(Some((K::to_seam(key.value())?, V::to_seam(value.value())?))),
            None => Ok(None),
        }
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
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool, Error>;
    fn remove(&mut self, key: &[u8]) -> Result<bool, Error>;
}

impl<K: Native + Key, V: Native> WriteAdapter for Table<'_, K, V> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match ReadableTable::get(self, K::from_seam(key)?)? {
            Some(value) => V::to_seam(value.value()).map(Some),
            None => Ok(None),
        }
    }

    fn chunk(&self, from: Bound<&[u8]>, to: Bound<&[u8]>, max: usize) -> Result<Vec<Entry>, Error> {
        let bounds = (bound::<K>(from)?, bound::<K>(to)?);
        ReadableTable::range(self, bounds)?
            .take(max)
            .map(entry::<K, V>)
            .collect()
    }

    fn last(&self) -> Result<Option<Entry>, Error> {
        match ReadableTable::last(self)? {
            Some((key, value)) => Ok(Some((K::to_seam(key.value())?, V::to_seam(value.value())?))),
            None => Ok(None),
        }
    }

    fn len(&self) -> Result<u64, Error> {
        Ok(ReadableTableMetadata::len(self)?)
    }

    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool, Error> {
        let replaced = Table::insert(self, K::from_seam(key)?, V::from_seam(value)?)?;
        Ok(replaced.is_some())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool, Error> {
        Ok(Table::remove(self, K::from_seam(key)?)?.is_some())
    }
}
