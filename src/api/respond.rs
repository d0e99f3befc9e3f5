//! Responses that carry one object: its etag in the `ETag` header, quoted.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde::Serialize;

use crate::domain::Etag;

pub fn with_etag<T: Serialize>(status: StatusCode, etag: &Etag, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, format!("\"{}\"", etag.as_str())))
        .json(body)
}
