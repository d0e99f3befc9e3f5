//! A JSON body must be an object: an array that lists a struct's fields in order is
//! refused like any other body of the wrong type, and changes nothing. No object in a
//! body may repeat a key, at any depth.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

/// Every route that takes a JSON body, with the objects their paths name made.
fn json_routes(s: &TestServer) -> [(Method, &'static str); 13] {
    s.create_account("ci-bot", &[]);
    s.post("/api/v1/groups", json!({"name": "ops"}))
        .assert_status(201);
    s.post("/api/v1/projects", json!({"name": "web"}))
        .assert_status(201);
    s.post(
        "/api/v1/roles",
        json!({"name": "deployer", "permissions": ["x:y"]}),
    )
    .assert_status(201);
    [
        (Method::POST, "/api/v1/service-accounts"),
        (Method::PATCH, "/api/v1/service-accounts/ci-bot"),
        (Method::POST, "/api/v1/service-accounts/ci-bot/renew-token"),
        (Method::PUT, "/api/v1/service-accounts/ci-bot/groups"),
        (Method::POST, "/api/v1/service-accounts/ci-bot/credentials"),
        (
            Method::POST,
            "/api/v1/service-accounts/ci-bot/rotate-secret",
        ),
        (Method::POST, "/api/v1/groups"),
        (Method::PATCH, "/api/v1/groups/ops"),
        (Method::PUT, "/api/v1/groups/ops/members"),
        (Method::POST, "/api/v1/roles"),
        (Method::PATCH, "/api/v1/roles/deployer"),
        (Method::POST, "/api/v1/projects"),
        (Method::PATCH, "/api/v1/projects/web"),
    ]
}

#[test]
fn every_json_body_must_be_an_object() {
    let s = TestServer::start();
    let routes = json_routes(&s);
    let before = s.get("/api/v1/audit-events").body["total_count"].clone();
    for (method, path) in routes {
        for body in [json!([]), json!([null, null]), json!(["ci-bot2"])] {
            let reply = s.send(method.clone(), path, Some(&s.token), Some(&body), &[]);
            reply.assert_error(400, "INVALID_ARGUMENT");
            assert_eq!(
                reply.body["error"]["details"][0]["field"], "body",
                "{method} {path}"
            );
        }
    }
    assert_eq!(s.get("/api/v1/audit-events").body["total_count"], before);
    // An object still works, and a wrong field in it is still named.
    let reply = s.patch("/api/v1/roles/deployer", json!({"description": "d"}));
    reply.assert_status(200);
    let reply = s.patch("/api/v1/roles/deployer", json!({"colour": "red"}));
    reply.assert_error(400, "INVALID_ARGUMENT");
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("unknown field `colour`"), "{message}");
    assert_eq!(
        s.get("/api/v1/roles/deployer").body["description"],
        Value::from("d")
    );
}

/// A JSON body as written, which `json!` cannot do with a repeated key.
fn send_text(s: &TestServer, method: Method, path: &str, body: &str) -> Reply {
    let req = s.client.request(method, s.url(path)).bearer_auth(&s.token);
    let req = req.header("content-type", "application/json");
    Reply::from(req.body(body.to_owned()).send().unwrap())
}

/// The 400 of a repeated key: its field is the key's path.
#[track_caller]
fn assert_repeated(reply: &Reply, field: &str) {
    reply.assert_error(400, "INVALID_ARGUMENT");
    assert_eq!(
        reply.body["error"]["details"][0]["field"], field,
        "{}",
        reply.body
    );
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(field), "{message}");
}

/// Two readers of `{"roles":[],"roles":["deployer"]}` may keep different keys (serde_json
/// keeps the last, others the first), so a proxy would see another request than the one
/// served: the body is refused, at any depth, before anything changes.
#[test]
fn a_repeated_key_is_refused_and_changes_nothing() {
    let s = TestServer::start();
    s.post(
        "/api/v1/roles",
        json!({"name": "deployer", "permissions": ["x:y"]}),
    )
    .assert_status(201);
    s.create_account("ci-bot", &[]);
    let account = s.get("/api/v1/service-accounts/ci-bot").body;
    let audit = s.get("/api/v1/audit-events").body["total_count"].clone();

    let create = r#"{"name": "dup-bot", "roles": [], "roles": ["deployer"]}"#;
    let reply = send_text(&s, Method::POST, "/api/v1/service-accounts", create);
    assert_repeated(&reply, "roles");
    s.get("/api/v1/service-accounts/dup-bot")
        .assert_error(404, "NOT_FOUND");

    let path = "/api/v1/service-accounts/ci-bot";
    let patch = r#"{"roles": ["deployer"], "description": "a", "roles": []}"#;
    assert_repeated(&send_text(&s, Method::PATCH, path, patch), "roles");
    let nested = r#"{"metadata": {"team": "a", "owner": "b", "team": "c"}}"#;
    assert_repeated(&send_text(&s, Method::PATCH, path, nested), "metadata.team");
    assert_eq!(s.get(path).body, account);
    assert_eq!(s.get("/api/v1/audit-events").body["total_count"], audit);

    // Equal keys in different objects are no repeat.
    let fine = r#"{"metadata": {"description": "x"}, "description": "y"}"#;
    send_text(&s, Method::PATCH, path, fine).assert_status(200);
}

#[test]
fn every_json_body_is_checked_for_repeated_keys() {
    let s = TestServer::start();
    let routes = json_routes(&s);
    for (method, path) in routes {
        let reply = send_text(
            &s,
            method.clone(),
            path,
            r#"{"x": {"y": [{"z": 1, "z": 2}]}}"#,
        );
        assert_repeated(&reply, "x.y[0].z");
    }
}
