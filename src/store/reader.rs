//! Reads written once for both transaction kinds, as kanidm's `BackendTransaction` does.

use redb::{
    Key, ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition, Value,
    WriteTransaction,
};

use super::tables;
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
        Ok(self.open_table(def)?)
    }
}

impl Reader for WriteTransaction {
    type Table<'t, K: Key + 'static, V: Value + 'static> = Table<'t, K, V>;

    fn table<'t, K: Key + 'static, V: Value + 'static>(
        &'t self,
        def: TableDefinition<K, V>,
    ) -> Result<Table<'t, K, V>, Error> {
        Ok(self.open_table(def)?)
    }
}

/// A value of the meta table.
pub(super) fn meta(tx: &impl Reader, key: &str) -> Result<Option<u64>, Error> {
    Ok(tx.table(tables::META)?.get(key)?.map(|v| v.value()))
}
