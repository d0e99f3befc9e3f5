//! The isolation matrix: the root and two projects, each with an administrator, an
//! operator and a viewer; every route below tried by every caller in every scope, the
//! expected status of each pair written in one table. Plus: a project the caller holds
//! nothing in answers exactly as one that does not exist, and a role name names one
//! role of one scope.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{TestServer, names};
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
    ("POST",   "p1", "/roles",                             "taken",   [409, 403, 403, 403, 409, 403, 403, 404, 404, 404]),
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
    ("POST",   "p2", "/roles",                             "taken",   [409, 403, 403, 403, 404, 404, 404, 409, 403, 403]),
];

fn body(kind: &str, caller: &str) -> Option<Value> {
    match kind {
        "" => None,
        "create" => Some(json!({"name": format!("n-{caller}"), "initial_secret": false})),
        "patch" => Some(json!({"description": format!("changed by {caller}")})),
        // A built-in role's name, which no project may take.
        "taken" => Some(json!({"name": "operator", "permissions": ["groups:read"]})),
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

/// The roles an account reads as, in the scope whose base is `base`.
fn roles_of(s: &TestServer, base: &str, account: &str) -> Value {
    s.get(&format!("{base}/service-accounts/{account}")).body["roles"].clone()
}

/// The actions and targets of the events made by request `id` in the scope whose base
/// is `base` (the root's trail lists every scope's: only the root's own are kept).
fn events_of_request(s: &TestServer, base: &str, id: &str) -> Vec<(String, String)> {
    let page = s.get(&format!("{base}/audit-events?per_page=1000")).body;
    let project = base
        .strip_prefix("/api/v1/projects/")
        .map_or(Value::Null, |p| json!(p));
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["request_id"] == id && event["project"] == project)
        .map(|event| {
            let action = event["action"].as_str().unwrap().to_owned();
            (action, event["target"]["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// A binding names one role of one scope, in both directions: a project cannot take a
/// built-in or root role's name, and deleting a role (forced) unbinds only the bindings
/// that name that role: a project's delete leaves the root and other projects alone, the
/// root's delete leaves a project's own role of the same name alone. Each account or
/// group unbound has its own event, in the trail of its scope; the 409 counts only the
/// caller's scope.
#[test]
fn role_names_do_not_cross_scopes_in_either_direction() {
    let s = TestServer::start();
    for project in ["p1", "p2"] {
        s.post("/api/v1/projects", json!({"name": project}))
            .assert_status(201);
    }
    let (root, p1, p2) = (base(""), base("p1"), base("p2"));
    let tenant = account(&s, &p1, "boss", &["admin"]);
    s.post(
        "/api/v1/roles",
        json!({"name": "deployer", "permissions": ["deploy:run"]}),
    )
    .assert_status(201);
    for taken in ["admin", "operator", "viewer", "deployer"] {
        let create = json!({"name": taken, "permissions": ["service_accounts:read"]});
        s.post_as(&tenant, &format!("{p1}/roles"), create)
            .assert_error(409, "ALREADY_EXISTS");
    }
    // The root's operators and groups, a root custom role bound in p2, and p1's own
    // role `builder`, created before the root takes the same name.
    account(&s, &root, "ops", &["operator"]);
    s.post(
        &format!("{root}/groups"),
        json!({"name": "ops-team", "roles": ["operator"]}),
    )
    .assert_status(201);
    s.post_as(
        &tenant,
        &format!("{p1}/roles"),
        json!({"name": "builder", "permissions": ["build:run"]}),
    )
    .assert_status(201);
    account(&s, &p1, "p1-bot", &["builder", "operator"]);
    s.post(
        "/api/v1/roles",
        json!({"name": "builder", "permissions": ["build:root"]}),
    )
    .assert_status(201);
    account(&s, &root, "root-bot", &["builder", "deployer"]);
    account(&s, &p2, "p2-bot", &["builder", "operator"]);
    s.post(
        &format!("{p2}/groups"),
        json!({"name": "builders", "roles": ["builder"]}),
    )
    .assert_status(201);
    let me = |token: &str| s.get_as(token, "/api/v1/me").body["permissions"].clone();
    assert_eq!(me(&tenant), json!(["*"]));

    // Root → project: the root's forced delete of its `builder` unbinds it at the root
    // and in p2, where the name names the root's role, and leaves p1's binding of p1's
    // own role. The unforced 409 counts the root's one binding only.
    let refused = s.delete("/api/v1/roles/builder");
    refused.assert_error(409, "FAILED_PRECONDITION");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("bound to 1 ") && message.contains("projects"),
        "{message}"
    );
    let forced = s.delete("/api/v1/roles/builder?force=true");
    forced.assert_status(204);
    assert_eq!(roles_of(&s, &root, "root-bot"), json!(["deployer"]));
    assert_eq!(roles_of(&s, &p2, "p2-bot"), json!(["operator"]));
    assert_eq!(
        s.get(&format!("{p2}/groups/builders")).body["roles"],
        json!([])
    );
    assert_eq!(roles_of(&s, &p1, "p1-bot"), json!(["builder", "operator"]));
    assert_eq!(s.get(&format!("{p1}/roles/builder")).status, 200);
    let request = forced.header("x-request-id").unwrap();
    assert_eq!(
        events_of_request(&s, &p2, request),
        [
            ("service_account.update".to_owned(), "p2-bot".to_owned()),
            ("group.update".to_owned(), "builders".to_owned())
        ]
    );
    assert!(events_of_request(&s, &p1, request).is_empty());
    let root_events = events_of_request(&s, &root, request);
    assert!(root_events.contains(&("service_account.update".to_owned(), "root-bot".to_owned())));
    assert!(root_events.contains(&("role.delete".to_owned(), "builder".to_owned())));

    // Project → root: the root binds a new `builder` of its own again; the tenant
    // admin's forced delete of p1's `builder` leaves it alone, and its unforced 409
    // counts p1's one binding only.
    s.post(
        "/api/v1/roles",
        json!({"name": "builder", "permissions": ["build:root"]}),
    )
    .assert_status(201);
    s.patch(
        &format!("{root}/service-accounts/root-bot"),
        json!({"roles": ["builder"]}),
    )
    .assert_status(200);
    s.patch(
        &format!("{p2}/service-accounts/p2-bot"),
        json!({"roles": ["builder"]}),
    )
    .assert_status(200);
    let refused = s.send(
        Method::DELETE,
        &format!("{p1}/roles/builder"),
        Some(&tenant),
        None,
        &[],
    );
    refused.assert_error(409, "FAILED_PRECONDITION");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("bound to 1 ") && !message.contains("project"),
        "{message}"
    );
    let forced = s.send(
        Method::DELETE,
        &format!("{p1}/roles/builder?force=true"),
        Some(&tenant),
        None,
        &[],
    );
    forced.assert_status(204);
    assert_eq!(roles_of(&s, &p1, "p1-bot"), json!(["operator"]));
    assert_eq!(roles_of(&s, &root, "root-bot"), json!(["builder"]));
    assert_eq!(roles_of(&s, &p2, "p2-bot"), json!(["builder"]));
    assert_eq!(roles_of(&s, &root, "ops"), json!(["operator"]));
    assert_eq!(
        s.get(&format!("{root}/groups/ops-team")).body["roles"],
        json!(["operator"])
    );
    let request = forced.header("x-request-id").unwrap();
    assert_eq!(
        events_of_request(&s, &p1, request),
        [
            ("service_account.update".to_owned(), "p1-bot".to_owned()),
            ("role.delete".to_owned(), "builder".to_owned())
        ]
    );
    assert!(
        events_of_request(&s, &root, request)
            .iter()
            .all(|(action, _)| action != "service_account.update")
    );
    assert_eq!(me(&tenant), json!(["*"]));
}

/// A forced delete takes the role from every account bound to it, so the caller must
/// be allowed to act on each: a role writer, or an administrator's narrowed token,
/// cannot strip a role from an administrator by deleting it, and nothing changes.
#[test]
fn a_forced_role_delete_needs_every_unbound_account_within_the_callers_reach() {
    let s = TestServer::start();
    s.post(
        "/api/v1/roles",
        json!({"name": "rolesmith", "permissions": ["roles:read", "roles:write", "deploy:run"]}),
    )
    .assert_status(201);
    let smith = s.create_account("smith", &["rolesmith"]);
    s.post_as(
        &smith,
        "/api/v1/roles",
        json!({"name": "deploy", "permissions": ["deploy:run"]}),
    )
    .assert_status(201);
    s.create_account("chief", &["admin", "deploy"]);
    s.send(
        Method::DELETE,
        "/api/v1/roles/deploy?force=true",
        Some(&smith),
        None,
        &[],
    )
    .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(roles_of(&s, "/api/v1", "chief"), json!(["admin", "deploy"]));
    // An administrator's token narrowed to what deleting the role needs is refused too:
    // the rule counts the token's scope, not the account's `*`.
    let narrowed = s.form(
        "/oauth2/token",
        Some(("admin", &s.token)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "roles:read roles:write deploy:run"),
        ],
    );
    narrowed.assert_status(200);
    let narrowed = narrowed.body["access_token"].as_str().unwrap();
    s.send(
        Method::DELETE,
        "/api/v1/roles/deploy?force=true",
        Some(narrowed),
        None,
        &[],
    )
    .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(roles_of(&s, "/api/v1", "chief"), json!(["admin", "deploy"]));
    s.delete("/api/v1/roles/deploy?force=true")
        .assert_status(204);
    assert_eq!(roles_of(&s, "/api/v1", "chief"), json!(["admin"]));
}

/// Custom permissions mean nothing to keyhouse, and writing is not reading: a root
/// account holding only those sees no project, and every project answers it as a
/// missing one.
#[test]
fn a_caller_that_may_read_nothing_learns_no_project_name() {
    let s = TestServer::start();
    s.post("/api/v1/projects", json!({"name": "p1"}))
        .assert_status(201);
    s.post(
        "/api/v1/roles",
        json!({"name": "deployer", "permissions": ["deploy:run"]}),
    )
    .assert_status(201);
    s.post(
        "/api/v1/roles",
        json!({"name": "key-writer", "permissions": ["credentials:write"]}),
    )
    .assert_status(201);
    let custom = s.create_account("custom", &["deployer"]);
    let writer = s.create_account("writer", &["key-writer"]);
    s.get_as(&custom, "/api/v1/projects")
        .assert_error(403, "PERMISSION_DENIED");
    s.get_as(&writer, "/api/v1/projects")
        .assert_error(403, "PERMISSION_DENIED");
    let answer = |token: &str, path: &str| {
        let reply = s.get_as(token, path);
        reply.assert_error(404, "NOT_FOUND");
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("nowhere", "p1")
    };
    for path in [
        "/api/v1/projects/p1",
        "/api/v1/projects/p1/service-accounts",
    ] {
        let missing = path.replace("p1", "nowhere");
        assert_eq!(answer(&custom, path), answer(&custom, &missing), "{path}");
    }
    let missing = answer(&writer, "/api/v1/projects/nowhere");
    assert_eq!(answer(&writer, "/api/v1/projects/p1"), missing);
}

/// A project that does not exist answers every caller that holds something in projects
/// 404 naming it, on every route under it, whatever the caller lacks there: the store
/// decides it in the transaction of the call, or of the refusal.
#[test]
fn every_route_of_a_missing_project_answers_404_naming_it() {
    let s = TestServer::start();
    let tokens = installation(&s);
    let mut differences = Vec::new();
    let rows = MATRIX.iter().filter(|row| row.1 == "p1");
    let paths = rows
        .map(|(method, _, path, kind, _)| (*method, path.to_string(), *kind))
        // A name that breaks the naming rule, in each kind's path.
        .chain([
            ("GET", "/service-accounts/Not%20A%20Name".to_owned(), ""),
            ("PATCH", "/groups/Not%20A%20Name".to_owned(), "patch"),
            (
                "POST",
                "/service-accounts/Not%20A%20Name/credentials".to_owned(),
                "{}",
            ),
            ("DELETE", "/roles/Not%20A%20Name".to_owned(), ""),
        ]);
    for (method, path, kind) in paths {
        for (caller, token) in CALLERS.iter().zip(&tokens).take(4) {
            let path = format!("/api/v1/projects/nowhere{}", path.replace("{c}", caller));
            let reply = s.send(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &path,
                Some(token),
                body(kind, caller).as_ref(),
                &[],
            );
            let message = reply.body["error"]["message"].as_str().unwrap_or_default();
            if reply.status != 404 || message != "project 'nowhere' not found" {
                differences.push(format!("{caller}: {method} {path}: {}", reply.body));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
