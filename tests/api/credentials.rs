//! Credentials over HTTP: secrets and public keys, limits and lifetimes, rotation with
//! and without grace, revocation, last use written in batches, and no secret at rest.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::time::{Duration, Instant};

use crate::common::{NO_STORE, Reply, TestServer, counter};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";

/// SubjectPublicKeyInfo prefixes, written out here independently of the server's.
const P256_SPKI: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
const ED25519_SPKI: &str = "302a300506032b6570032100";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn pem(der: &[u8]) -> String {
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    )
}

fn p256_der() -> Vec<u8> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    [unhex(P256_SPKI), pair.public_key().as_ref().to_vec()].concat()
}

fn ed25519_der() -> Vec<u8> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    [unhex(ED25519_SPKI), pair.public_key().as_ref().to_vec()].concat()
}

fn creds(name: &str) -> String {
    format!("{SA}/{name}/credentials")
}

fn issue(s: &TestServer, name: &str, body: Value) -> Reply {
    s.post(&creds(name), body)
}

fn me(s: &TestServer, secret: &str) -> u16 {
    s.get_as(secret, "/api/v1/me").status
}

#[test]
fn a_secret_is_shown_once_and_never_listed() {
    let s = TestServer::start();
    s.post(SA, json!({"name": "bot", "initial_secret": false}));
    let created = issue(&s, "bot", json!({"name": "deploy"}));
    created.assert_status(201);
    let c = &created.body;
    let secret = c["secret"].as_str().unwrap();
    assert_eq!(c["type"], "secret");
    assert_eq!(c["name"], "deploy");
    assert_eq!(c["prefix"], &secret[..8]);
    assert!(c["fingerprint"].is_null());
    assert_eq!(c["expired"], false);
    assert!(c["last_used_at"].is_null());
    assert_eq!(c["created_by"]["name"], "admin");
    let default_expiry =
        chrono::DateTime::parse_from_rfc3339(c["expires_at"].as_str().unwrap()).unwrap();
    let days = (default_expiry.with_timezone(&chrono::Utc) - s.now()).num_days();
    assert!(
        (364..=365).contains(&days),
        "default lifetime 365 days: {days}"
    );
    assert_eq!(me(&s, secret), 200);

    let list = s.get(&creds("bot"));
    list.assert_status(200);
    assert_eq!(list.body["total_count"], 1);
    assert!(!list.body.to_string().contains(secret));
    let id = c["id"].as_str().unwrap();
    let read = s.get(&format!("{}/{id}", creds("bot")));
    read.assert_status(200);
    assert!(read.body.get("secret").is_none());
    assert_eq!(read.body["prefix"], c["prefix"]);
    assert_eq!(
        s.get(&format!("{SA}/bot")).body["active_credential_count"],
        1
    );
}

#[test]
fn revoking_stops_a_secret_on_the_next_request() {
    let s = TestServer::start();
    let secret = s.create_account("bot", &["viewer"]);
    let id = s.get(&creds("bot")).body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me(&s, &secret), 200);
    s.delete(&format!("{}/{id}", creds("bot")))
        .assert_status(204);
    assert_eq!(me(&s, &secret), 401);
    s.get(&format!("{}/{id}", creds("bot")))
        .assert_error(404, "NOT_FOUND");
    assert_eq!(s.get(&creds("bot")).body["total_count"], 0);
    s.delete(&format!("{}/{id}", creds("bot")))
        .assert_error(404, "NOT_FOUND");
    let revocations = s.get("/api/v1/audit-events?action=credential.revoke").body;
    assert_eq!(revocations["items"][0]["target"]["id"], id.as_str());
    s.get(&format!("{}/not-a-uuid", creds("bot")))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn a_credential_is_only_reachable_through_its_own_account() {
    let s = TestServer::start();
    s.create_account("a", &[]);
    s.create_account("b", &[]);
    let id = s.get(&creds("a")).body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.get(&format!("{}/{id}", creds("b")))
        .assert_error(404, "NOT_FOUND");
    s.delete(&format!("{}/{id}", creds("b")))
        .assert_error(404, "NOT_FOUND");
    s.get(&format!("{}/{id}", creds("a"))).assert_status(200);
}

