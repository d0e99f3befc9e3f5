//! Where an object lives: the root scope or one project. Names of service accounts,
//! groups and roles are unique within a scope, and every store function that finds an
//! object by name takes its scope.

use super::Name;
use crate::error::Error;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The installation's own scope, where the routes without `/projects/{project}` act.
    #[default]
    Root,
    /// A project, by its name (names of projects are unique and never change).
    Project(Name),
}

impl Scope {
    /// The scope's part of a stored `(scope, name)` key: empty at the root, the
    /// project's name in a project. An empty string is no project name, so the two
    /// never meet.
    pub fn key(&self) -> &str {
        match self {
            Scope::Root => "",
            Scope::Project(name) => name.as_str(),
        }
    }

    /// Whether what an account of this scope holds holds in `scope`: a root account's
    /// permissions hold in every scope, a project account's in its project only.
    pub fn reaches(&self, scope: &Scope) -> bool {
        *self == Scope::Root || self == scope
    }

    /// The scope whose `key` this is.
    pub fn from_key(key: &str) -> Result<Scope, Error> {
        match key {
            "" => Ok(Scope::Root),
            name => Name::parse("project", name).map(Scope::Project),
        }
    }

    /// The project's name, `None` at the root: the `project` objects read with.
    pub fn project(&self) -> Option<&str> {
        match self {
            Scope::Root => None,
            Scope::Project(name) => Some(name.as_str()),
        }
    }

    /// The project's name, `None` at the root.
    pub fn project_name(&self) -> Option<&Name> {
        match self {
            Scope::Root => None,
            Scope::Project(name) => Some(name),
        }
    }

    /// Where the routes of this scope start: `/api/v1`, or the project's path under it.
    pub fn api_base(&self) -> String {
        match self {
            Scope::Root => "/api/v1".to_owned(),
            Scope::Project(name) => format!("/api/v1/projects/{name}"),
        }
    }
}

/// What a list covers: one scope, or every scope (`?scope=all` of a root account),
/// the root's objects first, then each project's by project name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    In(Scope),
    Everywhere,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_the_root_from_every_project() {
        let payments = Scope::Project(Name::parse("p", "payments").unwrap());
        assert_eq!(Scope::Root.key(), "");
        assert_eq!(payments.key(), "payments");
        assert_ne!(Scope::Root, payments);
        assert_eq!(
            (Scope::Root.project(), payments.project()),
            (None, Some("payments"))
        );
        assert_eq!(payments.api_base(), "/api/v1/projects/payments");
        for scope in [Scope::Root, payments] {
            assert_eq!(Scope::from_key(scope.key()).unwrap(), scope);
        }
        assert!(Scope::from_key("Not a name").is_err());
        let billing = Scope::Project(Name::parse("p", "billing").unwrap());
        let payments = Scope::Project(Name::parse("p", "payments").unwrap());
        assert!(Scope::Root.reaches(&payments) && Scope::Root.reaches(&Scope::Root));
        assert!(payments.reaches(&payments));
        assert!(!payments.reaches(&Scope::Root) && !payments.reaches(&billing));
    }
}
