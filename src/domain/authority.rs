//! What the caller of a change may hand out, take away and act on: scope-down (both
//! ways), no acting on a more privileged account, and the permissions a role may be
//! given. Each counts permissions, narrowed by the caller's token, not only role names,
//! so a narrowed token cannot do through a role what its scope forbids.

use std::collections::BTreeSet;

use super::permission::permissions as p;
use super::{Name, PermissionSet, Role};
use crate::error::Error;

/// The caller of a change as it stands inside the change's transaction: the roles it
/// holds (directly or through groups) and its effective permissions, narrowed by the
/// scope of the token it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub roles: BTreeSet<Name>,
    pub permissions: PermissionSet,
}

impl Authority {
    /// Whether the caller may see objects that need `permission` to be read; a caller
    /// that may not gets the same answer for a missing object as for a refused one.
    pub fn may_read(&self, permission: &str) -> bool {
        self.permissions.allows(permission)
    }

    /// Whether the caller holds `role`: bound to it, and every permission of the role
    /// within its effective permissions.
    fn holds(&self, role: &Role) -> bool {
        self.roles.contains(&role.name)
            && role.permissions.iter().all(|p| self.permissions.allows(p))
    }

    /// Scope-down: binding or unbinding `roles` needs the caller to hold each one,
    /// unless its effective permissions hold `*`. `unknown` are role names the caller
    /// named that do not exist and that it may not know of: refused the same way, so
    /// that the answer does not tell them apart.
    pub fn may_grant<'a>(
        &self,
        roles: impl IntoIterator<Item = &'a Role>,
        unknown: impl IntoIterator<Item = &'a Name>,
    ) -> Result<(), Error> {
        if self.permissions.holds_all() {
            return Ok(());
        }
        let mut missing: BTreeSet<&str> = roles
            .into_iter()
            .filter(|role| !self.holds(role))
            .map(|role| role.name.as_str())
            .collect();
        missing.extend(unknown.into_iter().map(Name::as_str));
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::PermissionDenied(format!(
            "the caller does not hold the role(s) it would grant or take away: {}",
            missing.into_iter().collect::<Vec<_>>().join(", ")
        )))
    }

    /// Scope-down for memberships: adding an account to or removing it from `group`
    /// needs every role of the group. The message names the group, not its roles, so a
    /// caller that may not read groups learns nothing of them.
    pub fn may_change_members(&self, group: &Name, roles: &[&Role]) -> Result<(), Error> {
        if self.permissions.holds_all() || roles.iter().all(|role| self.holds(role)) {
            return Ok(());
        }
        Err(Self::not_every_role_of(group))
    }

    /// The refusal of `may_change_members`, also given for a group that does not exist
    /// when the caller may not read groups.
    pub fn not_every_role_of(group: &Name) -> Error {
        Error::PermissionDenied(format!(
            "the caller does not hold every role of the group '{group}'"
        ))
    }

    /// No acting on a more privileged account: changing `account`, or issuing or
    /// revoking its credentials, needs every permission it holds.
    pub fn may_act_on(&self, account: &Name, holds: &PermissionSet) -> Result<(), Error> {
        let lacking: Vec<String> = holds
            .to_sorted_vec()
            .into_iter()
            .filter(|p| !self.permissions.allows(p))
            .collect();
        if lacking.is_empty() {
            return Ok(());
        }
        Err(Error::PermissionDenied(format!(
            "service account '{account}' holds permission(s) the caller lacks: {}",
            lacking.join(", ")
        )))
    }

    /// Writing a role's permissions, adding or removing them, needs every permission
    /// involved (`before` and `after`); otherwise a caller with `roles:write` could add
    /// `*` to a role it holds, or strip one it does not.
    pub fn may_write_permissions(
        &self,
        before: &BTreeSet<String>,
        after: &BTreeSet<String>,
    ) -> Result<(), Error> {
        let missing: Vec<&str> = before
            .symmetric_difference(after)
            .filter(|p| !self.permissions.allows(p))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::PermissionDenied(format!(
            "the caller does not hold the permission(s) it would grant or take away: {}",
            missing.join(", ")
        )))
    }

    /// Keyhouse itself, e.g. at bootstrap or from the command line: every permission.
    pub fn system() -> Authority {
        Authority {
            roles: BTreeSet::new(),
            permissions: PermissionSet::new([p::ALL.to_owned()]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Name {
        Name::parse("n", n).unwrap()
    }

    fn set(items: &[&str]) -> PermissionSet {
        PermissionSet::new(items.iter().map(|s| (*s).to_owned()))
    }

    fn role(n: &str, permissions: &[&str]) -> Role {
        let mut role = Role::builtins(chrono::DateTime::UNIX_EPOCH).remove(0);
        role.name = name(n);
        role.permissions = permissions.iter().map(|s| (*s).to_owned()).collect();
        role
    }

    fn authority(roles: &[&str], permissions: &[&str]) -> Authority {
        Authority {
            roles: roles.iter().map(|r| name(r)).collect(),
            permissions: set(permissions),
        }
    }

    #[test]
    fn a_role_is_held_by_name_and_by_permissions() {
        let ops = role("ops", &["a", "b"]);
        assert!(
            authority(&["ops"], &["a", "b"])
                .may_grant([&ops], [])
                .is_ok()
        );
        // Narrowed by its token: the role's name alone is not enough.
        let err = authority(&["ops"], &["a"])
            .may_grant([&ops], [])
            .unwrap_err();
        assert!(err.to_string().contains("ops"), "{err}");
        // Holding the permissions without the role is not enough either.
        assert!(authority(&[], &["a", "b"]).may_grant([&ops], []).is_err());
        assert!(authority(&[], &["*"]).may_grant([&ops], []).is_ok());
    }

    #[test]
    fn unknown_roles_are_refused_like_unheld_ones() {
        let missing = name("ghost");
        let err = authority(&[], &["a"])
            .may_grant([], [&missing])
            .unwrap_err();
        let held_err = authority(&[], &["a"])
            .may_grant([&role("ghost", &["x"])], [])
            .unwrap_err();
        assert_eq!(err.to_string(), held_err.to_string());
    }

    #[test]
    fn membership_needs_every_role_of_the_group_and_names_none() {
        let admin = role("admin", &["*"]);
        let viewer = role("viewer", &["r"]);
        let caller = authority(&["viewer"], &["r"]);
        assert!(caller.may_change_members(&name("g"), &[&viewer]).is_ok());
        let err = caller
            .may_change_members(&name("g"), &[&viewer, &admin])
            .unwrap_err();
        assert!(!err.to_string().contains("admin"), "{err}");
        assert_eq!(
            err.to_string(),
            Authority::not_every_role_of(&name("g")).to_string()
        );
    }

    #[test]
    fn acting_on_an_account_needs_all_it_holds() {
        let caller = authority(&[], &["a", "b"]);
        assert!(caller.may_act_on(&name("t"), &set(&["a"])).is_ok());
        assert!(caller.may_act_on(&name("t"), &set(&[])).is_ok());
        let err = caller
            .may_act_on(&name("t"), &set(&["a", "c"]))
            .unwrap_err();
        assert!(err.to_string().contains('c') && !err.to_string().contains("a,"));
        assert!(caller.may_act_on(&name("t"), &set(&["*"])).is_err());
        assert!(
            authority(&[], &["*"])
                .may_act_on(&name("t"), &set(&["*"]))
                .is_ok()
        );
    }

    #[test]
    fn role_permissions_need_what_is_added_and_what_is_removed() {
        let caller = authority(&[], &["a"]);
        let before: BTreeSet<String> = ["a".to_owned(), "x".to_owned()].into();
        let only_a: BTreeSet<String> = ["a".to_owned()].into();
        assert!(caller.may_write_permissions(&only_a, &only_a).is_ok());
        assert!(caller.may_write_permissions(&before, &only_a).is_err());
        assert!(caller.may_write_permissions(&only_a, &before).is_err());
        assert!(
            Authority::system()
                .may_write_permissions(&only_a, &before)
                .is_ok()
        );
    }
}
