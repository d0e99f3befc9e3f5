//! Access tokens: ES256 JWTs signed with the server's keys (kept in the database and
//! cached here), verified against them, published as a JWKS, and denied once revoked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    AuthFailure, Kind, Name, Principal, Revocation, Scope, SigningKey, Target, Timestamp,
};
use crate::error::Error;
use crate::store::{Store, WriteContext};

/// Where tokens come from and whom they are for.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
    /// The `typ` of access tokens' header: [`ACCESS_TOKEN_TYPE`] or `JWT`
    /// (`oauth.access_token_typ`).
    pub token_typ: &'static str,
}

impl OAuthSettings {
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.issuer)
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The account's id.
    pub sub: String,
    /// The account's client id: its name, `name@project` in a project.
    pub client_id: String,
    /// The account's project; absent at the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// Space-separated permissions.
    pub scope: String,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
}

impl AccessClaims {
    /// The permissions of its scope. keyhouse writes it with single spaces.
    pub fn scopes(&self) -> impl Iterator<Item = &str> + Clone {
        self.scope.split(' ').filter(|p| !p.is_empty())
    }

    pub fn issued_at(&self) -> Timestamp {
        Timestamp::from_timestamp(self.iat, 0).unwrap_or_default()
    }

    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_timestamp(self.exp, 0).unwrap_or_default()
    }

    /// The scope of the token's account, as the token names it.
    pub fn owner_scope(&self) -> Result<Scope, Error> {
        match &self.project {
            None => Ok(Scope::Root),
            Some(project) => Name::parse("project", project)
                .map(Scope::Project)
                .map_err(|_| Error::Unauthenticated(AuthFailure::TokenInvalid)),
        }
    }

    pub fn account_id(&self) -> Result<Uuid, Error> {
        Uuid::parse_str(&self.sub).map_err(|_| Error::Unauthenticated(AuthFailure::TokenInvalid))
    }
}

/// A public key of the JWKS: the P-256 point as base64url `x` and `y`.
#[derive(Debug, Clone)]
pub struct PublishedKey {
    pub kid: String,
    pub x: String,
    pub y: String,
}

struct Verifier {
    published: PublishedKey,
    key: DecodingKey,
    drop_at: Option<Timestamp>,
}

struct KeySet {
    /// The header of the tokens the current key signs (`typ`, `alg`, its `kid`), as the
    /// first part of the JWS: the same for every token.
    current_header: String,
    /// The current key, parsed once: jsonwebtoken would parse the PKCS#8 document and
    /// derive the public point again for every signature.
    current: EcdsaKeyPair,
    verifiers: HashMap<String, Verifier>,
}

/// A new P-256 signing key from ring's generator.
pub fn generate_signing_key(now: Timestamp) -> Result<SigningKey, Error> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| Error::internal("could not generate a signing key"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| Error::internal("could not read a generated signing key"))?;
    Ok(SigningKey {
        kid: Uuid::new_v4().to_string(),
        pkcs8: pkcs8.as_ref().to_vec(),
        public: pair.public_key().as_ref().to_vec(),
        created_at: now,
        retired_at: None,
        drop_at: None,
    })
}

fn key_set(keys: Vec<SigningKey>, typ: &str) -> Result<KeySet, Error> {
    let current = keys
        .iter()
        .find(|k| k.is_current())
        .ok_or_else(|| Error::internal("no current signing key"))?;
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some(typ.to_owned());
    header.kid = Some(current.kid.clone());
    let (current_header, current) = (
        jws_part(&header)?,
        EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &current.pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|_| Error::internal("the current signing key is malformed"))?,
    );
    let mut verifiers = HashMap::new();
    for key in keys {
        if key.public.len() != 65 {
            return Err(Error::internal("a stored signing key is malformed"));
        }
        let x = URL_SAFE_NO_PAD.encode(&key.public[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&key.public[33..65]);
        let decoding = DecodingKey::from_ec_components(&x, &y).map_err(Error::internal)?;
        let published = PublishedKey {
            kid: key.kid.clone(),
            x,
            y,
        };
        verifiers.insert(
            key.kid,
            Verifier {
                published,
                key: decoding,
                drop_at: key.drop_at,
            },
        );
    }
    Ok(KeySet {
        current_header,
        current,
        verifiers,
    })
}

