//! The seed API's wire format, answered on the same routes: a first secret by default
//! with `token`, `token_expires_at`, `renew-token`, `lrn`, `is_admin`, `token_expired`,
//! full group summaries, and never-expiring credentials under lifetimes of 0.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{Reply, TestServer};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";

fn renew(s: &TestServer, name: &str, body: Option<Value>) -> Reply {
    let path = format!("{SA}/{name}/renew-token");
    s.send(Method::POST, &path, Some(&s.token), body.as_ref(), &[])
}

/// An RFC 3339 time `days` from now, to the second.
fn in_days(days: i64) -> String {
    (keyhouse::clock::now() + chrono::Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn audit_events(s: &TestServer, action: &str) -> Vec<Value> {
    let reply = s.get(&format!("/api/v1/audit-events?action={action}"));
    reply.assert_status(200);
    reply.body["items"].as_array().unwrap().clone()
}

/// A client of the seed API drives an account's whole life with its own fields and
/// routes only.
#[test]
fn an_account_lives_through_the_seed_api() {
    let s = TestServer::start();
    s.post(
        "/api/v1/groups",
        json!({"name": "deployers", "description": "ships", "metadata": {"team": "infra"},
               "roles": ["viewer"]}),
    )
    .assert_status(201);

    let expiry = in_days(30);
    let created = s.post(
        SA,
        json!({"name": "seed-bot", "groups": ["deployers"], "token_expires_at": expiry}),
    );
    created.assert_status(201);
    let token = created.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("kh_"));
    assert_eq!(created.body["secret"]["secret"], token.as_str());
    assert_eq!(created.body["secret"]["expires_at"], expiry.as_str());

    for read in [
        s.get(&format!("{SA}/seed-bot")),
        s.get_as(&token, "/api/v1/me"),
    ] {
        read.assert_status(200);
        let a = &read.body;
        assert_eq!(a["lrn"], "lrn:keyhouse::service-account/seed-bot");
        assert_eq!(a["is_admin"], false);
        assert_eq!(a["token_expires_at"], expiry.as_str());
        assert_eq!(a["token_expired"], false);
        assert!(a.get("token").is_none(), "the token is shown once");
        let group = &a["groups"][0];
        assert_eq!(group["name"], "deployers");
        assert_eq!(group["display_name"], "deployers");
        assert_eq!(group["lrn"], "lrn:keyhouse::group/deployers");
        assert_eq!(group["description"], "ships");
        assert_eq!(group["metadata"], json!({"team": "infra"}));
        assert_eq!(group["user_count"], 0);
        assert_eq!(group["sa_count"], 1);
        assert_eq!(group["role_count"], 1);
        assert!(group["id"].is_string() && group["created_at"].is_string());
    }
    let group = s.get("/api/v1/groups/deployers");
    assert_eq!(group.body["lrn"], "lrn:keyhouse::group/deployers");
    assert_eq!(group.body["user_count"], 0);
    let role = s.get("/api/v1/roles/viewer");
    assert_eq!(role.body["lrn"], "lrn:keyhouse::role/viewer");
    assert_eq!(s.get("/api/v1/me").body["is_admin"], true, "admin holds *");

    let later = in_days(60);
    let renewed = renew(&s, "seed-bot", Some(json!({"token_expires_at": later})));
    renewed.assert_status(200);
    let new_token = renewed.body["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    assert_eq!(renewed.body["secret"]["secret"], new_token.as_str());
    assert_eq!(renewed.body["name"], "seed-bot");
    assert_eq!(renewed.body["token_expires_at"], later.as_str());
    assert_eq!(renewed.body["active_credential_count"], 1);
    s.get_as(&token, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    let me = s.get_as(&new_token, "/api/v1/me");
    me.assert_status(200);
    assert_eq!(me.body["token_expires_at"], later.as_str());

    s.delete(&format!("{SA}/seed-bot")).assert_status(204);
    s.get_as(&new_token, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
}

#[test]
fn a_create_issues_a_first_secret_unless_told_not_to() {
    let s = TestServer::start();
    for (name, extra) in [
        ("plain", json!({})),
        ("flag", json!({"initial_secret": true})),
        ("named", json!({"initial_secret": {"name": "deploy"}})),
    ] {
        let mut body = extra;
        body["name"] = json!(name);
        let reply = s.post(SA, body);
        reply.assert_status(201);
        let token = reply.body["token"].as_str().unwrap();
        assert_eq!(reply.body["secret"]["secret"], token, "{name}");
        assert_eq!(reply.body["active_credential_count"], 1, "{name}");
        s.get_as(token, "/api/v1/me").assert_status(200);
    }
    assert_eq!(
        s.get(&format!("{SA}/named/credentials")).body["items"][0]["name"],
        "deploy"
    );

    let none = s.post(SA, json!({"name": "none", "initial_secret": false}));
    none.assert_status(201);
    assert!(none.body.get("secret").is_none());
    assert!(none.body.get("token").is_none());
    assert_eq!(none.body["active_credential_count"], 0);
    assert_eq!(none.body["token_expires_at"], Value::Null);
    assert_eq!(
        none.body["token_expired"], false,
        "no secrets, none expired"
    );

    s.post(SA, json!({"name": "bad", "initial_secret": 3}))
        .assert_error(400, "INVALID_ARGUMENT");
    let unknown = s.post(SA, json!({"name": "bad", "initial_secret": {"nmae": "x"}}));
    unknown.assert_error(400, "INVALID_ARGUMENT");
    assert!(
        unknown.body.to_string().contains("nmae"),
        "{}",
        unknown.body
    );
    s.get(&format!("{SA}/bad")).assert_error(404, "NOT_FOUND");
}

#[test]
fn token_expires_at_and_initial_secret_expires_at_must_agree() {
    let s = TestServer::start();
    let (a, b) = (in_days(10), in_days(20));
    let refused = [
        json!({"name": "bot", "token_expires_at": a, "initial_secret": {"expires_at": b}}),
        json!({"name": "bot", "token_expires_at": a, "initial_secret": false}),
        json!({"name": "bot", "token_expires_at": in_days(-1)}),
        json!({"name": "bot", "token_expires_at": in_days(731)}),
    ];
    for body in refused {
        let reply = s.post(SA, body.clone());
        reply.assert_error(400, "INVALID_ARGUMENT");
        assert_eq!(
            reply.body["error"]["details"][0]["field"], "token_expires_at",
            "{body}: {}",
            reply.body
        );
        s.get(&format!("{SA}/bot")).assert_error(404, "NOT_FOUND");
    }
    let same = s.post(
        SA,
        json!({"name": "bot", "token_expires_at": a, "initial_secret": {"expires_at": a}}),
    );
    same.assert_status(201);
    assert_eq!(same.body["secret"]["expires_at"], a.as_str());
}

/// Renewing revokes every secret (not public keys) in one audited change, with or
/// without a body.
#[test]
fn renew_token_replaces_every_secret_and_leaves_keys() {
    let s = TestServer::start();
    let first = s.create_account("bot", &["viewer"]);
    let second = s.post(&format!("{SA}/bot/credentials"), json!({}));
    second.assert_status(201);
    let second = second.body["secret"].as_str().unwrap().to_owned();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let der = [
        hex_bytes("302a300506032b6570032100"),
        pair.public_key().as_ref().to_vec(),
    ]
    .concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    );
    let key = s.post(
        &format!("{SA}/bot/credentials"),
        json!({"type": "public_key", "public_key": pem}),
    );
    key.assert_status(201);

    let renewed = renew(&s, "bot", None);
    renewed.assert_status(200);
    let token = renewed.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        renewed.body["active_credential_count"], 2,
        "the key and the new secret"
    );
    for old in [&first, &second] {
        s.get_as(old, "/api/v1/me")
            .assert_error(401, "UNAUTHENTICATED");
    }
    s.get_as(&token, "/api/v1/me").assert_status(200);
    let listed = s.get(&format!("{SA}/bot/credentials")).body;
    let kinds: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"public_key") && kinds.contains(&"secret"));

    let events = audit_events(&s, "service_account.renew_token");
    assert_eq!(events.len(), 1);
    let revoked = &events[0]["changes"]["revoked_credentials"]["to"];
    assert_eq!(revoked.as_array().unwrap().len(), 2, "{}", events[0]);
    assert!(!events[0].to_string().contains(&token), "no secret audited");

    renew(&s, "bot", Some(Value::Null)).assert_status(200);
    renew(&s, "bot", Some(json!({"token_expires_at": in_days(-1)})))
        .assert_error(400, "INVALID_ARGUMENT");
    renew(&s, "bot", Some(json!({"name": "x"}))).assert_error(400, "INVALID_ARGUMENT");
    renew(&s, "nobody", None).assert_error(404, "NOT_FOUND");
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn renew_token_is_refused_on_a_more_privileged_account_and_without_credentials_write() {
    let s = TestServer::start();
    let operator = s.create_account("op", &["operator"]);
    let viewer = s.create_account("viewer", &["viewer"]);
    let target = s.create_account("target", &["viewer"]);
    let admin_path = format!("{SA}/admin/renew-token");
    s.post_as(&operator, &admin_path, json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&viewer, &format!("{SA}/target/renew-token"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    s.get("/api/v1/me").assert_status(200);
    s.get_as(&target, "/api/v1/me").assert_status(200);
    assert!(audit_events(&s, "service_account.renew_token").is_empty());
    let ok = s.post_as(&operator, &format!("{SA}/target/renew-token"), json!({}));
    ok.assert_status(200);
}

/// `token_expired`: the account has secrets and none is unexpired.
#[test]
fn token_expired_when_every_secret_has_expired() {
    let s = TestServer::start();
    s.create_account("bot", &[]);
    let rotated = s.post(
        &format!("{SA}/bot/rotate-secret"),
        json!({"grace_period_seconds": 0}),
    );
    rotated.assert_status(201);
    let read = s.get(&format!("{SA}/bot")).body;
    assert_eq!(read["token_expired"], false);
    assert_eq!(read["token_expires_at"], rotated.body["expires_at"]);
    let id = rotated.body["id"].as_str().unwrap();
    s.delete(&format!("{SA}/bot/credentials/{id}"))
        .assert_status(204);
    let read = s.get(&format!("{SA}/bot")).body;
    assert_eq!(
        read["token_expired"], true,
        "only the expired secret is left"
    );
    assert_eq!(read["token_expires_at"], Value::Null);
}

/// `credentials.default_lifetime_days = 0` and `max_lifetime_days = 0`: a credential
/// without an expiry never expires, any future expiry is allowed, the limit counts it,
/// and a rotation with grace gives it an expiry.
#[test]
fn lifetimes_of_zero_make_credentials_that_never_expire() {
    let s = TestServer::start_with(|c| {
        c.credentials.limits.default_lifetime_days = 0;
        c.credentials.limits.max_lifetime_days = 0;
        c.credentials.limits.max_active = 2;
    });
    let created = s.post(SA, json!({"name": "bot"}));
    created.assert_status(201);
    assert_eq!(created.body["secret"]["expires_at"], Value::Null);
    assert_eq!(created.body["secret"]["expired"], false);
    assert_eq!(created.body["token_expires_at"], Value::Null);
    assert_eq!(created.body["token_expired"], false);
    let token = created.body["token"].as_str().unwrap().to_owned();
    s.get_as(&token, "/api/v1/me").assert_status(200);
    let id = created.body["secret"]["id"].as_str().unwrap().to_owned();
    let read = s.get(&format!("{SA}/bot/credentials/{id}"));
    assert_eq!(read.body["expires_at"], Value::Null);
    assert_eq!(read.body["expired"], false);

    let far = in_days(36_600);
    let second = s.post(&format!("{SA}/bot/credentials"), json!({"expires_at": far}));
    second.assert_status(201);
    s.post(&format!("{SA}/bot/credentials"), json!({}))
        .assert_error(409, "LIMIT_EXCEEDED");
    assert_eq!(
        s.get(&format!("{SA}/bot")).body["token_expires_at"],
        Value::Null,
        "the secret expiring last never expires"
    );

    let rotated = s.post(
        &format!("{SA}/bot/rotate-secret"),
        json!({"grace_period_seconds": 3600}),
    );
    rotated.assert_status(201);
    let old = s.get(&format!("{SA}/bot/credentials/{id}")).body;
    assert!(
        old["expires_at"].is_string(),
        "grace gives it an expiry: {old}"
    );
    s.get_as(&token, "/api/v1/me").assert_status(200);
}
