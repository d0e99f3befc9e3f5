//! Service accounts: the stored record, its status, and list filters.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    AuthFailure, Change, ClientId, Etag, Name, PermissionSet, Scope, Timestamp, is_expired,
};
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
}

impl Status {
    pub fn parse(field: &str, value: &str) -> Result<Status, Error> {
        match value {
            "active" => Ok(Status::Active),
            "disabled" => Ok(Status::Disabled),
            _ => Err(Error::invalid(field, "must be 'active' or 'disabled'")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }
}

/// Who did something: an account, or keyhouse itself (`id` null) at bootstrap or from
/// the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorRef {
    pub id: Option<Uuid>,
    pub name: String,
}

impl ActorRef {
    pub fn system(name: &str) -> ActorRef {
        ActorRef {
            id: None,
            name: name.to_owned(),
        }
    }
}

/// A machine identity, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub id: Uuid,
    pub name: Name,
    pub display_name: String,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub status: Status,
    /// Role names bound directly to the account.
    pub roles: BTreeSet<Name>,
    /// Ids of the groups it belongs to; each group indexes it as a member too.
    pub groups: BTreeSet<Uuid>,
    pub external_id: Option<String>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: Timestamp,
    pub created_by: ActorRef,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub updated_at: Timestamp,
    /// Access tokens issued at or before this moment are dead: set when the account is
    /// disabled or revived from expiry, so that old tokens never come back.
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub tokens_valid_after: Option<Timestamp>,
}

impl ServiceAccount {
    /// Whether an access token issued at `issued_at` may still act for this account.
    pub fn accepts_token_issued_at(&self, issued_at: Timestamp) -> bool {
        self.tokens_valid_after
            .is_none_or(|after| issued_at > after)
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        is_expired(self.expires_at, now)
    }

    /// Why this account may not authenticate now, if it may not.
    pub fn refusal(&self, now: Timestamp) -> Option<AuthFailure> {
        if self.status == Status::Disabled {
            Some(AuthFailure::AccountDisabled)
        } else if self.is_expired(now) {
            Some(AuthFailure::AccountExpired)
        } else {
            None
        }
    }
}

/// A new account, its fields checked.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: Name,
    pub display_name: Option<String>,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub roles: BTreeSet<Name>,
    /// Groups to join at creation.
    pub groups: BTreeSet<Name>,
    pub expires_at: Option<Timestamp>,
    pub external_id: Option<String>,
}

impl NewAccount {
    pub fn into_account(self, id: Uuid, created_by: ActorRef, now: Timestamp) -> ServiceAccount {
        ServiceAccount {
            id,
            display_name: self.display_name.unwrap_or_else(|| self.name.to_string()),
            name: self.name,
            description: self.description,
            metadata: self.metadata,
            status: Status::Active,
            roles: self.roles,
            groups: BTreeSet::new(),
            external_id: self.external_id,
            expires_at: self.expires_at,
            created_at: now,
            created_by,
            updated_at: now,
            tokens_valid_after: None,
        }
    }
}

/// A `PATCH`: each `Some` replaces the field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub roles: Option<BTreeSet<Name>>,
    pub status: Option<Status>,
    pub expires_at: Option<Option<Timestamp>>,
    pub external_id: Option<Option<String>>,
}

/// Replaces `slot` with `new`, if given, recording the change.
pub(super) fn replace<T: Serialize + PartialEq>(
    changes: &mut Vec<Change>,
    field: &str,
    slot: &mut T,
    new: Option<T>,
) {
    if let Some(new) = new {
        changes.extend(Change::of(field, slot, &new));
        *slot = new;
    }
}

impl AccountPatch {
    /// Roles this patch would bind or unbind.
    pub fn changed_roles<'a>(
        &'a self,
        account: &'a ServiceAccount,
    ) -> impl Iterator<Item = &'a Name> + Clone {
        super::changed_roles(&self.roles, &account.roles)
    }

    /// Applies the patch and returns what changed; nothing changed means nothing to write.
    /// Disabling an account, or changing the expiry of an expired one, kills every access
    /// token issued until now.
    pub fn apply(self, account: &mut ServiceAccount, now: Timestamp) -> Vec<Change> {
        let was_expired = account.is_expired(now);
        let kills_tokens = (self.status == Some(Status::Disabled)
            && account.status != Status::Disabled)
            || (was_expired
                && self
                    .expires_at
                    .as_ref()
                    .is_some_and(|at| *at != account.expires_at));
        if kills_tokens {
            account.tokens_valid_after = Some(now);
        }
        let mut changes = Vec::new();
        replace(
            &mut changes,
            "display_name",
            &mut account.display_name,
            self.display_name,
        );
        replace(
            &mut changes,
            "description",
            &mut account.description,
            self.description,
        );
        replace(
            &mut changes,
            "metadata",
            &mut account.metadata,
            self.metadata,
        );
        replace(&mut changes, "roles", &mut account.roles, self.roles);
        replace(&mut changes, "status", &mut account.status, self.status);
        replace(
            &mut changes,
            "expires_at",
            &mut account.expires_at,
            self.expires_at,
        );
        replace(
            &mut changes,
            "external_id",
            &mut account.external_id,
            self.external_id,
        );
        if !changes.is_empty() {
            account.updated_at = now;
        }
        changes
    }
}

