//! A copy of a whole database into another, whatever their engines (`keyhouse migrate`,
//! and a restore into PostgreSQL): every table as one read transaction of the source
//! sees it, byte for byte (ids, etags, credential hashes, sealed signing keys, audit
//! events, counts), written in batches, then every table's count checked against the
//! source's. A target that holds data is refused unless forced, and cleared first.
//! A restore into a database on a server is such a copy, from a checked backup.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use super::kv::{Entry, KvRead};
use super::reader::{self, SCHEMA_VERSION_KEY};
use super::redb::{RestoreError, Staged, restore};
use super::tables::TableId;
use super::{Answer, Location, Store};
use crate::error::Error;

/// Entries written per transaction of the target.
const BATCH: usize = 5_000;

/// What a copy did: each table's name and its rows.
#[derive(Debug, Default)]
pub struct Copied {
    pub tables: Vec<(&'static str, u64)>,
}

impl Copied {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }
}

impl Store {
    /// Copies everything this store holds into `target`, reporting each table as it is
    /// done. `target` must be empty (no schema written: no first start) unless `force`.
    pub fn copy_into(
        &self,
        target: &Store,
        force: bool,
        progress: impl FnMut(&str, u64) + Send + 'static,
    ) -> Result<Copied, Error> {
        let held = target
            .read(|tx| reader::meta(tx, SCHEMA_VERSION_KEY))
            .wait()?
            .is_some();
        if held && !force {
            return Err(Error::FailedPrecondition(format!(
                "the target {} holds a keyhouse database; --force replaces it",
                target.location()
            )));
        }
        clear(target)?;
        let target = target.clone();
        let mut progress = progress;
        self.read(move |tx| {
            let mut copied = Copied::default();
            for &table in TableId::ALL {
                let rows = copy_table(tx.0, &target, table)?;
                let written = target.read(move |tx| tx.0.len(table)).wait()?;
                if written != rows {
                    return Err(Error::internal(format!(
                        "{}: copied {rows} rows but the target holds {written}",
                        table.name()
                    )));
                }
                progress(table.name(), rows);
                copied.tables.push((table.name(), rows));
            }
            Ok(copied)
        })
        .wait()
    }
}

/// Puts the backup `from` in place of what `to` holds, with no server using it: a file
/// as [`restore`] puts it; a database on a server by a copy of the checked backup that
/// replaces everything it holds, reporting each table as it is done.
pub fn restore_at(
    from: &Path,
    to: &Location,
    progress: impl FnMut(&str, u64) + Send + 'static,
) -> Result<(), RestoreError> {
    if let Location::File(db) = to {
        return restore(from, db);
    }
    let staged = Staged::new(from)?;
    let source = Store::open(staged.path())?;
    let target = Store::open_location(to)?;
    source
        .copy_into(&target, true, progress)
        .map_err(|err| RestoreError::Copy(to.to_string(), err.to_string()))?;
    Ok(())
}

/// Removes every entry of every table of `target`, a batch at a time.
fn clear(target: &Store) -> Result<(), Error> {
    for &table in TableId::ALL {
        loop {
            let keys = target
                .read(move |tx| {
                    let first = tx.0.range(table, Bound::Unbounded, Bound::Unbounded)?;
                    first
                        .take(BATCH)
                        .map(|e| e.map(|(k, _)| k))
                        .collect::<Result<Vec<_>, _>>()
                })
                .wait()?;
            if keys.is_empty() {
                break;
            }
            let keys = Arc::new(keys);
            target
                .write(move |tx| {
                    for key in keys.iter() {
                        tx.raw().remove(table, key)?;
                    }
                    Ok(())
                })
                .wait()?;
        }
    }
    Ok(())
}

/// Copies `table` from `source` into `target`; how many rows.
fn copy_table(source: &dyn KvRead, target: &Store, table: TableId) -> Result<u64, Error> {
    let mut rows = 0;
    let mut batch: Vec<Entry> = Vec::with_capacity(BATCH);
    let mut pending: Option<Answer<()>> = None;
    for entry in source.range(table, Bound::Unbounded, Bound::Unbounded)? {
        batch.push(entry?);
        if batch.len() == BATCH {
            rows += batch.len() as u64;
            if let Some(previous) = pending.take() {
                previous.wait()?;
            }
            pending = Some(write_batch(target, table, std::mem::take(&mut batch)));
        }
    }
    rows += batch.len() as u64;
    if let Some(previous) = pending.take() {
        previous.wait()?;
    }
    write_batch(target, table, batch).wait()?;
    Ok(rows)
}

/// Writes `entries` into `table` of `target` in one transaction (which may run more
/// than once: the entries are shared, not moved).
fn write_batch(target: &Store, table: TableId, entries: Vec<Entry>) -> Answer<()> {
    let entries = Arc::new(entries);
    target.write(move |tx| {
        for (key, value) in entries.iter() {
            tx.raw().insert(table, key, value)?;
        }
        Ok(())
    })
}
