//! The rules of access tokens: what a token carries, and each check `verify` makes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::SubsecRound;
use jsonwebtoken::EncodingKey;

use super::*;
use crate::domain::{ActorRef, NewAccount, PermissionSet};
use crate::store::Blocking;
use crate::store::Store;

const ISSUER: &str = "https://keyhouse.test";
const AUDIENCE: &str = "resource-api";

fn settings() -> OAuthSettings {
    OAuthSettings {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        ttl: Duration::hours(1),
        token_typ: ACCESS_TOKEN_TYPE,
    }
}

/// A store with its first signing key and the tokens it loads, at the real time:
/// jsonwebtoken checks `exp` and `nbf` against the system clock.
struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    tokens: Tokens,
    now: Timestamp,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("k.redb")).unwrap();
    let now = crate::clock::now();
    let tokens = Tokens::load(&store, settings(), now).unwrap();
    Setup {
        _dir: dir,
        store,
        tokens,
        now,
    }
}

fn name(text: &str) -> Name {
    Name::parse("name", text).unwrap()
}

fn principal(now: Timestamp) -> Principal {
    let new = NewAccount {
        name: name("ci"),
        display_name: None,
        description: String::new(),
        metadata: BTreeMap::new(),
        roles: BTreeSet::new(),
        groups: BTreeSet::new(),
        expires_at: None,
        external_id: None,
    };
    Principal {
        account: new.into_account(Uuid::new_v4(), ActorRef::system("test"), now),
        permissions: PermissionSet::default(),
        roles: BTreeSet::from([name("viewer")]),
        groups: vec![name("team")],
        scope: Scope::Project(name("payments")),
    }
}

/// Claims as keyhouse issues them, valid for an hour from `now`.
fn claims(now: Timestamp) -> AccessClaims {
    AccessClaims {
        iss: ISSUER.to_owned(),
        sub: Uuid::new_v4().to_string(),
        client_id: "ci".to_owned(),
        project: None,
        aud: AUDIENCE.to_owned(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: now.timestamp() + 3600,
        jti: Uuid::new_v4().to_string(),
        scope: "credentials:read".to_owned(),
        roles: Vec::new(),
        groups: Vec::new(),
    }
}

/// `claims` signed by the current key under its usual header.
fn signed(tokens: &Tokens, claims: &AccessClaims) -> String {
    let keys = tokens.keys.read().unwrap();
    sign(&keys.current, &keys.current_header, claims).unwrap()
}

/// `claims` signed by the current key under `header`.
fn signed_with_header(tokens: &Tokens, header: &Header, claims: &AccessClaims) -> String {
    let keys = tokens.keys.read().unwrap();
    sign(&keys.current, &jws_part(header).unwrap(), claims).unwrap()
}

fn current_kid(tokens: &Tokens) -> String {
    let header = tokens.keys.read().unwrap().current_header.clone();
    let token = format!("{header}.e30.AA");
    jsonwebtoken::decode_header(&token).unwrap().kid.unwrap()
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(
        matches!(
            result,
            Err(Error::Unauthenticated(AuthFailure::TokenInvalid))
        ),
        "{result:?}"
    );
}

fn assert_expired<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(
        matches!(
            result,
            Err(Error::Unauthenticated(AuthFailure::TokenExpired))
        ),
        "{result:?}"
    );
}

#[test]
fn an_issued_token_carries_the_account_and_verifies_as_issued() {
    let s = setup();
    let principal = principal(s.now);
    let scope = ["credentials:read".to_owned(), "roles:read".to_owned()];
    let (token, issued) = s.tokens.issue(&principal, &scope, s.now).unwrap();
    assert_eq!(*s.tokens.verify(&token, s.now).unwrap(), issued);
    assert_eq!(
        (issued.iss.as_str(), issued.aud.as_str()),
        (ISSUER, AUDIENCE)
    );
    assert_eq!(issued.sub, principal.account.id.to_string());
    assert_eq!(issued.client_id, "ci@payments");
    assert_eq!(issued.project.as_deref(), Some("payments"));
    assert_eq!(
        (issued.iat, issued.nbf),
        (s.now.timestamp(), s.now.timestamp())
    );
    assert_eq!(issued.exp, (s.now + Duration::hours(1)).timestamp());
    assert_eq!(issued.scope, "credentials:read roles:read");
    assert_eq!(
        (issued.roles, issued.groups),
        (vec!["viewer".to_owned()], vec!["team".to_owned()])
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some(ACCESS_TOKEN_TYPE));
    assert_eq!(header.kid, Some(current_kid(&s.tokens)));
}

