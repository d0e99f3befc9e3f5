//! Groups and membership over HTTP: CRUD, both membership directions with their exact
//! semantics, atomicity, counts, and a concurrency run checked against the audit trail.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{Reply, TestServer, names};
use reqwest::Method;
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";
const GROUPS: &str = "/api/v1/groups";

fn group_names(account: &Value) -> Vec<String> {
    account["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

fn put(s: &TestServer, path: &str, body: Value) -> Reply {
    s.send(Method::PUT, path, Some(&s.token), Some(&body), &[])
}

#[test]
fn groups_have_every_field_and_a_lifecycle() {
    let s = TestServer::start();
    let created = s.post(
        GROUPS,
        json!({"name": "deployers", "description": "ship it", "metadata": {"k": "v"}, "roles": ["viewer"]}),
    );
    created.assert_status(201);
    let g = &created.body;
    assert_eq!(g["display_name"], "deployers");
    assert_eq!(g["roles"], json!(["viewer"]));
    assert_eq!(
        (g["sa_count"].as_u64(), g["role_count"].as_u64()),
        (Some(0), Some(1))
    );
    for field in ["id", "created_at", "updated_at", "etag"] {
        assert!(g[field].is_string(), "{field}");
    }
    assert_eq!(
        created.header("etag").unwrap(),
        format!("\"{}\"", g["etag"].as_str().unwrap())
    );
    s.post(GROUPS, json!({"name": "deployers"}))
        .assert_error(409, "ALREADY_EXISTS");
    s.post(GROUPS, json!({"name": "Bad"}))
        .assert_error(400, "INVALID_ARGUMENT");
    s.post(GROUPS, json!({"name": "x", "roles": ["ghost"]}))
        .assert_error(404, "NOT_FOUND");
    s.get(&format!("{GROUPS}/x")).assert_error(404, "NOT_FOUND");

    let patched = s.patch(
        &format!("{GROUPS}/deployers"),
        json!({"display_name": "Deployers", "roles": []}),
    );
    patched.assert_status(200);
    assert_eq!(patched.body["description"], "ship it");
    assert_eq!(patched.body["role_count"], 0);
    let stale = s.send(
        Method::PATCH,
        &format!("{GROUPS}/deployers"),
        Some(&s.token),
        Some(&json!({"description": "x"})),
        &[("If-Match", "\"0\"")],
    );
    stale.assert_error(412, "STALE_ETAG");

    for i in 0..3 {
        s.post(
            GROUPS,
            json!({"name": format!("team-{i}"), "display_name": format!("Team {i}")}),
        );
    }
    let list = s.get(&format!("{GROUPS}?per_page=2"));
    assert_eq!(names(&list.body), ["deployers", "team-0"]);
    assert_eq!(list.body["total_count"], 4);
    let t = list.body["next_page_token"].as_str().unwrap();
    assert_eq!(
        names(&s.get(&format!("{GROUPS}?per_page=2&page_token={t}")).body),
        ["team-1", "team-2"]
    );
    assert_eq!(
        names(&s.get(&format!("{GROUPS}?query=TEAM%201")).body),
        ["team-1"]
    );

    s.delete(&format!("{GROUPS}/team-0")).assert_status(204);
    s.get(&format!("{GROUPS}/team-0"))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn account_side_membership_follows_the_contract() {
    let s = TestServer::start();
    for g in ["a", "b", "c"] {
        s.post(GROUPS, json!({ "name": g })).assert_status(201);
    }
    s.post(SA, json!({"name": "bot"})).assert_status(201);
    let path = format!("{SA}/bot/groups");

    let r = put(&s, &path, json!({"add_to_groups": ["a", "b"]}));
    r.assert_status(200);
    assert_eq!(group_names(&r.body), ["a", "b"]);
    assert_eq!(
        r.header("etag").unwrap(),
        format!("\"{}\"", r.body["etag"].as_str().unwrap())
    );
    assert_eq!(s.get(&format!("{GROUPS}/a")).body["sa_count"], 1);

    // Remove wins over add; repeating a change changes nothing.
    let r = put(
        &s,
        &path,
        json!({"add_to_groups": ["c"], "remove_from_groups": ["c", "a"]}),
    );
    assert_eq!(group_names(&r.body), ["b"]);
    let etag = r.body["etag"].clone();
    let again = put(
        &s,
        &path,
        json!({"add_to_groups": ["c"], "remove_from_groups": ["c", "a"]}),
    );
    again.assert_status(200);
    assert_eq!(again.body["etag"], etag, "idempotent");

    // set is exclusive, and replaces.
    put(
        &s,
        &path,
        json!({"set_groups": ["a"], "add_to_groups": ["b"]}),
    )
    .assert_error(400, "INVALID_ARGUMENT");
    let r = put(&s, &path, json!({"set_groups": ["a", "c"]}));
    assert_eq!(group_names(&r.body), ["a", "c"]);
    assert_eq!(s.get(&format!("{GROUPS}/b")).body["sa_count"], 0);

    // One unknown group: 404 naming it, and nothing changes.
    let r = put(
        &s,
        &path,
        json!({"add_to_groups": ["b", "ghost"], "remove_from_groups": ["a"]}),
    );
    r.assert_error(404, "NOT_FOUND");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );
    let now = s.get(&format!("{SA}/bot"));
    assert_eq!(group_names(&now.body), ["a", "c"]);
    assert_eq!(s.get(&format!("{GROUPS}/b")).body["sa_count"], 0);
    assert_eq!(s.get(&format!("{GROUPS}/a")).body["sa_count"], 1);

    // If-Match against the account's etag.
    let stale = s.send(
        Method::PUT,
        &path,
        Some(&s.token),
        Some(&json!({"set_groups": []})),
        &[("If-Match", "\"0\"")],
    );
    stale.assert_error(412, "STALE_ETAG");
    let current = now.body["etag"].as_str().unwrap();
    let ok = s.send(
        Method::PUT,
        &path,
        Some(&s.token),
        Some(&json!({"set_groups": []})),
        &[("If-Match", current)],
    );
    ok.assert_status(200);
    assert_eq!(group_names(&ok.body), Vec::<String>::new());

    put(
        &s,
        &format!("{SA}/nobody/groups"),
        json!({"add_to_groups": ["a"]}),
    )
    .assert_error(404, "NOT_FOUND");
    put(&s, &path, json!({"add_to_groups": ["Bad"]})).assert_error(400, "INVALID_ARGUMENT");
}

#[test]
fn group_side_membership_follows_the_contract() {
    let s = TestServer::start();
    s.post(GROUPS, json!({"name": "g"}));
    for a in ["x", "y", "z"] {
        s.post(SA, json!({ "name": a }));
    }
    let path = format!("{GROUPS}/g/members");
    let r = put(&s, &path, json!({"add": ["z", "x"]}));
    r.assert_status(200);
    assert_eq!(names(&r.body), ["x", "z"]);
    assert_eq!(r.body["total_count"], 2);
    assert_eq!(group_names(&s.get(&format!("{SA}/x")).body), ["g"]);

    let r = put(&s, &path, json!({"add": ["y"], "remove": ["y", "x"]}));
    assert_eq!(names(&r.body), ["z"]);
    put(&s, &path, json!({"set": ["x"], "remove": ["z"]})).assert_error(400, "INVALID_ARGUMENT");
    let r = put(&s, &path, json!({"add": ["x", "ghost"]}));
    r.assert_error(404, "NOT_FOUND");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );
    assert_eq!(s.get(&format!("{GROUPS}/g")).body["sa_count"], 1);
    let r = put(&s, &path, json!({"set": ["x", "y"]}));
    assert_eq!(names(&r.body), ["x", "y"]);
    assert_eq!(
        group_names(&s.get(&format!("{SA}/z")).body),
        Vec::<String>::new()
    );

    let members = s.get(&format!("{path}?per_page=1"));
    assert_eq!(names(&members.body), ["x"]);
    assert_eq!(members.body["total_count"], 2);
    assert_eq!(members.body["items"][0]["status"], "active");

    let list = s.get(&format!("{SA}?group=g"));
    assert_eq!(names(&list.body), ["x", "y"]);
    assert_eq!(s.get(&format!("{SA}?group=ghost")).body["total_count"], 0);
}

#[test]
fn deleting_a_group_or_account_drops_its_memberships_at_once() {
    let s = TestServer::start();
    s.post(GROUPS, json!({"name": "g1"}));
    s.post(GROUPS, json!({"name": "g2"}));
    s.post(SA, json!({"name": "m1", "groups": ["g1", "g2"]}))
        .assert_status(201);
    s.post(SA, json!({"name": "m2", "groups": ["g1"]}))
        .assert_status(201);
    assert_eq!(s.get(&format!("{GROUPS}/g1")).body["sa_count"], 2);
    s.delete(&format!("{GROUPS}/g1")).assert_status(204);
    assert_eq!(group_names(&s.get(&format!("{SA}/m1")).body), ["g2"]);
    assert_eq!(
        group_names(&s.get(&format!("{SA}/m2")).body),
        Vec::<String>::new()
    );
    s.delete(&format!("{SA}/m1")).assert_status(204);
    assert_eq!(s.get(&format!("{GROUPS}/g2")).body["sa_count"], 0);
    assert_eq!(
        s.get(&format!("{GROUPS}/g2/members")).body["items"],
        json!([])
    );
    s.post(GROUPS, json!({"name": "g1"})).assert_status(201);
    assert_eq!(
        s.get(&format!("{GROUPS}/g1")).body["sa_count"],
        0,
        "a new group inherits nothing"
    );
}

#[test]
fn group_roles_give_their_members_permissions_at_once() {
    let s = TestServer::start();
    let secret = s.create_account("member", &[]);
    s.post(GROUPS, json!({"name": "readers", "roles": ["viewer"]}));
    s.get_as(&secret, SA).assert_error(403, "PERMISSION_DENIED");
    put(
        &s,
        &format!("{GROUPS}/readers/members"),
        json!({"add": ["member"]}),
    )
    .assert_status(200);
    s.get_as(&secret, SA).assert_status(200);
    let me = s.get_as(&secret, "/api/v1/me");
    assert!(
        me.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("service_accounts:read"))
    );
    s.patch(&format!("{GROUPS}/readers"), json!({"roles": []}));
    s.get_as(&secret, SA).assert_error(403, "PERMISSION_DENIED");
}

