//! What a read of an account shows beside its record, for every use case that answers
//! with an account.

use crate::domain::{AccountDetails, Etag, GroupRef, ServiceAccount, Timestamp};
use crate::error::Error;
use crate::store::reader::Reader;
use crate::store::rows::{accounts, credentials, memberships};

pub(super) fn account_details(
    tx: &impl Reader,
    account: ServiceAccount,
    etag: Etag,
    now: Timestamp,
) -> Result<AccountDetails, Error> {
    Ok(AccountDetails {
        active_credential_count: credentials::count_active(tx, account.id, now)?,
        groups: memberships::groups_of(tx, &account)?
            .into_values()
            .map(|g| GroupRef {
                id: g.id,
                name: g.name,
                display_name: g.display_name,
            })
            .collect(),
        last_seen_at: accounts::last_seen(tx, account.id)?,
        account,
        etag,
    })
}
