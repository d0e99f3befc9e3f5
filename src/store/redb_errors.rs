//! redb's errors become [`Error::Internal`] here, as text: storage failures are bugs or
//! broken disks, a 500 whose cause only the log sees, and no redb type leaves the store.

use crate::error::Error;

macro_rules! internal_from {
    ($($source:ty),+) => {$(
        impl From<$source> for Error {
            fn from(err: $source) -> Self {
                Error::internal(format!("storage: {err}"))
            }
        }
    )+};
}

internal_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
