//! The permissions each kind of object needs. `Kind` itself lives beside `Error`, which
//! names it in messages; which permission guards it is a rule, so it is kept here.

use super::permissions;
use crate::error::Kind;

impl Kind {
    /// The permission that lets a caller see objects of this kind at all.
    pub fn read_permission(self) -> &'static str {
        match self {
            Kind::ServiceAccount => permissions::SERVICE_ACCOUNTS_READ,
            Kind::Group => permissions::GROUPS_READ,
            Kind::Role => permissions::ROLES_READ,
            Kind::Credential => permissions::CREDENTIALS_READ,
            Kind::SigningKey => permissions::ADMIN,
            Kind::Project => permissions::PROJECTS_READ,
        }
    }

    /// The permission that lets a caller change objects of this kind.
    pub fn write_permission(self) -> &'static str {
        match self {
            Kind::ServiceAccount => permissions::SERVICE_ACCOUNTS_WRITE,
            Kind::Group => permissions::GROUPS_WRITE,
            Kind::Role => permissions::ROLES_WRITE,
            Kind::Credential => permissions::CREDENTIALS_WRITE,
            Kind::SigningKey => permissions::ADMIN,
            Kind::Project => permissions::PROJECTS_WRITE,
        }
    }
}
