//! Membership use cases, from either side: an account's groups and a group's members.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::details::account_details;
use crate::domain::{
    AccountDetails, Change, Group, GroupDetails, IfMatch, MembershipChange, Name, Page,
    PageRequest, ServiceAccount, Target, check_if_match,
};
use crate::error::Error;
use crate::store::reader::Reader;
use crate::store::rows::{accounts, audit, groups, memberships};
use crate::store::{Store, WriteContext, principals, tables};

/// One page of a group's members in name order; the total is the group's count.
fn member_page(
    tx: &impl Reader,
    group: &Group,
    request: &PageRequest,
) -> Result<Page<ServiceAccount>, Error> {
    let members = tx.table(tables::GROUP_MEMBERS)?;
    let (after, skip) = match &request.after {
        Some(after) => (Some(after.as_str()), 0),
        None => (None, request.offset()),
    };
    let window = memberships::members_after(&members, group.id, after)?
        .skip(skip)
        .take(request.per_page as usize + 1)
        .map(|entry| {
            let (name, id) = entry?;
            let (account, _) = accounts::get_listed(tx, id, "a group lists a missing member")?;
            Ok((name, account))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(request.from_window(window, group.member_count))
}

fn names(groups: impl IntoIterator<Item = Name>) -> Vec<String> {
    groups.into_iter().map(|n| n.to_string()).collect()
}

impl Store {
    /// `PUT /service-accounts/{name}/groups`: one transaction; every group named must
    /// exist, the caller must hold every permission of the account and every role of
    /// each group the account joins or leaves, and the last administrator stays one.
    pub fn update_service_account_groups(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
        change: &MembershipChange,
    ) -> Result<AccountDetails, Error> {
        self.write(|tx| {
            let (mut account, etag) = accounts::get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx)?;
            principals::require_may_act_on(tx, &caller, &account)?;
            let mut named = BTreeMap::new();
            for group_name in change.named() {
                named.insert(
                    group_name.clone(),
                    principals::named_group(tx, &caller, group_name)?,
                );
            }
            let mut current = memberships::groups_of(tx, &account)?;
            let before: BTreeSet<Name> = current.keys().cloned().collect();
            let plan = change.plan(&before);
            if plan.is_empty() {
                return account_details(tx, account, etag, ctx.now);
            }
            let involved = plan.added.iter().chain(&plan.removed);
            for group in involved.filter_map(|n| named.get(n).or_else(|| current.get(n))) {
                principals::require_members_change(tx, &caller, group)?;
            }
            let was_admin = principals::is_standing_admin(tx, &account)?;
            for group_name in &plan.added {
                let mut group = named
                    .remove(group_name)
                    .ok_or_else(|| Error::internal("planned an unnamed group"))?;
                memberships::join(tx, &mut account, &mut group)?;
                groups::put(tx, &group)?;
            }
            for group_name in &plan.removed {
                let mut group = current
                    .remove(group_name)
                    .ok_or_else(|| Error::internal("planned a group it is not in"))?;
                memberships::leave(tx, &mut account, &mut group)?;
                groups::put(tx, &group)?;
            }
            let etag = accounts::put(tx, &account)?;
            if was_admin && !principals::is_standing_admin(tx, &account)? {
                principals::require_standing_admin(tx)?;
            }
            let after: BTreeSet<Name> = before
                .difference(&plan.removed)
                .chain(&plan.added)
                .cloned()
                .collect();
            let changes = Change::of("groups", &names(before), &names(after))
                .into_iter()
                .collect();
            let target = Target::of_account(&account);
            audit::append(tx, ctx, "service_account.groups.update", target, changes)?;
            account_details(tx, account, etag, ctx.now)
        })
    }

    /// `PUT /groups/{name}/members`: one transaction; every account named must exist,
    /// adding or removing any needs the caller to hold every role of the group and every
    /// permission of each account it adds or removes, and the last administrator stays.
    pub fn update_group_members(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
        change: &MembershipChange,
        request: &PageRequest,
    ) -> Result<(GroupDetails, Page<ServiceAccount>), Error> {
        self.write(|tx| {
            let GroupDetails { mut group, etag } = groups::get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            let mut named = BTreeMap::new();
            for account_name in change.named() {
                named.insert(
                    account_name.clone(),
                    accounts::get_by_name(tx, account_name)?.0,
                );
            }
            let current: BTreeMap<Name, Uuid> = memberships::members(tx, group.id)?
                .into_iter()
                .map(|(name, id)| Ok((Name::parse("name", &name)?, id)))
                .collect::<Result<_, Error>>()?;
            let plan = change.plan(&current.keys().cloned().collect());
            if plan.is_empty() {
                let page = member_page(tx, &group, request)?;
                return Ok((GroupDetails { group, etag }, page));
            }
            let caller = principals::authority(tx, ctx)?;
            principals::require_members_change(tx, &caller, &group)?;
            for account_name in &plan.added {
                let mut account = named
                    .remove(account_name)
                    .ok_or_else(|| Error::internal("planned an unnamed account"))?;
                principals::require_may_act_on(tx, &caller, &account)?;
                memberships::join(tx, &mut account, &mut group)?;
                accounts::put(tx, &account)?;
            }
            let mut removed_admin = false;
            for account_name in &plan.removed {
                let id = current
                    .get(account_name)
                    .ok_or_else(|| Error::internal("planned a non-member"))?;
                let (mut account, _) =
                    accounts::get_listed(tx, *id, "a group lists a missing member")?;
                principals::require_may_act_on(tx, &caller, &account)?;
                removed_admin |= principals::is_standing_admin(tx, &account)?;
                memberships::leave(tx, &mut account, &mut group)?;
                accounts::put(tx, &account)?;
            }
            let etag = groups::put(tx, &group)?;
            if removed_admin {
                principals::require_standing_admin(tx)?;
            }
            let changes = [
                (!plan.added.is_empty())
                    .then(|| Change::set("members.added", &names(plan.added.clone()))),
                (!plan.removed.is_empty()).then(|| Change {
                    field: "members.removed".to_owned(),
                    from: serde_json::to_string(&names(plan.removed.clone())).ok(),
                    to: None,
                }),
            ];
            audit::append(
                tx,
                ctx,
                "group.members.update",
                Target::of_group(&group),
                changes.into_iter().flatten().collect(),
            )?;
            let page = member_page(tx, &group, request)?;
            Ok((GroupDetails { group, etag }, page))
        })
    }

    /// One page of a group's members, in name order.
    pub fn list_group_members(
        &self,
        name: &Name,
        request: &PageRequest,
    ) -> Result<Page<ServiceAccount>, Error> {
        self.read(|tx| {
            let details = groups::get_by_name(tx, name)?;
            member_page(tx, &details.group, request)
        })
    }
}
