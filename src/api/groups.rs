//! Group routes. No storage access beyond one `Store` call each.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::json_object::JsonObject;
use super::params::{IfMatchHeader, ListingParam, Named, PageParams, QueryParam};
use super::respond;
use super::views::{AccountSummaryView, PageView};
use super::wire_time;
use crate::auth::Caller;
use crate::domain::{self, GroupDetails, GroupPatch, Kind, Name, NewGroup, Scope, permissions};
use crate::error::{Error, ErrorBody};
use crate::store::Store;

/// A group.
#[derive(Serialize, ToSchema)]
pub struct GroupView {
    pub id: Uuid,
    #[schema(example = "deployers")]
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    /// Role names bound to the group, sorted; every member holds them.
    #[schema(example = json!(["operator"]))]
    pub roles: Vec<String>,
    /// Members, exact at every moment.
    pub sa_count: u64,
    pub role_count: u64,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub etag: String,
    /// Its stable resource name.
    #[schema(example = "lrn:keyhouse::group/deployers")]
    pub lrn: String,
    /// The project the group lives in; null at the root.
    #[schema(example = json!(null))]
    pub project: Option<String>,
    /// Always 0: keyhouse holds no human users (the seed wire format counts them).
    pub user_count: u64,
}

impl GroupView {
    fn new(details: &GroupDetails, scope: &Scope) -> Self {
        let g = &details.group;
        GroupView {
            id: g.id,
            name: g.name.to_string(),
            display_name: g.display_name.clone(),
            description: g.description.clone(),
            metadata: g.metadata.clone(),
            roles: g.roles.iter().map(ToString::to_string).collect(),
            sa_count: g.member_count,
            role_count: g.roles.len() as u64,
            created_at: g.created_at,
            updated_at: g.updated_at,
            etag: details.etag.as_str().to_owned(),
            lrn: domain::lrn(scope.project(), domain::LrnKind::Group, g.name.as_str()),
            project: scope.project().map(str::to_owned),
            user_count: 0,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "deployers", "roles": ["operator"]}))]
pub struct CreateGroup {
    /// 1 to 63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
    #[schema(
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        min_length = 1,
        max_length = 63
    )]
    pub name: String,
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<String>,
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// Role names to bind; the caller must hold each one.
    pub roles: Option<Vec<String>>,
}

/// Absent fields are left alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": ["operator", "viewer"]}))]
pub struct UpdateGroup {
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<String>,
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// The whole new list of roles; added ones need scope-down.
    pub roles: Option<Vec<String>>,
}

/// Create a group. Needs `groups:write`, and the caller must hold every role it binds.
#[utoipa::path(tag = "groups", request_body = CreateGroup,
    responses((status = 201, body = GroupView),
        (status = 404, body = ErrorBody, description = "A role named in the body does not exist."),
        (status = 409, body = ErrorBody, description = "The name is taken.")))]
#[post("/groups")]
pub async fn create_group(
    store: web::Data<Store>,
    caller: Caller,
    scope: Scope,
    body: JsonObject<CreateGroup>,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::GROUPS_WRITE).await?;
    let body = body.into_inner();
    let new = NewGroup {
        name: Name::parse("name", &body.name)?,
        display_name: body.display_name.map(domain::display_name).transpose()?,
        description: domain::description(body.description.unwrap_or_default())?,
        metadata: domain::metadata(body.metadata.unwrap_or_default())?,
        roles: Name::parse_set("roles", &body.roles.unwrap_or_default())?,
    };
    let ctx = caller.write_context();
    let details = store.create_group(&ctx, &scope, new).await?;
    let view = GroupView::new(&details, &scope);
    let location = respond::api_path(&scope, &format!("groups/{}", view.name));
    Ok(respond::created(location, Some(&details.etag), &view))
}

/// List groups in name order. Needs `groups:read`.
#[utoipa::path(tag = "groups", params(PageParams, QueryParam, ListingParam),
    responses((status = 200, body = PageView<GroupView>)))]
