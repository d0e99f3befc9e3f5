//! Permissions: the server's own, opaque custom ones, and a caller's effective set.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The permissions keyhouse itself checks.
pub mod permissions {
    pub const SERVICE_ACCOUNTS_READ: &str = "service_accounts:read";
    pub const SERVICE_ACCOUNTS_WRITE: &str = "service_accounts:write";
    pub const CREDENTIALS_READ: &str = "credentials:read";
    pub const CREDENTIALS_WRITE: &str = "credentials:write";
    pub const GROUPS_READ: &str = "groups:read";
    pub const GROUPS_WRITE: &str = "groups:write";
    pub const ROLES_READ: &str = "roles:read";
    pub const ROLES_WRITE: &str = "roles:write";
    pub const AUDIT_READ: &str = "audit:read";
    /// Meaningful at the root: reading and managing projects.
    pub const PROJECTS_READ: &str = "projects:read";
    pub const PROJECTS_WRITE: &str = "projects:write";
    /// Backup and signing keys.
    pub const ADMIN: &str = "admin";
    /// Every permission, the server's and custom ones alike.
    pub const ALL: &str = "*";

    /// The permissions that read some kind of object (`*` aside).
    pub const READS: &[&str] = &[
        SERVICE_ACCOUNTS_READ,
        CREDENTIALS_READ,
        GROUPS_READ,
        ROLES_READ,
        AUDIT_READ,
        PROJECTS_READ,
    ];

    /// Every permission keyhouse itself checks, `*` last: the scopes a token may ask
    /// for by name, as the OAuth metadata lists them.
    pub const KNOWN: &[&str] = &[
        SERVICE_ACCOUNTS_READ,
        SERVICE_ACCOUNTS_WRITE,
        CREDENTIALS_READ,
        CREDENTIALS_WRITE,
        GROUPS_READ,
        GROUPS_WRITE,
        ROLES_READ,
        ROLES_WRITE,
        AUDIT_READ,
        PROJECTS_READ,
        PROJECTS_WRITE,
        ADMIN,
        ALL,
    ];
}

const MAX_PERMISSION_LEN: usize = 128;

/// A permission string: 1 to 128 characters of `a-z 0-9 _ . : * -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permission(String);

impl Permission {
    pub fn parse(field: &str, value: &str) -> Result<Permission, Error> {
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:*-".contains(&b);
        if value.is_empty() || value.len() > MAX_PERMISSION_LEN {
            return Err(Error::invalid(field, "must be 1 to 128 characters"));
        }
        if !value.bytes().all(allowed) {
            return Err(Error::invalid(
                field,
                "may only hold a-z, 0-9, '_', '.', ':', '*' and '-'",
            ));
        }
        Ok(Permission(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a caller may do: the union of its roles' permissions, possibly narrowed to a
/// token's scope. `*` allows everything. Shared: every request copies its caller's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet(Arc<BTreeSet<String>>);

impl PermissionSet {
    pub fn new(items: impl IntoIterator<Item = String>) -> Self {
        PermissionSet(Arc::new(items.into_iter().collect()))
    }

    /// Holds nothing at all, custom permissions included.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Holds a permission keyhouse itself checks (or `*`): custom permissions are opaque
    /// to keyhouse and let their holder do nothing in it.
    pub fn holds_any_known(&self) -> bool {
        self.iter().any(|held| permissions::KNOWN.contains(&held))
    }

    /// May read some kind of object: holds `*` or a `:read` permission of keyhouse's.
    pub fn reads_something(&self) -> bool {
        self.holds_all() || self.iter().any(|held| permissions::READS.contains(&held))
    }

    pub fn holds_all(&self) -> bool {
        self.0.contains(permissions::ALL)
    }

    pub fn allows(&self, permission: &str) -> bool {
        self.holds_all() || self.0.contains(permission)
    }

    /// Sorted, as `/api/v1/me` and token scopes show them.
    pub fn to_sorted_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    /// In sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_allows_everything() {
        let set = PermissionSet::new(["*".to_owned()]);
        assert!(set.allows("service_accounts:write"));
        assert!(set.allows("billing.invoices:read"));
    }

    #[test]
    fn custom_permissions_grant_nothing_in_keyhouse() {
        let custom = PermissionSet::new(["deploy:run".to_owned()]);
        assert!(!custom.is_empty() && !custom.holds_any_known() && !custom.reads_something());
        let writer = PermissionSet::new(["credentials:write".to_owned()]);
        assert!(writer.holds_any_known() && !writer.reads_something());
        let auditor = PermissionSet::new(["audit:read".to_owned()]);
        assert!(auditor.holds_any_known() && auditor.reads_something());
        let all = PermissionSet::new(["*".to_owned()]);
        assert!(all.holds_any_known() && all.reads_something());
    }

    #[test]
    fn a_plain_set_allows_only_its_members() {
        let set = PermissionSet::new(["groups:read".to_owned()]);
        assert!(set.allows("groups:read"));
        assert!(!set.allows("groups:write"));
        assert!(!set.allows("*"));
    }

    #[test]
    fn the_known_list_holds_every_permission_a_kind_needs() {
        use crate::domain::Kind;
        for kind in Kind::ALL {
            assert!(
                permissions::KNOWN.contains(&kind.read_permission()),
                "{kind}"
            );
            assert!(
                permissions::KNOWN.contains(&kind.write_permission()),
                "{kind}"
            );
        }
        assert!(permissions::KNOWN.contains(&permissions::AUDIT_READ));
        assert_eq!(permissions::KNOWN.last(), Some(&permissions::ALL));
        for known in permissions::KNOWN {
            assert!(Permission::parse("p", known).is_ok(), "{known}");
        }
    }

    #[test]
    fn permission_strings_are_checked() {
        assert!(Permission::parse("p", "billing.invoices:read").is_ok());
        assert!(Permission::parse("p", "svc-*").is_ok());
        assert!(Permission::parse("p", "").is_err());
        assert!(Permission::parse("p", "Upper").is_err());
        assert!(Permission::parse("p", "a b").is_err());
        assert!(Permission::parse("p", &"a".repeat(129)).is_err());
    }
}