#[test]
fn an_operator_cannot_reach_admin_through_a_group() {
    let s = TestServer::start();
    let operator = s.create_account("op", &["operator"]);
    s.post(GROUPS, json!({"name": "admins", "roles": ["admin"]}));
    s.post(GROUPS, json!({"name": "ops", "roles": ["operator"]}));
    s.post(SA, json!({"name": "other"}));
    let attempts = [
        (
            format!("{SA}/op/groups"),
            json!({"add_to_groups": ["admins"]}),
        ),
        (
            format!("{SA}/other/groups"),
            json!({"set_groups": ["ops", "admins"]}),
        ),
        (format!("{GROUPS}/admins/members"), json!({"add": ["op"]})),
        (
            format!("{GROUPS}/admins/members"),
            json!({"set": ["other"]}),
        ),
    ];
    for (path, body) in attempts {
        s.send(Method::PUT, &path, Some(&operator), Some(&body), &[])
            .assert_error(403, "PERMISSION_DENIED");
    }
    s.post_as(
        &operator,
        SA,
        json!({"name": "sneaky", "groups": ["admins"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    s.post_as(
        &operator,
        GROUPS,
        json!({"name": "mine", "roles": ["admin"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    s.patch_as(
        &operator,
        &format!("{GROUPS}/ops"),
        json!({"roles": ["operator", "admin"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(s.get(&format!("{GROUPS}/admins")).body["sa_count"], 0);
    assert_eq!(
        group_names(&s.get(&format!("{SA}/other")).body),
        Vec::<String>::new()
    );
    assert_eq!(
        s.get(&format!("{GROUPS}/ops")).body["roles"],
        json!(["operator"])
    );
    s.get(&format!("{SA}/sneaky"))
        .assert_error(404, "NOT_FOUND");
    s.get(&format!("{GROUPS}/mine"))
        .assert_error(404, "NOT_FOUND");
    // Within its own roles, the operator may manage membership.
    s.send(
        Method::PUT,
        &format!("{SA}/other/groups"),
        Some(&operator),
        Some(&json!({"add_to_groups": ["ops"]})),
        &[],
    )
    .assert_status(200);
}

/// A small deterministic generator, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn subset(&mut self, items: &[String]) -> Vec<String> {
        items
            .iter()
            .filter(|_| self.below(3) == 0)
            .cloned()
            .collect()
    }
}

#[test]
fn concurrent_membership_changes_stay_exact_and_audited_once() {
    let s = TestServer::start();
    membership_storm(&s, &["/api/v1"]);
}

/// The same run in two projects at once, with the same names in each: neither
/// disturbs the other, and each project's trail replays to its own final state.
#[test]
fn concurrent_membership_changes_in_two_projects_stay_apart() {
    let s = TestServer::start();
    for project in ["p1", "p2"] {
        s.post("/api/v1/projects", json!({"name": project}))
            .assert_status(201);
    }
    membership_storm(&s, &["/api/v1/projects/p1", "/api/v1/projects/p2"]);
}

/// Under each of `bases` (the API's root or a project's), 6 groups and 10 accounts,
/// then 16 clients per base at once sending 200 random membership changes each (some
/// naming a missing group); afterwards both directions of every membership agree, and
/// the base's audit trail has one event per changing request, none for a refused one,
/// and replays to the final state.
fn membership_storm(s: &TestServer, bases: &[&str]) {
    const CLIENTS: usize = 16;
    const REQUESTS: usize = 200;
    let groups: Vec<String> = (0..6).map(|i| format!("g{i}")).collect();
    let accounts: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
    for base in bases {
        for g in &groups {
            s.post(&format!("{base}/groups"), json!({ "name": g }))
                .assert_status(201);
        }
        for a in &accounts {
            s.post(&format!("{base}/service-accounts"), json!({ "name": a }))
                .assert_status(201);
        }
    }
    let start_seq = s.get("/api/v1/audit-events?per_page=1").body["total_count"]
        .as_u64()
        .unwrap();

    let results: Vec<Vec<(u16, String)>> = std::thread::scope(|scope| {
        let handles: Vec<Vec<_>> = bases
            .iter()
            .enumerate()
            .map(|(b, base)| {
                (0..CLIENTS)
                    .map(|client| {
                        let (groups, accounts) = (&groups, &accounts);
                        let seed = 0x9E37_79B9_7F4A_7C15 ^ ((b * CLIENTS + client) as u64 + 1);
                        scope.spawn(move || storm_client(s, base, groups, accounts, seed, REQUESTS))
                    })
                    .collect()
            })
            .collect();
        handles
            .into_iter()
            .map(|of_base| {
                of_base
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect()
            })
            .collect()
    });
    for (base, results) in bases.iter().zip(results) {
        assert_eq!(results.len(), CLIENTS * REQUESTS);
        let final_state = memberships_agree(s, base, &groups, &accounts);
        let events = replay_trail(s, base, start_seq, &results, &accounts, &final_state);
        assert!(
            events > CLIENTS * REQUESTS / 4,
            "most changes change something: {events}"
        );
    }
}

/// One client of the storm: `requests` random membership changes under `base`, each
/// answered 200 or 404 (a missing group); answers each status and request id.
fn storm_client(
    s: &TestServer,
    base: &str,
    groups: &[String],
    accounts: &[String],
    seed: u64,
    requests: usize,
) -> Vec<(u16, String)> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for _ in 0..requests {
        let (path, body) = if rng.below(2) == 0 {
            let a = &accounts[rng.below(accounts.len())];
            let mut add = rng.subset(groups);
            if rng.below(20) == 0 {
                add.push("ghost".into());
            }
            let body = match rng.below(3) {
                0 => json!({"set_groups": rng.subset(groups)}),
                _ => json!({"add_to_groups": add, "remove_from_groups": rng.subset(groups)}),
            };
            (format!("{base}/service-accounts/{a}/groups"), body)
        } else {
            let g = &groups[rng.below(groups.len())];
            let body = match rng.below(3) {
                0 => json!({"set": rng.subset(accounts)}),
                _ => json!({"add": rng.subset(accounts), "remove": rng.subset(accounts)}),
            };
            (format!("{base}/groups/{g}/members"), body)
        };
        let reply = s.send(Method::PUT, &path, Some(&s.token), Some(&body), &[]);
        assert!(
            reply.status == 200 || reply.status == 404,
            "{} {}",
            reply.status,
            reply.body
        );
        out.push((
            reply.status,
            reply.header("x-request-id").unwrap().to_owned(),
        ));
    }
    out
}

/// Every group's count equals its member list, and both directions agree; answers each
/// account's groups.
fn memberships_agree(
    s: &TestServer,
    base: &str,
    groups: &[String],
    accounts: &[String],
) -> BTreeMap<String, BTreeSet<String>> {
    let mut members_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for g in groups {
        let group = s.get(&format!("{base}/groups/{g}")).body;
        let members: BTreeSet<String> = names(
            &s.get(&format!("{base}/groups/{g}/members?per_page=1000"))
                .body,
        )
        .into_iter()
        .collect();
        assert_eq!(
            group["sa_count"].as_u64().unwrap() as usize,
            members.len(),
            "{base} {g}"
        );
        members_of.insert(g.clone(), members);
    }
    let mut final_state = BTreeMap::new();
    for a in accounts {
        let account_groups: BTreeSet<String> =
            group_names(&s.get(&format!("{base}/service-accounts/{a}")).body)
                .into_iter()
                .collect();
        for g in groups {
            assert_eq!(
                members_of[g].contains(a),
                account_groups.contains(g),
                "{base}: {a} in {g}"
            );
        }
        final_state.insert(a.clone(), account_groups);
    }
    final_state
}

/// The audit trail of `base` after `start_seq`: one event per changing 2xx request of
/// `results`, none for a failed one, and replaying the events from the empty start
/// gives exactly `final_state`. Answers how many events there were.
fn replay_trail(
    s: &TestServer,
    base: &str,
    start_seq: u64,
    results: &[(u16, String)],
    accounts: &[String],
    final_state: &BTreeMap<String, BTreeSet<String>>,
) -> usize {
    let ok_ids: BTreeSet<&str> = results
        .iter()
        .filter(|(st, _)| *st == 200)
        .map(|(_, id)| id.as_str())
        .collect();
    assert!(
        results.iter().any(|(st, _)| *st != 200),
        "the run should include refused changes"
    );
    let events = s.every_item(&s.token, &format!("{base}/audit-events?per_page=1000"));
    let events: Vec<Value> = events
        .into_iter()
        .filter(|e| e["seq"].as_u64().unwrap() > start_seq)
        .collect();
    let project = base.strip_prefix("/api/v1/projects/").map(str::to_owned);
    let mut seen = BTreeSet::new();
    let mut state: BTreeMap<String, BTreeSet<String>> = accounts
        .iter()
        .map(|a| (a.clone(), BTreeSet::new()))
        .collect();
    let list = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    for e in &events {
        let id = e["request_id"].as_str().unwrap();
        assert!(
            ok_ids.contains(id),
            "an event for a request that did not succeed here: {e}"
        );
        assert!(
            seen.insert(id.to_owned()),
            "two events for one request: {e}"
        );
        assert_eq!(e["project"], json!(project), "{e}");
        let target = e["target"]["name"].as_str().unwrap().to_owned();
        match e["action"].as_str().unwrap() {
            "service_account.groups.update" => {
                let change = &e["changes"]["groups"];
                assert_eq!(list(&change["from"]), state[&target], "replay of {e}");
                assert_ne!(
                    change["from"], change["to"],
                    "an event for a change of nothing: {e}"
                );
                state.insert(target, list(&change["to"]));
            }
            "group.members.update" => {
                assert!(
                    e["changes"].as_object().is_some_and(|c| !c.is_empty()),
                    "an event for nothing: {e}"
                );
                for a in list(&e["changes"]["members.added"]["to"]) {
                    assert!(
                        state.get_mut(&a).unwrap().insert(target.clone()),
                        "replay of {e}"
                    );
                }
                for a in list(&e["changes"]["members.removed"]["from"]) {
                    assert!(state.get_mut(&a).unwrap().remove(&target), "replay of {e}");
                }
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(
        &state, final_state,
        "the audit trail of {base} replays to the final state"
    );
    assert!(events.len() <= ok_ids.len());
    events.len()
}
