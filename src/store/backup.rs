//! Backups while serving, and restores with the server stopped.
//!
//! A backup copies every table as one read transaction sees them into a new redb file:
//! a consistent snapshot, taken without stopping writers. A restore checks a file (redb
//! integrity, schema version, every table readable) before it replaces the database.

use std::path::{Path, PathBuf};

use redb::{
    Database, DatabaseError, Key, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, Value, WriteTransaction,
};

use super::reader::{self, SCHEMA_VERSION_KEY};
use super::tables::{self, TableVisitor};
use super::{OpenError, SCHEMA_VERSION, Store};
use crate::error::Error;

struct Copy<'a> {
    from: &'a ReadTransaction,
    to: &'a WriteTransaction,
    rows: u64,
}

impl TableVisitor for Copy<'_> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<K, V>,
    ) -> Result<(), Error> {
        let source = self.from.open_table(def)?;
        let mut target = self.to.open_table(def)?;
        for entry in source.iter()? {
            let (key, value) = entry?;
            target.insert(key.value(), value.value())?;
            self.rows += 1;
        }
        Ok(())
    }
}

impl Store {
    /// Writes a consistent snapshot of the database to a new file at `to`; returns how
    /// many rows it holds.
    pub fn backup_to(&self, to: &Path) -> Result<u64, Error> {
        let snapshot = self.db.begin_read()?;
        let target = Database::create(to)?;
        let tx = target.begin_write()?;
        let mut copy = Copy {
            from: &snapshot,
            to: &tx,
            rows: 0,
        };
        tables::for_each_table(&mut copy)?;
        let rows = copy.rows;
        tx.commit()?;
        Ok(rows)
    }
}

/// Why a restore was refused.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{0} is not a usable keyhouse backup: {1}")]
    Unusable(PathBuf, String),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("cannot put the backup in place: {0}")]
    Io(#[from] std::io::Error),
}

struct Check<'a> {
    tx: &'a ReadTransaction,
}

impl TableVisitor for Check<'_> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<K, V>,
    ) -> Result<(), Error> {
        for entry in self.tx.open_table(def)?.iter()? {
            entry?;
        }
        Ok(())
    }
}

/// Checks the backup `from` and puts it in place of `db`, which no server may hold. The
/// file is copied beside `db` first and renamed over it, so `db` is never half written.
pub fn restore(from: &Path, db: &Path) -> Result<(), RestoreError> {
    let unusable = |reason: String| RestoreError::Unusable(from.to_owned(), reason);
    if db.exists() {
        // Fails with a clear message if a server holds the database.
        drop(Store::open(db)?);
    }
    let staged = db.with_extension("restoring");
    std::fs::copy(from, &staged)?;
    let checked = (|| -> Result<(), String> {
        let mut file = match Database::open(&staged) {
            Ok(file) => file,
            Err(DatabaseError::DatabaseAlreadyOpen) => return Err("it is in use".to_owned()),
            Err(err) => return Err(err.to_string()),
        };
        if !file.check_integrity().map_err(|e| e.to_string())? {
            return Err("redb's integrity check repaired it; use another backup".to_owned());
        }
        let tx = file.begin_read().map_err(|e| e.to_string())?;
        match reader::meta(&tx, SCHEMA_VERSION_KEY).map_err(|e| format!("{e:?}"))? {
            None => return Err("it has no keyhouse schema".to_owned()),
            Some(found) if found > SCHEMA_VERSION => {
                return Err(format!(
                    "its schema {found} is newer than this keyhouse supports ({SCHEMA_VERSION})"
                ));
            }
            Some(_) => {}
        }
        tables::for_each_table(&mut Check { tx: &tx })
            .map_err(|e| format!("a table cannot be read: {e:?}"))
    })();
    if let Err(reason) = checked {
        let _ = std::fs::remove_file(&staged);
        return Err(unusable(reason));
    }
    std::fs::rename(&staged, db)?;
    Ok(())
}
