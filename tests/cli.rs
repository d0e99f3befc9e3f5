//! The binary itself: help, `openapi`, settings errors, first-start bootstrap, a file
//! in use, `admin issue-token`, and a restart on the same file; and, in `cli/`, the
//! client commands.

#![allow(clippy::unwrap_used, clippy::panic)] // test support: a failure should stop the test

// A binary of its own, apart from `tests/api`: its tests start, signal and kill the
// built `keyhouse` process and read its exit status and standard error, rather than
// serving the app inside the test process. It borrows one helper of the API tests.
#[path = "api/cluster.rs"]
mod cluster;
#[path = "api/common.rs"]
mod common;

// The client commands, against a `TestServer` served inside this process.
#[path = "cli/apply.rs"]
mod apply;
#[path = "cli/client.rs"]
mod client;
#[path = "cli/kh.rs"]
mod kh;
#[path = "cli/migrate.rs"]
mod migrate;
#[path = "cli/nodes.rs"]
mod nodes;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::counter;

#[path = "cli/operations.rs"]
mod operations;

const BIN: &str = env!("CARGO_BIN_EXE_keyhouse");

fn keyhouse(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// A `keyhouse serve` process on port 0; its address is read from its log.
struct Served {
    child: Child,
    base: String,
    /// What it printed before it served: the bootstrap secret, if any, is here.
    early: Vec<String>,
    /// What it prints while serving.
    log: std::sync::mpsc::Receiver<String>,
}

/// `keyhouse serve` on `db`, port 0, with `env`; its standard error piped.
fn serve(db: &Path, env: &[(&str, &str)]) -> Child {
    serve_with(db, env, &[])
}

/// `keyhouse serve ARGS` on `db`, port 0, with `env`; its standard error piped.
fn serve_with(db: &Path, env: &[(&str, &str)], args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("serve")
        .args(args)
        .env("KEYHOUSE_SERVER__LISTEN", "127.0.0.1:0")
        .env("KEYHOUSE_STORAGE__PATH", db)
        .env_remove("MALLOC_ARENA_MAX")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

impl Served {
    fn start(db: &Path, env: &[(&str, &str)]) -> Served {
        Served::start_with(db, env, &[])
    }

    fn start_with(db: &Path, env: &[(&str, &str)], args: &[&str]) -> Served {
        let mut child = serve_with(db, env, args);
        let (sender, lines) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut early = Vec::new();
        loop {
            let Ok(line) = lines.recv_timeout(Duration::from_secs(30)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not start: {early:?}");
            };
            if let Some(addr) = line.split("serving on ").nth(1) {
                // The address ends the text line, or the JSON line's message.
                let base = addr.split(['"', ' ']).next().unwrap_or_default().to_owned();
                return Served {
                    child,
                    base,
                    early,
                    log: lines,
                };
            }
            early.push(line);
        }
    }

    fn printed_secret(&self) -> Option<String> {
        self.early
            .iter()
            .find(|line| line.starts_with("kh_"))
            .cloned()
    }

    /// Stops with SIGTERM; returns what it logged while serving.
    fn stop(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let mut log = Vec::new();
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(2)) {
            log.push(line);
        }
        log
    }
}

/// Creates the account `name` on the server at `base` as `admin`: its first secret.
fn created_secret(base: &str, admin: &str, name: &str) -> String {
    let created: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/service-accounts"))
        .bearer_auth(admin)
        .json(&serde_json::json!({"name": name, "initial_secret": {}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    created["secret"]["secret"].as_str().unwrap().to_owned()
}

fn status_of_me(base: &str, token: &str) -> u16 {
    reqwest::blocking::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn every_command_explains_itself() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["openapi", "--help"],
        &["admin", "issue-token", "--help"],
    ] {
        let out = keyhouse(args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{args:?}: {text}");
    }
    let text = String::from_utf8_lossy(&keyhouse(&["serve", "--help"]).stdout).into_owned();
    assert!(text.contains("--config"), "{text}");
}

#[test]
fn openapi_prints_exactly_what_the_server_serves() {
    let dir = tempfile::tempdir().unwrap();
    let printed = keyhouse(&["openapi"]);
    assert!(printed.status.success());
    let served = Served::start(&dir.path().join("k.redb"), &[]);
    let body = reqwest::blocking::get(format!("{}/api-docs/openapi.json", served.base))
        .unwrap()
        .bytes()
        .unwrap();
    served.stop();
    assert_eq!(printed.stdout, body.to_vec());
}

#[test]
fn a_bad_setting_exits_non_zero_naming_it() {
    let out = Command::new(BIN)
        .arg("serve")
        .env("KEYHOUSE_CREDENTIALS__MAX_ACTIVE", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("credentials.max_active"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(&file, "[server]\nlisten = \"not an address\"\n").unwrap();
    let out = keyhouse(&["serve", "--config", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.listen"), "{err}");
}

#[test]
fn first_start_prints_the_admin_secret_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    let first = Served::start(&db, &[]);
    let secret = first.printed_secret().expect("the secret is printed");
    assert_eq!(status_of_me(&first.base, &secret), 200);
    first.stop();
    let second = Served::start(&db, &[]);
    assert_eq!(second.printed_secret(), None, "printed once only");
    assert_eq!(
        status_of_me(&second.base, &secret),
        200,
        "data survives a restart"
    );
    second.stop();
}

#[test]
fn a_keyhouse_variable_that_is_no_setting_is_ignored_with_a_warning_but_the_clients_silently() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(
        &dir.path().join("k.redb"),
        &[
            ("KEYHOUSE_LISTEN", "0.0.0.0:1"),
            ("KEYHOUSE_URL", "http://elsewhere"),
            ("KEYHOUSE_TOKEN_FILE", "/nowhere"),
            ("KEYHOUSE_TOKEN", "kh_x"),
            ("KEYHOUSE_PROJECT", "payments"),
            ("KEYHOUSE_PROFILE", "/nowhere.toml"),
        ],
    );
    let warned: Vec<_> = served
        .early
        .iter()
        .filter(|l| l.contains("KEYHOUSE_"))
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", served.early);
    assert!(warned[0].contains("WARN"), "{warned:?}");
    assert!(warned[0].contains("KEYHOUSE_LISTEN"), "{warned:?}");
    assert!(!warned[0].contains("KEYHOUSE_URL"), "{warned:?}");
    served.stop();
}

#[test]
fn a_configured_admin_token_is_used_and_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let token = keyhouse::auth::secret::Secret::generate().unwrap();
    let served = Served::start(
        &dir.path().join("k.redb"),
        &[("KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN", token.expose())],
    );
    assert_eq!(served.printed_secret(), None);
    assert!(!served.early.iter().any(|l| l.contains(token.expose())));
    assert_eq!(status_of_me(&served.base, token.expose()), 200);
    served.stop();
}

#[test]
fn a_database_in_use_is_refused_clearly_and_check_and_issue_token_work_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    let served = Served::start(&db, &[]);
    let out = keyhouse(&["admin", "issue-token", "--db", db.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let checked = keyhouse(&["admin", "check", "--db", db.to_str().unwrap()]);
    assert!(!checked.status.success());
    assert!(String::from_utf8_lossy(&checked.stderr).contains("in use"));
    let old = served.printed_secret().unwrap();
    served.stop();

    let checked = keyhouse(&["admin", "check", "--db", db.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success(), "{said}");
    assert!(said.contains("pages: every page verified"), "{said}");
    assert!(
        said.contains("accounts_v1: 1 rows") && said.contains("no problem found"),
        "{said}"
    );

    let out = keyhouse(&["admin", "issue-token", "--db", db.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(new.starts_with("kh_") && new.len() == 49, "{new}");
    assert_ne!(new, old);
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        report.contains("revoked its 1 other credential(s)") && report.contains("bootstrap"),
        "{report}"
    );
    assert!(!report.contains(&new) && !report.contains(&old), "{report}");
    let served = Served::start(&db, &[]);
    assert_eq!(status_of_me(&served.base, &new), 200);
    assert_eq!(
        status_of_me(&served.base, &old),
        401,
        "recovery blesses no credential it did not issue"
    );
    served.stop();
}

#[test]
fn a_second_server_on_the_same_file_exits_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    let served = Served::start(&db, &[]);
    let out = Command::new(BIN)
        .arg("serve")
        .env("KEYHOUSE_SERVER__LISTEN", "127.0.0.1:0")
        .env("KEYHOUSE_STORAGE__PATH", &db)
        .output()
        .unwrap();
    served.stop();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another process"), "{err}");
}

#[test]
fn no_log_line_holds_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("k.redb"), &[]);
    let admin = served.printed_secret().unwrap();
    let secret = created_secret(&served.base, &admin, "bot");
    assert_eq!(status_of_me(&served.base, &secret), 200);
    // The last character changed, never to itself (a checksum ending in `x` once made
    // this the right secret).
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &secret[..48]);
    assert_eq!(status_of_me(&served.base, &wrong), 401);
    let log = served.stop();
    assert!(
        log.iter().any(|l| l.contains("/api/v1/me")),
        "requests are logged: {log:?}"
    );
    for line in &log {
        for s in [&admin, &secret, &wrong] {
            assert!(!line.contains(&s[3..]), "a secret in the log: {line}");
        }
    }
}

/// actix logs each error response's `Debug` at debug level ("Error in response: ..."),
/// and error messages quote what the client sent (a path, a name, a key, a scope): a
/// secret put there reaches neither the log nor the answer.
#[test]
fn a_secret_in_a_request_reaches_no_debug_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("k.redb"), &[("RUST_LOG", "debug")]);
    let secret = served.printed_secret().unwrap();
    let client = reqwest::blocking::Client::new();
    let url = |path: &str| format!("{}{path}", served.base);
    let account = url(&format!("/api/v1/service-accounts/{secret}"));
    let encoded = url(&format!("/api/v1/service-accounts/kh%5F{}", &secret[3..]));
    let replies = [
        client.get(&account).bearer_auth(&secret),
        client.get(&encoded).bearer_auth(&secret),
        client.put(&account).bearer_auth(&secret),
        client
            .get(url(&format!("/api/v1/{secret}/x")))
            .bearer_auth(&secret),
        client
            .patch(url("/api/v1/service-accounts/admin"))
            .bearer_auth(&secret)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"metadata": {{"{secret}": "a", "{secret}": "b"}}}}"#
            )),
        client
            .patch(url("/api/v1/service-accounts/admin"))
            .bearer_auth(&secret)
            .json(&serde_json::json!({ &secret: 1 })),
        client
            .post(url("/oauth2/token"))
            .basic_auth("admin", Some(&secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", &format!("groups:read {secret}")),
            ]),
    ]
    .map(|request| {
        let reply = request.send().unwrap();
        (reply.status().as_u16(), reply.text().unwrap())
    });
    let log = served.stop();
    let errors = log.iter().filter(|l| l.contains("Error in response"));
    assert!(
        errors.count() >= replies.len(),
        "debug lines are logged: {log:?}"
    );
    for line in &log {
        assert!(!line.contains(&secret[3..]), "a secret in the log: {line}");
    }
    for (status, body) in &replies {
        assert!((400..500).contains(status), "{status} {body}");
        assert!(
            !body.contains(&secret[3..]),
            "a secret in an answer: {body}"
        );
    }
    assert!(replies[0].1.contains("kh_[redacted]"), "{}", replies[0].1);
}

