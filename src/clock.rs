//! The one place that reads the wall clock. Rules take `now` as a parameter; the
//! server reads it from one [`Clock`], made once at start and handed to everything
//! that reads time (the app's `app_data`, the store, the background tasks), so that a
//! test can move the whole server's time forward. `clippy.toml` bans `Utc::now`
//! everywhere else.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// The server's time: the system's time plus an offset that starts at zero. Clones
/// share the offset, so that advancing one advances the server that holds another.
/// Production code never advances it; `advance` is for tests, which pass a grace
/// period or a lifetime of 30 days without waiting for it.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    /// The system's time, unmoved.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, to the second: every timestamp keyhouse stores and shows has second
    /// precision.
    pub fn now(&self) -> DateTime<Utc> {
        let system = now();
        let offset = Duration::seconds(self.offset_seconds.load(Ordering::Relaxed));
        system.checked_add_signed(offset).unwrap_or(system)
    }

    /// The monotonic clock moved as far as this clock: for waits measured as durations
    /// (the failed-authentication limiter's window), which a jump of the system's time
    /// must not shorten, but which a test passes with [`Clock::advance`].
    pub fn monotonic(&self) -> Instant {
        let now = Instant::now();
        let offset = u64::try_from(self.offset_seconds.load(Ordering::Relaxed)).unwrap_or(0);
        now.checked_add(std::time::Duration::from_secs(offset))
            .unwrap_or(now)
    }

    /// Moves this clock and all its clones forward by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

/// The system's time, to the second, for code that runs without a server and so
/// without its [`Clock`]: the command line's offline commands and unit tests.
#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advance_moves_every_clone() {
        let clock = Clock::system();
        let shared = clock.clone();
        let before = clock.now();
        shared.advance(Duration::days(31));
        let moved = clock.now() - before;
        assert!(moved >= Duration::days(31), "{moved}");
        assert!(moved < Duration::days(31) + Duration::seconds(5), "{moved}");
        let ahead = clock.monotonic() - Instant::now();
        assert!(
            ahead >= std::time::Duration::from_secs(31 * 86_400 - 1),
            "{ahead:?}"
        );
    }
}
