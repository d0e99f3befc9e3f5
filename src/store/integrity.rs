//! The engine's integrity check while serving: on a schedule, on demand, soon after a request
//! meets damage, and at start when `storage.integrity_check_at_start` asks (see
//! `open_database`). redb verifies page checksums only in this check and in its recovery
//! after an unclean shutdown, never on an ordinary read, so this is what finds a file
//! altered at rest or under a running server.
//!
//! The schedule counts from the last check that passed, kept in the file, so that
//! restarts do not put the check off: a server restarted every day with a daily check
//! still checks once a day.
//!
//! A request that meets damage (see `damage`) makes the store unready at once and wakes
//! the timer's thread (`integrity_timer`), which checks the file in the background. A
//! check that passes makes the store ready again.
//!
//! The check needs the database to itself: it waits for running transactions to end and
//! holds new ones back while it reads the file.

use std::sync::mpsc::SyncSender;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

use super::damage::damage_in;
use super::engine::Checked;
use super::{Store, reader, tables};
use crate::clock::Clock;
use crate::domain::Timestamp;
use crate::error::Error;
use crate::store::transaction::Tx;

/// The meta key of the last check that passed, in Unix seconds.
const LAST_PASS_KEY: &str = "integrity_check_passed_at";

/// Records in `tx` that a check passed at `now`.
pub(super) fn record_pass(tx: &Tx, now: Timestamp) -> Result<(), Error> {
    let secs = u64::try_from(now.timestamp()).unwrap_or(0);
    tx.write(tables::META)?.insert(LAST_PASS_KEY, secs)?;
    Ok(())
}

/// The outcome of one integrity check.
#[derive(Debug, Clone)]
pub struct IntegrityReport {
    /// Whether every page verified.
    pub ok: bool,
    /// What was found, for the operator.
    pub message: String,
    pub checked_at: Timestamp,
    pub duration_ms: u64,
}

/// What the store tells `/readyz` and `/metrics` about its file.
pub(super) struct Health {
    file_warnings: Vec<String>,
    last: Mutex<Option<IntegrityReport>>,
    /// Damage requests met that no check has answered since.
    damage_met: Mutex<DamageMet>,
    /// The server's clock, for when damage was met.
    clock: Clock,
    /// Wakes the timer's thread to check; set while it runs.
    wake: Mutex<Option<SyncSender<()>>>,
    failures: Counter,
    last_ok: Gauge,
}