/// 16 writers at once, so that commits are grouped: a write is acknowledged only once
/// the durable commit that carries it has ended, and a SIGKILL loses none of them.
#[test]
fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    let mut served = Served::start(&db, &[]);
    let admin = served.printed_secret().unwrap();
    let acknowledged = std::sync::Mutex::new(Vec::new());
    let grouped = std::sync::Mutex::new((0, 0));
    std::thread::scope(|scope| {
        for writer in 0..16 {
            let (base, admin, acknowledged) = (&served.base, &admin, &acknowledged);
            scope.spawn(move || {
                let client = reqwest::blocking::Client::new();
                for i in 0.. {
                    let name = format!("crash-{writer}-{i}");
                    let sent = client
                        .post(format!("{base}/api/v1/service-accounts"))
                        .bearer_auth(admin)
                        .json(&serde_json::json!({ "name": name }))
                        .send();
                    match sent {
                        Ok(resp) if resp.status().as_u16() == 201 => {
                            acknowledged.lock().unwrap().push(name)
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
        }
        // Writes go on under load until the kill: wait for a good number of them, or
        // 30 s (the count is checked after the kill, which ends the writers).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while acknowledged.lock().unwrap().len() < 200 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        *grouped.lock().unwrap() = (
            counter(&served.base, "keyhouse_store_write_transactions"),
            counter(&served.base, "keyhouse_store_durable_commits"),
        );
        served.child.kill().unwrap();
        served.child.wait().unwrap();
    });
    let (writes, durable) = grouped.into_inner().unwrap();
    assert!(
        durable < writes,
        "16 writers share durable commits: {durable} for {writes} writes"
    );
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() > 20,
        "writes went on: {}",
        acknowledged.len()
    );
    let restarted = Served::start(&db, &[]);
    let client = reqwest::blocking::Client::new();
    for name in &acknowledged {
        let status = client
            .get(format!("{}/api/v1/service-accounts/{name}", restarted.base))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200, "{name} was acknowledged but is gone");
    }
    restarted.stop();
}

#[test]
fn sigterm_stops_gracefully_and_flushes_last_use() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    let env = [("KEYHOUSE_CREDENTIALS__LAST_USED_FLUSH_SECONDS", "3600")];
    let served = Served::start(&db, &env);
    let admin = served.printed_secret().unwrap();
    let me = |base: &str| -> serde_json::Value {
        reqwest::blocking::Client::new()
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert!(
        me(&served.base)["last_seen_at"].is_null(),
        "not flushed while serving"
    );
    let log = served.stop();
    assert!(
        log.iter().any(|l| l.contains("the database is closed")),
        "{log:?}"
    );
    let restarted = Served::start(&db, &env);
    assert!(
        me(&restarted.base)["last_seen_at"].is_string(),
        "flushed at SIGTERM"
    );
    restarted.stop();
}

#[test]
fn issue_token_on_a_new_path_provisions_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.redb");
    let out = keyhouse(&["admin", "issue-token", "--db", db.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let served = Served::start(&db, &[]);
    assert_eq!(served.printed_secret(), None, "not a first start any more");
    assert_eq!(status_of_me(&served.base, &secret), 200);
    served.stop();
}

/// Recovery blesses nothing planted before it: every other credential of `admin` (a
/// public key here) is revoked and named, and its earlier access tokens die.
#[test]
fn issue_token_revokes_every_other_credential_and_kills_old_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    let served = Served::start(&db, &[]);
    let old = served.printed_secret().unwrap();
    let http = reqwest::blocking::Client::new();
    let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
    let planted = http
        .post(format!(
            "{}/api/v1/service-accounts/admin/credentials",
            served.base
        ))
        .bearer_auth(&old)
        .json(&serde_json::json!({"type": "public_key", "name": "planted", "public_key": pem}))
        .send()
        .unwrap();
    assert_eq!(planted.status().as_u16(), 201);
    let planted: serde_json::Value = planted.json().unwrap();
    let token: serde_json::Value = http
        .post(format!("{}/oauth2/token", served.base))
        .basic_auth("admin", Some(&old))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(status_of_me(&served.base, &token), 200);
    served.stop();

    let out = keyhouse(&["admin", "issue-token", "--db", db.to_str().unwrap()]);
    assert!(out.status.success());
    let report = String::from_utf8_lossy(&out.stderr);
    let planted_id = planted["id"].as_str().unwrap();
    assert!(
        report.contains("revoked its 2 other credential(s)") && report.contains(planted_id),
        "{report}"
    );
    let new = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let served = Served::start(&db, &[]);
    assert_eq!(status_of_me(&served.base, &token), 401, "old access token");
    assert_eq!(status_of_me(&served.base, &old), 401, "old secret");
    let left: serde_json::Value = http
        .get(format!(
            "{}/api/v1/service-accounts/admin/credentials",
            served.base
        ))
        .bearer_auth(&new)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(left["total_count"], 1, "{left}");
    assert_eq!(left["items"][0]["name"], "issue-token");
    served.stop();
}

/// Runs `keyhouse serve` expecting it to refuse to start; its exit code and standard
/// error. A server that starts after all is killed within 30 seconds.
fn refused_start(db: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = serve(db, env);
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_key_file_may_be_a_systemd_credential_and_is_then_required() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("kek"), [9u8; 32]).unwrap();
    let db = dir.path().join("k.redb");
    let credentials = credentials.to_str().unwrap();
    let served = Served::start(
        &db,
        &[
            ("CREDENTIALS_DIRECTORY", credentials),
            ("KEYHOUSE_STORAGE__KEY_FILE", "kek"),
        ],
    );
    served.stop();
    let (code, stderr) = refused_start(&db, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("set storage.key_file"), "{stderr}");
    let served = Served::start(
        &db,
        &[
            ("CREDENTIALS_DIRECTORY", credentials),
            ("KEYHOUSE_STORAGE__KEY_FILE", "kek"),
        ],
    );
    served.stop();
}

