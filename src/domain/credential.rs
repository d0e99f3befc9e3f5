//! Credentials as stored: never a secret, only its SHA-256 and its first characters.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ActorRef, Timestamp, is_expired};
use crate::error::Error;

/// The algorithms of `public_key` credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256; signs ES256 assertions.
    EcP256,
    /// Ed25519; signs EdDSA assertions.
    Ed25519,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialKind {
    Secret {
        /// The first 8 characters of the secret, to tell secrets apart.
        prefix: String,
        /// SHA-256 of the whole secret.
        hash: [u8; 32],
    },
    PublicKey {
        algorithm: KeyAlgorithm,
        /// The uncompressed point (P-256) or the 32 key bytes (Ed25519).
        key: Vec<u8>,
        /// Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
        fingerprint: String,
    },
}

impl CredentialKind {
    pub fn is_secret(&self) -> bool {
        matches!(self, CredentialKind::Secret { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: CredentialKind,
    pub name: String,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: Timestamp,
    pub created_by: ActorRef,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub expires_at: Timestamp,
}

impl Credential {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        is_expired(Some(self.expires_at), now)
    }
}

/// A credential to store, its name and expiry resolved. A secret arrives as its hash.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub name: String,
    pub expires_at: Timestamp,
    pub kind: CredentialKind,
}

impl NewCredential {
    pub fn into_credential(
        self,
        id: Uuid,
        account_id: Uuid,
        created_by: ActorRef,
        now: Timestamp,
    ) -> Credential {
        Credential {
            id,
            account_id,
            kind: self.kind,
            name: self.name,
            created_at: now,
            created_by,
            expires_at: self.expires_at,
        }
    }
}

/// A credential with when it was last used (kept apart from the record, written in
/// batches).
#[derive(Debug, Clone)]
pub struct CredentialDetails {
    pub credential: Credential,
    pub last_used_at: Option<Timestamp>,
}

/// How long an account's other secrets keep working after a rotation: 0 to a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracePeriod(Duration);

impl GracePeriod {
    pub const MAX_SECONDS: i64 = 86_400;

    /// From `grace_period_seconds`; absent is none. Out of range is a 400 naming it.
    pub fn from_seconds(seconds: Option<i64>) -> Result<GracePeriod, Error> {
        match seconds.unwrap_or(0) {
            seconds @ 0..=GracePeriod::MAX_SECONDS => Ok(GracePeriod(Duration::seconds(seconds))),
            _ => Err(Error::invalid("grace_period_seconds", "must be 0 to 86400")),
        }
    }

    /// When the grace ends for a rotation at `now`.
    pub fn ends(self, now: Timestamp) -> Timestamp {
        now + self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grace_period_is_zero_to_a_day() {
        let now = chrono::DateTime::UNIX_EPOCH;
        assert_eq!(GracePeriod::from_seconds(None).unwrap().ends(now), now);
        let day = GracePeriod::from_seconds(Some(86_400)).unwrap();
        assert_eq!((day.ends(now) - now).num_seconds(), 86_400);
        for bad in [-1, 86_401, i64::MAX] {
            let err = GracePeriod::from_seconds(Some(bad)).unwrap_err();
            assert!(err.to_string().contains("grace_period_seconds"), "{err}");
        }
    }
}
