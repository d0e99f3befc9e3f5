//! Credentials as stored: never a secret, only its SHA-256 and its first characters.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ActorRef, Timestamp, is_expired};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialKind {
    Secret {
        /// The first 8 characters of the secret, to tell secrets apart.
        prefix: String,
        /// SHA-256 of the whole secret.
        hash: [u8; 32],
    },
}

impl CredentialKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            CredentialKind::Secret { .. } => "secret",
        }
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

/// What a client asked of a new secret; unset fields take the configured defaults.
#[derive(Debug, Clone, Default)]
pub struct SecretSpec {
    pub name: Option<String>,
    pub expires_at: Option<Timestamp>,
}
