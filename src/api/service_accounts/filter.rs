//! The filters of the service account list, as query parameters.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::views::StatusView;
use crate::domain::{AccountFilter, Name, Status};
use crate::error::Error;

/// Filters of the service account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilterParams {
    /// A case-insensitive part of the name or display name.
    pub query: Option<String>,
    /// `active` or `disabled`.
    #[param(value_type = Option<StatusView>)]
    pub status: Option<String>,
    /// Only accounts bound to this role directly.
    pub role: Option<String>,
    /// Only members of this group.
    pub group: Option<String>,
}

impl AccountFilterParams {
    pub(super) fn parse(self) -> Result<AccountFilter, Error> {
        Ok(AccountFilter::new(
            self.query,
            self.status
                .map(|s| Status::parse("status", &s))
                .transpose()?,
            self.role.map(|r| Name::parse("role", &r)).transpose()?,
            self.group.map(|g| Name::parse("group", &g)).transpose()?,
        ))
    }
}
