//! Row access: one module per kind of record, each with its get, put and index
//! entries. A row module knows the tables and the codec, and (for memberships) the
//! group rows; it never checks a caller and never spans a use case. See
//! docs/architecture.md for who may call whom.

pub(super) mod accounts;
pub(super) mod audit;
pub(super) mod condition_sets;
pub(super) mod counts;
pub(super) mod credentials;
pub(super) mod groups;
pub(super) mod memberships;
pub(super) mod postings;
pub(super) mod projects;
pub(super) mod roles;
pub(super) mod text_sets;
