//! Service-account use cases: create, read, list, change and delete.

use std::sync::Arc;

use uuid::Uuid;

use super::details::{self, account_details, new_account_details};
use super::filtered;
use crate::domain::{
    AccountDetails, AccountFilter, AccountPatch, Action, Change, Created, Credential,
    CredentialRequest, Etag, IfMatch, Kind, Listing, Name, NewAccount, NewCredential, Page,
    PageRequest, Scope, ServiceAccount, Target, Timestamp, check_if_match, new_id,
};
use crate::error::Error;
use crate::store::Answer;
use crate::store::kv::ReadTx;
use crate::store::paging::{self, Filter};
use crate::store::reader::Reader;
use crate::store::rows::counts::{self, Index};
use crate::store::rows::{accounts, audit, credentials, groups, memberships, projects};
use crate::store::transaction::Tx;
use crate::store::{Store, WriteContext, principals, tables};

impl Store {
    /// Creates an account, with its first secret if one is asked for, its expiry
    /// within the limits in force in `scope` (decided first in the transaction, from
    /// the project's credential policy as it reads it).
    pub fn create_service_account(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        new: NewAccount,
        secret: Option<CredentialRequest>,
    ) -> Answer<(AccountDetails, Option<Credential>)> {
        let ctx = ctx.clone();
        self.write_in(scope, move |tx, scope| {
            let ctx = &ctx;
            let policy = projects::credential_policy(tx, scope)?;
            let secret = secret
                .clone()
                .map(|request| request.resolve(&policy, ctx.now).map(|(new, _)| new))
                .transpose()?;
            create(tx, ctx, scope, new.clone(), secret)
        })
    }

    pub async fn get_service_account(
        &self,
        scope: &Scope,
        name: &Name,
        now: Timestamp,
    ) -> Result<AccountDetails, Error> {
        let name = name.clone();
        self.read_in(scope, move |tx, scope| {
            let name = &name;
            let (account, etag) = accounts::get_by_name(tx, scope, name)?;
            account_details(tx, account, etag, now)
        })
        .await
    }

    /// The account with this id, as it reads now; 404 if it is gone. Remembered until
    /// the next write, or until one of its credentials expires.
    pub async fn get_service_account_by_id(
        &self,
        id: Uuid,
        now: Timestamp,
    ) -> Result<Arc<AccountDetails>, Error> {
        let generation = self.generation();
        if let Some((details, next_expiry)) = self.details.get(&id, generation)
            && next_expiry.is_none_or(|at| at > now)
        {
            return Ok(details);
        }
        let (details, next_expiry) = self
            .read(move |tx| {
                let (account, etag) = accounts::get(tx, id)?
                    .ok_or_else(|| Error::not_found(Kind::ServiceAccount, id.to_string()))?;
                Ok((
                    Arc::new(account_details(tx, account, etag, now)?),
                    credentials::next_expiry(tx, id, now)?,
                ))
            })
            .await?;
        self.details
            .put(id, generation, (details.clone(), next_expiry));
        Ok(details)
    }

