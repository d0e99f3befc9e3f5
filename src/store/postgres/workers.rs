//! The pool: `pool_size` threads, each with one connection, taking jobs from one queue.
//! A read runs in a `REPEATABLE READ, READ ONLY` transaction (one snapshot); a write in
//! a `SERIALIZABLE` one, so that a rule read in it holds against every node's writes,
//! and runs again when the database reports a conflict. A connection that broke is
//! dropped, and the next job connects anew (to whichever host takes writes now).

use std::cell::RefCell;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::{Client, IsolationLevel};
use prometheus_client::metrics::counter::Counter;

use super::PostgresOptions;
use super::connect::Connector;
use super::listen::Feed;
use super::schema::CLAIMS_TABLE;
use super::statements::Statements;
use super::transactions::{Failure, PgTx};
use crate::error::Error;
use crate::store::engine::{Answer, Job, ReadJob, answer_channel};
use crate::store::integrity::Health;
use crate::store::kv::ReadTx;
use crate::store::redb::snapshot;

/// How long a connection that could not be made is not tried again: the jobs meanwhile
/// fail at once (503), instead of each waiting out its own connection timeout.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a thread of the pool is given.
pub(super) enum Work {
    Read(Box<dyn ReadJob>),
    /// Anything else that needs a connection (the database's size, a backup).
    Call(Box<dyn FnOnce(&mut Connection) + Send>),
}

pub(super) struct Workers {
    /// The queues of the reads (and calls) and of the writes, until the store closes.
    queues: Mutex<Option<Queues>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Claims made so far (`claim`).
    claims: AtomicU64,
    /// For the crate's tests, which read on a connection of their own.
    #[cfg(test)]
    connector: Connector,
    #[cfg(test)]
    shared: Shared,
}

struct Queues {
    reads: Sender<Work>,
    writes: Sender<Box<dyn Job>>,
}

impl Workers {
    /// Starts the pool; `first` is a connection already made, for the first thread.
    /// One connection takes the writes, one after another, as redb's one writer does:
    /// the writes of one node then never conflict among themselves, only with other
    /// nodes' (and run again when they do). The others take the reads.
    pub(super) fn start(
        connector: Connector,
        first: Client,
        options: &PostgresOptions,
        shared: Shared,
    ) -> std::io::Result<Workers> {
        let (reads, read_jobs) = mpsc::channel::<Work>();
        let (writes_queue, write_jobs) = mpsc::channel::<Box<dyn Job>>();
        let mut write_jobs = Some(write_jobs);
        let read_jobs = Arc::new(Mutex::new(read_jobs));
        let mut first = Some(first);
        let mut threads = Vec::new();
        for number in 0..options.pool_size.max(2) {
            let mut connection = Connection::new(connector.clone(), first.take(), shared.clone());
            let name = format!("keyhouse-db-{number}");
            let thread = std::thread::Builder::new().name(name);
            // The first thread takes the writes; the others, the reads.
            threads.push(match write_jobs.take() {
                Some(jobs) => thread.spawn(move || connection.serve_writes(&jobs))?,
                None => {
                    let jobs = read_jobs.clone();
                    thread.spawn(move || connection.serve(&jobs))?
                }
            });
        }
        Ok(Workers {
            queues: Mutex::new(Some(Queues {
                reads,
                writes: writes_queue,
            })),
            threads: Mutex::new(threads),
            claims: AtomicU64::new(0),
            #[cfg(test)]
            connector,
            #[cfg(test)]
            shared,
        })
    }

    /// Queues a read or a call. With the queues gone (the store closing), the job is
    /// dropped and its caller hears that the engine stopped; so for a write.
    pub(super) fn send(&self, work: Work) {
        let queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queues) = queues.as_ref() {
            let _ = queues.reads.send(work);
        }
    }

    pub(super) fn write(&self, job: Box<dyn Job>) {
        let queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queues) = queues.as_ref() {
            let _ = queues.writes.send(job);
        }
    }

    /// Runs `call` on a connection of the pool: its answer.
    pub(super) fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        let (answer, answered) = answer_channel();
        self.send(Work::Call(Box::new(move |connection| {
            let _ = answer.send(call(connection));
        })));
        answered
    }

    /// Ends the queue and waits for every thread to finish its job.
    pub(super) fn stop(&self) {
        drop(
            self.queues
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in threads {
            let _ = thread.join();
        }
    }

    /// The bytes the tables take, as PostgreSQL counts them.
    pub(super) fn size(&self) -> Answer<u64> {
        self.call(|connection| {
            let row = connection.client()?.query_one(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'r' AND c.relname LIKE 'kh\\_%' \
                 AND n.nspname = current_schema()",
                &[],
            )?;
            let size: i64 = row.try_get(0)?;
            Ok(size.unsigned_abs())
        })
    }

    /// Claims `key` until `expires` in `kh_claims`, in one statement of its own: the
    /// claim is made unless a live one holds the key. Every 256th claim of a node also
    /// removes the expired ones.
    pub(super) fn claim(&self, key: Vec<u8>, expires: i64, now: i64) -> Answer<bool> {
        let prune = self
            .claims
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(256);
        self.call(move |connection| {
            let claimed = connection.claim(&key, expires, now, prune);
            if let Err(err) = &claimed {
                connection.shared.health.note(err);
            }
            claimed
        })
    }

    /// A backup: the redb file of one repeatable-read snapshot, staged in the
    /// temporary directory (the database has no file to stage it beside).
    pub(super) fn backup(&self) -> Answer<(File, u64)> {
        let beside = std::env::temp_dir().join("keyhouse-postgres");
        self.call(move |connection| {
            connection.client()?;
            connection.read_with(|tx| snapshot(tx.0, &beside))
        })
    }

    #[cfg(test)]
    pub(super) fn read_here(
        &self,
        body: &mut dyn FnMut(&ReadTx<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        // A test's read borrows what it checks: it runs here, on a connection of its own.
        let mut connection = Connection::new(self.connector.clone(), None, self.shared.clone());
        connection.client()?;
        connection.read_with(|tx| body(tx))
    }
}

/// One connection of the pool, with what it has prepared.
pub(super) struct Connection {
    connector: Connector,
    pub(super) client: Option<Client>,
    /// When the last attempt to connect failed, while no connection is made since.
    failed_at: Option<Instant>,
    pub(super) statements: RefCell<Statements>,
    pub(super) shared: Shared,
}

/// What every connection of a node's pool shares.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) writes: Counter,
    pub(super) durable: Counter,
    pub(super) health: Arc<Health>,
    /// This node, as its change notifications name it.
    pub(super) node: Arc<str>,
    /// How its writes are announced to other nodes.
    pub(super) feed: Feed,
}

