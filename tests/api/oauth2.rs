//! OAuth 2.0 over HTTP: client credentials by secret and by signed assertion, scopes,
//! access tokens on the API, introspection, revocation, discovery and key rotation.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{Reply, TestServer};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";

fn token(s: &TestServer, id: &str, secret: &str, scope: Option<&str>) -> Reply {
    let mut fields = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    s.form("/oauth2/token", Some((id, secret)), &fields)
}

fn access_token(s: &TestServer, id: &str, secret: &str) -> String {
    let reply = token(s, id, secret, None);
    reply.assert_status(200);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[track_caller]
fn assert_oauth_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"], error, "{}", reply.body);
    assert!(reply.body["error_description"].is_string());
}

/// A client key pair: its PEM for upload and what signs assertions with it.
pub(crate) struct ClientKey {
    pem: String,
    signer: EncodingKey,
    alg: Algorithm,
}

pub(crate) fn p256_key() -> ClientKey {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let prefix: &[u8] = &[
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let der = [prefix, pair.public_key().as_ref()].concat();
    ClientKey {
        pem: pem(&der),
        signer: EncodingKey::from_ec_der(pkcs8.as_ref()),
        alg: Algorithm::ES256,
    }
}

fn ed25519_key() -> ClientKey {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let prefix: &[u8] = &[
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let der = [prefix, pair.public_key().as_ref()].concat();
    ClientKey {
        pem: pem(&der),
        signer: EncodingKey::from_ed_der(pkcs8.as_ref()),
        alg: Algorithm::EdDSA,
    }
}

fn pem(der: &[u8]) -> String {
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    )
}

pub(crate) fn assertion(key: &ClientKey, claims: Value) -> String {
    jsonwebtoken::encode(&Header::new(key.alg), &claims, &key.signer).unwrap()
}

fn now() -> i64 {
    keyhouse::clock::now().timestamp()
}

fn assertion_claims(s: &TestServer, client: &str, jti: &str) -> Value {
    json!({"iss": client, "sub": client, "aud": s.url("/oauth2/token"), "exp": now() + 60, "jti": jti})
}

pub(crate) fn upload(s: &TestServer, account: &str, key: &ClientKey) {
    s.post(
        &format!("{SA}/{account}/credentials"),
        json!({"type": "public_key", "public_key": key.pem}),
    )
    .assert_status(201);
}

#[test]
fn client_secret_basic_and_post_issue_working_tokens() {
    let s = TestServer::start();
    s.post(
        "/api/v1/groups",
        json!({"name": "readers", "roles": ["viewer"]}),
    );
    let secret = s.create_account("ci", &["operator"]);
    s.send(
        Method::PUT,
        &format!("{SA}/ci/groups"),
        Some(&s.token),
        Some(&json!({"add_to_groups": ["readers"]})),
        &[],
    );
    let reply = token(&s, "ci", &secret, None);
    reply.assert_status(200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3600);
    let jwt = reply.body["access_token"].as_str().unwrap();
    let c = claims(jwt);
    let account = s.get(&format!("{SA}/ci")).body;
    assert_eq!(c["iss"], s.base.as_str());
    assert_eq!(c["aud"], "keyhouse");
    assert_eq!(c["sub"], account["id"]);
    assert_eq!(c["client_id"], "ci");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(c["nbf"], c["iat"]);
    assert!(c["jti"].is_string());
    assert_eq!(c["roles"], json!(["operator", "viewer"]));
    assert_eq!(c["groups"], json!(["readers"]));
    let expected_scope = "credentials:read credentials:write groups:read groups:write projects:read roles:read service_accounts:read service_accounts:write";
    assert_eq!(c["scope"], expected_scope);
    assert_eq!(reply.body["scope"], expected_scope);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "at+jwt", "RFC 9068");
    let jwks = s.get("/.well-known/jwks.json").body;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header["kid"])
    );

    let me = s.get_as(jwt, "/api/v1/me");
    me.assert_status(200);
    assert_eq!(me.body["name"], "ci");
    assert_eq!(
        me.body["authenticated_by"],
        json!({"kind": "access_token", "credential_id": null, "token_id": c["jti"]})
    );

    let post = s.form(
        "/oauth2/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "ci"),
            ("client_secret", &secret),
        ],
    );
    post.assert_status(200);
    s.get_as(post.body["access_token"].as_str().unwrap(), SA)
        .assert_status(200);
}

