//! Liveness and readiness. They need no token.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::store::Store;

#[derive(Serialize, ToSchema)]
pub struct ProbeView {
    /// `ok`, `ready` or `unavailable`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// 200 while the process serves.
#[utoipa::path(tag = "probes", responses((status = 200, body = ProbeView)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(ProbeView { status: "ok" })
}

/// 200 when the database answers a read, 503 otherwise.
#[utoipa::path(tag = "probes", responses((status = 200, body = ProbeView), (status = 503, body = ProbeView)))]
#[get("/readyz")]
pub async fn readyz(store: web::Data<Store>) -> HttpResponse {
    if store.is_ready() {
        HttpResponse::Ok().json(ProbeView { status: "ready" })
    } else {
        HttpResponse::ServiceUnavailable().json(ProbeView {
            status: "unavailable",
        })
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz);
}
