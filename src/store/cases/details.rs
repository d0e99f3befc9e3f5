//! What a read of an account shows beside its record, for every use case that answers
//! with an account.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::domain::{AccountDetails, Credential, Etag, GroupRef, Scope, ServiceAccount, Timestamp};
use crate::error::Error;
use crate::store::reader::Reader;
use crate::store::rows::{accounts, credentials, memberships};
use crate::store::{principals, tables};

pub(super) fn account_details(
    tx: &impl Reader,
    account: ServiceAccount,
    etag: Etag,
    now: Timestamp,
) -> Result<AccountDetails, Error> {
    let known = Known {
        scope: accounts::scope_of(tx, account.id)?,
        credentials: credentials::shown(tx, account.id, now)?,
        last_seen_at: accounts::last_seen(tx, account.id)?,
    };
    details(tx, account, etag, known)
}

/// Reads ahead what [`account_details`] reads of each account of a page: its last use,
/// its credentials and its groups (its record, and the roles, are read already or the
/// same for many).
pub(super) fn read_ahead(
    tx: &impl Reader,
    accounts: &[(ServiceAccount, Etag)],
) -> Result<(), Error> {
    let last_seen = tx.table(tables::LAST_SEEN)?;
    if !last_seen.reads_ahead() {
        return Ok(());
    }
    let ids: Vec<Uuid> = accounts.iter().map(|(account, _)| account.id).collect();
    last_seen.read_ahead(ids.iter().map(|id| id.as_u128()), std::iter::empty())?;
    credentials::read_ahead(tx, &ids)?;
    let groups: BTreeSet<u128> = accounts
        .iter()
        .flat_map(|(account, _)| account.groups.iter().map(|id| id.as_u128()))
        .collect();
    tx.table(tables::GROUPS)?
        .read_ahead(groups, std::iter::empty())
}

/// The details of an account this transaction created in `scope`, with `credential` its
/// only one: what the transaction already knows is not read back.
pub(super) fn new_account_details(
    tx: &impl Reader,
    account: ServiceAccount,
    etag: Etag,
    scope: &Scope,
    credential: Option<&Credential>,
    now: Timestamp,
) -> Result<AccountDetails, Error> {
    let known = Known {
        scope: scope.clone(),
        credentials: credentials::shown_of_only(credential, now)?,
        last_seen_at: None,
    };
    details(tx, account, etag, known)
}

/// What the details show that is read from elsewhere than the account's record and its
/// groups, or known without reading.
struct Known {
    scope: Scope,
    credentials: credentials::Shown,
    last_seen_at: Option<Timestamp>,
}

fn details(
    tx: &impl Reader,
    account: ServiceAccount,
    etag: Etag,
    known: Known,
) -> Result<AccountDetails, Error> {
    let groups = memberships::groups_of(tx, &account)?;
    let held = account
        .roles
        .iter()
        .chain(groups.values().flat_map(|g| &g.roles));
    let is_admin = principals::permissions_of(tx, &known.scope, held)?.holds_all();
    let (active_credential_count, token_expires_at, token_expired) = known.credentials;
    Ok(AccountDetails {
        scope: known.scope,
        active_credential_count,
        groups: groups
            .into_values()
            .map(|g| GroupRef {
                id: g.id,
                role_count: g.roles.len() as u64,
                name: g.name,
                display_name: g.display_name,
                description: g.description,
                metadata: g.metadata,
                created_at: g.created_at,
                member_count: g.member_count,
            })
            .collect(),
        last_seen_at: known.last_seen_at,
        is_admin,
        token_expires_at,
        token_expired,
        account,
        etag,
    })
}
