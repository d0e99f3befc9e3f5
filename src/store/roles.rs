//! Roles in storage: the built-ins kept in step with the code, and custom roles. Writing
//! a role's permissions needs the caller to hold every permission added or removed.

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::reader::{self, Reader};
use super::tables::{self, ROOT};
use super::{Store, WriteContext, accounts, audit, codec, groups, principals};
use crate::domain::{
    Change, Etag, Group, IfMatch, Kind, Name, NewRole, Page, PageRequest, Role, RolePatch,
    ServiceAccount, Target, Timestamp, check_if_match,
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

fn get_by_name(tx: &impl Reader, name: &Name) -> Result<(Role, Etag), Error> {
    find(tx, name)?.ok_or_else(|| Error::not_found(Kind::Role, name.as_str()))
}

fn put(tx: &WriteTransaction, role: &Role) -> Result<Etag, Error> {
    let bytes = codec::encode(role)?;
    tx.open_table(tables::ROLES)?
        .insert((ROOT, role.name.as_str()), bytes.as_slice())?;
    Ok(Etag::of(&bytes))
}

fn target(role: &Role) -> Target {
    Target::new(Kind::Role, role.id, role.name.as_str())
}

/// Writes the built-in roles as this version defines them, keeping their creation time.
pub(super) fn upsert_builtins(tx: &WriteTransaction) -> Result<(), Error> {
    let created_at = reader::meta(tx, reader::CREATED_AT_KEY)?
        .and_then(|secs| Timestamp::from_timestamp(secs as i64, 0))
        .unwrap_or_default();
    for role in Role::builtins(created_at) {
        put(tx, &role)?;
    }
    Ok(())
}

fn refuse_builtin(role: &Role) -> Result<(), Error> {
    if role.is_builtin {
        return Err(Error::FailedPrecondition(format!(
            "role '{}' is built in and cannot be changed or deleted",
            role.name
        )));
    }
    Ok(())
}

/// Every account and group that binds `role`, found by a scan: deleting a role is rare,
/// and a scan cannot drift from the records the way a second index could.
fn bindings(tx: &WriteTransaction, role: &Name) -> Result<(Vec<Uuid>, Vec<Uuid>), Error> {
    let mut bound_accounts = Vec::new();
    for entry in tx.open_table(tables::ACCOUNTS)?.iter()? {
        let (id, bytes) = entry?;
        let account: ServiceAccount = codec::decode(bytes.value())?;
        if account.roles.contains(role) {
            bound_accounts.push(Uuid::from_u128(id.value()));
        }
    }
    let mut bound_groups = Vec::new();
    for entry in tx.open_table(tables::GROUPS)?.iter()? {
        let (id, bytes) = entry?;
        let group: Group = codec::decode(bytes.value())?;
        if group.roles.contains(role) {
            bound_groups.push(Uuid::from_u128(id.value()));
        }
    }
    Ok((bound_accounts, bound_groups))
}

impl Store {
    /// Creates a custom role; the caller may only grant permissions it holds.
    pub fn create_role(&self, ctx: &WriteContext, new: NewRole) -> Result<(Role, Etag), Error> {
        self.write(|tx| {
            principals::authority(tx, ctx)?
                .may_write_permissions(&Default::default(), &new.permissions)?;
            if find(tx, &new.name)?.is_some() {
                return Err(Error::AlreadyExists {
                    kind: Kind::Role,
                    name: new.name.to_string(),
                });
            }
            let role = new.into_role(Uuid::new_v4(), ctx.now);
            let etag = put(tx, &role)?;
            let changes = vec![
                Change::set("description", &role.description),
                Change::set("permissions", &role.permissions),
            ];
            audit::append(tx, ctx, "role.create", target(&role), changes)?;
            Ok((role, etag))
        })
    }

    pub fn get_role(&self, name: &Name) -> Result<(Role, Etag), Error> {
        self.read(|tx| get_by_name(tx, name))
    }

    pub fn role_exists(&self, name: &Name) -> Result<bool, Error> {
        self.read(|tx| Ok(find(tx, name)?.is_some()))
    }

    /// One page of roles, built-in ones included, in name order; `query` (lower-cased)
    /// filters by name. Roles are few, so this reads them all.
    pub fn list_roles(
        &self,
        query: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<(Role, Etag)>, Error> {
        self.read(|tx| {
            let table = tx.table(tables::ROLES)?;
            let all = table.iter()?.map(|entry| -> Result<_, Error> {
                let (key, bytes) = entry?;
                let bytes = bytes.value();
                let role: Role = codec::decode(bytes)?;
                Ok((key.value().1.to_owned(), (role, Etag::of(bytes))))
            });
            let matching = all.filter(|entry| {
                entry
                    .as_ref()
                    .map_or(true, |(name, _)| query.is_none_or(|q| name.contains(q)))
            });
            request.cut(matching)
        })
    }

    /// Changes a custom role; built-in roles refuse (409). The caller must hold every
    /// permission the change adds or removes, and a change that takes `*` away must
    /// leave an administrator.
    pub fn update_role(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
        patch: RolePatch,
    ) -> Result<(Role, Etag), Error> {
        self.write(|tx| {
            let (mut role, etag) = get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            refuse_builtin(&role)?;
            if let Some(permissions) = &patch.permissions {
                principals::authority(tx, ctx)?
                    .may_write_permissions(&role.permissions, permissions)?;
            }
            let granted_all = principals::grants_all(tx, [&role.name])?;
            let changes = patch.apply(&mut role, ctx.now);
            if changes.is_empty() {
                return Ok((role, etag));
            }
            let etag = put(tx, &role)?;
            if granted_all && !principals::grants_all(tx, [&role.name])? {
                principals::require_standing_admin(tx)?;
            }
            audit::append(tx, ctx, "role.update", target(&role), changes)?;
            Ok((role, etag))
        })
    }

    /// Deletes a custom role. While it is bound: 409, unless `force`, which unbinds it
    /// from every account and group in the same transaction. The caller must hold every
    /// permission of the role, which deleting takes from whoever holds it.
    pub fn delete_role(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
        force: bool,
    ) -> Result<(), Error> {
        self.write(|tx| {
            let (role, etag) = get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            refuse_builtin(&role)?;
            principals::authority(tx, ctx)?
                .may_write_permissions(&role.permissions, &Default::default())?;
            let (bound_accounts, bound_groups) = bindings(tx, &role.name)?;
            let bound = bound_accounts.len() + bound_groups.len();
            if bound > 0 && !force {
                return Err(Error::FailedPrecondition(format!(
                    "role '{}' is bound to {bound} service account(s) or group(s); \
                     unbind it first or delete with ?force=true",
                    role.name
                )));
            }
            for id in bound_accounts {
                if let Some((mut account, _)) = accounts::get(tx, id)? {
                    account.roles.remove(&role.name);
                    account.updated_at = ctx.now;
                    accounts::put(tx, &account)?;
                }
            }
            for id in bound_groups {
                if let Some(mut details) = groups::get(tx, id)? {
                    details.group.roles.remove(&role.name);
                    details.group.updated_at = ctx.now;
                    groups::put(tx, &details.group)?;
                }
            }
            let granted_all = principals::grants_all(tx, [&role.name])?;
            tx.open_table(tables::ROLES)?
                .remove((ROOT, role.name.as_str()))?;
            if granted_all && bound > 0 {
                principals::require_standing_admin(tx)?;
            }
            let changes = Change::of("bindings", &(bound as u64), &0u64)
                .into_iter()
                .collect();
            audit::append(tx, ctx, "role.delete", target(&role), changes)?;
            Ok(())
        })
    }
}
