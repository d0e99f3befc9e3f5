//! OpenID-style discovery: a verifier that knows only the issuer finds the keys and
//! checks a token, whichever `typ` the server writes.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::common::TestServer;
use keyhouse::config::AccessTokenTyp;

/// What a resource server configured with `issuer-uri` does: discovery, then the JWKS
/// it names, then the token's signature, issuer and audience. Returns the header's typ.
fn verify_as_a_resource_server(s: &TestServer, token: &str) -> String {
    let discovery: Value = s
        .client
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(discovery["issuer"], s.base.as_str(), "{discovery}");
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/oauth2/token", s.base).as_str()
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"][0],
        "ES256"
    );
    assert_eq!(discovery["grant_types_supported"][0], "client_credentials");
    assert_eq!(discovery["subject_types_supported"][0], "public");
    let jwks: Value = s
        .client
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("{kid} not in {jwks}"));
    let key =
        DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[discovery["issuer"].as_str().unwrap()]);
    validation.set_audience(&["keyhouse"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap();
    header.typ.unwrap()
}

fn admin_token(s: &TestServer) -> String {
    let reply = s.form(
        "/oauth2/token",
        Some(("admin", &s.token)),
        &[("grant_type", "client_credentials")],
    );
    reply.assert_status(200);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn discovery_leads_a_verifier_to_the_keys_of_at_jwt_tokens_by_default() {
    let s = TestServer::start();
    assert_eq!(verify_as_a_resource_server(&s, &admin_token(&s)), "at+jwt");
}

#[test]
fn access_token_typ_jwt_is_written_and_verifies_the_same() {
    let s = TestServer::start_with(|c| c.oauth.access_token_typ = AccessTokenTyp::Jwt);
    let token = admin_token(&s);
    assert_eq!(verify_as_a_resource_server(&s, &token), "JWT");
    let me = s
        .client
        .get(s.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(me.status().as_u16(), 200, "keyhouse takes its own token");
}
