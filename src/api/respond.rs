//! Responses that carry one object: its etag in the `ETag` header, quoted, and for a
//! create its path in `Location`; an answer that shows a secret is kept by no cache.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde::Serialize;

use crate::domain::{Etag, Scope};
use crate::error::Error;

/// Room for an account's JSON (about 800 bytes) before the buffer must grow: actix's
/// `json` starts from an empty `String` and grows it some eight times for that.
const BODY_CAPACITY: usize = 1024;

/// The path of an object of `/api/v1` in `scope`: `rest` (such as `groups/ops`) under
/// `/api/v1` at the root, under `/api/v1/projects/{project}` in a project.
pub fn api_path(scope: &Scope, rest: &str) -> String {
    match scope {
        Scope::Root => format!("/api/v1/{rest}"),
        Scope::Project(project) => format!("/api/v1/projects/{project}/{rest}"),
    }
}

pub fn with_etag<T: Serialize>(status: StatusCode, etag: &Etag, body: &T) -> HttpResponse {
    json(
        HttpResponse::build(status).insert_header((header::ETAG, quoted(etag))),
        body,
    )
}

/// `201 Created` for the object at `location` (a path such as `/api/v1/groups/ops`), with
/// its etag if it has one.
pub fn created<T: Serialize>(location: String, etag: Option<&Etag>, body: &T) -> HttpResponse {
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, location));
    if let Some(etag) = etag {
        response.insert_header((header::ETAG, quoted(etag)));
    }
    json(&mut response, body)
}

/// `body` as the response's JSON; a value that cannot be serialized is the contract's
/// internal error.
pub fn json<T: Serialize>(response: &mut HttpResponseBuilder, body: &T) -> HttpResponse {
    let mut buf = Vec::with_capacity(BODY_CAPACITY);
    match serde_json::to_writer(&mut buf, body) {
        Ok(()) => response
            .insert_header(header::ContentType::json())
            .body(buf),
        Err(err) => Error::internal(err).error_response(),
    }
}

/// `response` with `Cache-Control: no-store` and `Pragma: no-cache`, as RFC 6749 5.1 asks
/// of a token response: no cache, shared or the client's own, may keep it. For every
/// answer that shows a new secret (shown that once), and for the OAuth endpoints.
pub fn no_store(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    response
}

/// `no_store` for an answer that shows a new secret only sometimes, when it does: a new
/// account without a first secret, or a new public key, is an ordinary answer.
pub fn no_store_if(shows_secret: bool, response: HttpResponse) -> HttpResponse {
    if shows_secret {
        no_store(response)
    } else {
        response
    }
}

fn quoted(etag: &Etag) -> String {
    ["\"", etag.as_str(), "\""].concat()
}
