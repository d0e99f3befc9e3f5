//! Who is calling: the `kh_` secret format, the bearer extractor and permission checks.

mod caller;
mod permissions;
pub mod secret;

pub use caller::{AuthenticatedBy, Caller};
