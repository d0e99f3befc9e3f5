//! The database file at rest: who may read it, the sealed signing keys, and a damaged
//! file, against the real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failure should stop the test

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::TestServer;
use serde_json::json;

/// A key file of 32 bytes of `byte`, 0600, in `dir`.
fn key_file(dir: &Path, name: &str, byte: u8) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, [byte; 32]).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A fixed issuer, so that tokens outlive the port of one start.
const ISSUER: &str = "https://keyhouse.test";

fn access_token(s: &TestServer) -> String {
    let resp = s
        .client
        .post(s.url("/oauth2/token"))
        .basic_auth("admin", Some(&s.token))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_database_is_0600_and_readyz_warns_when_others_may_read_it() {
    let mut s = TestServer::start_on_file_with(|_| {});
    assert_eq!(mode(&s.db_path()), 0o600);
    let ready = s.get("/readyz");
    ready.assert_status(200);
    assert!(ready.body.get("warnings").is_none(), "{}", ready.body);

    std::fs::set_permissions(s.db_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    s.restart();
    let ready = s.get("/readyz");
    ready.assert_status(200);
    let warning = ready.body["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("is readable by other users (mode 0644)"),
        "{warning}"
    );
}

/// A key file others may read draws the warning the database file does: logged at start
/// and listed by `/readyz`, which stays 200 (a systemd credential's mode may show the
/// group bits of its access list).
#[test]
fn a_key_file_others_may_read_is_listed_in_readyz_warnings() {
    let keys = tempfile::tempdir().unwrap();
    let kek = key_file(keys.path(), "kek", 3);
    let mut s = TestServer::start_on_file_with(|c| c.storage.key_file = Some(kek.clone()));
    let ready = s.get("/readyz");
    ready.assert_status(200);
    assert!(ready.body.get("warnings").is_none(), "{}", ready.body);

    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o644)).unwrap();
    s.restart();
    let ready = s.get("/readyz");
    ready.assert_status(200);
    let warning = ready.body["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("storage.key_file")
            && warning.contains(&kek.display().to_string())
            && warning.contains("is readable by other users (mode 0644)"),
        "{warning}"
    );
}

#[test]
fn tokens_signed_with_a_sealed_key_verify_after_a_restart() {
    let keys = tempfile::tempdir().unwrap();
    let kek = key_file(keys.path(), "kek", 7);
    let mut s = TestServer::start_on_file_with(|c| {
        c.storage.key_file = Some(kek.clone());
        c.oauth.issuer = Some(ISSUER.into());
    });
    let token = access_token(&s);
    s.get_as(&token, "/api/v1/me").assert_status(200);
    s.restart();
    s.get_as(&token, "/api/v1/me").assert_status(200);
}

