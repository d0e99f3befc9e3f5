//! The stored signing key. Version 1 is the layout of every file so far: the field
//! layout `SigningKey` had when keys were first stored, whose private half may since be
//! sealed with `storage.key_file` (`store::seal`). It converts to the domain's key only
//! through `Store::unseal`, which holds the key file, so the store works with the
//! record itself.

use serde::{Deserialize, Serialize};

use super::{Record, version};
use crate::domain::Timestamp;
use crate::error::Error;
use crate::store::codec;

/// The signing key as stored by schema 1; `private` is PKCS#8 DER or a sealed value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::store) struct SigningKeyV1 {
    pub kid: String,
    pub private: Vec<u8>,
    pub public: Vec<u8>,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: Timestamp,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub retired_at: Option<Timestamp>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub drop_at: Option<Timestamp>,
}

/// Every version of a stored signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum SigningKeyRecord {
    V1(SigningKeyV1),
}

impl Record for SigningKeyRecord {
    const KIND: &'static str = "signing key";

    fn read(format: u8, body: &[u8]) -> Result<Self, String> {
        match format {
            1 => version(body, SigningKeyRecord::V1),
            other => Err(codec::unknown_format(other)),
        }
    }

    fn write(&self) -> Result<Vec<u8>, Error> {
        match self {
            SigningKeyRecord::V1(v1) => codec::encode_as(1, v1),
        }
    }
}

/// A stored key, read in whichever version it was written, as the current one.
impl TryFrom<SigningKeyRecord> for SigningKeyV1 {
    type Error = String;

    fn try_from(record: SigningKeyRecord) -> Result<Self, String> {
        let SigningKeyRecord::V1(v1) = record;
        Ok(v1)
    }
}

impl From<SigningKeyV1> for SigningKeyRecord {
    fn from(key: SigningKeyV1) -> Self {
        SigningKeyRecord::V1(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::{decode, encode, samples};

    /// The bytes of schema 1, which were those of the domain's `SigningKey` before
    /// sealing existed: they decode as the record, and the record writes them.
    #[test]
    fn version_1_bytes_decode_and_the_current_version_writes_them() {
        let key = samples::signing_key();
        let v1 = codec::encode_as(codec::FORMAT_V1, &key).unwrap();
        let read: SigningKeyV1 = decode::<SigningKeyRecord, _>(&v1).unwrap();
        assert_eq!(read.private, key.pkcs8);
        assert_eq!(
            (read.created_at, read.retired_at, read.drop_at),
            (key.created_at, key.retired_at, key.drop_at)
        );
        assert_eq!(encode::<SigningKeyRecord>(read).unwrap(), v1);
    }
}
