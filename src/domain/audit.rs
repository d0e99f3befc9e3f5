//! Audit events: one per successful change, written in the change's transaction.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ActorRef, Credential, Group, Kind, Project, Role, ServiceAccount, Timestamp};

/// Every change keyhouse audits. Stored and shown as its text (`as_str`), so that the
/// audit trail reads as it always has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ServiceAccountCreate,
    ServiceAccountUpdate,
    ServiceAccountDelete,
    ServiceAccountGroupsUpdate,
    ServiceAccountRotateSecret,
    ServiceAccountRenewToken,
    ServiceAccountRecover,
    CredentialCreate,
    CredentialRevoke,
    GroupCreate,
    GroupUpdate,
    GroupDelete,
    GroupMembersUpdate,
    RoleCreate,
    RoleUpdate,
    RoleDelete,
    SigningKeyRotate,
    AccessTokenRevoke,
    ProjectCreate,
    ProjectUpdate,
    ProjectDelete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ServiceAccountCreate => "service_account.create",
            Action::ServiceAccountUpdate => "service_account.update",
            Action::ServiceAccountDelete => "service_account.delete",
            Action::ServiceAccountGroupsUpdate => "service_account.groups.update",
            Action::ServiceAccountRotateSecret => "service_account.rotate_secret",
            Action::ServiceAccountRenewToken => "service_account.renew_token",
            Action::ServiceAccountRecover => "service_account.recover",
            Action::CredentialCreate => "credential.create",
            Action::CredentialRevoke => "credential.revoke",
            Action::GroupCreate => "group.create",
            Action::GroupUpdate => "group.update",
            Action::GroupDelete => "group.delete",
            Action::GroupMembersUpdate => "group.members.update",
            Action::RoleCreate => "role.create",
            Action::RoleUpdate => "role.update",
            Action::RoleDelete => "role.delete",
            Action::SigningKeyRotate => "signing_key.rotate",
            Action::AccessTokenRevoke => "access_token.revoke",
            Action::ProjectCreate => "project.create",
            Action::ProjectUpdate => "project.update",
            Action::ProjectDelete => "project.delete",
        }
    }
}

/// What an event acted on. Its kind is stored as its text (`Kind::as_str`), as when it
/// was a string, so events written before still decode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    #[serde(with = "kind_text")]
    pub kind: Kind,
    pub id: Uuid,
    pub name: String,
}

/// `Kind` as the text audit targets have always stored.
mod kind_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use super::Kind;

    pub fn serialize<S: Serializer>(kind: &Kind, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(kind.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Kind, D::Error> {
        let text = String::deserialize(deserializer)?;
        Kind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| D::Error::custom(format!("unknown target kind '{text}'")))
    }
}

impl Target {
    pub fn new(kind: Kind, id: Uuid, name: impl Into<String>) -> Target {
        Target {
            kind,
            id,
            name: name.into(),
        }
    }

    pub fn of_account(account: &ServiceAccount) -> Target {
        Target::new(Kind::ServiceAccount, account.id, account.name.as_str())
    }

    pub fn of_group(group: &Group) -> Target {
        Target::new(Kind::Group, group.id, group.name.as_str())
    }

    pub fn of_project(project: &Project) -> Target {
        Target::new(Kind::Project, project.id, project.name.as_str())
    }

    pub fn of_role(role: &Role) -> Target {
        Target::new(Kind::Role, role.id, role.name.as_str())
    }

    pub fn of_credential(credential: &Credential) -> Target {
        Target::new(Kind::Credential, credential.id, credential.name.clone())
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
    /// An `Action`'s text; kept as text so that every event ever written decodes.
    pub action: String,
    pub target: Target,
    pub request_id: String,
    pub changes: Vec<Change>,
    /// The project the change was made in; `None` at the root. Kept in a table of its
    /// own rather than in the stored event, so that events written before projects
    /// decode as they are: never encoded, set when read.
    #[serde(skip)]
    pub project: Option<String>,
}

/// The filters of `GET /api/v1/audit-events`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The actor's name or id.
    pub actor: Option<String>,
    /// The target's name or id.
    pub target: Option<String>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// The project the change was made in.
    pub project: Option<String>,
}

