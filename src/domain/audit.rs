//! Audit events: one per successful change, written in the change's transaction.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ActorRef, Kind, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub kind: String,
    pub id: Uuid,
    pub name: String,
}

impl Target {
    pub fn new(kind: Kind, id: Uuid, name: impl Into<String>) -> Target {
        Target {
            kind: kind.as_str().to_owned(),
            id,
            name: name.into(),
        }
    }
}

/// One changed field, its values as JSON text (so the stored format needs no
/// self-describing encoding). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Change {
    /// The change of `field` from `from` to `to`, or none if they are equal.
    pub fn of<T: Serialize + PartialEq>(field: &str, from: &T, to: &T) -> Option<Change> {
        (from != to).then(|| Change {
            field: field.to_owned(),
            from: serde_json::to_string(from).ok(),
            to: serde_json::to_string(to).ok(),
        })
    }

    /// A field set at creation.
    pub fn set<T: Serialize>(field: &str, to: &T) -> Change {
        Change {
            field: field.to_owned(),
            from: None,
            to: serde_json::to_string(to).ok(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub at: Timestamp,
    pub actor: ActorRef,
    pub action: String,
    pub target: Target,
    pub request_id: String,
    pub changes: Vec<Change>,
}
