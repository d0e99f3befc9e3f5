//! Group commit: one writer thread runs every write, in the order they arrive, and the
//! writes that arrive while a commit is in flight share the next transaction, so one
//! durable commit (one fsync) makes all of them durable at once.
//!
//! A caller hands its write to the writer and gets an [`Answer`], which comes once the
//! write is durable or has failed: a request's handler awaits it, so that no thread
//! waits per request. The writer runs a batch's writes back to back on its own thread:
//! no hand-over between threads per write, and each write sees every earlier write of
//! its batch.
//!
//! A write that fails may have written part of its change, and redb has no savepoint
//! inside a changed transaction, so a failure rolls the whole batch back: the failed
//! write is answered its error, and the writes before it run again, first and in their
//! order, in a new transaction that commits as soon as they have run. Their closures see
//! exactly what they saw before (no other write ran meanwhile), so each write is answered
//! exactly as if it had run alone: the failed one after those before it, which its answer
//! may depend on. This is why a write's closure is `FnMut`: it may run more than once,
//! and only its last run counts.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;

use prometheus_client::metrics::counter::Counter;
use redb::Database;

use super::transactions::RedbWrite;
use crate::error::Error;
use crate::store::damage::unpanicked;
use crate::store::engine::Job;
use crate::store::integrity::Health;
use crate::store::transaction::Tx;

/// Writes in one transaction at most, so that a batch's answers are not held back long.
const MAX_BATCH: usize = 64;

/// The writer thread and the way to it.
pub(super) struct GroupCommit {
    /// Where writes go; dropped first when the store closes, which stops the writer.
    jobs: Option<Sender<Box<dyn Job>>>,
    writer: Option<JoinHandle<()>>,
    /// Durable commits that succeeded: fewer than the writes when they shared them.
    pub(super) durable: Counter,
}

impl GroupCommit {
    /// Starts the writer of `db`; `writes` counts every committed write, and `health`
    /// hears of every failure, so that damage a write meets is noted.
    pub(super) fn start(
        db: Arc<RwLock<Database>>,
        writes: Counter,
        health: Arc<Health>,
    ) -> std::io::Result<Self> {
        let (jobs, received) = mpsc::channel();
        let durable = Counter::default();
        let writer = Writer {
            db,
            received,
            durable: durable.clone(),
            writes,
            health,
        };
        let writer = std::thread::Builder::new()
            .name("keyhouse-writer".to_owned())
            .spawn(move || writer.run())?;
        Ok(GroupCommit {
            jobs: Some(jobs),
            writer: Some(writer),
            durable,
        })
    }

    /// Hands `job` to the writer, to run in a batch's transaction. Its answer is its
    /// value once the batch is durably committed, or its error (nothing of it written).
    pub(super) fn write(&self, job: Box<dyn Job>) {
        // When the writer is gone, the job is dropped with its sender: the answer is
        // then that the engine is gone.
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }
}

impl Drop for GroupCommit {
    /// Stops the writer and waits for it, so that the database is closed when the store
    /// is: the writer holds it too.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(writer) = self.writer.take()
            && writer.thread().id() != std::thread::current().id()
            && writer.join().is_err()
        {
            log::error!("the writer thread panicked");
        }
    }
}

/// The writer thread's side: the database and the writes that wait.
struct Writer {
    db: Arc<RwLock<Database>>,
    received: Receiver<Box<dyn Job>>,
    durable: Counter,
    writes: Counter,
    health: Arc<Health>,
}

impl Writer {
    /// Runs batches until the store closes.
    fn run(self) {
        let mut again = VecDeque::new();
        loop {
            let (pending, rerun) = match again.is_empty() {
                false => (again, true),
                true => match self.received.recv() {
                    Ok(job) => (VecDeque::from([job]), false),
                    Err(_) => return,
                },
            };
            let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
            again = self.batch(&db, pending, rerun);
        }
    }

