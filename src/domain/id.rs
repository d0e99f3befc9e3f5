//! Ids of stored objects.

use uuid::{NoContext, Uuid};

use super::Timestamp;

/// A new id for an object made at `now`: a UUIDv7, whose first 48 bits are that time in
/// milliseconds and the other 74 random. Objects made together then sit together in
/// every table keyed by id, so a batch of creates changes a few pages of each, not one
/// page per create, as random (v4) ids would.
pub fn new_id(now: Timestamp) -> Uuid {
    let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
    Uuid::new_v7(uuid::Timestamp::from_unix(
        NoContext,
        seconds,
        now.timestamp_subsec_nanos(),
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn ids_are_random_and_follow_the_time_they_were_made() {
        let now = chrono::DateTime::UNIX_EPOCH + TimeDelta::days(20_000);
        let (a, b) = (new_id(now), new_id(now));
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 7);
        let later = new_id(now + TimeDelta::milliseconds(1));
        assert!(later > a && later > b, "{a} {b} {later}");
    }
}
