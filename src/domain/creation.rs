//! What the audit event of a creation records, for every kind of object, in one place:
//! the fields the creation set, never a secret.

use std::collections::BTreeMap;

use super::{Change, Credential, CredentialKind, Group, Project, Role, ServiceAccount};

/// An object whose creation is audited.
pub trait Created {
    /// The fields its creation set.
    fn creation_changes(&self) -> Vec<Change>;
}

impl Created for ServiceAccount {
    fn creation_changes(&self) -> Vec<Change> {
        let mut changes = vec![
            Change::set("display_name", &self.display_name),
            Change::set("status", &self.status),
        ];
        if !self.description.is_empty() {
            changes.push(Change::set("description", &self.description));
        }
        if !self.metadata.is_empty() {
            changes.push(Change::set("metadata", &self.metadata));
        }
        if !self.roles.is_empty() {
            changes.push(Change::set("roles", &self.roles));
        }
        if let Some(at) = self.expires_at {
            changes.push(Change::set("expires_at", &at));
        }
        if let Some(id) = &self.external_id {
            changes.push(Change::set("external_id", id));
        }
        changes
    }
}

impl Created for Credential {
    /// Its type, name, prefix or fingerprint, and expiry.
    fn creation_changes(&self) -> Vec<Change> {
        let (kind, shown) = match &self.kind {
            CredentialKind::Secret { prefix, .. } => ("secret", ("prefix", prefix.clone())),
            CredentialKind::PublicKey { fingerprint, .. } => {
                ("public_key", ("fingerprint", fingerprint.clone()))
            }
        };
        vec![
            Change::set("type", &kind),
            Change::set("name", &self.name),
            Change::set(shown.0, &shown.1),
            Change::set("expires_at", &self.expires_at),
        ]
    }
}

/// What a creation of a named object with a display name, description and metadata set:
/// the display name always, the others when not empty.
fn described(
    display_name: &str,
    description: &str,
    metadata: &BTreeMap<String, String>,
) -> Vec<Change> {
    let mut changes = vec![Change::set("display_name", &display_name)];
    if !description.is_empty() {
        changes.push(Change::set("description", &description));
    }
    if !metadata.is_empty() {
        changes.push(Change::set("metadata", metadata));
    }
    changes
}

impl Created for Project {
    fn creation_changes(&self) -> Vec<Change> {
        let mut changes = described(&self.display_name, &self.description, &self.metadata);
        if self.credential_policy != Default::default() {
            changes.push(Change::set("credential_policy", &self.credential_policy));
        }
        changes
    }
}

impl Created for Group {
    fn creation_changes(&self) -> Vec<Change> {
        let mut changes = described(&self.display_name, &self.description, &self.metadata);
        if !self.roles.is_empty() {
            changes.push(Change::set("roles", &self.roles));
        }
        changes
    }
}

impl Created for Role {
    fn creation_changes(&self) -> Vec<Change> {
        vec![
            Change::set("description", &self.description),
            Change::set("permissions", &self.permissions),
        ]
    }
}
