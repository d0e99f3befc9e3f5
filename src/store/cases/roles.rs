//! Role use cases. Writing a role's permissions needs the caller to hold every
//! permission added or removed; built-in roles cannot be changed.

use crate::domain::permissions::ALL;
use crate::domain::{
    Action, Authority, Change, Created, Etag, Group, IfMatch, Kind, Name, NewRole, Page,
    PageRequest, Role, RolePatch, Scope, ServiceAccount, Target, check_if_match, new_id,
};
use crate::error::Error;
use crate::store::rows::{accounts, audit, groups, memberships, roles};
use crate::store::transaction::Tx;
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

/// Whether a new role of `scope` may not be named `name`: the scope has a role of that
/// name, or, in a project, a built-in or root custom role has it. Bindings in a project
/// name the root's roles too, so a project role of a root role's name would change
/// what they grant; a root role may take a name some project uses, which that project's
/// bindings keep naming its own role (see `principals::bound_role`).
fn name_taken(tx: &Tx, scope: &Scope, name: &Name) -> Result<bool, Error> {
    Ok(roles::find(tx, scope, name)?.is_some()
        || (*scope != Scope::Root && roles::find(tx, &Scope::Root, name)?.is_some()))
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
            if name_taken(tx, scope, &new.name)? {
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

    pub async fn get_role(&self, scope: &Scope, name: &Name) -> Result<(Role, Etag), Error> {
        let name = name.clone();
        self.read_in(scope, move |tx, scope| {
            let name = &name;
            roles::get_by_name(tx, scope, name)
        })
        .await
    }

    /// One page of roles, built-in ones included, in name order; `query` (lower-cased)
    /// filters by name. Roles are few, so this reads them all.
    pub async fn list_roles(
        &self,
        scope: &Scope,
        query: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<(Role, Etag)>, Error> {
        let (query, request) = (query.map(str::to_owned), request.clone());
        self.read_in(scope, move |tx, scope| {
            let (query, request) = (query.as_deref(), &request);
            let matching = roles::all(tx, scope)?
                .into_iter()
                .filter(|(name, _, _)| query.is_none_or(|q| name.contains(q)))
                .map(|(name, role, etag)| Ok((name, (role, etag))));
            request.cut(matching)
        })
        .await
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
    /// in the same transaction from every account and group whose binding names this
    /// role (found by a scan: deleting a role is rare, and a scan cannot drift from the
    /// records the way a second index could); another scope's role of the same name
    /// keeps its bindings. The caller must hold every permission of the role, and may
    /// act on every account that loses it (directly or through a group); each account
    /// and group unbound gets its own audit event, in the trail of its scope.
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
            let caller = principals::authority(tx, ctx, scope)?;
            caller.may_write_permissions(&role.permissions, &Default::default())?;
            let bound = Bindings::of(tx, &role)?;
            if !bound.is_empty() && !force {
                return Err(bound.refusal(&role, scope));
            }
            bound.require_may_unbind(tx, &caller)?;
            let count = bound.accounts.len() + bound.groups.len();
            bound.unbind(tx, ctx, &role)?;
            roles::remove(tx, scope, &role)?;
            if count > 0 && *scope == Scope::Root && role.permissions.contains(ALL) {
                principals::require_standing_admin(tx)?;
            }
            let changes = Change::of("bindings", &(count as u64), &0u64)
                .into_iter()
                .collect();
            audit::append(tx, ctx, Action::RoleDelete, Target::of_role(&role), changes)?;
            Ok(())
        })
    }
}

/// The accounts and groups whose binding names one role, each with its scope.
struct Bindings {
    accounts: Vec<(Scope, ServiceAccount)>,
    groups: Vec<(Scope, Group)>,
}

impl Bindings {
    fn of(tx: &Tx, role: &Role) -> Result<Bindings, Error> {
        let mut bound = Bindings {
            accounts: Vec::new(),
            groups: Vec::new(),
        };
        for id in accounts::ids_where(tx, |a| a.roles.contains(&role.name))? {
            let scope = accounts::scope_of(tx, id)?;
            if principals::binds(tx, &scope, role)?
                && let Some(account) = accounts::record(tx, id)?
            {
                bound.accounts.push((scope, account));
            }
        }
        for (scope, group) in groups::scoped_where(tx, |g| g.roles.contains(&role.name))? {
            if principals::binds(tx, &scope, role)? {
                bound.groups.push((scope, group));
            }
        }
        Ok(bound)
    }

    fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.groups.is_empty()
    }

    /// The 409 of an unforced delete. It counts the bindings in the caller's scope
    /// only; a root role bound in projects says so without counting them.
    fn refusal(&self, role: &Role, scope: &Scope) -> Error {
        let scopes = self.accounts.iter().map(|(s, _)| s);
        let scopes = scopes.chain(self.groups.iter().map(|(s, _)| s));
        let (here, elsewhere): (Vec<_>, Vec<_>) = scopes.partition(|s| *s == scope);
        let elsewhere = if elsewhere.is_empty() {
            ""
        } else {
            ", and in projects"
        };
        Error::FailedPrecondition(format!(
            "role '{}' is bound to {} service account(s) or group(s) here{elsewhere}; \
             unbind it first or delete with ?force=true",
            role.name,
            here.len()
        ))
    }

    /// No acting on a more privileged account: the caller must hold every permission
    /// of each account that would lose the role, directly or as a group's member.
    fn require_may_unbind(&self, tx: &Tx, caller: &Authority) -> Result<(), Error> {
        for (_, account) in &self.accounts {
            principals::require_may_act_on(tx, caller, account)?;
        }
        for (_, group) in &self.groups {
            for (_, id) in memberships::members(tx, group.id)? {
                if let Some(member) = accounts::record(tx, id)? {
                    principals::require_may_act_on(tx, caller, &member)?;
                }
            }
        }
        Ok(())
    }

    /// Takes `role` from each account and group, with an audit event for each, listed
    /// in the trail of the scope it lives in.
    fn unbind(self, tx: &Tx, ctx: &WriteContext, role: &Role) -> Result<(), Error> {
        let in_scope = |scope: Scope| WriteContext {
            scope,
            ..ctx.clone()
        };
        for (scope, mut account) in self.accounts {
            let before = account.roles.clone();
            account.roles.remove(&role.name);
            account.updated_at = ctx.now;
            accounts::put(tx, &account)?;
            let changes = Change::of("roles", &before, &account.roles)
                .into_iter()
                .collect();
            let target = Target::of_account(&account);
            audit::append(
                tx,
                &in_scope(scope),
                Action::ServiceAccountUpdate,
                target,
                changes,
            )?;
        }
        for (scope, mut group) in self.groups {
            let before = group.roles.clone();
            group.roles.remove(&role.name);
            group.updated_at = ctx.now;
            groups::put(tx, &group)?;
            let changes = Change::of("roles", &before, &group.roles)
                .into_iter()
                .collect();
            let target = Target::of_group(&group);
            audit::append(tx, &in_scope(scope), Action::GroupUpdate, target, changes)?;
        }
        Ok(())
    }
}
