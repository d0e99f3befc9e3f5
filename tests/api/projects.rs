//! Projects over HTTP: create, read, list, change and delete, with their fields, etags,
//! credential policies within the server's settings, permissions and audit events.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{TestServer, names};
use reqwest::Method;
use serde_json::json;

const PROJECTS: &str = "/api/v1/projects";

#[test]
fn a_project_reads_with_every_field_and_its_counts() {
    let s = TestServer::start();
    let created = s.post(
        PROJECTS,
        json!({"name": "payments", "description": "The payments team.",
               "metadata": {"cost-center": "42"},
               "credential_policy": {"max_active": 3, "max_lifetime_days": 180, "default_lifetime_days": 90}}),
    );
    created.assert_status(201);
    assert_eq!(
        created.header("location"),
        Some("/api/v1/projects/payments")
    );
    let etag = created.body["etag"].as_str().unwrap().to_owned();
    assert_eq!(created.header("etag"), Some(format!("\"{etag}\"").as_str()));
    let read = s.get(&format!("{PROJECTS}/payments"));
    read.assert_status(200);
    let p = &read.body;
    assert_eq!(p["name"], "payments");
    assert_eq!(p["display_name"], "payments");
    assert_eq!(p["description"], "The payments team.");
    assert_eq!(p["metadata"], json!({"cost-center": "42"}));
    assert_eq!(
        p["credential_policy"],
        json!({"max_active": 3, "default_lifetime_days": 90, "max_lifetime_days": 180})
    );
    assert_eq!(
        (&p["sa_count"], &p["group_count"], &p["role_count"]),
        (&json!(0), &json!(0), &json!(0))
    );
    assert_eq!(p["lrn"], "lrn:keyhouse::project/payments");
    assert!(p["id"].is_string() && p["created_at"].is_string() && p["updated_at"].is_string());
    assert_eq!(p["etag"], etag.as_str());

    s.post(PROJECTS, json!({"name": "payments"}))
        .assert_error(409, "ALREADY_EXISTS");
    s.get(&format!("{PROJECTS}/nowhere"))
        .assert_error(404, "NOT_FOUND");
    s.get(&format!("{PROJECTS}/Not_A_Name"))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn a_policy_is_never_looser_than_the_server() {
    let s = TestServer::start();
    for (policy, field) in [
        (json!({"max_active": 6}), "credential_policy.max_active"),
        (
            json!({"max_lifetime_days": 731}),
            "credential_policy.max_lifetime_days",
        ),
        (
            json!({"max_lifetime_days": 100}),
            "credential_policy.default_lifetime_days",
        ),
        (json!({"max_active": 0}), "credential_policy.max_active"),
        (json!({"surprise": 1}), "body"),
    ] {
        let reply = s.post(PROJECTS, json!({"name": "p", "credential_policy": policy}));
        reply.assert_error(400, "INVALID_ARGUMENT");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(field)
                || reply.body["error"]["details"][0]["field"] == field,
            "{policy}: {}",
            reply.body
        );
    }
    s.get(&format!("{PROJECTS}/p"))
        .assert_error(404, "NOT_FOUND");
    s.post(PROJECTS, json!({"name": "p"})).assert_status(201);
    s.patch(
        &format!("{PROJECTS}/p"),
        json!({"credential_policy": {"max_active": 9}}),
    )
    .assert_error(400, "INVALID_ARGUMENT");
}

/// A policy is checked against the server's settings when it is written; when the
/// operator lowers them after, the lower settings hold in the project too.
#[test]
fn a_server_lowered_after_a_policy_holds_in_the_project() {
    let mut s = TestServer::start();
    let policy = json!({"max_active": 4, "max_lifetime_days": 400});
    s.post(PROJECTS, json!({"name": "p", "credential_policy": policy}))
        .assert_status(201);
    let accounts = format!("{PROJECTS}/p/service-accounts");
    s.post(&accounts, json!({"name": "bot", "initial_secret": false}))
        .assert_status(201);
    s.restart_with(|config| {
        config.credentials.limits.max_active = 2;
        config.credentials.limits.max_lifetime_days = 100;
        config.credentials.limits.default_lifetime_days = 30;
    })
    .unwrap();
    let credentials = format!("{accounts}/bot/credentials");
    let far = keyhouse::clock::now() + chrono::Duration::days(200);
    s.post(
        &credentials,
        json!({"name": "far", "expires_at": far.to_rfc3339()}),
    )
    .assert_error(400, "INVALID_ARGUMENT");
    for name in ["one", "two"] {
        s.post(&credentials, json!({"name": name}))
            .assert_status(201);
    }
    s.post(&credentials, json!({"name": "three"}))
        .assert_error(409, "LIMIT_EXCEEDED");
}

