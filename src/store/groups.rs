//! Groups in storage: the record by id, the name index, and the use cases that create,
//! read, list, change and delete them.

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::reader::{self, Reader};
use super::tables::{self, ROOT};
use super::{Store, WriteContext, accounts, audit, codec, listing, memberships, principals};
use crate::domain::{
    Change, Etag, Group, GroupDetails, GroupPatch, IfMatch, Kind, Name, NewGroup, Page,
    PageRequest, Target, check_if_match,
};
use crate::error::Error;

pub(super) fn get(tx: &impl Reader, id: Uuid) -> Result<Option<GroupDetails>, Error> {
    let table = tx.table(tables::GROUPS)?;
    let Some(bytes) = table.get(id.as_u128())? else {
        return Ok(None);
    };
    let bytes = bytes.value();
    Ok(Some(GroupDetails {
        group: codec::decode(bytes)?,
        etag: Etag::of(bytes),
    }))
}

/// The group named `name`, if there is one.
pub(super) fn find_by_name(tx: &impl Reader, name: &Name) -> Result<Option<GroupDetails>, Error> {
    match reader::id_by_name(tx, tables::GROUP_NAMES, name.as_str())? {
        Some(id) => get(tx, id),
        None => Ok(None),
    }
}

/// The group named `name`, or 404 naming it.
pub(super) fn get_by_name(tx: &impl Reader, name: &Name) -> Result<GroupDetails, Error> {
    find_by_name(tx, name)?.ok_or_else(|| Error::not_found(Kind::Group, name.as_str()))
}

pub(super) fn put(tx: &WriteTransaction, group: &Group) -> Result<Etag, Error> {
    let bytes = codec::encode(group)?;
    tx.open_table(tables::GROUPS)?
        .insert(group.id.as_u128(), bytes.as_slice())?;
    Ok(Etag::of(&bytes))
}

fn insert(tx: &WriteTransaction, group: &Group) -> Result<Etag, Error> {
    let mut names = tx.open_table(tables::GROUP_NAMES)?;
    if names.get((ROOT, group.name.as_str()))?.is_some() {
        return Err(Error::AlreadyExists {
            kind: Kind::Group,
            name: group.name.to_string(),
        });
    }
    names.insert((ROOT, group.name.as_str()), group.id.as_u128())?;
    put(tx, group)
}

pub(super) fn target(group: &Group) -> Target {
    Target::new(Kind::Group, group.id, group.name.as_str())
}

impl Store {
    /// Creates a group; the caller must hold every role it binds.
    pub fn create_group(&self, ctx: &WriteContext, new: NewGroup) -> Result<GroupDetails, Error> {
        self.write(|tx| {
            principals::require_grantable(tx, &principals::authority(tx, ctx)?, &new.roles)?;
            let group = new.into_group(Uuid::new_v4(), ctx.now);
            let etag = insert(tx, &group)?;
            let changes = NewGroup::creation_changes(&group);
            audit::append(tx, ctx, "group.create", target(&group), changes)?;
            Ok(GroupDetails { group, etag })
        })
    }

    pub fn get_group(&self, name: &Name) -> Result<GroupDetails, Error> {
        self.read(|tx| get_by_name(tx, name))
    }

    pub fn group_exists(&self, name: &Name) -> Result<bool, Error> {
        self.read(|tx| Ok(reader::id_by_name(tx, tables::GROUP_NAMES, name.as_str())?.is_some()))
    }

    /// One page of groups in name order; `query` (lower-cased) filters by name or
    /// display name.
    pub fn list_groups(
        &self,
        query: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<GroupDetails>, Error> {
        self.read(|tx| {
            let load = |id: Uuid| {
                get(tx, id)?.ok_or_else(|| Error::internal("the name index names a missing group"))
            };
            let matches = |d: &GroupDetails| {
                query.is_none_or(|q| {
                    d.group.name.as_str().contains(q)
                        || d.group.display_name.to_lowercase().contains(q)
                })
            };
            let filter: listing::Filter<'_, GroupDetails> = query.map(|_| &matches as _);
            listing::page_by_name(&tx.table(tables::GROUP_NAMES)?, request, load, filter)
        })
    }

    /// Applies a patch; the caller must hold every role it binds or unbinds, and a patch
    /// that takes `*` from the group's members must leave an administrator. A patch that
    /// changes nothing writes nothing.
    pub fn update_group(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
        patch: GroupPatch,
    ) -> Result<GroupDetails, Error> {
        self.write(|tx| {
            let GroupDetails { mut group, etag } = get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx)?;
            principals::require_grantable(tx, &caller, patch.changed_roles(&group))?;
            let granted_all = principals::grants_all(tx, &group.roles)?;
            let changes = patch.apply(&mut group, ctx.now);
            if changes.is_empty() {
                return Ok(GroupDetails { group, etag });
            }
            let etag = put(tx, &group)?;
            if granted_all && !principals::grants_all(tx, &group.roles)? {
                principals::require_standing_admin(tx)?;
            }
            audit::append(tx, ctx, "group.update", target(&group), changes)?;
            Ok(GroupDetails { group, etag })
        })
    }

    /// Deletes a group and, in the same transaction, every membership in it: as removing
    /// each member, it needs every role of the group and every permission of each
    /// member, and must leave an administrator.
    pub fn delete_group(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
    ) -> Result<(), Error> {
        self.write(|tx| {
            let GroupDetails { mut group, etag } = get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx)?;
            principals::require_members_change(tx, &caller, &group)?;
            let members = memberships::member_ids(tx, group.id)?;
            let mut removed_admin = false;
            for account_id in &members {
                let (mut account, _) = accounts::get(tx, *account_id)?
                    .ok_or_else(|| Error::internal("a group lists a missing member"))?;
                principals::require_may_act_on(tx, &caller, &account)?;
                removed_admin |= principals::is_standing_admin(tx, &account)?;
                memberships::leave(tx, &mut account, &mut group)?;
                accounts::put(tx, &account)?;
            }
            tx.open_table(tables::GROUP_NAMES)?
                .remove((ROOT, group.name.as_str()))?;
            tx.open_table(tables::GROUPS)?.remove(group.id.as_u128())?;
            if removed_admin {
                principals::require_standing_admin(tx)?;
            }
            let changes = vec![Change::of("sa_count", &(members.len() as u64), &0u64)]
                .into_iter()
                .flatten()
                .collect();
            audit::append(tx, ctx, "group.delete", target(&group), changes)?;
            Ok(())
        })
    }
}
