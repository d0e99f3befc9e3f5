//! PostgreSQL's errors become the store's, as text (no client type leaves the store):
//! a connection that is gone or cannot be made is [`Error::Unavailable`] (503 with
//! `Retry-After`: a failover, a restart, a network cut), anything else is a 500 whose
//! cause only the log sees.

use postgres::error::SqlState;

use crate::error::Error;

impl From<postgres::Error> for Error {
    fn from(err: postgres::Error) -> Self {
        // The server's message and code, which the client's `Display` leaves out.
        let text = match err.as_db_error() {
            Some(db) => format!("database: {} ({})", db.message(), db.code().code()),
            None => format!("database: {err}"),
        };
        if unavailable(&err) {
            Error::Unavailable(text.into())
        } else {
            Error::internal(text)
        }
    }
}

/// Whether `err` says that no database takes requests now, rather than that one refused
/// this request: the connection broke or could not be made, or the server is shutting
/// down, starting, or read-only (a standby not yet promoted).
pub(super) fn unavailable(err: &postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    match err.code() {
        Some(code) => [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::READ_ONLY_SQL_TRANSACTION,
            SqlState::CONNECTION_EXCEPTION,
            SqlState::CONNECTION_FAILURE,
            SqlState::CONNECTION_DOES_NOT_EXIST,
            SqlState::SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
        ]
        .contains(code),
        // No answer from a server at all: the connection's own failure.
        None => err.as_db_error().is_none(),
    }
}

/// Whether a write failed only because another committed first (serializable
/// isolation), so that running it again may succeed.
pub(super) fn conflict(err: &postgres::Error) -> bool {
    err.code().is_some_and(|code| {
        *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}
