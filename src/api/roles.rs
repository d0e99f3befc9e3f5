//! Role routes. No storage access beyond one `Store` call each.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::json_object::JsonObject;
use super::params::{IfMatchHeader, Named, PageParams, QueryParam};
use super::respond;
use super::views::PageView;
use super::wire_time;
use crate::auth::Caller;
use crate::domain::{
    self, Etag, Kind, Name, NewRole, Permission, Role, RolePatch, Scope, permissions,
};
use crate::error::{Error, ErrorBody};
use crate::store::Store;

/// A role.
#[derive(Serialize, ToSchema)]
pub struct RoleView {
    pub id: Uuid,
    #[schema(example = "deployer")]
    pub name: String,
    pub description: String,
    /// Sorted. keyhouse's own permissions, `*`, or any other string (opaque to keyhouse,
    /// carried into tokens).
    #[schema(example = json!(["service_accounts:read", "billing.invoices:read"]))]
    pub permissions: Vec<String>,
    /// Built-in roles cannot be changed or deleted.
    pub builtin: bool,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub etag: String,
    /// Its stable resource name.
    #[schema(example = "lrn:keyhouse::role/deployer")]
    pub lrn: String,
    /// The project the role lives in; null at the root (built-in roles included).
    #[schema(example = json!(null))]
    pub project: Option<String>,
}

impl RoleView {
    fn new(role: &Role, etag: &Etag, scope: &Scope) -> Self {
        RoleView {
            id: role.id,
            name: role.name.to_string(),
            description: role.description.clone(),
            permissions: role.permissions.iter().cloned().collect(),
            builtin: role.is_builtin,
            created_at: role.created_at,
            updated_at: role.updated_at,
            etag: etag.as_str().to_owned(),
            lrn: domain::lrn(scope.project(), domain::LrnKind::Role, role.name.as_str()),
            project: scope.project().map(str::to_owned),
        }
    }
}

fn parse_permissions(values: &[String]) -> Result<BTreeSet<String>, Error> {
    values
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Permission::parse(&format!("permissions[{i}]"), p).map(|p| p.as_str().to_owned())
        })
        .collect()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "deployer", "description": "Deploys services.",
    "permissions": ["service_accounts:read", "deploy:run"]}))]
pub struct CreateRole {
    #[schema(
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        min_length = 1,
        max_length = 63
    )]
    pub name: String,
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// Each 1 to 128 characters of `a-z 0-9 _ . : * -`; the caller must hold each one.
    pub permissions: Vec<String>,
}

/// Absent fields are left alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"permissions": ["service_accounts:read"]}))]
pub struct UpdateRole {
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// The whole new list; the caller must hold each one.
    pub permissions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteRoleParams {
    /// Unbind the role from every account and group, in the same transaction.
    pub force: Option<bool>,
}

/// Create a custom role. Needs `roles:write`, and every permission it grants.
#[utoipa::path(tag = "roles", request_body = CreateRole,
    responses((status = 201, body = RoleView),
        (status = 409, body = ErrorBody, description = "The name is taken.")))]
#[post("/roles")]
pub async fn create_role(
    store: web::Data<Store>,
    caller: Caller,
    scope: Scope,
    body: JsonObject<CreateRole>,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::ROLES_WRITE).await?;
    let body = body.into_inner();
    let new = NewRole {
        name: Name::parse("name", &body.name)?,
        description: domain::description(body.description.unwrap_or_default())?,
        permissions: parse_permissions(&body.permissions)?,
    };
    let ctx = caller.write_context();
    let (role, etag) = store.create_role(&ctx, &scope, new).await?;
    let view = RoleView::new(&role, &etag, &scope);
    let location = respond::api_path(&scope, &format!("roles/{}", view.name));
    Ok(respond::created(location, Some(&etag), &view))
}

/// List roles, built-in ones included, in name order. Needs `roles:read`.
#[utoipa::path(tag = "roles", params(PageParams, QueryParam),
    responses((status = 200, body = PageView<RoleView>)))]
#[get("/roles")]
pub async fn list_roles(
    store: web::Data<Store>,
    caller: Caller,
    scope: Scope,
    paging: web::Query<PageParams>,
    query: web::Query<QueryParam>,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::ROLES_READ).await?;
    let page = store
        .list_roles(&scope, query.lowered().as_deref(), &paging.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, |(r, e)| {
        RoleView::new(&r, &e, &scope)
    })))
}

/// Read a role. Needs `roles:read`.
#[utoipa::path(tag = "roles", params(("name" = String, Path, description = "The role's name.")),
    responses((status = 200, body = RoleView)))]
#[get("/roles/{name}")]
pub async fn get_role(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
) -> Result<HttpResponse, Error> {
    caller.require_read(Kind::Role, &path).await?;
    let (role, etag) = store
        .get_role(&path.scope, &caller.name_in_path(Kind::Role, &path).await?)
        .await?;
    Ok(respond::with_etag(
        StatusCode::OK,
        &etag,
        &RoleView::new(&role, &etag, &path.scope),
    ))
}

/// Change a custom role. Needs `roles:write`, and every permission it grants. Built-in
/// roles answer 409. Honours `If-Match`.
#[utoipa::path(tag = "roles", request_body = UpdateRole,
    params(("name" = String, Path, description = "The role's name."),
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 200, body = RoleView),
        (status = 409, body = ErrorBody, description = "The role is built in."),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[patch("/roles/{name}")]
pub async fn update_role(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
    body: JsonObject<UpdateRole>,
) -> Result<HttpResponse, Error> {
    let name = caller
        .require_change(&store, Kind::Role, &path.scope, &path)
        .await?;
    let body = body.into_inner();
    let patch = RolePatch {
        description: body.description.map(domain::description).transpose()?,
        permissions: body
            .permissions
            .map(|p| parse_permissions(&p))
            .transpose()?,
    };
    let ctx = caller.write_context();
    let (role, etag) = store
        .update_role(&ctx, &path.scope, &name, if_match.get(), patch)
        .await?;
    Ok(respond::with_etag(
        StatusCode::OK,
        &etag,
        &RoleView::new(&role, &etag, &path.scope),
    ))
}

/// Delete a custom role. While it is bound: 409, unless `?force=true`, which unbinds it
/// in the same transaction. Built-in roles answer 409. Needs `roles:write`.
#[utoipa::path(tag = "roles",
    params(("name" = String, Path, description = "The role's name."), DeleteRoleParams,
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 204, description = "Deleted."),
        (status = 409, body = ErrorBody, description = "The role is built in, or bound and not forced."),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[delete("/roles/{name}")]
pub async fn delete_role(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
    params: web::Query<DeleteRoleParams>,
) -> Result<HttpResponse, Error> {
    let name = caller
        .require_change(&store, Kind::Role, &path.scope, &path)
        .await?;
    let force = params.force.unwrap_or(false);
    let ctx = caller.write_context();
    store
        .delete_role(&ctx, &path.scope, &name, if_match.get(), force)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_role)
        .service(list_roles)
        .service(get_role)
        .service(update_role)
        .service(delete_role);
}