#[test]
fn public_keys_are_checked_and_fingerprinted() {
    let s = TestServer::start();
    s.post(SA, json!({"name": "signer", "initial_secret": false}));
    for der in [p256_der(), ed25519_der()] {
        let created = issue(
            &s,
            "signer",
            json!({"type": "public_key", "public_key": pem(&der)}),
        );
        created.assert_status(201);
        assert_eq!(created.body["type"], "public_key");
        assert_eq!(created.body["name"], "public_key");
        assert!(created.body.get("secret").is_none());
        assert!(created.body["prefix"].is_null());
        let digest = ring::digest::digest(&ring::digest::SHA256, &der);
        assert_eq!(created.body["fingerprint"], hex(digest.as_ref()));
    }
    let off_curve = [unhex(P256_SPKI), vec![0x04], vec![1; 64]].concat();
    for (body, reason) in [
        (
            json!({"type": "public_key", "public_key": pem(&off_curve)}),
            "curve",
        ),
        (
            json!({"type": "public_key", "public_key": pem(b"junk")}),
            "only EC P-256 and Ed25519",
        ),
        (
            json!({"type": "public_key", "public_key": "ssh-ed25519 AAAA"}),
            "PEM",
        ),
        (json!({"type": "public_key"}), "required"),
        (
            json!({"type": "secret", "public_key": pem(&ed25519_der())}),
            "public_key",
        ),
    ] {
        let reply = issue(&s, "signer", body);
        reply.assert_error(400, "INVALID_ARGUMENT");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{}",
            reply.body
        );
    }
    issue(&s, "signer", json!({"type": "certificate"})).assert_error(400, "INVALID_ARGUMENT");
    assert_eq!(
        s.get(&format!("{SA}/signer")).body["active_credential_count"],
        2
    );
}

#[test]
fn lifetimes_are_bounded() {
    let s = TestServer::start();
    s.post(SA, json!({"name": "bot"}));
    let now = s.now();
    let at = |days: i64| (now + chrono::Duration::days(days)).to_rfc3339();
    issue(&s, "bot", json!({"expires_at": at(730)})).assert_status(201);
    issue(&s, "bot", json!({"expires_at": at(731)})).assert_error(400, "INVALID_ARGUMENT");
    issue(&s, "bot", json!({"expires_at": at(-1)})).assert_error(400, "INVALID_ARGUMENT");
    issue(&s, "bot", json!({"name": ""})).assert_error(400, "INVALID_ARGUMENT");
}

#[test]
fn the_active_limit_counts_only_unexpired_credentials() {
    let s = TestServer::start_with(|c| c.credentials.limits.max_active = 3);
    s.post(SA, json!({"name": "bot", "initial_secret": false}));
    let soon = (s.now() + chrono::Duration::seconds(2)).to_rfc3339();
    let short = issue(&s, "bot", json!({"expires_at": soon}));
    short.assert_status(201);
    issue(&s, "bot", json!({})).assert_status(201);
    issue(
        &s,
        "bot",
        json!({"type": "public_key", "public_key": pem(&ed25519_der())}),
    )
    .assert_status(201);
    assert_eq!(
        s.get(&format!("{SA}/bot")).body["active_credential_count"],
        3
    );
    issue(&s, "bot", json!({})).assert_error(409, "LIMIT_EXCEEDED");
    assert_eq!(
        s.get(&creds("bot")).body["total_count"],
        3,
        "a refused credential is not stored"
    );

    s.advance(chrono::Duration::seconds(4));
    assert_eq!(
        me(&s, short.body["secret"].as_str().unwrap()),
        401,
        "expired"
    );
    assert_eq!(
        s.get(&format!("{SA}/bot")).body["active_credential_count"],
        2
    );
    let listed = s.get(&creds("bot")).body;
    let expired: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["expired"] == true)
        .collect();
    assert_eq!(expired.len(), 1);
    issue(&s, "bot", json!({})).assert_status(201);
    issue(&s, "bot", json!({})).assert_error(409, "LIMIT_EXCEEDED");
}

#[test]
fn rotation_without_grace_stops_old_secrets_at_once() {
    let s = TestServer::start_with(|c| c.credentials.limits.max_active = 2);
    let old = s.create_account("bot", &["viewer"]);
    let key = issue(
        &s,
        "bot",
        json!({"type": "public_key", "public_key": pem(&ed25519_der())}),
    );
    issue(&s, "bot", json!({})).assert_error(409, "LIMIT_EXCEEDED");
    let rotated = s.post(&format!("{SA}/bot/rotate-secret"), json!({"name": "next"}));
    rotated.assert_status(201);
    assert_eq!(rotated.body["name"], "next");
    let new = rotated.body["secret"].as_str().unwrap();
    assert_eq!(me(&s, new), 200);
    assert_eq!(me(&s, &old), 401);
    let key_id = key.body["id"].as_str().unwrap();
    let key_now = s.get(&format!("{}/{key_id}", creds("bot")));
    assert_eq!(
        key_now.body["expires_at"], key.body["expires_at"],
        "public keys are not rotated"
    );
}

