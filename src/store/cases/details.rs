//! What a read of an account shows beside its record, for every use case that answers
//! with an account.

use crate::domain::{AccountDetails, Credential, Etag, GroupRef, Scope, ServiceAccount, Timestamp};
use crate::error::Error;
use crate::store::principals;
use crate::store::reader::Reader;
use crate::store::rows::{accounts, credentials, memberships};

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
