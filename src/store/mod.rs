//! The store. `Store` has one method per use case, each in exactly one transaction;
//! the typed functions of the rows take that transaction. Below the rows is the seam
//! (`kv`), an ordered key-value store of bytes that an engine implements: redb's is in
//! `redb/`, and nothing else names it. Nothing outside this module names a table or
//! holds the database.

mod auth_cache;
mod bootstrap;
mod cases;
mod claims;
mod codec;
mod copy;
mod damage;
mod engine;
#[cfg(test)]
pub mod faults;
mod files;
mod integrity;
mod integrity_timer;
mod kv;
mod paging;
mod postgres;
mod principals;
mod reader;
mod records;
mod redb;
mod rows;
mod seal;
mod tables;
#[cfg(test)]
mod test_objects;
mod tokens;
mod transaction;
mod verify;
mod watch;

pub use self::postgres::PostgresOptions;
pub use self::redb::{OpenError, RestoreError, restore};
pub use bootstrap::Recovery;
pub use copy::{Copied, restore_at};
#[cfg(test)]
pub use engine::Blocking;
pub use engine::{Answer, block_on};
pub use integrity::IntegrityReport;
pub use integrity_timer::IntegrityTimer;
pub use seal::{KeyFileError, SealKey, resolve as resolve_key_file};
pub use verify::Verified;

use transaction::Tx;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

use self::postgres::Postgres;
use self::redb::Redb;
use auth_cache::AuthCache;
use damage::unpanicked;
use engine::Engine;
use kv::{ReadTx, Reader};
use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::{AccountDetails, ActorRef, Credential, Principal, Scope, Timestamp};
use crate::error::Error;

/// The schema this keyhouse writes. A file with a newer one is refused at open, one with
/// an older one is migrated (`migrate`). 2: records with versions, no side tables.
pub const SCHEMA_VERSION: u64 = 2;

/// How the database file is opened: the `storage.*` settings, and the server's clock.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Pages the embedded engine keeps in memory; the rest is read from the file (and
    /// the kernel's page cache) on demand.
    pub cache_bytes: usize,
    /// Verify every page's checksum before serving, even after a clean shutdown. After
    /// an unclean one the engine verifies every page while it recovers, whatever this
    /// says.
    pub check_integrity: bool,
    /// The time of a check at open and of damage met while serving.
    pub clock: Clock,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            cache_bytes: DEFAULT_CACHE_MIB as usize * 1024 * 1024,
            check_integrity: false,
            clock: Clock::system(),
        }
    }
}

/// The default of `storage.cache_size_mib`.
pub const DEFAULT_CACHE_MIB: u64 = 6;

/// Who is writing, when, and for which request: every write carries it into its audit
/// event and its scope-down check.
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub now: Timestamp,
    pub actor: ActorRef,
    pub request_id: String,
    /// The calling account, whose roles and permissions, re-read in the transaction,
    /// bound what it may grant and act on; `None` for keyhouse itself (bootstrap, the
    /// command line).
    pub grantor: Option<Grantor>,
    /// The scope the request acts in; a change made in a project is listed in its
    /// audit trail.
    pub scope: Scope,
}

#[derive(Debug, Clone)]
pub struct Grantor {
    pub account_id: Uuid,
    /// The scope of the access token the caller used, which narrows what it may grant
    /// and act on; `None` for a credential of the account itself.
    pub scope: Option<Vec<String>>,
}

impl WriteContext {
    /// A write by keyhouse itself, e.g. at bootstrap.
    pub fn system(now: Timestamp, actor: &str) -> WriteContext {
        WriteContext {
            now,
            actor: ActorRef::system(actor),
            request_id: Uuid::new_v4().to_string(),
            grantor: None,
            scope: Scope::Root,
        }
    }
}

/// A secret's account and credential, as authenticated.
type Authenticated = (Arc<Principal>, Arc<Credential>);

/// An account's details, with the next moment one of its credentials expires.
type MeDetails = (Arc<AccountDetails>, Option<Timestamp>);

/// Where the data is: the embedded engine's file, or a PostgreSQL database.
#[derive(Debug, Clone)]
pub enum Location {
    File(PathBuf),
    Postgres(PostgresOptions),
}

