//! The server's own keys that sign access tokens.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// An ES256 signing key. The private half is the server's, not a client's secret; it
/// lives in the database so that every start signs with the same keys.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    /// PKCS#8 DER of the P-256 private key.
    pub pkcs8: Vec<u8>,
    /// The uncompressed public point.
    pub public: Vec<u8>,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: Timestamp,
    /// When a newer key became current; `None` for the current key.
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub retired_at: Option<Timestamp>,
    /// When the last token it signed has expired: it leaves the JWKS then.
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub drop_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("drop_at", &self.drop_at)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn is_current(&self) -> bool {
        self.retired_at.is_none()
    }

    /// Whether tokens it signed may still be valid, and so it belongs in the JWKS.
    pub fn is_published(&self, now: Timestamp) -> bool {
        self.drop_at.is_none_or(|at| at > now)
    }
}
