//! `private_key_jwt` (RFC 7523): a client authenticates with an assertion signed by one
//! of its `public_key` credentials, each `jti` accepted once. Every assertion is checked
//! against the same number of keys, whoever its client is (see `keys_to_try`), so that
//! the time of an answer tells neither whether the client exists nor how many keys it
//! holds.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use uuid::Uuid;

use super::client::invalid_client;
use super::jwt::OAuthSettings;
use super::public_key::{PaddingKeys, verifies};
use crate::domain::{ClientId, Credential, CredentialKind, KeyAlgorithm, Principal, Timestamp};
use crate::error::Error;
use crate::store::Store;

/// The furthest ahead an assertion's `exp` may be.
const MAX_ASSERTION_SECONDS: i64 = 300;

/// The one answer to an assertion that names an unknown client, a client that may not
/// authenticate, or that none of the client's keys verifies: the same for each, so that
/// client names cannot be probed without a key.
const UNVERIFIED_ASSERTION: &str = "the client assertion is not signed by a key of an active client, or is expired or for another audience";

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

/// What the server keeps to check client assertions: the padding keys, and how many
/// keys each assertion is checked against. The `jti`s of accepted assertions are the
/// store's (`Store::first_use`), so that every node refuses a second use.
#[derive(Debug)]
pub struct ClientAssertions {
    padding: PaddingKeys,
    tries: usize,
}

/// The most keys an assertion is padded to. `credentials.max_active` may be set in the
/// thousands, and every assertion, good or bad, costs as many signature checks as it is
/// padded to: past this, only a client holding more keys than this answers slower,
/// which tells no more than that it holds that many.
const MOST_TRIES: u32 = 16;

impl ClientAssertions {
    /// `max_active` is `credentials.max_active`: no account holds more unexpired
    /// credentials, so none more public keys, unless the setting was lowered after they
    /// were made. Assertions are padded to it, or to `MOST_TRIES` if that is fewer.
    pub fn new(max_active: u32) -> Result<ClientAssertions, Error> {
        Ok(ClientAssertions {
            padding: PaddingKeys::generate()?,
            tries: max_active.min(MOST_TRIES) as usize,
        })
    }
}

/// A key an assertion is checked against: one of the client's, with its credential, or
/// a padding key, with none.
#[derive(Debug, PartialEq, Eq)]
struct Candidate<'a> {
    credential: Option<Uuid>,
    key: &'a [u8],
}

/// The keys an assertion signed with `algorithm` (and naming the key `kid`, if it does)
/// is checked against: the client's keys that fit, then `padding`, the padding key of
/// `algorithm`, until there are `tries`. An unknown client, or one that may not
/// authenticate now, has no keys here: it costs as much as any other. Only a client
/// with more fitting keys than `tries` costs more.
fn keys_to_try<'a>(
    keys: &'a [Credential],
    algorithm: KeyAlgorithm,
    kid: Option<&str>,
    padding: &'a [u8],
    tries: usize,
) -> Vec<Candidate<'a>> {
    let fits = |credential: &'a Credential| match &credential.kind {
        CredentialKind::PublicKey {
            algorithm: alg,
            key,
            ..
        } if *alg == algorithm && kid.is_none_or(|kid| *kid == credential.id.to_string()) => {
            Some(Candidate {
                credential: Some(credential.id),
                key,
            })
        }
        _ => None,
    };
    let mut candidates: Vec<Candidate<'a>> = keys.iter().filter_map(fits).collect();
    let padded = tries.max(candidates.len());
    candidates.resize_with(padded, || Candidate {
        credential: None,
        key: padding,
    });
    candidates
}

/// The client of the store's answer, and its public keys. A client that is unknown or
/// may not authenticate now has none, but is still checked, against the padding alone:
/// the same work, then the same answer. A fault of the store stays a fault.
fn client_and_keys(
    found: Result<(Principal, Vec<Credential>), Error>,
) -> Result<(Option<Principal>, Vec<Credential>), Error> {
    match found {
        Ok((principal, keys)) => Ok((Some(principal), keys)),
        Err(Error::Unauthenticated(_)) => Ok((None, Vec::new())),
        Err(fault) => Err(fault),
    }
}

