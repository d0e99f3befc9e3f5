//! Group commit: the writes that arrive while another is running join one redb
//! transaction, and one durable commit (one fsync) makes all of them durable at once.
//!
//! Each write runs its own closure, on its own thread, in turn, on the batch's open
//! transaction, and so sees every earlier write of the batch. The write that finds no
//! other waiting (or fills the batch) commits it; the others wait for that commit, and a
//! write returns (and its request answers) only once it is durable.
//!
//! A write that fails may have written part of its change, and redb has no savepoint
//! inside a changed transaction, so a failure rolls the whole batch back: the failed
//! write answers its error, and the writes before it in the batch run again, first and
//! in their order, in a new transaction. Their closures see exactly what they saw before
//! (no other write ran meanwhile), so each write is answered exactly as if it had run
//! alone: the failed one after those before it, which its answer may depend on. This is
//! why a write's closure is `FnMut`: it may run more than once, and only its last run
//! counts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use prometheus_client::metrics::counter::Counter;
use redb::{Database, WriteTransaction};

use super::open::unpanicked;
use crate::error::Error;

/// Writes in one transaction at most, so that a batch's answers are not held back long.
const MAX_BATCH: usize = 64;

/// The batch being built and whose turn it is.
#[derive(Default)]
pub(super) struct GroupCommit {
    state: Mutex<State>,
    /// Signalled when the turn is free: to one waiter, or to all when the turn is for a
    /// write that runs again (only that one may take it).
    turn_free: Condvar,
    /// Signalled to all when a batch is committed or rolled back.
    decided: Condvar,
    /// Durable commits that succeeded: fewer than the writes when they shared them.
    pub(super) durable: Counter,
}

#[derive(Default)]
struct State {
    /// The open transaction and the writes it holds.
    open: Option<Batch>,
    /// A write's closure is running, or the batch is committing.
    running: bool,
    /// Writes waiting for their turn.
    waiting: usize,
    /// The writes of a rolled-back batch, in their order: they run next, before any other.
    rerun: VecDeque<u64>,
    /// How each finished batch ended, with how many of its writes have yet to read it.
    decided: HashMap<u64, (Outcome, usize)>,
    last_ticket: u64,
    last_batch: u64,
}

struct Batch {
    id: u64,
    tx: WriteTransaction,
    /// The tickets of the writes that succeeded in it, in order.
    writes: Vec<u64>,
    /// It runs the writes of a rolled-back batch again: it commits as soon as they
    /// have run, and no other write joins it, so that a stream of failing writes cannot
    /// keep rolling them back.
    rerun: bool,
}

#[derive(Clone, Copy)]
enum Outcome {
    Committed,
    /// The commit failed: nothing of the batch was written.
    Failed,
    /// A later write of the batch failed: its writes run again.
    RolledBack,
}

impl GroupCommit {
    /// Runs `f` in a batch's transaction; returns once the batch is durably committed, or
    /// with `f`'s error (nothing of it written). `writes` counts every committed write.
    pub(super) fn write<T>(
        &self,
        db: &Database,
        writes: &Counter,
        mut f: impl FnMut(&WriteTransaction) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut state = self.lock();
        state.waiting += 1;
        let mut ticket = None;
        loop {
            while state.running || state.rerun.front().is_some_and(|t| Some(*t) != ticket) {
                state = wait(&self.turn_free, state);
            }
            let rerun = state.rerun.pop_front().is_some();
            state.waiting -= 1;
            state.running = true;
            let me = *ticket.get_or_insert_with(|| {
                state.last_ticket += 1;
                state.last_ticket
            });
            let batch = match state.open.take() {
                Some(batch) => Ok(batch),
                None => unpanicked(|| Ok(db.begin_write()?)).map(|tx| {
                    state.last_batch += 1;
                    Batch {
                        id: state.last_batch,
                        tx,
                        writes: Vec::new(),
                        rerun,
                    }
                }),
            };
            let mut batch = match batch {
                Ok(batch) => batch,
                Err(err) => {
                    self.free_turn(&mut state);
                    return Err(err);
                }
            };
            drop(state);
            let result = unpanicked(|| f(&batch.tx));
            state = self.lock();
            let value = match result {
                Ok(value) => value,
                Err(err) => {
                    self.roll_back(state, batch);
                    return Err(err);
                }
            };
            batch.writes.push(me);
            let reruns_done = batch.rerun && state.rerun.is_empty();
            if state.waiting == 0 || batch.writes.len() >= MAX_BATCH || reruns_done {
                drop(state);
                return self.commit(batch, writes).map(|()| value);
            }
            let id = batch.id;
            state.open = Some(batch);
            state = self.release_and_wait(state, id);
            match self.read_outcome(&mut state, id) {
                Outcome::Committed => return Ok(value),
                Outcome::Failed => return Err(commit_failed()),
                Outcome::RolledBack => continue,
            }
        }
    }

