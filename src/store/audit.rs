//! The audit trail in storage: appended in the transaction of the change it records.

use redb::{ReadableTable, WriteTransaction};

use super::{WriteContext, codec, tables};
use crate::domain::{AuditEvent, Change, Target};
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
