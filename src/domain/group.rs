//! Groups: named sets of service accounts that bind roles to all their members.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Change, Etag, Name, Timestamp};

/// A group, as stored. Members are indexed apart; `member_count` is kept in the same
/// transaction as every membership change, so it is exact at every moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: Uuid,
    pub name: Name,
    pub display_name: String,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub roles: BTreeSet<Name>,
    pub member_count: u64,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub updated_at: Timestamp,
}

/// A group with its etag.
#[derive(Debug, Clone)]
pub struct GroupDetails {
    pub group: Group,
    pub etag: Etag,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: Name,
    pub display_name: Option<String>,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub roles: BTreeSet<Name>,
}

impl NewGroup {
    pub fn into_group(self, id: Uuid, now: Timestamp) -> Group {
        Group {
            id,
            display_name: self.display_name.unwrap_or_else(|| self.name.to_string()),
            name: self.name,
            description: self.description,
            metadata: self.metadata,
            roles: self.roles,
            member_count: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A group `PATCH`: each `Some` replaces the field.
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub roles: Option<BTreeSet<Name>>,
}

impl GroupPatch {
    /// Roles this patch would bind or unbind.
    pub fn changed_roles<'a>(&'a self, group: &'a Group) -> impl Iterator<Item = &'a Name> + Clone {
        super::changed_roles(&self.roles, &group.roles)
    }

    pub fn apply(self, group: &mut Group, now: Timestamp) -> Vec<Change> {
        let mut changes = Vec::new();
        super::account::replace(
            &mut changes,
            "display_name",
            &mut group.display_name,
            self.display_name,
        );
        super::account::replace(
            &mut changes,
            "description",
            &mut group.description,
            self.description,
        );
        super::account::replace(&mut changes, "metadata", &mut group.metadata, self.metadata);
        super::account::replace(&mut changes, "roles", &mut group.roles, self.roles);
        if !changes.is_empty() {
            group.updated_at = now;
        }
        changes
    }
}
