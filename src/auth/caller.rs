//! The `Caller` extractor: every `/api/v1` handler takes one, so none can skip
//! authentication. It reads the clock once for the request.

use futures_core::future::LocalBoxFuture;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use uuid::Uuid;

use super::attempts::guarded;
use super::authorization::authorization;
use super::jwt::{AccessClaims, Tokens};
use super::last_use::LastUse;
use super::secret::Secret;
use crate::clock::Clock;
use crate::domain::{AuthFailure, Name, PermissionSet, Principal, Scope, Timestamp, narrow};
use crate::error::{Error, Kind};
use crate::request_id::RequestId;
use crate::store::Store;

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticatedBy {
    /// A credential of the account: a `kh_` secret, or at `/oauth2` a client
    /// authentication with a secret or a public key.
    Secret { credential_id: Uuid },
    /// An access token, whose scope narrows what the caller may do: its claims, shared
    /// with the cache of verified tokens.
    AccessToken { claims: Arc<AccessClaims> },
}

/// An authenticated account, what it may do, and the request's time and id.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account as the store knows it, shared with the store's cache of
    /// authentications (its `permissions` are all the account holds where it lives).
    pub principal: Arc<Principal>,
    /// What the caller may do in the request's scope: `held`, narrowed to that scope.
    pub permissions: PermissionSet,
    pub authenticated_by: AuthenticatedBy,
    pub now: Timestamp,
    pub request_id: String,
    /// The scope the request acts in, which `permissions` are narrowed to.
    pub scope: Scope,
    /// What the account may do where it lives (narrowed by its token), whatever the
    /// request's scope: what `/api/v1/me` shows.
    pub held: PermissionSet,
    /// The store, which decides a refusal in a project: 404 when the project is gone.
    pub(super) store: web::Data<Store>,
}

impl FromRequest for Caller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(req: &HttpRequest) -> Result<&str, Error> {
    let value = authorization(req)
        .ok_or(Error::Unauthenticated(AuthFailure::Missing))?
        .ok_or(Error::Unauthenticated(AuthFailure::Malformed))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Error::Unauthenticated(AuthFailure::Malformed)),
    }
}

/// Whether the request offers `Authorization: Bearer ...`, well-formed or not: the
/// OAuth endpoints then authenticate it as the API does, not as a client.
pub fn offers_bearer(req: &HttpRequest) -> bool {
    authorization(req)
        .flatten()
        .and_then(|value| value.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
}

/// Authenticates the bearer of the request, a `kh_` secret or an access token, under
/// the failed-attempt limiter, and narrows what it may do to the request's scope.
pub async fn authenticate(req: &HttpRequest) -> Result<Caller, Error> {
    let token = bearer_token(req);
    let kind = match token {
        Ok(token) if Secret::looks_like(token) => "secret",
        Ok(_) => "access_token",
        Err(_) => "none",
    };
    let mut caller = guarded(req, kind, async { authenticate_bearer(req, token?).await }).await?;
    let scope = request_scope(req)?;
    caller.permissions = caller.held_in(&scope);
    caller.scope = scope;
    // A project the caller holds nothing in (custom permissions are opaque to keyhouse,
    // so they count as nothing) answers as one that does not exist, and without a read,
    // whether it exists or not: neither its answer nor its time tells them apart.
    // Whether a project the caller holds something in exists is the store's to decide,
    // in the transaction of the call (or of the refusal) that acts there.
    if let Scope::Project(project) = &caller.scope
        && !caller.permissions.holds_any_known()
    {
        return Err(Error::not_found(Kind::Project, project.as_str()));
    }
    Ok(caller)
}

/// The store, as the server configured it.
pub(super) fn store_of(req: &HttpRequest) -> Result<&web::Data<Store>, Error> {
    req.app_data::<web::Data<Store>>()
        .ok_or_else(|| Error::internal("the store is not configured"))
}

/// The scope a request acts in: the project named by `{project}` in the routes under
/// `/api/v1/projects/{project}/`, else the root. The routes of projects themselves
/// (`/api/v1/projects/{project}`) are server-wide: they act at the root. A name that
/// breaks the naming rule names no project (404). Resolved once per request: the
/// `Caller` extractor and the handler's `Scope` read the same answer.
pub fn request_scope(req: &HttpRequest) -> Result<Scope, Error> {
    if let Some(ResolvedScope(scope)) = req.extensions().get::<ResolvedScope>() {
        return Ok(scope.clone());
    }
    let scope = resolve_scope(req)?;
    req.extensions_mut().insert(ResolvedScope(scope.clone()));
    Ok(scope)
}

/// The scope of a request, once resolved.
#[derive(Clone)]
struct ResolvedScope(Scope);

fn resolve_scope(req: &HttpRequest) -> Result<Scope, Error> {
    // `match_pattern` builds the route's pattern anew: asked only when it may matter.
    match req.match_info().get("project") {
        Some(raw)
            if req
                .match_pattern()
                .is_some_and(|pattern| pattern.starts_with(PROJECT_ROUTES)) =>
        {
            Ok(Scope::Project(Name::in_path(Kind::Project, raw)?))
        }
        _ => Ok(Scope::Root),
    }
}

/// The prefix of the routes that act inside a project.
pub const PROJECT_ROUTES: &str = "/api/v1/projects/{project}/";

async fn authenticate_bearer(req: &HttpRequest, token: &str) -> Result<Caller, Error> {
    let store = store_of(req)?;
    let now = req
        .app_data::<web::Data<Clock>>()
        .ok_or_else(|| Error::internal("the clock is not configured"))?
        .now();
    if !Secret::looks_like(token) {
        let tokens = req
            .app_data::<web::Data<Tokens>>()
            .ok_or_else(|| Error::internal("the token service is not configured"))?;
        let claims = tokens.verify(token, now)?;
        let principal = store
            .authenticate_token_subject(claims.account_id()?, claims.issued_at(), now)
            .await?;
        let held = narrow(&principal.permissions, claims.scopes());
        return Ok(Caller {
            permissions: held.clone(),
            held,
            principal,
            authenticated_by: AuthenticatedBy::AccessToken { claims },
            now,
            request_id: RequestId::of(req),
            scope: Scope::Root,
            store: store.clone(),
        });
    }
    let secret = Secret::parse(token)?;
    let (principal, credential) = store.authenticate_secret(&secret.hash(), now).await?;
    if let Some(last_use) = req.app_data::<web::Data<LastUse>>() {
        last_use.record(credential.id, principal.account.id, now);
    }
    Caller::by_credential(req, principal, credential.id, now)
}

impl Caller {
    /// A caller that proved itself with one of its account's credentials.
    pub fn by_credential(
        req: &HttpRequest,
        principal: Arc<Principal>,
        credential_id: Uuid,
        now: Timestamp,
    ) -> Result<Caller, Error> {
        Ok(Caller {
            permissions: principal.permissions.clone(),
            held: principal.permissions.clone(),
            principal,
            authenticated_by: AuthenticatedBy::Secret { credential_id },
            now,
            request_id: RequestId::of(req),
            scope: Scope::Root,
            store: store_of(req)?.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    /// The scope is resolved once: a second ask reads the first answer, whatever the
    /// path would say now.
    #[test]
    fn a_request_resolves_its_scope_once() {
        let req = TestRequest::default().to_http_request();
        assert!(matches!(request_scope(&req), Ok(Scope::Root)));
        let project = Scope::Project(Name::in_path(Kind::Project, "payments").unwrap());
        req.extensions_mut().insert(ResolvedScope(project.clone()));
        assert_eq!(request_scope(&req).unwrap(), project);
    }
}
