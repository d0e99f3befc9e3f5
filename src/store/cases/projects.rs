//! Project use cases: create, read, list, change and delete, with everything in it.

use uuid::Uuid;

use crate::domain::{
    Action, Change, Created, IfMatch, Name, NewProject, Page, PageRequest, Project, ProjectDetails,
    ProjectPatch, Scope, Target, check_if_match, new_id,
};
use crate::error::Error;
use crate::store::Answer;
use crate::store::paging::{self, Filter};
use crate::store::reader::Reader;
use crate::store::rows::{accounts, audit, credentials, groups, memberships, projects, roles};
use crate::store::{Store, WriteContext, tables};

fn details(
    tx: &impl Reader,
    project: Project,
    etag: crate::domain::Etag,
) -> Result<ProjectDetails, Error> {
    Ok(ProjectDetails {
        counts: projects::counts(tx, &Scope::Project(project.name.clone()))?,
        project,
        etag,
    })
}

impl Store {
    pub fn create_project(&self, ctx: &WriteContext, new: NewProject) -> Answer<ProjectDetails> {
        let ctx = ctx.clone();
        self.write(move |tx| {
            let ctx = &ctx;
            let project = new.clone().into_project(new_id(ctx.now), ctx.now);
            let etag = projects::insert(tx, &project)?;
            let target = Target::of_project(&project);
            audit::append(
                tx,
                ctx,
                Action::ProjectCreate,
                target,
                project.creation_changes(),
            )?;
            details(tx, project, etag)
        })
    }

    pub async fn get_project(&self, name: &Name) -> Result<ProjectDetails, Error> {
        let name = name.clone();
        self.read(move |tx| {
            let name = &name;
            let (project, etag) = projects::get_by_name(tx, name)?;
            details(tx, project, etag)
        })
        .await
    }

    /// One page of projects in name order; `query` (lower-cased) filters by name or
    /// display name.
    /// One page of projects in name order: every one, or `only` that one.
    pub async fn list_projects(
        &self,
        only: Option<&Name>,
        query: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<ProjectDetails>, Error> {
        let (only, query, request) = (only.cloned(), query.map(str::to_owned), request.clone());
        self.read(move |tx| {
            let (only, query, request) = (only.as_ref(), query.as_deref(), &request);
            let table = tx.table(tables::PROJECTS)?;
            let matches = |(project, _): &(Project, crate::domain::Etag)| {
                only.is_none_or(|name| project.name == *name)
                    && query.is_none_or(|q| {
                        project.name.as_str().contains(q)
                            || project.display_name.to_lowercase().contains(q)
                    })
            };
            let filtered = query.is_some() || only.is_some();
            let filter: Filter<'_, (Project, crate::domain::Etag)> =
                filtered.then_some(&matches as _);
            let entries = |after: Option<&str>| projects::in_name_order(&table, after);
            let page = paging::page(request, entries, Ok, || table.len(), filter)?;
            page.try_map(|(project, etag)| details(tx, project, etag))
        })
        .await
    }

    /// Applies a patch; one that changes nothing writes nothing.
    pub fn update_project(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
        patch: ProjectPatch,
    ) -> Answer<ProjectDetails> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write(move |tx| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let (mut project, etag) = projects::get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            let changes = patch.clone().apply(&mut project, ctx.now);
            if changes.is_empty() {
                return details(tx, project, etag);
            }
            let etag = projects::put(tx, &project)?;
            audit::append(
                tx,
                ctx,
                Action::ProjectUpdate,
                Target::of_project(&project),
                changes,
            )?;
            details(tx, project, etag)
        })
    }

    /// Deletes a project: 409 while it holds anything, unless `force`, which deletes
    /// all of it (its groups, its accounts with their credentials, its roles) in the
    /// same transaction, so that its accounts' tokens die at once.
    pub fn delete_project(
        &self,
        ctx: &WriteContext,
        name: &Name,
        if_match: Option<&IfMatch>,
        force: bool,
    ) -> Answer<()> {
        let (ctx, name, if_match) = (ctx.clone(), name.clone(), if_match.cloned());
        self.write(move |tx| {
            let (ctx, name, if_match) = (&ctx, &name, if_match.as_ref());
            let (project, etag) = projects::get_by_name(tx, name)?;
            check_if_match(if_match, &etag)?;
            let scope = Scope::Project(project.name.clone());
            let counts = projects::counts(tx, &scope)?;
            if !counts.is_empty() && !force {
                return Err(Error::FailedPrecondition(format!(
                    "project '{name}' holds {} service account(s), {} group(s) and {} role(s); \
                     delete them first or delete with ?force=true",
                    counts.service_accounts, counts.groups, counts.roles
                )));
            }
            let group_ids = ids_in(tx, tables::GROUP_NAMES, &scope)?;
            for id in group_ids {
                let Some(mut details) = groups::get(tx, id)? else {
                    continue;
                };
                for (_, account_id) in memberships::members(tx, id)? {
                    let mut account =
                        accounts::record_listed(tx, account_id, "a group lists a missing member")?;
                    memberships::leave(tx, &mut account, &mut details.group)?;
                    accounts::put(tx, &account)?;
                }
                groups::remove(tx, &scope, &details.group)?;
            }
            for id in ids_in(tx, tables::ACCOUNT_NAMES, &scope)? {
                let account =
                    accounts::record_listed(tx, id, "the name index names a missing account")?;
                credentials::delete_all_of(tx, account.id)?;
                accounts::remove(tx, &scope, &account)?;
            }
            for (_, role, _) in roles::all(tx, &scope)? {
                roles::remove(tx, &scope, &role)?;
            }
            projects::remove(tx, &project)?;
            let changes = [
                Change::of("sa_count", &counts.service_accounts, &0u64),
                Change::of("group_count", &counts.groups, &0u64),
                Change::of("role_count", &counts.roles, &0u64),
            ];
            let target = Target::of_project(&project);
            let changes = changes.into_iter().flatten().collect();
            audit::append(tx, ctx, Action::ProjectDelete, target, changes)?;
            Ok(())
        })
    }
}

