//! Service account routes. No storage access beyond one `Store` call each. The bodies
//! they read and the answer of a creation are in `service_accounts/`.

mod creation;
mod filter;
mod update;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use creation::{CreateServiceAccount, CreatedServiceAccountView};
use filter::AccountFilterParams;
use update::UpdateServiceAccount;

use super::credentials::{SecretRequest, require_credentials_write};
use super::json_object::{JsonObject, OptionalJsonObject};
use super::params::{IfMatchHeader, ListingParam, Named, PageParams};
use super::respond;
use super::views::{PageView, ServiceAccountView};
use crate::auth::Caller;
use crate::config::Config;
use crate::domain::{Kind, Scope, permissions};
use crate::error::{Error, ErrorBody};
use crate::store::Store;

/// Create a service account. Needs `service_accounts:write`, and the caller must hold
/// every role it binds.
#[utoipa::path(tag = "service-accounts", request_body = CreateServiceAccount,
    responses((status = 201, body = CreatedServiceAccountView),
        (status = 404, body = ErrorBody, description = "A role or group named in the body does not exist."),
        (status = 409, body = ErrorBody, description = "The name is taken.")))]
#[post("/service-accounts")]
pub async fn create_service_account(
    store: web::Data<Store>,
    config: web::Data<Config>,
    caller: Caller,
    scope: Scope,
    body: JsonObject<CreateServiceAccount>,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::SERVICE_ACCOUNTS_WRITE).await?;
    let server = config.credentials.limits;
    let (new, secret) = body.into_inner().parse(server, caller.now)?;
    let (shown, secret) = secret.unzip();
    let ctx = caller.write_context();
    let (details, credential) = store
        .create_service_account(&ctx, &scope, new, secret)
        .await?;
    let issued = credential.zip(shown.as_ref());
    let view = CreatedServiceAccountView::new(&details, issued, caller.now);
    let location = respond::api_path(&scope, &format!("service-accounts/{}", view.account.name));
    let response = respond::created(location, Some(&details.etag), &view);
    Ok(respond::no_store_if(view.secret.is_some(), response))
}

/// List service accounts in name order. Needs `service_accounts:read`.
#[utoipa::path(tag = "service-accounts", params(PageParams, AccountFilterParams, ListingParam),
    responses((status = 200, body = PageView<ServiceAccountView>)))]
#[get("/service-accounts")]
pub async fn list_service_accounts(
    store: web::Data<Store>,
    caller: Caller,
    scope: Scope,
    paging: web::Query<PageParams>,
    filter: web::Query<AccountFilterParams>,
    listing: web::Query<ListingParam>,
) -> Result<HttpResponse, Error> {
    let listing = listing
        .listing(&caller, &scope, permissions::SERVICE_ACCOUNTS_READ)
        .await?;
    let request = paging.parse()?;
    let filter = filter.into_inner().parse()?;
    let page = store
        .list_service_accounts(&listing, &filter, &request, caller.now)
        .await?;
    let view = PageView::of(&page, |d| ServiceAccountView::new(d, caller.now));
    Ok(respond::json(&mut HttpResponse::Ok(), &view))
}

/// Read a service account. Needs `service_accounts:read`.
#[utoipa::path(tag = "service-accounts", params(("name" = String, Path, description = "The account's name.")),
    responses((status = 200, body = ServiceAccountView)))]
#[get("/service-accounts/{name}")]
pub async fn get_service_account(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
) -> Result<HttpResponse, Error> {
    caller.require_read(Kind::ServiceAccount, &path).await?;
    let name = caller.name_in_path(Kind::ServiceAccount, &path).await?;
    let details = store
        .get_service_account(&path.scope, &name, caller.now)
        .await?;
    let view = ServiceAccountView::new(&details, caller.now);
    Ok(respond::with_etag(StatusCode::OK, &details.etag, &view))
}

/// Change a service account; absent fields are left alone. Needs
/// `service_accounts:write`; added roles need scope-down. Honours `If-Match`.
#[utoipa::path(tag = "service-accounts", request_body = UpdateServiceAccount,
    params(("name" = String, Path, description = "The account's name."),
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 200, body = ServiceAccountView),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[patch("/service-accounts/{name}")]
pub async fn update_service_account(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
    body: JsonObject<UpdateServiceAccount>,
) -> Result<HttpResponse, Error> {
    let name = caller
        .require_change(&store, Kind::ServiceAccount, &path.scope, &path)
        .await?;
    let patch = body.into_inner().parse(caller.now)?;
    let ctx = caller.write_context();
    let details = store
        .update_service_account(&ctx, &path.scope, &name, if_match.get(), patch)
        .await?;
    let view = ServiceAccountView::new(&details, caller.now);
    Ok(respond::with_etag(StatusCode::OK, &details.etag, &view))
}

/// Delete a service account with all its credentials and memberships, at once. Needs
/// `service_accounts:write`. Honours `If-Match`.
#[utoipa::path(tag = "service-accounts",
    params(("name" = String, Path, description = "The account's name."),
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 204, description = "Deleted."),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[delete("/service-accounts/{name}")]
pub async fn delete_service_account(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, Error> {
    let name = caller
        .require_change(&store, Kind::ServiceAccount, &path.scope, &path)
        .await?;
    let ctx = caller.write_context();
    store
        .delete_service_account(&ctx, &path.scope, &name, if_match.get())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The body of `renew-token`, which may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token_expires_at": "2027-01-01T00:00:00Z"}))]
pub struct RenewToken {
    /// The new secret's expiry. Defaults to now + `credentials.default_lifetime_days`
    /// (never, when that is 0); at most `credentials.max_lifetime_days` ahead.
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// Revoke every secret of the account and issue one new secret, in one transaction
/// (the seed wire format's single token); public keys are left alone, and the credential
/// limit never refuses it. Needs `credentials:write`, and every permission the account
/// holds. The body may be left out.
#[utoipa::path(tag = "service-accounts", request_body = Option<RenewToken>,
    params(("name" = String, Path, description = "The account's name.")),
    responses((status = 200, body = CreatedServiceAccountView,
        description = "The account, its new secret and `token` (the same text), shown this once.")))]
#[post("/service-accounts/{name}/renew-token")]
pub async fn renew_token(
    store: web::Data<Store>,
    config: web::Data<Config>,
    caller: Caller,
    path: Named,
    body: OptionalJsonObject<RenewToken>,
) -> Result<HttpResponse, Error> {
    let name = require_credentials_write(&caller, &path).await?;
    let request = SecretRequest {
        name: Some("token".to_owned()),
        expires_at: body.into_inner().token_expires_at,
    };
    // `token_` names a bad expiry `token_expires_at`, as the client sent it.
    let server = config.credentials.limits;
    let (secret, request) = request.into_secret("token_", server, caller.now)?;
    let ctx = caller.write_context();
    let (details, credential) = store.renew_token(&ctx, &path.scope, &name, request).await?;
    let view = CreatedServiceAccountView::new(&details, Some((credential, &secret)), caller.now);
    let response = respond::with_etag(StatusCode::OK, &details.etag, &view);
    Ok(respond::no_store(response))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_service_account)
        .service(list_service_accounts)
        .service(get_service_account)
        .service(update_service_account)
        .service(delete_service_account)
        .service(renew_token);
}
