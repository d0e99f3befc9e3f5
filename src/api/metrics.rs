//! `/metrics`: Prometheus text, without a token.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::Error;
use crate::metrics::Metrics;

/// Prometheus metrics in the text exposition format.
#[utoipa::path(tag = "probes", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn get_metrics(metrics: web::Data<Metrics>) -> Result<HttpResponse, Error> {
    let text = metrics
        .render()
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_metrics);
}