/// The signed text (`header.payload`) and the signature of a compact JWS.
fn signed_parts(assertion: &str) -> Option<(&[u8], Vec<u8>)> {
    let (message, signature) = assertion.rsplit_once('.')?;
    if message.matches('.').count() != 1 {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    Some((message.as_bytes(), signature))
}

/// The claims of an assertion `key` verified, as the JWT library checks them: the
/// signature once more, then `exp`, `aud`, `iss` and `sub`.
fn checked_claims(
    assertion: &str,
    header_alg: Algorithm,
    algorithm: KeyAlgorithm,
    key: &[u8],
    settings: &OAuthSettings,
    issuer: &str,
) -> Result<AssertionClaims, Error> {
    let unverified = || invalid_client(UNVERIFIED_ASSERTION);
    let decoding = match algorithm {
        KeyAlgorithm::EcP256 => {
            let (x, y) = (key.get(1..33), key.get(33..65));
            let (x, y) = x.zip(y).ok_or_else(unverified)?;
            DecodingKey::from_ec_components(&URL_SAFE_NO_PAD.encode(x), &URL_SAFE_NO_PAD.encode(y))
        }
        KeyAlgorithm::Ed25519 => DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(key)),
    }
    .map_err(|_| unverified())?;
    let mut validation = Validation::new(header_alg);
    // `exp` is checked by the caller against the server's clock, not the system's.
    validation.validate_exp = false;
    validation.set_audience(&[settings.token_endpoint(), settings.issuer.clone()]);
    validation.set_issuer(&[issuer]);
    validation.sub = Some(issuer.to_owned());
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    jsonwebtoken::decode::<AssertionClaims>(assertion, &decoding, &validation)
        .map(|data| data.claims)
        .map_err(|_| unverified())
}

