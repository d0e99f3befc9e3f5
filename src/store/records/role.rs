//! The stored role, built-in roles included. Version 1 is the layout of every file so
//! far.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common;
use super::{Record, version};
use crate::domain::{Role, Timestamp};
use crate::error::Error;
use crate::store::codec;

/// The role as stored by schema 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct RoleV1 {
    id: Uuid,
    name: String,
    description: String,
    permissions: BTreeSet<String>,
    is_builtin: bool,
    #[serde(with = "chrono::serde::ts_seconds")]
    created_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds")]
    updated_at: Timestamp,
}

/// Every version of a stored role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum RoleRecord {
    V1(RoleV1),
}

impl Record for RoleRecord {
    const KIND: &'static str = "role";

    fn read(format: u8, body: &[u8]) -> Result<Self, String> {
        match format {
            1 => version(body, RoleRecord::V1),
            other => Err(codec::unknown_format(other)),
        }
    }

    fn write(&self) -> Result<Vec<u8>, Error> {
        match self {
            RoleRecord::V1(v1) => codec::encode_as(1, v1),
        }
    }
}

impl TryFrom<RoleRecord> for Role {
    type Error = String;

    fn try_from(record: RoleRecord) -> Result<Self, String> {
        let RoleRecord::V1(v1) = record;
        Ok(Role {
            id: v1.id,
            name: common::name(v1.name)?,
            description: v1.description,
            permissions: v1.permissions,
            is_builtin: v1.is_builtin,
            created_at: v1.created_at,
            updated_at: v1.updated_at,
        })
    }
}

impl From<&Role> for RoleRecord {
    fn from(role: &Role) -> Self {
        RoleRecord::V1(RoleV1 {
            id: role.id,
            name: role.name.as_str().to_owned(),
            description: role.description.clone(),
            permissions: role.permissions.clone(),
            is_builtin: role.is_builtin,
            created_at: role.created_at,
            updated_at: role.updated_at,
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
        let role = samples::role();
        let v1 = codec::encode_as(codec::FORMAT_V1, &role).unwrap();
        let read: Role = decode::<RoleRecord, _>(&v1).unwrap();
        assert_eq!(read, role);
        assert_eq!(encode::<RoleRecord>(&read).unwrap(), v1);
    }
}
