//! The writes of one node, on the pool's first connection: those that arrive together
//! share one transaction and one commit (one wait for the disk, and the standby's), as
//! redb's group commit shares a file's. Each runs under a savepoint of its own, so a
//! write refused by its rules is undone alone and answered its error while the others
//! commit. A conflict with another node's write aborts the whole transaction: every
//! write of it runs again (a job may run more than once; only its last run counts).

use std::sync::mpsc::Receiver;

use postgres::IsolationLevel;

use super::transactions::{Failure, PgTx};
use super::workers::Connection;
use crate::error::Error;
use crate::store::damage::unpanicked;
use crate::store::engine::Job;
use crate::store::transaction::Tx;

/// Writes in one transaction at most.
const MAX_BATCH: usize = 64;

/// How often a batch that met a conflict runs again before its writes fail.
const MAX_RUNS: usize = 32;

/// How one run of a batch ended.
enum Run {
    /// Committed: each write's own outcome.
    Committed(Vec<Result<(), Error>>),
    /// Another node's write won: run the batch again.
    Conflict,
    /// Nothing committed, for this reason (and why a statement failed, if one did).
    Failed(Error, Option<Failure>),
}

impl Connection {
    pub(super) fn serve_writes(&mut self, jobs: &Receiver<Box<dyn Job>>) {
        while let Ok(first) = jobs.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.write_batch(&mut batch);
            let outcomes = std::mem::take(&mut self.answers);
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                job.answer(outcome);
            }
        }
    }

    /// Runs `batch` until it commits, fails, or has met a conflict [`MAX_RUNS`] times;
    /// leaves each write's outcome in `self.answers`.
    fn write_batch(&mut self, batch: &mut [Box<dyn Job>]) {
        for _ in 0..MAX_RUNS {
            match self.run_batch(batch) {
                Run::Committed(outcomes) => {
                    let done = outcomes.iter().filter(|o| o.is_ok()).count();
                    self.durable.inc();
                    self.writes.inc_by(done as u64);
                    for err in outcomes.iter().filter_map(|o| o.as_ref().err()) {
                        self.health.note(err);
                    }
                    self.answers = outcomes;
                    return;
                }
                Run::Conflict => {}
                Run::Failed(err, failure) => {
                    self.after(failure);
                    self.health.note(&err);
                    self.answers = batch.iter().map(|_| Err(again(&err, failure))).collect();
                    return;
                }
            }
        }
        // Other nodes' writes won every time: the database is too busy now.
        self.answers = batch
            .iter()
            .map(|_| {
                Err(Error::Unavailable(
                    "database: the write conflicted with others on every run".into(),
                ))
            })
            .collect();
    }

    fn run_batch(&mut self, batch: &mut [Box<dyn Job>]) -> Run {
        if let Err(err) = self.client() {
            return Run::Failed(err, None);
        }
        let Connection {
            client, statements, ..
        } = self;
        let Some(client) = client.as_mut() else {
            return Run::Failed(Error::internal("database: no connection"), None);
        };
        let tx = match client
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable)
            .start()
        {
            Ok(tx) => tx,
            Err(err) => {
                let failure = Failure::of(&err);
                return Run::Failed(err.into(), Some(failure));
            }
        };
        let kv = PgTx::new(tx, statements);
        let mut outcomes = Vec::with_capacity(batch.len());
        for job in batch.iter_mut() {
            if let Err(err) = kv.savepoint() {
                return ended(&kv, err);
            }
            let ran = unpanicked(|| {
                let tx = Tx::new(&kv);
                job.run(&tx)?;
                tx.finish()
            });
            match (ran, kv.failure()) {
                (Ok(()), _) => {
                    if let Err(err) = kv.release() {
                        return ended(&kv, err);
                    }
                    outcomes.push(Ok(()));
                }
                (Err(_), Some(Failure::Conflict)) => return Run::Conflict,
                (Err(err), Some(Failure::Unavailable)) => {
                    return Run::Failed(err, Some(Failure::Unavailable));
                }
                // The write's own refusal (or a statement of its own that failed):
                // undone alone.
                (Err(err), _) => {
                    kv.forget_failure();
                    if let Err(undo) = kv.rollback_to_savepoint() {
                        return ended(&kv, undo);
                    }
                    outcomes.push(Err(err));
                }
            }
        }
        if let Err(err) = kv.notify() {
            return ended(&kv, err);
        }
        match kv.commit() {
            Ok(()) => Run::Committed(outcomes),
            Err(err) => match Failure::of(&err) {
                Failure::Conflict => Run::Conflict,
                failure => Run::Failed(err.into(), Some(failure)),
            },
        }
    }
}

/// The end of a run whose transaction statement failed with `err`.
fn ended(kv: &PgTx<'_>, err: Error) -> Run {
    match kv.failure() {
        Some(Failure::Conflict) => Run::Conflict,
        failure => Run::Failed(err, failure),
    }
}

/// `err`, for each write of a batch that failed whole.
fn again(err: &Error, failure: Option<Failure>) -> Error {
    let text = format!("database: the batch failed: {err:?}");
    match failure {
        Some(Failure::Unavailable) => Error::Unavailable(text.into()),
        _ if matches!(err, Error::Unavailable(_)) => Error::Unavailable(text.into()),
        _ => Error::internal(text),
    }
}