    /// Applies a patch: the caller must hold every permission of the account, and every
    /// role the patch binds or unbinds; the last administrator stays one. A patch that
    /// changes nothing writes nothing, not even an audit event.
    pub fn update_service_account(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
        patch: AccountPatch,
    ) -> Answer<AccountDetails> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let (mut account, etag) = accounts::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx, scope)?;
            principals::require_may_act_on(tx, &caller, &account)?;
            principals::require_grantable(tx, scope, &caller, patch.changed_roles(&account))?;
            let was_admin = principals::is_standing_admin(tx, &account)?;
            let changes = patch.clone().apply(&mut account, ctx.now);
            if changes.is_empty() {
                return account_details(tx, account, etag, ctx.now);
            }
            let etag = accounts::put(tx, &account)?;
            if was_admin && !principals::is_standing_admin(tx, &account)? {
                principals::require_standing_admin(tx)?;
            }
            let target = Target::of_account(&account);
            audit::append(tx, ctx, Action::ServiceAccountUpdate, target, changes)?;
            account_details(tx, account, etag, ctx.now)
        })
    }

    /// Deletes an account with all its credentials, at once; the caller must hold every
    /// permission of the account, and the last administrator stays.
    pub fn delete_service_account(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        if_match: Option<&IfMatch>,
    ) -> Answer<()> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let (mut account, etag) = accounts::get_by_name(tx, scope, name)?;
            check_if_match(if_match, &etag)?;
            let caller = principals::authority(tx, ctx, scope)?;
            principals::require_may_act_on(tx, &caller, &account)?;
            let was_admin = principals::is_standing_admin(tx, &account)?;
            accounts::remove(tx, scope, &account)?;
            credentials::delete_all_of(tx, account.id)?;
            for mut group in memberships::groups_of(tx, &account)?.into_values() {
                memberships::leave(tx, &mut account, &mut group)?;
                groups::put(tx, &group)?;
            }
            if was_admin {
                principals::require_standing_admin(tx)?;
            }
            let target = Target::of_account(&account);
            audit::append(tx, ctx, Action::ServiceAccountDelete, target, Vec::new())?;
            Ok(())
        })
    }

    /// One page of the accounts of `listing`, in name order (across scopes, the root's
    /// first, then each project's); see `paging::page`.
    pub async fn list_service_accounts(
        &self,
        listing: &Listing,
        filter: &AccountFilter,
        request: &PageRequest,
        now: Timestamp,
    ) -> Result<Page<AccountDetails>, Error> {
        let (listing, filter, request) = (listing.clone(), filter.clone(), request.clone());
        let scope = match &listing {
            Listing::In(scope) => scope,
            Listing::Everywhere => &Scope::Root,
        }
        .clone();
        self.read_in(&scope, move |tx, _| {
            let (listing, filter, request) = (&listing, &filter, &request);
            let names = tx.table(tables::ACCOUNT_NAMES)?;
            let page = match listing {
                Listing::In(scope) if !filter.is_empty() => {
                    filtered::page(tx, scope, filter, request)?
                }
                Listing::In(scope) => {
                    let entries = |after: Option<&str>| paging::in_name_order(&names, scope, after);
                    let total = || counts::of(tx, Index::Accounts, scope);
                    let ids = paging::page(request, entries, Ok, total, None)?;
                    accounts::listed(tx, ids, "the name index names a missing account")?
                }
                Listing::Everywhere => everywhere(tx, filter, request)?,
            };
            details::read_ahead(tx, &page.items)?;
            page.try_map(|(account, etag)| account_details(tx, account, etag, now))
        })
        .await
    }
}

/// A page of the accounts of every scope: the name index walked across scopes, each
/// account checked against the filter (a filter's group is the group of its name in
/// each scope).
fn everywhere(
    tx: &ReadTx,
    filter: &AccountFilter,
    request: &PageRequest,
) -> Result<Page<(ServiceAccount, Etag)>, Error> {
    let mut filter = filter.clone();
    if let Some(group) = &filter.group {
        for scope in projects::every_scope(tx)? {
            if let Some(found) = groups::find_by_name(tx, &scope, group)? {
                filter.group_ids.insert(found.group.id);
            }
        }
    }
    let names = tx.table(tables::ACCOUNT_NAMES)?;
    let load = |id: Uuid| accounts::get_listed(tx, id, "the name index names a missing account");
    let matches = |(account, _): &(ServiceAccount, Etag)| filter.matches(account);
    let matches: Filter<'_, (ServiceAccount, Etag)> = (!filter.is_empty()).then_some(&matches as _);
    let entries = |after: Option<&str>| {
        Ok(paging::in_key_order(&names, after)?.map(|entry| entry.map(|(key, (_, id))| (key, id))))
    };
    paging::page(request, entries, load, || names.len(), matches)
}

/// Creates an account in `scope` in `tx`: the caller must hold every role it binds and
/// every role of each group it joins.
pub(in crate::store) fn create(
    tx: &Tx,
    ctx: &WriteContext,
    scope: &Scope,
    new: NewAccount,
    secret: Option<NewCredential>,
) -> Result<(AccountDetails, Option<Credential>), Error> {
    let caller = principals::authority(tx, ctx, scope)?;
    principals::require_grantable(tx, scope, &caller, &new.roles)?;
    let mut joining = Vec::new();
    for name in &new.groups {
        let group = principals::named_group(tx, scope, &caller, name)?;
        principals::require_members_change(tx, scope, &caller, &group)?;
        joining.push(group);
    }
    let mut account = new.into_account(new_id(ctx.now), ctx.actor.clone(), ctx.now);
    for group in &mut joining {
        memberships::join(tx, &mut account, group)?;
        groups::put(tx, group)?;
    }
    let etag = accounts::insert(tx, scope, &account)?;
    let mut changes = account.creation_changes();
    if !joining.is_empty() {
        let names: Vec<&str> = joining.iter().map(|g| g.name.as_str()).collect();
        changes.push(Change::set("groups", &names));
    }
    let credential = match secret {
        Some(secret) => {
            let credential = credentials::issue(tx, ctx, account.id, secret)?;
            changes.push(Change::set("initial_secret", &credential.id));
            Some(credential)
        }
        None => None,
    };
    let target = Target::of_account(&account);
    audit::append(tx, ctx, Action::ServiceAccountCreate, target, changes)?;
    let details = new_account_details(tx, account, etag, scope, credential.as_ref(), ctx.now)?;
    Ok((details, credential))
}