/// When a request first met damage that no check has answered since, and how many times
/// damage was met in all: a check answers only the damage met before it began.
#[derive(Default)]
struct DamageMet {
    first: Option<Timestamp>,
    times: u64,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Health {
    pub(super) fn new(file_warnings: Vec<String>, clock: Clock) -> Health {
        let last_ok = Gauge::default();
        // The open has just verified the file.
        last_ok.set(1);
        Health {
            file_warnings,
            last: Mutex::new(None),
            damage_met: Mutex::default(),
            clock,
            wake: Mutex::new(None),
            failures: Counter::default(),
            last_ok,
        }
    }

    /// Called with the error of every transaction: one that tells of damage makes the
    /// store unready and wakes the timer's thread to check the file.
    pub(super) fn note(&self, err: &Error) {
        let Some(what) = damage_in(err) else {
            return;
        };
        let first = {
            let mut met = locked(&self.damage_met);
            met.times += 1;
            let first = met.first.is_none();
            met.first.get_or_insert_with(|| self.clock.now());
            first
        };
        if first {
            log::error!(
                "a request met damage in the database file: {what}; not ready until an \
                 integrity check passes"
            );
        }
        self.wake();
    }

    /// Wakes the timer's thread, if it runs; a wake already waiting is enough.
    fn wake(&self) {
        if let Some(wake) = locked(&self.wake).as_ref() {
            let _ = wake.try_send(());
        }
    }

    /// Where [`Health::note`] wakes the timer's thread: set when it starts, taken when it
    /// stops (which ends it). Damage met before it started wakes it at once.
    pub(super) fn set_wake(&self, wake: Option<SyncSender<()>>) {
        *locked(&self.wake) = wake;
        if locked(&self.damage_met).first.is_some() {
            self.wake();
        }
    }

    pub(super) fn file_warnings(&self) -> &[String] {
        &self.file_warnings
    }

    fn record(&self, report: &IntegrityReport) {
        if report.ok {
            self.last_ok.set(1);
        } else {
            self.failures.inc();
            self.last_ok.set(0);
        }
        *locked(&self.last) = Some(report.clone());
    }
}

impl Store {
    /// Runs the engine's integrity check now, records it and logs it. It answers any damage a
    /// request met before it began: when it passes, the store is ready again.
    pub fn check_integrity(&self, now: Timestamp) -> IntegrityReport {
        let started = Instant::now();
        let mut answered = 0;
        // Read while no transaction runs: damage met after this is checked again.
        let outcome = self
            .engine
            .check(&mut || answered = locked(&self.health.damage_met).times);
        let (ok, message) = match outcome {
            Checked::Sound => (true, "every page verified".to_owned()),
            // Not a pass: the file was repaired, which may have lost a commit.
            Checked::Repaired(what) | Checked::Failed(what) => (false, what),
        };
        let report = IntegrityReport {
            ok,
            message,
            checked_at: now,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        if report.ok
            && let Err(err) = self.write(move |tx| record_pass(tx, now)).wait()
        {
            log::error!("cannot record the integrity check that passed: {err}");
        }
        if report.ok {
            log::info!(
                "integrity check of {} passed: {}",
                self.path.display(),
                report.message
            );
        } else {
            log::error!(
                "integrity check of {} FAILED: {}; stop keyhouse and restore a backup",
                self.path.display(),
                report.message
            );
        }
        self.health.record(&report);
        // Only now, with the outcome recorded, so that readiness never sees neither the
        // damage nor the failure.
        let mut met = locked(&self.health.damage_met);
        if met.times == answered {
            met.first = None;
        }
        drop(met);
        report
    }

    /// What an operator should act on: file-mode warnings, damage a request met and a
    /// failed integrity check. Damage is told without its cause: `/readyz` needs no
    /// token, and the cause is in the log.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = self.health.file_warnings.clone();
        if let Some(at) = self.damage_met() {
            warnings.push(format!(
                "a request met damage in the database file {} at {} (the log has the \
                 cause); not ready until an integrity check passes",
                self.path.display(),
                at.to_rfc3339()
            ));
        }
        if let Some(report) = self.last_failed_check() {
            warnings.push(format!(
                "the integrity check at {} failed: {}",
                report.checked_at.to_rfc3339(),
                report.message
            ));
        }
        warnings
    }

    /// When a request first met damage that no integrity check has answered since.
    pub(super) fn damage_met(&self) -> Option<Timestamp> {
        locked(&self.health.damage_met).first
    }

    /// When the last integrity check that this file remembers passed.
    pub fn last_integrity_pass(&self) -> Result<Option<Timestamp>, Error> {
        // Read at start and from the timer's own thread, never a request's.
        let secs = self.read(|tx| reader::meta(tx, LAST_PASS_KEY)).wait()?;
        Ok(secs
            .and_then(|s| i64::try_from(s).ok())
            .and_then(|s| Timestamp::from_timestamp(s, 0)))
    }

    /// The last integrity check, if it failed.
    pub fn last_failed_check(&self) -> Option<IntegrityReport> {
        locked(&self.health.last)
            .as_ref()
            .filter(|r| !r.ok)
            .cloned()
    }

    /// Failed integrity checks since start, and whether the last one passed (1) or not.
    pub fn integrity_metrics(&self) -> (Counter, Gauge) {
        (self.health.failures.clone(), self.health.last_ok.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_check_is_remembered_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.last_integrity_pass().unwrap(), None);
        let at = Timestamp::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(store.check_integrity(at).ok);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.last_integrity_pass().unwrap(), Some(at));
    }

    #[test]
    fn a_check_of_a_sound_file_passes_and_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        let report = store.check_integrity(crate::clock::now());
        assert!(report.ok, "{report:?}");
        assert!(store.warnings().is_empty());
        let (failures, last_ok) = store.integrity_metrics();
        assert_eq!((failures.get(), last_ok.get()), (0, 1));
    }

    #[test]
    fn a_failed_check_is_a_warning_and_a_metric() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        store.health.record(&IntegrityReport {
            ok: false,
            message: "page 7 checksum".to_owned(),
            checked_at: crate::clock::now(),
            duration_ms: 1,
        });
        assert!(store.warnings()[0].contains("page 7 checksum"));
        assert!(store.last_failed_check().is_some());
        let (failures, last_ok) = store.integrity_metrics();
        assert_eq!((failures.get(), last_ok.get()), (1, 0));
    }
}
