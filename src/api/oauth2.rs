//! OAuth 2.0: the client-credentials token endpoint (RFC 6749), introspection
//! (RFC 7662) and revocation (RFC 7009). Errors follow RFC 6749 section 5.2.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::form::Form;
use super::respond;
use crate::auth::assertion::ClientAssertions;
use crate::auth::client::{ClientAuthForm, authenticate_client};
use crate::auth::jwt::Tokens;
use crate::auth::last_use::LastUse;
use crate::auth::secret::Secret;
use crate::auth::{Caller, authenticate, offers_bearer};
use crate::clock::Clock;
use crate::domain::{
    Revocation, Scope, ScopeRefusal, Timestamp, TokenReach, grant_scope, narrow, permissions,
};
use crate::error::{Error, OAuthError, OAuthErrorBody};
use crate::store::Store;

const CLIENT_CREDENTIALS: &str = "client_credentials";

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: Option<String>,
    /// Space-separated permissions, a subset of the account's; all of them if absent.
    #[schema(example = "service_accounts:read")]
    pub scope: Option<String>,
    #[serde(flatten)]
    pub client: ClientAuthForm,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub scope: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// A `kh_` secret or an access token. (`token_type_hint` is accepted and ignored:
    /// keyhouse tells the kinds apart itself.)
    pub token: Option<String>,
    #[serde(flatten)]
    pub client: ClientAuthForm,
}

/// RFC 7662: `active` alone when the token is not valid now.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// The account's client id: its name, `name@project` in a project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The account's project; absent at the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The account's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// `Bearer` for an access token, `kh_secret` for a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

/// Who asks to introspect or revoke, and whose tokens it reaches.
struct TokenCaller {
    caller: Caller,
    reach: TokenReach,
}

/// A bearer holding `permission` where its account lives (a root account's hold in
/// every scope, a project account's in its project), or an authenticated client.
async fn token_caller(
    req: &HttpRequest,
    client: &ClientAuthForm,
    permission: &str,
    store: &Store,
    tokens: &Tokens,
    assertions: &ClientAssertions,
    now: Timestamp,
) -> Result<TokenCaller, Error> {
    if offers_bearer(req) {
        let caller: Caller = authenticate(req).await?;
        caller.require_held(permission)?;
        return Ok(TokenCaller {
            reach: TokenReach::Scope(caller.principal.scope.clone()),
            caller,
        });
    }
    match authenticate_client(req, client, store, tokens.settings(), assertions, now).await? {
        Some((principal, credential_id)) => Ok(TokenCaller {
            reach: TokenReach::Own(principal.account.id),
            caller: Caller::by_credential(req, principal, credential_id, now)?,
        }),
        None => Err(Error::oauth(
            OAuthError::InvalidClient,
            "authenticate as a client, or with a bearer token",
        )),
    }
}

fn required_token(form: &TokenForm) -> Result<&str, Error> {
    form.token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::oauth(OAuthError::InvalidRequest, "token is required"))
}

/// Issue an access token (`grant_type=client_credentials`). The client authenticates
/// with `client_secret_basic`, `client_secret_post` or `private_key_jwt`.
#[utoipa::path(tag = "oauth2",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse),
        (status = 400, body = OAuthErrorBody, description = "invalid_request, unsupported_grant_type or invalid_scope."),
        (status = 401, body = OAuthErrorBody, description = "invalid_client.")))]
#[post("/oauth2/token")]
pub async fn issue_token(
    req: HttpRequest,
    store: web::Data<Store>,
    tokens: web::Data<Tokens>,
    assertions: web::Data<ClientAssertions>,
    last_use: web::Data<LastUse>,
    clock: web::Data<Clock>,
    Form(form): Form<TokenRequest>,
) -> Result<HttpResponse, Error> {
    let now = clock.now();
    match form.grant_type.as_deref() {
        None => {
            return Err(Error::oauth(
                OAuthError::InvalidRequest,
                "grant_type is required",
            ));
        }
        Some(CLIENT_CREDENTIALS) => {}
        Some(_) => {
            return Err(Error::oauth(
                OAuthError::UnsupportedGrantType,
                "only client_credentials is supported",
            ));
        }
    }
    let (principal, credential_id) = authenticate_client(
        &req,
        &form.client,
        &store,
        tokens.settings(),
        &assertions,
        now,
    )
    .await?
    .ok_or_else(|| {
        Error::oauth(
            OAuthError::InvalidClient,
            "no client authentication was given",
        )
    })?;
    last_use.record(credential_id, principal.account.id, now);
    let scope = grant_scope(&principal.permissions, form.scope.as_deref()).map_err(|refusal| {
        let description = match refusal {
            ScopeRefusal::Empty => {
                "scope is empty; leave it out for every permission the client holds".to_owned()
            }
            ScopeRefusal::NotHeld(missing) => {
                format!("the client does not hold: {}", missing.join(" "))
            }
        };
        Error::oauth(OAuthError::InvalidScope, description)
    })?;
    let (access_token, claims) = tokens.issue(&principal, &scope, now)?;
    Ok(respond::no_store(respond::json(
        &mut HttpResponse::Ok(),
        &TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            scope: claims.scope,
        },
    )))
}

/// An authentication's refusal as `None`; any other error, a fault of the store above
/// all, stays an error: a fault is a 500, never `{"active": false}`.
fn unless_refused<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::Unauthenticated(_)) => Ok(None),
        Err(fault) => Err(fault),
    }
}

