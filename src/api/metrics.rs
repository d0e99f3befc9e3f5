//! `/metrics`: the OpenMetrics text format (which prometheus-client writes, `# EOF` and
//! all), sent as such, without a token.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::Error;
use crate::metrics::Metrics;

/// Metrics in the OpenMetrics text format, which Prometheus scrapes.
#[utoipa::path(tag = "probes", responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text")))]
#[get("/metrics")]
pub async fn get_metrics(metrics: web::Data<Metrics>) -> Result<HttpResponse, Error> {
    let text = metrics
        .render()
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}

/// What `encode` writes: OpenMetrics 1.0 (it ends with `# EOF`, which the Prometheus
/// text format 0.0.4 does not have).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_metrics);
}
