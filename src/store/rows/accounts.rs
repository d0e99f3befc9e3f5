//! Service-account rows: the record by id and the (scope, name) index that orders lists.

use uuid::Uuid;

use crate::domain::{Etag, Kind, Name, Page, Scope, ServiceAccount};
use crate::error::Error;
use crate::store::damage::damaged;
use crate::store::reader::{self, Reader};
use crate::store::records::{self, AccountRecord, StoredAccount};
use crate::store::rows::counts::{self, Index};
use crate::store::rows::postings;
use crate::store::tables;
use crate::store::transaction::Tx;

/// The account `id` with its etag, for an answer that carries one.
pub(in crate::store) fn get(
    tx: &impl Reader,
    id: Uuid,
) -> Result<Option<(ServiceAccount, Etag)>, Error> {
    stored(tx, id, records::decode_with_etag::<AccountRecord, _>)
}

/// The account `id` without its etag: for checks and rewrites that answer none, so they
/// skip hashing the record.
pub(in crate::store) fn record(
    tx: &impl Reader,
    id: Uuid,
) -> Result<Option<ServiceAccount>, Error> {
    stored(tx, id, records::decode::<AccountRecord, _>)
}

fn stored<T>(
    tx: &impl Reader,
    id: Uuid,
    read: impl FnOnce(&[u8]) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    let table = tx.table(tables::ACCOUNTS)?;
    let Some(bytes) = table.get(id.as_u128())? else {
        return Ok(None);
    };
    read(bytes.value()).map(Some)
}

/// The account `id`, which an index or another record names: its absence is the fault
/// `missing`.
pub(in crate::store) fn get_listed(
    tx: &impl Reader,
    id: Uuid,
    missing: &'static str,
) -> Result<(ServiceAccount, Etag), Error> {
    get(tx, id)?.ok_or_else(|| damaged(missing))
}

/// The accounts of a page of ids with their etags, read ahead together; an index or
/// another record names each, so a missing one is the fault `missing`.
pub(in crate::store) fn listed(
    tx: &impl Reader,
    ids: Page<Uuid>,
    missing: &'static str,
) -> Result<Page<(ServiceAccount, Etag)>, Error> {
    let table = tx.table(tables::ACCOUNTS)?;
    table.read_ahead(ids.items.iter().map(|id| id.as_u128()), std::iter::empty())?;
    ids.try_map(|id| get_listed(tx, id, missing))
}

/// [`get_listed`] without the etag.
pub(in crate::store) fn record_listed(
    tx: &impl Reader,
    id: Uuid,
    missing: &'static str,
) -> Result<ServiceAccount, Error> {
    record(tx, id)?.ok_or_else(|| damaged(missing))
}

pub(in crate::store) fn find_id(
    tx: &impl Reader,
    scope: &Scope,
    name: &str,
) -> Result<Option<Uuid>, Error> {
    reader::id_by_name(tx, tables::ACCOUNT_NAMES, scope, name)
}

/// The account named `name` in `scope`, or 404 naming it.
pub(in crate::store) fn get_by_name(
    tx: &impl Reader,
    scope: &Scope,
    name: &Name,
) -> Result<(ServiceAccount, Etag), Error> {
    let missing = || Error::not_found(Kind::ServiceAccount, name.as_str());
    let id = find_id(tx, scope, name.as_str())?.ok_or_else(missing)?;
    get(tx, id)?.ok_or_else(missing)
}

/// Inserts a new account in `scope`; its name must be free there (409 otherwise).
pub(in crate::store) fn insert(
    tx: &Tx,
    scope: &Scope,
    account: &ServiceAccount,
) -> Result<Etag, Error> {
    let mut names = tx.write(tables::ACCOUNT_NAMES)?;
    if names.get((scope.key(), account.name.as_str()))?.is_some() {
        return Err(Error::AlreadyExists {
            kind: Kind::ServiceAccount,
            name: account.name.to_string(),
        });
    }
    names.insert((scope.key(), account.name.as_str()), account.id.as_u128())?;
    counts::change(tx, Index::Accounts, scope, true)?;
    postings::update(tx, scope, None, Some(account))?;
    write(tx, scope, account)
}

