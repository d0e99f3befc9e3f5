//! `GET /api/v1/me`: the caller's own account and what it may do.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::respond;
use super::views::ServiceAccountView;
use crate::auth::{AuthenticatedBy, Caller};
use crate::error::Error;
use crate::store::Store;

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticationKind {
    Secret,
    AccessToken,
}

#[derive(Serialize, ToSchema)]
pub struct AuthenticatedByView<'a> {
    pub kind: AuthenticationKind,
    pub credential_id: Option<Uuid>,
    pub token_id: Option<&'a str>,
}

#[derive(Serialize, ToSchema)]
pub struct MeView<'a> {
    #[serde(flatten)]
    pub account: ServiceAccountView<'a>,
    /// Effective permissions, sorted.
    #[schema(example = json!(["*"]))]
    pub permissions: Vec<&'a str>,
    pub authenticated_by: AuthenticatedByView<'a>,
}

/// The caller's own account, its effective permissions and how it authenticated. Any
/// authenticated caller may ask.
#[utoipa::path(tag = "me", responses((status = 200, body = MeView)))]
#[get("/me")]
pub async fn get_me(store: web::Data<Store>, caller: Caller) -> Result<HttpResponse, Error> {
    let details = store
        .get_service_account_by_id(caller.principal.account.id, caller.now)
        .await?;
    let authenticated_by = match &caller.authenticated_by {
        AuthenticatedBy::Secret { credential_id } => AuthenticatedByView {
            kind: AuthenticationKind::Secret,
            credential_id: Some(*credential_id),
            token_id: None,
        },
        AuthenticatedBy::AccessToken { claims } => AuthenticatedByView {
            kind: AuthenticationKind::AccessToken,
            credential_id: None,
            token_id: Some(&claims.jti),
        },
    };
    let view = MeView {
        account: ServiceAccountView::new(&details, caller.now),
        permissions: caller.held.iter().collect(),
        authenticated_by,
    };
    Ok(respond::with_etag(StatusCode::OK, &details.etag, &view))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me);
}
