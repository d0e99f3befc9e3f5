//! The access log: one line per request, written when its response head is ready, with
//! any `kh_` secret a client put in the URL replaced by `kh_[redacted]`, and never a
//! header. Its message is the text line (address, request line, status, size,
//! duration, request id); the same facts go with it as key-values, which the `json`
//! log format writes as fields (src/logging). At `debug`, an error response's cause
//! precedes it, as actix's own logger wrote it.

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::redact;
use crate::request_id::RequestId;

/// Middleware: logs the request once its response (or error) is ready.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let line = request_line(&req);
    let method = redact(req.method().as_str());
    let client = req
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |addr| addr.ip().to_string());
    let id = RequestId::of(req.request());
    let result = next.call(req).await;
    if let Ok(res) = &result
        && let Some(error) = res.response().error()
    {
        // Its text went through the redaction rule (src/error/redact.rs).
        log::debug!("Error in response: {error:?}");
    }
    let (status, route, size) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            res.request().match_pattern(),
            match res.response().body().size() {
                BodySize::Sized(n) => Some(n),
                BodySize::None => Some(0),
                BodySize::Stream => None,
            },
        ),
        Err(err) => (err.as_response_error().status_code().as_u16(), None, None),
    };
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let size_text = size.map_or_else(|| "-".to_owned(), |n| n.to_string());
    log::info!(
        method = method.as_str(),
        route = route.as_str(),
        status = status,
        duration_ms = (duration_ms * 1000.0).round() / 1000.0,
        client = client.as_str(),
        bytes = size.unwrap_or(0);
        "{client} \"{line}\" {status} {size_text} {duration_ms:.3}ms {id}"
    );
    result
}

/// `METHOD target VERSION`, like actix's `%r`, with secrets redacted.
fn request_line(req: &ServiceRequest) -> String {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path(), |p| p.as_str());
    format!("{} {} {:?}", req.method(), redact(target), req.version())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const SECRET: &str = "kh_3fQ9zLr8TqYb2WcN5vXe7HsKd1MpA0uJgRtZyBo4iC6lEnD8aFw";

    #[test]
    fn the_logged_request_line_is_redacted() {
        let req = TestRequest::get()
            .uri(&format!("/api/v1/me?access_token={SECRET}"))
            .to_srv_request();
        assert_eq!(
            request_line(&req),
            "GET /api/v1/me?access_token=kh_[redacted] HTTP/1.1"
        );
    }
}