/// Where the data is, as the operator's messages show it: never a password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => path.display().fmt(f),
            Location::Postgres(options) => f.write_str(&options.location()),
        }
    }
}

#[derive(Clone)]
pub struct Store {
    /// The engine, shared by every clone.
    engine: Arc<dyn Engine>,
    /// Where the database is, for the operator's messages.
    path: PathBuf,
    /// Seals the signing keys' private halves: `storage.key_file`.
    seal_key: Option<Arc<SealKey>>,
    /// File-mode warnings, damage met while serving and the last integrity check.
    health: Arc<integrity::Health>,
    /// Committed writes (each request's, whether or not it shared a transaction), for
    /// `/metrics` and for tests of batching; also the generation that stales the
    /// authentication caches.
    writes: Counter,
    /// Principals and credentials by secret hash.
    secrets: Arc<AuthCache<[u8; 32], Authenticated>>,
    /// Principals by account id, for access tokens.
    subjects: Arc<AuthCache<Uuid, Arc<Principal>>>,
    /// What `/me` shows, by account id, with the next moment one of its credentials
    /// expires (when the active count changes without a write).
    details: Arc<AuthCache<Uuid, MeDetails>>,
}

/// Names the database only: a store's caches and engine are not for a log.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens or creates the database file (0600) and its tables, refusing a newer schema
    /// or a damaged file. The signing keys are left as they are, sealed or not.
    pub fn open(path: &Path) -> Result<Store, OpenError> {
        Store::open_location(&Location::File(path.to_owned()))
    }

    /// As [`Store::open`], at `location`: a file or a PostgreSQL database.
    pub fn open_location(location: &Location) -> Result<Store, OpenError> {
        Store::open_inner(location, None, OpenOptions::default())
    }

    /// As [`Store::open`], for serving: with `seal_key` every signing key must open with
    /// it and unsealed ones are sealed; without it, sealed keys refuse the start.
    pub fn open_with(
        path: &Path,
        seal_key: Option<SealKey>,
        options: OpenOptions,
    ) -> Result<Store, OpenError> {
        Store::open_at(&Location::File(path.to_owned()), seal_key, options)
    }

    /// As [`Store::open_with`], at `location`: a file or a PostgreSQL database.
    pub fn open_at(
        location: &Location,
        seal_key: Option<SealKey>,
        options: OpenOptions,
    ) -> Result<Store, OpenError> {
        let store = Store::open_inner(location, seal_key.map(Arc::new), options)?;
        store.check_sealing(store.seal_key.as_deref())?;
        Ok(store)
    }

    fn open_inner(
        location: &Location,
        seal_key: Option<Arc<SealKey>>,
        options: OpenOptions,
    ) -> Result<Store, OpenError> {
        let seal_warnings = seal_key
            .iter()
            .flat_map(|key| key.warnings().iter().cloned());
        let (path, mut warnings) = match location {
            Location::File(path) => (
                path.clone(),
                files::mode_warnings("the database file", path),
            ),
            Location::Postgres(postgres) => (PathBuf::from(postgres.location()), Vec::new()),
        };
        warnings.extend(seal_warnings);
        let path = path.as_path();
        let health = Arc::new(integrity::Health::new(warnings, options.clock.clone()));
        let writes = Counter::default();
        let engine: Arc<dyn Engine> = match location {
            Location::File(path) => {
                Arc::new(Redb::open(path, &options, writes.clone(), health.clone())?)
            }
            Location::Postgres(postgres) => {
                Arc::new(Postgres::open(postgres, writes.clone(), health.clone())?)
            }
        };
        for warning in health.file_warnings() {
            log::warn!("{warning}");
        }
        let store = Store {
            engine,
            path: path.to_owned(),
            seal_key,
            health,
            writes,
            secrets: Arc::new(AuthCache::new()),
            subjects: Arc::new(AuthCache::new()),
            details: Arc::new(AuthCache::new()),
        };
        let prepare = |source| OpenError::Prepare {
            path: path.to_owned(),
            source,
        };
        store
            .write(move |tx| {
                rows::counts::ensure(tx)?;
                rows::postings::ensure(tx)?;
                if options.check_integrity {
                    integrity::record_pass(tx, options.clock.now())?;
                }
                Ok(())
            })
            .wait()
            .map_err(prepare)?;
        Ok(store)
    }

    /// Runs `f` in a write transaction and commits it; an error rolls back all `f`
    /// wrote, and so does a panic, which becomes an error. The answer comes once the
    /// commit is durable. Concurrent writes share a transaction and its commit (see
    /// `group_commit`), so `f` may run more than once: only its last run counts. `f`
    /// runs on the writer's thread, so it owns what it uses: a use case clones its
    /// borrowed arguments into it.
    fn write<T: Send + 'static>(
        &self,
        f: impl FnMut(&Tx) -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        #[cfg(test)]
        let f = faults::checked_write(&self.path, f);
        let (job, answer) = engine::job(f);
        self.engine.write(job);
        answer
    }

    /// [`Store::write`] for a use case acting in `scope`, which `f` is given: a project
    /// that does not exist (or was deleted meanwhile) is 404, checked in the same
    /// transaction.
    fn write_in<T: Send + 'static>(
        &self,
        scope: &Scope,
        mut f: impl FnMut(&Tx, &Scope) -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        let scope = scope.clone();
        self.write(move |tx| {
            rows::projects::require_scope(tx, &scope)?;
            f(tx, &scope)
        })
    }

    /// [`Store::read`] for a use case acting in `scope`, as [`Store::write_in`].
    fn read_in<T: Send + 'static>(
        &self,
        scope: &Scope,
        f: impl FnOnce(&ReadTx, &Scope) -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        let scope = scope.clone();
        self.read(move |tx| {
            rows::projects::require_scope(tx, &scope)?;
            f(tx, &scope)
        })
    }

    /// The generation of what a read started now sees: the count of commits so far.
    fn generation(&self) -> u64 {
        self.writes.get()
    }

    /// Runs `f` on one consistent snapshot; a panic becomes an error. An error that
    /// tells of damage is noted before the snapshot ends, so before any check that
    /// could answer it begins. The engine may run `f` on another thread, so `f` owns
    /// what it uses, as a write does.
    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ReadTx) -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        let health = self.health.clone();
        #[cfg(test)]
        let path = self.path.clone();
        let (job, answer) = engine::read_job(move |tx| {
            #[cfg(test)]
            faults::check(&path)?;
            let read = tx.and_then(|tx| unpanicked(|| f(tx)));
            if let Err(err) = &read {
                health.note(err);
            }
            read
        });
        self.engine.read(job);
        answer
    }

    /// [`Store::read`] on this thread, for tests whose reads borrow what they check.
    #[cfg(test)]
    fn read_here<T>(&self, f: impl FnOnce(&ReadTx) -> Result<T, Error>) -> Result<T, Error> {
        let (mut f, mut value) = (Some(f), None);
        self.engine.read_here(&mut |tx| {
            let f = f
                .take()
                .ok_or_else(|| Error::internal("a read ran twice"))?;
            value = Some(f(tx)?);
            Ok(())
        })?;
        value.ok_or_else(|| Error::internal("a read did not run"))
    }

    /// The count of committed writes.
    pub fn write_counter(&self) -> Counter {
        self.writes.clone()
    }

    /// The count of durable commits, each shared by the writes that waited for it.
    pub fn durable_commit_counter(&self) -> Counter {
        self.engine.durable_commits()
    }

    /// A watch that tells when every clone of this store is gone, and so the file closed.
    pub fn close_watch(&self) -> CloseWatch {
        CloseWatch(self.engine.closed())
    }

    /// How many objects of each kind are stored.
    pub fn object_counts(&self) -> Answer<Vec<(&'static str, u64)>> {
        self.read(|tx| {
            Ok(vec![
                ("service_account", tx.table(tables::ACCOUNTS)?.len()?),
                ("group", tx.table(tables::GROUPS)?.len()?),
                ("role", tx.table(tables::ROLES)?.len()?),
                ("credential", tx.table(tables::CREDENTIALS)?.len()?),
                ("audit_event", tx.table(tables::AUDIT)?.len()?),
            ])
        })
    }

    /// Where the database is, for the operator's messages: the file, or the database
    /// server without user or password.
    pub fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// The bytes the database takes: its file, or its tables on a database server.
    pub fn file_size(&self) -> Answer<u64> {
        self.engine.size()
    }

    /// A consistent snapshot as an open file at its start, with its size: a new file
    /// of the embedded engine, whose name is gone before this returns.
    pub fn backup(&self) -> Result<(File, u64), Error> {
        let taken = unpanicked(|| self.engine.backup());
        if let Err(err) = &taken {
            self.health.note(err);
        }
        taken
    }

    /// The readiness probe: whether the database answers a read, and no damage met
    /// while serving or failed integrity check stands against it.
    pub async fn is_ready(&self) -> bool {
        self.readiness().await.0
    }

    /// Whether the store is ready, and what an operator should act on: the warnings,
    /// and a database that does not answer a read (its cause goes to the log only, as
    /// the probe needs no token).
    pub async fn readiness(&self) -> (bool, Vec<String>) {
        let answered = self
            .read(|tx| reader::meta(tx, reader::SCHEMA_VERSION_KEY))
            .await;
        let mut warnings = self.warnings();
        if let Err(err) = &answered {
            log::warn!(
                "the database {} did not answer a read: {err:?}",
                self.location()
            );
            warnings.push(format!(
                "the database {} does not answer reads (the log has the cause)",
                self.location()
            ));
        }
        let ready =
            answered.is_ok() && self.damage_met().is_none() && self.last_failed_check().is_none();
        (ready, warnings)
    }
}

