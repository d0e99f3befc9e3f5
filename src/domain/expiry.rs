//! Expiry: when accounts and credentials stop working. Every function takes `now`.

use chrono::{Duration, SubsecRound};

use super::Timestamp;
use crate::error::Error;

/// `days_valid` of a service account: 1 to 730.
pub const MAX_ACCOUNT_DAYS_VALID: i64 = 730;

/// Expired at and after `expires_at`; never without one.
pub fn is_expired(expires_at: Option<Timestamp>, now: Timestamp) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

/// `at` to the second, if it is in the future.
pub(super) fn future(field: &str, at: Timestamp, now: Timestamp) -> Result<Timestamp, Error> {
    let at = at.trunc_subsecs(0);
    if at <= now {
        return Err(Error::invalid(field, "must be in the future"));
    }
    Ok(at)
}

/// An account's expiry from `expires_at` or `days_valid`, at most one of them.
pub fn account_expiry(
    expires_at: Option<Timestamp>,
    days_valid: Option<i64>,
    now: Timestamp,
) -> Result<Option<Timestamp>, Error> {
    match (expires_at, days_valid) {
        (Some(_), Some(_)) => Err(Error::invalid(
            "days_valid",
            "cannot be combined with expires_at",
        )),
        (Some(at), None) => future("expires_at", at, now).map(Some),
        (None, Some(days @ 1..=MAX_ACCOUNT_DAYS_VALID)) => Ok(Some(now + Duration::days(days))),
        (None, Some(_)) => Err(Error::invalid("days_valid", "must be 1 to 730")),
        (None, None) => Ok(None),
    }
}

/// The end of a credential lifetime of `days` from `now`; 0 days is no end (the
/// `credentials.*_lifetime_days` settings use 0 for "never" and "no maximum").
pub fn lifetime_end(now: Timestamp, days: u32) -> Option<Timestamp> {
    (days > 0).then(|| now + Duration::days(i64::from(days)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        chrono::DateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[test]
    fn expiry_is_inclusive() {
        assert!(is_expired(Some(t0()), t0()));
        assert!(!is_expired(Some(t0() + Duration::seconds(1)), t0()));
        assert!(!is_expired(None, t0()));
    }

    #[test]
    fn account_expiry_rules() {
        let now = t0();
        assert_eq!(account_expiry(None, None, now).unwrap(), None);
        assert_eq!(
            account_expiry(None, Some(1), now).unwrap(),
            Some(now + Duration::days(1))
        );
        assert!(account_expiry(None, Some(0), now).is_err());
        assert!(account_expiry(None, Some(731), now).is_err());
        assert!(account_expiry(Some(now), None, now).is_err());
        let half_a_second = now + Duration::milliseconds(500);
        assert!(
            account_expiry(Some(half_a_second), None, now).is_err(),
            "to the second"
        );
        assert!(account_expiry(Some(now + Duration::days(1)), Some(1), now).is_err());
    }

    #[test]
    fn a_lifetime_of_zero_days_has_no_end() {
        let now = t0();
        assert_eq!(lifetime_end(now, 0), None);
        assert_eq!(lifetime_end(now, 30), Some(now + Duration::days(30)));
    }
}
