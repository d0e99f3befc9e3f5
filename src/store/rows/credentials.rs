//! Credential rows: the record by id, a secret's SHA-256 indexed to its credential,
//! each credential listed under its account with its expiry, and last-use times kept
//! apart from the records.

use uuid::Uuid;

use crate::domain::{Credential, CredentialKind, NewCredential, Timestamp, expiry_seconds, new_id};
use crate::error::Error;
use crate::store::damage::damaged;
use crate::store::kv::TableMut;
use crate::store::reader::{self, Reader};
use crate::store::records::{self, CredentialRecord};
use crate::store::tables::KnownTable;
use crate::store::transaction::Tx;
use crate::store::{WriteContext, tables};

pub(in crate::store) fn get(tx: &impl Reader, id: Uuid) -> Result<Option<Credential>, Error> {
    let table = tx.table(tables::CREDENTIALS)?;
    let Some(bytes) = table.get(id.as_u128())? else {
        return Ok(None);
    };
    Ok(Some(records::decode::<CredentialRecord, _>(bytes.value())?))
}

/// The credential id a secret's hash is indexed to.
pub(in crate::store) fn id_by_hash(
    tx: &impl Reader,
    hash: &[u8; 32],
) -> Result<Option<Uuid>, Error> {
    Ok(tx
        .table(tables::SECRET_HASHES)?
        .get(hash)?
        .map(|v| Uuid::from_u128(v.value())))
}

/// Writes the record and its entry under its account.
pub(in crate::store) fn put(tx: &Tx, credential: &Credential) -> Result<(), Error> {
    let id = credential.id.as_u128();
    tx.write(tables::CREDENTIALS)?.insert(
        id,
        records::encode::<CredentialRecord>(credential)?.as_slice(),
    )?;
    tx.write(tables::ACCOUNT_CREDENTIALS)?.insert(
        (credential.account_id.as_u128(), id),
        expiry_seconds(credential.expires_at),
    )?;
    Ok(())
}

/// Issues `new` to the account `account_id`, by the writer of `ctx`.
pub(in crate::store) fn issue(
    tx: &Tx,
    ctx: &WriteContext,
    account_id: Uuid,
    new: NewCredential,
) -> Result<Credential, Error> {
    let credential = new.into_credential(new_id(ctx.now), account_id, ctx.actor.clone(), ctx.now);
    insert(tx, &credential)?;
    Ok(credential)
}

/// Stores a new credential; a secret is indexed by its hash.
fn insert(tx: &Tx, credential: &Credential) -> Result<(), Error> {
    if let CredentialKind::Secret { hash, .. } = &credential.kind {
        // A failed write leaves nothing, so the insert itself can tell a collision.
        let mut hashes = tx.write(tables::SECRET_HASHES)?;
        if hashes.insert_checked(hash, credential.id.as_u128())? {
            return Err(Error::internal(
                "a generated secret collided with a stored one",
            ));
        }
    }
    put(tx, credential)
}

/// Removes one credential with its index entries and last use.
pub(in crate::store) fn remove(tx: &Tx, credential: &Credential) -> Result<(), Error> {
    let id = credential.id.as_u128();
    tx.write(tables::CREDENTIALS)?.remove(id)?;
    tx.write(tables::ACCOUNT_CREDENTIALS)?
        .remove((credential.account_id.as_u128(), id))?;
    tx.write(tables::LAST_USED)?.remove(id)?;
    if let CredentialKind::Secret { hash, .. } = &credential.kind {
        tx.write(tables::SECRET_HASHES)?.remove(hash)?;
    }
    Ok(())
}

/// Every credential of an account.
pub(in crate::store) fn all_of(
    tx: &impl Reader,
    account_id: Uuid,
) -> Result<Vec<Credential>, Error> {
    let id = account_id.as_u128();
    let index = tx.table(tables::ACCOUNT_CREDENTIALS)?;
    let mut found = Vec::new();
    for entry in index.range((id, 0)..=(id, u128::MAX))? {
        let credential_id = Uuid::from_u128(entry?.0.value().1);
        found.push(
            get(tx, credential_id)?
                .ok_or_else(|| damaged("an account lists a missing credential"))?,
        );
    }
    Ok(found)
}

/// The expiries of an account's credentials, in unix seconds (`NEVER_EXPIRES` for
/// none): the index alone, no record decoded.
fn expiries(tx: &impl Reader, account_id: Uuid) -> Result<Vec<i64>, Error> {
    Ok(indexed(tx, account_id)?
        .into_iter()
        .map(|(_, at)| at)
        .collect())
}

/// An account's credentials as its index lists them: (credential id, expiry).
fn indexed(tx: &impl Reader, account_id: Uuid) -> Result<Vec<(Uuid, i64)>, Error> {
    let table = tx.table(tables::ACCOUNT_CREDENTIALS)?;
    let id = account_id.as_u128();
    let mut found = Vec::new();
    for entry in table.range((id, 0)..=(id, u128::MAX))? {
        let (key, at) = entry?;
        found.push((Uuid::from_u128(key.value().1), at.value()));
    }
    Ok(found)
}

