//! The HTTP API: thin actix handlers, one file per resource, each with its utoipa
//! annotations. [`routes`] is the one list of routes: actix serves it and the OpenAPI
//! document is collected from it, so the two cannot drift.

mod admin;
mod audit;
mod console;
mod credentials;
mod doc_links;
mod docs;
mod error_response;
mod fallback;
mod form;
mod groups;
mod json_object;
mod me;
mod memberships;
mod metrics;
mod oauth2;
mod params;
mod probes;
mod projects;
mod respond;
mod roles;
mod service_accounts;
mod signing_keys;
mod views;
mod well_known;
mod wire_time;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub use docs::{OpenApiJson, openapi, swagger_ui};
pub use fallback::{RouteTable, unmatched};

/// Every route of keyhouse.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(scope::scope("/api/v1").configure(|v1| {
        // Static paths first: actix tries routes in order, and each dynamic one it
        // passes costs a regex match.
        me::configure(v1);
        service_accounts::configure(v1);
        memberships::configure(v1);
        credentials::configure(v1);
        groups::configure(v1);
        roles::configure(v1);
        audit::configure(v1);
        signing_keys::configure(v1);
        admin::configure(v1);
        projects::configure(v1);
        // The same handlers again, acting in the project the path names (their `Scope`
        // and `Caller` read it); `docs` gives these operations ids of their own.
        v1.service(scope::scope("/projects/{project}").configure(|project| {
            service_accounts::configure(project);
            memberships::configure(project);
            credentials::configure(project);
            groups::configure(project);
            roles::configure(project);
            audit::configure(project);
        }));
    }));
    probes::configure(cfg);
    metrics::configure(cfg);
    oauth2::configure(cfg);
    well_known::configure(cfg);
    docs::configure(cfg);
    // Not part of the OpenAPI document: the console is a client of the API.
    cfg.map(|app| app.configure(console::configure));
}
