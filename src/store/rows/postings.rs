//! The posting lists behind account filters: for each scope and index term (see
//! `domain::search`), the accounts that hold it in name order, and how many they are.
//! Kept in the transaction of every write of an account.

use std::collections::BTreeSet;
use std::ops::Bound;

use redb::{ReadableTable, Table, WriteTransaction};
use uuid::Uuid;

use crate::domain::{Scope, ServiceAccount};
use crate::error::Error;
use crate::store::reader::{self, Reader};
use crate::store::rows::condition_sets::{self, Numbering};
use crate::store::rows::counts;
use crate::store::transaction::Tx;
use crate::store::{codec, tables};

/// The `meta` entry that says which postings are kept: 1, every term but `d:`; 2,
/// every term; 3, every term and the condition sets (`rows::condition_sets`); 4, and
/// the sets of the text (positioned trigrams, starts of names). A file written before
/// them, or before `d:` or the sets, gets what it lacks from one walk of the accounts
/// when it is first opened.
const KEPT_KEY: &str = "account_postings";
const KEPT: u64 = 4;

/// Indexes `account` (of `scope`) as `new` says, where `old` was its record before
/// (`None` for a new account, and `new` is `None` for a removed one).
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
        |account: Option<&ServiceAccount>| account.map(|a| a.index_terms()).unwrap_or_default();
    let (before, after) = (terms(old), terms(new));
    let left: Vec<&String> = before.difference(&after).collect();
    let joined: Vec<&String> = after.difference(&before).collect();
    let mut lists = Lists::open(tx)?;
    for term in &left {
        lists.remove(scope, term, account)?;
    }
    for term in &joined {
        lists.add(scope, term, account)?;
    }
    drop(lists);
    let numbering = match (old, new) {
        (None, _) => Numbering::Give,
        (Some(_), None) => Numbering::GiveUp,
        (Some(_), Some(_)) => Numbering::Keep,
    };
    let terms =
        |account: Option<&ServiceAccount>| account.map(|a| a.set_terms()).unwrap_or_default();
    let (before, after) = (terms(old), terms(new));
    let left: Vec<&String> = before.difference(&after).collect();
    let joined: Vec<&String> = after.difference(&before).collect();
    condition_sets::update(tx, scope, account, numbering, &left, &joined)
}

/// The posting table and its counts, open for writing.
struct Lists<'tx> {
    postings: Table<'tx, (&'static str, &'static str, &'static str), u128>,
    counts: Table<'tx, (&'static str, &'static str), u64>,
}

impl<'tx> Lists<'tx> {
    fn open(tx: &'tx WriteTransaction) -> Result<Self, Error> {
        Ok(Lists {
            postings: tx.open_table(tables::ACCOUNT_POSTINGS)?,
            counts: tx.open_table(tables::POSTING_COUNTS)?,
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
    postings: &'t impl ReadableTable<(&'static str, &'static str, &'static str), u128>,
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

/// Makes sure every posting is kept: on a file written before them, indexes every
/// account once; on one written before `d:`, adds those; on one written before the
/// condition sets, numbers the accounts and fills the sets; on one written before the
/// sets of the text, fills those. The sets' blocks are written directly, not through
/// `Tx`: this runs when the store opens, in a transaction of its own.
pub(in crate::store) fn ensure(tx: &WriteTransaction) -> Result<(), Error> {
    let kept = reader::meta(tx, KEPT_KEY)?;
    match kept {
        Some(kept) if kept >= KEPT => return Ok(()),
        Some(3) => condition_sets::fill_text_sets(tx)?,
        _ => index_all(tx, kept)?,
    }
    tx.open_table(tables::META)?.insert(KEPT_KEY, KEPT)?;
    Ok(())
}

/// Adds the postings a file marked `kept` lacks, numbers its accounts and fills every
/// set.
fn index_all(tx: &WriteTransaction, kept: Option<u64>) -> Result<(), Error> {
    // One account at a time, from the records beside the lists: nothing held in memory
    // grows with the number of accounts.
    let accounts = tx.open_table(tables::ACCOUNTS)?;
    let scopes = tx.open_table(tables::ACCOUNT_SCOPES)?;
    let mut lists = Lists::open(tx)?;
    let mut sets = condition_sets::Builder::new(tx)?;
    for entry in accounts.iter()? {
        let (id, bytes) = entry?;
        let account: ServiceAccount = codec::decode_object(
            bytes.value(),
            "service account",
            Uuid::from_u128(id.value()),
        )?;
        let scope = match scopes.get(account.id.as_u128())? {
            Some(project) => Scope::from_key(project.value())?,
            None => Scope::Root,
        };
        let missing = match kept {
            None => account.index_terms(),
            Some(1) => account.display_terms(),
            Some(_) => BTreeSet::new(),
        };
        for term in &missing {
            lists.add(&scope, term, &account)?;
        }
        sets.add(&scope, &account)?;
    }
    sets.finish()
}