/// See [`Store::close_watch`].
pub struct CloseWatch(Arc<AtomicBool>);

impl CloseWatch {
    /// Waits up to `timeout` for the database to close; whether it did.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.0.load(Ordering::Acquire) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking;

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let store = Store::open(&path).unwrap();
        store
            .write(|tx| {
                tx.write(tables::META)?
                    .insert(reader::SCHEMA_VERSION_KEY, SCHEMA_VERSION + 1)?;
                Ok(())
            })
            .wait()
            .unwrap();
        drop(store);
        let err = Store::open(&path).err().unwrap();
        assert!(
            matches!(err, OpenError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
            "{err}"
        );
        assert!(err.to_string().contains("newer"));
    }

    /// A panic is an error, and as it may be redb's on a damaged page, the store is not
    /// ready until a check passes; it goes on serving meanwhile.
    #[test]
    fn a_panic_in_a_store_operation_is_an_error_and_the_store_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        let read: Result<(), Error> = store.read(|_| panic!("damaged page")).wait();
        let Err(Error::Internal(cause)) = read else {
            panic!("not an internal error")
        };
        assert!(cause.to_string().contains("damaged page"), "{cause}");
        assert!(!store.is_ready().block());
        assert!(store.warnings()[0].contains("a request met damage"));
        assert!(store.check_integrity(crate::clock::now()).ok);
        assert!(store.is_ready().block() && store.warnings().is_empty());
        assert!(
            store
                .write(|_| -> Result<(), Error> { panic!("x") })
                .wait()
                .is_err()
        );
        assert!(!store.is_ready().block(), "a write's panic too");
        assert!(store.object_counts().block().is_ok());
    }

    /// Damage found by redb, a stored value or an index is noted like a panic; other
    /// errors are not.
    #[test]
    fn only_errors_that_tell_of_damage_make_the_store_unready() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        let _ = store
            .read(|_| -> Result<(), Error> { Err(Error::internal("disk full")) })
            .wait();
        let _ = store
            .read(|_| -> Result<(), Error> { Err(Error::StaleEtag) })
            .wait();
        assert!(store.is_ready().block());
        let _ = store
            .read(|_| -> Result<(), Error> { Err(damage::damaged("bad page")) })
            .wait();
        assert!(!store.is_ready().block());
        assert!(store.check_integrity(crate::clock::now()).ok);
        let _ = store
            .write(|_| records::decode::<records::RoleRecord, crate::domain::Role>(&[9]))
            .wait();
        assert!(!store.is_ready().block(), "a write that meets damage");
    }

    #[test]
    fn a_file_in_use_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let _held = Store::open(&path).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, OpenError::InUse(_)), "{err}");
    }
}
