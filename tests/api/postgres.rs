//! The PostgreSQL backend, beyond the whole suite run on it (`KEYHOUSE_TEST_BACKEND=
//! postgres`): several nodes on one database, and names that would break SQL built
//! from text. Each test starts its own database on the shared throwaway cluster, and
//! skips (one line on stderr, once) where no PostgreSQL binaries are found.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use keyhouse::config::{Backend, ChangeFeed, Config};
use serde_json::json;

use crate::cluster;
use crate::common::{TestServer, names};

/// The settings of a node on the database `url`. The nodes of one installation share
/// its issuer, as they would behind one address.
fn on(url: &str) -> impl FnOnce(&mut Config) + '_ {
    move |config| {
        config.oauth.issuer = Some("https://keys.example".to_owned());
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

/// Polls `check` until it holds or `within` has passed.
fn eventually(within: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::yield_now();
    }
    check()
}

/// Whether `check` holds within `within` of answering time on `node`: what another node
/// changed reaches it through the database, which takes a moment. Each round also reads
/// from `node`'s database, and a round that took over 50 ms does not count against
/// `within` (nor does anything past 30 s of wall time): on a loaded machine (the whole
/// suite runs at once on two cores, against one cluster) a request or a query may wait
/// that long for a core, and what is measured is how soon the change arrives, not how
/// busy the machine is.
fn soon(
    node: &TestServer,
    token: &str,
    within: std::time::Duration,
    mut check: impl FnMut() -> bool,
) -> bool {
    let stall = std::time::Duration::from_millis(50);
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut counted = std::time::Duration::ZERO;
    while counted < within && std::time::Instant::now() < give_up {
        let started = std::time::Instant::now();
        node.get_as(token, "/api/v1/service-accounts?per_page=1")
            .assert_status(200);
        if check() {
            return true;
        }
        let took = started.elapsed();
        if took < stall {
            counted += took;
        }
        std::thread::yield_now();
    }
    false
}

#[test]
fn what_a_node_remembers_is_dropped_when_another_node_changes_it() {
    cached_state_follows_other_nodes(ChangeFeed::Listen);
}

/// As above, for a database without `LISTEN`: the nodes poll each other's counters.
#[test]
fn what_a_node_remembers_is_dropped_through_polled_counters_too() {
    cached_state_follows_other_nodes(ChangeFeed::Poll);
}

fn cached_state_follows_other_nodes(feed: ChangeFeed) {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let url = cluster.new_database();
    let node = || {
        TestServer::start_with(|config: &mut Config| {
            on(&url)(config);
            config.storage.postgres.changes = feed;
        })
    };
    let (a, b) = (node(), node());
    let secret = a.create_account("worker", &["viewer"]);
    // Node b remembers the authentication after its first use.
    b.get_as(&secret, "/api/v1/me").assert_status(200);
    b.get_as(&secret, "/api/v1/me").assert_status(200);
    a.patch(
        "/api/v1/service-accounts/worker",
        json!({"status": "disabled"}),
    )
    .assert_status(200);
    let second = std::time::Duration::from_secs(1);
    assert!(
        soon(&b, &a.token, second, || {
            b.get_as(&secret, "/api/v1/me").status == 401
        }),
        "node b still serves a disabled account"
    );

    // A key rotated on a: b verifies the tokens it signs, and publishes it.
    a.post("/api/v1/signing-keys/rotate", json!({}))
        .assert_status(201);
    let caller = a.create_account("caller", &["viewer"]);
    let grant = a.form(
        "/oauth2/token",
        Some(("caller", &caller)),
        &[("grant_type", "client_credentials")],
    );
    grant.assert_status(200);
    let token = grant.body["access_token"].as_str().unwrap().to_owned();
    // Watched on the key set: a token refused again and again would meet b's limit
    // on failed authentications.
    let keys = a.get("/.well-known/jwks.json").body;
    assert!(
        soon(&b, &a.token, second, || {
            b.get("/.well-known/jwks.json").body == keys
        }),
        "node b does not know the key node a rotated to: a has {keys}, b {}",
        b.get("/.well-known/jwks.json").body
    );
    b.get_as(&token, "/api/v1/me").assert_status(200);
    // A token revoked on a is refused on b.
    a.form_as(&a.token, "/oauth2/revoke", &[("token", &token)])
        .assert_status(200);
    assert!(
        soon(&b, &a.token, second, || {
            b.get_as(&token, "/api/v1/me").status == 401
        }),
        "node b still takes a token revoked on node a"
    );
}

