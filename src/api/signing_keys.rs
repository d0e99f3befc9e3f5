//! Signing-key rotation.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::wire_time;
use crate::auth::Caller;
use crate::auth::jwt::Tokens;
use crate::domain::permissions;
use crate::error::Error;
use crate::store::Store;

#[derive(Serialize, ToSchema)]
pub struct SigningKeyView {
    /// The `kid` new tokens carry.
    pub kid: String,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// Make a new key current for signing access tokens. Older keys stay in the JWKS until
/// every token they signed has expired. Needs `admin`.
#[utoipa::path(tag = "oauth2", responses((status = 201, body = SigningKeyView)))]
#[post("/signing-keys/rotate")]
pub async fn rotate_signing_key(
    store: web::Data<Store>,
    tokens: web::Data<Tokens>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::ADMIN).await?;
    let ctx = caller.write_context();
    let key = tokens.rotate(&store, &ctx).await?;
    Ok(HttpResponse::Created().json(SigningKeyView {
        kid: key.kid,
        created_at: key.created_at,
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(rotate_signing_key);
}
