//! Opening the database file: created 0600, checked whole before anything is served, and
//! every way it can fail (including a panic of redb on a damaged file) told in words for
//! the operator.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use redb::backends::FileBackend;
use redb::{Database, DatabaseError};

use super::{OpenOptions, SCHEMA_VERSION, files};
use crate::error::Error;

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
    #[error("cannot use the database {path} with storage.key_file: {reason}")]
    KeyFile { path: PathBuf, reason: String },
}

/// The text of a caught panic.
pub(super) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Runs `f`, turning a panic (redb asserts on some damaged pages) into an error.
pub(super) fn unpanicked<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(Error::internal(format!(
            "the database failed while reading: {}",
            panic_text(payload.as_ref())
        )))
    })
}

/// Opens `path`. After an unclean shutdown redb recovers the file and verifies every
/// page's checksum as it does; with `check_integrity` it does so after a clean one too,
/// so a file damaged at rest is an error here and not a panic or altered data later.
/// A panic of redb on a damaged file is an error too.
pub(super) fn open_database(path: &Path, options: OpenOptions) -> Result<Database, OpenError> {
    let created = files::create_database_file(path).map_err(|source| OpenError::Create {
        path: path.to_owned(),
        source,
    })?;
    let opened = catch_unwind(AssertUnwindSafe(|| {
        let mut builder = Database::builder();
        builder
            .set_cache_size(options.cache_bytes)
            .set_check_integrity_on_open(options.check_integrity);
        match created {
            Some(file) => builder.create_with_backend(FileBackend::new(file)?),
            None => builder.create(path),
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
