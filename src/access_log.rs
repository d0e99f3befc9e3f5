//! The access log: one line per request, with any `kh_` secret a client put in the URL
//! replaced by `kh_[redacted]`.

use actix_web::dev::ServiceRequest;
use actix_web::middleware::Logger;

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

/// Replaces each `kh_` (or `kh%5F`, any case) followed by letters and digits with
/// `kh_[redacted]`. One pass over the text.
pub fn redact(text: &str) -> String {
    // ASCII lowercasing keeps every byte where it was, so positions agree.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut at = 0;
    while let Some(found) = lower[at..].find("kh") {
        let start = at + found;
        let prefix = ["kh_", "kh%5f"]
            .into_iter()
            .find(|p| lower[start..].starts_with(p))
            .map_or(0, str::len);
        let after = start + prefix;
        let run = lower[after..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(lower.len() - after);
        if prefix > 0 && run > 0 {
            out.push_str(&text[done..start]);
            out.push_str("kh_[redacted]");
            done = after + run;
            at = done;
        } else {
            at = start + 2;
        }
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const SECRET: &str = "kh_3fQ9zLr8TqYb2WcN5vXe7HsKd1MpA0uJgRtZyBo4iC6lEnD8aFw";

    #[test]
    fn secrets_in_a_target_are_redacted() {
        let path = format!("/api/v1/service-accounts/{SECRET}/credentials?token={SECRET}&x=1");
        assert_eq!(
            redact(&path),
            "/api/v1/service-accounts/kh_[redacted]/credentials?token=kh_[redacted]&x=1"
        );
        let encoded = format!("/x?t=KH%5F{}", &SECRET[3..]);
        assert_eq!(redact(&encoded), "/x?t=kh_[redacted]");
        assert_eq!(redact("/kh_/x?a=kh_"), "/kh_/x?a=kh_");
        assert_eq!(redact("/api/v1/me"), "/api/v1/me");
        assert_eq!(redact("/é/kh_ab-c"), "/é/kh_[redacted]-c");
    }

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
