//! Served `keyhouse` processes on one PostgreSQL database: a node killed with SIGKILL
//! mid-write loses no write it acknowledged, and the other node carries on.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::Served;
use crate::cluster;

#[test]
fn a_node_killed_mid_write_loses_no_acknowledged_write_and_the_other_carries_on() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let url = cluster.new_database();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("KEYHOUSE_STORAGE__BACKEND", "postgres"),
        ("KEYHOUSE_STORAGE__POSTGRES__URL", url.as_str()),
        ("KEYHOUSE_OAUTH__ISSUER", "https://keys.example"),
    ];
    let unused = dir.path().join("unused.redb");
    let mut doomed = Served::start(&unused, &env);
    let admin = doomed.printed_secret().unwrap();
    let survivor = Served::start(&unused, &env);
    let acknowledged = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for writer in 0..16 {
            // Half the writers on each node.
            let base = match writer % 2 {
                0 => doomed.base.clone(),
                _ => survivor.base.clone(),
            };
            let (admin, acknowledged) = (&admin, &acknowledged);
            scope.spawn(move || {
                let client = reqwest::blocking::Client::new();
                let started = Instant::now();
                for i in 0.. {
                    let name = format!("kill-{writer}-{i}");
                    let sent = client
                        .post(format!("{base}/api/v1/service-accounts"))
                        .bearer_auth(admin)
                        .json(&json!({ "name": name }))
                        .send();
                    match sent {
                        Ok(resp) if resp.status().as_u16() == 201 => {
                            acknowledged.lock().unwrap().push(name)
                        }
                        Ok(resp) => panic!("{name}: {}", resp.status()),
                        // The killed node's writers stop at the kill.
                        Err(_) => break,
                    }
                    // The survivor's writers stop once enough has been written after it.
                    if started.elapsed() > Duration::from_secs(60) || i >= 400 {
                        break;
                    }
                }
            });
        }
        // Writes go on on both nodes until the kill.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acknowledged.lock().unwrap().len() < 200 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        doomed.child.kill().unwrap();
        doomed.child.wait().unwrap();
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    let on_doomed = acknowledged
        .iter()
        .filter(|name| {
            name.split('-')
                .nth(1)
                .is_some_and(|w| w.parse::<u32>().unwrap() % 2 == 0)
        })
        .count();
    assert!(on_doomed > 10, "the killed node wrote: {on_doomed}");
    // The survivor served on after the kill, and reads every acknowledged write.
    let client = reqwest::blocking::Client::new();
    let created = client
        .post(format!("{}/api/v1/service-accounts", survivor.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "after-the-kill"}))
        .send()
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    for name in &acknowledged {
        let status = client
            .get(format!("{}/api/v1/service-accounts/{name}", survivor.base))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200, "{name} was acknowledged but is gone");
    }
    survivor.stop();
}
