//! The error contract: every failure has the one error body, the right status and code,
//! and `X-Request-Id`; authentication failures carry `WWW-Authenticate: Bearer`.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::TestServer;
use reqwest::Method;
use serde_json::json;

const SA: &str = "/api/v1/service-accounts";

#[test]
fn missing_or_bad_credentials_are_401_with_www_authenticate() {
    let s = TestServer::start();
    let valid_but_unknown = keyhouse::auth::secret::Secret::generate().unwrap();
    let mut wrong_checksum = s.token.clone();
    wrong_checksum.replace_range(48.., if s.token.ends_with('0') { "1" } else { "0" });
    for token in [
        None,
        Some("kh_short"),
        Some(wrong_checksum.as_str()),
        Some(valid_but_unknown.expose()),
        Some("not-a-token"),
    ] {
        let reply = s.send(Method::GET, "/api/v1/me", token, None, &[]);
        reply.assert_error(401, "UNAUTHENTICATED");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer"),
            "{token:?}"
        );
    }
    let basic = s.send(
        Method::GET,
        "/api/v1/me",
        None,
        None,
        &[("Authorization", &format!("Basic {}", s.token))],
    );
    basic.assert_error(401, "UNAUTHENTICATED");
}

#[test]
fn malformed_json_is_400() {
    let s = TestServer::start();
    let reply = s
        .client
        .post(s.url(SA))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 400);
    assert!(reply.headers().contains_key("x-request-id"));
    let body: serde_json::Value = reply.json().unwrap();
    assert_eq!(body["error"]["code"], "INVALID_ARGUMENT");
    let wrong_type = s.post(SA, json!({"name": 5}));
    wrong_type.assert_error(400, "INVALID_ARGUMENT");
    s.post(SA, json!(["name"]))
        .assert_error(400, "INVALID_ARGUMENT");
}

#[test]
fn a_body_that_is_not_json_is_415() {
    let s = TestServer::start();
    let reply = s
        .client
        .post(s.url(SA))
        .bearer_auth(&s.token)
        .header("content-type", "text/plain")
        .body("{\"name\": \"x\"}")
        .send()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 415);
    let body: serde_json::Value = reply.json().unwrap();
    assert_eq!(body["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    let none = s
        .client
        .post(s.url(SA))
        .bearer_auth(&s.token)
        .body("{\"name\": \"x\"}")
        .send()
        .unwrap();
    assert_eq!(none.status().as_u16(), 415);
    s.get(&format!("{SA}/x")).assert_error(404, "NOT_FOUND");
}

#[test]
fn a_body_over_64_kib_is_413() {
    let s = TestServer::start();
    let big = json!({"name": "big", "description": "d".repeat(70 * 1024)});
    s.post(SA, big).assert_error(413, "PAYLOAD_TOO_LARGE");
    let chunked = s
        .client
        .post(s.url(SA))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(
            format!(
                "{{\"name\": \"big\", \"description\": \"{}\"}}",
                "d".repeat(70 * 1024)
            )
            .into_bytes(),
        )))
        .send()
        .unwrap();
    assert_eq!(chunked.status().as_u16(), 413);
    s.get(&format!("{SA}/big")).assert_error(404, "NOT_FOUND");
}

#[test]
fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let s = TestServer::start();
    s.get("/nowhere").assert_error(404, "NOT_FOUND");
    s.get("/api/v1/nothing-here").assert_error(404, "NOT_FOUND");
    let reply = s.send(Method::PUT, "/api/v1/me", Some(&s.token), None, &[]);
    reply.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(reply.header("allow"), Some("GET"));
    let reply = s.send(
        Method::PUT,
        &format!("{SA}/admin"),
        Some(&s.token),
        None,
        &[],
    );
    reply.assert_error(405, "METHOD_NOT_ALLOWED");
    let allow = reply.header("allow").unwrap();
    for method in ["GET", "PATCH", "DELETE"] {
        assert!(allow.contains(method), "{allow}");
    }
    let reply = s.send(Method::DELETE, SA, None, None, &[]);
    reply.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(reply.header("allow"), Some("GET, POST"));
}

#[test]
fn every_response_carries_a_request_id() {
    let s = TestServer::start();
    let ok = s.get("/healthz");
    ok.assert_status(200);
    let a = ok.header("x-request-id").unwrap().to_owned();
    let b = s.get("/healthz").header("x-request-id").unwrap().to_owned();
    assert_ne!(a, b);
    assert!(s.get("/api/v1/me").header("x-request-id").is_some());
}

#[test]
fn probes_need_no_token() {
    let s = TestServer::start();
    let health = s.send(Method::GET, "/healthz", None, None, &[]);
    health.assert_status(200);
    let ready = s.send(Method::GET, "/readyz", None, None, &[]);
    ready.assert_status(200);
    assert_eq!(ready.body["status"], "ready");
}

#[test]
fn odd_input_never_causes_a_500() {
    let s = TestServer::start();
    let paths = [
        format!("{SA}/%00"),
        format!("{SA}/{}", "a".repeat(5000)),
        format!("{SA}?page=99999999999999999999"),
        format!("{SA}?per_page=1e3"),
        format!("{SA}?page_token=%FF%FE"),
        format!("{SA}?query=%00%01"),
    ];
    for path in paths {
        let reply = s.get(&path);
        assert!(reply.status < 500, "{path}: {}", reply.status);
    }
    for body in [
        json!({"name": "é"}),
        json!({"name": "x", "metadata": {"": ""}}),
        json!({"name": "x", "days_valid": 1e30}),
    ] {
        let reply = s.post(SA, body.clone());
        assert_eq!(reply.status, 400, "{body}");
    }
}
