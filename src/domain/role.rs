//! Roles: named sets of permissions, the three built-in ones, and the scope-down rule
//! that stops a caller from handing out more than it holds.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::permission::permissions as p;
use super::{Change, Name, Timestamp};

/// A stored role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: Uuid,
    pub name: Name,
    pub description: String,
    pub permissions: BTreeSet<String>,
    pub is_builtin: bool,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub updated_at: Timestamp,
}

/// Name, description and permissions of each built-in role. Their ids are fixed so that
/// audit events and tokens name them the same on every installation.
const BUILTINS: [(u128, &str, &str, &[&str]); 3] = [
    (
        1,
        "admin",
        "Everything, including backups and signing keys.",
        &[p::ALL],
    ),
    (
        2,
        "operator",
        "Reads and changes service accounts, credentials and groups; reads roles.",
        &[
            p::SERVICE_ACCOUNTS_READ,
            p::SERVICE_ACCOUNTS_WRITE,
            p::CREDENTIALS_READ,
            p::CREDENTIALS_WRITE,
            p::GROUPS_READ,
            p::GROUPS_WRITE,
            p::ROLES_READ,
            p::PROJECTS_READ,
        ],
    ),
    (
        3,
        "viewer",
        "Reads everything but the audit trail.",
        &[
            p::SERVICE_ACCOUNTS_READ,
            p::CREDENTIALS_READ,
            p::GROUPS_READ,
            p::ROLES_READ,
            p::PROJECTS_READ,
        ],
    ),
];

impl Role {
    /// Whether `name` is a built-in role's: such a name is reserved in every scope, and
    /// a binding of it always names the built-in role.
    pub fn is_builtin_name(name: &str) -> bool {
        BUILTINS.iter().any(|(_, builtin, _, _)| *builtin == name)
    }

    /// The built-in roles as this version of keyhouse defines them.
    pub fn builtins(created_at: Timestamp) -> Vec<Role> {
        BUILTINS
            .iter()
            .filter_map(|(id, name, description, permissions)| {
                Some(Role {
                    id: Uuid::from_u128(*id),
                    name: Name::parse("name", name).ok()?,
                    description: (*description).to_owned(),
                    permissions: permissions.iter().map(|s| (*s).to_owned()).collect(),
                    is_builtin: true,
                    created_at,
                    updated_at: created_at,
                })
            })
            .collect()
    }
}

/// A new custom role, its fields checked.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: Name,
    pub description: String,
    pub permissions: BTreeSet<String>,
}

impl NewRole {
    pub fn into_role(self, id: Uuid, now: Timestamp) -> Role {
        Role {
            id,
            name: self.name,
            description: self.description,
            permissions: self.permissions,
            is_builtin: false,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A role `PATCH`: each `Some` replaces the field.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub description: Option<String>,
    pub permissions: Option<BTreeSet<String>>,
}

impl RolePatch {
    pub fn apply(self, role: &mut Role, now: Timestamp) -> Vec<Change> {
        let mut changes = Vec::new();
        super::account::replace(
            &mut changes,
            "description",
            &mut role.description,
            self.description,
        );
        super::account::replace(
            &mut changes,
            "permissions",
            &mut role.permissions,
            self.permissions,
        );
        if !changes.is_empty() {
            role.updated_at = now;
        }
        changes
    }
}

/// Roles a patch's new list (`wanted`, if it has one) would bind or unbind compared with
/// `current`: scope-down covers both.
pub fn changed_roles<'a>(
    wanted: &'a Option<BTreeSet<Name>>,
    current: &'a BTreeSet<Name>,
) -> impl Iterator<Item = &'a Name> + Clone {
    wanted
        .iter()
        .flat_map(move |wanted| wanted.symmetric_difference(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_the_contracts() {
        let roles = Role::builtins(chrono::DateTime::UNIX_EPOCH);
        assert!(
            roles
                .iter()
                .all(|role| Role::is_builtin_name(role.name.as_str()))
        );
        assert!(!Role::is_builtin_name("deployer") && !Role::is_builtin_name("admins"));
        let admin = roles.iter().find(|r| r.name.as_str() == "admin").unwrap();
        assert_eq!(admin.permissions, BTreeSet::from(["*".to_owned()]));
        let viewer = roles.iter().find(|r| r.name.as_str() == "viewer").unwrap();
        assert!(viewer.permissions.iter().all(|p| p.ends_with(":read")));
        assert!(!viewer.permissions.contains("audit:read"));
        let operator = roles
            .iter()
            .find(|r| r.name.as_str() == "operator")
            .unwrap();
        assert!(!operator.permissions.contains("roles:write"));
        assert_eq!(operator.permissions.len(), 8);
        // An operator holds every permission of `viewer`, so it may manage viewers.
        assert!(viewer.permissions.is_subset(&operator.permissions));
    }

    #[test]
    fn changed_roles_are_those_added_and_those_removed() {
        let names = |items: &[&str]| -> BTreeSet<Name> {
            items.iter().map(|n| Name::parse("n", n).unwrap()).collect()
        };
        let current = names(&["a", "b"]);
        let wanted = Some(names(&["b", "c"]));
        let changed: Vec<&str> = changed_roles(&wanted, &current).map(Name::as_str).collect();
        assert_eq!(changed, ["a", "c"]);
        assert_eq!(changed_roles(&None, &current).count(), 0);
    }
}
