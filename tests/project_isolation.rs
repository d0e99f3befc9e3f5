//! The isolation matrix: the root and two projects, each with an administrator, an
//! operator and a viewer; every route below tried by every caller in every scope, the
//! expected status of each pair written in one table. Plus: a project the caller holds
//! nothing in answers exactly as one that does not exist.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

mod common;

use common::{TestServer, names};
use reqwest::Method;
use serde_json::{Value, json};

/// The callers, one column each: `r` the root, `1` and `2` the projects; `a` admin,
/// `o` operator, `v` viewer; `rt` the root operator through an access token obtained
/// by `client_credentials`.
const CALLERS: [&str; 10] = ["ra", "ro", "rv", "rt", "1a", "1o", "1v", "2a", "2o", "2v"];

/// Where a row acts: `/api/v1` at the root, or under a project.
fn base(scope: &str) -> String {
    match scope {
        "" => "/api/v1".to_owned(),
        project => format!("/api/v1/projects/{project}"),
    }
}

/// One row per route and scope: method, scope, path under the scope's base (`{c}` is
/// the caller's label), body, and the status for each caller in `CALLERS` order.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, &str, &str, [u16; 10])] = &[
    //                                                                 ra   ro   rv   rt   1a   1o   1v   2a   2o   2v
    ("GET",    "",   "/service-accounts",                  "",        [200, 200, 200, 200, 403, 403, 403, 403, 403, 403]),
    ("GET",    "",   "/service-accounts/target",           "",        [200, 200, 200, 200, 404, 404, 404, 404, 404, 404]),
    ("POST",   "",   "/service-accounts",                  "create",  [201, 201, 403, 201, 403, 403, 403, 403, 403, 403]),
    ("PATCH",  "",   "/service-accounts/target",           "patch",   [200, 200, 403, 200, 404, 404, 404, 404, 404, 404]),
    ("POST",   "",   "/service-accounts/v-{c}/credentials", "{}",     [201, 201, 403, 201, 404, 404, 404, 404, 404, 404]),
    ("DELETE", "",   "/service-accounts/v-{c}",            "",        [204, 204, 403, 204, 404, 404, 404, 404, 404, 404]),
    ("GET",    "",   "/groups/team",                       "",        [200, 200, 200, 200, 404, 404, 404, 404, 404, 404]),
    ("PATCH",  "",   "/groups/team",                       "patch",   [200, 200, 403, 200, 404, 404, 404, 404, 404, 404]),
    ("GET",    "",   "/roles",                             "",        [200, 200, 200, 200, 403, 403, 403, 403, 403, 403]),
    ("GET",    "",   "/audit-events",                      "",        [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",    "",   "/projects",                          "",        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",    "",   "/projects/p1",                       "",        [200, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
    ("PATCH",  "",   "/projects/p1",                       "{}",      [200, 403, 403, 403, 403, 403, 403, 404, 404, 404]),
    ("GET",    "",   "/projects/p2",                       "",        [200, 200, 200, 200, 404, 404, 404, 200, 200, 200]),
    ("GET",    "p1", "/service-accounts",                  "",        [200, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
    ("GET",    "p1", "/service-accounts/target",           "",        [200, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
    ("POST",   "p1", "/service-accounts",                  "create",  [201, 201, 403, 201, 201, 201, 403, 404, 404, 404]),
    ("PATCH",  "p1", "/service-accounts/target",           "patch",   [200, 200, 403, 200, 200, 200, 403, 404, 404, 404]),
    ("POST",   "p1", "/service-accounts/v-{c}/credentials", "{}",     [201, 201, 403, 201, 201, 201, 403, 404, 404, 404]),
    ("DELETE", "p1", "/service-accounts/v-{c}",            "",        [204, 204, 403, 204, 204, 204, 403, 404, 404, 404]),
    ("GET",    "p1", "/groups/team",                       "",        [200, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
    ("PATCH",  "p1", "/groups/team",                       "patch",   [200, 200, 403, 200, 200, 200, 403, 404, 404, 404]),
    ("GET",    "p1", "/roles",                             "",        [200, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
    ("GET",    "p1", "/audit-events",                      "",        [200, 403, 403, 403, 200, 403, 403, 404, 404, 404]),
    ("GET",    "p2", "/service-accounts",                  "",        [200, 200, 200, 200, 404, 404, 404, 200, 200, 200]),
    ("GET",    "p2", "/service-accounts/target",           "",        [200, 200, 200, 200, 404, 404, 404, 200, 200, 200]),
    ("POST",   "p2", "/service-accounts",                  "create",  [201, 201, 403, 201, 404, 404, 404, 201, 201, 403]),
    ("PATCH",  "p2", "/service-accounts/target",           "patch",   [200, 200, 403, 200, 404, 404, 404, 200, 200, 403]),
    ("POST",   "p2", "/service-accounts/v-{c}/credentials", "{}",     [201, 201, 403, 201, 404, 404, 404, 201, 201, 403]),
    ("DELETE", "p2", "/service-accounts/v-{c}",            "",        [204, 204, 403, 204, 404, 404, 404, 204, 204, 403]),
    ("GET",    "p2", "/groups/team",                       "",        [200, 200, 200, 200, 404, 404, 404, 200, 200, 200]),
    ("PATCH",  "p2", "/groups/team",                       "patch",   [200, 200, 403, 200, 404, 404, 404, 200, 200, 403]),
    ("GET",    "p2", "/roles",                             "",        [200, 200, 200, 200, 404, 404, 404, 200, 200, 200]),
    ("GET",    "p2", "/audit-events",                      "",        [200, 403, 403, 403, 404, 404, 404, 200, 403, 403]),
];

fn body(kind: &str, caller: &str) -> Option<Value> {
    match kind {
        "" => None,
        "create" => Some(json!({"name": format!("n-{caller}"), "initial_secret": false})),
        "patch" => Some(json!({"description": format!("changed by {caller}")})),
        other => Some(serde_json::from_str(other).unwrap()),
    }
}

/// Creates `name` under `base` holding `roles`; answers its secret.
fn account(s: &TestServer, base: &str, name: &str, roles: &[&str]) -> String {
    let reply = s.post(
        &format!("{base}/service-accounts"),
        json!({"name": name, "roles": roles, "initial_secret": {}}),
    );
    reply.assert_status(201);
    reply.body["secret"]["secret"].as_str().unwrap().to_owned()
}

/// The installation of the matrix; answers each caller's bearer token, in `CALLERS`
/// order.
fn installation(s: &TestServer) -> Vec<String> {
    for project in ["p1", "p2"] {
        s.post("/api/v1/projects", json!({"name": project}))
            .assert_status(201);
    }
    let mut tokens = Vec::new();
    for scope in ["", "p1", "p2"] {
        let base = base(scope);
        // The same names in every scope: three unrelated accounts each.
        tokens.push(account(s, &base, "boss", &["admin"]));
        tokens.push(account(s, &base, "ops", &["operator"]));
        tokens.push(account(s, &base, "eye", &["viewer"]));
        if scope.is_empty() {
            let token = s.form(
                "/oauth2/token",
                Some(("ops", &tokens[1])),
                &[("grant_type", "client_credentials")],
            );
            token.assert_status(200);
            tokens.push(token.body["access_token"].as_str().unwrap().to_owned());
        }
        s.post(
            &format!("{base}/service-accounts"),
            json!({"name": "target", "roles": ["viewer"], "initial_secret": false}),
        )
        .assert_status(201);
        for caller in CALLERS {
            s.post(
                &format!("{base}/service-accounts"),
                json!({"name": format!("v-{caller}"), "initial_secret": false}),
            )
            .assert_status(201);
        }
        s.post(&format!("{base}/groups"), json!({"name": "team"}))
            .assert_status(201);
    }
    tokens
}

#[test]
fn every_caller_gets_the_tabled_status_on_every_route_of_every_scope() {
    let s = TestServer::start();
    let tokens = installation(&s);
    let mut differences = Vec::new();
    for (method, scope, path, kind, expected) in MATRIX {
        for ((caller, token), want) in CALLERS.iter().zip(&tokens).zip(expected) {
            let path = format!("{}{}", base(scope), path.replace("{c}", caller));
            let reply = s.send(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &path,
                Some(token),
                body(kind, caller).as_ref(),
                &[],
            );
            if reply.status != *want {
                differences.push(format!(
                    "{caller}: {method} {path}: {} (expected {want}) {}",
                    reply.status, reply.body
                ));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn a_project_the_caller_holds_nothing_in_answers_as_a_missing_one() {
    let s = TestServer::start();
    let tokens = installation(&s);
    let viewer_of_p1 = &tokens[6];
    let probe = |path: &str| {
        let reply = s.get_as(viewer_of_p1, path);
        reply.assert_error(404, "NOT_FOUND");
        (
            serde_json::to_vec(&reply.body).unwrap(),
            reply.header("content-length").map(str::to_owned),
        )
    };
    let paths = [
        "/api/v1/projects/p2",
        "/api/v1/projects/p2/service-accounts",
        "/api/v1/projects/p2/service-accounts/target",
        "/api/v1/projects/p2/groups/team",
    ];
    let hidden: Vec<_> = paths.iter().map(|p| probe(p)).collect();
    // The list of projects holds only the caller's own.
    let listed = s.get_as(viewer_of_p1, "/api/v1/projects?query=p").body;
    assert_eq!(
        (names(&listed), &listed["total_count"]),
        (vec!["p1".to_owned()], &json!(1))
    );
    assert_eq!(names(&s.get("/api/v1/projects").body), ["p1", "p2"]);
    s.delete("/api/v1/projects/p2?force=true")
        .assert_status(204);
    let missing: Vec<_> = paths.iter().map(|p| probe(p)).collect();
    assert_eq!(hidden, missing);
    assert_eq!(hidden[0], hidden[1]);
}
