//! The posting lists behind account filters: for each scope and condition term (see
//! `domain::search`), the accounts that hold it in name order, and how many they are.
//! Kept in the transaction of every write of an account, with the sets of numbers
//! (`rows::condition_sets`).

use std::ops::Bound;

use uuid::Uuid;

use crate::domain::{Scope, ServiceAccount, is_condition_term};
use crate::error::Error;
use crate::store::kv::{TableMut, TableRef};
use crate::store::reader::{self, Reader};
use crate::store::records::{self, AccountRecord, StoredAccount};
use crate::store::rows::condition_sets::{self, Numbering};
use crate::store::rows::counts;
use crate::store::tables;
use crate::store::tables::{AccountPostings, PostingCounts};
use crate::store::transaction::Tx;

/// The `meta` entry that says which postings are kept: 1, every term of `domain::search`
/// then but `d:`; 2, every term; 3, every term and the condition sets
/// (`rows::condition_sets`); 4, and the sets of the text (positioned trigrams, starts
/// of names); 5, the conditions' lists and every set, the lists of the text (`t:`,
/// `d:`) dropped. A file written before them gets what it lacks from one walk of the
/// accounts when it is first opened, and loses the lists it no longer needs.
const KEPT_KEY: &str = "account_postings";
const KEPT: u64 = 5;

/// Indexes `account` (of `scope`) as `new` says, where `old` was its record before
/// (`None` for a new account, and `new` is `None` for a removed one): the posting lists
/// of its conditions, and the sets of its conditions and text.
pub(in crate::store) fn update(
    tx: &Tx,
    scope: &Scope,
    old: Option<&ServiceAccount>,
    new: Option<&ServiceAccount>,
) -> Result<(), Error> {
    let Some(account) = new.or(old) else {
        return Ok(());
    };
    let terms =
        |account: Option<&ServiceAccount>| account.map(|a| a.set_terms()).unwrap_or_default();
    let (before, after) = (terms(old), terms(new));
    let left: Vec<&String> = before.difference(&after).collect();
    let joined: Vec<&String> = after.difference(&before).collect();
    let mut lists = Lists::open(tx)?;
    for term in left.iter().filter(|term| is_condition_term(term)) {
        lists.remove(scope, term, account)?;
    }
    for term in joined.iter().filter(|term| is_condition_term(term)) {
        lists.add(scope, term, account)?;
    }
    let numbering = match (old, new) {
        (None, _) => Numbering::Give,
        (Some(_), None) => Numbering::GiveUp,
        (Some(_), Some(_)) => Numbering::Keep,
    };
    condition_sets::update(tx, scope, account, numbering, &left, &joined)
}

/// The posting table and its counts, open for writing.
struct Lists<'a> {
    postings: TableMut<'a, AccountPostings>,
    counts: TableMut<'a, PostingCounts>,
}

impl<'a> Lists<'a> {
    fn open(tx: &'a Tx) -> Result<Self, Error> {
        Ok(Lists {
            postings: tx.write(tables::ACCOUNT_POSTINGS)?,
            counts: tx.write(tables::POSTING_COUNTS)?,
        })
    }

    fn add(&mut self, scope: &Scope, term: &str, account: &ServiceAccount) -> Result<(), Error> {
        let (key, name) = (scope.key(), account.name.as_str());
        self.postings
            .insert((key, term, name), account.id.as_u128())?;
        counts::step(&mut self.counts, (key, term), true)
    }

    fn remove(&mut self, scope: &Scope, term: &str, account: &ServiceAccount) -> Result<(), Error> {
        let (key, name) = (scope.key(), account.name.as_str());
        self.postings.remove((key, term, name))?;
        counts::step(&mut self.counts, (key, term), false)
    }
}

/// How many accounts of `scope` hold `term`.
pub(in crate::store) fn count(tx: &impl Reader, scope: &Scope, term: &str) -> Result<u64, Error> {
    Ok(tx
        .table(tables::POSTING_COUNTS)?
        .get((scope.key(), term))?
        .map_or(0, |c| c.value()))
}

/// The accounts of `scope` holding `term`, in name order from `start` on, as
/// (name, id).
pub(in crate::store) fn walk<'t>(
    postings: &TableRef<'t, AccountPostings>,
    scope: &Scope,
    term: &str,
    start: Bound<&str>,
) -> Result<impl Iterator<Item = Result<(String, Uuid), Error>> + 't, Error> {
    let key = scope.key();
    let start = match start {
        Bound::Included(name) => Bound::Included((key, term, name)),
        Bound::Excluded(name) => Bound::Excluded((key, term, name)),
        Bound::Unbounded => Bound::Included((key, term, "")),
    };
    let (key, term) = (key.to_owned(), term.to_owned());
    Ok(postings
        .range((start, Bound::Unbounded))?
        .map(move |entry| {
            let (k, id) = entry?;
            let (scope, found, name) = k.value();
            Ok((scope == key && found == term)
                .then(|| (name.to_owned(), Uuid::from_u128(id.value()))))
        })
        .map_while(|entry: Result<Option<_>, Error>| entry.transpose()))
}