    /// Runs `pending` in one transaction, and then, unless they run again after a
    /// rollback, the writes waiting, up to [`MAX_BATCH`] in all; commits and answers
    /// them. Returns the writes to run again when one failed. Every failure is noted
    /// while the batch still holds the database, before any check could answer it.
    fn batch(
        &self,
        db: &Database,
        mut pending: VecDeque<Box<dyn Job>>,
        rerun: bool,
    ) -> VecDeque<Box<dyn Job>> {
        let write = match unpanicked(|| Ok(db.begin_write()?)) {
            Ok(write) => write,
            Err(err) => {
                self.health.note(&err);
                if let Some(first) = pending.pop_front() {
                    first.answer(Err(err));
                }
                return pending;
            }
        };
        let redb = RedbWrite::new(&write);
        let tx = Tx::new(&redb);
        let mut done = Vec::new();
        loop {
            let mut job = match pending.pop_front() {
                Some(job) => job,
                None if rerun || done.len() >= MAX_BATCH => break,
                None => match self.received.try_recv() {
                    Ok(job) => job,
                    Err(_) => break,
                },
            };
            if let Err(err) = job.run(&tx) {
                self.health.note(&err);
                job.answer(Err(err));
                // Dropping an uncommitted transaction aborts it.
                drop(tx);
                drop(redb);
                drop(write);
                done.extend(pending);
                return done.into();
            }
            done.push(job);
        }
        let count = done.len();
        let finished = unpanicked(|| tx.finish());
        // The tables close before the commit.
        drop(redb);
        let committed = finished.and_then(|()| unpanicked(|| Ok(write.commit()?)));
        match &committed {
            Ok(()) => {
                self.durable.inc();
                self.writes.inc_by(count as u64);
            }
            Err(err) => {
                self.health.note(err);
                log::error!("a commit of {count} writes failed: {err}");
            }
        }
        for job in done {
            job.answer(match &committed {
                Ok(()) => Ok(()),
                Err(_) => Err(Error::internal("storage: the commit failed")),
            });
        }
        VecDeque::new()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use redb::{ReadableDatabase, ReadableTable, TableDefinition};

    use super::*;
    use crate::store::engine::{self, Answer};
    use crate::store::tables;

    /// The table the writes of these tests write to: any table of the store would do.
    const T: tables::Audit = tables::AUDIT;
    const T_NAME: &str = "audit_v1";

    struct Fixture {
        _dir: tempfile::TempDir,
        db: Arc<RwLock<Database>>,
        writes: Counter,
        group: GroupCommit,
    }

    fn started() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(RwLock::new(
            Database::create(dir.path().join("g.redb")).unwrap(),
        ));
        let writes = Counter::default();
        let health = Arc::new(Health::new(Vec::new(), crate::clock::Clock::system()));
        let group = GroupCommit::start(db.clone(), writes.clone(), health).unwrap();
        Fixture {
            _dir: dir,
            db,
            writes,
            group,
        }
    }

    impl Fixture {
        fn stored(&self) -> Vec<u64> {
            let tx = self.db.read().unwrap().begin_read().unwrap();
            match tx.open_table(TableDefinition::<u64, &[u8]>::new(T_NAME)) {
                Ok(table) => table
                    .iter()
                    .unwrap()
                    .map(|r| r.unwrap().0.value())
                    .collect(),
                Err(_) => Vec::new(),
            }
        }

        fn write<T: Send + 'static>(
            &self,
            f: impl FnMut(&Tx) -> Result<T, Error> + Send + 'static,
        ) -> Answer<T> {
            handed(&self.group, f)
        }

