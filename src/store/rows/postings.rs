//! The posting lists behind account filters: for each scope and index term (see
//! `domain::search`), the accounts that hold it in name order, and how many they are.
//! Kept in the transaction of every write of an account.

use std::ops::Bound;

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use crate::domain::{Scope, ServiceAccount};
use crate::error::Error;
use crate::store::reader::{self, Reader};
use crate::store::rows::counts;
use crate::store::{codec, tables};

/// The `meta` entry that says the postings are kept: a file written before them gets
/// them from one walk of the accounts when it is first opened.
const KEPT_KEY: &str = "account_postings";

/// Indexes `account` (of `scope`) as `new` says, where `old` was its record before
/// (`None` for a new account, and `new` is `None` for a removed one).
pub(in crate::store) fn update(
    tx: &WriteTransaction,
    scope: &Scope,
    old: Option<&ServiceAccount>,
    new: Option<&ServiceAccount>,
) -> Result<(), Error> {
    let terms =
        |account: Option<&ServiceAccount>| account.map(|a| a.index_terms()).unwrap_or_default();
    let (before, after) = (terms(old), terms(new));
    let Some(account) = new.or(old) else {
        return Ok(());
    };
    let (key, name, id) = (scope.key(), account.name.as_str(), account.id.as_u128());
    let mut postings = tx.open_table(tables::ACCOUNT_POSTINGS)?;
    let mut counts = tx.open_table(tables::POSTING_COUNTS)?;
    for term in before.difference(&after) {
        postings.remove((key, term.as_str(), name))?;
        counts::step(&mut counts, (key, term.as_str()), false)?;
    }
    for term in after.difference(&before) {
        postings.insert((key, term.as_str(), name), id)?;
        counts::step(&mut counts, (key, term.as_str()), true)?;
    }
    Ok(())
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

/// Makes sure the postings are kept: on a file written before them, indexes every
/// account once.
pub(in crate::store) fn ensure(tx: &WriteTransaction) -> Result<(), Error> {
    if reader::meta(tx, KEPT_KEY)?.is_some() {
        return Ok(());
    }
    let mut accounts = Vec::new();
    for entry in tx.open_table(tables::ACCOUNTS)?.iter()? {
        let (id, bytes) = entry?;
        let account: ServiceAccount = codec::decode_object(
            bytes.value(),
            "service account",
            Uuid::from_u128(id.value()),
        )?;
        accounts.push(account);
    }
    let scopes = tx.open_table(tables::ACCOUNT_SCOPES)?;
    for account in &accounts {
        let scope = match scopes.get(account.id.as_u128())? {
            Some(project) => Scope::from_key(project.value())?,
            None => Scope::Root,
        };
        update(tx, &scope, None, Some(account))?;
    }
    drop(scopes);
    tx.open_table(tables::META)?.insert(KEPT_KEY, 1)?;
    Ok(())
}
