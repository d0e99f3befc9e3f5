//! Reads written once for both transaction kinds, as kanidm's `BackendTransaction` does.

use redb::{
    Key, ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition, Value,
    WriteTransaction,
};

#[cfg(test)]
use redb::TableHandle;
use uuid::Uuid;

use super::tables::{self, NameKey};
use crate::domain::{Scope, Timestamp};
use crate::error::Error;

pub(super) const SCHEMA_VERSION_KEY: &str = "schema_version";
pub(super) const CREATED_AT_KEY: &str = "created_at";

/// A transaction that can be read from.
pub(super) trait Reader {
    type Table<'t, K: Key + 'static, V: Value + 'static>: ReadableTable<K, V>
    where
        Self: 't;

    /// Opens `def`; every table exists once `Store::open` has returned.
    fn table<'t, K: Key + 'static, V: Value + 'static>(
        &'t self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Table<'t, K, V>, Error>;
}

impl Reader for ReadTransaction {
    type Table<'t, K: Key + 'static, V: Value + 'static> = ReadOnlyTable<K, V>;

    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<ReadOnlyTable<K, V>, Error> {
        #[cfg(test)]
        super::faults::check_table(def.name())?;
        Ok(self.open_table(def)?)
    }
}

impl Reader for WriteTransaction {
    type Table<'t, K: Key + 'static, V: Value + 'static> = Table<'t, K, V>;

    fn table<'t, K: Key + 'static, V: Value + 'static>(
        &'t self,
        def: TableDefinition<K, V>,
    ) -> Result<Table<'t, K, V>, Error> {
        #[cfg(test)]
        super::faults::check_table(def.name())?;
        Ok(self.open_table(def)?)
    }
}

/// The id a `(scope, name) → id` index gives `name` in `scope`.
pub(super) fn id_by_name(
    tx: &impl Reader,
    index: TableDefinition<NameKey, u128>,
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
    table: TableDefinition<u128, i64>,
    id: Uuid,
) -> Result<Option<Timestamp>, Error> {
    let at = tx.table(table)?.get(id.as_u128())?.map(|v| v.value());
    Ok(at.and_then(|secs| Timestamp::from_timestamp(secs, 0)))
}

/// A value of the meta table.
pub(super) fn meta(tx: &impl Reader, key: &str) -> Result<Option<u64>, Error> {
    Ok(tx.table(tables::META)?.get(key)?.map(|v| v.value()))
}
