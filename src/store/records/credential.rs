//! The stored credential: never a secret, only its SHA-256 and first characters.
//! Version 1 is the layout of every file so far.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::ActorV1;
use super::{Record, version};
use crate::domain::{
    Credential, CredentialKind, KeyAlgorithm, NEVER_EXPIRES, Timestamp, expiry_seconds,
};
use crate::error::Error;
use crate::store::codec;

/// The algorithm of a public key; bincode stores the variant's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum AlgorithmV1 {
    EcP256,
    Ed25519,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum KindV1 {
    Secret {
        prefix: String,
        hash: [u8; 32],
    },
    PublicKey {
        algorithm: AlgorithmV1,
        key: Vec<u8>,
        fingerprint: String,
    },
}

/// The credential as stored by schema 1. Its expiry is unix seconds, `i64::MAX` for
/// none (it was a plain number before credentials could be unending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct CredentialV1 {
    id: Uuid,
    account_id: Uuid,
    kind: KindV1,
    name: String,
    #[serde(with = "chrono::serde::ts_seconds")]
    created_at: Timestamp,
    created_by: ActorV1,
    expires_at: i64,
}

/// Every version of a stored credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum CredentialRecord {
    V1(CredentialV1),
}

impl Record for CredentialRecord {
    const KIND: &'static str = "credential";

    fn read(format: u8, body: &[u8]) -> Result<Self, String> {
        match format {
            1 => version(body, CredentialRecord::V1),
            other => Err(codec::unknown_format(other)),
        }
    }

    fn write(&self) -> Result<Vec<u8>, Error> {
        match self {
            CredentialRecord::V1(v1) => codec::encode_as(1, v1),
        }
    }
}

impl TryFrom<CredentialRecord> for Credential {
    type Error = String;

    fn try_from(record: CredentialRecord) -> Result<Self, String> {
        let CredentialRecord::V1(v1) = record;
        let kind = match v1.kind {
            KindV1::Secret { prefix, hash } => CredentialKind::Secret { prefix, hash },
            KindV1::PublicKey {
                algorithm,
                key,
                fingerprint,
            } => CredentialKind::PublicKey {
                algorithm: match algorithm {
                    AlgorithmV1::EcP256 => KeyAlgorithm::EcP256,
                    AlgorithmV1::Ed25519 => KeyAlgorithm::Ed25519,
                },
                key,
                fingerprint,
            },
        };
        let expires_at = match v1.expires_at {
            NEVER_EXPIRES => None,
            secs => Some(
                Timestamp::from_timestamp(secs, 0)
                    .ok_or_else(|| "holds an expiry out of range".to_owned())?,
            ),
        };
        Ok(Credential {
            id: v1.id,
            account_id: v1.account_id,
            kind,
            name: v1.name,
            created_at: v1.created_at,
            created_by: v1.created_by.into(),
            expires_at,
        })
    }
}

impl From<&Credential> for CredentialRecord {
    fn from(credential: &Credential) -> Self {
        let kind = match &credential.kind {
            CredentialKind::Secret { prefix, hash } => KindV1::Secret {
                prefix: prefix.clone(),
                hash: *hash,
            },
            CredentialKind::PublicKey {
                algorithm,
                key,
                fingerprint,
            } => KindV1::PublicKey {
                algorithm: match algorithm {
                    KeyAlgorithm::EcP256 => AlgorithmV1::EcP256,
                    KeyAlgorithm::Ed25519 => AlgorithmV1::Ed25519,
                },
                key: key.clone(),
                fingerprint: fingerprint.clone(),
            },
        };
        CredentialRecord::V1(CredentialV1 {
            id: credential.id,
            account_id: credential.account_id,
            kind,
            name: credential.name.clone(),
            created_at: credential.created_at,
            created_by: (&credential.created_by).into(),
            expires_at: expiry_seconds(credential.expires_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::{decode, encode, samples};

    /// The bytes of schema 1: the domain struct of that time, bincoded behind byte 1.
    #[test]
    fn version_1_bytes_decode_and_the_current_version_writes_them() {
        for public_key in [false, true] {
            let credential = samples::credential(public_key);
            let v1 = codec::encode_as(codec::FORMAT_V1, &credential).unwrap();
            let read: Credential = decode::<CredentialRecord, _>(&v1).unwrap();
            assert_eq!(read, credential);
            assert_eq!(encode::<CredentialRecord>(&read).unwrap(), v1);
        }
    }
}
