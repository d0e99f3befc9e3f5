//! Opening the database file: created 0600 when it does not exist, only opened when it
//! does (an existing file is never initialized, not even an empty one), checked whole
//! before anything is served when asked, and every way it can fail (including a panic of
//! redb on a damaged file) told in words for the operator.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use redb::backends::FileBackend;
use redb::{Database, DatabaseError, WriteTransaction};

use super::migrate;
use super::tables::open_write;
use super::transactions::RedbWrite;
use crate::error::Error;
use crate::store::damage::{panic_text, unpanicked};
use crate::store::kv::Reader;
use crate::store::reader::SCHEMA_VERSION_KEY;
use crate::store::tables::{self, TableId};
use crate::store::transaction::Tx;
use crate::store::{OpenOptions, SCHEMA_VERSION, files};

/// Why a database file could not be opened, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the database {0} is in use by another process (is keyhouse already running?)")]
    InUse(PathBuf),
    #[error(
        "the database {path} has schema version {found}, newer than this keyhouse supports \
         ({SCHEMA_VERSION}); run a newer keyhouse"
    )]
    NewerSchema { path: PathBuf, found: u64 },
    /// redb's reason as text: no redb type leaves the store.
    #[error("cannot open the database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("cannot prepare the database {path}: {source}")]
    Prepare {
        path: PathBuf,
        #[source]
        source: Error,
    },
    #[error("cannot create the database {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the database {path} is damaged and was not opened: {reason}; restore a backup \
         with `keyhouse restore`"
    )]
    Damaged { path: PathBuf, reason: String },
    /// An empty file where the database should be: a new installation is made only
    /// where no file is, so that a file emptied by accident never becomes one (with a
    /// new admin secret) unnoticed.
    #[error(
        "the database {} is an empty file, not a keyhouse database; to start a new \
         installation, delete it; to go on with your data, restore a backup over it with \
         `keyhouse restore --from BACKUP --db {}`",
        .0.display(),
        .0.display()
    )]
    Empty(PathBuf),
    #[error("cannot use the database {path} with storage.key_file: {reason}")]
    KeyFile { path: PathBuf, reason: String },
}

/// Opens `path`, or creates it when it does not exist; an empty file is refused. After
/// an unclean shutdown redb recovers the file and verifies every
/// page's checksum as it does; with `check_integrity` it does so after a clean one too,
/// so a file damaged at rest is an error here and not a panic or altered data later.
/// A panic of redb on a damaged file is an error too.
pub(super) fn open_database(path: &Path, options: OpenOptions) -> Result<Database, OpenError> {
    let created = files::create_database_file(path).map_err(|source| OpenError::Create {
        path: path.to_owned(),
        source,
    })?;
    if created.is_none() {
        let size = std::fs::metadata(path).map_err(|err| OpenError::Open {
            path: path.to_owned(),
            reason: err.to_string(),
        })?;
        if size.len() == 0 {
            return Err(OpenError::Empty(path.to_owned()));
        }
    }
    let opened = catch_unwind(AssertUnwindSafe(|| {
        let mut builder = Database::builder();
        builder
            .set_cache_size(options.cache_bytes)
            .set_check_integrity_on_open(options.check_integrity);
        match created {
            Some(file) => builder.create_with_backend(FileBackend::new(file)?),
            // `create` would initialize an empty file; `open` never writes a new one.
            None => builder.open(path),
        }
    }));
    let damaged = |reason: String| OpenError::Damaged {
        path: path.to_owned(),
        reason,
    };
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(DatabaseError::DatabaseAlreadyOpen)) => Err(OpenError::InUse(path.to_owned())),
        Ok(Err(DatabaseError::Storage(redb::StorageError::Corrupted(reason)))) => {
            Err(damaged(reason))
        }
        Ok(Err(source)) => Err(OpenError::Open {
            path: path.to_owned(),
            reason: source.to_string(),
        }),
        Err(payload) => Err(damaged(panic_text(payload.as_ref()))),
    }
}

/// Readies an opened file before the writer starts and anything is served: refuses a
/// newer schema (writing nothing), creates every table that does not exist yet, and
/// migrates an older schema (`migrate`). A new file has no schema yet: the first start
/// writes the current one.
pub(super) fn prepare(db: &Database, path: &Path) -> Result<(), OpenError> {
    let failed = |source| OpenError::Prepare {
        path: path.to_owned(),
        source,
    };
    let found = unpanicked(|| {
        let write = db.begin_write()?;
        let redb = RedbWrite::new(&write);
        let found = Tx::new(&redb)
            .table(tables::META)?
            .get(SCHEMA_VERSION_KEY)?
            .map(|v| v.value());
        drop(redb);
        if found.is_none_or(|v| v <= SCHEMA_VERSION) {
            create_tables(&write)?;
            write.commit()?;
        }
        Ok(found)
    })
    .map_err(failed)?;
    match found {
        Some(found) if found > SCHEMA_VERSION => Err(OpenError::NewerSchema {
            path: path.to_owned(),
            found,
        }),
        Some(found) if found < SCHEMA_VERSION => {
            unpanicked(|| migrate::run(db, found)).map_err(failed)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Creates every table that does not exist yet.
fn create_tables(write: &WriteTransaction) -> Result<(), Error> {
    for &table in TableId::ALL {
        open_write(write, table)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_refused_naming_it_and_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        std::fs::File::create(&path).unwrap();
        let err = open_database(&path, OpenOptions::default()).err().unwrap();
        assert!(matches!(err, OpenError::Empty(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("delete it") && text.contains("keyhouse restore"));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    fn a_file_that_is_no_database_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        for content in [&b"x"[..], b"not a database, but someone's notes\n"] {
            std::fs::write(&path, content).unwrap();
            let err = open_database(&path, OpenOptions::default()).err().unwrap();
            assert!(matches!(err, OpenError::Open { .. }), "{err}");
            assert_eq!(std::fs::read(&path).unwrap(), content);
        }
    }
}