#[test]
fn a_wrong_or_missing_key_file_refuses_to_start_naming_the_setting() {
    let keys = tempfile::tempdir().unwrap();
    let right = key_file(keys.path(), "right", 1);
    let wrong = key_file(keys.path(), "wrong", 2);
    let short = keys.path().join("short");
    std::fs::write(&short, b"not 32 bytes").unwrap();
    // Keys stored unsealed by a first start are sealed by the next one.
    let mut s = TestServer::start_on_file_with(|c| c.oauth.issuer = Some(ISSUER.into()));
    let token = access_token(&s);
    s.restart_with(|c| c.storage.key_file = Some(right.clone()))
        .unwrap();
    s.get_as(&token, "/api/v1/me").assert_status(200);

    let err = s
        .restart_with(|c| c.storage.key_file = Some(wrong.clone()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("storage.key_file") && err.contains("wrong key file"),
        "{err}"
    );
    let err = s
        .restart_with(|c| c.storage.key_file = None)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("set storage.key_file"), "{err}");
    let err = s
        .restart_with(|c| c.storage.key_file = Some(short.clone()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("storage.key_file") && err.contains("exactly 32 bytes"),
        "{err}"
    );
    s.restart_with(|c| c.storage.key_file = Some(right.clone()))
        .unwrap();
    s.get_as(&token, "/api/v1/me").assert_status(200);
}

/// Every offset `flip` may damage: the record that holds `needle`, the file header, the
/// first pages and points across the file.
fn offsets(bytes: &[u8], needle: &[u8]) -> Vec<usize> {
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the record is in the file");
    let len = bytes.len();
    let mut offsets = vec![at, at + 3, 0, 9, 40, 100, 600, 4096, 4200, 8192];
    offsets.extend((1..8).map(|i| len * i / 8));
    offsets.push(len - 1);
    offsets.retain(|o| *o < len);
    offsets
}

#[test]
fn a_damaged_database_is_refused_clearly_or_served_unaltered_never_a_panic() {
    let needle = "needle-display-name-0123456789";
    let mut s = TestServer::start_on_file_with(|_| {});
    s.post(
        "/api/v1/service-accounts",
        json!({"name": "needle", "display_name": needle, }),
    )
    .assert_status(201);
    s.restart_with(|_| {}).unwrap();
    let original = std::fs::read(s.db_path()).unwrap();
    let good = s.db_path();
    let mut refused = Vec::new();
    for offset in offsets(&original, needle.as_bytes()) {
        let mut bytes = original.clone();
        bytes[offset] ^= 0x5a;
        let damaged = s.dir().join(format!("damaged-{offset}.redb"));
        std::fs::write(&damaged, &bytes).unwrap();
        let check_at_start = |c: &mut keyhouse::config::Config| {
            c.storage.path = damaged.clone();
            c.storage.integrity_check_at_start = true;
        };
        match s.restart_with(check_at_start) {
            Err(err) => {
                let err = err.to_string();
                assert!(!err.contains("ended early"), "offset {offset}: {err}");
                assert!(err.contains(&damaged.display().to_string()), "{err}");
                refused.push(offset);
            }
            Ok(()) => {
                let account = s.get("/api/v1/service-accounts/needle");
                account.assert_status(200);
                assert_eq!(account.body["display_name"], needle, "offset {offset}");
                s.get("/api/v1/audit-events").assert_status(200);
                let check = s.post("/api/v1/admin/integrity-check", json!({}));
                check.assert_status(200);
                assert_eq!(check.body["ok"], true, "offset {offset}: {}", check.body);
            }
        }
    }
    let at = offsets(&original, needle.as_bytes())[0];
    assert!(refused.contains(&at), "the record's damage is found");
    s.restart_with(|c| c.storage.path = good.clone()).unwrap();
    s.get("/readyz").assert_status(200);
}

/// Without `storage.integrity_check_at_start`, a file damaged at rest after a clean
/// shutdown is served (redb trusts it), and the first check finds the damage.
#[test]
fn damage_at_rest_without_the_start_check_is_found_by_the_first_check() {
    let needle = "resting-needle-0123456789";
    let mut s = TestServer::start_on_file_with(|_| {});
    s.post(
        "/api/v1/service-accounts",
        json!({"name": "rester", "display_name": needle, }),
    )
    .assert_status(201);
    s.restart_with(|c| {
        let mut bytes = std::fs::read(&c.storage.path).unwrap();
        let at = offsets(&bytes, needle.as_bytes())[0];
        bytes[at] ^= 0x5a;
        std::fs::write(&c.storage.path, &bytes).unwrap();
    })
    .unwrap();
    s.get("/readyz").assert_status(200);
    let check = s.post("/api/v1/admin/integrity-check", json!({}));
    assert_eq!(check.body["ok"], false, "{}", check.body);
    s.get("/readyz").assert_status(503);
}

#[test]
fn damage_under_a_running_server_is_found_by_the_check_readyz_and_metrics() {
    let needle = "running-needle-0123456789";
    let mut s = TestServer::start_on_file_with(|_| {});
    s.post(
        "/api/v1/service-accounts",
        json!({"name": "runner", "display_name": needle, }),
    )
    .assert_status(201);
    s.restart();
    let path = s.db_path();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = offsets(&bytes, needle.as_bytes())[0];
    bytes[at] ^= 0x5a;
    std::fs::write(&path, &bytes).unwrap();

    let check = s.post("/api/v1/admin/integrity-check", json!({}));
    check.assert_status(200);
    assert_eq!(check.body["ok"], false, "{}", check.body);
    let ready = s.get("/readyz");
    ready.assert_status(503);
    let warning = ready.body["warnings"][0].as_str().unwrap();
    assert!(warning.contains("integrity check"), "{warning}");
    let metrics = s.get("/metrics").body;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("keyhouse_integrity_check_failures_total 1"),
        "{text}"
    );
    assert!(text.contains("keyhouse_integrity_check_ok 0"), "{text}");
}

/// With default settings (no start check, a daily schedule), damage at rest that a
/// request meets makes `/readyz` 503 at once, and the check it starts in the background
/// finds and records the damage; the request itself is an ordinary 500.
#[test]
fn damage_a_request_meets_makes_readyz_503_at_once_and_starts_the_check() {
    let needle = "met-needle-0123456789";
    let mut s = TestServer::start_on_file_with(|_| {});
    s.post(
        "/api/v1/service-accounts",
        json!({"name": "met", "display_name": needle, }),
    )
    .assert_status(201);
    s.restart_with(|c| {
        let mut bytes = std::fs::read(&c.storage.path).unwrap();
        // The length in front of the display name: the record no longer decodes.
        let at = offsets(&bytes, needle.as_bytes())[0] - 1;
        assert_eq!(usize::from(bytes[at]), needle.len(), "a length byte");
        bytes[at] ^= 0x5a;
        std::fs::write(&c.storage.path, &bytes).unwrap();
    })
    .unwrap();
    s.get("/readyz").assert_status(200);

    s.get("/api/v1/service-accounts")
        .assert_error(500, "INTERNAL");
    let ready = s.get("/readyz");
    ready.assert_status(503);
    assert_eq!(ready.body["status"], "unavailable");
    let warnings = ready.body["warnings"].to_string();
    assert!(
        warnings.contains("a request met damage") || warnings.contains("integrity check at"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("decode"),
        "the cause stays in the log: {warnings}"
    );

    // The check runs on the timer's thread: wait for its outcome (it reads a file of a
    // few hundred KiB, so this takes milliseconds, not the day of the schedule).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let failed = loop {
        let ready = s.get("/readyz");
        let warnings = ready.body["warnings"].to_string();
        if warnings.contains("integrity check at") {
            break ready;
        }
        assert!(std::time::Instant::now() < deadline, "no check: {warnings}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    failed.assert_status(503);
    let metrics = s.get("/metrics").body;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("keyhouse_integrity_check_failures_total 1"),
        "{text}"
    );
    // The other accounts' routes still answer.
    s.get("/api/v1/service-accounts/admin").assert_status(200);
}
