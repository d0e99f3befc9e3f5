//! Project routes: the scopes teams get for their own accounts, groups and roles.
//! Server-wide: `projects:read` and `projects:write` are meaningful at the root.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::json_object::JsonObject;
use super::params::{IfMatchHeader, PageParams, QueryParam};
use super::respond;
use super::views::PageView;
use super::wire_time;
use crate::auth::{Caller, lacking};
use crate::config::Config;
use crate::domain::{
    self, CredentialPolicy, Kind, LrnKind, Name, NewProject, ProjectDetails, ProjectPatch, Scope,
    lrn, permissions,
};
use crate::error::{Error, ErrorBody};
use crate::store::Store;

/// A project's limits on its accounts' credentials; a field left out (null) takes the
/// server's setting. Each is at most the server's.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialPolicyView {
    #[schema(minimum = 1, example = 3)]
    pub max_active: Option<u32>,
    #[schema(minimum = 1, example = 90)]
    pub default_lifetime_days: Option<u32>,
    #[schema(minimum = 1, example = 180)]
    pub max_lifetime_days: Option<u32>,
}

impl CredentialPolicyView {
    fn checked(self, config: &Config) -> Result<CredentialPolicy, Error> {
        CredentialPolicy {
            max_active: self.max_active,
            default_lifetime_days: self.default_lifetime_days,
            max_lifetime_days: self.max_lifetime_days,
        }
        .check(&config.credentials.limits)
    }
}

/// A project.
#[derive(Serialize, ToSchema)]
pub struct ProjectView {
    pub id: Uuid,
    #[schema(example = "payments")]
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub metadata: BTreeMap<String, String>,
    pub credential_policy: CredentialPolicyView,
    /// Service accounts in the project, exact at every moment.
    pub sa_count: u64,
    pub group_count: u64,
    /// Custom roles of the project (built-in and root roles are not counted).
    pub role_count: u64,
    #[schema(example = "lrn:keyhouse::project/payments")]
    pub lrn: String,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub etag: String,
}

impl From<&ProjectDetails> for ProjectView {
    fn from(details: &ProjectDetails) -> Self {
        let p = &details.project;
        let policy = p.credential_policy;
        ProjectView {
            id: p.id,
            name: p.name.to_string(),
            display_name: p.display_name.clone(),
            description: p.description.clone(),
            metadata: p.metadata.clone(),
            credential_policy: CredentialPolicyView {
                max_active: policy.max_active,
                default_lifetime_days: policy.default_lifetime_days,
                max_lifetime_days: policy.max_lifetime_days,
            },
            sa_count: details.counts.service_accounts,
            group_count: details.counts.groups,
            role_count: details.counts.roles,
            lrn: lrn(None, LrnKind::Project, p.name.as_str()),
            created_at: p.created_at,
            updated_at: p.updated_at,
            etag: details.etag.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "payments", "credential_policy": {"max_lifetime_days": 180, "default_lifetime_days": 90}}))]
pub struct CreateProject {
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
    pub credential_policy: Option<CredentialPolicyView>,
}

/// Absent fields are left alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Payments team"}))]
pub struct UpdateProject {
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<String>,
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// The whole new policy.
    pub credential_policy: Option<CredentialPolicyView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteProjectParams {
    /// Delete everything in the project too, in the same transaction.
    pub force: Option<bool>,
}

/// The project `raw` names, if the caller may read it: `projects:read` at the root, or
/// in the project for an account of the project. A caller that may read nothing in it
/// gets 404, as for a missing project; one that may read something there but not
/// projects, 403 (404 if it is missing).
async fn readable_project(caller: &Caller, store: &Store, raw: &str) -> Result<Name, Error> {
    let name = Name::in_path(Kind::Project, raw)?;
    let scope = Scope::Project(name.clone());
    if !caller.reads_anything_in(&scope) {
        return Err(Error::not_found(Kind::Project, name.as_str()));
    }
    if !caller.holds_in(&scope, permissions::PROJECTS_READ) {
        let denied = lacking(permissions::PROJECTS_READ);
        return Err(store
            .refuse_change(&Scope::Root, Kind::Project, &name, denied)
            .await);
    }
    Ok(name)
}

/// For a change of the project `raw` names: as for reading it, then a caller that may
/// read but not change projects (at the root) gets 403 (404 if it is missing).
async fn changeable_project(caller: &Caller, store: &Store, raw: &str) -> Result<Name, Error> {
    let name = readable_project(caller, store, raw).await?;
    if caller.permissions.allows(permissions::PROJECTS_WRITE) {
        return Ok(name);
    }
    let denied = lacking(permissions::PROJECTS_WRITE);
    Err(store
        .refuse_change(&Scope::Root, Kind::Project, &name, denied)
        .await)
}

/// Create a project. Needs `projects:write`.
#[utoipa::path(tag = "projects", request_body = CreateProject,
    responses((status = 201, body = ProjectView),
        (status = 409, body = ErrorBody, description = "The name is taken.")))]
