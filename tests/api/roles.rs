//! Roles over HTTP: built-in roles, custom roles with opaque permissions, deletion while
//! bound, effective permissions on the very next request, and escalation attempts.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::TestServer;
use reqwest::Method;
use serde_json::json;

const SA: &str = "/api/v1/service-accounts";
const ROLES: &str = "/api/v1/roles";

#[test]
fn built_in_roles_are_listed_and_cannot_change() {
    let s = TestServer::start();
    let list = s.get(ROLES);
    list.assert_status(200);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "operator", "viewer"]);
    let admin = s.get(&format!("{ROLES}/admin"));
    assert_eq!(admin.body["permissions"], json!(["*"]));
    assert_eq!(admin.body["builtin"], true);
    s.patch(&format!("{ROLES}/viewer"), json!({"permissions": ["*"]}))
        .assert_error(409, "FAILED_PRECONDITION");
    s.delete(&format!("{ROLES}/operator"))
        .assert_error(409, "FAILED_PRECONDITION");
    s.send(
        Method::DELETE,
        &format!("{ROLES}/admin?force=true"),
        Some(&s.token),
        None,
        &[],
    )
    .assert_error(409, "FAILED_PRECONDITION");
    s.post(ROLES, json!({"name": "admin", "permissions": []}))
        .assert_error(409, "ALREADY_EXISTS");
    assert_eq!(
        s.get(&format!("{ROLES}/viewer")).body["permissions"],
        json!([
            "credentials:read",
            "groups:read",
            "projects:read",
            "roles:read",
            "service_accounts:read"
        ])
    );
}

#[test]
fn custom_roles_hold_any_permission_string() {
    let s = TestServer::start();
    let created = s.post(
        ROLES,
        json!({"name": "billing", "description": "Reads invoices.", "permissions": ["billing.invoices:read", "groups:read"]}),
    );
    created.assert_status(201);
    assert_eq!(created.body["builtin"], false);
    assert_eq!(
        created.body["permissions"],
        json!(["billing.invoices:read", "groups:read"])
    );
    for bad in [
        json!(["Upper"]),
        json!([""]),
        json!(["a b"]),
        json!(["x".repeat(129)]),
    ] {
        s.post(ROLES, json!({"name": "bad", "permissions": bad}))
            .assert_error(400, "INVALID_ARGUMENT");
    }
    s.post(ROLES, json!({"name": "nope"}))
        .assert_error(400, "INVALID_ARGUMENT");
    let secret = s.create_account("payer", &["billing"]);
    let me = s.get_as(&secret, "/api/v1/me");
    assert_eq!(
        me.body["permissions"],
        json!(["billing.invoices:read", "groups:read"])
    );
    s.get_as(&secret, "/api/v1/groups").assert_status(200);
    s.get_as(&secret, SA).assert_error(403, "PERMISSION_DENIED");

    // A change to the role applies to the very next request.
    s.patch(
        &format!("{ROLES}/billing"),
        json!({"permissions": ["service_accounts:read"]}),
    )
    .assert_status(200);
    s.get_as(&secret, SA).assert_status(200);
    s.get_as(&secret, "/api/v1/groups")
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(s.get(&format!("{ROLES}?query=bill")).body["total_count"], 1);
}

#[test]
fn a_bound_role_needs_force_to_delete_and_force_unbinds_it() {
    let s = TestServer::start();
    s.post(
        ROLES,
        json!({"name": "temp", "permissions": ["groups:read"]}),
    );
    let secret = s.create_account("holder", &["temp"]);
    s.post("/api/v1/groups", json!({"name": "g", "roles": ["temp"]}));
    s.delete(&format!("{ROLES}/temp"))
        .assert_error(409, "FAILED_PRECONDITION");
    s.get_as(&secret, "/api/v1/groups").assert_status(200);
    s.send(
        Method::DELETE,
        &format!("{ROLES}/temp?force=true"),
        Some(&s.token),
        None,
        &[],
    )
    .assert_status(204);
    s.get(&format!("{ROLES}/temp"))
        .assert_error(404, "NOT_FOUND");
    assert_eq!(s.get(&format!("{SA}/holder")).body["roles"], json!([]));
    assert_eq!(s.get("/api/v1/groups/g").body["roles"], json!([]));
    s.get_as(&secret, "/api/v1/groups")
        .assert_error(403, "PERMISSION_DENIED");
    s.post(ROLES, json!({"name": "free", "permissions": []}));
    s.delete(&format!("{ROLES}/free")).assert_status(204);
}

