//! Roles in storage: the built-ins kept in step with the code, custom roles, and the
//! checks a role binding must pass (the role exists; the caller holds it).

use std::collections::BTreeSet;

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::reader::{self, Reader};
use super::tables::{self, ROOT};
use super::{Store, WriteContext, accounts, audit, codec, groups, memberships};
use crate::domain::{
    Change, Etag, Group, IfMatch, Kind, Name, NewRole, Page, PageRequest, PermissionSet, Principal,
    Role, RolePatch, ServiceAccount, Target, Timestamp, check_if_match, check_scope_down,
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
pub(super) fn held_by(tx: &impl Reader, account: &ServiceAccount) -> Result<BTreeSet<Name>, Error> {
    Ok(with_group_roles(
        account,
        memberships::groups_of(tx, account)?.values(),
    ))
}

/// The account's own roles and those of `groups`.
fn with_group_roles<'a>(
    account: &ServiceAccount,
    groups: impl Iterator<Item = &'a Group>,
) -> BTreeSet<Name> {
    let mut held = account.roles.clone();
    for group in groups {
        held.extend(group.roles.iter().cloned());
    }
    held
}

/// An account as a caller: what it holds and may do now.
pub(super) fn principal(tx: &impl Reader, account: ServiceAccount) -> Result<Principal, Error> {
    let groups = memberships::groups_of(tx, &account)?;
    let roles = with_group_roles(&account, groups.values());
    Ok(Principal {
        permissions: permissions_of(tx, &roles)?,
        roles,
        groups: groups.into_keys().collect(),
        account,
    })
}

/// Scope-down: the caller of `ctx` must hold each of `roles`, re-read in this
/// transaction (else 403). Keyhouse itself (no caller) may grant anything.
pub(super) fn require_held<'a>(
    tx: &WriteTransaction,
    ctx: &WriteContext,
    roles: impl IntoIterator<Item = &'a Name>,
) -> Result<(), Error> {
    let Some(grantor) = &ctx.grantor else {
        return Ok(());
    };
    let held = match accounts::get(tx, grantor.account_id)? {
        Some((caller, _)) => held_by(tx, &caller)?,
        None => BTreeSet::new(),
    };
    check_scope_down(&held, grantor.holds_all, roles)
}

/// A binding of `roles`: each must exist (else 404 naming it), and the caller must hold
/// each one (else 403).
pub(super) fn require_bindable<'a>(
    tx: &WriteTransaction,
    ctx: &WriteContext,
    roles: impl IntoIterator<Item = &'a Name> + Clone,
) -> Result<(), Error> {
    for name in roles.clone() {
        get_by_name(tx, name)?;
    }
    require_held(tx, ctx, roles)
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

    /// Changes a custom role; built-in roles refuse (409).
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
            let changes = patch.apply(&mut role, ctx.now);
            if changes.is_empty() {
                return Ok((role, etag));
            }
            let etag = put(tx, &role)?;
            audit::append(tx, ctx, "role.update", target(&role), changes)?;
            Ok((role, etag))
        })
    }

    /// Deletes a custom role. While it is bound: 409, unless `force`, which unbinds it
    /// from every account and group in the same transaction.
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
            tx.open_table(tables::ROLES)?
                .remove((ROOT, role.name.as_str()))?;
            let changes = Change::of("bindings", &(bound as u64), &0u64)
                .into_iter()
                .collect();
            audit::append(tx, ctx, "role.delete", target(&role), changes)?;
            Ok(())
        })
    }
}