impl Connection {
    fn new(connector: Connector, client: Option<Client>, shared: Shared) -> Connection {
        Connection {
            connector,
            client,
            failed_at: None,
            statements: RefCell::default(),
            shared,
        }
    }

    fn serve(&mut self, jobs: &Mutex<Receiver<Work>>) {
        loop {
            let work = {
                let jobs = jobs.lock().unwrap_or_else(PoisonError::into_inner);
                jobs.recv()
            };
            match work {
                Ok(Work::Read(job)) => self.read(job),
                Ok(Work::Call(call)) => call(self),
                Err(_) => return,
            }
        }
    }

    /// The connection, made anew if the last one broke.
    pub(super) fn client(&mut self) -> Result<&mut Client, Error> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = None;
            self.statements = RefCell::default();
            if self.failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
                return Err(Error::Unavailable(
                    "database: no connection (the last attempt failed just now)".into(),
                ));
            }
            match self.connector.connect() {
                Ok(client) => {
                    self.failed_at = None;
                    self.client = Some(client);
                }
                Err(err) => {
                    self.failed_at = Some(Instant::now());
                    return Err(err.into());
                }
            }
        }
        self.client
            .as_mut()
            .ok_or_else(|| Error::internal("database: no connection"))
    }

    fn claim(&mut self, key: &[u8], expires: i64, now: i64, prune: bool) -> Result<bool, Error> {
        let client = self.client()?;
        let ran = (|| {
            if prune {
                client.execute(
                    &format!("DELETE FROM {CLAIMS_TABLE} WHERE expires <= $1"),
                    &[&now],
                )?;
            }
            client.query_opt(
                &format!(
                    "INSERT INTO {CLAIMS_TABLE} (key, expires) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET expires = EXCLUDED.expires \
                     WHERE {CLAIMS_TABLE}.expires <= $3 RETURNING 1"
                ),
                &[&key, &expires, &now],
            )
        })();
        match ran {
            Ok(row) => Ok(row.is_some()),
            Err(err) => {
                self.after(Some(Failure::of(&err)));
                Err(err.into())
            }
        }
    }

    /// Forgets the connection after `failure`, if it says the connection is gone.
    pub(super) fn after(&mut self, failure: Option<Failure>) {
        if failure == Some(Failure::Unavailable) {
            self.client = None;
        }
    }

    /// Runs `f` on one snapshot.
    pub(super) fn read_with<T>(
        &mut self,
        f: impl FnOnce(&ReadTx<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut failure = None;
        let outcome = (|| {
            let Connection {
                client, statements, ..
            } = self;
            let client = match client.as_mut() {
                Some(client) if !client.is_closed() => client,
                _ => return Err(Error::internal("database: no connection")),
            };
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .inspect_err(|err| failure = Some(Failure::of(err)))?;
            let kv = PgTx::reading(tx, statements);
            let value = f(&ReadTx(&kv));
            failure = kv.failure();
            // A read-only transaction has nothing to keep: it ends either way.
            drop(kv);
            value
        })();
        self.after(failure);
        outcome
    }

    fn read(&mut self, job: Box<dyn ReadJob>) {
        if let Err(err) = self.client() {
            return job.run(Err(err));
        }
        let mut job = Some(job);
        let outcome = self.read_with(|tx| {
            if let Some(job) = job.take() {
                job.run(Ok(tx));
            }
            Ok(())
        });
        // The transaction could not begin: the job has not run, and hears why.
        if let (Err(err), Some(job)) = (outcome, job) {
            job.run(Err(err));
        }
    }
}