#[post("/projects")]
pub async fn create_project(
    store: web::Data<Store>,
    config: web::Data<Config>,
    caller: Caller,
    body: JsonObject<CreateProject>,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::PROJECTS_WRITE).await?;
    let body = body.into_inner();
    let new = NewProject {
        name: Name::parse("name", &body.name)?,
        display_name: body.display_name.map(domain::display_name).transpose()?,
        description: domain::description(body.description.unwrap_or_default())?,
        metadata: domain::metadata(body.metadata.unwrap_or_default())?,
        credential_policy: body
            .credential_policy
            .unwrap_or_default()
            .checked(&config)?,
    };
    let ctx = caller.write_context();
    let details = store.create_project(&ctx, new).await?;
    let view = ProjectView::from(&details);
    let location = format!("/api/v1/projects/{}", view.name);
    Ok(respond::created(location, Some(&details.etag), &view))
}

/// List, in name order, the projects the caller may read anything in: every project
/// for a root account that may read some kind of object (its permissions hold in
/// each), its own for a project's account. 403 for a caller that may read nothing
/// anywhere (custom permissions, or only permissions to write).
#[utoipa::path(tag = "projects", params(PageParams, QueryParam),
    responses((status = 200, body = PageView<ProjectView>)))]
#[get("/projects")]
pub async fn list_projects(
    store: web::Data<Store>,
    caller: Caller,
    paging: web::Query<PageParams>,
    query: web::Query<QueryParam>,
) -> Result<HttpResponse, Error> {
    if !caller.held.reads_something() {
        return Err(Error::PermissionDenied(
            "this needs a permission to read something in some scope".to_owned(),
        ));
    }
    let only = caller.principal.scope.project_name();
    let page = store
        .list_projects(only, query.lowered().as_deref(), &paging.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, |d| ProjectView::from(&d))))
}

/// Read a project, with how many accounts, groups and roles it holds. Needs
/// `projects:read` at the root, or in the project for an account of the project.
#[utoipa::path(tag = "projects",
    params(("project" = String, Path, description = "The project's name.")),
    responses((status = 200, body = ProjectView)))]
#[get("/projects/{project}")]
pub async fn get_project(
    store: web::Data<Store>,
    caller: Caller,
    project: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let details = store
        .get_project(&readable_project(&caller, &store, &project).await?)
        .await?;
    Ok(respond::with_etag(
        StatusCode::OK,
        &details.etag,
        &ProjectView::from(&details),
    ))
}

/// Change a project's display name, description, metadata or credential policy. Needs
/// `projects:write`.
#[utoipa::path(tag = "projects", request_body = UpdateProject,
    params(("project" = String, Path, description = "The project's name."),
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 200, body = ProjectView),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[patch("/projects/{project}")]
pub async fn update_project(
    store: web::Data<Store>,
    config: web::Data<Config>,
    caller: Caller,
    project: web::Path<String>,
    if_match: IfMatchHeader,
    body: JsonObject<UpdateProject>,
) -> Result<HttpResponse, Error> {
    let name = changeable_project(&caller, &store, &project).await?;
    let body = body.into_inner();
    let patch = ProjectPatch {
        display_name: body.display_name.map(domain::display_name).transpose()?,
        description: body.description.map(domain::description).transpose()?,
        metadata: body.metadata.map(domain::metadata).transpose()?,
        credential_policy: body
            .credential_policy
            .map(|p| p.checked(&config))
            .transpose()?,
    };
    let ctx = caller.write_context();
    let details = store
        .update_project(&ctx, &name, if_match.get(), patch)
        .await?;
    Ok(respond::with_etag(
        StatusCode::OK,
        &details.etag,
        &ProjectView::from(&details),
    ))
}

/// Delete a project. While it holds anything: 409, unless `?force=true`, which deletes
/// all of it in the same transaction (its accounts' credentials and tokens stop working
/// at once). Needs `projects:write`.
#[utoipa::path(tag = "projects",
    params(("project" = String, Path, description = "The project's name."), DeleteProjectParams,
        ("If-Match" = Option<String>, Header, description = "The etag last read; `*` for any.")),
    responses((status = 204, description = "Deleted."),
        (status = 409, body = ErrorBody, description = "The project holds something and the delete was not forced."),
        (status = 412, body = ErrorBody, description = "If-Match does not match.")))]
#[delete("/projects/{project}")]
pub async fn delete_project(
    store: web::Data<Store>,
    caller: Caller,
    project: web::Path<String>,
    if_match: IfMatchHeader,
    params: web::Query<DeleteProjectParams>,
) -> Result<HttpResponse, Error> {
    let name = changeable_project(&caller, &store, &project).await?;
    let force = params.force.unwrap_or(false);
    let ctx = caller.write_context();
    store
        .delete_project(&ctx, &name, if_match.get(), force)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_project)
        .service(list_projects)
        .service(get_project)
        .service(update_project)
        .service(delete_project);
}