/// A changed payload under the original signature is refused, also after the original
/// was verified and cached: a token sharing a cached token's signature is no hit.
#[test]
fn a_changed_token_is_invalid_even_beside_its_cached_original() {
    let s = setup();
    let original = claims(s.now);
    let token = signed(&s.tokens, &original);
    assert!(s.tokens.verify(&token, s.now).is_ok());
    let parts: Vec<&str> = token.split('.').collect();
    let widened = AccessClaims {
        scope: "*".to_owned(),
        ..original
    };
    let forged = format!("{}.{}.{}", parts[0], jws_part(&widened).unwrap(), parts[2]);
    assert_eq!(tail(&forged), tail(&token));
    assert_invalid(s.tokens.verify(&forged, s.now));
}

#[test]
fn a_signature_by_another_key_under_a_known_kid_is_invalid() {
    let s = setup();
    let other = generate_signing_key(s.now).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &other.pkcs8,
        &SystemRandom::new(),
    )
    .unwrap();
    let header = s.tokens.keys.read().unwrap().current_header.clone();
    let token = sign(&pair, &header, &claims(s.now)).unwrap();
    assert_invalid(s.tokens.verify(&token, s.now));
}

/// Only ES256: a token MACed with HS256, keyed with the public key a resource server
/// could fetch, or claiming no algorithm, is refused.
#[test]
fn only_es256_signatures_are_accepted() {
    let s = setup();
    let kid = current_kid(&s.tokens);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    let public = s.store.signing_keys(s.now).block().unwrap()[0]
        .public
        .clone();
    let hs256 =
        jsonwebtoken::encode(&header, &claims(s.now), &EncodingKey::from_secret(&public)).unwrap();
    assert_invalid(s.tokens.verify(&hs256, s.now));
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{kid}"}}"#)),
        jws_part(&claims(s.now)).unwrap()
    );
    assert_invalid(s.tokens.verify(&none, s.now));
}

#[test]
fn a_token_without_a_kid_or_with_an_unknown_one_is_invalid() {
    let s = setup();
    let mut header = Header::new(Algorithm::ES256);
    assert_invalid(s.tokens.verify(
        &signed_with_header(&s.tokens, &header, &claims(s.now)),
        s.now,
    ));
    header.kid = Some(Uuid::new_v4().to_string());
    assert_invalid(s.tokens.verify(
        &signed_with_header(&s.tokens, &header, &claims(s.now)),
        s.now,
    ));
    header.kid = Some(current_kid(&s.tokens));
    assert!(
        s.tokens
            .verify(
                &signed_with_header(&s.tokens, &header, &claims(s.now)),
                s.now
            )
            .is_ok()
    );
}

/// A retired key verifies its tokens until its drop time, then neither verifies nor is
/// published, even for a token that claims to live longer.
#[test]
fn a_retired_key_verifies_and_is_published_until_it_is_dropped() {
    let s = setup();
    let long_lived = AccessClaims {
        exp: (s.now + Duration::days(1)).timestamp(),
        ..claims(s.now)
    };
    let old_kid = current_kid(&s.tokens);
    let token = signed(&s.tokens, &long_lived);
    let ctx = WriteContext::system(s.now, "test");
    let new_key = generate_signing_key(s.now).unwrap();
    s.store
        .rotate_signing_key(&ctx, new_key.clone(), Duration::hours(1))
        .wait()
        .unwrap();
    let tokens = Tokens::load(&s.store, settings(), s.now).unwrap();
    assert_eq!(current_kid(&tokens), new_key.kid);
    let mut kids: Vec<String> = tokens
        .published(s.now)
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    let mut expected = vec![old_kid.clone(), new_key.kid.clone()];
    expected.sort();
    assert_eq!(kids, expected, "both, in kid order");
    let later = s.now + Duration::hours(2);
    kids = tokens
        .published(later)
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, vec![new_key.kid]);
    assert!(tokens.verify_signed(&token, s.now).is_ok());
    assert_invalid(tokens.verify_signed(&token, later));
}