impl AuditFilter {
    pub fn is_empty(&self) -> bool {
        self.project.is_none()
            && self.actor.is_none()
            && self.target.is_none()
            && self.action.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// `since` is inclusive, `until` exclusive.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        let is = |wanted: &Option<String>, name: &str, id: Option<Uuid>| {
            wanted
                .as_deref()
                .is_none_or(|w| w == name || id.is_some_and(|id| id.to_string() == w))
        };
        is(&self.actor, &event.actor.name, event.actor.id)
            && is(&self.target, &event.target.name, Some(event.target.id))
            && self.action.as_deref().is_none_or(|a| a == event.action)
            && self.since.is_none_or(|t| event.at >= t)
            && self.until.is_none_or(|t| event.at < t)
            && self
                .project
                .as_ref()
                .is_none_or(|p| event.project.as_ref() == Some(p))
    }
}

/// The key of an event in a list, ordered as its sequence number.
pub fn audit_key(seq: u64) -> String {
    format!("{seq:020}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, actor: &str, action: &str) -> AuditEvent {
        AuditEvent {
            seq,
            at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(seq as i64),
            actor: ActorRef::system(actor),
            action: action.into(),
            target: Target::new(Kind::Group, Uuid::nil(), "g"),
            request_id: String::new(),
            changes: Vec::new(),
            project: Some("payments".into()),
        }
    }

    #[test]
    fn filters_combine() {
        let e = event(10, "admin", "group.create");
        assert!(AuditFilter::default().matches(&e));
        let by_actor = AuditFilter {
            actor: Some("admin".into()),
            ..AuditFilter::default()
        };
        assert!(by_actor.matches(&e));
        let by_target_id = AuditFilter {
            target: Some(Uuid::nil().to_string()),
            ..AuditFilter::default()
        };
        assert!(by_target_id.matches(&e));
        let wrong = AuditFilter {
            action: Some("group.delete".into()),
            ..AuditFilter::default()
        };
        assert!(!wrong.matches(&e));
        let window = AuditFilter {
            since: Some(e.at),
            until: Some(e.at),
            ..AuditFilter::default()
        };
        assert!(!window.matches(&e), "until is exclusive");
        let project = |name: &str| AuditFilter {
            project: Some(name.into()),
            ..AuditFilter::default()
        };
        assert!(project("payments").matches(&e));
        assert!(!project("billing").matches(&e));
        let at_root = AuditEvent { project: None, ..e };
        assert!(!project("payments").matches(&at_root));
    }

    #[test]
    fn a_target_kind_reads_and_writes_as_its_text() {
        let target = Target::new(Kind::ServiceAccount, Uuid::nil(), "ci");
        let json = serde_json::to_value(&target).unwrap();
        assert_eq!(json["kind"], "service_account");
        let back: Target = serde_json::from_value(json).unwrap();
        assert_eq!(back, target);
        let unknown = serde_json::json!({"kind": "planet", "id": Uuid::nil(), "name": "p"});
        assert!(serde_json::from_value::<Target>(unknown).is_err());
    }

    #[test]
    fn actions_keep_their_text() {
        assert_eq!(
            Action::ServiceAccountCreate.as_str(),
            "service_account.create"
        );
        assert_eq!(
            Action::ServiceAccountGroupsUpdate.as_str(),
            "service_account.groups.update"
        );
        assert_eq!(Action::AccessTokenRevoke.as_str(), "access_token.revoke");
    }

    #[test]
    fn keys_sort_as_numbers() {
        assert!(audit_key(9) < audit_key(10));
    }
}