/// On a server whose credentials never expire and have no maximum (both lifetimes 0),
/// a project policy that sets only a default lifetime gives its new credentials that
/// default and bounds nothing else: the maximum it left out is the server's, none, so an
/// explicit expiry a hundred years ahead is taken. A project that wants a bound sets
/// `max_lifetime_days`, which then refuses it (docs/credentials.md).
#[test]
fn a_default_lifetime_alone_bounds_nothing_on_a_server_without_a_maximum() {
    let s = TestServer::start_with(|config| {
        config.credentials.limits.default_lifetime_days = 0;
        config.credentials.limits.max_lifetime_days = 0;
    });
    let policy = json!({"default_lifetime_days": 30});
    s.post(PROJECTS, json!({"name": "p", "credential_policy": policy}))
        .assert_status(201);
    let accounts = format!("{PROJECTS}/p/service-accounts");
    s.post(&accounts, json!({"name": "bot", "initial_secret": false}))
        .assert_status(201);
    let credentials = format!("{accounts}/bot/credentials");
    let now = keyhouse::clock::now();
    let by_default = s.post(&credentials, json!({}));
    by_default.assert_status(201);
    let expires: chrono::DateTime<chrono::Utc> = by_default.body["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let days = (expires - now).num_hours() as f64 / 24.0;
    assert!((29.9..30.1).contains(&days), "{}", by_default.body);
    let century = (now + chrono::Duration::days(36_525)).to_rfc3339();
    s.post(&credentials, json!({"expires_at": century}))
        .assert_status(201);
    let bounded =
        json!({"credential_policy": {"default_lifetime_days": 30, "max_lifetime_days": 60}});
    s.patch(&format!("{PROJECTS}/p"), bounded)
        .assert_status(200);
    s.post(&credentials, json!({"expires_at": century}))
        .assert_error(400, "INVALID_ARGUMENT");
}

#[test]
fn lists_page_and_filter_in_name_order() {
    let s = TestServer::start();
    for name in ["zeta", "alpha", "mid", "payments"] {
        s.post(
            PROJECTS,
            json!({"name": name, "display_name": format!("Team {name}")}),
        )
        .assert_status(201);
    }
    let first = s.get(&format!("{PROJECTS}?per_page=3"));
    assert_eq!(names(&first.body), ["alpha", "mid", "payments"]);
    assert_eq!(first.body["total_count"], 4);
    let token = first.body["next_page_token"].as_str().unwrap();
    let second = s.get(&format!("{PROJECTS}?per_page=3&page_token={token}"));
    assert_eq!(names(&second.body), ["zeta"]);
    let query = s.get(&format!("{PROJECTS}?query=TEAM%20P"));
    assert_eq!(names(&query.body), ["payments"]);
    assert_eq!(query.body["total_count"], 1);
}

#[test]
fn changes_follow_if_match_and_are_audited() {
    let s = TestServer::start();
    let created = s.post(PROJECTS, json!({"name": "p"}));
    let etag = created.body["etag"].as_str().unwrap().to_owned();
    let path = format!("{PROJECTS}/p");
    let change = json!({"display_name": "The P team"});
    s.send(
        Method::PATCH,
        &path,
        Some(&s.token),
        Some(&change),
        &[("If-Match", "\"0000000000000000\"")],
    )
    .assert_error(412, "STALE_ETAG");
    let changed = s.send(
        Method::PATCH,
        &path,
        Some(&s.token),
        Some(&change),
        &[("If-Match", &format!("\"{etag}\""))],
    );
    changed.assert_status(200);
    assert_eq!(changed.body["display_name"], "The P team");
    assert_ne!(changed.body["etag"], etag.as_str());
    s.send(
        Method::DELETE,
        &path,
        Some(&s.token),
        None,
        &[("If-Match", "\"0000000000000000\"")],
    )
    .assert_error(412, "STALE_ETAG");
    s.delete(&path).assert_status(204);
    s.get(&path).assert_error(404, "NOT_FOUND");

    let audit = s.get("/api/v1/audit-events?target=p");
    let actions: Vec<_> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].clone(), e["target"]["kind"].clone()))
        .collect();
    assert_eq!(
        actions,
        [
            (json!("project.create"), json!("project")),
            (json!("project.update"), json!("project")),
            (json!("project.delete"), json!("project")),
        ]
    );
}

#[test]
fn projects_need_projects_permissions() {
    let s = TestServer::start();
    s.post(PROJECTS, json!({"name": "p"})).assert_status(201);
    let viewer = s.create_account("v", &["viewer"]);
    let operator = s.create_account("op", &["operator"]);
    s.post(
        "/api/v1/roles",
        json!({"name": "accounts-only", "permissions": ["service_accounts:read"]}),
    )
    .assert_status(201);
    let blind = s.create_account("blind", &["accounts-only"]);

    // viewer and operator read projects, and change none.
    for reader in [&viewer, &operator] {
        s.get_as(reader, PROJECTS).assert_status(200);
        s.get_as(reader, &format!("{PROJECTS}/p"))
            .assert_status(200);
        s.post_as(reader, PROJECTS, json!({"name": "q"}))
            .assert_error(403, "PERMISSION_DENIED");
        s.patch_as(
            reader,
            &format!("{PROJECTS}/p"),
            json!({"description": "x"}),
        )
        .assert_error(403, "PERMISSION_DENIED");
        s.patch_as(
            reader,
            &format!("{PROJECTS}/nowhere"),
            json!({"description": "x"}),
        )
        .assert_error(404, "NOT_FOUND");
    }
    // Without projects:read, a caller that holds something in every project lists
    // them (the projects it may read anything in) but reads none: 403 for an existing
    // one, 404 for a missing one.
    assert_eq!(names(&s.get_as(&blind, PROJECTS).body), ["p"]);
    s.get_as(&blind, &format!("{PROJECTS}/p"))
        .assert_error(403, "PERMISSION_DENIED");
    s.get_as(&blind, &format!("{PROJECTS}/nowhere"))
        .assert_error(404, "NOT_FOUND");
    // A caller that holds nothing at all lists nothing.
    let nothing = s.create_account("nothing", &[]);
    s.get_as(&nothing, PROJECTS)
        .assert_error(403, "PERMISSION_DENIED");
    s.get_as(&nothing, &format!("{PROJECTS}/p"))
        .assert_error(404, "NOT_FOUND");
}
