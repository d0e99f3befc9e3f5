//! The audit trail in storage: appended in the transaction of the change it records.

use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::reader::Reader;
use super::{Store, WriteContext, codec, tables};
use crate::domain::{AuditEvent, AuditFilter, Change, Page, PageRequest, Target, audit_key};
use crate::error::Error;

/// Appends one event for a successful change; the sequence numbers have no gaps.
pub(super) fn append(
    tx: &WriteTransaction,
    ctx: &WriteContext,
    action: &str,
    target: Target,
    changes: Vec<Change>,
) -> Result<u64, Error> {
    let mut table = tx.open_table(tables::AUDIT)?;
    let seq = table.last()?.map_or(1, |(seq, _)| seq.value() + 1);
    let event = AuditEvent {
        seq,
        at: ctx.now,
        actor: ctx.actor.clone(),
        action: action.to_owned(),
        target,
        request_id: ctx.request_id.clone(),
        changes,
    };
    table.insert(seq, codec::encode(&event)?.as_slice())?;
    Ok(seq)
}

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
            let events = |start: Bound<u64>| -> Result<_, Error> {
                Ok(table.range((start, Bound::Unbounded))?.map(|entry| {
                    let (seq, bytes) = entry?;
                    Ok((
                        audit_key(seq.value()),
                        codec::decode::<AuditEvent>(bytes.value())?,
                    ))
                }))
            };
            if !filter.is_empty() {
                let matching =
                    events(Bound::Unbounded)?.filter(|e: &Result<(String, AuditEvent), Error>| {
                        e.as_ref().map_or(true, |(_, e)| filter.matches(e))
                    });
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
            let window = events(start)?
                .skip(skip)
                .take(request.per_page as usize + 1)
                .collect::<Result<Vec<_>, Error>>()?;
            Ok(request.from_window(window, table.len()?))
        })
    }
}
