//! Group commit over HTTP, on either engine: many writers at once, some refused, share
//! durable commits, and each is answered exactly as if it had been alone.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{TestServer, counter, names};
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";

#[test]
fn concurrent_writes_share_commits_and_each_is_answered_as_if_alone() {
    const CLIENTS: usize = 32;
    const REQUESTS: usize = 40;
    let s = TestServer::start();
    let (writes_before, durable_before) = (
        counter(&s.base, "keyhouse_store_write_transactions"),
        counter(&s.base, "keyhouse_store_durable_commits"),
    );
    // Every client tries names from one pool: most succeed once and then conflict; a
    // fifth bind a role that does not exist, and a few break the naming rule.
    let answers: Vec<(String, &str, u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let s = &s;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for i in 0..REQUESTS {
                        let n = (client * 7 + i * 13) % 400;
                        let (name, kind, body) = match (client + i) % 10 {
                            0 | 1 => (
                                format!("n-{n}"),
                                "ghost",
                                json!({"name": format!("n-{n}"), "roles": ["ghost"]}),
                            ),
                            2 => (
                                format!("N {n}"),
                                "invalid",
                                json!({"name": format!("N {n}")}),
                            ),
                            _ => (
                                format!("n-{n}"),
                                "plain",
                                json!({"name": format!("n-{n}"), "roles": ["viewer"]}),
                            ),
                        };
                        let reply = s.post(SA, body);
                        let id = reply.header("x-request-id").unwrap().to_owned();
                        out.push((name, kind, reply.status, id));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    for (name, kind, status, id) in &answers {
        let expected: &[u16] = match *kind {
            "ghost" => &[404],
            "invalid" => &[400],
            _ => &[201, 409],
        };
        assert!(expected.contains(status), "{name} ({kind}): {status}");
        if *status == 201 {
            assert!(
                created.insert(name.clone(), id.clone()).is_none(),
                "{name} was created twice"
            );
        }
    }
    // Every plain name was created exactly once, whatever conflicted with it.
    let tried: BTreeSet<&String> = answers
        .iter()
        .filter(|(_, kind, _, _)| *kind == "plain")
        .map(|(name, _, _, _)| name)
        .collect();
    assert_eq!(tried.len(), created.len());
    let mut listed = names(&s.get(&format!("{SA}?per_page=1000")).body);
    listed.retain(|n| n != "admin");
    assert_eq!(listed, created.keys().cloned().collect::<Vec<_>>());
    // The filters' sets, changed in memory through each batch and written at its
    // commit, agree with the list: a batch rolled back left none of its changes.
    let both = s.get(&format!("{SA}?role=viewer&status=active&per_page=1000"));
    assert_eq!(names(&both.body), listed);
    assert_eq!(both.body["total_count"], listed.len());
    let query: Vec<String> = listed
        .iter()
        .filter(|n| n.contains("n-1"))
        .cloned()
        .collect();
    let found = s.get(&format!("{SA}?query=n-1&per_page=1000"));
    assert_eq!(names(&found.body), query);
    assert_eq!(found.body["total_count"], query.len());
    // One audit event per created account, by the request that created it.
    let events = s
        .get("/api/v1/audit-events?action=service_account.create&per_page=1000")
        .body;
    let audited: BTreeMap<String, String> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"]["name"] != "admin")
        .map(|e: &Value| {
            (
                e["target"]["name"].as_str().unwrap().to_owned(),
                e["request_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(audited, created);
    // The writers shared durable commits.
    let writes = counter(&s.base, "keyhouse_store_write_transactions") - writes_before;
    let durable = counter(&s.base, "keyhouse_store_durable_commits") - durable_before;
    assert!(writes >= created.len() as u64);
    assert!(
        durable < writes,
        "{durable} durable commits for {writes} writes"
    );
}
