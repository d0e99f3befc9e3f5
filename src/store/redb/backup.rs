//! Backups while serving, and restores with the server stopped.
//!
//! A backup copies every table as one read transaction sees them into a new redb file:
//! a consistent snapshot, taken without stopping writers. A restore checks a file (redb
//! integrity, schema version, every table readable) before it replaces the database.
//! Both stage their file beside the database, created 0600 and new (see `files`).

use std::collections::HashSet;
use std::fs::File;
use std::io::Seek;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use redb::backends::FileBackend;
use redb::{Database, DatabaseError, ReadTransaction, ReadableDatabase, TableHandle};

use super::OpenError;
use super::tables::{open_read, open_write};
use super::transactions::RedbRead;
use crate::error::Error;
use crate::store::damage::panic_text;
use crate::store::kv::{KvRead, ReadTx};
use crate::store::reader::{self, SCHEMA_VERSION_KEY};
use crate::store::tables::TableId;
use crate::store::{SCHEMA_VERSION, files};

/// Copies every table as `source` sees it into `to`, a new empty file; returns how
/// many rows it holds. The source is any engine's snapshot: the redb file is the
/// portable form of a backup.
fn copy_into(source: &dyn KvRead, to: File) -> Result<u64, Error> {
    let target = Database::builder().create_with_backend(FileBackend::new(to)?)?;
    let tx = target.begin_write()?;
    let mut rows = 0;
    for &table in TableId::ALL {
        let mut copy = open_write(&tx, table)?;
        for entry in source.range(table, Bound::Unbounded, Bound::Unbounded)? {
            let (key, value) = entry?;
            copy.insert(&key, &value)?;
            rows += 1;
        }
    }
    tx.commit()?;
    Ok(rows)
}

/// A consistent snapshot of `db` (the file `path`) as an open file at its start, with
/// its size.
pub(super) fn backup(db: &Database, path: &Path) -> Result<(File, u64), Error> {
    snapshot(&RedbRead::new(db.begin_read()?), path)
}

/// The snapshot `source` as a new redb file, open at its start, with its size. It is
/// staged beside `beside`, 0600, and its name is gone before this returns.
pub(in crate::store) fn snapshot(source: &dyn KvRead, beside: &Path) -> Result<(File, u64), Error> {
    let staged = files::staging_path(beside, "backup");
    let file = files::create_private(&staged)?;
    let taken = file.try_clone().map_err(Error::from).and_then(|copy| {
        copy_into(source, copy)?;
        let mut file = file;
        file.rewind()?;
        let size = file.metadata()?.len();
        Ok((file, size))
    });
    // The open file stays readable; the name goes at once, whatever happened.
    let _ = std::fs::remove_file(&staged);
    taken
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
    #[error("cannot copy the backup into {0}: {1}")]
    Copy(String, String),
}

/// Reads every entry of every table `tx` holds. A table a later release added is
/// missing from the backup of an earlier one: the store creates it when it opens the
/// restored file.
fn read_all(tx: &ReadTransaction) -> Result<(), Error> {
    let held: HashSet<String> = tx.list_tables()?.map(|t| t.name().to_owned()).collect();
    for &table in TableId::ALL {
        if held.contains(table.name()) {
            for entry in open_read(tx, table)?.range(Bound::Unbounded, Bound::Unbounded)? {
                entry?;
            }
        }
    }
    Ok(())
}

/// Refuses a database file that a server holds. The file itself may be damaged (that is
/// why it is being restored), so anything but "in use" lets the restore go on.
fn refuse_in_use(db: &Path) -> Result<(), OpenError> {
    let opened = catch_unwind(|| Database::builder().open_read_only(db));
    match opened {
        Ok(Err(DatabaseError::DatabaseAlreadyOpen)) => Err(OpenError::InUse(db.to_owned())),
        _ => Ok(()),
    }
}

/// Checks the backup `from` and puts it in place of `db`, which no server may hold. The
/// file is copied beside `db` first (0600) and renamed over it, so `db` is never half
/// written and never readable by other users.
pub fn restore(from: &Path, db: &Path) -> Result<(), RestoreError> {
    if db.exists() {
        refuse_in_use(db)?;
    }
    let staged = files::staging_path(db, "restoring");
    stage(from, &staged)?;
    std::fs::rename(&staged, db)?;
    Ok(())
}

