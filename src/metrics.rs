//! Prometheus metrics at `/metrics`, encoded by prometheus-client, and the middleware
//! that counts and times every request by its route pattern (never a raw path) and its
//! method (one of a fixed set). Every label takes a bounded set of values, so no client
//! can make the families grow.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::auth::attempts::AttemptLabels;
use crate::store::Store;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

pub struct Metrics {
    registry: Registry,
    store: Store,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    auth_attempts: Family<AttemptLabels, Counter>,
    objects: Family<KindLabels, Gauge>,
    db_size: Gauge,
}

impl Metrics {
    pub fn new(store: &Store) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "keyhouse_http_requests",
            "HTTP requests by route pattern, method and status",
            requests.clone(),
        );
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 14))
        });
        registry.register(
            "keyhouse_http_request_duration_seconds",
            "Time to answer, by route pattern",
            durations.clone(),
        );
        let auth_attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "keyhouse_auth_attempts",
            "Authentications by credential kind and outcome",
            auth_attempts.clone(),
        );
        registry.register(
            "keyhouse_store_write_transactions",
            "Writes committed to the database, one per request that changed it",
            store.write_counter(),
        );
        registry.register(
            "keyhouse_store_durable_commits",
            "Durable commits (fsyncs), each carrying a batch of writes",
            store.durable_commit_counter(),
        );
        let (integrity_failures, integrity_ok) = store.integrity_metrics();
        registry.register(
            "keyhouse_integrity_check_failures",
            "Integrity checks of the database file that failed since start",
            integrity_failures,
        );
        registry.register(
            "keyhouse_integrity_check_ok",
            "1 when the last integrity check of the database file passed, else 0",
            integrity_ok,
        );
        let objects = Family::<KindLabels, Gauge>::default();
        registry.register(
            "keyhouse_objects",
            "Stored objects by kind",
            objects.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "keyhouse_build_info",
            "1, labelled with the version of the running binary",
            build,
        );
        let db_size = Gauge::default();
        registry.register(
            "keyhouse_db_size_bytes",
            "Size of the database file",
            db_size.clone(),
        );
        Metrics {
            registry,
            store: store.clone(),
            requests,
            durations,
            auth_attempts,
            objects,
            db_size,
        }
    }

    /// The family that `AuthAttempts` counts into.
    pub fn auth_attempts(&self) -> Family<AttemptLabels, Counter> {
        self.auth_attempts.clone()
    }

    /// The Prometheus text exposition of every family, the store's gauges read now.
    pub async fn render(&self) -> Result<String, crate::error::Error> {
        for (kind, count) in self.store.object_counts().await? {
            self.objects
                .get_or_create(&KindLabels {
                    kind: kind.to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        self.db_size
            .set(i64::try_from(self.store.file_size().await?).unwrap_or(i64::MAX));
        let mut text = String::new();
        encode(&mut text, &self.registry)
            .map_err(|e| crate::error::Error::internal(e.to_string()))?;
        Ok(text)
    }

    fn observe(&self, route: String, method: &'static str, status: u16, seconds: f64) {
        self.durations
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }
}

/// Middleware: counts and times each request under its route pattern.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = method_label(req.method());
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        // A pattern registered with the app, never the path itself.
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics.observe(
            route,
            method,
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}

/// The methods HTTP defines (RFC 9110 and RFC 5789), each its own `method` label.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// The `method` label: the method if HTTP defines it, else `other`. actix takes any
/// token as a method, so a label per method seen would grow with every new one a
/// client sends.
fn method_label(method: &Method) -> &'static str {
    METHODS
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_fixed_set_are_other() {
        for known in METHODS {
            assert_eq!(
                method_label(&Method::from_bytes(known.as_bytes()).unwrap()),
                known
            );
        }
        for made_up in ["FOO1", "get", "PROPFIND", "BREW"] {
            let method = Method::from_bytes(made_up.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{made_up}");
        }
    }
}
