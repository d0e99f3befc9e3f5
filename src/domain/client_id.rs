//! OAuth client ids and whose tokens a caller reaches at `/oauth2/introspect` and
//! `/oauth2/revoke`.

use std::fmt;

use uuid::Uuid;

use super::{Name, Scope};

/// An account as an OAuth client names it: `name` at the root, `name@project` in a
/// project. Names never hold `@`, so the text splits one way only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId {
    pub scope: Scope,
    pub name: Name,
}

impl ClientId {
    /// The text of the client id of `name` in `scope`, built by copying, not through
    /// `format!`: every read of an account shows it.
    pub fn text(scope: &Scope, name: &str) -> String {
        match scope {
            Scope::Root => name.to_owned(),
            Scope::Project(project) => [name, "@", project.as_str()].concat(),
        }
    }

    /// `None` when either part breaks the naming rule: such a client does not exist.
    pub fn parse(text: &str) -> Option<ClientId> {
        let (name, scope) = match text.split_once('@') {
            Some((name, project)) => (
                name,
                Scope::Project(Name::parse("client_id", project).ok()?),
            ),
            None => (text, Scope::Root),
        };
        Some(ClientId {
            scope,
            name: Name::parse("client_id", name).ok()?,
        })
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&ClientId::text(&self.scope, self.name.as_str()))
    }
}

/// Whose tokens a caller may introspect or revoke: a client only its own; a bearer
/// with the permission those of the accounts where it holds it (a root account every
/// scope, a project account its project).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenReach {
    Own(Uuid),
    Scope(Scope),
}

impl TokenReach {
    /// Whether a token of the account `owner`, living in `scope`, is within reach.
    pub fn includes(&self, owner: Uuid, scope: &Scope) -> bool {
        match self {
            TokenReach::Own(id) => *id == owner,
            TokenReach::Scope(home) => home.reaches(scope),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::parse("n", text).unwrap()
    }

    #[test]
    fn client_ids_name_the_scope_after_an_at_sign() {
        let root = ClientId::parse("ci-bot").unwrap();
        assert_eq!(
            (root.scope.clone(), root.name.as_str()),
            (Scope::Root, "ci-bot")
        );
        assert_eq!(root.to_string(), "ci-bot");
        let project = ClientId::parse("ci-bot@payments").unwrap();
        assert_eq!(project.scope, Scope::Project(name("payments")));
        assert_eq!(project.to_string(), "ci-bot@payments");
        for bad in ["", "@payments", "ci-bot@", "a@b@c", "CI@payments", "ci@Pay"] {
            assert_eq!(ClientId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_reach_holds_its_own_account_or_its_scope() {
        let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());
        let payments = Scope::Project(name("payments"));
        assert!(TokenReach::Own(mine).includes(mine, &payments));
        assert!(!TokenReach::Own(mine).includes(other, &payments));
        assert!(TokenReach::Scope(Scope::Root).includes(other, &payments));
        assert!(TokenReach::Scope(payments.clone()).includes(other, &payments));
        assert!(!TokenReach::Scope(payments.clone()).includes(other, &Scope::Root));
        let billing = Scope::Project(name("billing"));
        assert!(!TokenReach::Scope(payments).includes(other, &billing));
    }
}
