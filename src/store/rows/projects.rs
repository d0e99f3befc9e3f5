//! Project rows: the record by name, and how many objects each holds (counted in the
//! name indexes, where its objects are keyed by its name).

use std::ops::Bound;

use crate::domain::{CredentialPolicy, Etag, Kind, Name, Project, ProjectCounts, Scope};
use crate::error::Error;
use crate::store::kv::TableRef;
use crate::store::reader::Reader;
use crate::store::records::{self, ProjectRecord};
use crate::store::rows::counts::{self, Index};
use crate::store::tables;
use crate::store::tables::Projects;
use crate::store::transaction::Tx;

pub(in crate::store) fn find(
    tx: &impl Reader,
    name: &Name,
) -> Result<Option<(Project, Etag)>, Error> {
    let table = tx.table(tables::PROJECTS)?;
    let Some(bytes) = table.get(name.as_str())? else {
        return Ok(None);
    };
    records::decode_with_etag::<ProjectRecord, _>(bytes.value()).map(Some)
}

/// The project named `name`, or 404 naming it.
pub(in crate::store) fn get_by_name(
    tx: &impl Reader,
    name: &Name,
) -> Result<(Project, Etag), Error> {
    find(tx, name)?.ok_or_else(|| Error::not_found(Kind::Project, name.as_str()))
}

/// The credential policy of `scope`: none at the root, the project's in a project
/// (404 naming it when it is gone).
pub(in crate::store) fn credential_policy(
    tx: &impl Reader,
    scope: &Scope,
) -> Result<CredentialPolicy, Error> {
    match scope {
        Scope::Root => Ok(CredentialPolicy::default()),
        Scope::Project(name) => Ok(get_by_name(tx, name)?.0.credential_policy),
    }
}

/// 404 naming the project of `scope` unless it exists; the root always does.
pub(in crate::store) fn require_scope(tx: &impl Reader, scope: &Scope) -> Result<(), Error> {
    match scope {
        Scope::Root => Ok(()),
        Scope::Project(name) => get_by_name(tx, name).map(|_| ()),
    }
}

pub(in crate::store) fn put(tx: &Tx, project: &Project) -> Result<Etag, Error> {
    let bytes = records::encode::<ProjectRecord>(project)?;
    tx.write(tables::PROJECTS)?
        .insert(project.name.as_str(), bytes.as_slice())?;
    Ok(Etag::of(&bytes))
}

/// Inserts a new project; its name must be free (409 otherwise).
pub(in crate::store) fn insert(tx: &Tx, project: &Project) -> Result<Etag, Error> {
    if find(tx, &project.name)?.is_some() {
        return Err(Error::AlreadyExists {
            kind: Kind::Project,
            name: project.name.to_string(),
        });
    }
    put(tx, project)
}

pub(in crate::store) fn remove(tx: &Tx, project: &Project) -> Result<(), Error> {
    tx.write(tables::PROJECTS)?.remove(project.name.as_str())?;
    Ok(())
}

/// A project as a list walks it: its name (the key), the record and its etag.
type Listed = (String, (Project, Etag));

/// Every project in name order from just after `after`, with its etag.
pub(in crate::store) fn in_name_order<'t>(
    table: &TableRef<'t, Projects>,
    after: Option<&str>,
) -> Result<impl Iterator<Item = Result<Listed, Error>> + use<'t>, Error> {
    let start = match after {
        Some(after) => Bound::Excluded(after),
        None => Bound::Unbounded,
    };
    Ok(table
        .range::<&str>((start, Bound::Unbounded))?
        .map(|entry| {
            let (name, bytes) = entry?;
            Ok((
                name.value().to_owned(),
                records::decode_with_etag::<ProjectRecord, _>(bytes.value())?,
            ))
        }))
}

/// Every scope: the root, then each project by name.
pub(in crate::store) fn every_scope(tx: &impl Reader) -> Result<Vec<Scope>, Error> {
    let mut scopes = vec![Scope::Root];
    for entry in tx.table(tables::PROJECTS)?.iter()? {
        scopes.push(Scope::Project(Name::parse("project", entry?.0.value())?));
    }
    Ok(scopes)
}

/// How many accounts, groups and custom roles `scope` holds, as counted.
pub(in crate::store) fn counts(tx: &impl Reader, scope: &Scope) -> Result<ProjectCounts, Error> {
    Ok(ProjectCounts {
        service_accounts: counts::of(tx, Index::Accounts, scope)?,
        groups: counts::of(tx, Index::Groups, scope)?,
        roles: counts::of(tx, Index::Roles, scope)?,
    })
}