/// A part of a compact JWS (RFC 7515): `value`'s JSON, base64url-encoded.
fn jws_part(value: &impl Serialize) -> Result<String, Error> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).map_err(Error::internal)?))
}

/// A compact JWS: the encoded header and claims, and the ES256 signature of both, as
/// jsonwebtoken writes it, with a key parsed once.
fn sign(key: &EcdsaKeyPair, header: &str, claims: &AccessClaims) -> Result<String, Error> {
    let mut token = format!("{header}.{}", jws_part(claims)?);
    let signature = key
        .sign(&SystemRandom::new(), token.as_bytes())
        .map_err(|_| Error::internal("could not sign an access token"))?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
    Ok(token)
}

/// Tokens whose signature and claims were checked, kept before the cache starts over.
const VERIFIED_CAPACITY: usize = 4096;

/// The `typ` of an access token's header (RFC 9068), which lets a resource server tell
/// it from any other JWT. keyhouse's signing keys sign nothing else, so keyhouse itself
/// does not require it, and tokens issued before it was set keep working.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Issues, verifies and revokes access tokens.
pub struct Tokens {
    settings: OAuthSettings,
    keys: RwLock<KeySet>,
    /// Revoked `jti` → expiry, mirrored from the database.
    revoked: RwLock<HashMap<String, Timestamp>>,
    /// Tokens already verified: a signature is checked once per token, not once per
    /// request. Expiry and revocation are checked on every use.
    verified: Mutex<HashMap<TokenTail, Verified>>,
}

/// The key of a verified token: its last bytes, which end its signature, with its whole
/// text kept beside the claims and compared on every hit. Hashing a token's 700 bytes
/// at each request cost more than the rest of the lookup; the end of a signature this
/// server made is as good as random, and a token that only shares it is not a hit.
type TokenTail = [u8; 32];

/// A verified token's whole text and its claims.
type Verified = (Box<str>, Arc<AccessClaims>);

fn tail(token: &str) -> TokenTail {
    let bytes = token.as_bytes();
    let end = &bytes[bytes.len().saturating_sub(32)..];
    let mut tail = [0; 32];
    tail[..end.len()].copy_from_slice(end);
    tail
}

fn poisoned() -> Error {
    Error::internal("a token lock was poisoned")
}

impl Tokens {
    /// Loads the keys (creating the first one) and the revoked tokens: at start, on the
    /// thread that starts the server, which waits for them.
    pub fn load(store: &Store, settings: OAuthSettings, now: Timestamp) -> Result<Tokens, Error> {
        store.ensure_signing_key(|| generate_signing_key(now))?;
        Ok(Tokens {
            keys: RwLock::new(key_set(
                store.signing_keys(now).wait()?,
                settings.token_typ,
            )?),
            revoked: RwLock::new(store.revoked_tokens(now).wait()?.into_iter().collect()),
            verified: Mutex::new(HashMap::new()),
            settings,
        })
    }

    /// Reads the keys and the revoked tokens again: after another node changed them.
    pub fn reload(&self, store: &Store, now: Timestamp) -> Result<(), Error> {
        let keys = key_set(store.signing_keys(now).wait()?, self.settings.token_typ)?;
        let revoked = store.revoked_tokens(now).wait()?.into_iter().collect();
        *self.keys.write().map_err(|_| poisoned())? = keys;
        *self.revoked.write().map_err(|_| poisoned())? = revoked;
        Ok(())
    }

    pub fn settings(&self) -> &OAuthSettings {
        &self.settings
    }