#[test]
fn nobody_writes_a_role_beyond_what_it_holds() {
    let s = TestServer::start();
    s.post(
        ROLES,
        json!({"name": "role-admin", "permissions": ["roles:read", "roles:write"]}),
    );
    let secret = s.create_account("ra", &["role-admin"]);
    // Raising its own role, or creating a stronger one, is refused.
    s.patch_as(
        &secret,
        &format!("{ROLES}/role-admin"),
        json!({"permissions": ["roles:read", "roles:write", "*"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    s.post_as(
        &secret,
        ROLES,
        json!({"name": "big", "permissions": ["service_accounts:write"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(
        s.get(&format!("{ROLES}/role-admin")).body["permissions"],
        json!(["roles:read", "roles:write"])
    );
    s.get(&format!("{ROLES}/big"))
        .assert_error(404, "NOT_FOUND");
    s.post_as(
        &secret,
        ROLES,
        json!({"name": "small", "permissions": ["roles:read"]}),
    )
    .assert_status(201);
}

#[test]
fn role_routes_need_role_permissions() {
    let s = TestServer::start();
    s.post(
        ROLES,
        json!({"name": "accounts-only", "permissions": ["service_accounts:read"]}),
    )
    .assert_status(201);
    let blind = s.create_account("blind", &["accounts-only"]);
    let viewer = s.create_account("v", &["viewer"]);
    s.get_as(&blind, ROLES)
        .assert_error(403, "PERMISSION_DENIED");
    s.get_as(&blind, &format!("{ROLES}/admin"))
        .assert_error(404, "NOT_FOUND");
    // An operator holds every permission of viewer, roles:read included.
    let operator = s.create_account("op", &["operator"]);
    s.get_as(&operator, ROLES).assert_status(200);
    s.get_as(&viewer, &format!("{ROLES}/admin"))
        .assert_status(200);
    s.post_as(&viewer, ROLES, json!({"name": "x", "permissions": []}))
        .assert_error(403, "PERMISSION_DENIED");
    s.patch_as(
        &viewer,
        &format!("{ROLES}/viewer"),
        json!({"description": "x"}),
    )
    .assert_error(403, "PERMISSION_DENIED");
}

#[test]
fn if_match_guards_role_and_group_changes() {
    let s = TestServer::start();
    let role = s.post(ROLES, json!({"name": "r", "permissions": ["groups:read"]}));
    let group = s.post("/api/v1/groups", json!({"name": "g"}));
    let stale = [("If-Match", "\"0000000000000000\"")];
    let body = json!({"description": "changed"});
    s.send(
        Method::PATCH,
        &format!("{ROLES}/r"),
        Some(&s.token),
        Some(&body),
        &stale,
    )
    .assert_error(412, "STALE_ETAG");
    s.send(
        Method::DELETE,
        &format!("{ROLES}/r"),
        Some(&s.token),
        None,
        &stale,
    )
    .assert_error(412, "STALE_ETAG");
    s.send(
        Method::DELETE,
        "/api/v1/groups/g",
        Some(&s.token),
        None,
        &stale,
    )
    .assert_error(412, "STALE_ETAG");
    assert_eq!(s.get(&format!("{ROLES}/r")).body["description"], "");
    s.get("/api/v1/groups/g").assert_status(200);
    let role_etag = role.body["etag"].as_str().unwrap();
    let ok = [("If-Match", role_etag)];
    s.send(
        Method::PATCH,
        &format!("{ROLES}/r"),
        Some(&s.token),
        Some(&body),
        &ok,
    )
    .assert_status(200);
    let group_etag = format!("\"{}\"", group.body["etag"].as_str().unwrap());
    s.send(
        Method::DELETE,
        "/api/v1/groups/g",
        Some(&s.token),
        None,
        &[("If-Match", &group_etag)],
    )
    .assert_status(204);
}
