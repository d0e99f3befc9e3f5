//! Reading the audit trail.

use std::ops::Bound;

use crate::domain::{AuditEvent, AuditFilter, Page, PageRequest};
use crate::error::Error;
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
            if !filter.is_empty() {
                let matching = audit::events_from(&table, Bound::Unbounded)?.filter(
                    |e: &Result<(String, AuditEvent), Error>| {
                        e.as_ref().map_or(true, |(_, e)| filter.matches(e))
                    },
                );
                return request.cut(matching);
            }
            let (start, skip) = match request.after.as_deref().map(str::parse::<u64>) {
                Some(Ok(after)) => (Bound::Excluded(after), 0),
                Some(Err(_)) => {
                    return Err(Error::invalid(
                        "page_token",
                        "is not a token this server issued",
                    ));
                }
                None => (Bound::Unbounded, request.offset()),
            };
            let window = audit::events_from(&table, start)?
                .skip(skip)
                .take(request.per_page as usize + 1)
                .collect::<Result<Vec<_>, Error>>()?;
            Ok(request.from_window(window, audit::count(tx)?))
        })
    }
}