/// Authenticates the client of an assertion: its account and the credential whose key
/// signed it.
pub(super) async fn verify_assertion(
    store: &Store,
    settings: &OAuthSettings,
    assertions: &ClientAssertions,
    client_id: Option<&str>,
    assertion: &str,
    now: Timestamp,
) -> Result<(Arc<Principal>, Uuid), Error> {
    let malformed = || invalid_client("the client assertion is malformed");
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    let algorithm = match header.alg {
        Algorithm::ES256 => KeyAlgorithm::EcP256,
        Algorithm::EdDSA => KeyAlgorithm::Ed25519,
        _ => {
            return Err(invalid_client(
                "the client assertion must be signed ES256 or EdDSA",
            ));
        }
    };
    let (message, signature) = signed_parts(assertion).ok_or_else(malformed)?;
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
    let (principal, keys) = client_and_keys(store.client_public_keys(&client, now).await)?;
    let padding = assertions.padding.of(algorithm);
    let kid = header.kid.as_deref();
    let candidates = keys_to_try(&keys, algorithm, kid, padding, assertions.tries);
    // Every candidate is verified, none skipped after a match: the time must not tell
    // how many keys came before the one that verifies.
    let verified: Vec<bool> = candidates
        .iter()
        .map(|candidate| verifies(algorithm, candidate.key, message, &signature))
        .collect();
    let signer = candidates.iter().zip(verified).find_map(|(candidate, ok)| {
        match (ok, candidate.credential) {
            (true, Some(id)) => Some((id, candidate.key)),
            _ => None,
        }
    });
    let (Some(principal), Some((credential_id, key))) = (principal, signer) else {
        return Err(invalid_client(UNVERIFIED_ASSERTION));
    };
    let claims = checked_claims(assertion, header.alg, algorithm, key, settings, &issuer)?;
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
    if !store.first_use(&issuer, &jti, claims.exp, now).await? {
        return Err(invalid_client(
            "the client assertion's jti was already used",
        ));
    }
    Ok((Arc::new(principal), credential_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ActorRef, AuthFailure};

    /// `credentials.max_active` of these tests.
    const TRIES: usize = 5;
    const PADDING: &[u8] = b"padding";

    fn key(algorithm: KeyAlgorithm, byte: u8) -> Credential {
        Credential {
            id: Uuid::new_v4(),
            account_id: Uuid::nil(),
            kind: CredentialKind::PublicKey {
                algorithm,
                key: vec![byte; 3],
                fingerprint: String::new(),
            },
            name: format!("key-{byte}"),
            created_at: chrono::DateTime::UNIX_EPOCH,
            created_by: ActorRef::system("test"),
            expires_at: None,
        }
    }

    fn held(credential: &Credential) -> Candidate<'_> {
        let CredentialKind::PublicKey { key, .. } = &credential.kind else {
            panic!("not a public key");
        };
        Candidate {
            credential: Some(credential.id),
            key,
        }
    }

    /// `keys` (in their order) followed by padding up to `TRIES`.
    fn padded<'a>(keys: &[&'a Credential]) -> Vec<Candidate<'a>> {
        let mut expected: Vec<Candidate> = keys.iter().map(|k| held(k)).collect();
        expected.resize_with(TRIES, || Candidate {
            credential: None,
            key: PADDING,
        });
        expected
    }

    #[test]
    fn assertions_are_padded_to_max_active_but_never_past_the_most_tries() {
        let tries = |max_active| ClientAssertions::new(max_active).unwrap().tries;
        assert_eq!((tries(1), tries(5)), (1, 5));
        assert_eq!((tries(16), tries(17), tries(10_000)), (16, 16, 16));
    }

    #[test]
    fn an_unknown_or_refused_client_is_checked_against_the_padding_alone() {
        for refusal in [AuthFailure::Unknown, AuthFailure::AccountDisabled] {
            let (principal, keys) = client_and_keys(Err(Error::Unauthenticated(refusal))).unwrap();
            assert!(principal.is_none());
            for algorithm in [KeyAlgorithm::EcP256, KeyAlgorithm::Ed25519] {
                let tried = keys_to_try(&keys, algorithm, None, PADDING, TRIES);
                assert_eq!(tried, padded(&[]), "{refusal:?} {algorithm:?}");
            }
        }
        let fault = client_and_keys(Err(Error::internal("the disk failed")));
        assert!(matches!(fault, Err(Error::Internal(_))), "{fault:?}");
    }

    #[test]
    fn a_client_with_0_1_or_3_keys_is_checked_against_as_many_keys() {
        for count in [0, 1, 3] {
            let keys: Vec<Credential> = (0..count).map(|i| key(KeyAlgorithm::Ed25519, i)).collect();
            let tried = keys_to_try(&keys, KeyAlgorithm::Ed25519, None, PADDING, TRIES);
            assert_eq!(tried.len(), TRIES, "{count} keys");
            let mine: Vec<&Credential> = keys.iter().collect();
            assert_eq!(tried, padded(&mine), "{count} keys");
        }
    }

    #[test]
    fn keys_of_another_algorithm_or_kid_give_way_to_padding() {
        let keys = [
            key(KeyAlgorithm::EcP256, 1),
            key(KeyAlgorithm::Ed25519, 2),
            key(KeyAlgorithm::EcP256, 3),
        ];
        let ec = keys_to_try(&keys, KeyAlgorithm::EcP256, None, PADDING, TRIES);
        assert_eq!(ec, padded(&[&keys[0], &keys[2]]));
        let ed = keys_to_try(&keys, KeyAlgorithm::Ed25519, None, PADDING, TRIES);
        assert_eq!(ed, padded(&[&keys[1]]));
        let kid = keys[2].id.to_string();
        let named = keys_to_try(&keys, KeyAlgorithm::EcP256, Some(&kid), PADDING, TRIES);
        assert_eq!(named, padded(&[&keys[2]]));
        let other = keys_to_try(&keys, KeyAlgorithm::EcP256, Some("other"), PADDING, TRIES);
        assert_eq!(other, padded(&[]));
    }

    #[test]
    fn a_client_with_more_keys_than_tries_has_each_of_them_tried() {
        let keys: Vec<Credential> = (0..7).map(|i| key(KeyAlgorithm::EcP256, i)).collect();
        let tried = keys_to_try(&keys, KeyAlgorithm::EcP256, None, PADDING, TRIES);
        let expected: Vec<Candidate> = keys.iter().map(held).collect();
        assert_eq!(tried, expected);
    }
}
