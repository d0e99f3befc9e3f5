//! Who is calling: the `kh_` secret format, the bearer extractor and permission checks.

pub mod assertion;
pub mod attempts;
mod authorization;
mod caller;
pub mod client;
pub mod jwt;
pub mod last_use;
mod permissions;
pub use permissions::lacking;
pub mod public_key;
pub mod secret;

pub use caller::{
    AuthenticatedBy, Caller, PROJECT_ROUTES, authenticate, offers_bearer, request_scope,
};
