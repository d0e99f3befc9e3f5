//! Credential routes: secrets and public keys of a service account, and rotation.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::json_object::JsonObject;
use super::params::{IdSegment, Named, PageParams};
use super::respond;
use super::views::{CredentialView, NewSecretView, PageView};
use crate::auth::Caller;
use crate::auth::public_key::PublicKey;
use crate::auth::secret::Secret;
use crate::config::Config;
use crate::domain::{
    self, CredentialLimits, CredentialRequest, GracePeriod, Kind, Name, RequestedExpiry, Scope,
    permissions,
};
use crate::error::{Error, ErrorBody};
use crate::store::Store;

/// A secret asked for: with an account (`initial_secret`), by rotation, or on its own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRequest {
    /// 1 to 255 characters; defaults to `secret`.
    #[schema(example = "deploy", min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Defaults to now + `credentials.default_lifetime_days` (never, when that is 0); at
    /// most `credentials.max_lifetime_days` ahead (no limit, when that is 0).
    pub expires_at: Option<DateTime<Utc>>,
}

/// The name and requested expiry of a new credential; `field` prefixes the names in
/// errors. The limits in force decide the expiry in the store's transaction.
fn name_and_expiry(
    field: &str,
    name: Option<String>,
    default_name: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(String, RequestedExpiry), Error> {
    let name = domain::credential_name(
        &format!("{field}name"),
        name.unwrap_or_else(|| default_name.to_owned()),
    )?;
    let expiry = RequestedExpiry::new(format!("{field}expires_at"), expires_at, now)?;
    Ok((name, expiry))
}

impl SecretRequest {
    /// A new secret, and the request for what the store keeps of it, held to `server`
    /// (`credentials.*`) as the scope's policy narrows it. `field` prefixes error names
    /// (`initial_secret.`), empty for a top-level request.
    pub fn into_secret(
        self,
        field: &str,
        server: CredentialLimits,
        now: DateTime<Utc>,
    ) -> Result<(Secret, CredentialRequest), Error> {
        let (name, expiry) = name_and_expiry(field, self.name, "secret", self.expires_at, now)?;
        let secret = Secret::generate()?;
        let request = CredentialRequest {
            name,
            kind: secret.credential_kind(),
            expiry,
            server,
        };
        Ok((secret, request))
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialTypeParam {
    #[default]
    Secret,
    PublicKey,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "public_key", "name": "signer",
    "public_key": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA...\n-----END PUBLIC KEY-----\n"}))]
pub struct CreateCredential {
    /// `secret` (default) or `public_key`.
    #[serde(rename = "type", default)]
    pub kind: CredentialTypeParam,
    /// 1 to 255 characters; defaults to the type.
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Defaults to now + `credentials.default_lifetime_days` (never, when that is 0); at
    /// most `credentials.max_lifetime_days` ahead (no limit, when that is 0).
    pub expires_at: Option<DateTime<Utc>>,
    /// For `public_key`: a PEM SubjectPublicKeyInfo of an EC P-256 or Ed25519 key.
    pub public_key: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grace_period_seconds": 3600, "name": "deploy-2"}))]
pub struct RotateSecret {
    /// How long the account's other secrets keep working: 0 (default) to 86400.
    #[schema(minimum = 0, maximum = 86400)]
    pub grace_period_seconds: Option<i64>,
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new credential; a secret comes with its `secret`, shown this once.
#[derive(serde::Serialize, ToSchema)]
pub struct CreatedCredentialView {
    #[serde(flatten)]
    pub credential: CredentialView,
    /// Only for a `secret`: the secret itself. It is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// For a new credential of the account the route names: 404 unless the caller may read
/// accounts, 403 without `credentials:write`. Answers the account's name. (Whether it
/// may act on that account is checked in the store's transaction.)
pub(super) async fn require_credentials_write(
    caller: &Caller,
    path: &Named,
) -> Result<Name, Error> {
    caller.require_read(Kind::ServiceAccount, path).await?;
    caller.require(permissions::CREDENTIALS_WRITE).await?;
    caller.name_in_path(Kind::ServiceAccount, path).await
}

/// The path of an account's credentials; a new one's `Location` is this plus its id.
fn credentials_path(scope: &Scope, account: &Name) -> String {
    respond::api_path(scope, &format!("service-accounts/{account}/credentials"))
}

fn credential_id(raw: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw).map_err(|_| Error::not_found(Kind::Credential, raw))
}

/// Issue a credential: a secret (shown once, in this answer) or a public key. Needs
/// `credentials:write`, and every permission the account holds. At most
/// `credentials.max_active` unexpired credentials per account.
#[utoipa::path(tag = "credentials", request_body = CreateCredential,
    params(("name" = String, Path, description = "The account's name.")),
    responses((status = 201, body = CreatedCredentialView),
        (status = 409, body = ErrorBody, description = "The account has its most active credentials.")))]
#[post("/service-accounts/{name}/credentials")]
pub async fn create_credential(
    store: web::Data<Store>,
    config: web::Data<Config>,
    caller: Caller,
    path: Named,
    body: JsonObject<CreateCredential>,
) -> Result<HttpResponse, Error> {
    let name = require_credentials_write(&caller, &path).await?;
    let body = body.into_inner();
    let server = config.credentials.limits;
    let (shown, request) = match (body.kind, body.public_key) {
        (CredentialTypeParam::Secret, Some(_)) => {
            return Err(Error::invalid(
                "public_key",
                "only goes with type public_key",
            ));
        }
        (CredentialTypeParam::Secret, None) => {
            let request = SecretRequest {
                name: body.name,
                expires_at: body.expires_at,
            };
            let (secret, request) = request.into_secret("", server, caller.now)?;
            (Some(secret), request)
        }
        (CredentialTypeParam::PublicKey, None) => {
            return Err(Error::invalid(
                "public_key",
                "is required for type public_key",
            ));
        }
        (CredentialTypeParam::PublicKey, Some(pem)) => {
            let key = PublicKey::from_pem(&pem)?;
            let (name, expiry) =
                name_and_expiry("", body.name, "public_key", body.expires_at, caller.now)?;
            let request = CredentialRequest {
                name,
                kind: key.credential_kind(),
                expiry,
                server,
            };
            (None, request)
        }
    };
    let location = credentials_path(&path.scope, &name);
    let ctx = caller.write_context();
    let created = store
        .create_credential(&ctx, &path.scope, &name, request)
        .await?;
    let view = CreatedCredentialView {
        credential: CredentialView::new(&created, caller.now),
        secret: shown.map(|secret| secret.expose().to_owned()),
    };
    let location = format!("{location}/{}", view.credential.id);
    let response = respond::created(location, None, &view);
    Ok(respond::no_store_if(view.secret.is_some(), response))
}

/// List an account's credentials, by name; never a secret. Needs `credentials:read`.
#[utoipa::path(tag = "credentials", params(("name" = String, Path, description = "The account's name."), PageParams),
    responses((status = 200, body = PageView<CredentialView>)))]
#[get("/service-accounts/{name}/credentials")]
pub async fn list_credentials(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    paging: web::Query<PageParams>,
) -> Result<HttpResponse, Error> {
    caller.require_read(Kind::ServiceAccount, &path).await?;
    caller.require(permissions::CREDENTIALS_READ).await?;
    let page = store
        .list_credentials(
            &path.scope,
            &caller.name_in_path(Kind::ServiceAccount, &path).await?,
            &paging.parse()?,
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, |c| {
        CredentialView::new(&c, caller.now)
    })))
}

