//! Reading the audit trail.

use std::ops::Bound;

use crate::domain::{AuditEvent, AuditFilter, Page, PageRequest};
use crate::error::Error;
use crate::store::paging::{self, Filter};
use crate::store::reader::Reader;
use crate::store::rows::audit;
use crate::store::{Store, tables};

impl Store {
    /// One page of audit events in ascending `seq`. A `page_token` starts the page after
    /// its event, so only filtered lists read every event (to count them).
    pub fn list_audit_events(
        &self,
        filter: &AuditFilter,
        request: &PageRequest,
    ) -> Result<Page<AuditEvent>, Error> {
        self.read(|tx| {
            let table = tx.table(tables::AUDIT)?;
            let entries = |after: Option<&str>| {
                let start = match after.map(str::parse::<u64>) {
                    Some(Ok(after)) => Bound::Excluded(after),
                    Some(Err(_)) => {
                        return Err(Error::invalid(
                            "page_token",
                            "is not a token this server issued",
                        ));
                    }
                    None => Bound::Unbounded,
                };
                audit::events_from(&table, start)
            };
            let matches = |event: &AuditEvent| filter.matches(event);
            let matches: Filter<'_, AuditEvent> = (!filter.is_empty()).then_some(&matches as _);
            paging::page(request, entries, Ok, || audit::count(tx), matches)
        })
    }
}
