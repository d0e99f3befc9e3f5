//! A JSON body must be an object: an array that lists a struct's fields in order is
//! refused like any other body of the wrong type, and changes nothing.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

#[test]
fn every_json_body_must_be_an_object() {
    let s = TestServer::start();
    s.create_account("ci-bot", &[]);
    s.post("/api/v1/groups", json!({"name": "ops"}))
        .assert_status(201);
    s.post(
        "/api/v1/roles",
        json!({"name": "deployer", "permissions": ["x:y"]}),
    )
    .assert_status(201);
    let routes = [
        (Method::POST, "/api/v1/service-accounts"),
        (Method::PATCH, "/api/v1/service-accounts/ci-bot"),
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
    ];
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
