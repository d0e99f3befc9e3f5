//! Projects: scopes of their own for a team's service accounts, groups and roles, each
//! with a credential policy that may only tighten the server's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Change, CredentialLimits, Name, Timestamp};
use crate::error::Error;

/// The credential limits a project may set; `None` takes the server's setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialPolicy {
    pub max_active: Option<u32>,
    pub default_lifetime_days: Option<u32>,
    pub max_lifetime_days: Option<u32>,
}

impl CredentialPolicy {
    /// Checks each limit against the server's: never looser (400 naming the field), and
    /// a default lifetime within the maximum in force. A server setting of 0 (no
    /// maximum, or never expiring) bounds nothing; a policy sets limits of 1 or more.
    pub fn check(self, server: &CredentialLimits) -> Result<CredentialPolicy, Error> {
        let field = |name: &str| format!("credential_policy.{name}");
        let within = |name: &str, value: Option<u32>, most: u32| match value {
            Some(0) => Err(Error::invalid(field(name), "must be at least 1")),
            Some(v) if most != 0 && v > most => Err(Error::invalid(
                field(name),
                format!("must be at most the server's setting, {most}"),
            )),
            _ => Ok(()),
        };
        within("max_active", self.max_active, server.max_active)?;
        within(
            "max_lifetime_days",
            self.max_lifetime_days,
            server.max_lifetime_days,
        )?;
        let max_lifetime = self.max_lifetime_days.unwrap_or(server.max_lifetime_days);
        within(
            "default_lifetime_days",
            self.default_lifetime_days,
            max_lifetime,
        )?;
        let inherited = server.default_lifetime_days;
        if self.default_lifetime_days.is_none()
            && max_lifetime != 0
            && (inherited == 0 || inherited > max_lifetime)
        {
            return Err(Error::invalid(
                field("default_lifetime_days"),
                "must be set: the server's default lies beyond this max_lifetime_days",
            ));
        }
        Ok(self)
    }
}

/// A project, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: Uuid,
    pub name: Name,
    pub display_name: String,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub credential_policy: CredentialPolicy,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub updated_at: Timestamp,
}

/// A new project, its fields checked.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub name: Name,
    pub display_name: Option<String>,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub credential_policy: CredentialPolicy,
}

impl NewProject {
    pub fn into_project(self, id: Uuid, now: Timestamp) -> Project {
        Project {
            id,
            display_name: self.display_name.unwrap_or_else(|| self.name.to_string()),
            name: self.name,
            description: self.description,
            metadata: self.metadata,
            credential_policy: self.credential_policy,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A project `PATCH`: each `Some` replaces the field.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub credential_policy: Option<CredentialPolicy>,
}

impl ProjectPatch {
    pub fn apply(self, project: &mut Project, now: Timestamp) -> Vec<Change> {
        let mut changes = Vec::new();
        super::account::replace(
            &mut changes,
            "display_name",
            &mut project.display_name,
            self.display_name,
        );
        super::account::replace(
            &mut changes,
            "description",
            &mut project.description,
            self.description,
        );
        super::account::replace(
            &mut changes,
            "metadata",
            &mut project.metadata,
            self.metadata,
        );
        super::account::replace(
            &mut changes,
            "credential_policy",
            &mut project.credential_policy,
            self.credential_policy,
        );
        if !changes.is_empty() {
            project.updated_at = now;
        }
        changes
    }
}

/// How many objects a project holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectCounts {
    pub service_accounts: u64,
    pub groups: u64,
    pub roles: u64,
}

impl ProjectCounts {
    pub fn is_empty(&self) -> bool {
        self.service_accounts + self.groups + self.roles == 0
    }
}

/// A project with what a read shows beside the record.
#[derive(Debug, Clone)]
pub struct ProjectDetails {
    pub project: Project,
    pub counts: ProjectCounts,
    pub etag: super::Etag,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: CredentialLimits = CredentialLimits {
        max_active: 5,
        default_lifetime_days: 365,
        max_lifetime_days: 730,
    };

    fn policy(max_active: Option<u32>, default: Option<u32>, max: Option<u32>) -> CredentialPolicy {
        CredentialPolicy {
            max_active,
            default_lifetime_days: default,
            max_lifetime_days: max,
        }
    }

    #[test]
    fn a_policy_may_tighten_the_server_but_never_loosen_it() {
        assert!(policy(None, None, None).check(&SERVER).is_ok());
        assert!(policy(Some(2), Some(30), Some(90)).check(&SERVER).is_ok());
        for (bad, field) in [
            (policy(Some(6), None, None), "max_active"),
            (policy(Some(0), None, None), "max_active"),
            (policy(None, None, Some(731)), "max_lifetime_days"),
            (policy(None, Some(100), Some(90)), "default_lifetime_days"),
            (policy(None, Some(731), None), "default_lifetime_days"),
        ] {
            let err = bad.check(&SERVER).unwrap_err();
            assert!(err.to_string().contains(field), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_lower_maximum_needs_a_default_within_it() {
        let err = policy(None, None, Some(90)).check(&SERVER).unwrap_err();
        assert!(err.to_string().contains("default_lifetime_days"), "{err}");
    }
}
