//! A fault of the store stays a fault: with the store's failpoint armed, the paths that
//! once turned a failed read into an authentication outcome answer 500 `INTERNAL`
//! instead: bearer authentication (not 401), OAuth client authentication (not
//! `invalid_client`, and not counted toward blocking the address), introspection (not
//! `{"active": false}`) and the group filter of the account list (not a wrong page).
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::blocking::{Client, RequestBuilder};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

use crate::auth::secret::Secret;
use crate::config::Config;
use crate::server::{self, Spawned};
use crate::store::faults::{self, Fault};

/// At most this many failed authentications per address: the faults below make more
/// attempts than this, and none may count.
const MAX_FAILURES: u32 = 2;

struct Faulty {
    base: String,
    admin: String,
    db: PathBuf,
    http: Client,
    spawned: Option<Spawned>,
    _dir: tempfile::TempDir,
}

impl Faulty {
    fn start() -> Faulty {
        let dir = tempfile::tempdir().unwrap();
        let admin = Secret::generate().unwrap().expose().to_owned();
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".into();
        config.storage.path = dir.path().join("keyhouse.redb");
        config.bootstrap.admin_token = Some(admin.clone());
        config.security.max_auth_failures = MAX_FAILURES;
        // No batch of last-use times is written while a test counts transactions.
        config.credentials.last_used_flush_seconds = 3600;
        let db = config.storage.path.clone();
        let spawned = server::spawn(config).unwrap();
        Faulty {
            base: format!("http://{}", spawned.addr),
            admin,
            db,
            http: Client::new(),
            spawned: Some(spawned),
            _dir: dir,
        }
    }

    fn send(&self, request: RequestBuilder) -> (u16, Value) {
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body);
        let (status, body) = self.send(request);
        assert!(status < 300, "{path}: {status} {body}");
        body
    }

    fn me(&self, token: &str) -> (u16, Value) {
        self.send(
            self.http
                .get(format!("{}/api/v1/me", self.base))
                .bearer_auth(token),
        )
    }

    fn form(&self, path: &str, fields: &[(&str, &str)]) -> RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).form(fields)
    }

    /// An account with a secret that has not been used yet, so nothing about it is
    /// remembered and authenticating it must read the store.
    fn account(&self, name: &str) -> String {
        let created = self.post(
            "/api/v1/service-accounts",
            json!({"name": name, "initial_secret": {}}),
        );
        created["secret"]["secret"].as_str().unwrap().to_owned()
    }

    /// Uses the admin secret once after the last write, so that it is remembered and
    /// the admin can still call while the store fails.
    fn remember_admin(&self) {
        assert_eq!(self.me(&self.admin.clone()).0, 200);
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        faults::disarm(&self.db);
        if let Some(spawned) = self.spawned.take() {
            spawned.stop();
        }
    }
}

#[track_caller]
fn assert_internal((status, body): (u16, Value)) {
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "INTERNAL", "{body}");
}

#[test]
fn a_fault_while_authenticating_a_bearer_is_500_and_not_counted() {
    let s = Faulty::start();
    let secret = s.account("ci");
    faults::arm(&s.db, Fault::Everything);
    for _ in 0..=MAX_FAILURES + 1 {
        assert_internal(s.me(&secret));
    }
    faults::disarm(&s.db);
    assert_eq!(s.me(&secret).0, 200, "the address was not blocked");
}

#[test]
fn a_fault_in_client_authentication_is_500_not_invalid_client() {
    let s = Faulty::start();
    let secret = s.account("ci");
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let der = [
        &[
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ][..],
        pair.public_key().as_ref(),
    ]
    .concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    );
    s.post(
        "/api/v1/service-accounts/ci/credentials",
        json!({"type": "public_key", "public_key": pem}),
    );
    let assertion = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
        &json!({"iss": "ci", "sub": "ci", "aud": format!("{}/oauth2/token", s.base),
            "exp": crate::clock::now().timestamp() + 60, "jti": "once"}),
        &jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
    )
    .unwrap();
    let grant = [("grant_type", "client_credentials")];
    faults::arm(&s.db, Fault::Everything);
    for _ in 0..=MAX_FAILURES + 1 {
        assert_internal(
            s.send(
                s.form("/oauth2/token", &grant)
                    .basic_auth("ci", Some(&secret)),
            ),
        );
    }
    assert_internal(s.send(s.form(
        "/oauth2/token",
        &[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ],
    )));
    faults::disarm(&s.db);
    let (status, body) = s.send(
        s.form("/oauth2/token", &grant)
            .basic_auth("ci", Some(&secret)),
    );
    assert_eq!(status, 200, "the address was not blocked: {body}");
}

