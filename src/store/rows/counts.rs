//! How many entries each name index holds per scope, kept in the transaction of every
//! insert and removal, so that a list's `total_count` and a project's counts are one
//! read, whatever the number of objects.

use crate::domain::Scope;
use crate::error::Error;
use crate::store::kv::TableMut;
use crate::store::reader::{self, Reader};
use crate::store::tables::{self, KnownTable, NameKey};
use crate::store::transaction::Tx;

/// A counted name index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Index {
    Accounts,
    Groups,
    Roles,
}

impl Index {
    /// Its name in the counts' keys.
    pub(in crate::store) fn key(self) -> &'static str {
        match self {
            Index::Accounts => "accounts",
            Index::Groups => "groups",
            Index::Roles => "roles",
        }
    }
}

/// The `meta` entry that says the counts are kept: a file written before them has
/// none, and gets its counts from one walk of the indexes when it is first opened.
const KEPT_KEY: &str = "name_counts";

/// Counts one more (`added`) or one fewer entry of `index` in `scope`.
pub(in crate::store) fn change(
    tx: &Tx,
    index: Index,
    scope: &Scope,
    added: bool,
) -> Result<(), Error> {
    let mut counts = tx.write(tables::NAME_COUNTS)?;
    step(&mut counts, (index.key(), scope.key()), added)
}

/// Adds one to the count under `key` in `counts`, or takes one away; a count of 0 is no
/// entry, and one that would fall below 0 is a fault.
pub(in crate::store) fn step(
    counts: &mut TableMut<'_, impl KnownTable<K = (&'static str, &'static str), V = u64>>,
    key: (&str, &str),
    added: bool,
) -> Result<(), Error> {
    let now = counts.get(key)?.map_or(0, |c| c.value());
    let next = if added {
        now + 1
    } else {
        now.checked_sub(1)
            .ok_or_else(|| Error::internal(format!("the count of {} fell below 0", key.0)))?
    };
    if next == 0 {
        counts.remove(key)?;
    } else {
        counts.insert(key, next)?;
    }
    Ok(())
}

/// How many entries `index` holds in `scope`.
pub(in crate::store) fn of(tx: &impl Reader, index: Index, scope: &Scope) -> Result<u64, Error> {
    let counts = tx.table(tables::NAME_COUNTS)?;
    Ok(counts
        .get((index.key(), scope.key()))?
        .map_or(0, |c| c.value()))
}

/// Makes sure the counts are kept: on a file written before them, counts every index
/// once, by scope.
pub(in crate::store) fn ensure(tx: &Tx) -> Result<(), Error> {
    if reader::meta(tx, KEPT_KEY)?.is_some() {
        return Ok(());
    }
    count_all(tx, Index::Accounts, tables::ACCOUNT_NAMES)?;
    count_all(tx, Index::Groups, tables::GROUP_NAMES)?;
    count_all(tx, Index::Roles, tables::ROLES)?;
    tx.write(tables::META)?.insert(KEPT_KEY, 1)?;
    Ok(())
}

fn count_all(tx: &Tx, index: Index, names: impl KnownTable<K = NameKey>) -> Result<(), Error> {
    let mut found: Vec<(String, u64)> = Vec::new();
    for entry in tx.table(names)?.iter()? {
        let (key, _) = entry?;
        let scope = key.value().0;
        match found.last_mut() {
            Some((last, count)) if last == scope => *count += 1,
            _ => found.push((scope.to_owned(), 1)),
        }
    }
    let mut counts = tx.write(tables::NAME_COUNTS)?;
    for (scope, count) in found {
        counts.insert((index.key(), scope.as_str()), count)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking;
    use crate::store::test_objects::{name, new_account, new_group, new_project};
    use crate::store::{Store, WriteContext};

    /// The entries of `scope` in the name index `names`, counted one by one.
    fn walk(
        tx: &impl Reader,
        names: impl KnownTable<K = NameKey, V = u128>,
        scope: &Scope,
    ) -> Result<u64, Error> {
        let mut n = 0;
        for entry in tx.table(names)?.iter()? {
            n += u64::from(entry?.0.value().0 == scope.key());
        }
        Ok(n)
    }

    /// Every count as kept, and as a walk of the indexes finds it.
    fn kept_and_walked(store: &Store) -> (Vec<u64>, Vec<u64>) {
        store
            .read(|tx| {
                let mut kept = Vec::new();
                let mut walked = Vec::new();
                for scope in [Scope::Root, Scope::Project(name("p"))] {
                    kept.push(of(tx, Index::Accounts, &scope)?);
                    kept.push(of(tx, Index::Groups, &scope)?);
                    walked.push(walk(tx, tables::ACCOUNT_NAMES, &scope)?);
                    walked.push(walk(tx, tables::GROUP_NAMES, &scope)?);
                }
                Ok((kept, walked))
            })
            .block()
            .unwrap()
    }

    #[test]
    fn counts_follow_every_change_and_a_file_without_them_gets_them_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let store = Store::open(&path).unwrap();
        let ctx = WriteContext::system(crate::clock::now(), "test");
        store.create_project(&ctx, new_project("p")).wait().unwrap();
        let project = Scope::Project(name("p"));
        for (scope, n) in [(&Scope::Root, 3), (&project, 5)] {
            for i in 0..n {
                let account = new_account(&format!("a{i}"));
                store
                    .create_service_account(&ctx, scope, account, None)
                    .wait()
                    .unwrap();
            }
            store
                .create_group(&ctx, scope, new_group("team"))
                .wait()
                .unwrap();
        }
        store
            .delete_service_account(&ctx, &project, &name("a0"), None)
            .wait()
            .unwrap();
        store
            .delete_group(&ctx, &Scope::Root, &name("team"), None)
            .wait()
            .unwrap();
        let (kept, walked) = kept_and_walked(&store);
        assert_eq!(kept, [3, 0, 4, 1]);
        assert_eq!(kept, walked);

        // A file written before the counts: none kept, and no mark.
        store
            .write(|tx| {
                tx.write(tables::NAME_COUNTS)?.retain(|_, _| false)?;
                tx.write(tables::META)?.remove(KEPT_KEY)?;
                Ok(())
            })
            .wait()
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        let (kept, walked) = kept_and_walked(&store);
        assert_eq!(kept, [3, 0, 4, 1]);
        assert_eq!(kept, walked);
    }
}
