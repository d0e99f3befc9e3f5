//! `X-Request-Id`: every response carries one, audit events record it, and a 500 is
//! logged with it and its cause (the client sees neither the cause nor any internals).
//! The request runs with its id, and the trace of a valid `traceparent` header, as the
//! context of its log lines (src/logging/context.rs).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};
use uuid::Uuid;

use crate::logging::context::{InRequest, RequestContext, TraceParent};

pub const HEADER: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct RequestId(String);

impl RequestId {
    /// The id the middleware gave this request.
    pub fn of(req: &HttpRequest) -> String {
        req.extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default()
    }
}

/// Middleware: gives the request an id and puts it on the response.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let trace = req
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(TraceParent::parse);
    let context = RequestContext {
        request_id: id.clone(),
        trace,
    };
    let logged_id = id.clone();
    let mut res = InRequest::new(
        async move {
            let res = next.call(req).await?;
            if res.status().is_server_error() {
                let cause = res.response().error().map(|err| format!("{err:?}"));
                let cause = cause.unwrap_or_default();
                log::error!("request {logged_id} failed: {cause}");
            }
            Ok::<_, actix_web::Error>(res)
        },
        context,
    )
    .await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}
