//! Running it for real: TLS, metrics, the brute-force limit, and backup and restore
//! under concurrent writes.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::TestServer;
use keyhouse::config::Backend;
use reqwest::blocking::Client;
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";

#[test]
fn tls_serves_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();
    let s = TestServer::start_with(|c| {
        c.server.tls = Some(keyhouse::config::TlsConfig {
            cert_file: Some(cert_file.clone()),
            key_file: Some(key_file.clone()),
        });
    });
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let trusted = Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let me = trusted
        .get(s.url("/api/v1/me"))
        .bearer_auth(&s.token)
        .send()
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let meta: Value = trusted
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(meta["issuer"].as_str().unwrap().starts_with("https://"));
    let plain = Client::new()
        .get(s.url("/healthz").replace("https://", "http://"))
        .send();
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP is not served"
    );
    let untrusted = Client::new().get(s.url("/healthz")).send();
    assert!(untrusted.is_err(), "the certificate is the test's own");
}

#[test]
fn a_broken_tls_setting_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = keyhouse::config::Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.storage.path = dir.path().join("k.redb");
    config.server.tls = Some(keyhouse::config::TlsConfig {
        cert_file: Some(dir.path().join("missing.pem")),
        key_file: Some(dir.path().join("missing-key.pem")),
    });
    let err = keyhouse::server::spawn(config).err().unwrap();
    assert!(err.to_string().contains("server.tls.cert_file"), "{err}");
}

#[test]
fn a_config_built_in_code_is_validated_before_it_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = keyhouse::config::Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.storage.path = dir.path().join("k.redb");
    config.credentials.limits.max_lifetime_days = u32::MAX;
    config.credentials.limits.default_lifetime_days = u32::MAX;
    let err = keyhouse::server::spawn(config).err().unwrap();
    assert!(
        err.to_string().contains("credentials.max_lifetime_days"),
        "{err}"
    );
    assert!(
        !dir.path().join("k.redb").exists(),
        "refused before opening"
    );
}

