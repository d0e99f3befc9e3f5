//! `keyhouse migrate` between a redb file and PostgreSQL, both ways, and
//! `admin issue-token` on PostgreSQL from the settings alone.

use std::process::Command;

use keyhouse::config::Backend;
use serde_json::{Value, json};

use crate::cluster;
use crate::common::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_keyhouse");

fn migrate(from: &str, to: &str, force: bool) -> std::process::Output {
    let mut args = vec!["migrate", "--from", from, "--to", to];
    if force {
        args.push("--force");
    }
    Command::new(BIN).args(&args).output().unwrap()
}

/// A server on the PostgreSQL database `url`.
fn on_postgres(url: &str) -> TestServer {
    let url = url.to_owned();
    TestServer::start_with(move |c| {
        c.storage.backend = Backend::Postgres;
        c.storage.postgres.url = Some(url);
    })
}

/// The offline command `args` on the PostgreSQL database `url`, named by the settings
/// (the environment) alone.
fn offline(args: &[&str], url: &str) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("KEYHOUSE_STORAGE__BACKEND", "postgres")
        .env("KEYHOUSE_STORAGE__POSTGRES__URL", url)
        .output()
        .unwrap()
}

/// What a database holds, as the API reads it: the accounts with their etags and
/// credential counts, the groups, the projects.
fn held(s: &TestServer, token: &str) -> Vec<Value> {
    [
        "/api/v1/service-accounts?scope=all&per_page=100",
        "/api/v1/groups?per_page=100",
        "/api/v1/projects",
        "/api/v1/audit-events?per_page=1000",
    ]
    .iter()
    .map(|path| {
        let reply = s.get_as(token, path);
        reply.assert_status(200);
        reply.body["items"].clone()
    })
    .collect()
}

#[test]
fn a_database_moves_to_postgres_and_back_whole() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let s = TestServer::start_on_file_with(|_| {});
    s.post("/api/v1/projects", json!({"name": "payments"}))
        .assert_status(201);
    let secret = s.create_account("ci-bot", &["viewer"]);
    s.post("/api/v1/projects/payments/groups", json!({"name": "team"}))
        .assert_status(201);
    s.post("/api/v1/signing-keys/rotate", json!({}))
        .assert_status(201);
    let before = held(&s, &s.token);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.redb");
    s.backup_to(&file);

    let url = cluster.new_database();
    let out = migrate(file.to_str().unwrap(), &url, false);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("accounts_v1") && said.contains("count matches"),
        "{said}"
    );
    let copied = on_postgres(&url);
    assert_eq!(held(&copied, &s.token), before);
    copied.get_as(&secret, "/api/v1/me").assert_status(200);
    drop(copied);

    // A target that holds a database is refused, and replaced only with --force.
    let refused = migrate(file.to_str().unwrap(), &url, false);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert!(migrate(file.to_str().unwrap(), &url, true).status.success());

    let back = dir.path().join("back.redb");
    let out = migrate(&url, back.to_str().unwrap(), false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_file = TestServer::start_on_file_with(|c| c.storage.path = back.clone());
    assert_eq!(held(&on_file, &s.token), before);
    on_file.get_as(&secret, "/api/v1/me").assert_status(200);
}

#[test]
fn issue_token_reads_the_postgres_database_from_the_settings() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let url = cluster.new_database();
    let s = on_postgres(&url);
    let out = offline(&["admin", "issue-token"], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    // The running node sees the new secret at once: it reads the same database.
    s.get_as(&secret, "/api/v1/me").assert_status(200);
    s.get("/api/v1/me").assert_status(401);
}