/// `serve` runs with two malloc arenas (see `src/malloc_arenas.rs`), and keeps an
/// operator's own limit.
#[test]
fn serve_limits_malloc_arenas_unless_the_operator_did() {
    let dir = tempfile::tempdir().unwrap();
    let arenas = |served: &Served| {
        let environ = std::fs::read(format!("/proc/{}/environ", served.child.id())).unwrap();
        environ
            .split(|b| *b == 0)
            .find_map(|v| v.strip_prefix(b"MALLOC_ARENA_MAX="))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let served = Served::start(&dir.path().join("a.redb"), &[]);
    assert_eq!(arenas(&served).as_deref(), Some("2"));
    served.stop();
    let served = Served::start(&dir.path().join("b.redb"), &[("MALLOC_ARENA_MAX", "4")]);
    assert_eq!(arenas(&served).as_deref(), Some("4"));
    served.stop();
}

#[test]
fn a_damaged_database_exits_with_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    Served::start(&db, &[]).stop();
    let mut bytes = std::fs::read(&db).unwrap();
    // The admin account's record, written at the first start.
    let at = bytes
        .windows(5)
        .position(|w| w == b"admin")
        .expect("the record is in the file");
    bytes[at] ^= 0x5a;
    std::fs::write(&db, &bytes).unwrap();
    let check_at_start = [("KEYHOUSE_STORAGE__INTEGRITY_CHECK_AT_START", "true")];
    let (code, stderr) = refused_start(&db, &check_at_start);
    assert_eq!(code, Some(1), "exit 101 is a panic: {stderr}");
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert!(stderr.contains("keyhouse restore"), "{stderr}");
}

