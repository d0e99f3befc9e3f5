//! Wire types of responses, built from domain types. Stored records never derive
//! `ToSchema`, so the wire format and the file format change independently.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::wire_time;
use crate::auth::secret::Secret;
use crate::domain::{
    AccountDetails, ActorRef, ClientId, CredentialDetails, CredentialKind, GroupRef, LrnKind, Name,
    Page, Scope, ServiceAccount, Status, lrn,
};

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct PageView<T: ToSchema> {
    pub items: Vec<T>,
    /// How many items match, over all pages; a lower bound when `total_count_exact` is
    /// false.
    pub total_count: u64,
    /// Present, and false, only when `total_count` is a lower bound: counting a filter's
    /// matches exactly would have cost more than the page (a substring query matching
    /// many thousands). Absent when the count is exact.
    #[serde(skip_serializing_if = "is_true")]
    #[schema(required = false)]
    pub total_count_exact: bool,
    /// From 1 to 4294967295.
    #[schema(value_type = u64, minimum = 1, maximum = 4294967295_u64)]
    pub page: u32,
    pub per_page: u32,
    /// Pass as `page_token` for the next page; null on the last one.
    pub next_page_token: Option<String>,
}

impl<T: ToSchema> PageView<T> {
    pub fn from_page<U>(page: Page<U>, view: impl FnMut(U) -> T) -> Self {
        PageView {
            items: page.items.into_iter().map(view).collect(),
            total_count: page.total_count,
            total_count_exact: page.total_count_exact,
            page: page.page,
            per_page: page.per_page,
            next_page_token: page.next_page_token,
        }
    }

    /// A page of views that borrow from its items.
    pub fn of<'a, U>(page: &'a Page<U>, view: impl FnMut(&'a U) -> T) -> Self {
        PageView {
            items: page.items.iter().map(view).collect(),
            total_count: page.total_count,
            total_count_exact: page.total_count_exact,
            page: page.page,
            per_page: page.per_page,
            next_page_token: page.next_page_token.clone(),
        }
    }
}

/// Whether a flag is set: an exact count's `total_count_exact` is left out of the answer.
fn is_true(flag: &bool) -> bool {
    *flag
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum StatusView {
    Active,
    Disabled,
}

impl From<Status> for StatusView {
    fn from(status: Status) -> Self {
        match status {
            Status::Active => StatusView::Active,
            Status::Disabled => StatusView::Disabled,
        }
    }
}

/// Who did something: an account, or keyhouse itself (`id` null).
#[derive(Serialize, ToSchema)]
pub struct ActorView {
    pub id: Option<Uuid>,
    #[schema(example = "admin")]
    pub name: String,
}

impl From<&ActorRef> for ActorView {
    fn from(actor: &ActorRef) -> Self {
        ActorView {
            id: actor.id,
            name: actor.name.clone(),
        }
    }
}

/// A group an account belongs to: the full group summary of the seed wire format.
#[derive(Serialize, ToSchema)]
pub struct GroupRefView<'a> {
    pub id: Uuid,
    #[schema(example = "deployers")]
    pub name: &'a str,
    pub display_name: &'a str,
    #[schema(example = "lrn:keyhouse::group/deployers")]
    pub lrn: String,
    pub description: &'a str,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Always 0: keyhouse holds no human users.
    pub user_count: u64,
    /// Its members.
    pub sa_count: u64,
    pub role_count: u64,
    pub metadata: &'a BTreeMap<String, String>,
}

impl<'a> GroupRefView<'a> {
    /// A group of an account in `scope` (memberships stay within a scope).
    fn new(group: &'a GroupRef, scope: &Scope) -> Self {
        GroupRefView {
            id: group.id,
            name: group.name.as_str(),
            display_name: &group.display_name,
            lrn: lrn(scope.project(), LrnKind::Group, group.name.as_str()),
            description: &group.description,
            created_at: group.created_at,
            user_count: 0,
            sa_count: group.member_count,
            role_count: group.role_count,
            metadata: &group.metadata,
        }
    }
}

/// A service account.
// Borrowed from the account's details, not copied: a list page builds a hundred.
#[derive(Serialize, ToSchema)]
pub struct ServiceAccountView<'a> {
    pub id: Uuid,
    #[schema(example = "ci-bot")]
    pub name: &'a str,
    #[schema(example = "CI bot")]
    pub display_name: &'a str,
    pub description: &'a str,
    #[schema(example = json!({"team": "platform"}))]
    pub metadata: &'a BTreeMap<String, String>,
    pub status: StatusView,
    /// The project the account lives in; null at the root.
    #[schema(example = json!(null))]
    pub project: Option<&'a str>,
    /// Role names bound directly, sorted.
    #[schema(example = json!(["viewer"]))]
    pub roles: Vec<&'a str>,
    pub groups: Vec<GroupRefView<'a>>,
    /// The OAuth client id: the account's name at the root, `name@project` in a project.
    #[schema(example = "ci-bot")]
    pub client_id: String,
    pub external_id: Option<&'a str>,
    #[serde(serialize_with = "wire_time::rfc3339_or_null")]
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub created_at: DateTime<Utc>,
    pub created_by: ActorView,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    #[serde(serialize_with = "wire_time::rfc3339_or_null")]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Credentials that have not expired.
    pub active_credential_count: u32,
    pub etag: &'a str,
    #[schema(example = "/api/v1/service-accounts/ci-bot")]
    pub self_link: String,
    /// Its stable resource name.
    #[schema(example = "lrn:keyhouse::service-account/ci-bot")]
    pub lrn: String,
    /// It holds `*`, directly or through a group.
    pub is_admin: bool,
    /// The expiry of its unexpired secret that expires last; null when it has none, or
    /// when that secret never expires.
    #[serde(serialize_with = "wire_time::rfc3339_or_null")]
    pub token_expires_at: Option<DateTime<Utc>>,
    /// It has secrets and none is unexpired.
    pub token_expired: bool,
}

