//! The embedded engine: one redb file. Everything that names redb is in this folder:
//! the tables' redb types (`tables`, `native`), its transactions at the seam
//! (`transactions`), the writer that shares one durable commit among the writes that
//! arrive together (`group_commit`), opening and migrating the file (`open`,
//! `migrate`), backups and restores (`backup`), and redb's errors (`errors`).

mod backup;
mod errors;
mod group_commit;
mod migrate;
mod native;
mod open;
mod tables;
mod transactions;

pub use backup::{RestoreError, restore};
pub(super) use backup::{Staged, snapshot};
pub use open::OpenError;

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use prometheus_client::metrics::counter::Counter;
use redb::{Database, ReadableDatabase};

use group_commit::GroupCommit;
use transactions::RedbRead;

use super::OpenOptions;
use super::claims::Claims;
use super::damage::{panic_text, unpanicked};
use super::engine::{Answer, ChangeHook, Checked, Engine, Job, ReadJob};
use super::integrity::Health;
use super::kv::ReadTx;
use crate::error::Error;

/// The open file, shared by every clone of the store that holds it.
pub(super) struct Redb {
    /// Runs the writes, one transaction and one fsync for all that arrive together.
    /// Dropped first: it stops the writer thread, which holds the database too.
    commits: GroupCommit,
    /// Shared by every transaction; taken exclusively only by the integrity check,
    /// which redb runs with no transaction alive.
    db: Arc<RwLock<Database>>,
    path: PathBuf,
    /// Dropped after `db` (fields drop in order), so it tells that the file is closed
    /// and its lock released, not merely that the last clone is going.
    closed: Closed,
    /// One-time uses: in memory, since no other process opens the file.
    claims: Mutex<Claims>,
}

impl Redb {
    /// Opens or creates the file `path` (0600), refusing a newer schema or a damaged
    /// file, migrating an older one, and starts the writer: `writes` counts its
    /// committed writes, `health` hears of every failure.
    pub(super) fn open(
        path: &Path,
        options: &OpenOptions,
        writes: Counter,
        health: Arc<Health>,
    ) -> Result<Redb, OpenError> {
        let db = open::open_database(path, options.clone())?;
        open::prepare(&db, path)?;
        let db = Arc::new(RwLock::new(db));
        let commits =
            GroupCommit::start(db.clone(), writes, health).map_err(|err| OpenError::Prepare {
                path: path.to_owned(),
                source: Error::internal(format!("cannot start the writer thread: {err}")),
            })?;
        Ok(Redb {
            commits,
            db,
            path: path.to_owned(),
            closed: Closed::default(),
            claims: Mutex::default(),
        })
    }
}

/// Runs `read` on the file `path` as it is, opened by redb alone: for tests that look
/// at a file before the store opens (and changes) it.
#[cfg(test)]
pub(in crate::store) fn read_file<T>(path: &Path, read: impl FnOnce(&ReadTx) -> T) -> T {
    let file = Database::open(path).expect("the file opens");
    let tx = RedbRead::new(file.begin_read().expect("a read begins"));
    read(&ReadTx(&tx))
}

/// Set when dropped.
#[derive(Default)]
struct Closed(Arc<AtomicBool>);

impl Drop for Closed {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The message of a check that found the file unclean and repaired it.
const REPAIRED: &str = "the file was not clean and redb repaired it, possibly by going back \
     to the commit before a damaged one; check the data and restore a backup if something \
     is missing";

impl Engine for Redb {
    /// Runs `job` at once, on the caller's thread: a read of redb's pages, held in its
    /// cache or the kernel's, takes microseconds and waits on no network.
    fn read(&self, job: Box<dyn ReadJob>) {
        let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
        match unpanicked(|| Ok(db.begin_read()?)) {
            Ok(tx) => job.run(Ok(&ReadTx(&RedbRead::new(tx)))),
            Err(err) => job.run(Err(err)),
        }
    }

    #[cfg(test)]
    fn read_here(
        &self,
        body: &mut dyn FnMut(&ReadTx<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
        body(&ReadTx(&RedbRead::new(db.begin_read()?)))
    }

    fn claim(&self, key: Vec<u8>, expires: i64, now: i64) -> Answer<bool> {
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        Answer::ready(Ok(claims.first_use(&key, expires, now)))
    }

    fn write(&self, job: Box<dyn Job>) {
        self.commits.write(job);
    }

    /// The file is locked by this process: nothing else changes it.
    fn watch(&self, _hook: ChangeHook) {}

    fn durable_commits(&self) -> Counter {
        self.commits.durable.clone()
    }

    fn closed(&self) -> Arc<AtomicBool> {
        self.closed.0.clone()
    }

    fn size(&self) -> Answer<u64> {
        Answer::ready(
            std::fs::metadata(&self.path)
                .map(|m| m.len())
                .map_err(Error::from),
        )
    }

    fn check(&self, answered: &mut dyn FnMut()) -> Checked {
        let mut db = self.db.write().unwrap_or_else(PoisonError::into_inner);
        let outcome = catch_unwind(AssertUnwindSafe(|| db.check_integrity()));
        answered();
        drop(db);
        match outcome {
            Ok(Ok(true)) => Checked::Sound,
            // Not a pass: redb found the file unclean and repaired it, which may mean it
            // went back to the commit before a damaged one, losing that commit.
            Ok(Ok(false)) => Checked::Repaired(REPAIRED.to_owned()),
            Ok(Err(err)) => Checked::Failed(err.to_string()),
            Err(payload) => Checked::Failed(panic_text(payload.as_ref())),
        }
    }

    fn backup(&self) -> Result<(File, u64), Error> {
        let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
        backup::backup(&db, &self.path)
    }
}
