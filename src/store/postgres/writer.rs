//! The writes of one node, on the pool's first connection: those that arrive together
//! share one transaction and one commit (one wait for the disk, and the standby's), as
//! redb's group commit shares a file's. A write refused by its rules rolls the
//! transaction back; it is answered its error and the others run again without it. A
//! conflict with another node's write runs the whole batch again. A job may run more
//! than once: only its last run counts.

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
    /// Committed.
    Committed,
    /// The write at this place refused by its own rules: nothing committed; it is
    /// answered its error and the others run again without it.
    Refused(usize, Error),
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
            let outcomes = self.write_batch(&mut batch);
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                job.answer(outcome);
            }
        }
    }

    /// Runs `batch` until it commits, fails, or has met a conflict [`MAX_RUNS`] times:
    /// each write's outcome, in order. A write refused by its rules is left out of the
    /// next run, as redb's group commit leaves it out of its next batch: the happy path
    /// needs no savepoint.
    fn write_batch(&mut self, batch: &mut [Box<dyn Job>]) -> Vec<Result<(), Error>> {
        let mut refused: Vec<Option<Error>> = batch.iter().map(|_| None).collect();
        let mut conflicts = 0;
        loop {
            match self.run_batch(batch, &refused) {
                Run::Committed => {
                    let done = refused.iter().filter(|r| r.is_none()).count();
                    if done > 0 {
                        self.shared.durable.inc();
                        self.shared.writes.inc_by(done as u64);
                    }
                    return refused.into_iter().map(|r| r.map_or(Ok(()), Err)).collect();
                }
                Run::Refused(at, err) => {
                    self.shared.health.note(&err);
                    refused[at] = Some(err);
                }
                Run::Conflict if conflicts + 1 < MAX_RUNS => conflicts += 1,
                // Other nodes' writes won every time: the database is too busy now.
                Run::Conflict => {
                    let busy = Error::Unavailable(
                        "database: the write conflicted with others on every run".into(),
                    );
                    return answers_of(refused, &busy, Some(Failure::Unavailable));
                }
                Run::Failed(err, failure) => {
                    self.after(failure);
                    self.shared.health.note(&err);
                    return answers_of(refused, &err, failure);
                }
            }
        }
    }

    /// Runs the writes of `batch` that no run has refused, in one transaction.
    fn run_batch(&mut self, batch: &mut [Box<dyn Job>], refused: &[Option<Error>]) -> Run {
        if let Err(err) = self.client() {
            return Run::Failed(err, None);
        }
        let Connection {
            client,
            statements,
            shared,
            ..
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
        for (at, job) in batch.iter_mut().enumerate() {
            if refused[at].is_some() {
                continue;
            }
            let ran = unpanicked(|| {
                let tx = Tx::new(&kv);
                job.run(&tx)?;
                tx.finish()
            });
            match (ran, kv.failure()) {
                (Ok(()), _) => {}
                (Err(_), Some(Failure::Conflict)) => return Run::Conflict,
                (Err(err), Some(Failure::Unavailable)) => {
                    return Run::Failed(err, Some(Failure::Unavailable));
                }
                // Its own refusal, or a statement of its own that failed: the
                // transaction is dropped (rolled back) and the others run again.
                (Err(err), _) => return Run::Refused(at, err),
            }
        }
        // The batch's writes go out a table at a time, then the note to other nodes.
        if let Err(err) = kv
            .flush()
            .and_then(|()| kv.announce(&shared.node, shared.feed))
        {
            return ended(&kv, err);
        }
        match kv.commit() {
            Ok(()) => Run::Committed,
            Err(err) => match Failure::of(&err) {
                Failure::Conflict => Run::Conflict,
                failure => Run::Failed(err.into(), Some(failure)),
            },
        }
    }
}

/// The answers of a batch that failed whole: each write refused before keeps its own
/// error, every other gets `err`.
fn answers_of(
    refused: Vec<Option<Error>>,
    err: &Error,
    failure: Option<Failure>,
) -> Vec<Result<(), Error>> {
    refused
        .into_iter()
        .map(|r| Err(r.unwrap_or_else(|| again(err, failure))))
        .collect()
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
