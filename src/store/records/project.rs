//! The stored project; its objects are keyed by its name in the name indexes. Version 1
//! is the layout of every file so far.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common;
use super::{Record, version};
use crate::domain::{CredentialPolicy, Project, Timestamp};
use crate::error::Error;
use crate::store::codec;

/// A project's credential policy as stored by schema 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct PolicyV1 {
    max_active: Option<u32>,
    default_lifetime_days: Option<u32>,
    max_lifetime_days: Option<u32>,
}

/// The project as stored by schema 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct ProjectV1 {
    id: Uuid,
    name: String,
    display_name: String,
    description: String,
    metadata: BTreeMap<String, String>,
    credential_policy: PolicyV1,
    #[serde(with = "chrono::serde::ts_seconds")]
    created_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds")]
    updated_at: Timestamp,
}

/// Every version of a stored project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum ProjectRecord {
    V1(ProjectV1),
}

impl Record for ProjectRecord {
    const KIND: &'static str = "project";

    fn read(format: u8, body: &[u8]) -> Result<Self, String> {
        match format {
            1 => version(body, ProjectRecord::V1),
            other => Err(codec::unknown_format(other)),
        }
    }

    fn write(&self) -> Result<Vec<u8>, Error> {
        match self {
            ProjectRecord::V1(v1) => codec::encode_as(1, v1),
        }
    }
}

impl TryFrom<ProjectRecord> for Project {
    type Error = String;

    fn try_from(record: ProjectRecord) -> Result<Self, String> {
        let ProjectRecord::V1(v1) = record;
        let policy = v1.credential_policy;
        Ok(Project {
            id: v1.id,
            name: common::name(v1.name)?,
            display_name: v1.display_name,
            description: v1.description,
            metadata: v1.metadata,
            credential_policy: CredentialPolicy {
                max_active: policy.max_active,
                default_lifetime_days: policy.default_lifetime_days,
                max_lifetime_days: policy.max_lifetime_days,
            },
            created_at: v1.created_at,
            updated_at: v1.updated_at,
        })
    }
}

impl From<&Project> for ProjectRecord {
    fn from(project: &Project) -> Self {
        let policy = project.credential_policy;
        ProjectRecord::V1(ProjectV1 {
            id: project.id,
            name: project.name.as_str().to_owned(),
            display_name: project.display_name.clone(),
            description: project.description.clone(),
            metadata: project.metadata.clone(),
            credential_policy: PolicyV1 {
                max_active: policy.max_active,
                default_lifetime_days: policy.default_lifetime_days,
                max_lifetime_days: policy.max_lifetime_days,
            },
            created_at: project.created_at,
            updated_at: project.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::{decode, encode, samples};

    /// The bytes of schema 1: the domain struct of that time, bincoded behind byte 1.
    #[test]
    fn version_1_bytes_decode_and_the_current_version_writes_them() {
        let project = samples::project();
        let v1 = codec::encode_as(codec::FORMAT_V1, &project).unwrap();
        let read: Project = decode::<ProjectRecord, _>(&v1).unwrap();
        assert_eq!(read, project);
        assert_eq!(encode::<ProjectRecord>(&read).unwrap(), v1);
    }
}