/// A node on PostgreSQL without `oauth.issuer` names itself by its own address, so the
/// other nodes would refuse its tokens: it says so when it starts, and not with one.
#[test]
fn a_node_on_postgres_without_an_issuer_warns_at_start() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let url = cluster.new_database();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("KEYHOUSE_STORAGE__BACKEND", "postgres"),
        ("KEYHOUSE_STORAGE__POSTGRES__URL", url.as_str()),
    ];
    let served = crate::Served::start(&dir.path().join("unused.redb"), &env);
    let early = served.early.join("\n");
    served.stop();
    assert!(early.contains("without oauth.issuer"), "{early}");
    let mut with_issuer = env.to_vec();
    with_issuer.push(("KEYHOUSE_OAUTH__ISSUER", "https://keys.example"));
    let served = crate::Served::start(&dir.path().join("unused.redb"), &with_issuer);
    let early = served.early.join("\n");
    served.stop();
    assert!(!early.contains("without oauth.issuer"), "{early}");
}

/// `keyhouse restore` onto the database the settings name: a backup taken on a file
/// replaces what a PostgreSQL database held; a file that is no backup changes nothing.
#[test]
fn restore_puts_a_backup_in_place_of_a_postgres_database_from_the_settings() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let s = TestServer::start_on_file_with(|_| {});
    s.post("/api/v1/projects", json!({"name": "payments"}))
        .assert_status(201);
    let secret = s.create_account("ci-bot", &["viewer"]);
    let before = held(&s, &s.token);
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.redb");
    s.backup_to(&backup);

    let url = cluster.new_database();
    let other = on_postgres(&url);
    other.create_account("replaced", &["viewer"]);
    let token = other.token.clone();
    drop(other);
    let restore =
        |from: &std::path::Path| offline(&["restore", "--from", from.to_str().unwrap()], &url);
    let garbage = dir.path().join("garbage.redb");
    std::fs::write(&garbage, b"not a database").unwrap();
    let refused = restore(&garbage);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(said.contains("not a usable keyhouse backup"), "{said}");
    let untouched = on_postgres(&url);
    untouched
        .get_as(&token, "/api/v1/service-accounts/replaced")
        .assert_status(200);
    drop(untouched);

    let out = restore(&backup);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("accounts_v1") && said.contains("restored postgres://"),
        "{said}"
    );
    let restored = on_postgres(&url);
    assert_eq!(held(&restored, &s.token), before);
    restored.get_as(&secret, "/api/v1/me").assert_status(200);
    restored.get_as(&token, "/api/v1/me").assert_status(401);
}

/// `keyhouse admin check` on the database the settings name: a sound one passes; rows
/// removed or changed by hand in PostgreSQL are found and named.
#[test]
fn admin_check_reads_a_postgres_database_whole_and_finds_what_was_changed_by_hand() {
    let Some(cluster) = cluster::shared() else {
        return;
    };
    let url = cluster.new_database();
    let s = on_postgres(&url);
    s.create_account("ci-bot", &["viewer"]);
    s.post("/api/v1/groups", json!({"name": "team"}))
        .assert_status(201);
    drop(s);
    let check = || offline(&["admin", "check"], &url);
    let sound = check();
    let said = String::from_utf8_lossy(&sound.stderr).to_string();
    assert!(sound.status.success(), "{said}");
    assert!(said.contains("accounts_v1: 2 rows"), "{said}");
    assert!(said.contains("no problem found"), "{said}");

    let mut sql = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    sql.batch_execute(
        "DELETE FROM kh_accounts_v1 WHERE key = (SELECT key FROM kh_accounts_v1 ORDER BY key DESC LIMIT 1); \
         UPDATE kh_groups_v1 SET value = '\\x00ff'::bytea",
    )
    .unwrap();
    let damaged = check();
    let said = String::from_utf8_lossy(&damaged.stderr).to_string();
    assert!(!damaged.status.success(), "{said}");
    assert!(
        said.contains("account_names_v1:") && said.contains("missing record"),
        "{said}"
    );
    assert!(said.contains("problem: groups_v1:"), "{said}");
    assert!(said.contains("restore a backup"), "{said}");
}
