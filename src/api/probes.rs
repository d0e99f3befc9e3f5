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
    /// `/readyz` only: what an operator should act on, e.g. a database or key file
    /// readable by other users, damage a request met in the database file, or a failed
    /// integrity check. Absent when there is nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["the database file /var/lib/keyhouse/keyhouse.redb is readable by other users (mode 0644); run chmod 600 on it"]))]
    pub warnings: Vec<String>,
}

/// 200 while the process serves.
#[utoipa::path(tag = "probes", responses((status = 200, body = ProbeView)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(ProbeView {
        status: "ok",
        warnings: Vec::new(),
    })
}

/// 200 when the database answers a read, with `warnings` about its file if any; 503 when
/// it does not answer, a request met damage in it that no integrity check has answered
/// yet (the check then runs in the background), or its last integrity check failed.
#[utoipa::path(tag = "probes", responses((status = 200, body = ProbeView), (status = 503, body = ProbeView)))]
#[get("/readyz")]
pub async fn readyz(store: web::Data<Store>) -> HttpResponse {
    // Readiness first: its read may meet damage, which the warnings then list.
    let (ready, warnings) = store.readiness().await;
    if ready {
        HttpResponse::Ok().json(ProbeView {
            status: "ready",
            warnings,
        })
    } else {
        HttpResponse::ServiceUnavailable().json(ProbeView {
            status: "unavailable",
            warnings,
        })
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz);
}
