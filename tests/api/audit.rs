//! The audit trail over HTTP: one event per successful change, in its transaction, none
//! for a refused one, never a secret; filters and paging.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::TestServer;
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";
const AUDIT: &str = "/api/v1/audit-events";

fn events(s: &TestServer, query: &str) -> Vec<Value> {
    s.get(&format!("{AUDIT}?{query}")).body["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn every_change_is_recorded_once_with_its_request_id() {
    let s = TestServer::start();
    let created = s.post(
        SA,
        json!({"name": "bot", "display_name": "Bot", "initial_secret": {}}),
    );
    let secret = created.body["secret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let updated = s.patch(&format!("{SA}/bot"), json!({"display_name": "Bot 2"}));
    s.patch(&format!("{SA}/bot"), json!({"display_name": "Bot 2"}))
        .assert_status(200);
    s.post(SA, json!({"name": "bot"}))
        .assert_error(409, "ALREADY_EXISTS");
    s.post(SA, json!({"name": "x", "roles": ["ghost"]}))
        .assert_error(404, "NOT_FOUND");
    let deleted = s.delete(&format!("{SA}/bot"));

    let all = events(&s, "");
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "service_account.create",
            "service_account.create",
            "service_account.update",
            "service_account.delete"
        ],
        "bootstrap, then one per successful change, none for refusals or no-ops"
    );
    let seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(all[0]["actor"], json!({"id": null, "name": "bootstrap"}));
    let create = &all[1];
    assert_eq!(create["actor"]["name"], "admin");
    assert_eq!(create["target"]["kind"], "service_account");
    assert_eq!(create["target"]["name"], "bot");
    assert_eq!(
        create["request_id"],
        created.header("x-request-id").unwrap()
    );
    assert_eq!(
        create["changes"]["display_name"],
        json!({"from": null, "to": "Bot"})
    );
    assert_eq!(
        all[2]["changes"]["display_name"],
        json!({"from": "Bot", "to": "Bot 2"})
    );
    assert_eq!(
        all[2]["request_id"],
        updated.header("x-request-id").unwrap()
    );
    assert_eq!(
        all[3]["request_id"],
        deleted.header("x-request-id").unwrap()
    );
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains(&secret), "never a secret");
    assert!(!text.contains(&s.token), "never a secret");
}

#[test]
fn filters_and_paging() {
    let s = TestServer::start();
    let op = s.create_account("op", &["operator"]);
    s.post_as(&op, SA, json!({"name": "made-by-op"}))
        .assert_status(201);
    s.post("/api/v1/groups", json!({"name": "g"}));
    let by_actor = events(&s, "actor=op");
    assert_eq!(by_actor.len(), 1);
    assert_eq!(by_actor[0]["target"]["name"], "made-by-op");
    assert_eq!(events(&s, "action=group.create").len(), 1);
    assert_eq!(events(&s, "target=g").len(), 1);
    let id = by_actor[0]["actor"]["id"].as_str().unwrap().to_owned();
    assert_eq!(events(&s, &format!("actor={id}")).len(), 1);
    assert_eq!(events(&s, "since=2999-01-01T00:00:00Z").len(), 0);
    assert_eq!(events(&s, "until=2000-01-01T00:00:00Z").len(), 0);
    s.get(&format!("{AUDIT}?since=yesterday"))
        .assert_error(400, "INVALID_ARGUMENT");

    let first = s.get(&format!("{AUDIT}?per_page=2"));
    assert_eq!(first.body["total_count"], 4);
    let t = first.body["next_page_token"].as_str().unwrap();
    let second = s.get(&format!("{AUDIT}?per_page=2&page_token={t}"));
    let seqs: Vec<u64> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4]);
    assert!(second.body["next_page_token"].is_null());
}

#[test]
fn reading_the_trail_needs_audit_read() {
    let s = TestServer::start();
    let viewer = s.create_account("v", &["viewer"]);
    s.get_as(&viewer, AUDIT)
        .assert_error(403, "PERMISSION_DENIED");
    let operator = s.create_account("o", &["operator"]);
    s.get_as(&operator, AUDIT)
        .assert_error(403, "PERMISSION_DENIED");
    s.get(AUDIT).assert_status(200);
}

/// A project deleted and made anew under its old name: the root's `?project=` filter
/// names the project that bears the name now, so it lists that project's events only,
/// as its own trail does; with no project of that name, the events recorded under it.
#[test]
fn a_project_made_anew_under_an_old_name_does_not_mix_trails() {
    let s = TestServer::start();
    let targets = |query: &str| -> Vec<String> {
        events(&s, query)
            .iter()
            .map(|e| e["target"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    s.post("/api/v1/projects", json!({"name": "pay"}))
        .assert_status(201);
    s.post(
        "/api/v1/projects/pay/service-accounts",
        json!({"name": "old-bot", "initial_secret": false}),
    )
    .assert_status(201);
    s.delete("/api/v1/projects/pay?force=true")
        .assert_status(204);
    assert_eq!(targets("project=pay"), ["old-bot"]);
    s.post("/api/v1/projects", json!({"name": "pay"}))
        .assert_status(201);
    s.post(
        "/api/v1/projects/pay/service-accounts",
        json!({"name": "new-bot", "initial_secret": false}),
    )
    .assert_status(201);
    assert_eq!(targets("project=pay"), ["new-bot"]);
    let own: Vec<String> = s.get("/api/v1/projects/pay/audit-events").body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(own, ["new-bot"]);
    // Every event is still in the unfiltered trail.
    let all = targets("");
    assert!(all.contains(&"old-bot".to_owned()) && all.contains(&"new-bot".to_owned()));
}