/// The database stops as in a crash and comes back: meanwhile writes are 503 with
/// `Retry-After` and the usual body, quickly; `/readyz` says why; a secret already
/// verified keeps reading `/me` and getting access tokens, which work. Afterwards the node serves again on its own, and every
/// write it acknowledged is there.
#[test]
fn a_node_answers_503_while_its_database_is_down_and_recovers_alone() {
    let Some(cluster) = cluster::OwnCluster::start() else {
        return;
    };
    let url = cluster.url();
    let s = TestServer::start_with(|config| {
        on(&url)(config);
        config.storage.postgres.connect_timeout_seconds = 2;
    });
    let remembered = s.create_account("remembered", &["viewer"]);
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let name = format!("before-{i}");
        s.post("/api/v1/service-accounts", json!({ "name": name }))
            .assert_status(201);
        acknowledged.push(name);
    }
    s.get_as(&remembered, "/api/v1/me").assert_status(200);
    let grant = || {
        s.form(
            "/oauth2/token",
            Some(("remembered", &remembered)),
            &[("grant_type", "client_credentials")],
        )
    };
    // An access token of the account, used once: the node remembers its subject.
    let before = grant();
    before.assert_status(200);
    let access = before.body["access_token"].as_str().unwrap().to_owned();
    s.get_as(&access, "/api/v1/me").assert_status(200);

    cluster.stop_immediately();
    let started = std::time::Instant::now();
    let refused = s.post("/api/v1/service-accounts", json!({"name": "during"}));
    refused.assert_error(503, "UNAVAILABLE");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "a write waited {:?}",
        started.elapsed()
    );
    let ready = s.get("/readyz");
    ready.assert_status(503);
    assert!(
        ready.body["warnings"]
            .to_string()
            .contains("does not answer"),
        "{}",
        ready.body
    );
    s.get_as(&remembered, "/api/v1/me").assert_status(200);
    // A client whose authentication the node remembers still gets access tokens, and
    // they work where the node remembers their subject.
    let during = grant();
    during.assert_status(200);
    let access = during.body["access_token"].as_str().unwrap().to_owned();
    s.get_as(&access, "/api/v1/me").assert_status(200);

    cluster.start_again();
    let back = eventually(std::time::Duration::from_secs(30), || {
        s.post("/api/v1/service-accounts", json!({"name": "after"}))
            .status
            == 201
    });
    assert!(back, "the node did not reconnect");
    s.get("/readyz").assert_status(200);
    let listed = s.get("/api/v1/service-accounts?per_page=100");
    let names = names(&listed.body);
    let lost: Vec<_> = acknowledged.iter().filter(|n| !names.contains(n)).collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
}

/// A node needs the schema's CREATE privilege only while a table is missing: once the
/// first start made them, a role without it starts and serves.
#[test]
fn a_role_without_create_starts_once_the_tables_exist() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let admin_url = cluster.new_database();
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "CREATE ROLE limited_kh LOGIN; \
             CREATE SCHEMA kh AUTHORIZATION limited_kh; \
             ALTER ROLE limited_kh SET search_path = kh;",
        )
        .unwrap_or_else(|_| {
            // The role is cluster-wide: another database of this cluster made it.
            admin
                .batch_execute("CREATE SCHEMA kh AUTHORIZATION limited_kh")
                .unwrap();
        });
    let url = admin_url.replace("user=postgres", "user=limited_kh");
    let mut s = TestServer::start_with(on(&url));
    s.post("/api/v1/service-accounts", json!({"name": "kept"}))
        .assert_status(201);
    // The tables are the role's; without CREATE on its schema it can make no more.
    admin
        .batch_execute(
            "ALTER SCHEMA kh OWNER TO postgres; \
             GRANT USAGE ON SCHEMA kh TO limited_kh;",
        )
        .unwrap();
    s.restart();
    s.get("/api/v1/service-accounts/kept").assert_status(200);
}

