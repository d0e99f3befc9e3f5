//! The stored service account. Version 1 is the layout of every file before records had
//! versions; an account of a project had its project in a side table then
//! (`account_scopes_v1`). Version 2 holds its project itself: version 1 and the project.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{self, ActorV1, StatusV1};
use super::{Record, version};
use crate::domain::{Name, Scope, ServiceAccount, Timestamp};
use crate::error::Error;
use crate::store::codec;

/// The account as stored by schema 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct AccountV1 {
    id: Uuid,
    name: String,
    display_name: String,
    description: String,
    metadata: BTreeMap<String, String>,
    status: StatusV1,
    roles: BTreeSet<String>,
    groups: BTreeSet<Uuid>,
    external_id: Option<String>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    expires_at: Option<Timestamp>,
    #[serde(with = "chrono::serde::ts_seconds")]
    created_at: Timestamp,
    created_by: ActorV1,
    #[serde(with = "chrono::serde::ts_seconds")]
    updated_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    tokens_valid_after: Option<Timestamp>,
}

/// The account with the project it lives in (`None`: the root), since schema 2. The
/// project comes first, so that where an account lives is read without the rest
/// ([`scope_in`]): the store asks it of the caller on every write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct AccountV2 {
    project: Option<String>,
    account: AccountV1,
}

/// Where the account whose stored bytes are `bytes` lives, read from the front of its
/// record alone.
pub(super) fn scope_in(bytes: &[u8]) -> Result<Scope, String> {
    match codec::split(bytes)? {
        (1, _) => Ok(Scope::Root),
        (2, body) => scope_of(codec::decode_front(body)?),
        (other, _) => Err(codec::unknown_format(other)),
    }
}

/// The scope of a record's project: `None` is the root.
fn scope_of(project: Option<String>) -> Result<Scope, String> {
    match project {
        None => Ok(Scope::Root),
        Some(project) => Ok(Scope::Project(common::name(project)?)),
    }
}

/// Every version of a stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum AccountRecord {
    V1(AccountV1),
    V2(AccountV2),
}

impl Record for AccountRecord {
    const KIND: &'static str = "service account";

    fn read(format: u8, body: &[u8]) -> Result<Self, String> {
        match format {
            1 => version(body, AccountRecord::V1),
            2 => version(body, AccountRecord::V2),
            other => Err(codec::unknown_format(other)),
        }
    }

    fn write(&self) -> Result<Vec<u8>, Error> {
        match self {
            AccountRecord::V1(v1) => codec::encode_as(1, v1),
            AccountRecord::V2(v2) => codec::encode_as(2, v2),
        }
    }
}

/// An account and where it lives: what its record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) struct StoredAccount {
    pub account: ServiceAccount,
    /// For a version 1 record, the root: its project, if any, is in the side table
    /// that the migration to schema 2 folds into the record.
    pub scope: Scope,
}

impl TryFrom<AccountV1> for ServiceAccount {
    type Error = String;

    fn try_from(v1: AccountV1) -> Result<Self, String> {
        Ok(ServiceAccount {
            id: v1.id,
            name: common::name(v1.name)?,
            display_name: v1.display_name,
            description: v1.description,
            metadata: v1.metadata,
            status: v1.status.into(),
            roles: common::names(v1.roles)?,
            groups: v1.groups,
            external_id: v1.external_id,
            expires_at: v1.expires_at,
            created_at: v1.created_at,
            created_by: v1.created_by.into(),
            updated_at: v1.updated_at,
            tokens_valid_after: v1.tokens_valid_after,
        })
    }
}

impl From<&ServiceAccount> for AccountV1 {
    fn from(account: &ServiceAccount) -> Self {
        AccountV1 {
            id: account.id,
            name: account.name.as_str().to_owned(),
            display_name: account.display_name.clone(),
            description: account.description.clone(),
            metadata: account.metadata.clone(),
            status: account.status.into(),
            roles: common::texts(&account.roles),
            groups: account.groups.clone(),
            external_id: account.external_id.clone(),
            expires_at: account.expires_at,
            created_at: account.created_at,
            created_by: (&account.created_by).into(),
            updated_at: account.updated_at,
            tokens_valid_after: account.tokens_valid_after,
        }
    }
}

