//! Every create answers `201` with `Location`: the path of the object it made, which
//! reads back that very object.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{Reply, TestServer};
use serde_json::json;

/// Asserts `Location` is `expected` and a read of it answers the created object.
#[track_caller]
fn assert_location(s: &TestServer, created: &Reply, expected: &str) {
    created.assert_status(201);
    assert_eq!(created.header("location"), Some(expected));
    let read = s.get(expected);
    read.assert_status(200);
    assert_eq!(read.body["id"], created.body["id"], "{}", read.body);
}

#[test]
fn creating_an_account_answers_its_location() {
    let s = TestServer::start();
    let created = s.post("/api/v1/service-accounts", json!({"name": "ci-bot"}));
    assert_location(&s, &created, "/api/v1/service-accounts/ci-bot");
}

#[test]
fn creating_a_group_answers_its_location() {
    let s = TestServer::start();
    let created = s.post("/api/v1/groups", json!({"name": "deployers"}));
    assert_location(&s, &created, "/api/v1/groups/deployers");
}

#[test]
fn creating_a_role_answers_its_location() {
    let s = TestServer::start();
    let created = s.post(
        "/api/v1/roles",
        json!({"name": "deployer", "permissions": ["service_accounts:read"]}),
    );
    assert_location(&s, &created, "/api/v1/roles/deployer");
}

#[test]
fn creating_a_credential_answers_its_location() {
    let s = TestServer::start();
    s.post("/api/v1/service-accounts", json!({"name": "ci-bot"}))
        .assert_status(201);
    let created = s.post("/api/v1/service-accounts/ci-bot/credentials", json!({}));
    let id = created.body["id"].as_str().unwrap();
    let expected = format!("/api/v1/service-accounts/ci-bot/credentials/{id}");
    assert_location(&s, &created, &expected);
}

#[test]
fn rotating_a_secret_answers_the_new_credentials_location() {
    let s = TestServer::start();
    s.create_account("ci-bot", &[]);
    let created = s.post("/api/v1/service-accounts/ci-bot/rotate-secret", json!({}));
    let id = created.body["id"].as_str().unwrap();
    let expected = format!("/api/v1/service-accounts/ci-bot/credentials/{id}");
    assert_location(&s, &created, &expected);
}
