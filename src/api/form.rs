//! The OAuth endpoints' bodies: `application/x-www-form-urlencoded`, in UTF-8 unless
//! the media type names another charset, as actix's `web::Form` reads them.
//!
//! `serde_urlencoded`, what `web::Form` runs, decodes each name and value three times
//! over a byte at a time (replacing `+`, percent-decoding, checking UTF-8), some
//! twenty thousand instructions for an introspection request, whose token alone is 600
//! bytes: a fifth of that request. A body holding neither `+` nor `%` decodes to
//! itself, so a UTF-8 one is read here as borrowed pairs; any other body goes to
//! `serde_urlencoded` as before. A unit test holds both readings equal.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, mime, web};
use encoding_rs::{Encoding, UTF_8};
use futures_core::future::LocalBoxFuture;
use serde::de::value::{Error as FieldError, MapDeserializer};
use serde::de::{DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use crate::auth::client::decodes_to_itself;
use crate::config::{Config, ServerConfig};
use crate::error::{Error, OAuthError};

/// A form body read as `T`, whose fields are text.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let encoding = form_encoding(req);
        let limit = req.app_data::<web::Data<Config>>().map_or_else(
            || ServerConfig::default().max_body_bytes,
            |config| config.server.max_body_bytes,
        );
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let Some(encoding) = encoding else {
                return Err(Error::UnsupportedMediaType(
                    "the body must be application/x-www-form-urlencoded".to_owned(),
                ));
            };
            let body = body.await.map_err(|err| match err.as_error() {
                Some(PayloadError::Overflow) => Error::PayloadTooLarge { limit },
                _ => malformed(err),
            })?;
            read(&body, encoding).map(Form)
        })
    }
}

/// The charset of the body if it is a form: UTF-8 when the media type names none; no
/// form when it names one that `encoding_rs` does not know (as in actix's `web::Form`).
/// The header of nearly every form is the bare type, compared as it is before parsing.
fn form_encoding(req: &HttpRequest) -> Option<&'static Encoding> {
    let form = mime::APPLICATION_WWW_FORM_URLENCODED.essence_str();
    let header = req.headers().get(header::CONTENT_TYPE)?;
    if header.as_bytes().eq_ignore_ascii_case(form.as_bytes()) {
        return Some(UTF_8);
    }
    if !req.content_type().eq_ignore_ascii_case(form) {
        return None;
    }
    req.encoding().ok()
}

fn malformed(err: impl std::fmt::Display) -> Error {
    Error::oauth(
        OAuthError::InvalidRequest,
        format!("the form is malformed: {err}"),
    )
}

fn read<T: DeserializeOwned>(body: &[u8], encoding: &'static Encoding) -> Result<T, Error> {
    if encoding != UTF_8 {
        let text = encoding
            .decode_without_bom_handling_and_without_replacement(body)
            .ok_or_else(|| malformed(format_args!("it is not in {}", encoding.name())))?;
        return serde_urlencoded::from_str(&text).map_err(malformed);
    }
    let read = match std::str::from_utf8(body) {
        Ok(text) if decodes_to_itself(body) => T::deserialize(MapDeserializer::new(pairs(text))),
        _ => serde_urlencoded::from_bytes(body),
    };
    read.map_err(malformed)
}

/// The name and value of each `&`-separated part, a part without `=` having an empty
/// value and empty parts skipped, as `form_urlencoded::parse` reads them.
fn pairs(text: &str) -> impl Iterator<Item = (&str, Text<'_>)> {
    text.split('&').filter(|part| !part.is_empty()).map(|part| {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        (name, Text(value))
    })
}

/// A field's value: a string, or `Some` of one, as `serde_urlencoded` gives it.
struct Text<'a>(&'a str);

impl<'de> Deserializer<'de> for Text<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_some(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, FieldError> for Text<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::oauth2::{TokenForm, TokenRequest};

    /// Both readings of `body`, as text to compare.
    fn both<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (String, String) {
        let text = |read: Result<T, String>| format!("{read:?}");
        let ours = read::<T>(body.as_bytes(), UTF_8).map_err(|err| err.to_string());
        let theirs =
            serde_urlencoded::from_str::<T>(body).map_err(|err| malformed(err).to_string());
        (text(ours), text(theirs))
    }

    #[test]
    fn reads_a_form_as_serde_urlencoded_does() {
        const PIECES: [&str; 16] = [
            "token",
            "grant_type",
            "scope",
            "client_id",
            "client_secret",
            "client_assertion",
            "client_assertion_type",
            "token_type_hint",
            "x",
            "=",
            "=",
            "&",
            "&",
            "a b",
            "é",
            "kh_Ab-9.",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut fast = 0;
        for _ in 0..20_000 {
            let mut body = String::new();
            // xorshift: a fixed sequence of pseudo-random choices.
            for _ in 0..(state % 12) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                body.push_str(PIECES[(state % 16) as usize]);
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let (ours, theirs) = both::<TokenForm>(&body);
            assert_eq!(ours, theirs, "{body:?}");
            let (ours, theirs) = both::<TokenRequest>(&body);
            assert_eq!(ours, theirs, "{body:?}");
            fast += usize::from(ours.starts_with("Ok"));
        }
        assert!(fast > 1_000, "few bodies were read: {fast}");
    }

    #[test]
    fn an_encoded_body_is_decoded() {
        let form: TokenForm = read(b"token=a%2Bb+c&client_id=x%40p", UTF_8).unwrap();
        assert_eq!(form.token.as_deref(), Some("a+b c"));
        assert_eq!(form.client.client_id.as_deref(), Some("x@p"));
    }

    #[test]
    fn a_form_is_utf_8_unless_it_names_a_known_charset() {
        let form = "application/x-www-form-urlencoded";
        let cases = [
            (form.to_owned(), Some("UTF-8")),
            (form.to_uppercase(), Some("UTF-8")),
            (format!("{form}; charset=UTF-8"), Some("UTF-8")),
            (format!("{form};charset=utf8"), Some("UTF-8")),
            (format!("{form}; charset=ISO-8859-1"), Some("windows-1252")),
            (format!("{form}; charset=no-such-charset"), None),
            ("application/json".to_owned(), None),
            ("text/plain".to_owned(), None),
        ];
        for (content_type, expected) in cases {
            let req = actix_web::test::TestRequest::default()
                .insert_header((header::CONTENT_TYPE, content_type.as_str()))
                .to_http_request();
            assert_eq!(
                form_encoding(&req).map(Encoding::name),
                expected,
                "{content_type}"
            );
        }
        let bare = actix_web::test::TestRequest::default().to_http_request();
        assert!(form_encoding(&bare).is_none());
    }

    #[test]
    fn a_body_in_another_charset_is_read_in_it() {
        let latin1 = encoding_rs::WINDOWS_1252;
        let form: TokenForm = read(b"token=caf\xe9&client_id=x", latin1).unwrap();
        assert_eq!(form.token.as_deref(), Some("café"));
    }

    #[test]
    fn a_repeated_field_is_malformed() {
        let err = read::<TokenForm>(b"token=a&token=b", UTF_8).err().unwrap();
        assert!(err.to_string().contains("duplicate field `token`"), "{err}");
    }
}
