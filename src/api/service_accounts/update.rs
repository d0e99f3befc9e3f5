//! The body of a service account's `PATCH`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::api::views::StatusView;
use crate::domain::{self, AccountPatch, Name, Status};
use crate::error::Error;

/// Reads a present JSON field, `null` included, as `Some`, so that `PATCH` can tell
/// "clear it" (`null`) from "leave it" (absent).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Absent fields are left alone; `null` clears `expires_at` or `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "CI bot (prod)", "status": "disabled"}))]
pub struct UpdateServiceAccount {
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<String>,
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// The whole new list of directly bound roles; added ones need scope-down.
    pub roles: Option<Vec<String>>,
    #[schema(value_type = Option<StatusView>)]
    pub status: Option<Status>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

impl UpdateServiceAccount {
    pub(super) fn parse(self, now: DateTime<Utc>) -> Result<AccountPatch, Error> {
        let expires_at = match self.expires_at {
            Some(Some(at)) => Some(domain::account_expiry(Some(at), None, now)?),
            other => other,
        };
        Ok(AccountPatch {
            display_name: self.display_name.map(domain::display_name).transpose()?,
            description: self.description.map(domain::description).transpose()?,
            metadata: self.metadata.map(domain::metadata).transpose()?,
            roles: self
                .roles
                .map(|r| Name::parse_set("roles", &r))
                .transpose()?,
            status: self.status,
            expires_at,
            external_id: self
                .external_id
                .map(|id| id.map(domain::external_id).transpose())
                .transpose()?,
        })
    }
}
