//! Request parts shared by resources: paging parameters, `If-Match`, the scope a route
//! acts in, and names in paths.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Caller, request_scope};
use crate::domain::{IfMatch, Listing, PageRequest, Scope};
use crate::error::Error;

/// `page`, `per_page` and `page_token` of every list. Taken as text so that a bad value
/// is a 400 naming its parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1 to 4294967295.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4294967295_u64, example = 1)]
    pub page: Option<String>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, example = 100)]
    pub per_page: Option<String>,
    /// `next_page_token` of the previous page; replaces `page`.
    pub page_token: Option<String>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, Error> {
        PageRequest::parse(
            self.page.as_deref(),
            self.per_page.as_deref(),
            self.page_token.as_deref(),
        )
    }
}

/// The `If-Match` header, if sent.
pub struct IfMatchHeader(pub Option<IfMatch>);

impl FromRequest for IfMatchHeader {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatchHeader(None)),
            Some(value) => value
                .to_str()
                .map(|v| IfMatchHeader(Some(IfMatch::parse(v))))
                .map_err(|_| Error::invalid("If-Match", "must be ASCII")),
        })
    }
}

impl IfMatchHeader {
    pub fn get(&self) -> Option<&IfMatch> {
        self.0.as_ref()
    }
}

/// `query`: a case-insensitive part of the name (or display name).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueryParam {
    pub query: Option<String>,
}

impl QueryParam {
    /// Lower-cased; an empty query filters nothing.
    pub fn lowered(&self) -> Option<String> {
        self.query
            .as_deref()
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase)
    }
}

/// `scope` of the lists of accounts and groups.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListingParam {
    /// `all`: every scope the caller may read, each item with its `project`, the root's
    /// first, then each project's by project name, each by name. Under a project's
    /// routes it lists that project, as without it. Empty is the same as absent.
    #[param(pattern = "^(all)?$", example = "all")]
    pub scope: Option<String>,
}

impl ListingParam {
    /// What a list under `scope` covers for `caller`, who must hold `permission` where
    /// it lists: with `scope=all` at the root, every scope for a root account and its
    /// own project for a project's account.
    pub async fn listing(
        &self,
        caller: &Caller,
        scope: &Scope,
        permission: &str,
    ) -> Result<Listing, Error> {
        let everywhere = match self.scope.as_deref() {
            None | Some("") => false,
            Some("all") => *scope == Scope::Root,
            Some(_) => return Err(Error::invalid("scope", "must be all")),
        };
        if !everywhere {
            caller.require(permission).await?;
            return Ok(Listing::In(scope.clone()));
        }
        caller.require_held(permission)?;
        Ok(match &caller.principal.scope {
            Scope::Root => Listing::Everywhere,
            project => Listing::In(project.clone()),
        })
    }
}

/// The scope a request acts in: the root, or the project its path names under
/// `/api/v1/projects/{project}/`, so that the same handlers serve both.
impl FromRequest for Scope {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request_scope(req))
    }
}

/// A path segment by its name in the route (`{name}`, `{id}`), as sent: the handler
/// checks it, so that a value breaking the naming rule is a 404 of its kind. Read by
/// name, so that the same handler serves a route with more segments before it.
fn segment(req: &HttpRequest, key: &str) -> Result<String, Error> {
    req.match_info()
        .get(key)
        .map(str::to_owned)
        .ok_or_else(|| Error::internal(format!("the route has no {{{key}}} segment")))
}

/// The object a route names in its path: the scope it acts in and its `{name}`, as
/// sent (it reads as that text).
pub struct Named {
    pub scope: Scope,
    raw: String,
}

impl std::ops::Deref for Named {
    type Target = str;

    fn deref(&self) -> &str {
        &self.raw
    }
}

impl FromRequest for Named {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            Scope::from_request(req, payload)
                .into_inner()
                .and_then(|scope| {
                    Ok(Named {
                        scope,
                        raw: segment(req, "name")?,
                    })
                }),
        )
    }
}

/// The `{id}` segment of a route, as sent.
pub struct IdSegment(pub String);

impl FromRequest for IdSegment {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(segment(req, "id").map(IdSegment))
    }
}