#[get("/groups")]
pub async fn list_groups(
    store: web::Data<Store>,
    caller: Caller,
    scope: Scope,
    paging: web::Query<PageParams>,
    query: web::Query<QueryParam>,
    listing: web::Query<ListingParam>,
) -> Result<HttpResponse, Error> {
    let listing = listing
        .listing(&caller, &scope, permissions::GROUPS_READ)
        .await?;
    let page = store
        .list_groups(&listing, query.lowered().as_deref(), &paging.parse()?)
        .await?;
    Ok(
        HttpResponse::Ok().json(PageView::from_page(page, |(scope, d)| {
            GroupView::new(&d, &scope)
        })),
    )
}

/// Read a group. Needs `groups:read`.
#[utoipa::path(tag = "groups", params(("name" = String, Path, description = "The group's name.")),
    responses((status = 200, body = GroupView)))]
#[get("/groups/{name}")]
pub async fn get_group(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
) -> Result<HttpResponse, Error> {
    caller.require_read(Kind::Group, &path).await?;
    let details = store
        .get_group(&path.scope, &caller.name_in_path(Kind::Group, &path).await?)
        .await?;
    Ok(respond::with_etag(
        StatusCode::OK,
        &details.etag,
        &GroupView::new(&details, &path.scope),
    ))
}

/// Change a group; absent fields are left alone. Needs `groups:write`; added roles need
/// scope-down. Honours `If-Match`.
#[utoipa::path(tag = "groups", request_body = UpdateGroup,
    params(("name" = String, Path, description = "The group's name."),
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 200, body = GroupView),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[patch("/groups/{name}")]
pub async fn update_group(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
    body: JsonObject<UpdateGroup>,
) -> Result<HttpResponse, Error> {
    let name = caller
        .require_change(&store, Kind::Group, &path.scope, &path)
        .await?;
    let body = body.into_inner();
    let patch = GroupPatch {
        display_name: body.display_name.map(domain::display_name).transpose()?,
        description: body.description.map(domain::description).transpose()?,
        metadata: body.metadata.map(domain::metadata).transpose()?,
        roles: body
            .roles
            .map(|r| Name::parse_set("roles", &r))
            .transpose()?,
    };
    let ctx = caller.write_context();
    let details = store
        .update_group(&ctx, &path.scope, &name, if_match.get(), patch)
        .await?;
    Ok(respond::with_etag(
        StatusCode::OK,
        &details.etag,
        &GroupView::new(&details, &path.scope),
    ))
}

/// Delete a group and all its memberships, at once. Needs `groups:write`. Honours
/// `If-Match`.
#[utoipa::path(tag = "groups",
    params(("name" = String, Path, description = "The group's name."),
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 204, description = "Deleted."),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[delete("/groups/{name}")]
pub async fn delete_group(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, Error> {
    let name = caller
        .require_change(&store, Kind::Group, &path.scope, &path)
        .await?;
    let ctx = caller.write_context();
    store
        .delete_group(&ctx, &path.scope, &name, if_match.get())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a group's members in name order. Needs `groups:read` and
/// `service_accounts:read`.
#[utoipa::path(tag = "groups", params(("name" = String, Path, description = "The group's name."), PageParams),
    responses((status = 200, body = PageView<AccountSummaryView>)))]
#[get("/groups/{name}/members")]
pub async fn list_group_members(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    paging: web::Query<PageParams>,
) -> Result<HttpResponse, Error> {
    caller.require_read(Kind::Group, &path).await?;
    caller.require(permissions::SERVICE_ACCOUNTS_READ).await?;
    let page = store
        .list_group_members(
            &path.scope,
            &caller.name_in_path(Kind::Group, &path).await?,
            &paging.parse()?,
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, |a| {
        AccountSummaryView::new(&a, caller.now)
    })))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_group)
        .service(list_groups)
        .service(get_group)
        .service(update_group)
        .service(delete_group)
        .service(list_group_members);
}