    /// A signed token for `principal` carrying `scope`.
    pub fn issue(
        &self,
        principal: &Principal,
        scope: &[String],
        now: Timestamp,
    ) -> Result<(String, AccessClaims), Error> {
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: principal.account.id.to_string(),
            client_id: principal.client_id(),
            project: principal.scope.project().map(str::to_owned),
            aud: self.settings.audience.clone(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + self.settings.ttl).timestamp(),
            jti: Uuid::new_v4().to_string(),
            scope: scope.join(" "),
            roles: principal.roles.iter().map(ToString::to_string).collect(),
            groups: principal.groups.iter().map(ToString::to_string).collect(),
        };
        let keys = self.keys.read().map_err(|_| poisoned())?;
        let token = sign(&keys.current, &keys.current_header, &claims)?;
        Ok((token, claims))
    }

    /// The claims of a token this server signed, if it is valid now and not revoked.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Arc<AccessClaims>, Error> {
        let known = self.verified.lock().ok().and_then(|v| {
            v.get(&tail(token))
                .filter(|(text, _)| &**text == token)
                .map(|(_, claims)| claims.clone())
        });
        let claims = match known {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verify_signed(token, now)?);
                if let Ok(mut verified) = self.verified.lock() {
                    if verified.len() >= VERIFIED_CAPACITY {
                        verified.retain(|_, (_, c)| c.exp > now.timestamp());
                        if verified.len() >= VERIFIED_CAPACITY {
                            verified.clear();
                        }
                    }
                    verified.insert(tail(token), (token.into(), claims.clone()));
                }
                claims
            }
        };
        if claims.exp <= now.timestamp() {
            return Err(Error::Unauthenticated(AuthFailure::TokenExpired));
        }
        let revoked = self.revoked.read().map_err(|_| poisoned())?;
        if revoked.contains_key(&claims.jti) {
            return Err(Error::Unauthenticated(AuthFailure::TokenRevoked));
        }
        Ok(claims)
    }

    /// Checks the signature and claims of a token.
    fn verify_signed(&self, token: &str, now: Timestamp) -> Result<AccessClaims, Error> {
        let invalid = Error::Unauthenticated(AuthFailure::TokenInvalid);
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid)?;
        let kid = header
            .kid
            .ok_or(Error::Unauthenticated(AuthFailure::TokenInvalid))?;
        let keys = self.keys.read().map_err(|_| poisoned())?;
        let verifier = keys
            .verifiers
            .get(&kid)
            .filter(|v| v.drop_at.is_none_or(|at| at > now))
            .ok_or(Error::Unauthenticated(AuthFailure::TokenInvalid))?;
        let mut validation = Validation::new(Algorithm::ES256);
        // jsonwebtoken would check `exp` and `nbf` against the system's time; they are
        // checked below against `now`, the server's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &verifier.key, &validation)
            .map_err(|_| Error::Unauthenticated(AuthFailure::TokenInvalid))?
            .claims;
        if claims.nbf > now.timestamp() {
            return Err(Error::Unauthenticated(AuthFailure::TokenInvalid));
        }
        if claims.exp <= now.timestamp() {
            return Err(Error::Unauthenticated(AuthFailure::TokenExpired));
        }
        Ok(claims)
    }

    /// Denies a token until it expires, in the database and then here, unless the store
    /// decides it is not the caller's to revoke.
    pub async fn revoke(
        &self,
        store: &Store,
        ctx: &WriteContext,
        claims: &AccessClaims,
    ) -> Result<Revocation, Error> {
        let account = claims.account_id()?;
        let target = Target::new(Kind::ServiceAccount, account, claims.client_id.clone());
        let revocation = store
            .revoke_token(ctx, &claims.jti, claims.expires_at(), target)
            .await?;
        if revocation == Revocation::Revoked {
            let mut revoked = self.revoked.write().map_err(|_| poisoned())?;
            revoked.retain(|_, exp| *exp > ctx.now);
            revoked.insert(claims.jti.clone(), claims.expires_at());
        }
        Ok(revocation)
    }

    /// The public keys whose tokens may still be valid.
    pub fn published(&self, now: Timestamp) -> Result<Vec<PublishedKey>, Error> {
        let keys = self.keys.read().map_err(|_| poisoned())?;
        let mut published: Vec<PublishedKey> = keys
            .verifiers
            .values()
            .filter(|v| v.drop_at.is_none_or(|at| at > now))
            .map(|v| v.published.clone())
            .collect();
        published.sort_by(|a, b| a.kid.cmp(&b.kid));
        Ok(published)
    }

    /// Makes a new key current; the old one stays published as long as a token it
    /// signed can live.
    pub async fn rotate(&self, store: &Store, ctx: &WriteContext) -> Result<SigningKey, Error> {
        let key = store
            .rotate_signing_key(ctx, generate_signing_key(ctx.now)?, self.settings.ttl)
            .await?;
        let fresh = key_set(store.signing_keys(ctx.now).await?, self.settings.token_typ)?;
        *self.keys.write().map_err(|_| poisoned())? = fresh;
        Ok(key)
    }
}

#[cfg(test)]
mod tests;