/// Writes the record of an account whose name is already indexed, and re-indexes what
/// changed since the record it replaces.
pub(in crate::store) fn put(tx: &Tx, account: &ServiceAccount) -> Result<Etag, Error> {
    let (old, scope) = match stored_account(tx, account.id)? {
        Some(StoredAccount { account, scope }) => (Some(account), scope),
        None => (None, Scope::Root),
    };
    postings::update(tx, &scope, old.as_ref(), Some(account))?;
    write(tx, &scope, account)
}

/// Writes the record of `account`, which lives in `scope`, in the current version.
fn write(tx: &Tx, scope: &Scope, account: &ServiceAccount) -> Result<Etag, Error> {
    let bytes = records::encode::<AccountRecord>((account, scope))?;
    tx.write(tables::ACCOUNTS)?
        .insert(account.id.as_u128(), bytes.as_slice())?;
    Ok(Etag::of(&bytes))
}

/// Removes the record, its name, its postings and its last-seen time.
pub(in crate::store) fn remove(
    tx: &Tx,
    scope: &Scope,
    account: &ServiceAccount,
) -> Result<(), Error> {
    let stored = record(tx, account.id)?;
    postings::update(tx, scope, stored.as_ref(), None)?;
    let removed = tx
        .write(tables::ACCOUNT_NAMES)?
        .remove_checked((scope.key(), account.name.as_str()))?;
    if removed {
        counts::change(tx, Index::Accounts, scope, false)?;
    }
    tx.write(tables::ACCOUNTS)?.remove(account.id.as_u128())?;
    tx.write(tables::LAST_SEEN)?.remove(account.id.as_u128())?;
    Ok(())
}

/// The account `id` with where it lives, as its record holds them.
pub(in crate::store) fn stored_account(
    tx: &impl Reader,
    id: Uuid,
) -> Result<Option<StoredAccount>, Error> {
    stored(tx, id, records::decode::<AccountRecord, _>)
}

/// Where the account `id` lives, as its record says; the root for no account.
pub(in crate::store) fn scope_of(tx: &impl Reader, id: Uuid) -> Result<Scope, Error> {
    let table = tx.table(tables::ACCOUNTS)?;
    let Some(bytes) = table.get(id.as_u128())? else {
        return Ok(Scope::Root);
    };
    records::account_scope(bytes.value())
}

/// Whether any account, with where it lives, satisfies `wanted`, by a scan that stops
/// at the first.
pub(in crate::store) fn any(
    tx: &impl Reader,
    wanted: impl Fn(&StoredAccount) -> bool,
) -> Result<bool, Error> {
    for entry in tx.table(tables::ACCOUNTS)?.iter()? {
        let (_, bytes) = entry?;
        if wanted(&records::decode::<AccountRecord, _>(bytes.value())?) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The ids of every account that satisfies `wanted`, by a scan.
pub(in crate::store) fn ids_where(
    tx: &impl Reader,
    wanted: impl Fn(&ServiceAccount) -> bool,
) -> Result<Vec<Uuid>, Error> {
    let mut found = Vec::new();
    for entry in tx.table(tables::ACCOUNTS)?.iter()? {
        let (id, bytes) = entry?;
        if wanted(&records::decode::<AccountRecord, _>(bytes.value())?) {
            found.push(Uuid::from_u128(id.value()));
        }
    }
    Ok(found)
}

/// When the account last authenticated.
pub(in crate::store) fn last_seen(
    tx: &impl Reader,
    id: Uuid,
) -> Result<Option<crate::domain::Timestamp>, Error> {
    reader::unix_time(tx, tables::LAST_SEEN, id)
}