/// An empty file where the database should be is refused, not made a new installation
/// with a new admin secret, and is left as it is.
#[test]
fn an_empty_database_file_is_refused_and_left_empty() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    std::fs::File::create(&db).unwrap();
    let (code, stderr) = refused_start(&db, &[]);
    assert_eq!(code, Some(1), "exit 101 is a panic: {stderr}");
    assert!(
        stderr.contains(&format!("the database {} is an empty file", db.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("delete it") && stderr.contains("keyhouse restore"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("kh_") && !stderr.contains("secret"),
        "{stderr}"
    );
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0);
}

/// A file that is not a redb database is refused and left as it is.
#[test]
fn a_file_that_is_no_database_is_refused_and_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.redb");
    let notes = b"these are not keyhouse's bytes\n";
    std::fs::write(&db, notes).unwrap();
    let (code, stderr) = refused_start(&db, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("Not a redb database"), "{stderr}");
    assert!(!stderr.contains("kh_"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), notes);
}

#[test]
fn a_secret_in_the_url_is_redacted_from_the_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("k.redb"), &[]);
    let admin = served.printed_secret().unwrap();
    let client = reqwest::blocking::Client::new();
    for path in [
        format!("/api/v1/me?access_token={admin}"),
        format!("/api/v1/service-accounts/{admin}"),
        format!("/healthz?t=kh%5F{}", &admin[3..]),
    ] {
        client.get(format!("{}{path}", served.base)).send().unwrap();
    }
    let log = served.stop();
    let lines: Vec<&String> = log.iter().filter(|l| l.contains("[redacted]")).collect();
    assert_eq!(lines.len(), 3, "{log:?}");
    assert!(lines[0].contains("\"GET /api/v1/me?access_token=kh_[redacted] HTTP/1.1\""));
    for line in &log {
        assert!(!line.contains(&admin[3..]), "a secret in the log: {line}");
    }
}

