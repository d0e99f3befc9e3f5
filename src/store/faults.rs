//! A failpoint for tests: transactions on an armed database file fail as a broken disk
//! would (all of them, or only where they open one table), so tests can prove that a
//! fault of the store stays a fault (500) on every path, never an authentication outcome
//! or a wrong answer. Compiled only into the crate's own tests.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::transaction::Tx;
use crate::error::Error;

/// What fails on an armed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every transaction, as it begins.
    Everything,
    /// Opening this table (by its name, e.g. `group_names_v1`).
    Table(&'static str),
}

static ARMED: Mutex<BTreeMap<PathBuf, Fault>> = Mutex::new(BTreeMap::new());

/// How many transactions began on each file: tests count a request's reads with it.
static BEGUN: Mutex<BTreeMap<PathBuf, u64>> = Mutex::new(BTreeMap::new());

thread_local! {
    /// The table that fails in the transaction running on this thread.
    static FAILING_TABLE: Cell<Option<&'static str>> = const { Cell::new(None) };
}

fn armed() -> MutexGuard<'static, BTreeMap<PathBuf, Fault>> {
    ARMED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes later transactions on `path` fail as `fault` says, until [`disarm`].
pub fn arm(path: &Path, fault: Fault) {
    armed().insert(path.to_owned(), fault);
}

pub fn disarm(path: &Path) {
    armed().remove(path);
}

fn injected() -> Error {
    Error::internal("storage: injected fault")
}

/// `f`, which checks the faults of `path` first on each run, on the writer's thread.
pub(super) fn checked_write<T>(
    path: &Path,
    mut f: impl FnMut(&Tx) -> Result<T, Error> + Send + 'static,
) -> impl FnMut(&Tx) -> Result<T, Error> + Send + 'static {
    let path = path.to_owned();
    move |tx| {
        check(&path)?;
        f(tx)
    }
}

/// How many transactions have begun on `path` so far.
pub fn begun(path: &Path) -> u64 {
    let begun = BEGUN.lock().unwrap_or_else(PoisonError::into_inner);
    begun.get(path).copied().unwrap_or(0)
}

/// Called as a transaction on `path` begins, on the thread that runs it.
pub(super) fn check(path: &Path) -> Result<(), Error> {
    *BEGUN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(path.to_owned())
        .or_default() += 1;
    let fault = armed().get(path).copied();
    FAILING_TABLE.set(match fault {
        Some(Fault::Table(name)) => Some(name),
        _ => None,
    });
    match fault {
        Some(Fault::Everything) => Err(injected()),
        _ => Ok(()),
    }
}

/// Called as the running transaction opens the table `name`.
pub(super) fn check_table(name: &str) -> Result<(), Error> {
    match FAILING_TABLE.get() {
        Some(failing) if failing == name => Err(injected()),
        _ => Ok(()),
    }
}