/// Read a credential; never its secret. Needs `credentials:read`.
#[utoipa::path(tag = "credentials",
    params(("name" = String, Path, description = "The account's name."), ("id" = Uuid, Path, description = "The credential's id.")),
    responses((status = 200, body = CredentialView)))]
#[get("/service-accounts/{name}/credentials/{id}")]
pub async fn get_credential(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    id: IdSegment,
) -> Result<HttpResponse, Error> {
    let id = id.0;
    caller.require_read(Kind::ServiceAccount, &path).await?;
    caller.require_read(Kind::Credential, &id).await?;
    let credential = store
        .get_credential(
            &path.scope,
            &caller.name_in_path(Kind::ServiceAccount, &path).await?,
            credential_id(&id)?,
        )
        .await?;
    Ok(respond::json(
        &mut HttpResponse::Ok(),
        &CredentialView::new(&credential, caller.now),
    ))
}

/// Revoke a credential at once: it stops working on the next request and is gone. Needs
/// `credentials:write`.
#[utoipa::path(tag = "credentials",
    params(("name" = String, Path, description = "The account's name."), ("id" = Uuid, Path, description = "The credential's id.")),
    responses((status = 204, description = "Revoked.")))]
#[delete("/service-accounts/{name}/credentials/{id}")]
pub async fn revoke_credential(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    id: IdSegment,
) -> Result<HttpResponse, Error> {
    let id = id.0;
    caller.require_read(Kind::ServiceAccount, &path).await?;
    caller.require_read(Kind::Credential, &id).await?;
    caller.require(permissions::CREDENTIALS_WRITE).await?;
    let (name, id) = (
        caller.name_in_path(Kind::ServiceAccount, &path).await?,
        credential_id(&id)?,
    );
    let ctx = caller.write_context();
    store
        .revoke_credential(&ctx, &path.scope, &name, id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Issue a new secret and let every other secret of the account expire at now +
/// `grace_period_seconds`, in one transaction; never refused by the credential limit.
/// Needs `credentials:write`, and every permission the account holds.
#[utoipa::path(tag = "credentials", request_body = RotateSecret,
    params(("name" = String, Path, description = "The account's name.")),
    responses((status = 201, body = NewSecretView)))]
#[post("/service-accounts/{name}/rotate-secret")]
pub async fn rotate_secret(
    store: web::Data<Store>,
    config: web::Data<Config>,
    caller: Caller,
    path: Named,
    body: JsonObject<RotateSecret>,
) -> Result<HttpResponse, Error> {
    let name = require_credentials_write(&caller, &path).await?;
    let body = body.into_inner();
    let grace = GracePeriod::from_seconds(body.grace_period_seconds)?;
    let request = SecretRequest {
        name: body.name,
        expires_at: body.expires_at,
    };
    let server = config.credentials.limits;
    let (secret, request) = request.into_secret("", server, caller.now)?;
    let location = credentials_path(&path.scope, &name);
    let ctx = caller.write_context();
    let created = store
        .rotate_secret(&ctx, &path.scope, &name, request, grace)
        .await?;
    let view = NewSecretView::new(&created, &secret, caller.now);
    let location = format!("{location}/{}", view.credential.id);
    Ok(respond::no_store(respond::created(location, None, &view)))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_credential)
        .service(list_credentials)
        .service(get_credential)
        .service(revoke_credential)
        .service(rotate_secret);
}
