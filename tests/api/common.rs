//! `TestServer`: the real keyhouse app on 127.0.0.1, port 0, over a fresh temporary
//! database with a known admin secret, plus request helpers. Each test starts its own.
#![allow(dead_code)] // each test binary uses its own subset of these helpers
#![allow(clippy::unwrap_used, clippy::panic)] // test support: a failure should stop the test

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use keyhouse::auth::secret::Secret;
use keyhouse::clock::Clock;
use keyhouse::config::{Backend, Config};

use crate::cluster;
use keyhouse::server::{self, Spawned, StartError};
use reqwest::Method;
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The counter `name` of the server at `base`, read from its `/metrics` (the sample
/// line `name_total N`).
pub fn counter(base: &str, name: &str) -> u64 {
    let text = reqwest::blocking::get(format!("{base}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}_total ")))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// The `name` of every item of a list page.
pub fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The caching headers of an answer that shows a new secret, as `/oauth2/token` sends.
pub const NO_STORE: (Option<&str>, Option<&str>) = (Some("no-store"), Some("no-cache"));

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn from(resp: Response) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Cache-Control` and `Pragma` headers; [`NO_STORE`] for an answer that shows
    /// a secret.
    pub fn caching(&self) -> (Option<&str>, Option<&str>) {
        (self.header("cache-control"), self.header("pragma"))
    }

    /// Asserts the contract's error body with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Reply {
        assert_eq!(self.status, status, "status; body: {}", self.body);
        assert_eq!(
            self.body["error"]["code"], code,
            "code; body: {}",
            self.body
        );
        assert!(self.body["error"]["message"].is_string(), "{}", self.body);
        assert!(self.body["error"]["details"].is_array(), "{}", self.body);
        assert!(self.header("x-request-id").is_some(), "X-Request-Id");
        self
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Reply {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }
}

pub struct TestServer {
    pub base: String,
    pub token: String,
    pub client: Client,
    config: Config,
    /// The server's clock, kept across restarts: a test moves it with `advance`.
    clock: Clock,
    spawned: Option<Spawned>,
    _dir: TempDir,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(|_| {})
    }

    /// Starts on the embedded engine, whatever backend the suite runs on: for the tests
    /// of the redb file itself (its mode, damage, upgrades, restores).
    pub fn start_on_file_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_with(|config| {
            config.storage.backend = Backend::Redb;
            tweak(config);
        })
    }

    /// Starts with the test config changed by `tweak`.
    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let token = Secret::generate().unwrap().expose().to_owned();
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".into();
        config.storage.path = dir.path().join("keyhouse.redb");
        config.bootstrap.admin_token = Some(token.clone());
        if cluster::backend_is_postgres() {
            let Some(cluster) = cluster::shared() else {
                panic!("KEYHOUSE_TEST_BACKEND=postgres needs PostgreSQL");
            };
            config.storage.backend = Backend::Postgres;
            config.storage.postgres.url = Some(cluster.new_database());
            config.storage.postgres.pool_size = 4;
        }
        tweak(&mut config);
        let clock = Clock::system();
        let spawned = server::spawn_with_clock(config.clone(), clock.clone()).unwrap();
        let scheme = if config.tls_files().is_some() {
            "https"
        } else {
            "http"
        };
        TestServer {
            base: format!("{scheme}://{}", spawned.addr),
            token,
            client: Client::new(),
            config,
            clock,
            spawned: Some(spawned),
            _dir: dir,
        }
    }

    /// Every item of the list at `path` (its query string given, e.g. `per_page=1000`),
    /// read as `token`, page after page by `page_token`.
    pub fn every_item(&self, token: &str, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = match &next {
                Some(t) => self.get_as(token, &format!("{path}&page_token={t}")),
                None => self.get_as(token, path),
            };
            page.assert_status(200);
            items.extend(page.body["items"].as_array().unwrap().iter().cloned());
            next = page.body["next_page_token"].as_str().map(str::to_owned);
            if next.is_none() {
                return items;
            }
        }
    }

    /// A backup (`POST /api/v1/admin/backup` as the admin), written to `to`.
    pub fn backup_to(&self, to: &Path) {
        let backup = self
            .client
            .post(self.url("/api/v1/admin/backup"))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        assert_eq!(backup.status().as_u16(), 200);
        std::fs::write(to, backup.bytes().unwrap()).unwrap();
    }

    /// The address the server listens on, for raw TCP clients.
    pub fn addr(&self) -> SocketAddr {
        self.spawned.as_ref().unwrap().addr
    }

    pub fn db_path(&self) -> PathBuf {
        self.config.storage.path.clone()
    }

    /// The server's own temporary directory, which holds the database file.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Stops the server and starts it again on the same database file.
    pub fn restart(&mut self) {
        self.restart_with(|_| {}).unwrap();
    }

    /// Stops the server, changes its config with `tweak` and starts it again; after an
    /// error it stays stopped.
    pub fn restart_with(&mut self, tweak: impl FnOnce(&mut Config)) -> Result<(), StartError> {
        if let Some(spawned) = self.spawned.take() {
            spawned.stop();
        }
        tweak(&mut self.config);
        let mut config = self.config.clone();
        config.server.listen = "127.0.0.1:0".into();
        let spawned = server::spawn_with_clock(config, self.clock.clone())?;
        self.base = format!("http://{}", spawned.addr);
        self.spawned = Some(spawned);
        Ok(())
    }

    /// The server's time now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Moves the server's time forward by `by`, at once: an expiry, a grace period or
    /// a window passes without waiting for it.
    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with `token` (if any), a JSON body (if any) and extra headers.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Reply::from(req.send().unwrap())
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Some(&self.token), None, &[])
    }

    pub fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None, &[])
    }

    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&self.token), Some(&body), &[])
    }

    pub fn post_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(&body), &[])
    }

    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(&self.token), Some(&body), &[])
    }

    pub fn patch_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(&body), &[])
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some(&self.token), None, &[])
    }

    /// A form-encoded POST, as the `/oauth2` endpoints take, with Basic credentials.
    pub fn form(&self, path: &str, basic: Option<(&str, &str)>, fields: &[(&str, &str)]) -> Reply {
        let mut req = self.client.post(self.url(path)).form(fields);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        Reply::from(req.send().unwrap())
    }

    /// A form-encoded POST with `Authorization: Bearer <bearer>`.
    pub fn form_as(&self, bearer: &str, path: &str, fields: &[(&str, &str)]) -> Reply {
        Reply::from(
            self.client
                .post(self.url(path))
                .bearer_auth(bearer)
                .form(fields)
                .send()
                .unwrap(),
        )
    }

    /// `POST /oauth2/token` for client credentials, the client authenticated by the
    /// signed assertion `jwt` (`private_key_jwt`).
    pub fn token_with_assertion(&self, jwt: &str) -> Reply {
        self.form(
            "/oauth2/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", jwt),
            ],
        )
    }

    /// Creates an account holding `roles`, with a first secret; returns its secret.
    pub fn create_account(&self, name: &str, roles: &[&str]) -> String {
        let reply = self.post(
            "/api/v1/service-accounts",
            json!({"name": name, "roles": roles, "initial_secret": {}}),
        );
        reply.assert_status(201);
        reply.body["secret"]["secret"].as_str().unwrap().to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(spawned) = self.spawned.take() {
            spawned.stop();
        }
    }
}