/// An authenticated account and what it may do.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: ServiceAccount,
    pub permissions: PermissionSet,
    /// Roles held directly or through groups.
    pub roles: BTreeSet<Name>,
    /// Names of the groups it belongs to.
    pub groups: Vec<Name>,
    /// Where the account lives, and so where its bindings hold.
    pub scope: Scope,
}

impl Principal {
    /// The account's OAuth `client_id`.
    pub fn client_id(&self) -> String {
        ClientId::text(&self.scope, self.account.name.as_str())
    }
}

/// A group as an account's read shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: Uuid,
    pub name: Name,
    pub display_name: String,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub member_count: u64,
    pub role_count: u64,
}

/// An account with what its read shows beside the record itself.
#[derive(Debug, Clone)]
pub struct AccountDetails {
    pub account: ServiceAccount,
    /// Where the account lives.
    pub scope: Scope,
    pub etag: Etag,
    pub groups: Vec<GroupRef>,
    pub active_credential_count: u32,
    pub last_seen_at: Option<Timestamp>,
    /// Holds `*`, directly or through a group.
    pub is_admin: bool,
    /// The expiry of its newest unexpired secret; `None` when there is none or when
    /// that secret never expires.
    pub token_expires_at: Option<Timestamp>,
    /// It has secrets and none is unexpired.
    pub token_expired: bool,
}

/// The filters of `GET /api/v1/service-accounts`.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Lower-cased; a part of the name or display name, or (shorter than three
    /// characters) the start of the name.
    pub query: Option<String>,
    pub status: Option<Status>,
    pub role: Option<Name>,
    /// Members of this group; the store resolves the name to the ids of the groups of
    /// that name in the scopes listed.
    pub group: Option<Name>,
    pub group_ids: BTreeSet<Uuid>,
}

impl AccountFilter {
    pub fn new(
        query: Option<String>,
        status: Option<Status>,
        role: Option<Name>,
        group: Option<Name>,
    ) -> Self {
        AccountFilter {
            query: query.filter(|q| !q.is_empty()).map(|q| q.to_lowercase()),
            status,
            role,
            group,
            group_ids: BTreeSet::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.query.is_none() && self.status.is_none() && self.role.is_none() && self.group.is_none()
    }

    /// Whether `account` matches, decided from the record alone: what the indexes
    /// answer, and what a list across scopes checks.
    pub fn matches(&self, account: &ServiceAccount) -> bool {
        self.matches_query(account.name.as_str(), || account.display_name.clone())
            && self.status.is_none_or(|s| account.status == s)
            && self.role.as_ref().is_none_or(|r| account.roles.contains(r))
            && (self.group.is_none() || account.groups.iter().any(|g| self.group_ids.contains(g)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, display: &str) -> ServiceAccount {
        let now = chrono::DateTime::UNIX_EPOCH;
        ServiceAccount {
            id: Uuid::nil(),
            name: Name::parse("name", name).unwrap(),
            display_name: display.into(),
            description: String::new(),
            metadata: BTreeMap::new(),
            status: Status::Active,
            roles: BTreeSet::new(),
            groups: BTreeSet::new(),
            external_id: None,
            expires_at: None,
            created_at: now,
            created_by: ActorRef::system("test"),
            updated_at: now,
            tokens_valid_after: None,
        }
    }

    #[test]
    fn query_matches_name_or_display_name_ignoring_case() {
        let filter = AccountFilter::new(Some("BoT".into()), None, None, None);
        assert!(filter.matches(&account("ci-bot", "CI")));
        assert!(filter.matches(&account("ci", "The Robot")));
        assert!(!filter.matches(&account("ci", "Runner")));
    }

    #[test]
    fn a_patch_reports_only_real_changes() {
        let mut sa = account("a", "A");
        let later = chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(1);
        let same = AccountPatch {
            display_name: Some("A".into()),
            ..AccountPatch::default()
        };
        assert!(same.apply(&mut sa, later).is_empty());
        assert_eq!(sa.updated_at, chrono::DateTime::UNIX_EPOCH);
        let patch = AccountPatch {
            display_name: Some("B".into()),
            external_id: Some(Some("x-1".into())),
            ..AccountPatch::default()
        };
        let changes = patch.apply(&mut sa, later);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["display_name", "external_id"]);
        assert_eq!(changes[0].from.as_deref(), Some("\"A\""));
        assert_eq!(sa.updated_at, later);
    }

    #[test]
    fn disabling_kills_tokens_issued_before() {
        let t = |s: i64| chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(s);
        let mut sa = account("a", "a");
        assert!(sa.accepts_token_issued_at(t(5)));
        let disable = AccountPatch {
            status: Some(Status::Disabled),
            ..AccountPatch::default()
        };
        disable.apply(&mut sa, t(10));
        let enable = AccountPatch {
            status: Some(Status::Active),
            ..AccountPatch::default()
        };
        enable.apply(&mut sa, t(20));
        assert!(!sa.accepts_token_issued_at(t(9)));
        assert!(!sa.accepts_token_issued_at(t(10)));
        assert!(sa.accepts_token_issued_at(t(21)));
    }

    #[test]
    fn disabled_or_expired_accounts_are_refused() {
        let now = chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(10);
        let mut sa = account("a", "a");
        assert_eq!(sa.refusal(now), None);
        sa.expires_at = Some(now);
        assert!(sa.refusal(now).is_some());
        sa.expires_at = None;
        sa.status = Status::Disabled;
        assert!(sa.refusal(now).is_some());
    }
}
