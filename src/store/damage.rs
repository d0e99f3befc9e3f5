//! Damage to the database file met while serving. redb verifies page checksums only in
//! its integrity check, so a file damaged at rest is read as it is: a request may meet
//! a page redb cannot make sense of, a panic of redb, a stored value that does not
//! decode, or one table naming what another lacks. Each is an [`Error::Internal`] whose
//! cause is a [`Damage`]: the client gets the same 500 as for any internal error, and
//! the store, which sees the cause, stops being ready and checks the file (see
//! `integrity`). `src/error` knows nothing of this: the marker is the cause's type.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::Error;

/// The cause of an internal error that tells of a damaged file (or of a bug that looks
/// the same: a panic in a transaction, a value the code cannot read back).
#[derive(Debug)]
pub(super) struct Damage(String);

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Damage {}

/// An internal error (500) that tells of damage: `what` goes to the log only.
pub(super) fn damaged(what: impl Into<String>) -> Error {
    Error::internal(Damage(what.into()))
}

/// What `err` tells of damage, if it does.
pub(super) fn damage_in(err: &Error) -> Option<&str> {
    match err {
        Error::Internal(cause) => cause.downcast_ref::<Damage>().map(|d| d.0.as_str()),
        _ => None,
    }
}

/// The text of a caught panic.
pub(super) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Runs `f`, turning a panic (an engine may assert on a damaged page) into an error that
/// tells of damage.
pub(super) fn unpanicked<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(damaged(format!(
            "the database failed while reading: {}",
            panic_text(payload.as_ref())
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_is_an_ordinary_internal_error_that_the_store_recognises() {
        let err = damaged("page 7 does not decode");
        assert_eq!(err.code(), crate::error::Code::Internal);
        assert_eq!(err.to_string(), "internal error");
        assert_eq!(damage_in(&err), Some("page 7 does not decode"));
        assert_eq!(damage_in(&Error::internal("disk full")), None);
        assert_eq!(damage_in(&Error::StaleEtag), None);
    }
}