/// Whose token this is (the account and its scope) and what it says, if it is valid now.
async fn inspect(
    store: &Store,
    tokens: &Tokens,
    token: &str,
    now: Timestamp,
) -> Result<Option<(Uuid, Scope, IntrospectionResponse)>, Error> {
    if Secret::looks_like(token) {
        let Ok(secret) = Secret::parse(token) else {
            return Ok(None);
        };
        let Some((principal, credential)) =
            unless_refused(store.authenticate_secret(&secret.hash(), now).await)?
        else {
            return Ok(None);
        };
        let scope = grant_scope(&principal.permissions, None).unwrap_or_default();
        return Ok(Some((
            principal.account.id,
            principal.scope.clone(),
            IntrospectionResponse {
                active: true,
                client_id: Some(principal.client_id()),
                project: principal.scope.project().map(str::to_owned),
                sub: Some(principal.account.id.to_string()),
                scope: Some(scope.join(" ")),
                exp: credential.expires_at.map(|at| at.timestamp()),
                iat: Some(credential.created_at.timestamp()),
                token_type: Some("kh_secret"),
            },
        )));
    }
    let Some(claims) = unless_refused(tokens.verify(token, now))? else {
        return Ok(None);
    };
    let Some(account_id) = unless_refused(claims.account_id())? else {
        return Ok(None);
    };
    let Some(principal) = unless_refused(
        store
            .authenticate_token_subject(account_id, claims.issued_at(), now)
            .await,
    )?
    else {
        return Ok(None);
    };
    let effective = narrow(&principal.permissions, claims.scopes());
    let scope = if effective.holds_all() {
        "*".to_owned()
    } else {
        effective.iter().collect::<Vec<_>>().join(" ")
    };
    Ok(Some((
        account_id,
        principal.scope.clone(),
        IntrospectionResponse {
            active: true,
            client_id: Some(principal.client_id()),
            project: principal.scope.project().map(str::to_owned),
            sub: Some(claims.sub.clone()),
            scope: Some(scope),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            token_type: Some("Bearer"),
        },
    )))
}

/// Tell whether a `kh_` secret or an access token is valid now (RFC 7662). A bearer
/// with `credentials:read` may introspect any token; a client (`client_secret_basic` or
/// `client_secret_post`) only its own, others reading inactive.
#[utoipa::path(tag = "oauth2",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = IntrospectionResponse),
        (status = 400, body = OAuthErrorBody, description = "invalid_request."),
        (status = 401, body = OAuthErrorBody, description = "invalid_client.")))]
#[post("/oauth2/introspect")]
pub async fn introspect(
    req: HttpRequest,
    store: web::Data<Store>,
    tokens: web::Data<Tokens>,
    assertions: web::Data<ClientAssertions>,
    clock: web::Data<Clock>,
    Form(form): Form<TokenForm>,
) -> Result<HttpResponse, Error> {
    let now = clock.now();
    let caller = token_caller(
        &req,
        &form.client,
        permissions::CREDENTIALS_READ,
        &store,
        &tokens,
        &assertions,
        now,
    )
    .await?;
    let token = required_token(&form)?;
    let answer = match inspect(&store, &tokens, token, now).await? {
        Some((owner, scope, answer)) if caller.reach.includes(owner, &scope) => answer,
        _ => IntrospectionResponse::default(),
    };
    Ok(respond::no_store(respond::json(
        &mut HttpResponse::Ok(),
        &answer,
    )))
}

/// Revoke a `kh_` secret, or deny an access token until it expires (RFC 7009). A bearer
/// with `credentials:write` may revoke any token; a client only its own. Always 200 for
/// a well-formed request, also for an unknown token.
#[utoipa::path(tag = "oauth2",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Revoked, or nothing to revoke."),
        (status = 400, body = OAuthErrorBody, description = "invalid_request."),
        (status = 401, body = OAuthErrorBody, description = "invalid_client.")))]
#[post("/oauth2/revoke")]
pub async fn revoke(
    req: HttpRequest,
    store: web::Data<Store>,
    tokens: web::Data<Tokens>,
    assertions: web::Data<ClientAssertions>,
    clock: web::Data<Clock>,
    Form(form): Form<TokenForm>,
) -> Result<HttpResponse, Error> {
    let now = clock.now();
    let caller = token_caller(
        &req,
        &form.client,
        permissions::CREDENTIALS_WRITE,
        &store,
        &tokens,
        &assertions,
        now,
    )
    .await?;
    let token = required_token(&form)?.to_owned();
    let ctx = caller.caller.write_context();
    let revocation = if Secret::looks_like(&token) {
        match Secret::parse(&token) {
            Ok(secret) => {
                let (hash, reach) = (secret.hash(), caller.reach);
                store.revoke_secret_by_hash(&ctx, &hash, &reach).await?
            }
            Err(_) => Revocation::Unknown,
        }
    } else {
        match tokens.verify(&token, now) {
            Ok(claims)
                if caller
                    .reach
                    .includes(claims.account_id()?, &claims.owner_scope()?) =>
            {
                tokens.revoke(&store, &ctx, &claims).await?
            }
            _ => Revocation::Unknown,
        }
    };
    // RFC 7009: one answer whatever the revocation decided; a token the caller may not
    // revoke is answered as any token it may not see.
    match revocation {
        Revocation::Revoked | Revocation::Unknown | Revocation::NotYours => {
            Ok(respond::no_store(HttpResponse::Ok().finish()))
        }
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(issue_token).service(introspect).service(revoke);
}
