//! The rules of keyhouse as plain Rust: names, field limits, permissions, scope-down,
//! expiry, paging and etags. No I/O here and no clock: callers pass `now`.

mod account;
mod audit;
mod auth_failure;
mod authority;
mod creation;
mod credential;
mod etag;
mod expiry;
mod fields;
mod group;
mod membership;
mod name;
mod paging;
mod permission;
mod role;
mod scope;
mod signing_key;

pub use account::{
    AccountDetails, AccountFilter, AccountPatch, ActorRef, GroupRef, NewAccount, Principal,
    ServiceAccount, Status,
};
pub use audit::{Action, AuditEvent, AuditFilter, Change, Target, audit_key};
pub use auth_failure::AuthFailure;
pub use authority::Authority;
pub use creation::Created;
pub use credential::{
    Credential, CredentialDetails, CredentialKind, GracePeriod, KeyAlgorithm, NewCredential,
};
pub use etag::{Etag, IfMatch, check_if_match};
pub use expiry::{account_expiry, credential_expiry, is_expired};
pub use fields::{credential_name, description, display_name, external_id, metadata};
pub use group::{Group, GroupDetails, GroupPatch, NewGroup};
pub use membership::{MembershipChange, MembershipPlan};
pub use name::Name;
pub use paging::{Page, PageRequest};
pub use permission::{Permission, PermissionSet, permissions};
pub use role::{NewRole, Role, RolePatch, changed_roles};
pub use scope::{ScopeRefusal, grant_scope, narrow};
pub use signing_key::SigningKey;

use chrono::{DateTime, Utc};

/// Every timestamp: UTC, second precision.
pub type Timestamp = DateTime<Utc>;

/// The kinds of object keyhouse keeps, as error messages and audit targets name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    ServiceAccount,
    Group,
    Role,
    Credential,
    SigningKey,
}

impl Kind {
    /// The permission that lets a caller see objects of this kind at all.
    pub fn read_permission(self) -> &'static str {
        match self {
            Kind::ServiceAccount => permissions::SERVICE_ACCOUNTS_READ,
            Kind::Group => permissions::GROUPS_READ,
            Kind::Role => permissions::ROLES_READ,
            Kind::Credential => permissions::CREDENTIALS_READ,
            Kind::SigningKey => permissions::ADMIN,
        }
    }

    /// The permission that lets a caller change objects of this kind.
    pub fn write_permission(self) -> &'static str {
        match self {
            Kind::ServiceAccount => permissions::SERVICE_ACCOUNTS_WRITE,
            Kind::Group => permissions::GROUPS_WRITE,
            Kind::Role => permissions::ROLES_WRITE,
            Kind::Credential => permissions::CREDENTIALS_WRITE,
            Kind::SigningKey => permissions::ADMIN,
        }
    }

    /// The name used in audit targets, e.g. `service_account`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ServiceAccount => "service_account",
            Kind::Group => "group",
            Kind::Role => "role",
            Kind::Credential => "credential",
            Kind::SigningKey => "signing_key",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::ServiceAccount => "service account",
            Kind::Group => "group",
            Kind::Role => "role",
            Kind::Credential => "credential",
            Kind::SigningKey => "signing key",
        })
    }
}
