//! The thread that runs the integrity check while serving: every
//! `storage.integrity_check_interval_seconds`, and soon after a request meets damage
//! (see `damage`), which wakes it. It runs one check at a time, so damage met by many
//! requests at once is checked once; and a check for damage at most every
//! [`DAMAGE_CHECK_GAP`], since each reads the whole file and holds every request back: a
//! bug that looks like damage (a panic in a transaction) must not have the file read
//! over and over. The store stays unready until a check answers the damage.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Store;
use super::integrity::Health;
use crate::clock::Clock;
use crate::domain::Timestamp;

/// The least time between two checks for damage met while serving.
const DAMAGE_CHECK_GAP: Duration = Duration::from_secs(600);

/// Runs the check on its own thread until stopped.
pub struct IntegrityTimer {
    health: Arc<Health>,
    thread: Option<JoinHandle<()>>,
}

impl IntegrityTimer {
    /// Starts the thread. With a non-zero `interval` the first scheduled check is due
    /// `interval` after the last that passed (now, if that is longer ago); with zero
    /// there is no schedule, and only damage met while serving is checked.
    pub fn start(store: Store, interval: Duration, clock: Clock) -> IntegrityTimer {
        let first = (!interval.is_zero()).then(|| {
            let last = store.last_integrity_pass().unwrap_or_else(|err| {
                log::error!("cannot read when the last integrity check passed: {err}");
                None
            });
            first_wait(last, interval, clock.now())
        });
        let mut plan = Plan {
            interval,
            scheduled: first.map(|wait| Instant::now() + wait),
            for_damage: None,
            last_for_damage: None,
        };
        let (wake, woken) = mpsc::sync_channel(1);
        let health = store.health.clone();
        health.set_wake(Some(wake));
        let thread = std::thread::Builder::new()
            .name("keyhouse-integrity".to_owned())
            .spawn(move || run(&store, &mut plan, &woken, &clock));
        let thread = thread
            .inspect_err(|err| log::error!("cannot start the integrity check's thread: {err}"))
            .ok();
        IntegrityTimer { health, thread }
    }

