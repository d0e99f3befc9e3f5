//! Audit rows: events by sequence number, appended in the transaction of the change
//! each records.

use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata};

use crate::domain::{Action, AuditEvent, Change, Scope, Target, audit_key};
use crate::error::Error;
use crate::store::damage::damaged;
use crate::store::reader::Reader;
use crate::store::rows::projects;
use crate::store::transaction::Tx;
use crate::store::{WriteContext, codec, tables};

/// Appends one event for a successful change; the sequence numbers have no gaps.
pub(in crate::store) fn append(
    tx: &Tx,
    ctx: &WriteContext,
    action: Action,
    target: Target,
    changes: Vec<Change>,
) -> Result<u64, Error> {
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
        project: None,
    };
    table.insert(seq, codec::encode(&event)?.as_slice())?;
    if let Scope::Project(name) = &ctx.scope
        && let Some((project, _)) = projects::find(tx, name)?
    {
        tx.write(tables::AUDIT_SCOPES)?
            .insert((project.id.as_u128(), seq), ())?;
        tx.write(tables::AUDIT_PROJECTS)?
            .insert(seq, name.as_str())?;
    }
    Ok(seq)
}

/// The events of the project `project_id` after `start`, in sequence, each with its key
/// in a list and its sequence number.
pub(in crate::store) fn project_events_from<'t>(
    scoped: &'t impl ReadableTable<(u128, u64), ()>,
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

/// The event `seq` of the project `project`, which the project index names.
pub(in crate::store) fn get(
    table: &impl ReadableTable<u64, &'static [u8]>,
    seq: u64,
    project: &str,
) -> Result<AuditEvent, Error> {
    let bytes = table
        .get(seq)?
        .ok_or_else(|| damaged("a project's trail names a missing event"))?;
    let mut event: AuditEvent = codec::decode(bytes.value())?;
    event.project = Some(project.to_owned());
    Ok(event)
}

/// How many events there are.
pub(in crate::store) fn count(tx: &impl Reader) -> Result<u64, Error> {
    Ok(tx.table(tables::AUDIT)?.len()?)
}

/// Events from `start` on, in sequence, each with its key in a list and its project
/// (from `projects`, the table of where each event's change was made).
pub(in crate::store) fn events_from<'t>(
    table: &'t impl ReadableTable<u64, &'static [u8]>,
    projects: &'t impl ReadableTable<u64, &'static str>,
    start: Bound<u64>,
) -> Result<impl Iterator<Item = Result<(String, AuditEvent), Error>> + 't, Error> {
    Ok(table.range((start, Bound::Unbounded))?.map(|entry| {
        let (seq, bytes) = entry?;
        let mut event: AuditEvent = codec::decode(bytes.value())?;
        event.project = projects.get(seq.value())?.map(|p| p.value().to_owned());
        Ok((audit_key(seq.value()), event))
    }))
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use uuid::Uuid;

    use super::*;
    use crate::domain::{ActorRef, Kind};

    /// An event as it was stored while a target's kind was a string.
    #[derive(Serialize)]
    struct StoredBefore {
        seq: u64,
        #[serde(with = "chrono::serde::ts_seconds")]
        at: crate::domain::Timestamp,
        actor: ActorRef,
        action: String,
        target: TargetBefore,
        request_id: String,
        changes: Vec<Change>,
    }

    #[derive(Serialize)]
    struct TargetBefore {
        kind: String,
        id: Uuid,
        name: String,
    }

    #[test]
    fn an_event_stored_with_a_string_kind_still_decodes_and_encodes_the_same() {
        let id = Uuid::new_v4();
        let before = StoredBefore {
            seq: 7,
            at: chrono::DateTime::UNIX_EPOCH,
            actor: ActorRef::system("bootstrap"),
            action: "service_account.create".to_owned(),
            target: TargetBefore {
                kind: "service_account".to_owned(),
                id,
                name: "ci".to_owned(),
            },
            request_id: "r".to_owned(),
            changes: vec![Change::set("status", &"active")],
        };
        let bytes = codec::encode(&before).unwrap();
        let event: AuditEvent = codec::decode(&bytes).unwrap();
        assert_eq!(event.target, Target::new(Kind::ServiceAccount, id, "ci"));
        assert_eq!(event.action, Action::ServiceAccountCreate.as_str());
        assert_eq!(codec::encode(&event).unwrap(), bytes);
    }
}
