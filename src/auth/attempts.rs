//! Authentication attempts: counted in `/metrics` by kind and outcome, failures logged
//! without the credential, and failures limited per client address. Past
//! `security.max_auth_failures` failures within `security.auth_failure_window_seconds`
//! (counted by governor's GCRA limiter) an address is refused with 429 until a window
//! has passed, whatever it sends, so a guess that happens to be right is refused too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use actix_web::{HttpRequest, web};

use crate::clock::Clock;
use crate::error::{Error, OAuthError};

/// The labels of `keyhouse_auth_attempts_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    /// `secret`, `access_token`, `client_secret` or `client_assertion`.
    pub kind: &'static str,
    /// `success`, or why it failed.
    pub outcome: &'static str,
}

/// Limiter keys kept before forgetting idle ones.
const PRUNE_ABOVE: usize = 4096;

/// The limiter's time: the monotonic clock, moved with the server's [`Clock`].
#[derive(Clone)]
struct LimiterClock(Clock);

impl governor::clock::Clock for LimiterClock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        self.0.monotonic()
    }
}

pub struct AuthAttempts {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, LimiterClock>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    window: Duration,
    counts: Family<AttemptLabels, Counter>,
}

impl AuthAttempts {
    pub fn new(
        max_failures: u32,
        window_seconds: u64,
        counts: Family<AttemptLabels, Counter>,
        clock: Clock,
    ) -> AuthAttempts {
        let max = NonZeroU32::new(max_failures).unwrap_or(NonZeroU32::MIN);
        let window = Duration::from_secs(window_seconds.max(1));
        let quota = Quota::with_period(window / max.get())
            .unwrap_or_else(|| Quota::per_second(max))
            .allow_burst(max);
        AuthAttempts {
            limiter: RateLimiter::new(
                quota,
                DefaultKeyedStateStore::default(),
                LimiterClock(clock),
            ),
            blocked: Mutex::new(HashMap::new()),
            window,
            counts,
        }
    }

    /// Now, on the limiter's clock: blocks and the limiter's quota keep one time.
    fn now(&self) -> Instant {
        governor::clock::Clock::now(self.limiter.clock())
    }

    fn refusal(&self, until: Instant, now: Instant) -> Error {
        Error::RateLimited {
            retry_after_seconds: until.saturating_duration_since(now).as_secs().max(1),
        }
    }

    /// 429 while `ip` is blocked.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), Error> {
        let (Some(ip), Ok(blocked)) = (ip, self.blocked.lock()) else {
            return Ok(());
        };
        let now = self.now();
        match blocked.get(&ip) {
            Some(until) if *until > now => Err(self.refusal(*until, now)),
            _ => Ok(()),
        }
    }

    pub fn succeeded(&self, kind: &'static str) {
        self.count(kind, "success");
    }

    /// Counts and logs a failure; past the limit, blocks `ip` and answers the 429 that
    /// replaces this request's own error.
    pub fn failed(
        &self,
        ip: Option<IpAddr>,
        kind: &'static str,
        reason: &'static str,
    ) -> Option<Error> {
        self.count(kind, reason);
        let shown = ip.map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string());
        log::warn!("failed authentication from {shown}: {kind}, {reason}");
        let ip = ip?;
        if self.limiter.len() > PRUNE_ABOVE {
            self.limiter.retain_recent();
        }
        if self.limiter.check_key(&ip).is_ok() {
            return None;
        }
        let now = self.now();
        let until = now + self.window;
        if let Ok(mut blocked) = self.blocked.lock() {
            blocked.retain(|_, until| *until > now);
            blocked.insert(ip, until);
        }
        log::warn!(
            "blocking {ip} for {} s after repeated failed authentications",
            self.window.as_secs()
        );
        Some(self.refusal(until, now))
    }

    fn count(&self, kind: &'static str, outcome: &'static str) {
        self.counts
            .get_or_create(&AttemptLabels { kind, outcome })
            .inc();
    }
}

/// The `outcome` of an error that is a failed authentication; other errors are not
/// authentication outcomes.
fn failure_reason(err: &Error) -> Option<&'static str> {
    match err {
        Error::Unauthenticated(failure) => Some(failure.label()),
        Error::OAuth {
            error: OAuthError::InvalidClient,
            ..
        } => Some("invalid_client"),
        _ => None,
    }
}

/// Runs one authentication `attempt` of `kind` for the request's client address: refused
/// at once while the address is blocked, counted, and limited when it fails.
pub async fn guarded<T>(
    req: &HttpRequest,
    kind: &'static str,
    attempt: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let Some(attempts) = req.app_data::<web::Data<AuthAttempts>>() else {
        return attempt.await;
    };
    let ip = req.peer_addr().map(|addr| addr.ip());
    attempts.check(ip)?;
    let result = attempt.await;
    match &result {
        Ok(_) => attempts.succeeded(kind),
        Err(err) => {
            if let Some(blocked) =
                failure_reason(err).and_then(|reason| attempts.failed(ip, kind, reason))
            {
                return Err(blocked);
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_past_the_limit_and_others_are_not() {
        let attempts = AuthAttempts::new(3, 60, Family::default(), Clock::system());
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(attempts.failed(Some(a), "secret", "unknown").is_none());
            assert!(attempts.check(Some(a)).is_ok());
        }
        let refusal = attempts.failed(Some(a), "secret", "unknown");
        assert!(matches!(
            refusal,
            Some(Error::RateLimited {
                retry_after_seconds: 60
            })
        ));
        assert!(matches!(
            attempts.check(Some(a)),
            Err(Error::RateLimited { .. })
        ));
        assert!(attempts.check(Some(b)).is_ok());
        assert!(attempts.failed(Some(b), "secret", "unknown").is_none());
    }

    #[test]
    fn a_block_ends_when_the_servers_clock_passes_the_window() {
        let clock = Clock::system();
        let attempts = AuthAttempts::new(1, 60, Family::default(), clock.clone());
        let a: IpAddr = [10, 0, 0, 1].into();
        assert!(attempts.failed(Some(a), "secret", "unknown").is_none());
        assert!(attempts.failed(Some(a), "secret", "unknown").is_some());
        clock.advance(chrono::Duration::seconds(59));
        assert!(attempts.check(Some(a)).is_err(), "still within the window");
        clock.advance(chrono::Duration::seconds(2));
        assert!(attempts.check(Some(a)).is_ok(), "the window has passed");
        assert!(attempts.failed(Some(a), "secret", "unknown").is_none());
    }

    #[test]
    fn outcomes_are_counted_by_kind_and_reason() {
        let attempts = AuthAttempts::new(10, 60, Family::default(), Clock::system());
        attempts.succeeded("secret");
        attempts.failed(None, "secret", "malformed");
        attempts.failed(None, "secret", "malformed");
        let count = |kind: &'static str, outcome: &'static str| {
            attempts
                .counts
                .get_or_create(&AttemptLabels { kind, outcome })
                .get()
        };
        assert_eq!(
            (count("secret", "success"), count("secret", "malformed")),
            (1, 2)
        );
    }
}
