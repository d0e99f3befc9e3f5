//! Reads written once for both transaction kinds, as kanidm's `BackendTransaction` does.

use uuid::Uuid;

pub(super) use super::kv::Reader;
use super::tables::{self, KnownTable, NameKey};
use crate::domain::{Scope, Timestamp};
use crate::error::Error;

pub(super) const SCHEMA_VERSION_KEY: &str = "schema_version";
pub(super) const CREATED_AT_KEY: &str = "created_at";

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
