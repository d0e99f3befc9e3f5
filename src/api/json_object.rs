//! A JSON body that must be an object. `web::Json` alone also takes an array for a
//! struct (serde's derived `Deserialize` reads a struct from the sequence of its fields,
//! in order), so `[null, null]` was a valid `PATCH`; the contract and the OpenAPI
//! document say object. Nor may any object in a body repeat a key ([`unique_keys`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;

mod unique_keys;

use unique_keys::UniqueKeys;

pub struct JsonObject<T>(T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Size, media type and syntax are checked as for any JSON body (`JsonConfig`).
        let object = web::Json::<UniqueKeys>::from_request(req, payload);
        Box::pin(async move { from_object(object.await?.into_inner()).map(JsonObject) })
    }
}

/// `T` from a body whose objects repeat no key: where two parsers may keep different
/// ones of two equal keys, a proxy or an audit tool in front would see another request.
fn from_object<T: DeserializeOwned>(body: UniqueKeys) -> Result<T, actix_web::Error> {
    if let Some(key) = body.duplicate {
        return Err(Error::invalid(key, "a key may appear only once in its object").into());
    }
    serde_json::from_value(Value::Object(body.object))
        .map_err(|e| Error::invalid("body", e.to_string()).into())
}

/// A JSON object body that may be left out: a request without one (`Content-Length: 0`,
/// or neither `Content-Length` nor `Transfer-Encoding`, which in HTTP/1.1, the only
/// protocol served, means no body) or with `null` reads as `T::default()` (the OpenAPI
/// document of an `Option<T>` body says object or null); any other body is checked
/// exactly as a [`JsonObject`].
pub struct OptionalJsonObject<T>(T);

impl<T> OptionalJsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJsonObject<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
        let headers = req.headers();
        let no_body = match headers.get(CONTENT_LENGTH) {
            Some(length) => length.as_bytes() == b"0",
            None => !headers.contains_key(TRANSFER_ENCODING),
        };
        if no_body {
            return Box::pin(async { Ok(OptionalJsonObject(T::default())) });
        }
        let object = web::Json::<Option<UniqueKeys>>::from_request(req, payload);
        Box::pin(async move {
            match object.await?.into_inner() {
                None => Ok(OptionalJsonObject(T::default())),
                Some(object) => from_object(object).map(OptionalJsonObject),
            }
        })
    }
}