impl TryFrom<AccountRecord> for StoredAccount {
    type Error = String;

    fn try_from(record: AccountRecord) -> Result<Self, String> {
        let (v1, project) = match record {
            AccountRecord::V1(v1) => (v1, None),
            AccountRecord::V2(AccountV2 { account, project }) => (account, project),
        };
        Ok(StoredAccount {
            account: v1.try_into()?,
            scope: scope_of(project)?,
        })
    }
}

/// The account alone, for reads that do not ask where it lives.
impl TryFrom<AccountRecord> for ServiceAccount {
    type Error = String;

    fn try_from(record: AccountRecord) -> Result<Self, String> {
        match record {
            AccountRecord::V1(v1) | AccountRecord::V2(AccountV2 { account: v1, .. }) => {
                v1.try_into()
            }
        }
    }
}

/// The current version of the account `account` of `scope`.
impl From<(&ServiceAccount, &Scope)> for AccountRecord {
    fn from((account, scope): (&ServiceAccount, &Scope)) -> Self {
        AccountRecord::V2(AccountV2 {
            account: account.into(),
            project: scope.project().map(str::to_owned),
        })
    }
}

impl AccountRecord {
    /// The record with its project set to `project`: how the migration to schema 2
    /// folds the side table in.
    pub(in crate::store) fn in_project(self, project: &Name) -> AccountRecord {
        let (AccountRecord::V1(account) | AccountRecord::V2(AccountV2 { account, .. })) = self;
        AccountRecord::V2(AccountV2 {
            account,
            project: Some(project.as_str().to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::samples;
    use crate::store::records::{decode, encode};

    /// The bytes of schema 1: the domain struct of that time, bincoded behind byte 1.
    #[test]
    fn version_1_bytes_decode_as_the_root_account_they_were() {
        let account = samples::account("ci-bot");
        let v1 = codec::encode_as(codec::FORMAT_V1, &account).unwrap();
        let read: StoredAccount = decode::<AccountRecord, _>(&v1).unwrap();
        assert_eq!(read.account, account);
        assert_eq!(read.scope, Scope::Root);
        assert_eq!(
            encode::<AccountRecord>(AccountRecord::V1((&account).into())).unwrap(),
            v1,
            "version 1 writes the same bytes"
        );
    }

    #[test]
    fn the_current_version_round_trips_with_its_project() {
        let account = samples::account("ci-bot");
        let scope = Scope::Project(Name::parse("p", "payments").unwrap());
        let bytes = encode::<AccountRecord>((&account, &scope)).unwrap();
        assert_eq!(bytes[0], 2);
        let read: StoredAccount = decode::<AccountRecord, _>(&bytes).unwrap();
        assert_eq!(read, StoredAccount { account, scope });
        let root = encode::<AccountRecord>((&read.account, &Scope::Root)).unwrap();
        let read: StoredAccount = decode::<AccountRecord, _>(&root).unwrap();
        assert_eq!(read.scope, Scope::Root);
    }

    /// Where an account lives is read from the front of its record alone, and says
    /// what the whole record says.
    #[test]
    fn the_scope_is_read_from_the_front_of_either_version() {
        let account = samples::account("ci-bot");
        let scope = Scope::Project(Name::parse("p", "payments").unwrap());
        for scope in [scope, Scope::Root] {
            let bytes = encode::<AccountRecord>((&account, &scope)).unwrap();
            assert_eq!(scope_in(&bytes).unwrap(), scope);
        }
        let v1 = codec::encode_as(codec::FORMAT_V1, &account).unwrap();
        assert_eq!(scope_in(&v1).unwrap(), Scope::Root);
        assert!(scope_in(&[9, 0]).unwrap_err().contains("unknown format 9"));
        assert!(
            scope_in(&[2, 1, 200]).is_err(),
            "a project that does not decode"
        );
    }

    #[test]
    fn a_version_1_record_folds_into_version_2_with_its_project() {
        let account = samples::account("ci-bot");
        let project = Name::parse("p", "payments").unwrap();
        let folded = AccountRecord::V1((&account).into()).in_project(&project);
        let read = StoredAccount::try_from(folded).unwrap();
        assert_eq!(read.scope, Scope::Project(project));
        assert_eq!(read.account, account);
    }
}
