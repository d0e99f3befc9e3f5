//! OAuth 2.0 client authentication at `/oauth2/*`: `client_secret_basic`,
//! `client_secret_post` (a `kh_` secret), or `private_key_jwt` (RFC 7523: an assertion
//! signed by one of the client's public keys, each `jti` accepted once).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::HttpRequest;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::attempts::guarded;
use super::authorization::authorization;
use super::jwt::OAuthSettings;
use super::secret::Secret;
use crate::domain::{ClientId, CredentialKind, KeyAlgorithm, Principal, Timestamp};
use crate::error::{Error, OAuthError};
use crate::store::Store;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The furthest ahead an assertion's `exp` may be.
const MAX_ASSERTION_SECONDS: i64 = 300;

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

fn invalid_client(description: &str) -> Error {
    Error::oauth(OAuthError::InvalidClient, description)
}

/// The one answer to an assertion that names an unknown client, a client that may not
/// authenticate, or that none of the client's keys verifies: the same for each, so that
/// client names cannot be probed without a key.
const UNVERIFIED_ASSERTION: &str = "the client assertion is not signed by a key of an active client, or is expired or for another audience";

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

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    exp: i64,
    jti: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UnverifiedClaims {
    iss: Option<String>,
}

/// `jti`s of accepted assertions, per client, until they expire.
#[derive(Debug, Default)]
pub struct AssertionReplay {
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl AssertionReplay {
    /// Records the `jti`; false if the client already used it.
    fn first_use(&self, client_id: &str, jti: &str, exp: i64, now: Timestamp) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        seen.retain(|_, until| *until > now.timestamp());
        seen.insert((client_id.to_owned(), jti.to_owned()), exp)
            .is_none()
    }
}

/// Checks each of the client's keys of the assertion's algorithm against it.
fn verify_assertion(
    store: &Store,
    settings: &OAuthSettings,
    replay: &AssertionReplay,
    client_id: Option<&str>,
    assertion: &str,
    now: Timestamp,
) -> Result<(Arc<Principal>, Uuid), Error> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| invalid_client("the client assertion is malformed"))?;
    let algorithm = match header.alg {
        Algorithm::ES256 => KeyAlgorithm::EcP256,
        Algorithm::EdDSA => KeyAlgorithm::Ed25519,
        _ => {
            return Err(invalid_client(
                "the client assertion must be signed ES256 or EdDSA",
            ));
        }
    };
    let payload = assertion.split('.').nth(1).unwrap_or_default();
    let issuer = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<UnverifiedClaims>(&bytes).ok())
        .and_then(|claims| claims.iss)
        .ok_or_else(|| invalid_client("the client assertion has no iss"))?;
    if client_id.is_some_and(|id| id != issuer) {
        return Err(invalid_client(
            "client_id does not match the assertion's iss",
        ));
    }
    let client = ClientId::parse(&issuer).ok_or_else(|| invalid_client(UNVERIFIED_ASSERTION))?;
    let (principal, keys) = store
        .client_public_keys(&client, now)
        .map_err(refused_as(UNVERIFIED_ASSERTION))?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = 0;
    validation.set_audience(&[settings.token_endpoint(), settings.issuer.clone()]);
    validation.set_issuer(&[&issuer]);
    validation.sub = Some(issuer.clone());
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let mut accepted = None;
    for credential in &keys {
        let CredentialKind::PublicKey {
            algorithm: alg,
            key,
            ..
        } = &credential.kind
        else {
            continue;
        };
        if *alg != algorithm
            || header
                .kid
                .as_ref()
                .is_some_and(|kid| *kid != credential.id.to_string())
        {
            continue;
        }
        let decoding = match alg {
            KeyAlgorithm::EcP256 if key.len() == 65 => DecodingKey::from_ec_components(
                &URL_SAFE_NO_PAD.encode(&key[1..33]),
                &URL_SAFE_NO_PAD.encode(&key[33..65]),
            ),
            KeyAlgorithm::Ed25519 => DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(key)),
            KeyAlgorithm::EcP256 => continue,
        };
        let Ok(decoding) = decoding else { continue };
        if let Ok(data) = jsonwebtoken::decode::<AssertionClaims>(assertion, &decoding, &validation)
        {
            accepted = Some((credential.id, data.claims));
            break;
        }
    }
    let (credential_id, claims) = accepted.ok_or_else(|| invalid_client(UNVERIFIED_ASSERTION))?;
    if claims.iss != claims.sub || claims.exp <= now.timestamp() {
        return Err(invalid_client("the client assertion is not valid now"));
    }
    if claims.exp > now.timestamp() + MAX_ASSERTION_SECONDS {
        return Err(invalid_client(
            "the client assertion's exp must be at most 5 minutes ahead",
        ));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid_client("the client assertion has no jti"))?;
    if !replay.first_use(&issuer, &jti, claims.exp, now) {
        return Err(invalid_client(
            "the client assertion's jti was already used",
        ));
    }
    Ok((Arc::new(principal), credential_id))
}

/// Authenticates the client of an OAuth request: the account and the credential it
/// used. `Ok(None)` when the request offers no client authentication at all.
pub fn authenticate_client(
    req: &HttpRequest,
    form: &ClientAuthForm,
    store: &Store,
    settings: &OAuthSettings,
    replay: &AssertionReplay,
    now: Timestamp,
) -> Result<Option<(Arc<Principal>, Uuid)>, Error> {
    match offered(req, form)? {
        None => Ok(None),
        Some(offer) => {
            let kind = match offer {
                Offered::Secret { .. } => "client_secret",
                Offered::Assertion { .. } => "client_assertion",
            };
            guarded(req, kind, || {
                authenticate_offer(offer, store, settings, replay, now)
            })
            .map(Some)
        }
    }
}

fn authenticate_offer(
    offer: Offered,
    store: &Store,
    settings: &OAuthSettings,
    replay: &AssertionReplay,
    now: Timestamp,
) -> Result<(Arc<Principal>, Uuid), Error> {
    match offer {
        Offered::Secret { client_id, secret } => {
            let secret = Secret::parse(&secret)
                .map_err(|_| invalid_client("the client secret is malformed"))?;
            let (principal, credential) = store
                .authenticate_secret(&secret.hash(), now)
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
        } => verify_assertion(
            store,
            settings,
            replay,
            client_id.as_deref(),
            &assertion,
            now,
        ),
    }
}