#[test]
fn scopes_narrow_tokens_and_follow_the_account() {
    let s = TestServer::start();
    let secret = s.create_account("ci", &["viewer"]);
    let reply = token(&s, "ci", &secret, Some("service_accounts:read"));
    reply.assert_status(200);
    assert_eq!(reply.body["scope"], "service_accounts:read");
    let narrow = reply.body["access_token"].as_str().unwrap();
    s.get_as(narrow, SA).assert_status(200);
    s.get_as(narrow, "/api/v1/groups")
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(
        s.get_as(narrow, "/api/v1/me").body["permissions"],
        json!(["service_accounts:read"])
    );
    assert_oauth_error(
        &token(&s, "ci", &secret, Some("service_accounts:write")),
        400,
        "invalid_scope",
    );
    assert_oauth_error(
        &token(&s, "ci", &secret, Some("groups:read Bad!")),
        400,
        "invalid_scope",
    );

    // A token's permissions are the account's at the time of each request.
    let full = access_token(&s, "ci", &secret);
    s.get_as(&full, "/api/v1/groups").assert_status(200);
    s.patch(&format!("{SA}/ci"), json!({"roles": []}));
    s.get_as(&full, "/api/v1/groups")
        .assert_error(403, "PERMISSION_DENIED");

    let admin = token(&s, "admin", &s.token, None);
    assert_eq!(admin.body["scope"], "*");
}

