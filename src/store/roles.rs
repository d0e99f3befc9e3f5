//! Roles in storage: the built-ins kept in step with the code, lookups, and the checks a
//! role binding must pass (the role exists; the caller holds it).

use std::collections::BTreeSet;

use redb::{ReadableTable, WriteTransaction};

use super::reader::{self, Reader};
use super::tables::{self, ROOT};
use super::{WriteContext, accounts, codec};
use crate::domain::{
    Etag, Kind, Name, PermissionSet, Role, ServiceAccount, Timestamp, check_scope_down,
};
use crate::error::Error;

pub(super) fn find(tx: &impl Reader, name: &Name) -> Result<Option<(Role, Etag)>, Error> {
    let table = tx.table(tables::ROLES)?;
    let Some(bytes) = table.get((ROOT, name.as_str()))? else {
        return Ok(None);
    };
    let bytes = bytes.value();
    Ok(Some((codec::decode(bytes)?, Etag::of(bytes))))
}

/// Writes the built-in roles as this version defines them, keeping their creation time.
pub(super) fn upsert_builtins(tx: &WriteTransaction) -> Result<(), Error> {
    let created_at = reader::meta(tx, reader::CREATED_AT_KEY)?
        .and_then(|secs| Timestamp::from_timestamp(secs as i64, 0))
        .unwrap_or_default();
    let mut table = tx.open_table(tables::ROLES)?;
    for role in Role::builtins(created_at) {
        table.insert((ROOT, role.name.as_str()), codec::encode(&role)?.as_slice())?;
    }
    Ok(())
}

/// The union of the permissions of `roles`.
pub(super) fn permissions_of<'a>(
    tx: &impl Reader,
    roles: impl IntoIterator<Item = &'a Name>,
) -> Result<PermissionSet, Error> {
    let mut all = BTreeSet::new();
    for name in roles {
        if let Some((role, _)) = find(tx, name)? {
            all.extend(role.permissions);
        }
    }
    Ok(PermissionSet::new(all))
}

/// The roles an account holds, directly or through its groups.
pub(super) fn held_by(account: &ServiceAccount) -> BTreeSet<Name> {
    account.roles.clone()
}

/// A binding of `roles` by the caller of `ctx`: each must exist (else 404 naming it), and
/// the caller must hold each one, re-read in this transaction (else 403).
pub(super) fn require_bindable<'a>(
    tx: &WriteTransaction,
    ctx: &WriteContext,
    roles: impl IntoIterator<Item = &'a Name> + Clone,
) -> Result<(), Error> {
    for name in roles.clone() {
        if find(tx, name)?.is_none() {
            return Err(Error::not_found(Kind::Role, name.as_str()));
        }
    }
    let Some(grantor) = &ctx.grantor else {
        return Ok(());
    };
    let held = match accounts::get(tx, grantor.account_id)? {
        Some((caller, _)) => held_by(&caller),
        None => BTreeSet::new(),
    };
    check_scope_down(&held, grantor.holds_all, roles)
}