#[test]
fn rotation_with_grace_keeps_both_secrets_until_the_grace_ends() {
    let s = TestServer::start();
    let old = s.create_account("bot", &["viewer"]);
    let before = s.now();
    let rotated = s.post(
        &format!("{SA}/bot/rotate-secret"),
        json!({"grace_period_seconds": 2}),
    );
    rotated.assert_status(201);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(me(&s, &old), 200, "the old secret works during the grace");
    assert_eq!(me(&s, &new), 200);
    let old_cred = s.get(&creds("bot")).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] != rotated.body["id"])
        .unwrap()
        .clone();
    let until =
        chrono::DateTime::parse_from_rfc3339(old_cred["expires_at"].as_str().unwrap()).unwrap();
    let grace = (until.with_timezone(&chrono::Utc) - before).num_seconds();
    assert!((1..=3).contains(&grace), "{grace}");
    s.advance(chrono::Duration::seconds(4));
    assert_eq!(me(&s, &old), 401, "the grace has ended");
    assert_eq!(me(&s, &new), 200);
    for bad in [
        json!({"grace_period_seconds": 86401}),
        json!({"grace_period_seconds": -1}),
        json!({"colour": 1}),
    ] {
        s.post(&format!("{SA}/bot/rotate-secret"), bad)
            .assert_error(400, "INVALID_ARGUMENT");
    }
    s.post(
        &format!("{SA}/bot/rotate-secret"),
        json!({"grace_period_seconds": 86400}),
    )
    .assert_status(201);
}

