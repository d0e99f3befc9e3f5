//! The routes of `/api/v1/projects/{project}/...`: the same handlers as the root's,
//! acting in the project the path names; a missing or deleted project is 404.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{TestServer, names};
use serde_json::json;

const IN_P: &str = "/api/v1/projects/payments";

fn with_project(s: &TestServer) {
    s.post("/api/v1/projects", json!({"name": "payments"}))
        .assert_status(201);
}

#[test]
fn objects_made_in_a_project_live_there_and_not_at_the_root() {
    let s = TestServer::start();
    with_project(&s);
    let created = s.post(
        &format!("{IN_P}/service-accounts"),
        json!({"name": "ci-bot", "initial_secret": false}),
    );
    created.assert_status(201);
    assert_eq!(
        created.header("location"),
        Some("/api/v1/projects/payments/service-accounts/ci-bot")
    );
    s.get(&format!("{IN_P}/service-accounts/ci-bot"))
        .assert_status(200);
    s.get("/api/v1/service-accounts/ci-bot")
        .assert_error(404, "NOT_FOUND");
    let listed = s.get(&format!("{IN_P}/service-accounts"));
    assert_eq!(names(&listed.body), ["ci-bot"]);
    let group = s.post(&format!("{IN_P}/groups"), json!({"name": "deployers"}));
    assert_eq!(
        group.header("location"),
        Some("/api/v1/projects/payments/groups/deployers")
    );
    s.get("/api/v1/groups/deployers")
        .assert_error(404, "NOT_FOUND");
    let role = s.post(
        &format!("{IN_P}/roles"),
        json!({"name": "deployer", "permissions": ["deploy:run"]}),
    );
    assert_eq!(
        role.header("location"),
        Some("/api/v1/projects/payments/roles/deployer")
    );
    s.get("/api/v1/roles/deployer")
        .assert_error(404, "NOT_FOUND");
    let credential = s.post(
        &format!("{IN_P}/service-accounts/ci-bot/credentials"),
        json!({}),
    );
    credential.assert_status(201);
    assert!(
        credential
            .header("location")
            .unwrap()
            .starts_with("/api/v1/projects/payments/service-accounts/ci-bot/credentials/")
    );
    let project = s.get(IN_P);
    assert_eq!(project.body["sa_count"], 1);
    assert_eq!(project.body["group_count"], 1);
    assert_eq!(project.body["role_count"], 1);
}

#[test]
fn a_missing_or_deleted_project_is_not_found_on_every_route() {
    let s = TestServer::start();
    let missing = s.get("/api/v1/projects/nowhere/service-accounts");
    missing.assert_error(404, "NOT_FOUND");
    assert_eq!(
        missing.body["error"]["message"],
        "project 'nowhere' not found"
    );
    s.get("/api/v1/projects/Not_A_Name/groups")
        .assert_error(404, "NOT_FOUND");
    with_project(&s);
    s.post(&format!("{IN_P}/groups"), json!({"name": "ops"}))
        .assert_status(201);
    s.delete(&format!("{IN_P}?force=true")).assert_status(204);
    for path in ["service-accounts", "groups", "groups/ops", "roles"] {
        let reply = s.get(&format!("{IN_P}/{path}"));
        reply.assert_error(404, "NOT_FOUND");
        assert_eq!(
            reply.body["error"]["message"],
            "project 'payments' not found"
        );
    }
    s.post(&format!("{IN_P}/groups"), json!({"name": "ops"}))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn the_document_lists_project_operations_under_ids_of_their_own() {
    let doc = serde_json::to_value(keyhouse::api::openapi()).unwrap();
    let op = &doc["paths"]["/api/v1/projects/{project}/service-accounts"]["post"];
    assert_eq!(op["operationId"], "create_service_account_in_project");
    assert_eq!(op["tags"][0], "service-accounts");
    assert_eq!(op["parameters"][0]["name"], "project");
    assert_eq!(op["parameters"][0]["in"], "path");
}
