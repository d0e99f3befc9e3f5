//! The PostgreSQL backend, beyond the whole suite run on it (`KEYHOUSE_TEST_BACKEND=
//! postgres`): several nodes on one database, and names that would break SQL built
//! from text. Each test starts its own database on the shared throwaway cluster, and
//! skips (one line on stderr, once) where no PostgreSQL binaries are found.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use keyhouse::config::{Backend, Config};
use serde_json::json;

use crate::cluster;
use crate::common::{TestServer, names};

/// The settings of a node on the database `url`.
fn on(url: &str) -> impl FnOnce(&mut Config) + '_ {
    move |config| {
        config.storage.backend = Backend::Postgres;
        config.storage.postgres.url = Some(url.to_owned());
        config.storage.postgres.pool_size = 2;
    }
}

#[test]
fn a_write_on_one_node_is_read_at_once_on_another() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let url = cluster.new_database();
    let a = TestServer::start_with(on(&url));
    let b = TestServer::start_with(on(&url));
    // The first node made the admin; the second found it, and serves it.
    a.post("/api/v1/service-accounts", json!({"name": "made-on-a"}))
        .assert_status(201);
    let listed = b.get_as(&a.token, "/api/v1/service-accounts");
    listed.assert_status(200);
    assert!(names(&listed.body).contains(&"made-on-a".to_owned()));
    b.patch_as(
        &a.token,
        "/api/v1/service-accounts/made-on-a",
        json!({"description": "changed on b"}),
    )
    .assert_status(200);
    let read = a.get("/api/v1/service-accounts/made-on-a");
    assert_eq!(read.body["description"], "changed on b");
}

#[test]
fn text_that_would_break_built_sql_is_stored_as_it_is() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let s = TestServer::start_with(on(&cluster.new_database()));
    let tricky = "it's $1 \"quoted\"; DROP TABLE kh_accounts_v1; -- \\ '' $$";
    let created = s.post(
        "/api/v1/service-accounts",
        json!({"name": "quotes", "description": tricky, "metadata": {"k'$1": tricky}}),
    );
    created.assert_status(201);
    let read = s.get("/api/v1/service-accounts/quotes");
    assert_eq!(read.body["description"], tricky);
    assert_eq!(read.body["metadata"]["k'$1"], tricky);
    let found = s.get("/api/v1/service-accounts?query=%27%241");
    found.assert_status(200);
    assert_eq!(names(&found.body).len(), 0, "names hold no quote");
    assert_eq!(s.get("/api/v1/service-accounts").body["total_count"], 2);
}

#[test]
fn a_node_refuses_a_database_it_cannot_reach_naming_no_password() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    // A port nothing listens on, and a password that must not be shown.
    let url = format!(
        "host=127.0.0.1 port={} user=postgres password=hunter2-secret dbname=none connect_timeout=2",
        cluster.port + 1
    );
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    on(&url)(&mut config);
    let refused = match keyhouse::server::spawn(config) {
        Ok(_) => panic!("a node started without its database"),
        Err(err) => format!("{err} {err:?}"),
    };
    assert!(refused.contains("127.0.0.1"), "{refused}");
    assert!(!refused.contains("hunter2"), "{refused}");
}