    /// Commits `batch` (holding the turn), tells its writes and frees the turn.
    fn commit(&self, batch: Batch, writes: &Counter) -> Result<(), Error> {
        let count = batch.writes.len();
        let committed = unpanicked(|| Ok(batch.tx.commit()?));
        let outcome = match &committed {
            Ok(()) => {
                self.durable.inc();
                writes.inc_by(count as u64);
                Outcome::Committed
            }
            Err(err) => {
                log::error!("a commit of {count} writes failed: {err}");
                Outcome::Failed
            }
        };
        let mut state = self.lock();
        if count > 1 {
            state.decided.insert(batch.id, (outcome, count - 1));
            self.decided.notify_all();
        }
        self.free_turn(&mut state);
        committed.map_err(|_| commit_failed())
    }

    /// Rolls back `batch` after its latest write failed: the writes before it run again.
    fn roll_back(&self, mut state: MutexGuard<'_, State>, batch: Batch) {
        if !batch.writes.is_empty() {
            state
                .decided
                .insert(batch.id, (Outcome::RolledBack, batch.writes.len()));
            state.waiting += batch.writes.len();
            for ticket in batch.writes.iter().rev() {
                state.rerun.push_front(*ticket);
            }
            self.decided.notify_all();
        }
        drop(state);
        // Dropping an uncommitted transaction aborts it.
        drop(batch.tx);
        self.free_turn(&mut self.lock());
    }

    /// Frees the turn and waits until batch `id` is decided.
    fn release_and_wait<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        id: u64,
    ) -> MutexGuard<'a, State> {
        self.free_turn(&mut state);
        while !state.decided.contains_key(&id) {
            state = wait(&self.decided, state);
        }
        state
    }

    /// Gives the turn up: one waiter is woken, as any may take it, unless a write must
    /// run again first.
    fn free_turn(&self, state: &mut State) {
        state.running = false;
        match state.rerun.is_empty() {
            true => self.turn_free.notify_one(),
            false => self.turn_free.notify_all(),
        }
    }

    /// How batch `id` ended; the last of its writes to read it forgets it.
    fn read_outcome(&self, state: &mut State, id: u64) -> Outcome {
        let Some((outcome, unread)) = state.decided.get_mut(&id) else {
            return Outcome::Failed;
        };
        let outcome = *outcome;
        *unread -= 1;
        if *unread == 0 {
            state.decided.remove(&id);
        }
        outcome
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn wait<'a>(signal: &Condvar, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    signal.wait(state).unwrap_or_else(PoisonError::into_inner)
}