/// A checked copy of a backup, in the temporary directory, removed when dropped: the
/// source of a restore into a database on a server.
pub(in crate::store) struct Staged(PathBuf);

impl Staged {
    /// Copies the backup `from` and checks the copy as [`restore`] does.
    pub(in crate::store) fn new(from: &Path) -> Result<Staged, RestoreError> {
        let beside = std::env::temp_dir().join("keyhouse-restore");
        let staged = files::staging_path(&beside, "restoring");
        stage(from, &staged)?;
        Ok(Staged(staged))
    }

    pub(in crate::store) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Copies the backup `from` to `staged` (0600) and checks the copy: nothing is left at
/// `staged` unless it passed.
fn stage(from: &Path, staged: &Path) -> Result<(), RestoreError> {
    let unusable = |reason: String| RestoreError::Unusable(from.to_owned(), reason);
    let copied = files::create_private(staged).and_then(|mut to| {
        let mut source = File::open(from)?;
        std::io::copy(&mut source, &mut to)?;
        to.sync_all()
    });
    if let Err(err) = copied {
        let _ = std::fs::remove_file(staged);
        return Err(err.into());
    }
    let checked = catch_unwind(AssertUnwindSafe(|| check_backup(staged)))
        .unwrap_or_else(|payload| Err(panic_text(payload.as_ref())));
    if let Err(reason) = checked {
        let _ = std::fs::remove_file(staged);
        return Err(unusable(reason));
    }
    Ok(())
}

/// redb's integrity check, the schema version and every table readable.
fn check_backup(staged: &Path) -> Result<(), String> {
    let mut file = match Database::open(staged) {
        Ok(file) => file,
        Err(DatabaseError::DatabaseAlreadyOpen) => return Err("it is in use".to_owned()),
        Err(err) => return Err(err.to_string()),
    };
    if !file.check_integrity().map_err(|e| e.to_string())? {
        return Err("redb's integrity check repaired it; use another backup".to_owned());
    }
    let read = RedbRead::new(file.begin_read().map_err(|e| e.to_string())?);
    match reader::meta(&ReadTx(&read), SCHEMA_VERSION_KEY).map_err(|e| format!("{e:?}"))? {
        None => return Err("it has no keyhouse schema".to_owned()),
        Some(found) if found > SCHEMA_VERSION => {
            return Err(format!(
                "its schema {found} is newer than this keyhouse supports ({SCHEMA_VERSION})"
            ));
        }
        Some(_) => {}
    }
    read_all(read.transaction()).map_err(|e| format!("a table cannot be read: {e:?}"))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;
    use crate::store::{Store, tables};

    fn mode(meta: &std::fs::Metadata) -> u32 {
        meta.permissions().mode() & 0o777
    }

    #[test]
    fn a_new_database_a_backup_and_a_restore_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.redb");
        let store = Store::open(&db).unwrap();
        assert_eq!(mode(&std::fs::metadata(&db).unwrap()), 0o600);
        store
            .write(|tx| {
                tx.write(tables::META)?
                    .insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
                Ok(())
            })
            .wait()
            .unwrap();

        let (mut file, size) = store.backup().unwrap();
        let staged = file.metadata().unwrap();
        assert_eq!(mode(&staged), 0o600, "the staging file");
        assert_eq!(staged.nlink(), 0, "its name is gone");
        assert!(size > 0);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "nothing left beside the database");
        let saved = dir.path().join("saved.redb");
        std::io::copy(&mut file, &mut std::fs::File::create(&saved).unwrap()).unwrap();
        drop(store);

        // Over a database another user could read, the restored file is 0600.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        restore(&saved, &db).unwrap();
        assert_eq!(mode(&std::fs::metadata(&db).unwrap()), 0o600);
        let fresh = dir.path().join("fresh.redb");
        restore(&saved, &fresh).unwrap();
        assert_eq!(mode(&std::fs::metadata(&fresh).unwrap()), 0o600);
    }
}
