//! The access log: one line per request, with any `kh_` secret a client put in the URL
//! replaced by `kh_[redacted]`.

use actix_web::dev::ServiceRequest;
use actix_web::middleware::Logger;

use crate::error::redact;

/// The access log's format: address, request line (redacted), status, size, duration,
/// request id.
const FORMAT: &str = "%a \"%{request_line}xi\" %s %b %Dms %{x-request-id}o";

/// The access logger; it never writes actix's raw `%r`.
pub fn logger() -> Logger {
    Logger::new(FORMAT).custom_request_replace("request_line", request_line)
}

/// `METHOD target VERSION`, like `%r`, with secrets redacted.
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
        assert!(FORMAT.contains("%{request_line}xi") && !FORMAT.contains("%r"));
    }
}