#[test]
fn a_fault_during_introspection_is_500_not_inactive() {
    let s = Faulty::start();
    let secret = s.account("ci");
    let unused = s.account("other");
    let (status, token) = s.send(
        s.form("/oauth2/token", &[("grant_type", "client_credentials")])
            .basic_auth("ci", Some(&secret)),
    );
    assert_eq!(status, 200);
    let token = token["access_token"].as_str().unwrap().to_owned();
    s.remember_admin();
    faults::arm(&s.db, Fault::Everything);
    for inspected in [unused.as_str(), token.as_str()] {
        assert_internal(
            s.send(
                s.form("/oauth2/introspect", &[("token", inspected)])
                    .bearer_auth(&s.admin),
            ),
        );
    }
}

#[test]
fn a_fault_while_filtering_by_group_is_500_not_a_page() {
    let s = Faulty::start();
    s.post("/api/v1/groups", json!({"name": "builders"}));
    s.remember_admin();
    // Only the group's lookup fails: the page itself could still be read, and must not be.
    faults::arm(&s.db, Fault::Table("group_names_v1"));
    for filter in ["group=builders", "group=nobody"] {
        assert_internal(
            s.send(
                s.http
                    .get(format!("{}/api/v1/service-accounts?{filter}", s.base))
                    .bearer_auth(&s.admin),
            ),
        );
    }
}

/// A caller that holds nothing in a project is answered 404 before any read: with the
/// store failing, a project that exists and one that does not answer alike, and at
/// once.
#[test]
fn a_caller_holding_nothing_in_a_project_is_404_without_a_read() {
    let s = Faulty::start();
    s.post("/api/v1/projects", json!({"name": "payments"}));
    s.post("/api/v1/projects", json!({"name": "search"}));
    let created = s.post(
        "/api/v1/projects/search/service-accounts",
        json!({"name": "indexer", "roles": ["viewer"], "initial_secret": {}}),
    );
    let secret = created["secret"]["secret"].as_str().unwrap().to_owned();
    assert_eq!(s.me(&secret).0, 200, "remembered before the fault");
    faults::arm(&s.db, Fault::Everything);
    for project in ["payments", "nowhere"] {
        let (status, body) = s.send(
            s.http
                .get(format!(
                    "{}/api/v1/projects/{project}/service-accounts",
                    s.base
                ))
                .bearer_auth(&secret),
        );
        assert_eq!(status, 404, "{project}: {body}");
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    }
}

/// A request in a project the caller holds something in reads in one transaction, the
/// call's own, which decides whether the project exists; so does its refusal.
#[test]
fn a_project_request_reads_in_one_transaction() {
    let s = Faulty::start();
    s.post("/api/v1/projects", json!({"name": "payments"}));
    s.post(
        "/api/v1/projects/payments/service-accounts",
        json!({"name": "indexer", "initial_secret": false}),
    );
    s.remember_admin();
    let get = |path: &str| {
        let before = faults::begun(&s.db);
        let (status, body) = s.send(
            s.http
                .get(format!("{}/api/v1/projects/{path}", s.base))
                .bearer_auth(&s.admin),
        );
        (status, faults::begun(&s.db) - before, body)
    };
    let (status, reads, body) = get("payments/service-accounts/indexer");
    assert_eq!((status, reads), (200, 1), "{body}");
    let (status, reads, body) = get("nowhere/service-accounts/indexer");
    assert_eq!((status, reads), (404, 1), "{body}");
    assert_eq!(body["error"]["message"], "project 'nowhere' not found");
}
