//! Group commit: a write transaction commits without waiting for the disk
//! (`Durability::None`), then waits for a durable commit that begins after it. One
//! durable commit (an empty transaction with `Durability::Immediate`, which makes every
//! earlier commit durable with it) serves every writer that finished meanwhile, so
//! concurrent writers share one fsync instead of queueing for one each.
//!
//! Each request keeps its own transaction: one that fails rolls back alone and never
//! affects another's outcome, and a write returns (and its request answers) only once it
//! is durable. A reader may see a change some milliseconds before it is durable; a crash
//! in that window loses it, as it loses the request that was never answered.

use std::sync::{Condvar, Mutex, PoisonError};

use prometheus_client::metrics::counter::Counter;
use redb::Database;

use super::open::unpanicked;
use crate::error::Error;

/// The durable commits begun and finished, one at a time.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    flushes: Mutex<Flushes>,
    finished: Condvar,
    /// Durable commits that succeeded: fewer than the write transactions when writers
    /// shared them.
    pub(super) durable: Counter,
}

#[derive(Debug, Default)]
struct Flushes {
    /// Durable commits begun so far; the latest is `started`.
    started: u64,
    /// The latest durable commit that ended, and whether it succeeded.
    finished: u64,
    succeeded: bool,
    /// A durable commit is running.
    running: bool,
}

impl GroupCommit {
    /// Returns once every commit made before this call is durable: after a durable
    /// commit that began after the call. The first caller to find none running runs
    /// one; the others wait for it, or for the next one if theirs began too early.
    pub(super) fn make_durable(&self, db: &Database) -> Result<(), Error> {
        let mut flushes = self.flushes.lock().unwrap_or_else(PoisonError::into_inner);
        let needed = flushes.started + 1;
        loop {
            if flushes.finished >= needed {
                return match flushes.succeeded {
                    true => Ok(()),
                    false => Err(Error::internal("storage: a durable commit failed")),
                };
            }
            if flushes.running {
                flushes = self
                    .finished
                    .wait(flushes)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            flushes.running = true;
            flushes.started += 1;
            let mine = flushes.started;
            drop(flushes);
            let result = unpanicked(|| {
                let tx = db.begin_write()?;
                tx.commit()?;
                Ok(())
            });
            match &result {
                Ok(()) => {
                    self.durable.inc();
                }
                Err(err) => log::error!("a durable commit failed: {err}"),
            }
            flushes = self.flushes.lock().unwrap_or_else(PoisonError::into_inner);
            flushes.running = false;
            flushes.finished = mine;
            flushes.succeeded = result.is_ok();
            self.finished.notify_all();
        }
    }
}
