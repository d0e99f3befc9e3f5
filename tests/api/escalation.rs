//! The escalation and lock-out paths an attacker found, each reproduced over HTTP
//! against the real server and each now refused: an operator taking over `admin`, a
//! narrowed token escaping its scope, lower roles locking every administrator out, the
//! last administrator removed, and names probed through answers that differed.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";
const GROUPS: &str = "/api/v1/groups";
const ROLES: &str = "/api/v1/roles";

fn access_token(s: &TestServer, client: &str, secret: &str, scope: &str) -> String {
    let reply = s.form(
        "/oauth2/token",
        Some((client, secret)),
        &[("grant_type", "client_credentials"), ("scope", scope)],
    );
    reply.assert_status(200);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

fn delete_as(s: &TestServer, token: &str, path: &str) -> Reply {
    s.send(Method::DELETE, path, Some(token), None, &[])
}

fn put_as(s: &TestServer, token: &str, path: &str, body: Value) -> Reply {
    s.send(Method::PUT, path, Some(token), Some(&body), &[])
}

/// The ids of an account's credentials, as the admin reads them.
fn credential_ids(s: &TestServer, account: &str) -> Vec<String> {
    let page = s.get(&format!("{SA}/{account}/credentials"));
    page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn status_of_me(s: &TestServer, token: &str) -> u16 {
    s.get_as(token, "/api/v1/me").status
}

/// An account's audit events, to show that refused requests wrote none.
fn events_on(s: &TestServer, name: &str) -> usize {
    let page = s.get(&format!("/api/v1/audit-events?target={name}&per_page=1000"));
    page.body["items"].as_array().unwrap().len()
}

#[test]
fn an_operator_cannot_take_over_or_lock_out_admin() {
    let s = TestServer::start();
    let op = s.create_account("op", &["operator"]);
    let before = s.get(&format!("{SA}/admin")).body;
    let events = events_on(&s, "admin");

    // The reported path: strip `admin` from the account, then mint it a secret.
    s.patch_as(&op, &format!("{SA}/admin"), json!({"roles": []}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&op, &format!("{SA}/admin/credentials"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&op, &format!("{SA}/admin/rotate-secret"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    // Lock-out: disable, expire, delete, revoke.
    s.patch_as(&op, &format!("{SA}/admin"), json!({"status": "disabled"}))
        .assert_error(403, "PERMISSION_DENIED");
    s.patch_as(
        &op,
        &format!("{SA}/admin"),
        json!({"expires_at": "2099-01-01T00:00:00Z"}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    delete_as(&s, &op, &format!("{SA}/admin")).assert_error(403, "PERMISSION_DENIED");
    let admin_secret = &credential_ids(&s, "admin")[0];
    delete_as(&s, &op, &format!("{SA}/admin/credentials/{admin_secret}"))
        .assert_error(403, "PERMISSION_DENIED");
    put_as(
        &s,
        &op,
        &format!("{SA}/admin/groups"),
        json!({"set_groups": []}),
    )
    .assert_error(403, "PERMISSION_DENIED");

    assert_eq!(
        s.get(&format!("{SA}/admin")).body,
        before,
        "nothing changed"
    );
    assert_eq!(events_on(&s, "admin"), events, "no audit event");
    assert_eq!(status_of_me(&s, &s.token), 200);
    // The operator still manages what it outranks, viewers included.
    s.create_account("v", &["viewer"]);
    s.patch_as(&op, &format!("{SA}/v"), json!({"status": "disabled"}))
        .assert_status(200);
    s.post_as(&op, &format!("{SA}/v/credentials"), json!({}))
        .assert_status(201);
}

#[test]
fn an_operator_cannot_empty_or_join_the_admins_group() {
    let s = TestServer::start();
    let op = s.create_account("op", &["operator"]);
    s.post(GROUPS, json!({"name": "admins", "roles": ["admin"]}))
        .assert_status(201);
    s.create_account("root2", &[]);
    put_as(
        &s,
        &s.token,
        &format!("{GROUPS}/admins/members"),
        json!({"add": ["root2"]}),
    )
    .assert_status(200);

    // Unbinding a role needs it as much as binding it does.
    s.patch_as(&op, &format!("{GROUPS}/admins"), json!({"roles": []}))
        .assert_error(403, "PERMISSION_DENIED");
    put_as(
        &s,
        &op,
        &format!("{GROUPS}/admins/members"),
        json!({"add": ["op"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    put_as(
        &s,
        &op,
        &format!("{GROUPS}/admins/members"),
        json!({"remove": ["root2"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    delete_as(&s, &op, &format!("{GROUPS}/admins")).assert_error(403, "PERMISSION_DENIED");
    let group = s.get(&format!("{GROUPS}/admins")).body;
    assert_eq!(group["roles"], json!(["admin"]));
    assert_eq!(group["sa_count"], 1);

    // A role held only in part (by name, not every permission) is not held either.
    s.post(
        ROLES,
        json!({"name": "deployer", "permissions": ["groups:read", "groups:write", "deploy:run"]}),
    )
    .assert_status(201);
    s.post(GROUPS, json!({"name": "deployers", "roles": ["deployer"]}))
        .assert_status(201);
    s.patch_as(&op, &format!("{GROUPS}/deployers"), json!({"roles": []}))
        .assert_error(403, "PERMISSION_DENIED");
}

#[test]
fn lower_roles_cannot_lock_administrators_out() {
    let s = TestServer::start();
    s.post(
        ROLES,
        json!({"name": "cred-writer", "permissions":
            ["credentials:read", "credentials:write", "service_accounts:read"]}),
    )
    .assert_status(201);
    s.post(
        ROLES,
        json!({"name": "group-writer", "permissions":
            ["groups:read", "groups:write", "service_accounts:read"]}),
    )
    .assert_status(201);
    let cw = s.create_account("cw", &["cred-writer"]);
    let gw = s.create_account("gw", &["group-writer"]);

    let only_secret = &credential_ids(&s, "admin")[0];
    delete_as(&s, &cw, &format!("{SA}/admin/credentials/{only_secret}"))
        .assert_error(403, "PERMISSION_DENIED");
    // Through OAuth revocation too: 200 as for any token the caller may not touch,
    // and the secret keeps working.
    let revoke = s
        .client
        .post(s.url("/oauth2/revoke"))
        .bearer_auth(&cw)
        .form(&[("token", s.token.as_str())])
        .send()
        .unwrap();
    assert_eq!(revoke.status().as_u16(), 200);
    assert_eq!(status_of_me(&s, &s.token), 200);

    s.post(GROUPS, json!({"name": "plain"})).assert_status(201);
    put_as(
        &s,
        &s.token,
        &format!("{GROUPS}/plain/members"),
        json!({"add": ["admin"]}),
    )
    .assert_status(200);
    put_as(
        &s,
        &gw,
        &format!("{GROUPS}/plain/members"),
        json!({"remove": ["admin"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    delete_as(&s, &gw, &format!("{GROUPS}/plain")).assert_error(403, "PERMISSION_DENIED");
    assert_eq!(s.get(&format!("{GROUPS}/plain")).body["sa_count"], 1);
    assert_eq!(
        credential_ids(&s, "admin"),
        std::slice::from_ref(only_secret)
    );
}

#[test]
fn a_narrowed_token_cannot_escape_its_scope() {
    let s = TestServer::start();
    let ci = s.create_account("ci", &["operator"]);

    // A credential made with a narrowed token would carry every permission of the
    // account: refused, for the account's own credentials too.
    let narrow = access_token(&s, "ci", &ci, "credentials:write service_accounts:read");
    s.post_as(&narrow, &format!("{SA}/ci/credentials"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(
        &narrow,
        &format!("{SA}/ci/credentials"),
        json!({"type": "public_key", "public_key": ED25519_PEM}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&narrow, &format!("{SA}/ci/rotate-secret"), json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(credential_ids(&s, "ci").len(), 1);

    // A token scoped to service accounts cannot bind a role whose permissions lie
    // outside its scope, though the account holds that role.
    let accounts_only = access_token(
        &s,
        "ci",
        &ci,
        "service_accounts:read service_accounts:write",
    );
    s.post_as(
        &accounts_only,
        SA,
        json!({"name": "escaped", "roles": ["operator"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    s.get(&format!("{SA}/escaped"))
        .assert_error(404, "NOT_FOUND");
    // Within its scope it still works.
    s.post_as(&accounts_only, SA, json!({"name": "plain"}))
        .assert_status(201);

    // The full token acts as the account would.
    let full = access_token(
        &s,
        "ci",
        &ci,
        "credentials:write service_accounts:read service_accounts:write credentials:read groups:read groups:write roles:read projects:read",
    );
    s.post_as(&full, &format!("{SA}/ci/credentials"), json!({}))
        .assert_status(201);
}

#[test]
fn the_last_administrator_cannot_be_removed() {
    let s = TestServer::start();
    let admin = format!("{SA}/admin");
    for change in [
        json!({"status": "disabled"}),
        json!({"roles": []}),
        json!({"expires_at": "2099-01-01T00:00:00Z"}),
    ] {
        s.patch(&admin, change.clone())
            .assert_error(409, "FAILED_PRECONDITION");
    }
    s.delete(&admin).assert_error(409, "FAILED_PRECONDITION");
    assert_eq!(status_of_me(&s, &s.token), 200);

    // With a second administrator, either may step down, down to the last.
    let root2 = s.create_account("root2", &["admin"]);
    s.patch(&format!("{SA}/root2"), json!({"roles": []}))
        .assert_status(200);
    s.post(GROUPS, json!({"name": "admins", "roles": ["admin"]}))
        .assert_status(201);
    put_as(
        &s,
        &s.token,
        &format!("{GROUPS}/admins/members"),
        json!({"add": ["root2"]}),
    )
    .assert_status(200);
    s.patch_as(&root2, &admin, json!({"roles": []}))
        .assert_status(200);
    // root2 is now the last, through the group: each way of taking `*` is refused.
    put_as(
        &s,
        &root2,
        &format!("{GROUPS}/admins/members"),
        json!({"remove": ["root2"]}),
    )
    .assert_error(409, "FAILED_PRECONDITION");
    put_as(
        &s,
        &root2,
        &format!("{SA}/root2/groups"),
        json!({"set_groups": []}),
    )
    .assert_error(409, "FAILED_PRECONDITION");
    s.patch_as(&root2, &format!("{GROUPS}/admins"), json!({"roles": []}))
        .assert_error(409, "FAILED_PRECONDITION");
    delete_as(&s, &root2, &format!("{GROUPS}/admins")).assert_error(409, "FAILED_PRECONDITION");

    // Through a custom role holding `*`.
    s.post_as(
        &root2,
        ROLES,
        json!({"name": "super", "permissions": ["*"]}),
    )
    .assert_status(201);
    s.patch_as(&root2, &admin, json!({"roles": ["super"]}))
        .assert_status(200);
    // Deleting the group takes `*` from root2; admin keeps it through `super`.
    delete_as(&s, &root2, &format!("{GROUPS}/admins")).assert_status(204);
    s.patch(
        &format!("{ROLES}/super"),
        json!({"permissions": ["audit:read"]}),
    )
    .assert_error(409, "FAILED_PRECONDITION");
    s.delete(&format!("{ROLES}/super?force=true"))
        .assert_error(409, "FAILED_PRECONDITION");
    assert_eq!(status_of_me(&s, &s.token), 200);
    assert_eq!(
        s.get("/api/v1/me").body["permissions"],
        json!(["*"]),
        "admin holds * through super"
    );
}

/// The same answer, but for the names in it.
fn same_answer(a: &Reply, a_name: &str, b: &Reply, b_name: &str) {
    assert_eq!(a.status, b.status, "{} / {}", a.body, b.body);
    let a_body = a.body["error"]["message"]
        .as_str()
        .unwrap()
        .replace(a_name, "NAME");
    let b_body = b.body["error"]["message"]
        .as_str()
        .unwrap()
        .replace(b_name, "NAME");
    assert_eq!(a_body, b_body);
    assert_eq!(a.body["error"]["code"], b.body["error"]["code"]);
}

#[test]
fn callers_that_may_not_read_roles_or_groups_cannot_probe_them() {
    let s = TestServer::start();
    s.post(
        ROLES,
        json!({"name": "creator", "permissions": ["service_accounts:read", "service_accounts:write"]}),
    )
    .assert_status(201);
    let creator = s.create_account("creator", &["creator"]);
    s.post(ROLES, json!({"name": "hidden", "permissions": ["x:y"]}))
        .assert_status(201);
    s.post(GROUPS, json!({"name": "ops-team", "roles": ["admin"]}))
        .assert_status(201);

    let existing = s.post_as(&creator, SA, json!({"name": "a", "roles": ["hidden"]}));
    let missing = s.post_as(&creator, SA, json!({"name": "b", "roles": ["ghost"]}));
    existing.assert_error(403, "PERMISSION_DENIED");
    same_answer(&existing, "hidden", &missing, "ghost");

    let existing = s.post_as(&creator, SA, json!({"name": "a", "groups": ["ops-team"]}));
    let missing = s.post_as(&creator, SA, json!({"name": "b", "groups": ["no-team"]}));
    existing.assert_error(403, "PERMISSION_DENIED");
    same_answer(&existing, "ops-team", &missing, "no-team");
    let message = existing.body["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains("admin"),
        "the group's roles stay hidden: {message}"
    );

    // A caller that may read roles is told plainly that a role does not exist.
    let op = s.create_account("op", &["operator"]);
    s.post_as(&op, SA, json!({"name": "c", "roles": ["ghost"]}))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn private_key_jwt_answers_unknown_and_existing_clients_alike() {
    let s = TestServer::start();
    s.create_account("ci", &[]);
    s.post(
        &format!("{SA}/ci/credentials"),
        json!({"type": "public_key", "public_key": ED25519_PEM}),
    )
    .assert_status(201);
    // Signed by a key neither client holds (any key will do; none verifies).
    let forge = |client: &str| {
        let claims = json!({"iss": client, "sub": client, "aud": s.url("/oauth2/token"),
            "exp": keyhouse::clock::now().timestamp() + 60, "jti": client});
        let key = jsonwebtoken::EncodingKey::from_ed_der(&unrelated_ed25519_pkcs8());
        let jwt = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
            &claims,
            &key,
        )
        .unwrap();
        s.token_with_assertion(&jwt)
    };
    let existing = forge("ci");
    let unknown = forge("ghost");
    assert_eq!(existing.status, 401);
    assert_eq!(existing.status, unknown.status);
    assert_eq!(existing.body, unknown.body);
    assert_eq!(existing.body["error"], "invalid_client");
}

#[test]
fn an_empty_scope_is_invalid_and_repeats_collapse() {
    let s = TestServer::start();
    let ci = s.create_account("ci", &["viewer"]);
    for blank in ["", "   "] {
        let reply = s.form(
            "/oauth2/token",
            Some(("ci", &ci)),
            &[("grant_type", "client_credentials"), ("scope", blank)],
        );
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["error"], "invalid_scope");
    }
    let reply = s.form(
        "/oauth2/token",
        Some(("ci", &ci)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "groups:read groups:read  roles:read"),
        ],
    );
    reply.assert_status(200);
    assert_eq!(reply.body["scope"], "groups:read roles:read");
}

/// The Ed25519 public key of RFC 8032's first test vector.
const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";

fn unrelated_ed25519_pkcs8() -> Vec<u8> {
    ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .unwrap()
        .as_ref()
        .to_vec()
}
