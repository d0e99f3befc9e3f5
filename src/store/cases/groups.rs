//! Group use cases: create, read, list, change and delete.

use uuid::Uuid;

use crate::domain::{
    Action, Change, Created, GroupDetails, GroupPatch, IfMatch, Listing, Name, NewGroup, Page,
    PageRequest, Scope, Target, check_if_match, new_id,
};
use crate::error::Error;
use crate::store::Answer;
use crate::store::damage::damaged;
use crate::store::paging::{self, Filter};
use crate::store::reader::Reader;
use crate::store::rows::counts::{self, Index};
use crate::store::rows::{accounts, audit, groups, memberships};
use crate::store::{Store, WriteContext, principals, tables};

impl Store {
    /// Creates a group; the caller must hold every role it binds.
    pub fn create_group(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        new: NewGroup,
    ) -> Answer<GroupDetails> {
        let ctx = ctx.clone();
        self.write_in(scope, move |tx, scope| {
            let ctx = &ctx;
            principals::require_grantable(
                tx,
                scope,
                &principals::authority(tx, ctx, scope)?,
                &new.roles,
            )?;
            let group = new.clone().into_group(new_id(ctx.now), ctx.now);
            let etag = groups::insert(tx, scope, &group)?;
            let changes = group.creation_changes();
            audit::append(
                tx,
                ctx,
                Action::GroupCreate,
                Target::of_group(&group),
                changes,
            )?;
            Ok(GroupDetails { group, etag })
        })
    }

    pub async fn get_group(&self, scope: &Scope, name: &Name) -> Result<GroupDetails, Error> {
        let name = name.clone();
        self.read_in(scope, move |tx, scope| {
            let name = &name;
            groups::get_by_name(tx, scope, name)
        })
        .await
    }

    /// One page of groups in name order; `query` (lower-cased) filters by name or
    /// display name.
    /// One page of the groups of `listing`, each with its scope, in name order (across
    /// scopes, the root's first, then each project's).
    pub async fn list_groups(
        &self,
        listing: &Listing,
        query: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<(Scope, GroupDetails)>, Error> {
        let (listing, query, request) =
            (listing.clone(), query.map(str::to_owned), request.clone());
        let scope = match &listing {
            Listing::In(scope) => scope,
            Listing::Everywhere => &Scope::Root,
        }
        .clone();
        self.read_in(&scope, move |tx, _| {
            let (listing, query, request) = (&listing, query.as_deref(), &request);
            let load = |(scope, id): (Scope, Uuid)| {
                let group = groups::get(tx, id)?
                    .ok_or_else(|| damaged("the name index names a missing group"))?;
                Ok((scope, group))
            };
            let matches = |(_, d): &(Scope, GroupDetails)| {
                query.is_none_or(|q| {
                    d.group.name.as_str().contains(q)
                        || d.group.display_name.to_lowercase().contains(q)
                })
            };
            let filter: Filter<'_, (Scope, GroupDetails)> = query.map(|_| &matches as _);
            let names = tx.table(tables::GROUP_NAMES)?;
            match listing {
                Listing::In(scope) => {
                    let entries = |after: Option<&str>| {
                        Ok(paging::in_name_order(&names, scope, after)?
                            .map(|entry| entry.map(|(key, id)| (key, (scope.clone(), id)))))
                    };
                    let total = || counts::of(tx, Index::Groups, scope);
                    paging::page(request, entries, load, total, filter)
                }
                Listing::Everywhere => {
                    let entries = |after: Option<&str>| paging::in_key_order(&names, after);
                    paging::page(request, entries, load, || names.len(), filter)
                }
            }
        })
        .await
    }

    /// Applies a patch; the caller must hold every role it binds or unbinds, and a patch
    /// that takes `*` from the group's members must leave an administrator. A patch that
    /// changes nothing writes nothing.
    pub fn update_group(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
        patch: GroupPatch,
    ) -> Answer<GroupDetails> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let GroupDetails { mut group, etag } = groups::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx, scope)?;
            principals::require_grantable(tx, scope, &caller, patch.changed_roles(&group))?;
            let granted_all = principals::grants_all(tx, &group.roles)?;
            let changes = patch.clone().apply(&mut group, ctx.now);
            if changes.is_empty() {
                return Ok(GroupDetails { group, etag });
            }
            let etag = groups::put(tx, &group)?;
            if granted_all && !principals::grants_all(tx, &group.roles)? {
                principals::require_standing_admin(tx)?;
            }
            audit::append(
                tx,
                ctx,
                Action::GroupUpdate,
                Target::of_group(&group),
                changes,
            )?;
            Ok(GroupDetails { group, etag })
        })
    }

    /// Deletes a group and, in the same transaction, every membership in it: as removing
    /// each member, it needs every role of the group and every permission of each
    /// member, and must leave an administrator.
    pub fn delete_group(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
    ) -> Answer<()> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let GroupDetails { mut group, etag } = groups::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx, scope)?;
            principals::require_members_change(tx, scope, &caller, &group)?;
            let members = memberships::members(tx, group.id)?;
            let mut removed_admin = false;
            for (_, account_id) in &members {
                let mut account =
                    accounts::record_listed(tx, *account_id, "a group lists a missing member")?;
                principals::require_may_act_on(tx, &caller, &account)?;
                removed_admin |= principals::is_standing_admin(tx, &account)?;
                memberships::leave(tx, &mut account, &mut group)?;
                accounts::put(tx, &account)?;
            }
            groups::remove(tx, scope, &group)?;
            if removed_admin {
                principals::require_standing_admin(tx)?;
            }
            let changes = vec![Change::of("sa_count", &(members.len() as u64), &0u64)]
                .into_iter()
                .flatten()
                .collect();
            audit::append(
                tx,
                ctx,
                Action::GroupDelete,
                Target::of_group(&group),
                changes,
            )?;
            Ok(())
        })
    }
}
