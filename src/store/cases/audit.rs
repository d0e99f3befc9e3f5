//! Reading the audit trail.

use std::ops::Bound;

use crate::domain::{AuditEvent, AuditFilter, Name, Page, PageRequest, Scope};
use crate::error::Error;
use crate::store::paging::{self, Filter};
use crate::store::reader::Reader;
use crate::store::rows::{audit, projects};
use crate::store::{Store, tables};

/// The start of a page after the event of `after` (a `page_token`).
fn start_after(after: Option<&str>) -> Result<Bound<u64>, Error> {
    match after.map(str::parse::<u64>) {
        Some(Ok(after)) => Ok(Bound::Excluded(after)),
        Some(Err(_)) => Err(Error::invalid(
            "page_token",
            "is not a token this server issued",
        )),
        None => Ok(Bound::Unbounded),
    }
}

/// The project whose own trail a listing reads, if any: the scope's project, or at the
/// root the project that now bears the name the `project` filter asks for. Its trail
/// holds its events only, not those of a deleted project of the same name; a name no
/// project bears now lists the events recorded under it, by a scan.
fn trail_of(tx: &impl Reader, scope: &Scope, filter: &AuditFilter) -> Result<Option<Name>, Error> {
    if let Scope::Project(name) = scope {
        return Ok(Some(name.clone()));
    }
    let Some(name) = filter.project.as_deref() else {
        return Ok(None);
    };
    let Ok(name) = Name::parse("project", name) else {
        return Ok(None);
    };
    Ok(projects::find(tx, &name)?.map(|_| name))
}

impl Store {
    /// One page of audit events in ascending `seq`: at the root every event, each with
    /// the project its change was made in, in a project the events of changes made in
    /// it. A `page_token` starts the page after
    /// its event, so only filtered lists read every event (to count them).
    pub async fn list_audit_events(
        &self,
        scope: &Scope,
        filter: &AuditFilter,
        request: &PageRequest,
    ) -> Result<Page<AuditEvent>, Error> {
        let (filter, request) = (filter.clone(), request.clone());
        self.read_in(scope, move |tx, scope| {
            let (filter, request) = (&filter, &request);
            let table = tx.table(tables::AUDIT)?;
            let matches = |event: &AuditEvent| filter.matches(event);
            let matches: Filter<'_, AuditEvent> = (!filter.is_empty()).then_some(&matches as _);
            let Some(name) = trail_of(tx, scope, filter)? else {
                let entries = |after: Option<&str>| audit::events_from(&table, start_after(after)?);
                return paging::page(request, entries, Ok, || audit::count(tx), matches);
            };
            let name = &name;
            let (project, _) = projects::get_by_name(tx, name)?;
            let id = project.id.as_u128();
            let scoped = tx.table(tables::AUDIT_SCOPES)?;
            let entries =
                |after: Option<&str>| audit::project_events_from(&scoped, id, start_after(after)?);
            let total = || {
                let mut count = 0;
                for entry in audit::project_events_from(&scoped, id, Bound::Unbounded)? {
                    entry?;
                    count += 1;
                }
                Ok(count)
            };
            paging::page(
                request,
                entries,
                |seq| audit::get(&table, seq),
                total,
                matches,
            )
        })
        .await
    }
}
