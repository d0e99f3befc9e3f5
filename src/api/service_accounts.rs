//! Service account routes. No storage access beyond one `Store` call each.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::credentials::{SecretRequest, require_credentials_write};
use super::json_object::{JsonObject, OptionalJsonObject};
use super::params::{IfMatchHeader, ListingParam, Named, PageParams};
use super::respond;
use super::views::{NewSecretView, PageView, ServiceAccountView, StatusView};
use crate::auth::Caller;
use crate::auth::secret::Secret;
use crate::config::Config;
use crate::domain::{
    self, AccountDetails, AccountFilter, AccountPatch, Credential, CredentialDetails,
    CredentialLimits, CredentialRequest, Kind, Name, NewAccount, RequestedExpiry, Scope, Status,
    permissions,
};
use crate::error::{Error, ErrorBody};
use crate::store::Store;

/// Reads a present JSON field, `null` included, as `Some`, so that `PATCH` can tell
/// "clear it" (`null`) from "leave it" (absent).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ci-bot", "display_name": "CI bot", "roles": ["viewer"],
    "days_valid": 90, "initial_secret": {"name": "deploy"}}))]
pub struct CreateServiceAccount {
    /// 1 to 63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
    #[schema(
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        min_length = 1,
        max_length = 63,
        example = "ci-bot"
    )]
    pub name: String,
    /// 1 to 255 characters; defaults to `name`.
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<String>,
    /// At most 1024 characters.
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// At most 64 keys of 1 to 63 characters; values of at most 1024.
    pub metadata: Option<BTreeMap<String, String>>,
    /// Role names to bind; the caller must hold each one.
    pub roles: Option<Vec<String>>,
    /// Groups to join; the caller must hold each group's roles.
    pub groups: Option<Vec<String>>,
    /// When the account stops working; in the future. Not with `days_valid`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Days until the account stops working, 1 to 730. Not with `expires_at`.
    #[schema(minimum = 1, maximum = 730)]
    pub days_valid: Option<i64>,
    /// An identifier in another system, 1 to 255 characters.
    #[schema(min_length = 1, max_length = 255)]
    pub external_id: Option<String>,
    /// The first secret, returned once in the answer: absent, `true` or an object for
    /// one (the object sets its `name` and `expires_at`), `false` for none.
    #[serde(default)]
    pub initial_secret: InitialSecret,
    /// The first secret's expiry (the seed wire format's name for
    /// `initial_secret.expires_at`; both given must agree).
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// `initial_secret` of a create: `false` for no secret; `true` or an object for one.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum InitialSecret {
    Flag(bool),
    Request(SecretRequest),
}

impl Default for InitialSecret {
    /// Absent: a first secret with defaults, as the seed API's clients expect.
    fn default() -> Self {
        InitialSecret::Flag(true)
    }
}

/// Read by hand rather than `untagged`, so that a bad field inside the object is named
/// (`untagged` would only say that no variant matched).
impl<'de> Deserialize<'de> for InitialSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(flag) => Ok(InitialSecret::Flag(flag)),
            serde_json::Value::Null => Ok(InitialSecret::default()),
            object @ serde_json::Value::Object(_) => serde_json::from_value(object)
                .map(InitialSecret::Request)
                .map_err(|e| D::Error::custom(format!("initial_secret: {e}"))),
            _ => Err(D::Error::custom(
                "initial_secret must be an object, true or false",
            )),
        }
    }
}

impl InitialSecret {
    /// The secret asked for, if any, with `token_expires_at` as its expiry: an expiry
    /// given both ways must be the same, and needs a secret to apply to.
    fn with_expiry(
        self,
        token_expires_at: Option<DateTime<Utc>>,
    ) -> Result<Option<SecretRequest>, Error> {
        let mut request = match self {
            InitialSecret::Flag(false) if token_expires_at.is_some() => {
                return Err(Error::invalid(
                    "token_expires_at",
                    "needs a first secret; initial_secret is false",
                ));
            }
            InitialSecret::Flag(false) => return Ok(None),
            InitialSecret::Flag(true) => SecretRequest {
                name: None,
                expires_at: None,
            },
            InitialSecret::Request(request) => request,
        };
        match (request.expires_at, token_expires_at) {
            (Some(a), Some(b)) if a != b => Err(Error::invalid(
                "token_expires_at",
                "differs from initial_secret.expires_at; give one of them",
            )),
            (_, Some(at)) => {
                request.expires_at = Some(at);
                Ok(Some(request))
            }
            _ => Ok(Some(request)),
        }
    }
}

