//! The stored group; its members are indexed apart. Version 1 is the layout of every
//! file so far.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common;
use super::{Record, version};
use crate::domain::{Group, Timestamp};
use crate::error::Error;
use crate::store::codec;

/// The group as stored by schema 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct GroupV1 {
    id: Uuid,
    name: String,
    display_name: String,
    description: String,
    metadata: BTreeMap<String, String>,
    roles: BTreeSet<String>,
    member_count: u64,
    #[serde(with = "chrono::serde::ts_seconds")]
    created_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds")]
    updated_at: Timestamp,
}

/// Every version of a stored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum GroupRecord {
    V1(GroupV1),
}

impl Record for GroupRecord {
    const KIND: &'static str = "group";

    fn read(format: u8, body: &[u8]) -> Result<Self, String> {
        match format {
            1 => version(body, GroupRecord::V1),
            other => Err(codec::unknown_format(other)),
        }
    }

    fn write(&self) -> Result<Vec<u8>, Error> {
        match self {
            GroupRecord::V1(v1) => codec::encode_as(1, v1),
        }
    }
}

impl TryFrom<GroupRecord> for Group {
    type Error = String;

    fn try_from(record: GroupRecord) -> Result<Self, String> {
        let GroupRecord::V1(v1) = record;
        Ok(Group {
            id: v1.id,
            name: common::name(v1.name)?,
            display_name: v1.display_name,
            description: v1.description,
            metadata: v1.metadata,
            roles: common::names(v1.roles)?,
            member_count: v1.member_count,
            created_at: v1.created_at,
            updated_at: v1.updated_at,
        })
    }
}

impl From<&Group> for GroupRecord {
    fn from(group: &Group) -> Self {
        GroupRecord::V1(GroupV1 {
            id: group.id,
            name: group.name.as_str().to_owned(),
            display_name: group.display_name.clone(),
            description: group.description.clone(),
            metadata: group.metadata.clone(),
            roles: common::texts(&group.roles),
            member_count: group.member_count,
            created_at: group.created_at,
            updated_at: group.updated_at,
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
        let group = samples::group();
        let v1 = codec::encode_as(codec::FORMAT_V1, &group).unwrap();
        let read: Group = decode::<GroupRecord, _>(&v1).unwrap();
        assert_eq!(read, group);
        assert_eq!(encode::<GroupRecord>(&read).unwrap(), v1);
    }
}
