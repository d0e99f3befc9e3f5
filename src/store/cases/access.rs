//! The answer to a caller that may read objects of a kind but not change them.

use crate::domain::{Kind, Name, Scope};
use crate::error::Error;
use crate::store::Store;
use crate::store::rows::{accounts, groups, projects, roles};

impl Store {
    /// Refuses a caller in `scope`: 404 naming the project when `scope` is a project
    /// that does not exist (as for any caller), else `denied`. Decided in one read
    /// transaction; a fault stays a fault.
    pub async fn refuse_in(&self, scope: &Scope, denied: Error) -> Error {
        if *scope == Scope::Root {
            return denied;
        }
        match self.read_in(scope, |_, _| Ok(())).await {
            Ok(()) => denied,
            Err(refused) => refused,
        }
    }

    /// Refuses a change of the object `name` to a caller that may read but not change
    /// objects of `kind`: 404 when no such object exists (as for any caller), `denied`
    /// (the 403) when it does. Decided in one read transaction; a fault stays a fault.
    pub async fn refuse_change(
        &self,
        scope: &Scope,
        kind: Kind,
        name: &Name,
        denied: Error,
    ) -> Error {
        let wanted = name.clone();
        let exists = self.read_in(scope, move |tx, scope| match kind {
            Kind::ServiceAccount => Ok(accounts::find_id(tx, scope, wanted.as_str())?.is_some()),
            Kind::Group => Ok(groups::find_id(tx, scope, wanted.as_str())?.is_some()),
            Kind::Role => Ok(roles::find(tx, scope, &wanted)?.is_some()),
            Kind::Project => Ok(projects::find(tx, &wanted)?.is_some()),
            Kind::Credential | Kind::SigningKey => {
                Err(Error::internal(format!("a {kind} is not changed by name")))
            }
        });
        let exists = exists.await;
        match exists {
            Ok(true) => denied,
            Ok(false) => Error::not_found(kind, name.as_str()),
            Err(fault) => fault,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::NewRole;
    use crate::store::Blocking;
    use crate::store::WriteContext;
    use crate::store::test_objects::{name, new_account, new_group};

    #[test]
    fn a_refused_change_is_404_for_a_missing_object_and_the_refusal_for_an_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        let ctx = WriteContext::system(chrono::DateTime::UNIX_EPOCH, "test");
        store
            .create_role(
                &ctx,
                &Scope::Root,
                NewRole {
                    name: name("r"),
                    description: String::new(),
                    permissions: BTreeSet::new(),
                },
            )
            .wait()
            .unwrap();
        store
            .create_group(&ctx, &Scope::Root, new_group("g"))
            .wait()
            .unwrap();
        store
            .create_service_account(&ctx, &Scope::Root, new_account("a"), None)
            .wait()
            .unwrap();
        let denied = || Error::PermissionDenied("no".to_owned());
        for (kind, existing) in [
            (Kind::ServiceAccount, "a"),
            (Kind::Group, "g"),
            (Kind::Role, "r"),
        ] {
            let refused = store
                .refuse_change(&Scope::Root, kind, &name(existing), denied())
                .block();
            assert!(matches!(refused, Error::PermissionDenied(_)), "{kind}");
            let refused = store
                .refuse_change(&Scope::Root, kind, &name("missing"), denied())
                .block();
            assert!(matches!(refused, Error::NotFound { .. }), "{kind}");
        }
    }

    #[test]
    fn a_refusal_in_a_missing_project_is_404_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        let ctx = WriteContext::system(chrono::DateTime::UNIX_EPOCH, "test");
        store
            .create_project(&ctx, crate::store::test_objects::new_project("payments"))
            .wait()
            .unwrap();
        let denied = || Error::PermissionDenied("no".to_owned());
        let in_scope = |scope: Scope| store.refuse_in(&scope, denied()).block();
        assert!(matches!(in_scope(Scope::Root), Error::PermissionDenied(_)));
        let existing = in_scope(Scope::Project(name("payments")));
        assert!(matches!(existing, Error::PermissionDenied(_)));
        let missing = in_scope(Scope::Project(name("nowhere")));
        assert!(
            matches!(&missing, Error::NotFound { kind: Kind::Project, name } if name == "nowhere"),
            "{missing:?}"
        );
    }
}
