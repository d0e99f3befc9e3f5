//! Reads written once for both transaction kinds, as kanidm's `BackendTransaction` does.

use std::borrow::Borrow;
use std::ops::{Bound, Deref, RangeBounds};

#[cfg(test)]
use redb::TableHandle;
use redb::{
    AccessGuard, Key, Range, ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata,
    TableStats, Value,
};
use uuid::Uuid;

use super::tables::{self, KnownTable, NameKey};
use crate::domain::{Scope, Timestamp};
use crate::error::Error;

pub(super) const SCHEMA_VERSION_KEY: &str = "schema_version";
pub(super) const CREATED_AT_KEY: &str = "created_at";

/// A transaction that can be read from.
pub(super) trait Reader {
    type Table<'t, K: Key + 'static, V: Value + 'static>: ReadableTable<K, V>
    where
        Self: 't;

    /// Opens `table`; every table exists once `Store::open` has returned.
    fn table<T: KnownTable>(&self, table: T) -> Result<Self::Table<'_, T::K, T::V>, Error>;
}

impl Reader for ReadTransaction {
    type Table<'t, K: Key + 'static, V: Value + 'static> = ReadOnlyTable<K, V>;

    fn table<T: KnownTable>(&self, table: T) -> Result<ReadOnlyTable<T::K, T::V>, Error> {
        #[cfg(test)]
        super::faults::check_table(T::DEF.name())?;
        Ok(self.open_table(table.def())?)
    }
}

/// A table held open by a transaction that hands it to several reads (a write
/// transaction's, [`super::page_reads::PageReads`]'), readable through the handle.
pub(super) struct Opened<D>(pub(super) D);

impl<D: Deref<Target: ReadableTableMetadata>> ReadableTableMetadata for Opened<D> {
    fn stats(&self) -> redb::Result<TableStats> {
        self.0.stats()
    }

    fn len(&self) -> redb::Result<u64> {
        self.0.len()
    }
}

/// Every method delegates, `lower_bound` and `upper_bound` included, which keyhouse
/// does not call, so that redb's default `unimplemented!` is never reached through it.
impl<K: Key + 'static, V: Value + 'static, D: Deref<Target: ReadableTable<K, V>>>
    ReadableTable<K, V> for Opened<D>
{
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

/// The id a `(scope, name) → id` index gives `name` in `scope`.
pub(super) fn id_by_name(
    tx: &impl Reader,
    index: impl KnownTable<K = NameKey, V = u128>,
    scope: &Scope,
    name: &str,
) -> Result<Option<Uuid>, Error> {
    Ok(tx
        .table(index)?
        .get((scope.key(), name))?
        .map(|id| Uuid::from_u128(id.value())))
}

/// A time kept as unix seconds under an id (last use).
pub(super) fn unix_time(
    tx: &impl Reader,
    table: impl KnownTable<K = u128, V = i64>,
    id: Uuid,
) -> Result<Option<Timestamp>, Error> {
    let at = tx.table(table)?.get(id.as_u128())?.map(|v| v.value());
    Ok(at.and_then(|secs| Timestamp::from_timestamp(secs, 0)))
}

/// A value of the meta table.
pub(super) fn meta(tx: &impl Reader, key: &str) -> Result<Option<u64>, Error> {
    Ok(tx.table(tables::META)?.get(key)?.map(|v| v.value()))
}