impl<'a> ServiceAccountView<'a> {
    pub fn new(details: &'a AccountDetails, now: DateTime<Utc>) -> Self {
        let a = &details.account;
        ServiceAccountView {
            id: a.id,
            name: a.name.as_str(),
            display_name: &a.display_name,
            description: &a.description,
            metadata: &a.metadata,
            status: a.status.into(),
            project: details.scope.project(),
            roles: a.roles.iter().map(Name::as_str).collect(),
            groups: details
                .groups
                .iter()
                .map(|g| GroupRefView::new(g, &details.scope))
                .collect(),
            client_id: ClientId::text(&details.scope, a.name.as_str()),
            external_id: a.external_id.as_deref(),
            expires_at: a.expires_at,
            expired: a.is_expired(now),
            created_at: a.created_at,
            created_by: (&a.created_by).into(),
            updated_at: a.updated_at,
            last_seen_at: details.last_seen_at,
            active_credential_count: details.active_credential_count,
            etag: details.etag.as_str(),
            self_link: [
                &details.scope.api_base(),
                "/service-accounts/",
                a.name.as_str(),
            ]
            .concat(),
            lrn: lrn(
                details.scope.project(),
                LrnKind::ServiceAccount,
                a.name.as_str(),
            ),
            is_admin: details.is_admin,
            token_expires_at: details.token_expires_at,
            token_expired: details.token_expired,
        }
    }
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum CredentialType {
    Secret,
    PublicKey,
}

/// A credential; never its secret.
#[derive(Serialize, ToSchema)]
pub struct CredentialView {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: CredentialType,
    #[schema(example = "deploy")]
    pub name: String,
    /// The first 8 characters of a secret.
    #[schema(example = "kh_4fT9q")]
    pub prefix: Option<String>,
    /// Lowercase hex SHA-256 of a public key's DER SubjectPublicKeyInfo.
    pub fingerprint: Option<String>,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub created_at: DateTime<Utc>,
    pub created_by: ActorView,
    /// Null: it never expires (`credentials.default_lifetime_days = 0`).
    #[serde(serialize_with = "wire_time::rfc3339_or_null")]
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    #[serde(serialize_with = "wire_time::rfc3339_or_null")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl CredentialView {
    pub fn new(details: &CredentialDetails, now: DateTime<Utc>) -> Self {
        let credential = &details.credential;
        let (kind, prefix, fingerprint) = match &credential.kind {
            CredentialKind::Secret { prefix, .. } => {
                (CredentialType::Secret, Some(prefix.clone()), None)
            }
            CredentialKind::PublicKey { fingerprint, .. } => {
                (CredentialType::PublicKey, None, Some(fingerprint.clone()))
            }
        };
        CredentialView {
            id: credential.id,
            kind,
            name: credential.name.clone(),
            prefix,
            fingerprint,
            created_at: credential.created_at,
            created_by: (&credential.created_by).into(),
            expires_at: credential.expires_at,
            expired: credential.is_expired(now),
            last_used_at: details.last_used_at,
        }
    }
}

/// A new secret credential with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewSecretView {
    #[serde(flatten)]
    pub credential: CredentialView,
    /// The secret itself. It is never shown again.
    #[schema(example = "kh_4fT9qZ0b3M1xR7kP2nW8cV5yL6aD0eG3hJ9sQ1uBt0aZ9X")]
    pub secret: String,
}

impl NewSecretView {
    pub fn new(credential: &CredentialDetails, secret: &Secret, now: DateTime<Utc>) -> Self {
        NewSecretView {
            credential: CredentialView::new(credential, now),
            secret: secret.expose().to_owned(),
        }
    }
}

/// A service account in a member list.
#[derive(Serialize, ToSchema)]
pub struct AccountSummaryView {
    pub id: Uuid,
    #[schema(example = "ci-bot")]
    pub name: String,
    pub display_name: String,
    pub status: StatusView,
    pub expired: bool,
}

impl AccountSummaryView {
    pub fn new(account: &ServiceAccount, now: DateTime<Utc>) -> Self {
        AccountSummaryView {
            id: account.id,
            name: account.name.to_string(),
            display_name: account.display_name.clone(),
            status: account.status.into(),
            expired: account.is_expired(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, ToSchema)]
    struct Item {
        n: u64,
    }

    fn answer(exact: bool) -> serde_json::Value {
        let page = Page {
            items: vec![1u64],
            total_count: 7,
            total_count_exact: exact,
            page: 1,
            per_page: 1,
            next_page_token: None,
        };
        serde_json::to_value(PageView::from_page(page, |n| Item { n })).unwrap()
    }

    #[test]
    fn a_page_says_total_count_exact_only_when_it_is_not() {
        assert_eq!(answer(true).get("total_count_exact"), None);
        assert_eq!(answer(false)["total_count_exact"], false);
        assert_eq!(answer(false)["total_count"], 7);
    }
}
