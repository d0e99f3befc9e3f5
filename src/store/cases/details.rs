//! What a read of an account shows beside its record, for every use case that answers
//! with an account.

use crate::domain::{AccountDetails, Etag, GroupRef, ServiceAccount, Timestamp};
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
    let groups = memberships::groups_of(tx, &account)?;
    let held = account
        .roles
        .iter()
        .chain(groups.values().flat_map(|g| &g.roles));
    let scope = accounts::scope_of(tx, account.id)?;
    let is_admin = principals::permissions_of(tx, &scope, held)?.holds_all();
    let (active_credential_count, token_expires_at, token_expired) =
        credentials::shown(tx, account.id, now)?;
    Ok(AccountDetails {
        scope,
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
        last_seen_at: accounts::last_seen(tx, account.id)?,
        is_admin,
        token_expires_at,
        token_expired,
        account,
        etag,
    })
}
