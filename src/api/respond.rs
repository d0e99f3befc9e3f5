//! Responses that carry one object: its etag in the `ETag` header, quoted, and for a
//! create its path in `Location`.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde::Serialize;

use crate::domain::{Etag, Scope};

/// The path of an object of `/api/v1` in `scope`: `rest` (such as `groups/ops`) under
/// `/api/v1` at the root, under `/api/v1/projects/{project}` in a project.
pub fn api_path(scope: &Scope, rest: &str) -> String {
    match scope {
        Scope::Root => format!("/api/v1/{rest}"),
        Scope::Project(project) => format!("/api/v1/projects/{project}/{rest}"),
    }
}

pub fn with_etag<T: Serialize>(status: StatusCode, etag: &Etag, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, quoted(etag)))
        .json(body)
}

/// `201 Created` for the object at `location` (a path such as `/api/v1/groups/ops`), with
/// its etag if it has one.
pub fn created<T: Serialize>(location: String, etag: Option<&Etag>, body: &T) -> HttpResponse {
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, location));
    if let Some(etag) = etag {
        response.insert_header((header::ETAG, quoted(etag)));
    }
    response.json(body)
}

fn quoted(etag: &Etag) -> String {
    format!("\"{}\"", etag.as_str())
}