        fn counts(&self) -> (u64, u64) {
            (self.writes.get(), self.group.durable.get())
        }
    }

    /// Hands `f` to `group`; its answer.
    fn handed<T: Send + 'static>(
        group: &GroupCommit,
        f: impl FnMut(&Tx) -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        let (job, answer) = engine::job(f);
        group.write(job);
        answer
    }

    /// Writes `key`; a `fails` write writes it too, then fails.
    fn put(tx: &Tx, key: u64, fails: bool) -> Result<u64, Error> {
        tx.write(T)?.insert(key, &b""[..])?;
        match fails {
            true => Err(Error::internal("refused after writing")),
            false => Ok(key),
        }
    }

    /// Waits until `flag` is set; a test that would wait for ever fails instead.
    fn until(flag: &AtomicBool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !flag.load(Ordering::SeqCst) {
            assert!(std::time::Instant::now() < deadline, "waited 20 s in vain");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_the_writes_before_it_in_its_batch_run_again() {
        let f = started();
        let runs = Arc::new(AtomicUsize::new(0));
        let go = Arc::new(AtomicBool::new(false));
        let (r, g) = (runs.clone(), go.clone());
        // The first write stays on its first run until the second is sent, so that both
        // share one batch.
        let first = f.write(move |tx| {
            if r.fetch_add(1, Ordering::SeqCst) == 0 {
                until(&g);
            }
            put(tx, 1, false)
        });
        let second = f.write(|tx| put(tx, 2, true));
        go.store(true, Ordering::SeqCst);
        assert!(second.wait().is_err());
        assert_eq!(first.wait().unwrap(), 1);
        assert_eq!(runs.load(Ordering::SeqCst), 2, "the first write ran again");
        assert_eq!(f.stored(), vec![1], "nothing of the failed write is stored");
        assert_eq!(f.counts(), (1, 1));
    }

    #[test]
    fn a_write_that_runs_again_commits_without_waiting_for_newcomers() {
        let f = started();
        let runs = Arc::new(AtomicUsize::new(0));
        let (go, again, go_again) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (r, g, a, ga) = (runs.clone(), go.clone(), again.clone(), go_again.clone());
        // Its first run waits for the failing write to be sent; its second, for the
        // newcomer, which must not join the run again.
        let first = f.write(move |tx| {
            match r.fetch_add(1, Ordering::SeqCst) {
                0 => until(&g),
                _ => {
                    a.store(true, Ordering::SeqCst);
                    until(&ga);
                }
            }
            put(tx, 1, false)
        });
        let failing = f.write(|tx| put(tx, 2, true));
        go.store(true, Ordering::SeqCst);
        until(&again);
        let newcomer = f.write(|tx| put(tx, 3, false));
        go_again.store(true, Ordering::SeqCst);
        assert_eq!(first.wait().unwrap(), 1);
        assert!(failing.wait().is_err());
        assert_eq!(newcomer.wait().unwrap(), 3);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(f.stored(), vec![1, 3]);
        assert_eq!(
            f.counts(),
            (2, 2),
            "the write run again committed alone, the newcomer in a batch of its own"
        );
    }

    #[test]
    fn concurrent_writes_share_commits_and_only_the_successful_ones_are_stored() {
        let f = started();
        let answers: Vec<(u64, bool)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16u64)
                .map(|thread| {
                    let group = &f.group;
                    s.spawn(move || {
                        (0..40u64)
                            .map(|i| {
                                let key = thread * 1000 + i;
                                let fails = (thread + i) % 4 == 0;
                                let answer = handed(group, move |tx| put(tx, key, fails)).wait();
                                assert_eq!(answer.is_ok(), !fails);
                                (key, fails)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut expected: Vec<u64> = answers
            .iter()
            .filter(|(_, fails)| !fails)
            .map(|(key, _)| *key)
            .collect();
        expected.sort_unstable();
        assert_eq!(f.stored(), expected);
        let (writes, durable) = f.counts();
        assert_eq!(writes, expected.len() as u64);
        assert!(
            durable < writes,
            "writes shared commits: {durable} commits for {writes} writes"
        );
    }

    #[test]
    fn a_panicking_write_is_an_error_and_the_writer_goes_on() {
        let f = started();
        let panicked = f.write(|_| -> Result<(), Error> { panic!("x") }).wait();
        assert!(panicked.is_err());
        assert_eq!(f.write(|tx| put(tx, 7, false)).wait().unwrap(), 7);
        assert_eq!(f.stored(), vec![7]);
    }

    #[test]
    fn dropping_it_stops_the_writer_and_releases_the_database() {
        let f = started();
        f.write(|tx| put(tx, 1, false)).wait().unwrap();
        drop(f.group);
        assert_eq!(
            Arc::strong_count(&f.db),
            1,
            "the writer's handle on the database is gone"
        );
    }
}
