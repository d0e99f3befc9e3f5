//! Audit rows: events by sequence number, appended in the transaction of the change
//! each records.

use std::ops::Bound;

use crate::domain::{Action, AuditEvent, Change, Scope, Target, audit_key};
use crate::error::Error;
use crate::store::damage::damaged;
use crate::store::kv::TableRef;
use crate::store::reader::Reader;
use crate::store::records::{self, AuditRecord};
use crate::store::rows::projects;
use crate::store::tables::{Audit, AuditScopes};
use crate::store::transaction::Tx;
use crate::store::{WriteContext, tables};

/// Appends one event for a successful change; the sequence numbers have no gaps.
pub(in crate::store) fn append(
    tx: &Tx,
    ctx: &WriteContext,
    action: Action,
    target: Target,
    changes: Vec<Change>,
) -> Result<u64, Error> {
    let project = match &ctx.scope {
        Scope::Project(name) => projects::find(tx, name)?.map(|(project, _)| project),
        Scope::Root => None,
    };
    let mut table = tx.write(tables::AUDIT)?;
    let seq = table.last()?.map_or(1, |(seq, _)| seq.value() + 1);
    let event = AuditEvent {
        seq,
        at: ctx.now,
        actor: ctx.actor.clone(),
        action: action.as_str().to_owned(),
        target,
        request_id: ctx.request_id.clone(),
        changes,
        project: project.as_ref().map(|p| p.name.as_str().to_owned()),
    };
    table.insert(seq, records::encode::<AuditRecord>(&event)?.as_slice())?;
    if let Some(project) = project {
        tx.write(tables::AUDIT_SCOPES)?
            .insert((project.id.as_u128(), seq), ())?;
    }
    Ok(seq)
}

/// The events of the project `project_id` after `start`, in sequence, each with its key
/// in a list and its sequence number.
pub(in crate::store) fn project_events_from<'t>(
    scoped: &TableRef<'t, AuditScopes>,
    project_id: u128,
    start: Bound<u64>,
) -> Result<impl Iterator<Item = Result<(String, u64), Error>> + 't, Error> {
    let lower = match start {
        Bound::Excluded(seq) => Bound::Excluded((project_id, seq)),
        Bound::Included(seq) => Bound::Included((project_id, seq)),
        Bound::Unbounded => Bound::Included((project_id, 0)),
    };
    let upper = Bound::Included((project_id, u64::MAX));
    Ok(scoped.range((lower, upper))?.map(|entry| {
        let seq = entry?.0.value().1;
        Ok((audit_key(seq), seq))
    }))
}

/// The event `seq` of a project, which the project index names.
pub(in crate::store) fn get(table: &TableRef<'_, Audit>, seq: u64) -> Result<AuditEvent, Error> {
    let bytes = table
        .get(seq)?
        .ok_or_else(|| damaged("a project's trail names a missing event"))?;
    records::decode::<AuditRecord, _>(bytes.value())
}

/// How many events there are.
pub(in crate::store) fn count(tx: &impl Reader) -> Result<u64, Error> {
    tx.table(tables::AUDIT)?.len()
}

/// Events from `start` on, in sequence, each with its key in a list and the project its
/// record names.
pub(in crate::store) fn events_from<'t>(
    table: &TableRef<'t, Audit>,
    start: Bound<u64>,
) -> Result<impl Iterator<Item = Result<(String, AuditEvent), Error>> + 't, Error> {
    Ok(table.range((start, Bound::Unbounded))?.map(|entry| {
        let (seq, bytes) = entry?;
        let event = records::decode::<AuditRecord, _>(bytes.value())?;
        Ok((audit_key(seq.value()), event))
    }))
}
