//! Parts that several records hold, in their first layouts: who acted, what changed, an
//! account's status, and names (stored as plain strings, checked when read).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{ActorRef, Change, Name, Status};

/// `ActorRef` as stored since the first release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ActorV1 {
    pub id: Option<Uuid>,
    pub name: String,
}

impl From<ActorV1> for ActorRef {
    fn from(actor: ActorV1) -> Self {
        ActorRef {
            id: actor.id,
            name: actor.name,
        }
    }
}

impl From<&ActorRef> for ActorV1 {
    fn from(actor: &ActorRef) -> Self {
        ActorV1 {
            id: actor.id,
            name: actor.name.clone(),
        }
    }
}

/// `Change` as stored since the first release: values as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ChangeV1 {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl From<ChangeV1> for Change {
    fn from(change: ChangeV1) -> Self {
        Change {
            field: change.field,
            from: change.from,
            to: change.to,
        }
    }
}

impl From<&Change> for ChangeV1 {
    fn from(change: &Change) -> Self {
        ChangeV1 {
            field: change.field.clone(),
            from: change.from.clone(),
            to: change.to.clone(),
        }
    }
}

/// An account's status; bincode stores the variant's position, so the order is the
/// layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum StatusV1 {
    Active,
    Disabled,
}

impl From<StatusV1> for Status {
    fn from(status: StatusV1) -> Self {
        match status {
            StatusV1::Active => Status::Active,
            StatusV1::Disabled => Status::Disabled,
        }
    }
}

impl From<Status> for StatusV1 {
    fn from(status: Status) -> Self {
        match status {
            Status::Active => StatusV1::Active,
            Status::Disabled => StatusV1::Disabled,
        }
    }
}

/// A stored name, checked against the naming rule: one that breaks it is damage.
pub(super) fn name(value: String) -> Result<Name, String> {
    Name::parse("name", &value)
        .map_err(|_| format!("holds the name '{value}', which breaks the naming rule"))
}

/// Stored names, each checked as [`name`].
pub(super) fn names(values: BTreeSet<String>) -> Result<BTreeSet<Name>, String> {
    values.into_iter().map(name).collect()
}

/// Names as stored.
pub(super) fn texts(names: &BTreeSet<Name>) -> BTreeSet<String> {
    names.iter().map(|name| name.as_str().to_owned()).collect()
}