/// The ids a `(scope, name) → id` index holds for `scope`.
fn ids_in(
    tx: &impl Reader,
    index: impl tables::KnownTable<K = tables::NameKey, V = u128>,
    scope: &Scope,
) -> Result<Vec<Uuid>, Error> {
    let names = tx.table(index)?;
    paging::in_name_order(&names, scope, None)?
        .map(|entry| entry.map(|(_, id)| id))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::auth::secret::Secret;
    use crate::domain::{NewAccount, NewRole};
    use crate::store::Blocking;
    use crate::store::test_objects::{name, new_account, new_group, new_project, secret_request};

    fn account(n: &str, groups: &[&str]) -> NewAccount {
        NewAccount {
            groups: groups.iter().map(|g| name(g)).collect(),
            ..new_account(n)
        }
    }

    #[test]
    fn a_forced_delete_removes_everything_in_the_project_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.redb")).unwrap();
        let now = crate::clock::now();
        let ctx = WriteContext::system(now, "test");
        store.create_project(&ctx, new_project("p")).wait().unwrap();
        let scope = Scope::Project(name("p"));
        store
            .create_group(&ctx, &scope, new_group("team"))
            .wait()
            .unwrap();
        store
            .create_group(&ctx, &Scope::Root, new_group("team"))
            .wait()
            .unwrap();
        let role = NewRole {
            name: name("deployer"),
            description: String::new(),
            permissions: BTreeSet::from(["deploy:run".to_owned()]),
        };
        store.create_role(&ctx, &scope, role).wait().unwrap();
        let secret = Secret::generate().unwrap();
        let credential = secret_request(&secret, "s", Some(now + chrono::Duration::days(1)), now);
        store
            .create_service_account(&ctx, &scope, account("ci", &["team"]), Some(credential))
            .wait()
            .unwrap();
        store
            .create_service_account(&ctx, &Scope::Root, account("ci", &["team"]), None)
            .wait()
            .unwrap();
        assert!(
            store
                .authenticate_secret(&secret.hash(), now)
                .block()
                .is_ok()
        );
        let counts = store.get_project(&name("p")).block().unwrap().counts;
        assert_eq!(
            (counts.service_accounts, counts.groups, counts.roles),
            (1, 1, 1)
        );

        let refused = store.delete_project(&ctx, &name("p"), None, false).wait();
        assert!(
            matches!(refused, Err(Error::FailedPrecondition(_))),
            "{refused:?}"
        );
        store
            .delete_project(&ctx, &name("p"), None, true)
            .wait()
            .unwrap();

        assert!(matches!(
            store.get_project(&name("p")).block(),
            Err(Error::NotFound { .. })
        ));
        assert!(
            store
                .get_service_account(&scope, &name("ci"), now)
                .block()
                .is_err()
        );
        assert!(store.get_group(&scope, &name("team")).block().is_err());
        assert!(store.get_role(&scope, &name("deployer")).block().is_err());
        assert!(
            store
                .authenticate_secret(&secret.hash(), now)
                .block()
                .is_err()
        );
        // The root's objects of the same names are untouched.
        let root_ci = store
            .get_service_account(&Scope::Root, &name("ci"), now)
            .block()
            .unwrap();
        assert_eq!(root_ci.groups.len(), 1);
        assert_eq!(
            store
                .get_group(&Scope::Root, &name("team"))
                .block()
                .unwrap()
                .group
                .member_count,
            1
        );
    }
}
