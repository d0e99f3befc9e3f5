//! Use cases: the `impl Store` methods, each in one transaction, which may span several
//! records. They call `principals` for the checks on their caller and the row modules
//! for records; never each other, except through `details` (what a read of an account
//! shows), `filtered` (a filtered page of accounts) and `accounts::create` (also run at
//! bootstrap). See docs/architecture.md.

mod access;
pub(super) mod accounts;
mod audit;
mod auth;
mod credentials;
mod details;
mod filtered;
mod groups;
mod memberships;
mod projects;
mod roles;
