//! keyhouse: service accounts, groups, roles and hashed credentials in one embedded redb
//! file, behind an HTTP API. See `docs/architecture.md` for the layers.

pub mod access_log;
pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod domain;
pub mod error;
#[cfg(test)]
mod fault_tests;
pub mod http_limits;
pub mod logging;
mod malloc_arenas;
pub mod metrics;
pub mod request_id;
pub mod server;
pub mod store;
pub mod systemd;
pub mod tooling;
