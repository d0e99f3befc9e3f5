//! The store's seam to its engine: an ordered, transactional key-value store of bytes,
//! table by table. An engine (`store::redb`, one day a server's database) implements
//! [`KvRead`] and [`KvWrite`] for its transactions; everything above (rows, principals,
//! use cases) reads and writes typed tables through [`TableRef`] and [`TableMut`], and
//! names no engine. Keys compare as bytes, in the order of the Rust keys they encode
//! (`stored`), so a range of keys is a range of bytes on every engine.

mod chunks;
#[cfg(test)]
mod memory;
mod stored;
mod table;

use std::ops::Bound;

pub(in crate::store) use chunks::{ChunkRead, chunked};
#[cfg(test)]
pub(in crate::store) use memory::Memory;
pub(in crate::store) use stored::{Plain, Stored, encode};
pub(in crate::store) use table::{EntryOf, TableMut, TableRef};

use super::tables::{KnownTable, TableId};
use crate::error::Error;

/// A stored key and its value, in their byte form.
pub(in crate::store) type Entry = (Vec<u8>, Vec<u8>);

/// Entries of a table in key order, read lazily.
pub(in crate::store) type Entries<'t> = Box<dyn Iterator<Item = Result<Entry, Error>> + 't>;

/// A transaction's reads: every read of a transaction sees the same state.
pub(in crate::store) trait KvRead {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, Error>;

    /// The entries of `table` from `from` to `to`, in key order.
    fn range(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
    ) -> Result<Entries<'_>, Error>;

    /// The entry of `table` with the greatest key.
    fn last(&self, table: TableId) -> Result<Option<Entry>, Error>;

    /// How many entries `table` holds.
    fn len(&self, table: TableId) -> Result<u64, Error>;

    /// Whether [`Self::read_ahead`] gains anything here: an engine across a network.
    fn reads_ahead(&self) -> bool {
        false
    }

    /// Reads ahead, in one round trip, what the transaction is about to read one at a
    /// time: the entries of `table` under `keys`, and in each inclusive range of
    /// `ranges`. A `get` of one of the keys, or a `range` of exactly one of the ranges,
    /// is then answered from it. Nothing to do unless [`Self::reads_ahead`].
    fn read_ahead(
        &self,
        _table: TableId,
        _keys: &[Vec<u8>],
        _ranges: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), Error> {
        Ok(())
    }
}

/// A write transaction: its reads see its own writes; all of them are committed
/// together or not at all.
pub(in crate::store) trait KvWrite: KvRead {
    /// Stores `value` under `key`. It says nothing of what was there: an engine on a
    /// server may send its writes together at the end (read first where that matters).
    fn insert(&self, table: TableId, key: &[u8], value: &[u8]) -> Result<(), Error>;

    /// Removes `key`, if it is there.
    fn remove(&self, table: TableId, key: &[u8]) -> Result<(), Error>;
}

/// A transaction that can be read from, whichever its kind: the rows' reads take one.
pub(in crate::store) trait Reader {
    fn kv(&self) -> &dyn KvRead;

    /// The table `table` of this transaction.
    fn table<T: KnownTable>(&self, table: T) -> Result<TableRef<'_, T>, Error> {
        Ok(TableRef::new(self.kv(), table))
    }
}

/// A read transaction: one consistent snapshot.
pub(in crate::store) struct ReadTx<'a>(pub(in crate::store) &'a dyn KvRead);

impl Reader for ReadTx<'_> {
    fn kv(&self) -> &dyn KvRead {
        self.0
    }
}
