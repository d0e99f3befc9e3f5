//! The server engine: a PostgreSQL database, which several keyhouse nodes can share.
//! Everything that names PostgreSQL is in this folder: the settings and the connection
//! (`connect`), the tables and their schema (`schema`), transactions at the seam
//! (`transactions`), the threads that run them (`workers`), and its errors (`errors`).
//!
//! The seam's transactions are synchronous (a read's rows are read one after another,
//! each deciding the next), so each connection lives on a thread of its own, which runs
//! one job at a time through the blocking client: the pool is the set of those threads,
//! fed by one queue. No thread of the async executor waits on the database.

mod connect;
mod errors;
mod listen;
mod pending;
mod read_ahead;
mod schema;
mod statements;
mod transactions;
mod workers;
mod writer;

pub use connect::PostgresOptions;

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use prometheus_client::metrics::counter::Counter;

use super::OpenError;
use super::engine::{Answer, ChangeHook, Checked, Engine, Job, ReadJob};
use super::integrity::Health;
use crate::error::Error;
use listen::{Feed, Listener};
use workers::{Shared, Work, Workers};

/// The shared database, reached through a pool of connections.
pub(super) struct Postgres {
    workers: Workers,
    listener: Listener,
    durable: Counter,
    closed: Arc<AtomicBool>,
}

impl Postgres {
    /// Connects, readies the schema (once, under an advisory lock, whichever node comes
    /// first; a newer schema is refused) and starts the pool: `writes` counts committed
    /// writes.
    pub(super) fn open(
        options: &PostgresOptions,
        writes: Counter,
        health: Arc<Health>,
    ) -> Result<Postgres, OpenError> {
        let connector = connect::Connector::new(options)?;
        // The blocking client runs a runtime of its own, which may not start on a thread
        // that drives one (a server opens its store from within actix's): the first
        // connection is made on a thread apart, as the pool's are.
        let first = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut client = connector.connect().map_err(|err| OpenError::Open {
                        path: options.location().into(),
                        // The client's errors name hosts and codes, never the
                        // connection string: no password reaches the message.
                        reason: err.to_string(),
                    })?;
                    schema::prepare(&mut client, options)?;
                    Ok(client)
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(OpenError::Open {
                        path: options.location().into(),
                        reason: "the connection's thread panicked".to_owned(),
                    })
                })
        });
        let client = first?;
        let durable = Counter::default();
        let threads = |err: std::io::Error| OpenError::Prepare {
            path: options.location().into(),
            source: Error::internal(format!("cannot start the database threads: {err}")),
        };
        // Names this node's notifications, which its own listener passes over: its
        // own writes already advance its write counter.
        let node: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
        let feed = match options.poll_changes {
            true => Feed::Poll,
            false => Feed::Listen,
        };
        let listener = Listener::start(connector.clone(), writes.clone(), node.clone(), feed)
            .map_err(threads)?;
        let shared = Shared {
            writes,
            durable: durable.clone(),
            health,
            node,
            feed,
        };
        let workers = Workers::start(connector, client, options, shared).map_err(threads)?;
        Ok(Postgres {
            workers,
            listener,
            durable,
            closed: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.listener.stop();
        self.workers.stop();
        self.closed.store(true, Ordering::Release);
    }
}

impl Engine for Postgres {
    /// Queues `job` for the next free connection.
    fn read(&self, job: Box<dyn ReadJob>) {
        self.workers.send(Work::Read(job));
    }

    #[cfg(test)]
    fn read_here(
        &self,
        body: &mut dyn FnMut(&super::kv::ReadTx<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.workers.read_here(body)
    }

    fn write(&self, job: Box<dyn Job>) {
        self.workers.write(job);
    }

    fn watch(&self, hook: ChangeHook) {
        self.listener.watch(hook);
    }

    fn durable_commits(&self) -> Counter {
        self.durable.clone()
    }

    fn closed(&self) -> Arc<AtomicBool> {
        self.closed.clone()
    }

    fn size(&self) -> Answer<u64> {
        self.workers.size()
    }

    fn claim(&self, key: Vec<u8>, expires: i64, now: i64) -> Answer<bool> {
        self.workers.claim(key, expires, now)
    }

    /// PostgreSQL checks its own pages (with data checksums, where the cluster has them
    /// on), and keyhouse has no file of its own to check. Whether the database answers
    /// is the readiness probe's question, not the integrity check's: an outage must
    /// not leave a failed check standing after the database is back.
    fn check(&self, answered: &mut dyn FnMut()) -> Checked {
        answered();
        Checked::Sound
    }

    /// Runs on a thread of its own (the backup's request hands it off), which waits.
    fn backup(&self) -> Result<(File, u64), Error> {
        self.workers.backup().wait()
    }
}
