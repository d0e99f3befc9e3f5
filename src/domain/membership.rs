//! Membership changes: `add`, `remove` or `set`, resolved against the current members
//! into the members wanted. Used by both directions of the membership API.

use std::collections::BTreeSet;

use super::Name;
use crate::error::Error;

/// A membership request, its names checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipChange {
    pub add: BTreeSet<Name>,
    pub remove: BTreeSet<Name>,
    pub set: Option<BTreeSet<Name>>,
}

/// What a change does to the current members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipPlan {
    pub added: BTreeSet<Name>,
    pub removed: BTreeSet<Name>,
}

impl MembershipPlan {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

impl MembershipChange {
    /// `fields` name the request's three fields, e.g. `("add", "remove", "set")`.
    pub fn parse(
        fields: (&str, &str, &str),
        add: Option<Vec<String>>,
        remove: Option<Vec<String>>,
        set: Option<Vec<String>>,
    ) -> Result<MembershipChange, Error> {
        if set.is_some() && (add.is_some() || remove.is_some()) {
            return Err(Error::invalid(
                fields.2,
                format!("cannot be combined with {} or {}", fields.0, fields.1),
            ));
        }
        Ok(MembershipChange {
            add: Name::parse_set(fields.0, &add.unwrap_or_default())?,
            remove: Name::parse_set(fields.1, &remove.unwrap_or_default())?,
            set: set.map(|s| Name::parse_set(fields.2, &s)).transpose()?,
        })
    }

    /// Every name the change mentions: each must exist.
    pub fn named(&self) -> BTreeSet<&Name> {
        self.add
            .iter()
            .chain(&self.remove)
            .chain(self.set.iter().flatten())
            .collect()
    }

    /// The members wanted, and so what to add and remove. A name both added and removed
    /// is removed.
    pub fn plan(&self, current: &BTreeSet<Name>) -> MembershipPlan {
        let wanted: BTreeSet<Name> = match &self.set {
            Some(set) => set.clone(),
            None => current
                .iter()
                .chain(&self.add)
                .filter(|name| !self.remove.contains(*name))
                .cloned()
                .collect(),
        };
        MembershipPlan {
            added: wanted.difference(current).cloned().collect(),
            removed: current.difference(&wanted).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: (&str, &str, &str) = ("add", "remove", "set");

    fn names(items: &[&str]) -> BTreeSet<Name> {
        items.iter().map(|n| Name::parse("n", n).unwrap()).collect()
    }

    fn strings(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn set_is_exclusive() {
        let err =
            MembershipChange::parse(FIELDS, strings(&["a"]), None, strings(&["b"])).unwrap_err();
        assert!(err.to_string().contains("set"));
        assert!(MembershipChange::parse(FIELDS, None, strings(&["a"]), strings(&[])).is_err());
        assert!(MembershipChange::parse(FIELDS, None, None, strings(&[])).is_ok());
    }

    #[test]
    fn remove_wins_over_add() {
        let change =
            MembershipChange::parse(FIELDS, strings(&["a", "b"]), strings(&["b", "c"]), None)
                .unwrap();
        let plan = change.plan(&names(&["c", "d"]));
        assert_eq!(plan.added, names(&["a"]));
        assert_eq!(plan.removed, names(&["c"]));
    }

    #[test]
    fn set_replaces_and_repeating_changes_nothing() {
        let change = MembershipChange::parse(FIELDS, None, None, strings(&["x", "y"])).unwrap();
        let plan = change.plan(&names(&["y", "z"]));
        assert_eq!(plan.added, names(&["x"]));
        assert_eq!(plan.removed, names(&["z"]));
        assert!(change.plan(&names(&["x", "y"])).is_empty(), "idempotent");
    }

    #[test]
    fn names_are_checked_and_named() {
        let err = MembershipChange::parse(FIELDS, strings(&["ok", "Bad"]), None, None).unwrap_err();
        assert!(err.to_string().contains("add[1]"), "{err}");
    }
}