    /// Stops the timer (a running check ends first) and lets go of the store.
    pub fn stop(mut self) {
        self.health.set_wake(None);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for IntegrityTimer {
    /// Ends the thread, even when the timer is dropped without [`IntegrityTimer::stop`].
    fn drop(&mut self) {
        self.health.set_wake(None);
    }
}

/// The thread: waits for the next check that is due, or for a wake, until the last way
/// to wake it is gone.
fn run(store: &Store, plan: &mut Plan, woken: &Receiver<()>, clock: &Clock) {
    loop {
        let woke = match plan.next() {
            Some(at) => woken.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => woken.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match woke {
            // A failed check already tells of the damage; the next one is on schedule
            // or on demand.
            Ok(()) if store.last_failed_check().is_some() => {}
            Ok(()) => plan.damage_met(Instant::now()),
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                let started = Instant::now();
                if plan.next().is_some_and(|at| at <= started) {
                    store.check_integrity(clock.now());
                    plan.checked(started);
                }
            }
        }
    }
}

/// When the thread checks next.
#[derive(Debug)]
struct Plan {
    interval: Duration,
    /// The next scheduled check; `None` without a schedule.
    scheduled: Option<Instant>,
    /// The check for damage met while serving, when one is waiting.
    for_damage: Option<Instant>,
    /// When the last check for damage began.
    last_for_damage: Option<Instant>,
}

impl Plan {
    fn next(&self) -> Option<Instant> {
        self.scheduled.into_iter().chain(self.for_damage).min()
    }

    /// A request met damage at `now`: a check is due now, or [`DAMAGE_CHECK_GAP`] after
    /// the last check for damage.
    fn damage_met(&mut self, now: Instant) {
        if self.for_damage.is_none() {
            let earliest = self
                .last_for_damage
                .map_or(now, |last| (last + DAMAGE_CHECK_GAP).max(now));
            self.for_damage = Some(earliest);
        }
    }

    /// A check began at `started`: it answers the damage met before it, and the schedule
    /// moves on if it was due.
    fn checked(&mut self, started: Instant) {
        if self.for_damage.take().is_some_and(|at| at <= started) {
            self.last_for_damage = Some(started);
        }
        if self.scheduled.is_some_and(|at| at <= started) {
            self.scheduled = Some(started + self.interval);
        }
    }
}

/// How long until the first scheduled check: `interval` after the last that passed, or
/// after `now` when none is remembered.
fn first_wait(last: Option<Timestamp>, interval: Duration, now: Timestamp) -> Duration {
    let Some(last) = last else {
        return interval;
    };
    let since = (now - last).to_std().unwrap_or(Duration::ZERO);
    interval.saturating_sub(since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking;
    use crate::store::damage::damaged;

    #[test]
    fn the_schedule_counts_from_the_last_check_that_passed() {
        let now = crate::clock::now();
        let day = Duration::from_secs(86400);
        let hours = |h: i64| chrono::Duration::hours(h);
        assert_eq!(first_wait(None, day, now), day);
        assert_eq!(
            first_wait(Some(now - hours(20)), day, now),
            Duration::from_secs(4 * 3600)
        );
        assert_eq!(first_wait(Some(now - hours(30)), day, now), Duration::ZERO);
        // A clock set back: the check is due a whole interval on.
        assert_eq!(first_wait(Some(now + hours(5)), day, now), day);
    }

    #[test]
    fn damage_is_checked_at_once_then_at_most_once_a_gap_and_the_schedule_keeps_its_time() {
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let day = secs(86400);
        let mut plan = Plan {
            interval: day,
            scheduled: Some(t0 + day),
            for_damage: None,
            last_for_damage: None,
        };
        plan.damage_met(t0);
        plan.damage_met(t0 + secs(1));
        assert_eq!(plan.next(), Some(t0), "due at once, and once");
        plan.checked(t0);
        assert_eq!(plan.next(), Some(t0 + day), "the schedule is unchanged");
        plan.damage_met(t0 + secs(60));
        assert_eq!(plan.next(), Some(t0 + DAMAGE_CHECK_GAP));
        plan.checked(t0 + DAMAGE_CHECK_GAP);
        plan.damage_met(t0 + DAMAGE_CHECK_GAP + DAMAGE_CHECK_GAP + secs(5));
        assert_eq!(
            plan.next(),
            Some(t0 + DAMAGE_CHECK_GAP + DAMAGE_CHECK_GAP + secs(5)),
            "a gap after the last check for damage, it is due at once"
        );
        plan.checked(t0 + day);
        assert_eq!(plan.next(), Some(t0 + day + day), "the schedule moved on");
    }

    #[test]
    fn without_a_schedule_only_damage_is_checked() {
        let t0 = Instant::now();
        let mut plan = Plan {
            interval: Duration::ZERO,
            scheduled: None,
            for_damage: None,
            last_for_damage: None,
        };
        assert_eq!(plan.next(), None);
        plan.damage_met(t0);
        plan.checked(t0);
        assert_eq!(plan.next(), None);
    }

    /// The thread checks the file when woken by damage, off the request's thread, and
    /// the store is ready again once the check passes.
    #[test]
    fn damage_met_wakes_the_thread_which_checks_and_readiness_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        let timer = IntegrityTimer::start(store.clone(), Duration::ZERO, Clock::system());
        store
            .health
            .note(&damaged("a stored value does not decode"));
        // The check runs on the timer's thread: wait for its report (a sound file of a
        // few pages takes milliseconds).
        let deadline = Instant::now() + Duration::from_secs(20);
        while store.last_integrity_pass().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no check within 20 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(store.damage_met(), None);
        assert!(store.is_ready().block());
        timer.stop();
    }
}
