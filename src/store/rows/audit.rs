//! Audit rows: events by sequence number, appended in the transaction of the change
//! each records.

use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use crate::domain::{AuditEvent, Change, Target, audit_key};
use crate::error::Error;
use crate::store::reader::Reader;
use crate::store::{WriteContext, codec, tables};

/// Appends one event for a successful change; the sequence numbers have no gaps.
pub(in crate::store) fn append(
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

/// How many events there are.
pub(in crate::store) fn count(tx: &impl Reader) -> Result<u64, Error> {
    Ok(tx.table(tables::AUDIT)?.len()?)
}

/// Events from `start` on, in sequence, each with its key in a list.
pub(in crate::store) fn events_from<'t>(
    table: &'t impl ReadableTable<u64, &'static [u8]>,
    start: Bound<u64>,
) -> Result<impl Iterator<Item = Result<(String, AuditEvent), Error>> + 't, Error> {
    Ok(table.range((start, Bound::Unbounded))?.map(|entry| {
        let (seq, bytes) = entry?;
        Ok((
            audit_key(seq.value()),
            codec::decode::<AuditEvent>(bytes.value())?,
        ))
    }))
}
