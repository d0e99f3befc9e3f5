//! The audit trail route.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::params::PageParams;
use super::views::{ActorView, PageView};
use super::wire_time;
use crate::auth::Caller;
use crate::domain::{AuditEvent, AuditFilter, Scope, permissions};
use crate::error::Error;
use crate::store::Store;

#[derive(Serialize, ToSchema)]
pub struct TargetView {
    /// `service_account`, `group`, `role` or `credential`.
    #[schema(example = "service_account")]
    pub kind: String,
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChangeView {
    /// The value before; null when the field was set by the change.
    pub from: Value,
    /// The value after; null when the field was removed by the change.
    pub to: Value,
}

/// One change, written in the same transaction as the change itself.
#[derive(Serialize, ToSchema)]
pub struct AuditEventView {
    pub seq: u64,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub at: DateTime<Utc>,
    pub actor: ActorView,
    #[schema(example = "service_account.create")]
    pub action: String,
    pub target: TargetView,
    /// The `X-Request-Id` of the request that made the change.
    pub request_id: String,
    /// The project the change was made in; null at the root.
    #[schema(example = json!(null))]
    pub project: Option<String>,
    /// Changed fields; never a secret.
    #[schema(example = json!({"display_name": {"from": "CI", "to": "CI bot"}}))]
    pub changes: BTreeMap<String, ChangeView>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(event: AuditEvent) -> Self {
        let parse = |text: Option<String>| {
            text.and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null)
        };
        AuditEventView {
            seq: event.seq,
            at: event.at,
            actor: (&event.actor).into(),
            action: event.action,
            target: TargetView {
                kind: event.target.kind.as_str().to_owned(),
                id: event.target.id,
                name: event.target.name,
            },
            request_id: event.request_id,
            project: event.project,
            changes: event
                .changes
                .into_iter()
                .map(|c| {
                    (
                        c.field,
                        ChangeView {
                            from: parse(c.from),
                            to: parse(c.to),
                        },
                    )
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilterParams {
    /// The actor's name or id.
    pub actor: Option<String>,
    /// The target's name or id.
    pub target: Option<String>,
    /// E.g. `service_account.create`.
    pub action: Option<String>,
    /// Events at or after this time (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub since: Option<String>,
    /// Events before this time (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub until: Option<String>,
    /// Events of changes made in this project (at the root, whose trail lists every
    /// scope's).
    pub project: Option<String>,
}

fn time(field: &str, value: Option<String>) -> Result<Option<DateTime<Utc>>, Error> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| Error::invalid(field, "must be an RFC 3339 timestamp"))
        })
        .transpose()
}

/// List audit events in ascending `seq`. Needs `audit:read`.
#[utoipa::path(tag = "audit", params(PageParams, AuditFilterParams),
    responses((status = 200, body = PageView<AuditEventView>)))]
#[get("/audit-events")]
pub async fn list_audit_events(
    store: web::Data<Store>,
    caller: Caller,
    scope: Scope,
    paging: web::Query<PageParams>,
    filter: web::Query<AuditFilterParams>,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::AUDIT_READ).await?;
    let request = paging.parse()?;
    let f = filter.into_inner();
    let filter = AuditFilter {
        actor: f.actor.filter(|s| !s.is_empty()),
        target: f.target.filter(|s| !s.is_empty()),
        action: f.action.filter(|s| !s.is_empty()),
        since: time("since", f.since)?,
        until: time("until", f.until)?,
        project: f.project.filter(|s| !s.is_empty()),
    };
    let page = store.list_audit_events(&scope, &filter, &request).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, AuditEventView::from)))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}
