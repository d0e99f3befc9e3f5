//! Membership use cases, from either side: an account's groups and a group's members.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::details::account_details;
use crate::domain::{
    AccountDetails, Action, Authority, Change, Etag, Group, GroupDetails, IfMatch,
    MembershipChange, Name, Page, PageRequest, Scope, ServiceAccount, Target, check_if_match,
};
use crate::error::Error;
use crate::store::Answer;
use crate::store::reader::Reader;
use crate::store::rows::{accounts, audit, groups, memberships};
use crate::store::transaction::Tx;
use crate::store::{Store, WriteContext, paging, principals, tables};

/// One page of a group's members in name order; the total is the group's count.
fn member_page(
    tx: &impl Reader,
    group: &Group,
    request: &PageRequest,
) -> Result<Page<ServiceAccount>, Error> {
    let members = tx.table(tables::GROUP_MEMBERS)?;
    let entries = |after: Option<&str>| memberships::members_after(&members, group.id, after);
    let load = |id: Uuid| accounts::record_listed(tx, id, "a group lists a missing member");
    paging::page(request, entries, load, || Ok(group.member_count), None)
}

/// One membership change, from either side: the records it touches, by id, and the
/// (account, group) pairs it joins and parts.
#[derive(Default)]
struct Edits {
    accounts: BTreeMap<Uuid, ServiceAccount>,
    groups: BTreeMap<Uuid, Group>,
    joins: Vec<(Uuid, Uuid)>,
    leaves: Vec<(Uuid, Uuid)>,
}

/// The records after a change, each with its new etag.
struct Applied {
    accounts: BTreeMap<Uuid, (ServiceAccount, Etag)>,
    groups: BTreeMap<Uuid, (Group, Etag)>,
}

impl Edits {
    fn pair(&mut self, account: &ServiceAccount, group: &Group) -> (Uuid, Uuid) {
        self.accounts
            .entry(account.id)
            .or_insert_with(|| account.clone());
        self.groups.entry(group.id).or_insert_with(|| group.clone());
        (account.id, group.id)
    }

    fn join(&mut self, account: &ServiceAccount, group: &Group) {
        let pair = self.pair(account, group);
        self.joins.push(pair);
    }

    fn leave(&mut self, account: &ServiceAccount, group: &Group) {
        let pair = self.pair(account, group);
        self.leaves.push(pair);
    }