/// Reads ahead what [`shown`] reads of each account of `account_ids`, for a page of
/// them: its index entries, then its credentials.
pub(in crate::store) fn read_ahead(tx: &impl Reader, account_ids: &[Uuid]) -> Result<(), Error> {
    let index = tx.table(tables::ACCOUNT_CREDENTIALS)?;
    if !index.reads_ahead() {
        return Ok(());
    }
    let ranges = account_ids
        .iter()
        .map(|id| ((id.as_u128(), 0), (id.as_u128(), u128::MAX)));
    index.read_ahead(std::iter::empty(), ranges)?;
    let mut held = Vec::new();
    for id in account_ids {
        held.extend(
            indexed(tx, *id)?
                .into_iter()
                .map(|(credential, _)| credential.as_u128()),
        );
    }
    tx.table(tables::CREDENTIALS)?
        .read_ahead(held, std::iter::empty())
}

/// What a read of an account shows of its credentials, from one walk of its index: how
/// many have not expired, and what the seed wire format calls its token: the expiry of
/// its unexpired secret that expires last (`None` when it has none, or when that one
/// never expires), and whether it has secrets but none unexpired. The index is walked
/// latest expiry first and records are decoded only until the first secret, which is
/// usually the first entry: public keys are the only ones skipped.
pub(in crate::store) fn shown(
    tx: &impl Reader,
    account_id: Uuid,
    now: Timestamp,
) -> Result<Shown, Error> {
    shown_among(indexed(tx, account_id)?, now, |id| {
        let credential =
            get(tx, id)?.ok_or_else(|| damaged("an account lists a missing credential"))?;
        Ok((credential.kind.is_secret(), credential.expires_at))
    })
}

/// What [`shown`] answers for an account whose only credential is `credential` (a new
/// account's), without reading it back.
pub(in crate::store) fn shown_of_only(
    credential: Option<&Credential>,
    now: Timestamp,
) -> Result<Shown, Error> {
    let entries = credential.map(|only| (only.id, expiry_seconds(only.expires_at)));
    shown_among(entries.into_iter().collect(), now, |_| {
        Ok(credential.map_or((false, None), |only| {
            (only.kind.is_secret(), only.expires_at)
        }))
    })
}

/// A credential count and token expiry, as [`shown`] describes them.
pub(in crate::store) type Shown = (u32, Option<Timestamp>, bool);

/// [`shown`] over the index entries (credential id, expiry) of an account; `kind_of`
/// tells whether a credential is a secret, and its expiry.
fn shown_among(
    mut entries: Vec<(Uuid, i64)>,
    now: Timestamp,
    mut kind_of: impl FnMut(Uuid) -> Result<(bool, Option<Timestamp>), Error>,
) -> Result<Shown, Error> {
    let active = unexpired(entries.iter().map(|(_, at)| *at), now);
    entries.sort_by_key(|&(_, at)| std::cmp::Reverse(at));
    for (id, at) in entries {
        let (is_secret, expires_at) = kind_of(id)?;
        if is_secret {
            return Ok(match at > now.timestamp() {
                true => (active, expires_at, false),
                false => (active, None, true),
            });
        }
    }
    Ok((active, None, false))
}

/// The earliest expiry of an account's credentials still ahead of `now`.
pub(in crate::store) fn next_expiry(
    tx: &impl Reader,
    account_id: Uuid,
    now: Timestamp,
) -> Result<Option<Timestamp>, Error> {
    let next = expiries(tx, account_id)?
        .into_iter()
        .filter(|at| *at > now.timestamp())
        .min();
    Ok(next.and_then(|secs| Timestamp::from_timestamp(secs, 0)))
}

/// How many of an account's credentials have not expired.
pub(in crate::store) fn count_active(
    tx: &impl Reader,
    account_id: Uuid,
    now: Timestamp,
) -> Result<u32, Error> {
    Ok(unexpired(expiries(tx, account_id)?.into_iter(), now))
}

/// How many of these expiries are still ahead of `now`.
fn unexpired(expiries: impl Iterator<Item = i64>, now: Timestamp) -> u32 {
    let count = expiries.filter(|at| *at > now.timestamp()).count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Removes every credential of an account; answers what it removed.
pub(in crate::store) fn delete_all_of(tx: &Tx, account_id: Uuid) -> Result<Vec<Credential>, Error> {
    let all = all_of(tx, account_id)?;
    for credential in &all {
        remove(tx, credential)?;
    }
    Ok(all)
}

/// When the credential last authenticated.
pub(in crate::store) fn last_used(tx: &impl Reader, id: Uuid) -> Result<Option<Timestamp>, Error> {
    reader::unix_time(tx, tables::LAST_USED, id)
}

/// Writes last uses, (credential, account, when); credentials or accounts deleted since
/// are skipped, and times only move forward.
pub(in crate::store) fn record_uses(
    tx: &Tx,
    uses: &[(Uuid, Uuid, Timestamp)],
) -> Result<(), Error> {
    let credentials = tx.table(tables::CREDENTIALS)?;
    let accounts = tx.table(tables::ACCOUNTS)?;
    let mut used = tx.write(tables::LAST_USED)?;
    let mut seen = tx.write(tables::LAST_SEEN)?;
    for (credential, account, at) in uses {
        if credentials.get(credential.as_u128())?.is_some() {
            keep_latest(&mut used, *credential, *at)?;
        }
        if accounts.get(account.as_u128())?.is_some() {
            keep_latest(&mut seen, *account, *at)?;
        }
    }
    Ok(())
}

/// Stores `at` under `id` unless a later time is there already.
fn keep_latest(
    table: &mut TableMut<'_, impl KnownTable<K = u128, V = i64>>,
    id: Uuid,
    at: Timestamp,
) -> Result<(), Error> {
    let before = table.get(id.as_u128())?.map(|v| v.value());
    let at = at.timestamp();
    table.insert(id.as_u128(), before.map_or(at, |b| b.max(at)))?;
    Ok(())
}
