//! Role rows, keyed by (scope, name): the built-ins kept in step with the code, and
//! custom roles.

use crate::domain::{Etag, Kind, Name, Role, Scope, Timestamp};
use crate::error::Error;
use crate::store::reader::{self, Reader};
use crate::store::records::{self, RoleRecord};
use crate::store::rows::counts::{self, Index};
use crate::store::tables;
use crate::store::transaction::Tx;

/// The role named `name` in `scope`, if any, without its etag.
pub(in crate::store) fn find(
    tx: &impl Reader,
    scope: &Scope,
    name: &Name,
) -> Result<Option<Role>, Error> {
    stored(tx, scope, name, records::decode::<RoleRecord, _>)
}

/// The role named `name` in `scope` with its etag, or 404 naming it.
pub(in crate::store) fn get_by_name(
    tx: &impl Reader,
    scope: &Scope,
    name: &Name,
) -> Result<(Role, Etag), Error> {
    stored(tx, scope, name, records::decode_with_etag::<RoleRecord, _>)?
        .ok_or_else(|| Error::not_found(Kind::Role, name.as_str()))
}

fn stored<T>(
    tx: &impl Reader,
    scope: &Scope,
    name: &Name,
    read: impl FnOnce(&[u8]) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    let table = tx.table(tables::ROLES)?;
    let Some(bytes) = table.get((scope.key(), name.as_str()))? else {
        return Ok(None);
    };
    read(bytes.value()).map(Some)
}

pub(in crate::store) fn put(tx: &Tx, scope: &Scope, role: &Role) -> Result<Etag, Error> {
    let bytes = records::encode::<RoleRecord>(role)?;
    let added = !tx
        .write(tables::ROLES)?
        .insert_checked((scope.key(), role.name.as_str()), bytes.as_slice())?;
    if added {
        counts::change(tx, Index::Roles, scope, true)?;
    }
    Ok(Etag::of(&bytes))
}

pub(in crate::store) fn remove(tx: &Tx, scope: &Scope, role: &Role) -> Result<(), Error> {
    let removed = tx
        .write(tables::ROLES)?
        .remove_checked((scope.key(), role.name.as_str()))?;
    if removed {
        counts::change(tx, Index::Roles, scope, false)?;
    }
    Ok(())
}

/// Every role of `scope` in name order, each with its name and etag.
pub(in crate::store) fn all(
    tx: &impl Reader,
    scope: &Scope,
) -> Result<Vec<(String, Role, Etag)>, Error> {
    let table = tx.table(tables::ROLES)?;
    let mut found = Vec::new();
    for entry in table.iter()? {
        let (key, bytes) = entry?;
        let (key, name) = key.value();
        if key == scope.key() {
            let (role, etag) = records::decode_with_etag::<RoleRecord, _>(bytes.value())?;
            found.push((name.to_owned(), role, etag));
        }
    }
    Ok(found)
}

/// Writes the built-in roles as this version defines them, keeping their creation time.
pub(in crate::store) fn upsert_builtins(tx: &Tx) -> Result<(), Error> {
    let created_at = reader::meta(tx, reader::CREATED_AT_KEY)?
        .and_then(|secs| Timestamp::from_timestamp(secs as i64, 0))
        .unwrap_or_default();
    for role in Role::builtins(created_at) {
        put(tx, &Scope::Root, &role)?;
    }
    Ok(())
}