#[test]
fn an_operator_cannot_mint_a_secret_for_a_stronger_account() {
    let s = TestServer::start();
    let operator = s.create_account("op", &["operator"]);
    s.post_as(&operator, &creds("admin"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&operator, &format!("{SA}/admin/rotate-secret"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(s.get(&creds("admin")).body["total_count"], 1);
    s.post(SA, json!({"name": "plain"}));
    s.post_as(&operator, &creds("plain"), json!({}))
        .assert_status(201);
    let viewer = s.create_account("v", &["viewer"]);
    s.get_as(&viewer, &creds("plain")).assert_status(200);
    s.post_as(&viewer, &creds("plain"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    let nobody = s.create_account("n", &[]);
    s.get_as(&nobody, &creds("plain"))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn last_use_is_written_in_batches_not_per_request() {
    let s = TestServer::start_with(|c| c.credentials.last_used_flush_seconds = 1);
    let secret = s.create_account("busy", &["viewer"]);
    let etag = s.get(&format!("{SA}/busy")).body["etag"].clone();
    let writes_before = counter(&s.base, "keyhouse_store_write_transactions");
    let started = Instant::now();
    for _ in 0..300 {
        assert_eq!(me(&s, &secret), 200);
    }
    let elapsed_seconds = started.elapsed().as_secs() + 1;
    let writes = counter(&s.base, "keyhouse_store_write_transactions") - writes_before;
    assert!(
        writes <= elapsed_seconds + 1,
        "{writes} write transactions for 300 requests in ~{elapsed_seconds} s"
    );

    let deadline = Instant::now() + Duration::from_secs(5);
    let account = loop {
        let account = s.get(&format!("{SA}/busy")).body;
        if !account["last_seen_at"].is_null() || Instant::now() > deadline {
            break account;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        account["last_seen_at"].is_string(),
        "last_seen_at after the flush: {account}"
    );
    assert_eq!(account["etag"], etag, "use does not change the etag");
    let credential = &s.get(&creds("busy")).body["items"][0];
    assert!(credential["last_used_at"].is_string(), "{credential}");
}

#[test]
fn stopping_the_server_flushes_last_use() {
    let mut s = TestServer::start_with(|c| c.credentials.last_used_flush_seconds = 3600);
    let secret = s.create_account("once", &[]);
    assert_eq!(me(&s, &secret), 200);
    assert!(
        s.get(&format!("{SA}/once")).body["last_seen_at"].is_null(),
        "not yet flushed"
    );
    s.restart();
    assert!(
        s.get(&format!("{SA}/once")).body["last_seen_at"].is_string(),
        "flushed at shutdown"
    );
}

#[test]
fn the_database_file_never_holds_a_secret() {
    let s = TestServer::start_on_file_with(|c| c.credentials.last_used_flush_seconds = 1);
    let mut secrets = vec![s.token.clone()];
    for i in 0..10 {
        let name = format!("bot-{i}");
        secrets.push(s.create_account(&name, &[]));
        secrets.push(
            issue(&s, &name, json!({})).body["secret"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let rotated = s.post(
            &format!("{SA}/{name}/rotate-secret"),
            json!({"grace_period_seconds": 60}),
        );
        secrets.push(rotated.body["secret"].as_str().unwrap().to_owned());
    }
    for secret in &secrets {
        assert_eq!(
            s.send(Method::GET, "/api/v1/me", Some(secret), None, &[])
                .status,
            200
        );
    }
    // The last uses of these secrets are written by the flusher, every second: wait
    // until they are in the file, then read it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.get(&format!("{SA}/bot-9")).body["last_seen_at"].is_null() {
        assert!(Instant::now() < deadline, "no last-use flush");
        std::thread::sleep(Duration::from_millis(20));
    }
    let bytes = std::fs::read(s.db_path()).unwrap();
    for secret in &secrets {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "a secret is in the database file");
        let body = &secret.as_bytes()[3..];
        assert!(
            !bytes.windows(body.len()).any(|w| w == body),
            "a secret's random part is in the file"
        );
    }
}

#[test]
fn me_sees_a_credential_expire_without_any_write() {
    // No last-use flush either: nothing is written between the two reads.
    let s = TestServer::start_with(|c| c.credentials.last_used_flush_seconds = 3600);
    let secret = s.create_account("bot", &[]);
    let soon = (s.now() + chrono::Duration::seconds(2)).to_rfc3339();
    issue(&s, "bot", json!({ "expires_at": soon })).assert_status(201);
    assert_eq!(
        s.get_as(&secret, "/api/v1/me").body["active_credential_count"],
        2
    );
    assert_eq!(
        s.get_as(&secret, "/api/v1/me").body["active_credential_count"],
        2
    );
    s.advance(chrono::Duration::seconds(4));
    assert_eq!(
        s.get_as(&secret, "/api/v1/me").body["active_credential_count"],
        1
    );
}

/// A new secret is shown once, in an answer no cache may keep; a new public key, a
/// read and a list of credentials are ordinary answers. At the root and in a project.
#[test]
fn answers_showing_a_secret_are_not_cached() {
    let s = TestServer::start();
    s.post("/api/v1/projects", json!({"name": "p1"}))
        .assert_status(201);
    for base in [SA, "/api/v1/projects/p1/service-accounts"] {
        s.post(base, json!({"name": "bot", "initial_secret": false}))
            .assert_status(201);
        let creds = format!("{base}/bot/credentials");
        let secret = s.post(&creds, json!({"name": "deploy"}));
        secret.assert_status(201);
        assert!(secret.body["secret"].is_string(), "{}", secret.body);
        assert_eq!(secret.caching(), NO_STORE, "{creds} secret");
        let key = s.post(
            &creds,
            json!({"type": "public_key", "public_key": pem(&ed25519_der())}),
        );
        key.assert_status(201);
        assert_eq!(key.caching(), (None, None), "{creds} public key");
        let rotated = s.post(&format!("{base}/bot/rotate-secret"), json!({}));
        rotated.assert_status(201);
        assert!(rotated.body["secret"].is_string(), "{}", rotated.body);
        assert_eq!(rotated.caching(), NO_STORE, "{base} rotate-secret");
        let id = secret.body["id"].as_str().unwrap();
        for read in [s.get(&format!("{creds}/{id}")), s.get(&creds)] {
            read.assert_status(200);
            assert_eq!(read.caching(), (None, None), "{creds} read");
        }
    }
}

/// The server's clock moved 31 days at once: a secret made with a 30-day lifetime and an
/// access token issued with it are refused as expired, and a new secret works.
#[test]
fn thirty_one_days_pass_in_a_blink() {
    let s = TestServer::start();
    s.post(SA, json!({"name": "bot", "initial_secret": false}))
        .assert_status(201);
    let in_30_days = (s.now() + chrono::Duration::days(30)).to_rfc3339();
    let secret = issue(&s, "bot", json!({ "expires_at": in_30_days })).body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = |secret: &str| {
        s.form(
            "/oauth2/token",
            Some(("bot", secret)),
            &[("grant_type", "client_credentials")],
        )
    };
    let jwt = token(&secret).body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    s.get_as(&secret, "/api/v1/me").assert_status(200);
    s.get_as(&jwt, "/api/v1/me").assert_status(200);

    s.advance(chrono::Duration::days(31));
    for refused in [
        s.get_as(&secret, "/api/v1/me"),
        s.get_as(&jwt, "/api/v1/me"),
    ] {
        refused.assert_error(401, "UNAUTHENTICATED");
        assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    }
    let refused = token(&secret);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["error"], "invalid_client", "{}", refused.body);
    let listed = s.get(&creds("bot"));
    assert_eq!(listed.body["items"][0]["expired"], true, "{}", listed.body);
    assert_eq!(
        s.get("/api/v1/service-accounts/bot").body["token_expired"],
        true
    );

    // A secret and a token made at the moved time work: the token's iat and nbf are
    // the server's time, a month ahead of the system's, and are checked against it.
    let fresh = issue(&s, "bot", json!({})).body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh_jwt = token(&fresh).body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    s.get_as(&fresh, "/api/v1/me").assert_status(200);
    s.get_as(&fresh_jwt, "/api/v1/me").assert_status(200);
}