fn commit_failed() -> Error {
    Error::internal("storage: the commit failed")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use redb::{ReadableDatabase, ReadableTable, TableDefinition};

    use super::*;

    const T: TableDefinition<u64, u64> = TableDefinition::new("t");

    fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("g.redb")).unwrap();
        (dir, db)
    }

    fn stored(db: &Database) -> Vec<u64> {
        let tx = db.begin_read().unwrap();
        match tx.open_table(T) {
            Ok(table) => table
                .iter()
                .unwrap()
                .map(|r| r.unwrap().0.value())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Writes `key`; a `fails` write writes it too, then fails.
    fn put(tx: &WriteTransaction, key: u64, fails: bool) -> Result<u64, Error> {
        tx.open_table(T)?.insert(key, key)?;
        match fails {
            true => Err(Error::internal("refused after writing")),
            false => Ok(key),
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_the_writes_before_it_in_its_batch_run_again() {
        let (_dir, db) = database();
        let group = GroupCommit::default();
        let writes = Counter::default();
        let first_runs = AtomicUsize::new(0);
        let first_running = AtomicBool::new(false);
        let (first, second) = std::thread::scope(|s| {
            let first = s.spawn(|| {
                group.write(&db, &writes, |tx| {
                    let run = first_runs.fetch_add(1, Ordering::SeqCst);
                    first_running.store(true, Ordering::SeqCst);
                    // On its first run, stay until the second write waits for its turn,
                    // so that both share one batch.
                    while run == 0 && group.lock().waiting == 0 {
                        std::thread::yield_now();
                    }
                    put(tx, 1, false)
                })
            });
            while !first_running.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let second = s.spawn(|| group.write(&db, &writes, |tx| put(tx, 2, true)));
            (first.join().unwrap(), second.join().unwrap())
        });
        assert_eq!(first.unwrap(), 1);
        assert!(second.is_err());
        assert_eq!(
            first_runs.load(Ordering::SeqCst),
            2,
            "the first write ran again"
        );
        assert_eq!(
            stored(&db),
            vec![1],
            "nothing of the failed write is stored"
        );
        assert_eq!((writes.get(), group.durable.get()), (1, 1));
    }

    #[test]
    fn a_write_that_runs_again_commits_without_waiting_for_newcomers() {
        let (_dir, db) = database();
        let group = GroupCommit::default();
        let writes = Counter::default();
        let runs = AtomicUsize::new(0);
        let second_run = AtomicBool::new(false);
        let first_running = AtomicBool::new(false);
        std::thread::scope(|s| {
            let first = s.spawn(|| {
                group.write(&db, &writes, |tx| {
                    let run = runs.fetch_add(1, Ordering::SeqCst);
                    first_running.store(true, Ordering::SeqCst);
                    second_run.store(run == 1, Ordering::SeqCst);
                    // Both runs stay until another write waits: the failing one first,
                    // then the newcomer, which must not join the run again.
                    while run < 2 && group.lock().waiting == 0 {
                        std::thread::yield_now();
                    }
                    put(tx, 1, false)
                })
            });
            while !first_running.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let failing = s.spawn(|| group.write(&db, &writes, |tx| put(tx, 2, true)));
            while !second_run.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let newcomer = s.spawn(|| group.write(&db, &writes, |tx| put(tx, 3, false)));
            assert_eq!(first.join().unwrap().unwrap(), 1);
            assert!(failing.join().unwrap().is_err());
            assert_eq!(newcomer.join().unwrap().unwrap(), 3);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(stored(&db), vec![1, 3]);
        assert_eq!(
            (writes.get(), group.durable.get()),
            (2, 2),
            "the write run again committed alone, the newcomer in a batch of its own"
        );
    }

    #[test]
    fn concurrent_writes_share_commits_and_only_the_successful_ones_are_stored() {
        let (_dir, db) = database();
        let group = GroupCommit::default();
        let writes = Counter::default();
        let answers: Vec<(u64, bool)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16u64)
                .map(|thread| {
                    let (group, db, writes) = (&group, &db, &writes);
                    s.spawn(move || {
                        (0..40u64)
                            .map(|i| {
                                let key = thread * 1000 + i;
                                let fails = (thread + i) % 4 == 0;
                                let answer = group.write(db, writes, |tx| put(tx, key, fails));
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
        assert_eq!(stored(&db), expected);
        assert_eq!(writes.get(), expected.len() as u64);
        assert!(
            group.durable.get() < writes.get(),
            "writes shared commits: {} commits for {} writes",
            group.durable.get(),
            writes.get()
        );
        assert!(group.lock().decided.is_empty(), "every outcome was read");
    }
}