fn metrics(s: &TestServer) -> String {
    s.client
        .get(s.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap()
}

fn value_of(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn metrics_count_requests_by_route_pattern_and_authentication_by_outcome() {
    let s = TestServer::start();
    s.get(&format!("{SA}/admin")).assert_status(200);
    s.get(&format!("{SA}/admin")).assert_status(200);
    s.get_as("kh_not-even-close", "/api/v1/me")
        .assert_status(401);
    s.create_account("bot", &[]);
    let text = metrics(&s);
    let route = r#"keyhouse_http_requests_total{route="/api/v1/service-accounts/{name}",method="GET",status="200"}"#;
    assert_eq!(value_of(&text, route), 2.0);
    assert!(
        !text.contains("/api/v1/service-accounts/admin\""),
        "never a raw path"
    );
    let timed =
        r#"keyhouse_http_request_duration_seconds_count{route="/api/v1/service-accounts/{name}"}"#;
    assert_eq!(value_of(&text, timed), 2.0);
    assert!(
        value_of(
            &text,
            r#"keyhouse_auth_attempts_total{kind="secret",outcome="success"}"#
        ) >= 3.0
    );
    assert_eq!(
        value_of(
            &text,
            r#"keyhouse_auth_attempts_total{kind="secret",outcome="malformed"}"#
        ),
        1.0
    );
    assert_eq!(
        value_of(&text, r#"keyhouse_objects{kind="service_account"}"#),
        2.0
    );
    assert!(value_of(&text, "keyhouse_db_size_bytes") > 0.0);
    assert!(value_of(&text, "keyhouse_store_write_transactions_total") >= 2.0);
    assert!(!text.contains(&s.token));
}

fn client_from(ip: &str) -> Client {
    Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[test]
fn repeated_failures_block_one_address_for_the_window() {
    let s = TestServer::start_with(|c| {
        c.security.max_auth_failures = 3;
        c.security.auth_failure_window_seconds = 2;
    });
    let (here, there) = (client_from("127.0.0.1"), client_from("127.0.0.2"));
    let me = |client: &Client, token: &str| {
        let resp = client
            .get(s.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .unwrap();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = resp.json().unwrap_or(Value::Null);
        (
            body["error"]["code"].as_str().unwrap_or("OK").to_owned(),
            retry,
        )
    };
    let wrong = keyhouse::auth::secret::Secret::generate().unwrap();
    for _ in 0..3 {
        assert_eq!(me(&here, wrong.expose()).0, "UNAUTHENTICATED");
    }
    let (code, retry) = me(&here, wrong.expose());
    assert_eq!(code, "RATE_LIMITED");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(
        me(&here, &s.token).0,
        "RATE_LIMITED",
        "even a right secret waits"
    );
    let token = here
        .post(s.url("/oauth2/token"))
        .basic_auth("admin", Some(&s.token))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(token.status().as_u16(), 429);
    assert_eq!(
        me(&there, &s.token).0,
        "OK",
        "another address is served as usual"
    );
    s.client.get(s.url("/healthz")).send().unwrap();
    s.advance(chrono::Duration::seconds(3));
    assert_eq!(me(&here, &s.token).0, "OK", "the window has passed");
    let text = metrics(&s);
    assert!(
        value_of(
            &text,
            r#"keyhouse_auth_attempts_total{kind="secret",outcome="unknown"}"#
        ) >= 4.0
    );
}

#[test]
fn oauth_client_failures_count_toward_the_limit() {
    let s = TestServer::start_with(|c| c.security.max_auth_failures = 2);
    let bad = |_: u32| {
        s.client
            .post(s.url("/oauth2/token"))
            .basic_auth("admin", Some("kh_wrong"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!((bad(1), bad(2), bad(3)), (401, 401, 429));
}

#[test]
fn a_backup_taken_under_writes_restores_every_write_acknowledged_before_it() {
    let s = TestServer::start();
    let acknowledged = Mutex::new(Vec::<String>::new());
    let stop = AtomicBool::new(false);
    let (before, backup) = std::thread::scope(|scope| {
        for writer in 0..4 {
            let (s, acknowledged, stop) = (&s, &acknowledged, &stop);
            scope.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("w{writer}-{i}");
                    if s.post(SA, json!({ "name": name })).status == 201 {
                        acknowledged.lock().unwrap().push(name);
                    }
                    i += 1;
                }
            });
        }
        // Waits until `count` writes are acknowledged, or 30 s; no panic here, as the
        // writers run until `stop`: the count is checked after the scope.
        let acknowledged_at_least = |count: usize| {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while acknowledged.lock().unwrap().len() < count && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        acknowledged_at_least(50);
        let before: BTreeSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
        let backup = s
            .client
            .post(s.url("/api/v1/admin/backup"))
            .bearer_auth(&s.token)
            .send()
            .unwrap();
        assert_eq!(backup.status().as_u16(), 200);
        assert_eq!(backup.headers()["content-type"], "application/octet-stream");
        let declared = backup.content_length().expect("Content-Length");
        let bytes = backup.bytes().unwrap().to_vec();
        assert_eq!(declared, bytes.len() as u64, "streamed whole");
        // Writes go on after the backup, and are not in it.
        acknowledged_at_least(before.len() + 50);
        stop.store(true, Ordering::Relaxed);
        (before, bytes)
    });
    assert!(before.len() > 20, "writes went on: {}", before.len());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.redb");
    std::fs::write(&file, &backup).unwrap();
    let restored = dir.path().join("restored.redb");
    let out = Command::new(env!("CARGO_BIN_EXE_keyhouse"))
        .args([
            "restore",
            "--from",
            file.to_str().unwrap(),
            "--db",
            restored.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let admin = s.token.clone();
    // On either backend the backup is a redb file, served here by the embedded engine.
    let r = TestServer::start_with(|c| {
        c.storage.backend = Backend::Redb;
        c.storage.path = restored.clone();
    });
    let names: BTreeSet<String> = r
        .every_item(&admin, &format!("{SA}?per_page=1000"))
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&String> = before.difference(&names).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes missing, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    r.get_as(&admin, "/api/v1/me").assert_status(200);
}

#[test]
fn restore_refuses_what_is_not_a_backup_and_a_database_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.redb");
    std::fs::write(&junk, b"this is not a database").unwrap();
    let target = dir.path().join("db.redb");
    let run = |from: &std::path::Path, db: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_keyhouse"))
            .args([
                "restore",
                "--from",
                from.to_str().unwrap(),
                "--db",
                db.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let out = run(&junk, &target);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a usable keyhouse backup"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.exists(), "nothing was put in place");

    let s = TestServer::start_on_file_with(|_| {});
    let file = dir.path().join("good.redb");
    s.backup_to(&file);
    let out = run(&file, &s.db_path());
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let viewer = s.create_account("v", &["viewer"]);
    assert_eq!(
        s.client
            .post(s.url("/api/v1/admin/backup"))
            .bearer_auth(&viewer)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        403
    );
}

#[test]
fn metrics_are_sent_as_openmetrics_with_the_build_info() {
    let s = TestServer::start();
    let reply = Client::new().get(s.url("/metrics")).send().unwrap();
    let content_type = reply.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{content_type}"
    );
    let text = reply.text().unwrap();
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics ends so");
    let build = format!(
        "keyhouse_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.lines().any(|l| l == build), "{build} in {text}");
}
