//! Principals: what an account holds (its roles, directly or through its groups, and
//! their permissions), and the checks a change makes on its caller inside the change's
//! own transaction, so that a role removed a moment earlier no longer counts.
//!
//! An account lives at the root or in one project (`accounts::scope_of`): the roles it
//! and its groups bind are resolved in that scope, and what a change names in the
//! change's scope. A root account's permissions hold everywhere, a project account's
//! in its project only.

use std::collections::BTreeSet;

use super::WriteContext;
use super::reader::Reader;
use super::records::StoredAccount;
use super::rows::{accounts, groups, memberships, roles};
use crate::domain::{
    Authority, Group, Kind, Name, PermissionSet, Principal, Role, Scope, ServiceAccount, Status,
    narrow, permissions,
};
use crate::error::Error;

/// The role a binding in `scope` names. A built-in role's name always names the
/// built-in role, in every scope (a project may not take it, and one that did before
/// this rule names nothing); any other name names the scope's own role of that name,
/// or else a root custom role, since root roles may be bound in every project. So a
/// name resolves to one role in each scope, whatever roles other scopes create.
fn bound_role(tx: &impl Reader, scope: &Scope, name: &Name) -> Result<Option<Role>, Error> {
    if Role::is_builtin_name(name.as_str()) {
        return roles::find(tx, &Scope::Root, name);
    }
    if let Some(role) = roles::find(tx, scope, name)? {
        return Ok(Some(role));
    }
    match scope {
        Scope::Root => Ok(None),
        Scope::Project(_) => roles::find(tx, &Scope::Root, name),
    }
}

/// Whether a binding of `role`'s name made in `scope` (by an account or group living
/// there) names `role` itself, and not another scope's role of the same name.
pub(super) fn binds(tx: &impl Reader, scope: &Scope, role: &Role) -> Result<bool, Error> {
    Ok(bound_role(tx, scope, &role.name)?.is_some_and(|bound| bound.id == role.id))
}

/// The union of the permissions of `roles` bound in `scope`; names of roles that no
/// longer exist add none.
pub(super) fn permissions_of<'a>(
    tx: &impl Reader,
    scope: &Scope,
    roles: impl IntoIterator<Item = &'a Name>,
) -> Result<PermissionSet, Error> {
    let mut all = BTreeSet::new();
    for name in roles {
        if let Some(role) = bound_role(tx, scope, name)? {
            all.extend(role.permissions);
        }
    }
    Ok(PermissionSet::new(all))
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

/// The roles an account holds, directly or through its groups.
fn held_by(tx: &impl Reader, account: &ServiceAccount) -> Result<BTreeSet<Name>, Error> {
    Ok(with_group_roles(
        account,
        memberships::groups_of(tx, account)?.values(),
    ))
}

/// Every permission an account holds, in its own scope.
fn permissions_held_by(tx: &impl Reader, account: &ServiceAccount) -> Result<PermissionSet, Error> {
    let scope = accounts::scope_of(tx, account.id)?;
    permissions_of(tx, &scope, &held_by(tx, account)?)
}

/// An account as a caller: where it lives, what it holds and may do now.
pub(super) fn principal(tx: &impl Reader, account: ServiceAccount) -> Result<Principal, Error> {
    let scope = accounts::scope_of(tx, account.id)?;
    let groups = memberships::groups_of(tx, &account)?;
    let roles = with_group_roles(&account, groups.values());
    Ok(Principal {
        permissions: permissions_of(tx, &scope, &roles)?,
        roles,
        groups: groups.into_keys().collect(),
        scope,
        account,
    })
}

/// The caller of `ctx` as it stands in this transaction, for a change in `scope`: its
/// roles, and its permissions narrowed by its token's scope. Keyhouse itself (no caller)
/// may do anything; a caller whose account is gone, or that lives in another project
/// than `scope`, may do nothing.
pub(super) fn authority(
    tx: &impl Reader,
    ctx: &WriteContext,
    scope: &Scope,
) -> Result<Authority, Error> {
    let Some(grantor) = &ctx.grantor else {
        return Ok(Authority::system());
    };
    let nothing = Authority {
        roles: BTreeSet::new(),
        permissions: PermissionSet::default(),
    };
    let Some(account) = accounts::record(tx, grantor.account_id)? else {
        return Ok(nothing);
    };
    let home = accounts::scope_of(tx, account.id)?;
    if !home.reaches(scope) {
        return Ok(nothing);
    }
    let roles = held_by(tx, &account)?;
    let held = permissions_of(tx, &home, &roles)?;
    let permissions = match &grantor.scope {
        Some(scope) => narrow(&held, scope.iter().map(String::as_str)),
        None => held,
    };
    Ok(Authority { roles, permissions })
}

/// Scope-down for binding or unbinding the roles `names` in `scope`: each must exist
/// (else 404 naming it; a caller that may not read roles gets the same 403 as for a
/// role it does not hold), and the caller must hold each one.
pub(super) fn require_grantable<'a>(
    tx: &impl Reader,
    scope: &Scope,
    caller: &Authority,
    names: impl IntoIterator<Item = &'a Name>,
) -> Result<(), Error> {
    let mut found: Vec<Role> = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        match bound_role(tx, scope, name)? {
            Some(role) => found.push(role),
            None if caller.may_read(permissions::ROLES_READ) => {
                return Err(Error::not_found(Kind::Role, name.as_str()));
            }
            None => unknown.push(name),
        }
    }
    caller.may_grant(&found, unknown)
}