/// The primary stops as in a crash under 16 writers spread over three nodes, and its
/// synchronous standby is promoted: the nodes, given both hosts, go on alone; meanwhile
/// a write answers 503 (never 500); and every write answered 2xx is there afterwards.
#[test]
fn a_failover_to_a_synchronous_standby_loses_no_acknowledged_write() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    let Some(primary) = cluster::OwnCluster::start() else {
        return;
    };
    let standby = primary.standby();
    primary.query("ALTER SYSTEM SET synchronous_standby_names = '*'");
    primary.query("SELECT pg_reload_conf()");
    let synchronous = eventually(Duration::from_secs(30), || {
        primary.query("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")
            == Some("1".to_owned())
    });
    assert!(synchronous, "the standby never became synchronous");
    let url = format!(
        "host=127.0.0.1,127.0.0.1 port={},{} user=postgres dbname=postgres \
         target_session_attrs=read-write",
        primary.port, standby.port
    );
    let nodes: Vec<TestServer> = (0..3)
        .map(|_| {
            TestServer::start_with(|config| {
                on(&url)(config);
                config.storage.postgres.connect_timeout_seconds = 2;
            })
        })
        .collect();
    let acknowledged = Mutex::new(Vec::<String>::new());
    let answers = Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let (stop, done) = (AtomicBool::new(false), AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for writer in 0..16 {
            let node = &nodes[writer % nodes.len()];
            // The first node made the admin, with its secret: the others' are unknown.
            let admin = &nodes[0].token;
            let (acknowledged, answers, stop, done) = (&acknowledged, &answers, &stop, &done);
            scope.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("w{writer}-{i}");
                    let status = node
                        .post_as(admin, "/api/v1/service-accounts", json!({ "name": name }))
                        .status;
                    *answers.lock().unwrap().entry(status).or_default() += 1;
                    if status == 201 {
                        acknowledged.lock().unwrap().push(name);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 1;
                }
            });
        }
        let at_least = |count: usize| {
            let deadline = Instant::now() + Duration::from_secs(60);
            while done.load(Ordering::Relaxed) < count && Instant::now() < deadline {
                std::thread::yield_now();
            }
        };
        at_least(100);
        primary.stop_immediately();
        standby.promote();
        let before = done.load(Ordering::Relaxed);
        at_least(before + 100);
        stop.store(true, Ordering::Relaxed);
    });
    let answers = answers.into_inner().unwrap();
    assert!(
        answers.keys().all(|status| [201, 503].contains(status)),
        "{answers:?}"
    );
    let acknowledged = acknowledged.into_inner().unwrap();
    let held: std::collections::BTreeSet<String> = nodes[0]
        .every_item(&nodes[0].token, "/api/v1/service-accounts?per_page=1000")
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<_> = acknowledged.iter().filter(|n| !held.contains(*n)).collect();
    assert!(
        acknowledged.len() > 200 && lost.is_empty(),
        "{} acknowledged, {} lost (e.g. {:?}); answers {answers:?}",
        acknowledged.len(),
        lost.len(),
        lost.first()
    );
}

/// A client assertion is accepted once by the whole installation: replayed to another
/// node, it is refused, as on the node that took it.
#[test]
fn an_assertion_used_on_one_node_is_refused_on_another() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let url = cluster.new_database();
    let a = TestServer::start_with(on(&url));
    let b = TestServer::start_with(on(&url));
    a.create_account("signer", &["viewer"]);
    let key = crate::oauth2::p256_key();
    crate::oauth2::upload(&a, "signer", &key);
    let claims = json!({
        "iss": "signer",
        "sub": "signer",
        "aud": "https://keys.example",
        "exp": keyhouse::clock::now().timestamp() + 60,
        "jti": "once-only",
    });
    let jwt = crate::oauth2::assertion(&key, claims);
    a.token_with_assertion(&jwt).assert_status(200);
    let replayed = b.token_with_assertion(&jwt);
    replayed.assert_status(401);
    assert_eq!(replayed.body["error"], "invalid_client");
    a.token_with_assertion(&jwt).assert_status(401);
}
