//! OAuth 2.0 client authentication at `/oauth2/*`: `client_secret_basic`,
//! `client_secret_post` (a `kh_` secret), or `private_key_jwt` (RFC 7523: an assertion
//! signed by one of the client's public keys, checked in `assertion`).

use std::sync::Arc;

use actix_web::HttpRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::assertion::{ClientAssertions, verify_assertion};
use super::attempts::guarded;
use super::authorization::authorization;
use super::jwt::OAuthSettings;
use super::secret::Secret;
use crate::domain::{Principal, Timestamp};
use crate::error::{Error, OAuthError};
use crate::store::Store;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The client-authentication fields of an OAuth form.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ClientAuthForm {
    /// The client's id (`client_secret_post`, or to confirm an assertion): the account's
    /// name at the root, `name@project` in a project.
    pub client_id: Option<String>,
    /// A `kh_` secret (`client_secret_post`).
    pub client_secret: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (`private_key_jwt`).
    pub client_assertion_type: Option<String>,
    /// A JWT signed by one of the client's `public_key` credentials.
    pub client_assertion: Option<String>,
}

/// How a client offered to authenticate.
enum Offered {
    Secret {
        client_id: String,
        secret: String,
    },
    Assertion {
        client_id: Option<String>,
        assertion: String,
    },
}

pub(super) fn invalid_client(description: &str) -> Error {
    Error::oauth(OAuthError::InvalidClient, description)
}

/// A refusal of the store to authenticate is `invalid_client`; a fault of the store
/// stays a fault (500), never an authentication outcome.
fn refused_as(description: &'static str) -> impl Fn(Error) -> Error {
    move |error| match error {
        Error::Unauthenticated(_) => invalid_client(description),
        fault => fault,
    }
}

/// Whether form-urlencoded text decodes to itself: it holds neither `+` nor `%`. One
/// pass without an early exit, which the compiler vectorizes (an introspection body
/// carries a 600-byte token).
pub fn decodes_to_itself(text: &[u8]) -> bool {
    !text
        .iter()
        .fold(false, |any, &b| any | (b == b'+') | (b == b'%'))
}

/// A form-urlencoded component (`+` is a space).
fn form_decode(text: &str) -> Option<String> {
    if decodes_to_itself(text.as_bytes()) {
        return Some(text.to_owned());
    }
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// `Authorization: Basic` credentials, form-urlencoded inside as RFC 6749 2.3.1 says.
fn basic(req: &HttpRequest) -> Result<Option<(String, String)>, Error> {
    let Some(value) = authorization(req) else {
        return Ok(None);
    };
    let value = value.ok_or_else(|| invalid_client("the Authorization header is malformed"))?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| invalid_client("the Basic credentials are malformed"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| invalid_client("the Basic credentials are malformed"))?;
    match (form_decode(id), form_decode(secret)) {
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        _ => Err(invalid_client("the Basic credentials are malformed")),
    }
}

/// The one method a request offers; several at once is `invalid_request`.
fn offered(req: &HttpRequest, form: &ClientAuthForm) -> Result<Option<Offered>, Error> {
    let mut found = Vec::new();
    if let Some((client_id, secret)) = basic(req)? {
        found.push(Offered::Secret { client_id, secret });
    }
    if let Some(secret) = &form.client_secret {
        let client_id = form.client_id.clone().ok_or_else(|| {
            Error::oauth(OAuthError::InvalidRequest, "client_secret needs client_id")
        })?;
        found.push(Offered::Secret {
            client_id,
            secret: secret.clone(),
        });
    }
    match (&form.client_assertion_type, &form.client_assertion) {
        (None, None) => {}
        (Some(kind), Some(assertion)) if kind == ASSERTION_TYPE => found.push(Offered::Assertion {
            client_id: form.client_id.clone(),
            assertion: assertion.clone(),
        }),
        _ => {
            return Err(Error::oauth(
                OAuthError::InvalidRequest,
                format!("client_assertion needs client_assertion_type {ASSERTION_TYPE}"),
            ));
        }
    }
    if found.len() > 1 {
        return Err(Error::oauth(
            OAuthError::InvalidRequest,
            "use exactly one client authentication method",
        ));
    }
    Ok(found.pop())
}

/// Authenticates the client of an OAuth request: the account and the credential it
/// used. `Ok(None)` when the request offers no client authentication at all.
pub async fn authenticate_client(
    req: &HttpRequest,
    form: &ClientAuthForm,
    store: &Store,
    settings: &OAuthSettings,
    assertions: &ClientAssertions,
    now: Timestamp,
) -> Result<Option<(Arc<Principal>, Uuid)>, Error> {
    match offered(req, form)? {
        None => Ok(None),
        Some(offer) => {
            let kind = match offer {
                Offered::Secret { .. } => "client_secret",
                Offered::Assertion { .. } => "client_assertion",
            };
            guarded(
                req,
                kind,
                authenticate_offer(offer, store, settings, assertions, now),
            )
            .await
            .map(Some)
        }
    }
}

async fn authenticate_offer(
    offer: Offered,
    store: &Store,
    settings: &OAuthSettings,
    assertions: &ClientAssertions,
    now: Timestamp,
) -> Result<(Arc<Principal>, Uuid), Error> {
    match offer {
        Offered::Secret { client_id, secret } => {
            let secret = Secret::parse(&secret)
                .map_err(|_| invalid_client("the client secret is malformed"))?;
            let (principal, credential) = store
                .authenticate_secret(&secret.hash(), now)
                .await
                .map_err(refused_as("the client could not be authenticated"))?;
            // A bare `client_id` names a root account, `name@project` one of a project:
            // a secret authenticates only the client id of its own account.
            if principal.client_id() != client_id {
                return Err(invalid_client("the client could not be authenticated"));
            }
            Ok((principal, credential.id))
        }
        Offered::Assertion {
            client_id,
            assertion,
        } => {
            verify_assertion(
                store,
                settings,
                assertions,
                client_id.as_deref(),
                &assertion,
                now,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests;