/// A group of `scope` named in a request body: 404 naming it when missing, or, for a
/// caller that may not read groups, the same 403 as for a group whose roles it does not
/// hold.
pub(super) fn named_group(
    tx: &impl Reader,
    scope: &Scope,
    caller: &Authority,
    name: &Name,
) -> Result<Group, Error> {
    match groups::find_by_name(tx, scope, name)? {
        Some(details) => Ok(details.group),
        None if caller.may_read(permissions::GROUPS_READ) => {
            Err(Error::not_found(Kind::Group, name.as_str()))
        }
        None => Err(Authority::not_every_role_of(name)),
    }
}

/// Scope-down for memberships: adding an account to `group` (of `scope`) or removing
/// one from it needs every role the group binds.
pub(super) fn require_members_change(
    tx: &impl Reader,
    scope: &Scope,
    caller: &Authority,
    group: &Group,
) -> Result<(), Error> {
    let mut bound = Vec::new();
    for name in &group.roles {
        if let Some(role) = bound_role(tx, scope, name)? {
            bound.push(role);
        }
    }
    caller.may_change_members(&group.name, &bound.iter().collect::<Vec<_>>())
}

/// No acting on a more privileged account: the caller must hold every permission that
/// `account` holds.
pub(super) fn require_may_act_on(
    tx: &impl Reader,
    caller: &Authority,
    account: &ServiceAccount,
) -> Result<(), Error> {
    if caller.permissions.holds_all() {
        return Ok(());
    }
    caller.may_act_on(&account.name, &permissions_held_by(tx, account)?)
}

/// [`require_may_act_on`] as a decision: whether the caller holds every permission
/// that `account` holds. For a revocation, whose refusal is no error.
pub(super) fn may_act_on(
    tx: &impl Reader,
    caller: &Authority,
    account: &ServiceAccount,
) -> Result<bool, Error> {
    if caller.permissions.holds_all() {
        return Ok(true);
    }
    let holds = permissions_held_by(tx, account)?;
    Ok(caller.may_act_on(&account.name, &holds).is_ok())
}

/// Whether `account` is a standing administrator: a root account, active, without an
/// expiry, and holding `*`. A project's administrators administer only their project,
/// so they never count.
pub(super) fn is_standing_admin(tx: &impl Reader, account: &ServiceAccount) -> Result<bool, Error> {
    Ok(account.status == Status::Active
        && account.expires_at.is_none()
        && accounts::scope_of(tx, account.id)? == Scope::Root
        && permissions_held_by(tx, account)?.holds_all())
}

/// Whether any of `roles`, bound at the root, grants `*`.
pub(super) fn grants_all<'a>(
    tx: &impl Reader,
    roles: impl IntoIterator<Item = &'a Name>,
) -> Result<bool, Error> {
    Ok(permissions_of(tx, &Scope::Root, roles)?.holds_all())
}

/// The last administrator is protected: after a change that may have taken `*` from
/// someone, some standing administrator must remain (else 409, and the change is
/// rolled back with its transaction). Runs only on such changes, which are rare: it
/// scans the accounts until it finds one.
pub(super) fn require_standing_admin(tx: &impl Reader) -> Result<(), Error> {
    let star_roles: BTreeSet<Name> = roles::all(tx, &Scope::Root)?
        .into_iter()
        .filter(|(_, role, _)| role.permissions.contains(permissions::ALL))
        .map(|(_, role, _)| role.name)
        .collect();
    let star_groups: BTreeSet<_> =
        groups::ids_where(tx, |group| !group.roles.is_disjoint(&star_roles))?
            .into_iter()
            .collect();
    let standing = accounts::any(tx, |StoredAccount { account, scope }| {
        *scope == Scope::Root
            && account.status == Status::Active
            && account.expires_at.is_none()
            && (!account.roles.is_disjoint(&star_roles)
                || !account.groups.is_disjoint(&star_groups))
    })?;
    if standing {
        return Ok(());
    }
    Err(Error::FailedPrecondition(
        "this would leave no active administrator: keep at least one active service \
         account without an expiry that holds '*'"
            .to_owned(),
    ))
}
