//! The rules of keyhouse as plain Rust: names, field limits, permissions, scope-down,
//! expiry, paging and etags. No I/O here and no clock: callers pass `now`.

mod account;
mod audit;
mod authority;
mod client_id;
mod creation;
mod credential;
mod credential_limits;
mod etag;
mod expiry;
mod fields;
mod group;
mod id;
mod kind;
mod lrn;
mod membership;
mod name;
mod oauth_scope;
mod paging;
mod permission;
mod project;
mod revocation;
mod role;
mod scope;
mod search;
mod signing_key;

/// Beside `Error`, which names them; re-exported as the domain's vocabulary.
pub use crate::error::{AuthFailure, Kind};
pub use account::{
    AccountDetails, AccountFilter, AccountPatch, ActorRef, GroupRef, NewAccount, Principal,
    ServiceAccount, Status,
};
pub use audit::{Action, AuditEvent, AuditFilter, Change, Target, audit_key};
pub use authority::Authority;
pub use client_id::{ClientId, TokenReach};
pub use creation::Created;
pub use credential::{
    Credential, CredentialDetails, CredentialKind, GracePeriod, KeyAlgorithm, NEVER_EXPIRES,
    NewCredential, expiry_seconds,
};
pub use credential_limits::{CredentialLimits, CredentialRequest, RequestedExpiry};
pub use etag::{Etag, IfMatch, check_if_match};
pub use expiry::{account_expiry, is_expired, lifetime_end};
pub use fields::{credential_name, description, display_name, external_id, metadata};
pub use group::{Group, GroupDetails, GroupPatch, NewGroup};
pub use id::new_id;
pub use lrn::{LrnKind, lrn};
pub use membership::{MembershipChange, MembershipPlan};
pub use name::Name;
pub use oauth_scope::{ScopeRefusal, grant_scope, narrow};
pub use paging::{Page, PageRequest};
pub use permission::{Permission, PermissionSet, permissions};
pub use project::{
    CredentialPolicy, NewProject, Project, ProjectCounts, ProjectDetails, ProjectPatch,
};
pub use revocation::Revocation;
pub use role::{NewRole, Role, RolePatch, changed_roles};
pub use scope::{Listing, Scope};
pub use search::{MIN_INDEXED_QUERY, Text, is_condition_term, name_start_term};
pub use signing_key::SigningKey;

use chrono::{DateTime, Utc};

/// Every timestamp: UTC, second precision.
pub type Timestamp = DateTime<Utc>;