#[test]
fn token_requests_fail_as_rfc_6749_says() {
    let s = TestServer::start();
    let secret = s.create_account("ci", &[]);
    let other = s.create_account("other", &[]);
    assert_oauth_error(
        &s.form("/oauth2/token", Some(("ci", &secret)), &[]),
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &s.form(
            "/oauth2/token",
            Some(("ci", &secret)),
            &[("grant_type", "password")],
        ),
        400,
        "unsupported_grant_type",
    );
    let none = s.form(
        "/oauth2/token",
        None,
        &[("grant_type", "client_credentials")],
    );
    assert_oauth_error(&none, 401, "invalid_client");
    let wrong = token(&s, "ci", &other, None);
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"keyhouse\"")
    );
    assert_oauth_error(&token(&s, "ci", "kh_nope", None), 401, "invalid_client");
    assert_oauth_error(&token(&s, "nobody", &secret, None), 401, "invalid_client");
    let twice = s
        .client
        .post(s.url("/oauth2/token"))
        .basic_auth("ci", Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "ci"),
            ("client_secret", &secret),
        ])
        .send()
        .unwrap();
    assert_eq!(twice.status().as_u16(), 400);
    let json_body = s
        .client
        .post(s.url("/oauth2/token"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .unwrap();
    assert_eq!(json_body.status().as_u16(), 415);
    s.patch(&format!("{SA}/ci"), json!({"status": "disabled"}));
    assert_oauth_error(&token(&s, "ci", &secret, None), 401, "invalid_client");
}

/// `POST /oauth2/token` with `body` as it is, of media type `content_type`.
fn raw_token_request(s: &TestServer, content_type: &str, body: String) -> Reply {
    Reply::from(
        s.client
            .post(s.url("/oauth2/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap(),
    )
}

#[test]
fn token_forms_are_read_encoded_or_not_in_the_charset_they_name() {
    let s = TestServer::start();
    let secret = s.create_account("ci", &[]);
    let form = "application/x-www-form-urlencoded";
    let plain = format!("grant_type=client_credentials&client_id=ci&client_secret={secret}");
    let encoded = format!("grant_type=client%5Fcredentials&client_id=%63i&client_secret={secret}");
    for (content_type, body) in [
        (form.to_owned(), plain.clone()),
        (form.to_owned(), encoded),
        (format!("{form}; charset=UTF-8"), plain.clone()),
        (form.to_uppercase(), format!("&{plain}&&x")),
    ] {
        let reply = raw_token_request(&s, &content_type, body.clone());
        assert_eq!(reply.status, 200, "{content_type} {body}: {}", reply.body);
    }
    let latin1 = raw_token_request(&s, &format!("{form}; charset=ISO-8859-1"), plain.clone());
    assert_eq!(latin1.status, 200, "{}", latin1.body);
    let unknown = raw_token_request(&s, &format!("{form}; charset=no-such"), plain.clone());
    assert_eq!(unknown.status, 415, "{}", unknown.body);
    assert_eq!(unknown.body["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    let repeated = raw_token_request(&s, form, format!("{plain}&grant_type=client_credentials"));
    assert_oauth_error(&repeated, 400, "invalid_request");
    let large = raw_token_request(&s, form, format!("{plain}&x={}", "y".repeat(70 * 1024)));
    assert_eq!(large.status, 413, "{}", large.body);
    assert_eq!(large.body["error"]["code"], "PAYLOAD_TOO_LARGE");
}

#[test]
fn private_key_jwt_accepts_each_assertion_once() {
    let s = TestServer::start();
    s.create_account("signer", &["viewer"]);
    let (ec, ed) = (p256_key(), ed25519_key());
    upload(&s, "signer", &ec);
    upload(&s, "signer", &ed);
    for (key, jti) in [(&ec, "one"), (&ed, "two")] {
        let jwt = assertion(key, assertion_claims(&s, "signer", jti));
        let reply = s.token_with_assertion(&jwt);
        reply.assert_status(200);
        s.get_as(reply.body["access_token"].as_str().unwrap(), SA)
            .assert_status(200);
        assert_oauth_error(&s.token_with_assertion(&jwt), 401, "invalid_client");
    }
    let issuer_aud =
        json!({"iss": "signer", "sub": "signer", "aud": s.base, "exp": now() + 60, "jti": "three"});
    s.token_with_assertion(&assertion(&ec, issuer_aud))
        .assert_status(200);
    let with_client_id = s.form(
        "/oauth2/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "signer"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            (
                "client_assertion",
                &assertion(&ec, assertion_claims(&s, "signer", "four")),
            ),
        ],
    );
    with_client_id.assert_status(200);
}

#[test]
fn bad_assertions_are_invalid_client() {
    let s = TestServer::start();
    s.create_account("signer", &[]);
    s.create_account("other", &[]);
    let key = p256_key();
    upload(&s, "signer", &key);
    let foreign = ed25519_key();
    upload(&s, "other", &foreign);
    let base = |jti: &str| assertion_claims(&s, "signer", jti);
    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut expired = base("a");
    expired["exp"] = json!(now() - 5);
    cases.push(("expired", assertion(&key, expired)));
    let mut far = base("b");
    far["exp"] = json!(now() + 600);
    cases.push(("exp more than 5 minutes ahead", assertion(&key, far)));
    let mut wrong_aud = base("c");
    wrong_aud["aud"] = json!("https://elsewhere.example/oauth2/token");
    cases.push(("another audience", assertion(&key, wrong_aud)));
    cases.push(("a key of another account", assertion(&foreign, base("d"))));
    let mut no_jti = base("e");
    no_jti.as_object_mut().unwrap().remove("jti");
    cases.push(("no jti", assertion(&key, no_jti)));
    let mut other_sub = base("f");
    other_sub["sub"] = json!("other");
    cases.push(("sub is not iss", assertion(&key, other_sub)));
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &base("g"),
        &EncodingKey::from_secret(b"x"),
    )
    .unwrap();
    cases.push(("HS256", hs));
    cases.push(("garbage", "not.a.jwt".to_owned()));
    for (what, jwt) in cases {
        let reply = s.token_with_assertion(&jwt);
        assert_eq!((what, reply.status), (what, 401), "{}", reply.body);
        assert_eq!(reply.body["error"], "invalid_client", "{what}");
    }
    s.patch(&format!("{SA}/signer"), json!({"status": "disabled"}));
    assert_oauth_error(
        &s.token_with_assertion(&assertion(&key, base("h"))),
        401,
        "invalid_client",
    );
}

#[test]
fn disabling_kills_tokens_for_good_and_deleting_too() {
    let s = TestServer::start();
    let secret = s.create_account("ci", &["viewer"]);
    let jwt = access_token(&s, "ci", &secret);
    s.get_as(&jwt, "/api/v1/me").assert_status(200);
    s.patch(&format!("{SA}/ci"), json!({"status": "disabled"}));
    s.get_as(&jwt, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    s.patch(&format!("{SA}/ci"), json!({"status": "active"}));
    s.get_as(&secret, "/api/v1/me").assert_status(200);
    s.get_as(&jwt, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    let introspected = s.form(
        "/oauth2/introspect",
        Some(("admin", &s.token)),
        &[("token", &jwt)],
    );
    assert_eq!(introspected.body, json!({"active": false}));
    // A token issued after the account is active again works: a second later, as the
    // times of both are whole seconds.
    s.advance(chrono::Duration::seconds(1));
    let fresh = access_token(&s, "ci", &secret);
    s.get_as(&fresh, "/api/v1/me").assert_status(200);
    s.delete(&format!("{SA}/ci"));
    s.get_as(&fresh, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    s.post(SA, json!({"name": "ci"}));
    s.get_as(&fresh, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
}

#[test]
fn introspection_answers_only_what_is_valid_now() {
    let s = TestServer::start();
    let secret = s.create_account("ci", &["viewer"]);
    let other = s.create_account("other", &[]);
    let jwt = access_token(&s, "ci", &secret);
    let own = s.form(
        "/oauth2/introspect",
        Some(("ci", &secret)),
        &[("token", &jwt)],
    );
    own.assert_status(200);
    let c = claims(&jwt);
    assert_eq!(own.body["active"], true);
    assert_eq!(own.body["client_id"], "ci");
    assert_eq!(own.body["sub"], c["sub"]);
    assert_eq!(own.body["exp"], c["exp"]);
    assert_eq!(own.body["iat"], c["iat"]);
    assert_eq!(own.body["token_type"], "Bearer");
    assert_eq!(own.body["scope"], c["scope"]);
    let of_secret = s.form(
        "/oauth2/introspect",
        Some(("ci", &secret)),
        &[("token", &secret)],
    );
    assert_eq!(of_secret.body["active"], true);
    assert_eq!(of_secret.body["client_id"], "ci");
    assert_eq!(of_secret.body["token_type"], "kh_secret");
    // Another client reads someone else's token as inactive; a bearer with
    // credentials:read sees it.
    let foreign = s.form(
        "/oauth2/introspect",
        Some(("other", &other)),
        &[("token", &jwt)],
    );
    assert_eq!(foreign.body, json!({"active": false}));
    let viewer = s.create_account("auditor", &["viewer"]);
    let by_bearer = s
        .client
        .post(s.url("/oauth2/introspect"))
        .bearer_auth(&viewer)
        .form(&[("token", &jwt)])
        .send()
        .unwrap();
    let body: Value = by_bearer.json().unwrap();
    assert_eq!(body["active"], true);
    let nobody = s
        .client
        .post(s.url("/oauth2/introspect"))
        .bearer_auth(&other)
        .form(&[("token", &jwt)])
        .send()
        .unwrap();
    assert_eq!(nobody.status().as_u16(), 403);
    // The signature's last character changed, never to itself.
    let last = if jwt.ends_with('x') { 'y' } else { 'x' };
    // A character of the payload changed under the same signature: verified tokens are
    // remembered by the end of their text, and this one shares it with `jwt`.
    let at = jwt.find('.').unwrap() + 5;
    let other_char = if &jwt[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{other_char}{}", &jwt[..at], &jwt[at + 1..]);
    for junk in [
        "junk",
        "kh_junk",
        "a.b.c",
        &format!("{}{last}", &jwt[..jwt.len() - 1]),
        &forged,
    ] {
        let reply = s.form(
            "/oauth2/introspect",
            Some(("ci", &secret)),
            &[("token", junk)],
        );
        assert_eq!(reply.body, json!({"active": false}), "{junk}");
    }
    assert_oauth_error(
        &s.form("/oauth2/introspect", Some(("ci", &secret)), &[]),
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &s.form("/oauth2/introspect", None, &[("token", &jwt)]),
        401,
        "invalid_client",
    );
}

#[test]
fn a_client_cannot_revoke_the_secret_of_another_account() {
    let s = TestServer::start();
    // `other` holds every permission of `ci`: only ownership stops it.
    let secret = s.create_account("ci", &[]);
    let other = s.create_account("other", &["viewer"]);
    s.form(
        "/oauth2/revoke",
        Some(("other", &other)),
        &[("token", &secret)],
    )
    .assert_status(200);
    s.get_as(&secret, "/api/v1/me").assert_status(200);
    let events = s.get("/api/v1/audit-events?action=credential.revoke").body;
    assert_eq!(events["total_count"], 0);
    s.form(
        "/oauth2/revoke",
        Some(("ci", &secret)),
        &[("token", &secret)],
    )
    .assert_status(200);
    s.get_as(&secret, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
}

#[test]
fn revocation_denies_tokens_and_revokes_secrets() {
    let mut s = TestServer::start();
    let secret = s.create_account("ci", &["viewer"]);
    let other = s.create_account("other", &[]);
    let jwt = access_token(&s, "ci", &secret);
    // Another client cannot revoke it; the answer is 200 all the same.
    s.form(
        "/oauth2/revoke",
        Some(("other", &other)),
        &[("token", &jwt)],
    )
    .assert_status(200);
    s.get_as(&jwt, "/api/v1/me").assert_status(200);
    s.form("/oauth2/revoke", Some(("ci", &secret)), &[("token", &jwt)])
        .assert_status(200);
    s.get_as(&jwt, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    let introspected = s.form(
        "/oauth2/introspect",
        Some(("admin", &s.token)),
        &[("token", &jwt)],
    );
    assert_eq!(introspected.body, json!({"active": false}));
    s.restart();
    s.get_as(&jwt, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    let events = s
        .get("/api/v1/audit-events?action=access_token.revoke")
        .body;
    assert_eq!(events["total_count"], 1);

    s.form(
        "/oauth2/revoke",
        Some(("ci", &secret)),
        &[("token", "kh_unknown")],
    )
    .assert_status(200);
    s.form(
        "/oauth2/revoke",
        Some(("ci", &secret)),
        &[("token", "junk")],
    )
    .assert_status(200);
    let second = s.post(&format!("{SA}/ci/credentials"), json!({})).body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    s.form(
        "/oauth2/revoke",
        Some(("ci", &secret)),
        &[("token", &second)],
    )
    .assert_status(200);
    s.get_as(&second, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    let by_bearer = s
        .client
        .post(s.url("/oauth2/revoke"))
        .bearer_auth(&s.token)
        .form(&[("token", &other)])
        .send()
        .unwrap();
    assert_eq!(by_bearer.status().as_u16(), 200);
    s.get_as(&other, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    assert_oauth_error(
        &s.form("/oauth2/revoke", Some(("ci", &secret)), &[]),
        400,
        "invalid_request",
    );
}

/// Creates the project `project` and in it `name` holding `roles`; answers its secret.
fn project_account(s: &TestServer, project: &str, name: &str, roles: &[&str]) -> String {
    if s.get(&format!("/api/v1/projects/{project}")).status == 404 {
        s.post("/api/v1/projects", json!({"name": project}))
            .assert_status(201);
    }
    let reply = s.post(
        &format!("/api/v1/projects/{project}/service-accounts"),
        json!({"name": name, "roles": roles, "initial_secret": {}}),
    );
    reply.assert_status(201);
    assert_eq!(reply.body["client_id"], format!("{name}@{project}"));
    reply.body["secret"]["secret"].as_str().unwrap().to_owned()
}

#[test]
fn a_project_account_is_the_client_name_at_project() {
    let s = TestServer::start();
    let root = s.create_account("ci", &["viewer"]);
    let secret = project_account(&s, "payments", "ci", &["viewer"]);
    // Basic and post take `name@project`; the bare name is the root's account.
    let basic = token(&s, "ci@payments", &secret, None);
    basic.assert_status(200);
    let jwt = basic.body["access_token"].as_str().unwrap().to_owned();
    let c = claims(&jwt);
    assert_eq!(c["client_id"], "ci@payments");
    assert_eq!(c["project"], "payments");
    assert!(
        claims(&access_token(&s, "ci", &root))
            .get("project")
            .is_none()
    );
    assert_oauth_error(&token(&s, "ci", &secret, None), 401, "invalid_client");
    assert_oauth_error(
        &token(&s, "ci@payments", &root, None),
        401,
        "invalid_client",
    );
    assert_oauth_error(
        &token(&s, "ci@billing", &secret, None),
        401,
        "invalid_client",
    );
    let post = s.form(
        "/oauth2/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "ci@payments"),
            ("client_secret", &secret),
        ],
    );
    post.assert_status(200);
    // The token acts in its project only.
    s.get_as(&jwt, "/api/v1/projects/payments/service-accounts")
        .assert_status(200);
    s.get_as(&jwt, SA).assert_error(403, "PERMISSION_DENIED");
    // private_key_jwt: `iss` and `sub` are the client id.
    let key = p256_key();
    s.post(
        "/api/v1/projects/payments/service-accounts/ci/credentials",
        json!({"type": "public_key", "public_key": key.pem}),
    )
    .assert_status(201);
    let signed =
        s.token_with_assertion(&assertion(&key, assertion_claims(&s, "ci@payments", "p-1")));
    signed.assert_status(200);
    assert_eq!(
        claims(signed.body["access_token"].as_str().unwrap())["project"],
        "payments"
    );
    let as_root = assertion(&key, assertion_claims(&s, "ci", "p-2"));
    assert_oauth_error(&s.token_with_assertion(&as_root), 401, "invalid_client");
    // Introspection names the client as the token does.
    let own = s.form(
        "/oauth2/introspect",
        Some(("ci@payments", &secret)),
        &[("token", &jwt)],
    );
    assert_eq!(own.body["active"], true);
    assert_eq!(own.body["client_id"], "ci@payments");
    assert_eq!(own.body["project"], "payments");
    let of_secret = s.form(
        "/oauth2/introspect",
        Some(("ci@payments", &secret)),
        &[("token", &secret)],
    );
    assert_eq!(of_secret.body["client_id"], "ci@payments");
    assert_eq!(of_secret.body["project"], "payments");
}

#[test]
fn introspection_and_revocation_reach_only_the_callers_scope() {
    let s = TestServer::start();
    let tenant = project_account(&s, "payments", "boss", &["admin"]);
    let own = project_account(&s, "payments", "ci", &["viewer"]);
    let foreign = project_account(&s, "billing", "ci", &["viewer"]);
    let root = s.create_account("ci", &["viewer"]);
    let own_jwt = access_token(&s, "ci@payments", &own);
    let foreign_jwt = access_token(&s, "ci@billing", &foreign);
    let root_jwt = access_token(&s, "ci", &root);
    // A tenant admin's bearer sees its project's tokens, and others' as inactive.
    let seen = s.form_as(&tenant, "/oauth2/introspect", &[("token", &own_jwt)]);
    assert_eq!(seen.body["active"], true, "{}", seen.body);
    for token in [&foreign_jwt, &root_jwt, &foreign, &root] {
        let unseen = s.form_as(&tenant, "/oauth2/introspect", &[("token", token)]);
        assert_eq!(unseen.body, json!({"active": false}));
    }
    // The root admin sees every scope.
    let by_admin = s.form_as(&s.token, "/oauth2/introspect", &[("token", &foreign_jwt)]);
    assert_eq!(by_admin.body["client_id"], "ci@billing");
    // Revocation out of reach revokes nothing; within reach it works and is audited in
    // the account's project.
    for token in [&foreign_jwt, &root, &foreign] {
        s.form_as(&tenant, "/oauth2/revoke", &[("token", token)])
            .assert_status(200);
    }
    s.get_as(&foreign_jwt, "/api/v1/projects/billing/roles")
        .assert_status(200);
    s.get_as(&root, "/api/v1/me").assert_status(200);
    s.get_as(&foreign, "/api/v1/me").assert_status(200);
    s.form_as(&tenant, "/oauth2/revoke", &[("token", &own_jwt)])
        .assert_status(200);
    s.form_as(&tenant, "/oauth2/revoke", &[("token", &own)])
        .assert_status(200);
    s.get_as(&own_jwt, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    s.get_as(&own, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    let trail = s.get("/api/v1/projects/payments/audit-events").body;
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"access_token.revoke"), "{actions:?}");
    assert!(actions.contains(&"credential.revoke"), "{actions:?}");
    assert_eq!(
        s.get("/api/v1/projects/billing/audit-events?action=credential.revoke")
            .body["total_count"],
        0
    );
}

#[test]
fn discovery_documents_describe_the_server() {
    let s = TestServer::start();
    let meta = s.get("/.well-known/oauth-authorization-server");
    meta.assert_status(200);
    let m = &meta.body;
    assert_eq!(m["issuer"], s.base.as_str());
    assert_eq!(m["token_endpoint"], s.url("/oauth2/token"));
    assert_eq!(m["introspection_endpoint"], s.url("/oauth2/introspect"));
    assert_eq!(m["revocation_endpoint"], s.url("/oauth2/revoke"));
    assert_eq!(m["jwks_uri"], s.url("/.well-known/jwks.json"));
    assert_eq!(m["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        m["token_endpoint_auth_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
    let key = &s.get("/.well-known/jwks.json").body["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
}

#[test]
fn the_metadata_offers_the_domain_permissions_as_scopes() {
    let s = TestServer::start();
    let meta = s.get("/.well-known/oauth-authorization-server");
    meta.assert_status(200);
    assert_eq!(
        meta.body["scopes_supported"],
        json!(keyhouse::domain::permissions::KNOWN)
    );
    assert_eq!(
        meta.body["scopes_supported"],
        json!([
            "service_accounts:read",
            "service_accounts:write",
            "credentials:read",
            "credentials:write",
            "groups:read",
            "groups:write",
            "roles:read",
            "roles:write",
            "audit:read",
            "projects:read",
            "projects:write",
            "admin",
            "*"
        ]),
        "the wire list"
    );
}

#[test]
fn rotated_keys_stay_published_until_their_tokens_expire() {
    let s = TestServer::start_with(|c| c.oauth.access_token_ttl_seconds = 2);
    let secret = s.create_account("ci", &["viewer"]);
    let old = access_token(&s, "ci", &secret);
    let operator = s.create_account("op", &["operator"]);
    s.post_as(&operator, "/api/v1/signing-keys/rotate", json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    let rotated = s.post("/api/v1/signing-keys/rotate", json!({}));
    rotated.assert_status(201);
    let kids: Vec<Value> = s.get("/.well-known/jwks.json").body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&rotated.body["kid"]));
    s.get_as(&old, "/api/v1/me").assert_status(200);
    let new = access_token(&s, "ci", &secret);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(new.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], rotated.body["kid"]);
    s.advance(chrono::Duration::seconds(4));
    let kids: Vec<Value> = s.get("/.well-known/jwks.json").body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(
        kids,
        vec![rotated.body["kid"].clone()],
        "the retired key dropped out"
    );
    s.get_as(&old, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
}
