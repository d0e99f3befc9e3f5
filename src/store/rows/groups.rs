//! Group rows: the record by id and the (scope, name) index.

use uuid::Uuid;

use crate::domain::{Etag, Group, GroupDetails, Kind, Name, Scope};
use crate::error::Error;
use crate::store::reader::{self, Reader};
use crate::store::records::{self, GroupRecord};
use crate::store::rows::counts::{self, Index};
use crate::store::tables;
use crate::store::transaction::Tx;

pub(in crate::store) fn get(tx: &impl Reader, id: Uuid) -> Result<Option<GroupDetails>, Error> {
    let table = tx.table(tables::GROUPS)?;
    let Some(bytes) = table.get(id.as_u128())? else {
        return Ok(None);
    };
    let bytes = bytes.value();
    Ok(Some(GroupDetails {
        group: records::decode::<GroupRecord, _>(bytes)?,
        etag: Etag::of(bytes),
    }))
}

pub(in crate::store) fn find_id(
    tx: &impl Reader,
    scope: &Scope,
    name: &str,
) -> Result<Option<Uuid>, Error> {
    reader::id_by_name(tx, tables::GROUP_NAMES, scope, name)
}

/// The group named `name` in `scope`, if there is one.
pub(in crate::store) fn find_by_name(
    tx: &impl Reader,
    scope: &Scope,
    name: &Name,
) -> Result<Option<GroupDetails>, Error> {
    match find_id(tx, scope, name.as_str())? {
        Some(id) => get(tx, id),
        None => Ok(None),
    }
}

/// The group named `name` in `scope`, or 404 naming it.
pub(in crate::store) fn get_by_name(
    tx: &impl Reader,
    scope: &Scope,
    name: &Name,
) -> Result<GroupDetails, Error> {
    find_by_name(tx, scope, name)?.ok_or_else(|| Error::not_found(Kind::Group, name.as_str()))
}

pub(in crate::store) fn put(tx: &Tx, group: &Group) -> Result<Etag, Error> {
    let bytes = records::encode::<GroupRecord>(group)?;
    tx.write(tables::GROUPS)?
        .insert(group.id.as_u128(), bytes.as_slice())?;
    Ok(Etag::of(&bytes))
}

/// Inserts a new group in `scope`; its name must be free there (409 otherwise).
pub(in crate::store) fn insert(tx: &Tx, scope: &Scope, group: &Group) -> Result<Etag, Error> {
    let mut names = tx.write(tables::GROUP_NAMES)?;
    if names.get((scope.key(), group.name.as_str()))?.is_some() {
        return Err(Error::AlreadyExists {
            kind: Kind::Group,
            name: group.name.to_string(),
        });
    }
    names.insert((scope.key(), group.name.as_str()), group.id.as_u128())?;
    counts::change(tx, Index::Groups, scope, true)?;
    put(tx, group)
}

/// Removes the record and its name.
pub(in crate::store) fn remove(tx: &Tx, scope: &Scope, group: &Group) -> Result<(), Error> {
    let removed = tx
        .write(tables::GROUP_NAMES)?
        .remove_checked((scope.key(), group.name.as_str()))?;
    if removed {
        counts::change(tx, Index::Groups, scope, false)?;
    }
    tx.write(tables::GROUPS)?.remove(group.id.as_u128())?;
    Ok(())
}

/// Every group that satisfies `wanted`, with the scope it lives in, by a scan of the
/// name index.
pub(in crate::store) fn scoped_where(
    tx: &impl Reader,
    wanted: impl Fn(&Group) -> bool,
) -> Result<Vec<(Scope, Group)>, Error> {
    let mut found = Vec::new();
    for entry in tx.table(tables::GROUP_NAMES)?.iter()? {
        let (key, id) = entry?;
        let Some(details) = get(tx, Uuid::from_u128(id.value()))? else {
            continue;
        };
        if wanted(&details.group) {
            found.push((Scope::from_key(key.value().0)?, details.group));
        }
    }
    Ok(found)
}

/// The ids of every group that satisfies `wanted`, by a scan.
pub(in crate::store) fn ids_where(
    tx: &impl Reader,
    wanted: impl Fn(&Group) -> bool,
) -> Result<Vec<Uuid>, Error> {
    let mut found = Vec::new();
    for entry in tx.table(tables::GROUPS)?.iter()? {
        let (id, bytes) = entry?;
        if wanted(&records::decode::<GroupRecord, _>(bytes.value())?) {
            found.push(Uuid::from_u128(id.value()));
        }
    }
    Ok(found)
}
