//! redb's errors become [`Error::Internal`] here, as text: storage failures are bugs or
//! broken disks, a 500 whose cause only the log sees, and no redb type leaves the store.
//! A page redb finds corrupted is [`damaged`]: the same 500, which the store also reads
//! as a sign to check the file.

use redb::StorageError::Corrupted;

use crate::error::Error;
use crate::store::damage::damaged;

macro_rules! internal_from {
    ($($source:ty => $corrupted:pat),+ $(,)?) => {$(
        impl From<$source> for Error {
            fn from(err: $source) -> Self {
                let text = format!("storage: {err}");
                match err {
                    $corrupted => damaged(text),
                    #[allow(unreachable_patterns)]
                    _ => Error::internal(text),
                }
            }
        }
    )+};
}

internal_from!(
    redb::Error => redb::Error::Corrupted(_),
    redb::DatabaseError => redb::DatabaseError::Storage(Corrupted(_)),
    redb::TransactionError => redb::TransactionError::Storage(Corrupted(_)),
    redb::TableError => redb::TableError::Storage(Corrupted(_)),
    redb::StorageError => Corrupted(_),
    redb::CommitError => redb::CommitError::Storage(Corrupted(_)),
);

impl From<redb::SetDurabilityError> for Error {
    fn from(err: redb::SetDurabilityError) -> Self {
        Error::internal(format!("storage: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::damage::damage_in;

    #[test]
    fn a_corrupted_page_is_damage_and_other_storage_errors_are_not() {
        let corrupted = || Corrupted("bad page".to_owned());
        let errors: [Error; 4] = [
            corrupted().into(),
            redb::TableError::Storage(corrupted()).into(),
            redb::CommitError::Storage(corrupted()).into(),
            redb::Error::Corrupted("bad page".to_owned()).into(),
        ];
        for err in errors {
            assert!(damage_in(&err).is_some_and(|d| d.contains("bad page")));
        }
        let io: Error = redb::StorageError::Io(std::io::Error::other("disk")).into();
        assert_eq!(damage_in(&io), None);
    }
}
