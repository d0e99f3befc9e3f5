//! Roles: named sets of permissions, the three built-in ones, and the scope-down rule
//! that stops a caller from handing out more than it holds.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::permission::permissions as p;
use super::{Change, Name, PermissionSet, Timestamp};
use crate::error::Error;

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
        "Reads and changes service accounts, credentials and groups.",
        &[
            p::SERVICE_ACCOUNTS_READ,
            p::SERVICE_ACCOUNTS_WRITE,
            p::CREDENTIALS_READ,
            p::CREDENTIALS_WRITE,
            p::GROUPS_READ,
            p::GROUPS_WRITE,
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
        ],
    ),
];

impl Role {
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

/// A caller may only put into a role permissions it holds itself (unless it holds `*`),
/// or writing a role it holds would raise its own permissions.
pub fn check_grantable(
    caller: &PermissionSet,
    permissions: &BTreeSet<String>,
) -> Result<(), Error> {
    let missing: Vec<&str> = permissions
        .iter()
        .filter(|p| !caller.allows(p))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::PermissionDenied(format!(
        "the caller does not hold the permission(s) it would grant: {}",
        missing.join(", ")
    )))
}

/// Roles in `wanted` (a patch's new list, if it has one) that `current` lacks: the ones
/// a patch would newly bind.
pub fn added_roles<'a>(
    wanted: &'a Option<BTreeSet<Name>>,
    current: &'a BTreeSet<Name>,
) -> impl Iterator<Item = &'a Name> + Clone {
    wanted
        .iter()
        .flatten()
        .filter(|role| !current.contains(*role))
}

/// Scope-down: a caller may bind `involved` roles only if it holds each of them itself
/// (directly or through a group), unless it holds `*`.
pub fn check_scope_down<'a>(
    held: &BTreeSet<Name>,
    holds_all: bool,
    involved: impl IntoIterator<Item = &'a Name>,
) -> Result<(), Error> {
    if holds_all {
        return Ok(());
    }
    let missing: Vec<&str> = involved
        .into_iter()
        .filter(|role| !held.contains(*role))
        .map(Name::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::PermissionDenied(format!(
        "the caller does not hold the role(s) it would grant: {}",
        missing.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> BTreeSet<Name> {
        items.iter().map(|n| Name::parse("n", n).unwrap()).collect()
    }

    #[test]
    fn builtins_are_the_contracts() {
        let roles = Role::builtins(chrono::DateTime::UNIX_EPOCH);
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
        assert_eq!(operator.permissions.len(), 6);
    }

    #[test]
    fn only_held_permissions_are_grantable() {
        let caller = PermissionSet::new(["groups:read".to_owned()]);
        let asked = BTreeSet::from(["groups:read".to_owned(), "groups:write".to_owned()]);
        let err = check_grantable(&caller, &asked).unwrap_err();
        assert!(
            err.to_string().contains("groups:write") && !err.to_string().contains("groups:read,")
        );
        assert!(check_grantable(&PermissionSet::new(["*".to_owned()]), &asked).is_ok());
    }

    #[test]
    fn scope_down_needs_every_role_involved() {
        let held = names(&["operator", "viewer"]);
        assert!(check_scope_down(&held, false, &names(&["viewer"])).is_ok());
        let err = check_scope_down(&held, false, &names(&["viewer", "admin"])).unwrap_err();
        assert!(err.to_string().contains("admin"));
        assert!(check_scope_down(&held, true, &names(&["admin"])).is_ok());
        assert!(check_scope_down(&BTreeSet::new(), false, &BTreeSet::new()).is_ok());
    }
}