impl CreateServiceAccount {
    /// The account and its first secret, if any, held to `server` (`credentials.*`) as
    /// the scope's policy narrows it in the store.
    fn parse(
        self,
        server: CredentialLimits,
        now: DateTime<Utc>,
    ) -> Result<(NewAccount, Option<(Secret, CredentialRequest)>), Error> {
        let account = NewAccount {
            name: Name::parse("name", &self.name)?,
            display_name: self.display_name.map(domain::display_name).transpose()?,
            description: domain::description(self.description.unwrap_or_default())?,
            metadata: domain::metadata(self.metadata.unwrap_or_default())?,
            roles: Name::parse_set("roles", &self.roles.unwrap_or_default())?,
            groups: Name::parse_set("groups", &self.groups.unwrap_or_default())?,
            expires_at: domain::account_expiry(self.expires_at, self.days_valid, now)?,
            external_id: self.external_id.map(domain::external_id).transpose()?,
        };
        // A bad `token_expires_at` is named as the client sent it.
        let token_expiry = self
            .token_expires_at
            .map(|at| RequestedExpiry::new("token_expires_at", Some(at), now))
            .transpose()?;
        let secret = self
            .initial_secret
            .with_expiry(self.token_expires_at)?
            .map(|s| s.into_secret("initial_secret.", server, now))
            .transpose()?
            .map(|(secret, mut request)| {
                if let Some(expiry) = token_expiry {
                    request.expiry = expiry;
                }
                (secret, request)
            });
        Ok((account, secret))
    }
}

/// The answer to a creation (and to `renew-token`): the account, and its new secret
/// unless the create said `"initial_secret": false`, shown this once.
#[derive(serde::Serialize, ToSchema)]
pub struct CreatedServiceAccountView<'a> {
    #[serde(flatten)]
    pub account: ServiceAccountView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<NewSecretView>,
    /// The new secret's text, as `secret.secret` (the seed wire format's name for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "kh_4fT9qZ0b3M1xR7kP2nW8cV5yL6aD0eG3hJ9sQ1uBt0aZ9X")]
    pub token: Option<String>,
}

impl<'a> CreatedServiceAccountView<'a> {
    pub fn new(
        details: &'a AccountDetails,
        issued: Option<(Credential, &Secret)>,
        now: DateTime<Utc>,
    ) -> Self {
        let (secret, token) = issued
            .map(|(credential, secret)| {
                let details = CredentialDetails {
                    credential,
                    last_used_at: None,
                };
                let view = NewSecretView::new(&details, secret, now);
                (view, secret.expose().to_owned())
            })
            .unzip();
        CreatedServiceAccountView {
            account: ServiceAccountView::new(details, now),
            secret,
            token,
        }
    }
}

/// Absent fields are left alone; `null` clears `expires_at` or `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "CI bot (prod)", "status": "disabled"}))]
pub struct UpdateServiceAccount {
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<String>,
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// The whole new list of directly bound roles; added ones need scope-down.
    pub roles: Option<Vec<String>>,
    #[schema(value_type = Option<StatusView>)]
    pub status: Option<Status>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

impl UpdateServiceAccount {
    fn parse(self, now: DateTime<Utc>) -> Result<AccountPatch, Error> {
        let expires_at = match self.expires_at {
            Some(Some(at)) => Some(domain::account_expiry(Some(at), None, now)?),
            other => other,
        };
        Ok(AccountPatch {
            display_name: self.display_name.map(domain::display_name).transpose()?,
            description: self.description.map(domain::description).transpose()?,
            metadata: self.metadata.map(domain::metadata).transpose()?,
            roles: self
                .roles
                .map(|r| Name::parse_set("roles", &r))
                .transpose()?,
            status: self.status,
            expires_at,
            external_id: self
                .external_id
                .map(|id| id.map(domain::external_id).transpose())
                .transpose()?,
        })
    }
}

/// Filters of the service account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilterParams {
    /// A case-insensitive part of the name or display name.
    pub query: Option<String>,
    /// `active` or `disabled`.
    #[param(value_type = Option<StatusView>)]
    pub status: Option<String>,
    /// Only accounts bound to this role directly.
    pub role: Option<String>,
    /// Only members of this group.
    pub group: Option<String>,
}

impl AccountFilterParams {
    fn parse(self) -> Result<AccountFilter, Error> {
        Ok(AccountFilter::new(
            self.query,
            self.status
                .map(|s| Status::parse("status", &s))
                .transpose()?,
            self.role.map(|r| Name::parse("role", &r)).transpose()?,
            self.group.map(|g| Name::parse("group", &g)).transpose()?,
        ))
    }
}

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
    caller.require(permissions::SERVICE_ACCOUNTS_WRITE)?;
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
    let listing = listing.listing(&caller, &scope, permissions::SERVICE_ACCOUNTS_READ)?;
    let request = paging.parse()?;
    let filter = filter.into_inner().parse()?;
    let page = store.list_service_accounts(&listing, &filter, &request, caller.now)?;
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
    caller.require_read(Kind::ServiceAccount, &path)?;
    let name = Name::in_path(Kind::ServiceAccount, &path)?;
    let details = store.get_service_account(&path.scope, &name, caller.now)?;
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
    let name = caller.require_change(&store, Kind::ServiceAccount, &path.scope, &path)?;
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
    let name = caller.require_change(&store, Kind::ServiceAccount, &path.scope, &path)?;
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
    let name = require_credentials_write(&caller, &path)?;
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
