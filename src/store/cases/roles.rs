//! Role use cases. Writing a role's permissions needs the caller to hold every
//! permission added or removed; built-in roles cannot be changed.

use crate::domain::{
    Action, Change, Created, Etag, IfMatch, Kind, Name, NewRole, Page, PageRequest, Role,
    RolePatch, Scope, Target, check_if_match, new_id,
};
use crate::error::Error;
use crate::store::rows::{accounts, audit, groups, roles};
use crate::store::{Answer, Store, WriteContext, principals};

fn refuse_builtin(role: &Role) -> Result<(), Error> {
    if role.is_builtin {
        return Err(Error::FailedPrecondition(format!(
            "role '{}' is built in and cannot be changed or deleted",
            role.name
        )));
    }
    Ok(())
}

impl Store {
    /// Creates a custom role; the caller may only grant permissions it holds.
    pub fn create_role(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        new: NewRole,
    ) -> Answer<(Role, Etag)> {
        let ctx = ctx.clone();
        self.write_in(scope, move |tx, scope| {
            let ctx = &ctx;
            principals::authority(tx, ctx, scope)?
                .may_write_permissions(&Default::default(), &new.permissions)?;
            if roles::find(tx, scope, &new.name)?.is_some() {
                return Err(Error::AlreadyExists {
                    kind: Kind::Role,
                    name: new.name.to_string(),
                });
            }
            let role = new.clone().into_role(new_id(ctx.now), ctx.now);
            let etag = roles::put(tx, scope, &role)?;
            let changes = role.creation_changes();
            audit::append(tx, ctx, Action::RoleCreate, Target::of_role(&role), changes)?;
            Ok((role, etag))
        })
    }

    pub fn get_role(&self, scope: &Scope, name: &Name) -> Result<(Role, Etag), Error> {
        self.read_in(scope, |tx| roles::get_by_name(tx, scope, name))
    }

    /// One page of roles, built-in ones included, in name order; `query` (lower-cased)
    /// filters by name. Roles are few, so this reads them all.
    pub fn list_roles(
        &self,
        scope: &Scope,
        query: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<(Role, Etag)>, Error> {
        self.read_in(scope, |tx| {
            let matching = roles::all(tx, scope)?
                .into_iter()
                .filter(|(name, _, _)| query.is_none_or(|q| name.contains(q)))
                .map(|(name, role, etag)| Ok((name, (role, etag))));
            request.cut(matching)
        })
    }

    /// Changes a custom role; built-in roles refuse (409). The caller must hold every
    /// permission the change adds or removes, and a change that takes `*` away must
    /// leave an administrator.
    pub fn update_role(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
        patch: RolePatch,
    ) -> Answer<(Role, Etag)> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let (mut role, etag) = roles::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            refuse_builtin(&role)?;
            if let Some(permissions) = &patch.permissions {
                principals::authority(tx, ctx, scope)?
                    .may_write_permissions(&role.permissions, permissions)?;
            }
            let granted_all = principals::grants_all(tx, [&role.name])?;
            let changes = patch.clone().apply(&mut role, ctx.now);
            if changes.is_empty() {
                return Ok((role, etag));
            }
            let etag = roles::put(tx, scope, &role)?;
            if granted_all && !principals::grants_all(tx, [&role.name])? {
                principals::require_standing_admin(tx)?;
            }
            audit::append(tx, ctx, Action::RoleUpdate, Target::of_role(&role), changes)?;
            Ok((role, etag))
        })
    }

    /// Deletes a custom role. While it is bound: 409, unless `force`, which unbinds it
    /// from every account and group in the same transaction (found by a scan: deleting
    /// a role is rare, and a scan cannot drift from the records the way a second index
    /// could). The caller must hold every permission of the role, which deleting takes
    /// from whoever holds it.
    pub fn delete_role(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
        force: bool,
    ) -> Answer<()> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let (role, etag) = roles::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            refuse_builtin(&role)?;
            principals::authority(tx, ctx, scope)?
                .may_write_permissions(&role.permissions, &Default::default())?;
            let bound_accounts = accounts::ids_where(tx, |a| a.roles.contains(&role.name))?;
            let bound_groups = groups::ids_where(tx, |g| g.roles.contains(&role.name))?;
            let bound = bound_accounts.len() + bound_groups.len();
            if bound > 0 && !force {
                return Err(Error::FailedPrecondition(format!(
                    "role '{}' is bound to {bound} service account(s) or group(s); \
                     unbind it first or delete with ?force=true",
                    role.name
                )));
            }
            for id in bound_accounts {
                if let Some(mut account) = accounts::record(tx, id)? {
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
            roles::remove(tx, scope, &role)?;
            if granted_all && bound > 0 {
                principals::require_standing_admin(tx)?;
            }
            let changes = Change::of("bindings", &(bound as u64), &0u64)
                .into_iter()
                .collect();
            audit::append(tx, ctx, Action::RoleDelete, Target::of_role(&role), changes)?;
            Ok(())
        })
    }
}