#[test]
fn a_token_is_expired_from_its_exp_on_whether_cached_or_not() {
    let s = setup();
    let token = signed(&s.tokens, &claims(s.now));
    let exp = s.now + Duration::hours(1);
    assert!(s.tokens.verify(&token, exp - Duration::seconds(1)).is_ok());
    assert_expired(s.tokens.verify(&token, exp));
    let fresh = signed(&s.tokens, &claims(s.now));
    assert_expired(s.tokens.verify_signed(&fresh, exp));
}

/// No leeway: a token expired by the system clock is refused even when `now` is
/// earlier, and one not valid before a moment soon after now is refused too.
#[test]
fn exp_and_nbf_are_checked_without_leeway() {
    let s = setup();
    // Checked against the time given (the server's clock), to the second: a token is
    // expired at its `exp`, and not yet valid a second before its `nbf`.
    let ends_now = AccessClaims {
        exp: s.now.timestamp(),
        iat: s.now.timestamp() - 100,
        nbf: s.now.timestamp() - 100,
        ..claims(s.now)
    };
    let token = signed(&s.tokens, &ends_now);
    assert!(
        s.tokens
            .verify(&token, s.now - Duration::seconds(1))
            .is_ok()
    );
    assert_expired(s.tokens.verify(&token, s.now));
    let not_yet = AccessClaims {
        nbf: s.now.timestamp() + 30,
        ..claims(s.now)
    };
    let token = signed(&s.tokens, &not_yet);
    assert_invalid(s.tokens.verify(&token, s.now + Duration::seconds(29)));
    assert!(
        s.tokens
            .verify(&token, s.now + Duration::seconds(30))
            .is_ok()
    );
}

#[test]
fn another_issuer_or_audience_is_invalid() {
    let s = setup();
    let issuer = AccessClaims {
        iss: "https://elsewhere.test".to_owned(),
        ..claims(s.now)
    };
    assert_invalid(s.tokens.verify(&signed(&s.tokens, &issuer), s.now));
    let audience = AccessClaims {
        aud: "another-api".to_owned(),
        ..claims(s.now)
    };
    assert_invalid(s.tokens.verify(&signed(&s.tokens, &audience), s.now));
}

#[test]
fn malformed_tokens_are_invalid() {
    let s = setup();
    let header = s.tokens.keys.read().unwrap().current_header.clone();
    let no_claims = format!("{header}.{}.AA", URL_SAFE_NO_PAD.encode("{}"));
    for bad in ["", "abc", "a.b.c", "a.b", no_claims.as_str()] {
        assert_invalid(s.tokens.verify(bad, s.now));
    }
}

/// A revoked token is refused, from the database at load and in memory at once.
#[test]
fn a_revoked_token_is_refused() {
    let s = setup();
    let revoked = claims(s.now);
    let token = signed(&s.tokens, &revoked);
    let ctx = WriteContext::system(s.now, "test");
    let decided = actix_web::rt::System::new()
        .block_on(s.tokens.revoke(&s.store, &ctx, &revoked))
        .unwrap();
    assert_eq!(decided, Revocation::Revoked);
    let refused = s.tokens.verify(&token, s.now);
    assert!(
        matches!(
            refused,
            Err(Error::Unauthenticated(AuthFailure::TokenRevoked))
        ),
        "{refused:?}"
    );
    let reloaded = Tokens::load(&s.store, settings(), s.now).unwrap();
    let refused = reloaded.verify(&token, s.now);
    assert!(
        matches!(
            refused,
            Err(Error::Unauthenticated(AuthFailure::TokenRevoked))
        ),
        "{refused:?}"
    );
    assert!(
        reloaded
            .verify(&signed(&reloaded, &claims(s.now)), s.now)
            .is_ok()
    );
}

#[test]
fn claims_name_their_scope_account_and_times() {
    let now = crate::clock::now().trunc_subsecs(0);
    let mut c = claims(now);
    assert_eq!(c.owner_scope().unwrap(), Scope::Root);
    c.project = Some("payments".to_owned());
    assert_eq!(c.owner_scope().unwrap(), Scope::Project(name("payments")));
    c.project = Some("Not A Name".to_owned());
    assert_invalid(c.owner_scope());
    assert!(c.account_id().is_ok());
    c.sub = "not-a-uuid".to_owned();
    assert_invalid(c.account_id());
    c.scope = "a  b ".to_owned();
    assert_eq!(c.scopes().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(
        (c.issued_at(), c.expires_at()),
        (now, now + Duration::hours(1))
    );
}
