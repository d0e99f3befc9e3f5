//! Where an object lives: the root scope or one project. Names of service accounts,
//! groups and roles are unique within a scope, and every store function that finds an
//! object by name takes its scope.

use super::Name;

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

    /// The project's name, `None` at the root: the `project` objects read with.
    pub fn project(&self) -> Option<&str> {
        match self {
            Scope::Root => None,
            Scope::Project(name) => Some(name.as_str()),
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
    }
}
