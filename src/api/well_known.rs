//! Discovery: the JWKS and the authorization server metadata (RFC 8414).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::jwt::Tokens;
use crate::clock::Clock;
use crate::domain::permissions;
use crate::error::Error;

/// A public key that signs access tokens.
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "EC")]
    pub kty: &'static str,
    #[schema(example = "P-256")]
    pub crv: &'static str,
    pub x: String,
    pub y: String,
    pub kid: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub key_use: &'static str,
    #[schema(example = "ES256")]
    pub alg: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// RFC 8414 metadata.
#[derive(Serialize, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
}

/// OpenID Provider Metadata, as far as it applies to a server that issues access
/// tokens only (as Kubernetes serves it for its service-account tokens): where the
/// keys are, which algorithm signs, and the token endpoint.
#[derive(Serialize, ToSchema)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub jwks_uri: String,
    pub token_endpoint: String,
    pub grant_types_supported: Vec<&'static str>,
    /// `token`: keyhouse has no authorization endpoint and issues no ID token.
    pub response_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    /// The algorithm that signs access tokens (verifiers such as go-oidc read it here).
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
}

/// The public keys that sign access tokens, including retired ones whose tokens may
/// still be valid.
#[utoipa::path(tag = "oauth2", responses((status = 200, body = Jwks)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(
    tokens: web::Data<Tokens>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, Error> {
    let keys = tokens
        .published(clock.now())?
        .into_iter()
        .map(|k| Jwk {
            kty: "EC",
            crv: "P-256",
            x: k.x,
            y: k.y,
            kid: k.kid,
            key_use: "sig",
            alg: "ES256",
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(Jwks { keys }))
}

/// The authorization server's metadata (RFC 8414).
#[utoipa::path(tag = "oauth2", responses((status = 200, body = ServerMetadata)))]
#[get("/.well-known/oauth-authorization-server")]
pub async fn metadata(tokens: web::Data<Tokens>) -> HttpResponse {
    let issuer = tokens.settings().issuer.clone();
    let client_auth = vec![
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    HttpResponse::Ok().json(ServerMetadata {
        token_endpoint: format!("{issuer}/oauth2/token"),
        introspection_endpoint: format!("{issuer}/oauth2/introspect"),
        revocation_endpoint: format!("{issuer}/oauth2/revoke"),
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        issuer,
        grant_types_supported: vec!["client_credentials"],
        response_types_supported: vec![],
        token_endpoint_auth_methods_supported: client_auth.clone(),
        token_endpoint_auth_signing_alg_values_supported: vec!["ES256", "EdDSA"],
        introspection_endpoint_auth_methods_supported: client_auth.clone(),
        revocation_endpoint_auth_methods_supported: client_auth,
        scopes_supported: permissions::KNOWN.to_vec(),
    })
}

/// Discovery for verifiers that look only at OpenID's address (Spring's
/// `issuer-uri`, go-oidc): the issuer, its keys, the token endpoint.
#[utoipa::path(tag = "oauth2", responses((status = 200, body = OpenIdConfiguration)))]
#[get("/.well-known/openid-configuration")]
pub async fn openid_configuration(tokens: web::Data<Tokens>) -> HttpResponse {
    let issuer = tokens.settings().issuer.clone();
    HttpResponse::Ok().json(OpenIdConfiguration {
        token_endpoint: format!("{issuer}/oauth2/token"),
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        issuer,
        grant_types_supported: vec!["client_credentials"],
        response_types_supported: vec!["token"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: vec!["ES256"],
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        token_endpoint_auth_signing_alg_values_supported: vec!["ES256", "EdDSA"],
        scopes_supported: permissions::KNOWN.to_vec(),
    })
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(jwks)
        .service(metadata)
        .service(openid_configuration);
}
