//! The stored audit event. Version 1 is the layout of every file before records had
//! versions; an event of a project had its project's name in a side table then
//! (`audit_projects_v1`). Version 2 holds it itself: version 1 and the project.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{ActorV1, ChangeV1};
use super::{Record, version};
use crate::domain::{AuditEvent, Target, Timestamp};
use crate::error::{Error, Kind};
use crate::store::codec;

/// What an event acted on; its kind as its text (`Kind::as_str`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct TargetV1 {
    kind: String,
    id: Uuid,
    name: String,
}

/// The event as stored by schema 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct AuditV1 {
    seq: u64,
    #[serde(with = "chrono::serde::ts_seconds")]
    at: Timestamp,
    actor: ActorV1,
    action: String,
    target: TargetV1,
    request_id: String,
    changes: Vec<ChangeV1>,
}

/// The event with the name of the project its change was made in (`None`: the root),
/// as it was then, since schema 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct AuditV2 {
    event: AuditV1,
    project: Option<String>,
}

/// Every version of a stored audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum AuditRecord {
    V1(AuditV1),
    V2(AuditV2),
}

impl Record for AuditRecord {
    const KIND: &'static str = "audit event";

    fn read(format: u8, body: &[u8]) -> Result<Self, String> {
        match format {
            1 => version(body, AuditRecord::V1),
            2 => version(body, AuditRecord::V2),
            other => Err(codec::unknown_format(other)),
        }
    }

    fn write(&self) -> Result<Vec<u8>, Error> {
        match self {
            AuditRecord::V1(v1) => codec::encode_as(1, v1),
            AuditRecord::V2(v2) => codec::encode_as(2, v2),
        }
    }
}

impl AuditRecord {
    /// The record with its project set to `project`: how the migration to schema 2
    /// folds the side table in.
    pub(in crate::store) fn in_project(self, project: &str) -> AuditRecord {
        let (AuditRecord::V1(event) | AuditRecord::V2(AuditV2 { event, .. })) = self;
        AuditRecord::V2(AuditV2 {
            event,
            project: Some(project.to_owned()),
        })
    }
}

/// A version 1 event is of the root, or of a project named in the side table that the
/// migration to schema 2 folds in.
impl TryFrom<AuditRecord> for AuditEvent {
    type Error = String;

    fn try_from(record: AuditRecord) -> Result<Self, String> {
        let (v1, project) = match record {
            AuditRecord::V1(v1) => (v1, None),
            AuditRecord::V2(AuditV2 { event, project }) => (event, project),
        };
        let text = v1.target.kind;
        let kind = Kind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("has an unknown target kind '{text}'"))?;
        Ok(AuditEvent {
            seq: v1.seq,
            at: v1.at,
            actor: v1.actor.into(),
            action: v1.action,
            target: Target::new(kind, v1.target.id, v1.target.name),
            request_id: v1.request_id,
            changes: v1.changes.into_iter().map(Into::into).collect(),
            project,
        })
    }
}

impl From<&AuditEvent> for AuditRecord {
    fn from(event: &AuditEvent) -> Self {
        AuditRecord::V2(AuditV2 {
            event: AuditV1 {
                seq: event.seq,
                at: event.at,
                actor: (&event.actor).into(),
                action: event.action.clone(),
                target: TargetV1 {
                    kind: event.target.kind.as_str().to_owned(),
                    id: event.target.id,
                    name: event.target.name.clone(),
                },
                request_id: event.request_id.clone(),
                changes: event.changes.iter().map(Into::into).collect(),
            },
            project: event.project.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::{decode, encode, samples};

    /// The bytes of schema 1: the domain struct of that time (its project never
    /// encoded), bincoded behind byte 1.
    #[test]
    fn version_1_bytes_decode_as_an_event_of_the_root() {
        let event = samples::audit_event(None);
        let v1 = codec::encode_as(codec::FORMAT_V1, &event).unwrap();
        let read: AuditEvent = decode::<AuditRecord, _>(&v1).unwrap();
        assert_eq!(read, event);
        let AuditRecord::V2(v2) = AuditRecord::from(&read) else {
            panic!("not the current version")
        };
        assert_eq!(codec::encode_as(1, &v2.event).unwrap(), v1);
    }

    #[test]
    fn the_current_version_round_trips_with_its_project() {
        for project in [None, Some("payments")] {
            let event = samples::audit_event(project);
            let bytes = encode::<AuditRecord>(&event).unwrap();
            assert_eq!(bytes[0], 2);
            let read: AuditEvent = decode::<AuditRecord, _>(&bytes).unwrap();
            assert_eq!(read, event);
        }
        let v1 = codec::encode_as(1, &samples::audit_event(None)).unwrap();
        let (_, body) = codec::split(&v1).unwrap();
        let folded = AuditRecord::read(1, body).unwrap().in_project("payments");
        let read = AuditEvent::try_from(folded).unwrap();
        assert_eq!(read, samples::audit_event(Some("payments")));
    }
}
