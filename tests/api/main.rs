//! The integration tests of the HTTP API, in one binary: each starts the real app on
//! 127.0.0.1 (`common::TestServer`) and speaks HTTP to it. One module per resource or
//! concern; one binary links the crate, reqwest and rustls once instead of once per
//! file. `tests/cli.rs` stays apart: it runs the built `keyhouse` binary as a process.

mod cluster;
mod common;

mod audit;
mod console;
mod credentials;
mod discovery;
mod errors;
mod escalation;
mod group_commit;
mod groups;
mod http_layer;
mod json_bodies;
mod locations;
mod oauth2;
mod openapi;
mod operations;
mod postgres;
mod project_isolation;
mod project_routes;
mod project_scopes;
mod projects;
mod roles;
mod seed_wire_format;
mod service_accounts;
mod storage;
mod upgrade;