/// A TLS ClientHello whose SNI names an IP address, which RFC 6066 forbids.
fn client_hello_with_ip_sni() -> Vec<u8> {
    fn with_len16(bytes: &[u8]) -> Vec<u8> {
        let mut out = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }
    let name = [&[0u8][..], &with_len16(b"127.0.0.1")].concat(); // host_name
    let extension = [&[0u8, 0][..], &with_len16(&with_len16(&name))].concat(); // server_name
    let hello = [
        &[3u8, 3][..],       // TLS 1.2
        &[7; 32],            // random
        &[0],                // no session id
        &[0, 2, 0xc0, 0x2b], // one cipher suite
        &[1, 0],             // no compression
        &with_len16(&extension),
    ]
    .concat();
    let length = u32::try_from(hello.len()).unwrap().to_be_bytes();
    let handshake = [&[1u8][..], &length[1..], &hello].concat(); // client_hello
    [&[0x16u8, 3, 1][..], &with_len16(&handshake)].concat()
}

#[test]
fn an_ip_address_as_sni_does_not_flood_the_warning_log() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();
    let warnings_of = |rust_log: &str| {
        let served = Served::start(
            &dir.path().join("k.redb"),
            &[
                ("RUST_LOG", rust_log),
                (
                    "KEYHOUSE_SERVER__TLS__CERT_FILE",
                    cert_file.to_str().unwrap(),
                ),
                ("KEYHOUSE_SERVER__TLS__KEY_FILE", key_file.to_str().unwrap()),
            ],
        );
        let addr = served.base.trim_start_matches("https://");
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.write_all(&client_hello_with_ip_sni()).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = [0u8; 64];
        assert!(conn.read(&mut answer).unwrap() > 0, "the server answers");
        served
            .stop()
            .into_iter()
            .filter(|l| l.contains("Illegal SNI"))
            .count()
    };
    // `keyhouse=info` only so that the test can read the listening address.
    assert_eq!(warnings_of("warn,keyhouse=info"), 0);
    assert_eq!(
        warnings_of("warn,keyhouse=info,rustls=warn"),
        1,
        "named, it logs"
    );
}