/// Makes sure every posting is kept: on a file written before them, lists the
/// conditions of every account once, numbers the accounts and fills every set; on one
/// written before the condition sets, the same but the lists; on one written before the
/// sets of the text, fills those; and drops the lists of the text from a file that has
/// them. The sets' blocks are written directly, not through `Tx`: this runs when the
/// store opens, in a transaction of its own.
pub(in crate::store) fn ensure(tx: &Tx) -> Result<(), Error> {
    let kept = reader::meta(tx, KEPT_KEY)?;
    match kept {
        Some(kept) if kept >= KEPT => return Ok(()),
        Some(4) => {}
        Some(3) => condition_sets::fill_text_sets(tx)?,
        _ => index_all(tx, kept.is_none())?,
    }
    if kept.is_some() {
        drop_text_lists(tx)?;
    }
    tx.write(tables::META)?.insert(KEPT_KEY, KEPT)?;
    Ok(())
}

/// Numbers every account and fills every set, and first lists the conditions of each
/// when `unlisted` (a file written before the posting lists).
fn index_all(tx: &Tx, unlisted: bool) -> Result<(), Error> {
    // One account at a time, from the records beside the lists: nothing held in memory
    // grows with the number of accounts.
    let accounts = tx.write(tables::ACCOUNTS)?;
    let mut lists = Lists::open(tx)?;
    let mut sets = condition_sets::Builder::new(tx)?;
    for entry in accounts.iter()? {
        let (id, bytes) = entry?;
        let StoredAccount { account, scope } =
            records::decode_object::<AccountRecord, _>(bytes.value(), Uuid::from_u128(id.value()))?;
        if unlisted {
            for term in &account.condition_terms() {
                lists.add(&scope, term, &account)?;
            }
        }
        sets.add(&scope, &account)?;
    }
    sets.finish()
}

/// Whether `term` is of the text, as files kept at 4 or less list them: `t:<trigram>`
/// of a name or display name, `d:<trigram>` of a display name of its own.
fn of_text(term: &str) -> bool {
    term.starts_with("t:") || term.starts_with("d:")
}

/// Removes the posting lists of the text, and their counts: the sets answer queries
/// now.
fn drop_text_lists(tx: &Tx) -> Result<(), Error> {
    let mut lists = Lists::open(tx)?;
    lists.postings.retain(|(_, term, _), _| !of_text(term))?;
    lists.counts.retain(|(_, term), _| !of_text(term))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::*;
    use crate::store::Blocking;
    use crate::store::Store;

    /// The terms of text (`t:`, `d:`) in the posting lists and their counts.
    fn text_terms(tx: &impl Reader) -> BTreeSet<String> {
        let mut terms = BTreeSet::new();
        for entry in tx.table(tables::ACCOUNT_POSTINGS).unwrap().iter().unwrap() {
            let (key, _) = entry.unwrap();
            let (_, term, _) = key.value();
            terms.extend(of_text(term).then(|| format!("list {term}")));
        }
        for entry in tx.table(tables::POSTING_COUNTS).unwrap().iter().unwrap() {
            let (key, _) = entry.unwrap();
            let (_, term) = key.value();
            terms.extend(of_text(term).then(|| format!("count {term}")));
        }
        terms
    }

    #[test]
    fn a_file_kept_at_4_loses_the_lists_of_its_text_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/postings-4/keyhouse.redb");
        std::fs::copy(fixture, &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let before = crate::store::redb::read_file(&path, |tx| {
            assert_eq!(reader::meta(tx, KEPT_KEY).unwrap(), Some(4));
            text_terms(tx)
        });
        assert!(before.contains("list t:bot") && before.contains("count d:i b"));

        let store = Store::open(&path).unwrap();
        store
            .read(|tx| {
                assert_eq!(text_terms(tx), BTreeSet::new());
                assert_eq!(reader::meta(tx, KEPT_KEY)?, Some(KEPT));
                assert_eq!(
                    count(tx, &Scope::Root, "s:disabled")?,
                    1,
                    "the conditions stay"
                );
                Ok(())
            })
            .block()
            .unwrap();
    }
}
