//! Membership routes, in both directions: an account's groups and a group's members.
//! Each change is one transaction: all of it holds or none.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::json_object::JsonObject;
use super::params::{IfMatchHeader, Named};
use super::respond;
use super::views::{AccountSummaryView, PageView, ServiceAccountView};
use crate::auth::Caller;
use crate::domain::{Kind, MembershipChange, PageRequest, permissions};
use crate::error::{Error, ErrorBody};
use crate::store::Store;

/// `set_groups` replaces the account's groups and cannot be combined with the others; a
/// group both added and removed is removed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"add_to_groups": ["deployers"], "remove_from_groups": ["legacy"]}))]
pub struct UpdateAccountGroups {
    pub add_to_groups: Option<Vec<String>>,
    pub remove_from_groups: Option<Vec<String>>,
    pub set_groups: Option<Vec<String>>,
}

/// `set` replaces the members and cannot be combined with the others; an account both
/// added and removed is removed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"add": ["ci-bot"], "remove": ["old-bot"]}))]
pub struct UpdateGroupMembers {
    pub add: Option<Vec<String>>,
    pub remove: Option<Vec<String>>,
    pub set: Option<Vec<String>>,
}

/// Change the groups of a service account in one transaction. Needs
/// `service_accounts:read` and `groups:write`; joining a group needs its roles
/// (scope-down). Honours `If-Match` (the account's etag).
#[utoipa::path(tag = "service-accounts", request_body = UpdateAccountGroups,
    params(("name" = String, Path, description = "The account's name."),
        ("If-Match" = Option<String>, Header, description = "The account's etag; `*` for any.")),
    responses((status = 200, body = ServiceAccountView),
        (status = 404, body = ErrorBody, description = "The account or a named group does not exist."),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[put("/service-accounts/{name}/groups")]
pub async fn update_service_account_groups(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
    body: JsonObject<UpdateAccountGroups>,
) -> Result<HttpResponse, Error> {
    caller.require_read(Kind::ServiceAccount, &path).await?;
    caller.require(permissions::GROUPS_WRITE).await?;
    let name = caller.name_in_path(Kind::ServiceAccount, &path).await?;
    let body = body.into_inner();
    let change = MembershipChange::parse(
        ("add_to_groups", "remove_from_groups", "set_groups"),
        body.add_to_groups,
        body.remove_from_groups,
        body.set_groups,
    )?;
    let ctx = caller.write_context();
    let details = store
        .update_service_account_groups(&ctx, &path.scope, &name, if_match.get(), &change)
        .await?;
    let view = ServiceAccountView::new(&details, caller.now);
    Ok(respond::with_etag(StatusCode::OK, &details.etag, &view))
}

/// Change the members of a group in one transaction; answers the resulting members
/// (up to 1000, then `next_page_token`). Needs `groups:write` and
/// `service_accounts:read`; adding members needs the group's roles (scope-down).
/// Honours `If-Match` (the group's etag).
#[utoipa::path(tag = "groups", request_body = UpdateGroupMembers,
    params(("name" = String, Path, description = "The group's name."),
        ("If-Match" = Option<String>, Header, description = "The group's etag; `*` for any.")),
    responses((status = 200, body = PageView<AccountSummaryView>),
        (status = 404, body = ErrorBody, description = "The group or a named account does not exist."),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[put("/groups/{name}/members")]
pub async fn update_group_members(
    store: web::Data<Store>,
    caller: Caller,
    path: Named,
    if_match: IfMatchHeader,
    body: JsonObject<UpdateGroupMembers>,
) -> Result<HttpResponse, Error> {
    let name = caller
        .require_change(&store, Kind::Group, &path.scope, &path)
        .await?;
    caller.require(permissions::SERVICE_ACCOUNTS_READ).await?;
    let body = body.into_inner();
    let change =
        MembershipChange::parse(("add", "remove", "set"), body.add, body.remove, body.set)?;
    let ctx = caller.write_context();
    let first_page = PageRequest::parse(None, Some("1000"), None)?;
    let (group, members) = store
        .update_group_members(
            &ctx,
            &path.scope,
            &name,
            if_match.get(),
            &change,
            &first_page,
        )
        .await?;
    let view = PageView::from_page(members, |a| AccountSummaryView::new(&a, caller.now));
    Ok(respond::with_etag(StatusCode::OK, &group.etag, &view))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(update_service_account_groups)
        .service(update_group_members);
}
