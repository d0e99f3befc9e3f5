//! Stored records, apart from the domain: each kind of stored object has its versioned
//! record types, one per layout ever written, and an enum of them (as kanidm keeps
//! `DbEntryVers` apart from `Entry`). The codec's format byte names the version; each
//! version converts to the domain value (`TryFrom`) and the domain value to the current
//! version (`From`). The domain's structs may change freely; a new stored field is a new
//! record version, read beside the old (docs/architecture.md, "Adding a stored field").
//!
//! Rows encode and decode records through [`encode`] and [`decode`], never a domain
//! struct: what a file holds is written down here and nowhere else.

mod account;
mod audit_event;
mod common;
mod credential;
mod group;
mod project;
mod role;
#[cfg(test)]
pub(super) mod samples;
mod signing_key;

pub(super) use account::{AccountRecord, StoredAccount};
pub(super) use audit_event::AuditRecord;
pub(super) use credential::CredentialRecord;
pub(super) use group::GroupRecord;
pub(super) use project::ProjectRecord;
pub(super) use role::RoleRecord;
pub(super) use signing_key::{SigningKeyRecord, SigningKeyV1};

use super::codec;
use super::damage::damaged;
use crate::domain::{Etag, Scope};
use crate::error::Error;

/// A kind of stored record: the enum of its versions.
pub(super) trait Record: Sized {
    /// What an error names: "a stored {KIND} does not decode".
    const KIND: &'static str;

    /// Reads the version that the format byte `format` names from `body`.
    fn read(format: u8, body: &[u8]) -> Result<Self, String>;

    /// The bytes of this version, behind its format byte.
    fn write(&self) -> Result<Vec<u8>, Error>;
}

/// The stored bytes of `value`, as the current version of its record `R`.
pub(super) fn encode<R: Record>(value: impl Into<R>) -> Result<Vec<u8>, Error> {
    value.into().write()
}

/// Decodes stored bytes into the domain value `D` through the record `R`; bytes that do
/// not decode, of a format no version has, or that do not convert are damage, named by
/// the record's kind.
pub(super) fn decode<R: Record, D: TryFrom<R, Error = String>>(bytes: &[u8]) -> Result<D, Error> {
    read::<R, D>(bytes).map_err(damage::<R>)
}

/// [`decode`] of the object under `key`; an error names it.
pub(super) fn decode_object<R: Record, D: TryFrom<R, Error = String>>(
    bytes: &[u8],
    key: impl std::fmt::Display,
) -> Result<D, Error> {
    read::<R, D>(bytes).map_err(|why| damaged(format!("the stored {} {key} {why}", R::KIND)))
}

/// [`decode`] with the etag of the stored bytes, for an answer that carries one.
pub(super) fn decode_with_etag<R: Record, D: TryFrom<R, Error = String>>(
    bytes: &[u8],
) -> Result<(D, Etag), Error> {
    Ok((decode::<R, D>(bytes)?, Etag::of(bytes)))
}

/// The record in `bytes`, in the version it was written in, not converted: for a
/// migration that rewrites it.
pub(super) fn read_record<R: Record>(bytes: &[u8]) -> Result<R, Error> {
    let (format, body) = codec::split(bytes).map_err(damage::<R>)?;
    R::read(format, body).map_err(damage::<R>)
}

/// Where the account whose stored bytes are `bytes` lives, read from the front of its
/// record alone (`account::scope_in`).
pub(super) fn account_scope(bytes: &[u8]) -> Result<Scope, Error> {
    account::scope_in(bytes).map_err(damage::<AccountRecord>)
}

/// The damage of stored bytes of the kind `R` that do not read, and why.
fn damage<R: Record>(why: String) -> Error {
    damaged(format!("a stored {} {why}", R::KIND))
}

fn read<R: Record, D: TryFrom<R, Error = String>>(bytes: &[u8]) -> Result<D, String> {
    let (format, body) = codec::split(bytes)?;
    D::try_from(R::read(format, body)?)
}

/// A record read as the version it was written in, as every kind does it: the body of
/// format `format` decoded as `V`, wrapped in the enum's variant.
fn version<V: serde::de::DeserializeOwned, R>(
    body: &[u8],
    variant: impl FnOnce(V) -> R,
) -> Result<R, String> {
    codec::decode_body(body).map(variant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Credential;

    /// An unknown format byte is damage (an internal error, answered 500), never a
    /// panic, for every kind.
    #[test]
    fn an_unknown_format_byte_is_damage_naming_the_kind() {
        let bytes = [9u8, 0, 0];
        let err = decode::<CredentialRecord, Credential>(&bytes).unwrap_err();
        assert!(super::super::damage::damage_in(&err).is_some(), "{err:?}");
        let Error::Internal(cause) = err else {
            panic!("not internal")
        };
        assert_eq!(
            cause.to_string(),
            "a stored credential has unknown format 9"
        );
        let err = decode_object::<RoleRecord, crate::domain::Role>(&[], "ops").unwrap_err();
        let Error::Internal(cause) = err else {
            panic!("not internal")
        };
        assert_eq!(cause.to_string(), "the stored role ops is empty");
    }
}
