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
    /// `None` never expires (lifetimes of 0 days).
    #[serde(with = "expiry_seconds")]
    pub expires_at: Option<Timestamp>,
}

impl Credential {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        is_expired(self.expires_at, now)
    }
}

/// A credential's expiry as unix seconds, [`NEVER_EXPIRES`] for none. The record and the
/// account's credential index both store it so.
pub fn expiry_seconds(expires_at: Option<Timestamp>) -> i64 {
    expires_at.map_or(NEVER_EXPIRES, |at| at.timestamp())
}

/// The stored expiry of a credential that never expires: later than any timestamp, so
/// that "unexpired" stays `expiry > now` wherever expiries are compared as numbers.
pub const NEVER_EXPIRES: i64 = i64::MAX;

/// A credential's expiry is stored as the plain `i64` of unix seconds it always was
/// (records written before "never" existed decode unchanged), with `i64::MAX` for none.
/// An `Option` would add a tag byte and change the stored layout.
mod expiry_seconds {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{NEVER_EXPIRES, Timestamp, expiry_seconds};

    pub fn serialize<S: Serializer>(at: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(expiry_seconds(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        match i64::deserialize(d)? {
            NEVER_EXPIRES => Ok(None),
            secs => Timestamp::from_timestamp(secs, 0)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expiry out of range")),
        }
    }
}

/// A credential to store, its name and expiry resolved. A secret arrives as its hash.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub name: String,
    /// `None` never expires.
    pub expires_at: Option<Timestamp>,
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

    /// When the grace ends for a rotation at `now`: also the new expiry of a secret that
    /// never expired.
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

    fn stored_with(expires_at: Option<Timestamp>) -> Credential {
        Credential {
            id: Uuid::nil(),
            account_id: Uuid::nil(),
            kind: CredentialKind::Secret {
                prefix: "kh_abcde".to_owned(),
                hash: [7; 32],
            },
            name: "s".to_owned(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            created_by: ActorRef {
                id: None,
                name: "keyhouse".to_owned(),
            },
            expires_at,
        }
    }

    /// The expiry keeps the layout of the plain `ts_seconds` field it replaced, so
    /// records written before decode as they are; "never" is `i64::MAX`.
    #[test]
    fn an_expiry_is_stored_as_before_and_never_as_the_largest_number() {
        #[derive(Serialize)]
        struct Before {
            #[serde(with = "chrono::serde::ts_seconds")]
            at: Timestamp,
        }
        #[derive(Serialize, Deserialize)]
        struct After {
            #[serde(with = "expiry_seconds")]
            at: Option<Timestamp>,
        }
        let config = bincode::config::standard();
        let at = chrono::DateTime::UNIX_EPOCH + Duration::days(20_000);
        let before = bincode::serde::encode_to_vec(Before { at }, config).unwrap();
        let after = bincode::serde::encode_to_vec(After { at: Some(at) }, config).unwrap();
        assert_eq!(before, after);
        let (read, _): (After, _) = bincode::serde::decode_from_slice(&before, config).unwrap();
        assert_eq!(read.at, Some(at));
        let never = bincode::serde::encode_to_vec(After { at: None }, config).unwrap();
        let (read, _): (After, _) = bincode::serde::decode_from_slice(&never, config).unwrap();
        assert_eq!(read.at, None);
        assert_eq!(expiry_seconds(None), i64::MAX);
        let never = stored_with(None);
        assert!(!never.is_expired(chrono::DateTime::<chrono::Utc>::MAX_UTC));
        assert!(stored_with(Some(at)).is_expired(at));
    }
}