    /// Checks the change on its caller and writes it on both sides: the caller must hold
    /// every role of each group involved and every permission of each account, and an
    /// account that stops being a standing administrator must leave another.
    fn apply(mut self, tx: &Tx, scope: &Scope, caller: &Authority) -> Result<Applied, Error> {
        for group in self.groups.values() {
            principals::require_members_change(tx, scope, caller, group)?;
        }
        let mut admins = Vec::new();
        for account in self.accounts.values() {
            principals::require_may_act_on(tx, caller, account)?;
            if principals::is_standing_admin(tx, account)? {
                admins.push(account.id);
            }
        }
        let edits = self.joins.iter().map(|p| (p, true));
        for ((account, group), joins) in edits.chain(self.leaves.iter().map(|p| (p, false))) {
            let (Some(account), Some(group)) =
                (self.accounts.get_mut(account), self.groups.get_mut(group))
            else {
                return Err(Error::internal("a membership edit names no record"));
            };
            match joins {
                true => memberships::join(tx, account, group)?,
                false => memberships::leave(tx, account, group)?,
            }
        }
        let mut applied = Applied {
            accounts: BTreeMap::new(),
            groups: BTreeMap::new(),
        };
        for (id, group) in self.groups {
            let etag = groups::put(tx, &group)?;
            applied.groups.insert(id, (group, etag));
        }
        for (id, account) in self.accounts {
            let etag = accounts::put(tx, &account)?;
            applied.accounts.insert(id, (account, etag));
        }
        for id in admins {
            if let Some((account, _)) = applied.accounts.get(&id)
                && !principals::is_standing_admin(tx, account)?
            {
                principals::require_standing_admin(tx)?;
                break;
            }
        }
        Ok(applied)
    }
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
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
        change: &MembershipChange,
    ) -> Answer<AccountDetails> {
        let (ctx, name, if_match, change) =
            (ctx.clone(), name.clone(), if_match.cloned(), change.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match, change) = (&ctx, &name, if_match.as_ref(), &change);
            let (account, etag) = accounts::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx, scope)?;
            principals::require_may_act_on(tx, &caller, &account)?;
            let mut named = BTreeMap::new();
            for group_name in change.named() {
                named.insert(
                    group_name.clone(),
                    principals::named_group(tx, scope, &caller, group_name)?,
                );
            }
            let mut current = memberships::groups_of(tx, &account)?;
            let before: BTreeSet<Name> = current.keys().cloned().collect();
            let plan = change.plan(&before);
            if plan.is_empty() {
                return account_details(tx, account, etag, ctx.now);
            }
            let mut edits = Edits::default();
            for group_name in &plan.added {
                let group = named
                    .remove(group_name)
                    .ok_or_else(|| Error::internal("planned an unnamed group"))?;
                edits.join(&account, &group);
            }
            for group_name in &plan.removed {
                let group = current
                    .remove(group_name)
                    .ok_or_else(|| Error::internal("planned a group it is not in"))?;
                edits.leave(&account, &group);
            }
            let (account, etag) = edits
                .apply(tx, scope, &caller)?
                .accounts
                .remove(&account.id)
                .ok_or_else(|| Error::internal("a membership change lost its account"))?;
            let after: BTreeSet<Name> = before
                .difference(&plan.removed)
                .chain(&plan.added)
                .cloned()
                .collect();
            let changes = Change::of("groups", &names(before), &names(after))
                .into_iter()
                .collect();
            let target = Target::of_account(&account);
            audit::append(tx, ctx, Action::ServiceAccountGroupsUpdate, target, changes)?;
            account_details(tx, account, etag, ctx.now)
        })
    }

    /// `PUT /groups/{name}/members`: one transaction; every account named must exist,
    /// adding or removing any needs the caller to hold every role of the group and every
    /// permission of each account it adds or removes, and the last administrator stays.
    pub fn update_group_members(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
        change: &MembershipChange,
        request: &PageRequest,
    ) -> Answer<(GroupDetails, Page<ServiceAccount>)> {
        let (ctx, name, if_match, change, request) = (
            ctx.clone(),
            name.clone(),
            if_match.cloned(),
            change.clone(),
            request.clone(),
        );
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match, change, request) =
                (&ctx, &name, if_match.as_ref(), &change, &request);
            let GroupDetails { group, etag } = groups::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            let mut named = BTreeMap::new();
            for account_name in change.named() {
                named.insert(
                    account_name.clone(),
                    accounts::get_by_name(tx, scope, account_name)?.0,
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
            let mut edits = Edits::default();
            for account_name in &plan.added {
                let account = named
                    .remove(account_name)
                    .ok_or_else(|| Error::internal("planned an unnamed account"))?;
                edits.join(&account, &group);
            }
            for account_name in &plan.removed {
                let id = current
                    .get(account_name)
                    .ok_or_else(|| Error::internal("planned a non-member"))?;
                let account = accounts::record_listed(tx, *id, "a group lists a missing member")?;
                edits.leave(&account, &group);
            }
            let caller = principals::authority(tx, ctx, scope)?;
            let (group, etag) = edits
                .apply(tx, scope, &caller)?
                .groups
                .remove(&group.id)
                .ok_or_else(|| Error::internal("a membership change lost its group"))?;
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
                Action::GroupMembersUpdate,
                Target::of_group(&group),
                changes.into_iter().flatten().collect(),
            )?;
            let page = member_page(tx, &group, request)?;
            Ok((GroupDetails { group, etag }, page))
        })
    }

    /// One page of a group's members, in name order.
    pub async fn list_group_members(
        &self,
        scope: &Scope,
        name: &Name,
        request: &PageRequest,
    ) -> Result<Page<ServiceAccount>, Error> {
        let (name, request) = (name.clone(), request.clone());
        self.read_in(scope, move |tx, scope| {
            let (name, request) = (&name, &request);
            let details = groups::get_by_name(tx, scope, name)?;
            member_page(tx, &details.group, request)
        })
        .await
    }
}
